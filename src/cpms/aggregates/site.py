"""Sites: where stations are installed, with the address and provider the portal shows."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate, event
from iso3166 import countries_by_alpha2

from cpms.aggregates.errors import InvalidValue
from cpms.aggregates.money import decimal_number, is_currency, plain_decimal
from cpms.aggregates.upcasting import State, versioned

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


# Coordinates are kept to 6 decimals (about 11 cm), inside the 5 to 7 that OCPI's GeoLocation asks.
_DEGREES = Decimal("0.000001")
# A price per kWh to the tenth of a cent, a VAT rate to the hundredth of a percent.
PRICE_DECIMALS = 4
VAT_DECIMALS = 2


@dataclass(frozen=True)
class Coordinates:
    """Where a site is, in WGS 84 degrees, as a client sends them (numbers)."""

    latitude: float | Decimal
    longitude: float | Decimal

    def checked(self) -> dict[str, str]:
        """Both in range (-90..90, -180..180), stored as decimal strings with 6 decimals."""
        return {
            "latitude": _degrees(self.latitude, "coordinates.latitude", 90),
            "longitude": _degrees(self.longitude, "coordinates.longitude", 180),
        }


@dataclass(frozen=True)
class Tariff:
    """What charging at a site costs: one price per kWh, excluding VAT, and the VAT rate."""

    currency: str
    price_per_kwh: Decimal
    vat_percent: Decimal

    def checked(self) -> dict[str, str]:
        """The currency an ISO 4217 code in capitals; the price 0 or more with at most
        PRICE_DECIMALS decimals, the VAT rate 0..100; both kept as exact decimal strings."""
        if not isinstance(self.currency, str) or not is_currency(self.currency):
            raise InvalidValue(
                f"currency must be an ISO 4217 code in capitals such as EUR or CHF, got {self.currency!r}"
            )
        price = decimal_number(self.price_per_kwh, "price_per_kwh", PRICE_DECIMALS)
        if price < 0:
            raise InvalidValue(f"price_per_kwh must be 0 or more, got {price}")
        vat = decimal_number(self.vat_percent, "vat_percent", VAT_DECIMALS)
        if not 0 <= vat <= 100:
            raise InvalidValue(f"vat_percent must be between 0 and 100, got {vat}")
        return {
            "currency": self.currency,
            "price_per_kwh": plain_decimal(price),
            "vat_percent": plain_decimal(vat),
        }


class Site(Aggregate):
    if TYPE_CHECKING:  # classes that eventsourcing's @event creates at runtime; projections match on them
        SiteCreated: type[Any]
        SiteUpdated: type[Any]
        SiteTariffSet: type[Any]
        SiteTariffRemoved: type[Any]

    @classmethod
    def create(
        cls,
        *,
        organization_id: str,
        name: str,
        address: Address,
        provider: str | None,
        occurred_at: datetime,
        coordinates: Coordinates | None = None,
    ) -> Site:
        return cls(
            organization_id=organization_id,
            name=_text(name, "name"),
            address=address.checked().as_dict(),
            provider=_optional_text(provider, "provider"),
            coordinates=None if coordinates is None else coordinates.checked(),
            occurred_at=occurred_at,
        )

    @event("SiteCreated")
    def __init__(
        self,
        organization_id: str,
        name: str,
        address: dict[str, str],
        provider: str,
        coordinates: dict[str, str] | None,
        occurred_at: datetime,
    ) -> None:
        self.organization_id = organization_id
        self.name = name
        self.address = address
        self.provider = provider
        self.coordinates = coordinates
        self.tariff: dict[str, str] | None = None

    def update(
        self,
        *,
        occurred_at: datetime,
        name: str | None = None,
        address: AddressChange | None = None,
        provider: str | None = None,
        coordinates: Coordinates | None = None,
        clear_coordinates: bool = False,
    ) -> None:
        """Change what is given (None: keep; an empty provider clears it, `clear_coordinates` the
        coordinates), recording nothing when nothing changes."""
        new: dict[str, Any] = {}
        if clear_coordinates:
            new["coordinates"] = None
        elif coordinates is not None:
            new["coordinates"] = coordinates.checked()
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

    def set_tariff(self, tariff: Tariff, *, occurred_at: datetime) -> None:
        """Replace the site's tariff; setting the same one again records nothing."""
        checked = tariff.checked()
        if checked != self.tariff:
            self._tariff_set(tariff=checked, occurred_at=occurred_at)

    @event("SiteTariffSet")
    def _tariff_set(self, tariff: dict[str, str], occurred_at: datetime) -> None:
        self.tariff = tariff

    def remove_tariff(self, *, occurred_at: datetime) -> None:
        """Charging here is then free of charge in CDRs; removing none records nothing."""
        if self.tariff is not None:
            self._tariff_removed(occurred_at=occurred_at)

    @event("SiteTariffRemoved")
    def _tariff_removed(self, occurred_at: datetime) -> None:
        self.tariff = None


def site_created_with_coordinates(state: State) -> None:
    """`SiteCreated` before sites had coordinates (issue 10): none."""
    state.setdefault("coordinates", None)


versioned(Site.SiteCreated, site_created_with_coordinates)


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


def _degrees(value: float | Decimal, field: str, bound: int) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise InvalidValue(f"{field} must be a number of degrees")
    degrees = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not degrees.is_finite() or not -bound <= degrees <= bound:
        raise InvalidValue(f"{field} must be between -{bound} and {bound} degrees, got {value}")
    rounded = degrees.quantize(_DEGREES, rounding=ROUND_HALF_EVEN)
    return f"{abs(rounded) if rounded.is_zero() else rounded:f}"
