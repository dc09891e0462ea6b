"""Sites: where stations are installed, with the address and provider the portal shows."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate, event
from iso3166 import countries_by_alpha2

from cpms.aggregates.errors import InvalidValue

# The longest name, provider or address field a site keeps.
MAX_TEXT_LENGTH = 200


@dataclass(frozen=True)
class Address:
    street: str
    postal_code: str
    city: str
    country: str

    def checked(self) -> Address:
        """The address trimmed, each field non-empty and at most MAX_TEXT_LENGTH characters, the
        country an ISO 3166-1 alpha-2 code (as OCPI and every portal expect), in capitals."""
        fields = {name: _text(value, f"address.{name}") for name, value in self.as_dict().items()}
        fields["country"] = _country(fields["country"])
        return Address(**fields)

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class AddressChange:
    """The address fields to change (None: keep)."""

    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None

    def applied_to(self, address: Address) -> Address:
        return replace(address, **{name: value for name, value in asdict(self).items() if value is not None})


class Site(Aggregate):
    if TYPE_CHECKING:  # classes that eventsourcing's @event creates at runtime; projections match on them
        SiteCreated: type[Any]
        SiteUpdated: type[Any]

    @classmethod
    def create(
        cls,
        *,
        organization_id: str,
        name: str,
        address: Address,
        provider: str | None,
        occurred_at: datetime,
    ) -> Site:
        return cls(
            organization_id=organization_id,
            name=_text(name, "name"),
            address=address.checked().as_dict(),
            provider=_optional_text(provider, "provider"),
            occurred_at=occurred_at,
        )

    @event("SiteCreated")
    def __init__(
        self,
        organization_id: str,
        name: str,
        address: dict[str, str],
        provider: str,
        occurred_at: datetime,
    ) -> None:
        self.organization_id = organization_id
        self.name = name
        self.address = address
        self.provider = provider

    def update(
        self,
        *,
        occurred_at: datetime,
        name: str | None = None,
        address: AddressChange | None = None,
        provider: str | None = None,
    ) -> None:
        """Change what is given (None: keep; an empty provider clears it), recording nothing when
        nothing changes."""
        new: dict[str, Any] = {}
        if name is not None:
            new["name"] = _text(name, "name")
        if address is not None:
            new["address"] = address.applied_to(Address(**self.address)).checked().as_dict()
        if provider is not None:
            new["provider"] = _optional_text(provider, "provider")
        new = {k: v for k, v in new.items() if getattr(self, k) != v}
        if new:
            self._updated(changes=new, occurred_at=occurred_at)

    @event("SiteUpdated")
    def _updated(self, changes: dict[str, Any], occurred_at: datetime) -> None:
        for name, value in changes.items():
            setattr(self, name, value)


def _text(value: str, field: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidValue(f"{field} must be a non-empty string")
    if len(value) > MAX_TEXT_LENGTH:
        raise InvalidValue(f"{field} must be at most {MAX_TEXT_LENGTH} characters")
    return value


def _country(value: str) -> str:
    code = value.upper()
    if code not in countries_by_alpha2:
        raise InvalidValue(
            f"address.country must be an ISO 3166-1 alpha-2 country code such as FR or DE, got {value!r}"
        )
    return code


def _optional_text(value: str | None, field: str) -> str:
    if value is None:
        return ""
    if len(value) > MAX_TEXT_LENGTH:
        raise InvalidValue(f"{field} must be at most {MAX_TEXT_LENGTH} characters")
    return value.strip()
