"""OCPI 2.2.1 Tariff objects, as a CDR carries them in `tariffs`."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from msgspec import Meta

from cpms.api.ocpi_models.common import (
    URL,
    CiString,
    CountryCode,
    Currency,
    DateTime,
    DisplayText,
    Number,
    PartyId,
    Price,
    String,
    Struct_,
)
from cpms.api.ocpi_models.locations import EnergyMix


class TariffType(StrEnum):
    AD_HOC_PAYMENT = "AD_HOC_PAYMENT"
    PROFILE_CHEAP = "PROFILE_CHEAP"
    PROFILE_FAST = "PROFILE_FAST"
    PROFILE_GREEN = "PROFILE_GREEN"
    REGULAR = "REGULAR"


class TariffDimensionType(StrEnum):
    ENERGY = "ENERGY"
    FLAT = "FLAT"
    PARKING_TIME = "PARKING_TIME"
    TIME = "TIME"


class DayOfWeek(StrEnum):
    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"


class ReservationRestrictionType(StrEnum):
    RESERVATION = "RESERVATION"
    RESERVATION_EXPIRES = "RESERVATION_EXPIRES"


class PriceComponent(Struct_):
    type: TariffDimensionType
    price: Number
    step_size: int
    vat: Number | None = None


class TariffRestrictions(Struct_):
    start_time: Annotated[str, String(5)] | None = None
    end_time: Annotated[str, String(5)] | None = None
    start_date: Annotated[str, String(10)] | None = None
    end_date: Annotated[str, String(10)] | None = None
    min_kwh: Number | None = None
    max_kwh: Number | None = None
    min_current: Number | None = None
    max_current: Number | None = None
    min_power: Number | None = None
    max_power: Number | None = None
    min_duration: int | None = None
    max_duration: int | None = None
    day_of_week: list[DayOfWeek] = []
    reservation: ReservationRestrictionType | None = None


class TariffElement(Struct_):
    price_components: Annotated[list[PriceComponent], Meta(min_length=1)]
    restrictions: TariffRestrictions | None = None


class Tariff(Struct_):
    country_code: CountryCode
    party_id: PartyId
    id: Annotated[str, CiString(36)]
    currency: Currency
    elements: Annotated[list[TariffElement], Meta(min_length=1)]
    last_updated: DateTime
    type: TariffType | None = None
    tariff_alt_text: list[DisplayText] = []
    tariff_alt_url: URL | None = None
    min_price: Price | None = None
    max_price: Price | None = None
    start_date_time: DateTime | None = None
    end_date_time: DateTime | None = None
    energy_mix: EnergyMix | None = None
