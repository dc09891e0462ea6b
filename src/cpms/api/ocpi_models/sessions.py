"""OCPI 2.2.1 Sessions module: the Session object a CPO sends."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from cpms.api.ocpi_models.cdrs import AuthMethod, CdrToken, ChargingPeriod
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
)


class SessionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    INVALID = "INVALID"
    PENDING = "PENDING"
    RESERVATION = "RESERVATION"


class Session(Struct_):
    country_code: CountryCode  # of the CPO
    party_id: PartyId
    id: Annotated[str, CiString(36)]
    start_date_time: DateTime
    kwh: Number
    cdr_token: CdrToken
    auth_method: AuthMethod
    location_id: Annotated[str, CiString(36)]
    evse_uid: Annotated[str, CiString(36)]
    connector_id: Annotated[str, CiString(36)]
    currency: Currency
    status: SessionStatus
    last_updated: DateTime
    end_date_time: DateTime | None = None
    authorization_reference: Annotated[str, CiString(36)] | None = None
    meter_id: Annotated[str, String(255)] | None = None
    charging_periods: list[ChargingPeriod] = []
    total_cost: Price | None = None
