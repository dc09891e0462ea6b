"""Sites and their charge-point sheet."""

from __future__ import annotations

from typing import Annotated

from msgspec import UNSET, Struct, UnsetType, structs

from cpms.aggregates import site
from cpms.aggregates.charge_point import ChargePointStatus, SiteState
from cpms.api.models.common import Instant, Uuid, documented
from cpms.application import sites as application

Text = Annotated[str, documented(minLength=1, maxLength=site.MAX_TEXT_LENGTH)]
Country = Annotated[str, documented("ISO 3166-1 alpha-2 code, e.g. FR (any case)", pattern="^[A-Za-z]{2}$")]
Provider = Annotated[str | None, documented(maxLength=site.MAX_TEXT_LENGTH)]


class Address(Struct, forbid_unknown_fields=True):
    street: Text
    postal_code: Text
    city: Text
    country: Country

    def value(self) -> site.Address:
        return site.Address(self.street, self.postal_code, self.city, self.country)


class NewSite(Struct, forbid_unknown_fields=True):
    name: Text
    address: Address
    provider: Provider = None

    def value(self) -> application.NewSite:
        return application.NewSite(self.name, self.address.value(), self.provider)


class AddressChange(Struct, forbid_unknown_fields=True):
    """The address fields to change; the others are kept."""

    street: Text | UnsetType = UNSET
    postal_code: Text | UnsetType = UNSET
    city: Text | UnsetType = UNSET
    country: Country | UnsetType = UNSET

    def value(self) -> site.AddressChange:
        return site.AddressChange(**{k: v for k, v in structs.asdict(self).items() if v is not UNSET})


class SitePatch(Struct, forbid_unknown_fields=True):
    """The fields to change; the others are kept. A null provider clears it."""

    name: Text | UnsetType = UNSET
    address: AddressChange | UnsetType = UNSET
    provider: Provider | UnsetType = UNSET


class Site(Struct):
    id: Uuid
    name: str
    address: Address
    provider: str
    state: SiteState
    created_at: Instant
    updated_at: Instant
    charge_points: (
        Annotated[dict[str, int], documented("overview only: the number of charge points per status")]
        | UnsetType
    ) = UNSET


class SitePage(Struct):
    items: list[Site]
    next_cursor: str | None


class ChargePoint(Struct):
    """A connector of a station, as the sheet shows it."""

    ocpp_id: str
    connector_id: int
    evse_id: str | None
    status: ChargePointStatus
    since: Instant
    error_code: str | None
    last_ocpp_status: str | None


class ChargePointPage(Struct):
    items: list[ChargePoint]
    next_cursor: str | None
