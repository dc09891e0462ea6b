"""OCPI 2.2.1 CDRs module objects: the CDR and the classes it shares with Sessions."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from msgspec import UNSET, Meta, UnsetType

from cpms.api.ocpi_models.common import (
    CiString,
    CountryCode,
    Currency,
    DateTime,
    Number,
    PartyId,
    Price,
    String,
    Struct_,
    TokenType,
)
from cpms.api.ocpi_models.locations import ConnectorFormat, ConnectorType, GeoLocation, PowerType
from cpms.api.ocpi_models.tariffs import Tariff


class AuthMethod(StrEnum):
    AUTH_REQUEST = "AUTH_REQUEST"  # real-time authorization asked of the eMSP
    COMMAND = "COMMAND"  # StartSession or ReserveNow
    WHITELIST = "WHITELIST"  # a token the eMSP pushed, no request made


class CdrDimensionType(StrEnum):
    CURRENT = "CURRENT"  # Sessions only
    ENERGY = "ENERGY"
    ENERGY_EXPORT = "ENERGY_EXPORT"  # Sessions only
    ENERGY_IMPORT = "ENERGY_IMPORT"  # Sessions only
    MAX_CURRENT = "MAX_CURRENT"
    MIN_CURRENT = "MIN_CURRENT"
    MAX_POWER = "MAX_POWER"
    MIN_POWER = "MIN_POWER"
    PARKING_TIME = "PARKING_TIME"
    POWER = "POWER"  # Sessions only
    RESERVATION_TIME = "RESERVATION_TIME"
    STATE_OF_CHARGE = "STATE_OF_CHARGE"  # Sessions only
    TIME = "TIME"


class CdrDimension(Struct_):
    type: CdrDimensionType
    volume: Number


class ChargingPeriod(Struct_):
    start_date_time: DateTime
    dimensions: Annotated[list[CdrDimension], Meta(min_length=1)]
    tariff_id: Annotated[str, CiString(36)] | None = None


class CdrToken(Struct_):
    country_code: CountryCode  # of the eMSP owning the token
    party_id: PartyId
    uid: Annotated[str, CiString(36)]
    type: TokenType
    contract_id: Annotated[str, CiString(36)]


class CdrLocation(Struct_):
    id: Annotated[str, CiString(36)]
    address: Annotated[str, String(45)]
    city: Annotated[str, String(45)]
    country: Annotated[str, String(3)]  # ISO 3166-1 alpha-3
    evse_uid: Annotated[str, CiString(36)]
    evse_id: Annotated[str, CiString(48)]
    connector_id: Annotated[str, CiString(36)]
    connector_standard: ConnectorType
    connector_format: ConnectorFormat
    connector_power_type: PowerType
    # Required by OCPI 2.2.1; absent while sites carry no coordinates (as Location.coordinates).
    coordinates: GeoLocation | UnsetType = UNSET
    name: Annotated[str, String(255)] | None = None
    postal_code: Annotated[str, String(10)] | None = None
    state: Annotated[str, String(20)] | None = None


class SignedValue(Struct_):
    nature: Annotated[str, CiString(32)]
    plain_data: Annotated[str, String(512)]
    signed_data: Annotated[str, String(5000)]


class SignedData(Struct_):
    encoding_method: Annotated[str, CiString(36)]
    signed_values: Annotated[list[SignedValue], Meta(min_length=1)]
    encoding_method_version: int | None = None
    public_key: Annotated[str, String(512)] | None = None
    url: Annotated[str, String(512)] | None = None


class CDR(Struct_):
    country_code: CountryCode  # of the CPO
    party_id: PartyId
    id: Annotated[str, CiString(39)]  # 36, and room for a credit CDR's suffix
    start_date_time: DateTime
    end_date_time: DateTime
    cdr_token: CdrToken
    auth_method: AuthMethod
    cdr_location: CdrLocation
    currency: Currency
    charging_periods: Annotated[list[ChargingPeriod], Meta(min_length=1)]
    total_cost: Price
    total_energy: Number  # kWh
    total_time: Number  # hours
    last_updated: DateTime
    session_id: Annotated[str, CiString(36)] | None = None
    authorization_reference: Annotated[str, CiString(36)] | None = None
    meter_id: Annotated[str, String(255)] | None = None
    tariffs: list[Tariff] = []
    signed_data: SignedData | None = None
    total_fixed_cost: Price | None = None
    total_energy_cost: Price | None = None
    total_time_cost: Price | None = None
    total_parking_time: Number | None = None
    total_parking_cost: Price | None = None
    total_reservation_cost: Price | None = None
    remark: Annotated[str, String(255)] | None = None
    invoice_reference_id: Annotated[str, CiString(39)] | None = None
    credit: bool | None = None
    credit_reference_id: Annotated[str, CiString(39)] | None = None
    home_charging_compensation: bool | None = None
