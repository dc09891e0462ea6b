"""Sites and their charge-point sheet."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from msgspec import UNSET, Meta, Struct, UnsetType, structs

from cpms.aggregates import site
from cpms.aggregates.charge_point import ChargePointStatus, SiteState
from cpms.api.models.common import Instant, Uuid, documented
from cpms.application import sites as application

Text = Annotated[str, documented(minLength=1, maxLength=site.MAX_TEXT_LENGTH)]
Country = Annotated[str, documented("ISO 3166-1 alpha-2 code, e.g. FR (any case)", pattern="^[A-Za-z]{2}$")]
Provider = Annotated[str | None, documented(maxLength=site.MAX_TEXT_LENGTH)]
Latitude = Annotated[float, documented("WGS 84 degrees, kept to 6 decimals", minimum=-90, maximum=90)]
Longitude = Annotated[float, documented("WGS 84 degrees, kept to 6 decimals", minimum=-180, maximum=180)]
DegreesText = Annotated[
    str, documented("decimal degrees with 6 decimals", pattern=r"^-?[0-9]{1,3}\.[0-9]{6}$")
]
Currency = Annotated[str, documented("ISO 4217 code in capitals, e.g. EUR", pattern="^[A-Z]{3}$")]
PricePerKwh = Annotated[
    Decimal,
    documented(
        f"per kWh, excluding VAT: 0 or more, at most {site.PRICE_DECIMALS} decimals (a string stays exact)",
        pattern=r"^[0-9]+(\.[0-9]+)?$",
    ),
]
VatPercent = Annotated[
    Decimal,
    documented(f"0 to 100, at most {site.VAT_DECIMALS} decimals", pattern=r"^[0-9]+(\.[0-9]+)?$"),
]


class Address(Struct, forbid_unknown_fields=True):
    street: Text
    postal_code: Text
    city: Text
    country: Country

    def value(self) -> site.Address:
        return site.Address(self.street, self.postal_code, self.city, self.country)


class Coordinates(Struct, forbid_unknown_fields=True):
    """Where the site is; a site needs them to be published to roaming partners (OCPI)."""

    latitude: Latitude
    longitude: Longitude

    def value(self) -> site.Coordinates:
        return site.Coordinates(self.latitude, self.longitude)


class StoredCoordinates(Struct):
    """Coordinates as kept: decimal strings with 6 decimals, as OCPI spells them."""

    latitude: DegreesText
    longitude: DegreesText


class NewSite(Struct, forbid_unknown_fields=True):
    name: Text
    address: Address
    provider: Provider = None
    coordinates: Coordinates | None = None

    def value(self) -> application.NewSite:
        return application.NewSite(
            self.name,
            self.address.value(),
            self.provider,
            None if self.coordinates is None else self.coordinates.value(),
        )


class AddressChange(Struct, forbid_unknown_fields=True):
    """The address fields to change; the others are kept."""

    street: Text | UnsetType = UNSET
    postal_code: Text | UnsetType = UNSET
    city: Text | UnsetType = UNSET
    country: Country | UnsetType = UNSET

    def value(self) -> site.AddressChange:
        return site.AddressChange(**{k: v for k, v in structs.asdict(self).items() if v is not UNSET})


class SitePatch(Struct, forbid_unknown_fields=True):
    """The fields to change; the others are kept. A null provider or null coordinates clear them."""

    name: Text | UnsetType = UNSET
    address: AddressChange | UnsetType = UNSET
    provider: Provider | UnsetType = UNSET
    coordinates: Coordinates | UnsetType | None = UNSET


class NewTariff(Struct, forbid_unknown_fields=True):
    """The site's tariff, replacing any it had. Decimals as strings (or JSON numbers) stay exact."""

    currency: Currency
    price_per_kwh: PricePerKwh
    vat_percent: VatPercent

    def value(self) -> site.Tariff:
        return site.Tariff(self.currency, self.price_per_kwh, self.vat_percent)


class Tariff(Struct):
    """As stored: exact decimal strings."""

    currency: str
    price_per_kwh: Annotated[str, documented("per kWh, excluding VAT, exact decimal")]
    vat_percent: Annotated[str, documented("exact decimal")]


class Site(Struct):
    id: Uuid
    name: str
    address: Address
    provider: str
    coordinates: StoredCoordinates | None
    tariff: Tariff | None
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
    error_info: Annotated[
        str | None, Meta(description="the charger's free text about its last status (OCPP 1.6 info)")
    ]
    vendor_id: Annotated[
        str | None, Meta(description="whose list vendor_error_code comes from (OCPP 1.6 vendorId)")
    ]
    vendor_error_code: Annotated[str | None, Meta(description="the vendor's own error code")]


class ChargePointPage(Struct):
    items: list[ChargePoint]
    next_cursor: str | None
