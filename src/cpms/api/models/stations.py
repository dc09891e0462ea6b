"""Stations (EVSE controllers): commissioning and the list."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from msgspec import Meta, Struct

from cpms.aggregates import station
from cpms.api.models.common import Instant, PageQuery, Uuid, UuidIn, documented
from cpms.api.models.sites import NewSite

SECURITY_PROFILE = (
    "OCPP security profile the gateway holds the station to: 0 no authentication (ws), 1 HTTP basic"
    " auth (ws), 2 basic auth over TLS (wss), 3 TLS client certificate whose subject CN is the serial"
    " number (wss)"
)
PASSWORD_MIN, PASSWORD_MAX = station.PASSWORD_LENGTH


class NewStation(Struct, forbid_unknown_fields=True):
    """Give site_id, or site to create the site with the station."""

    ocpp_id: Annotated[str, documented(pattern=station.OCPP_ID_PATTERN.pattern)]
    serial_number: Annotated[str, documented(minLength=1, maxLength=station.MAX_SERIAL_NUMBER_LENGTH)]
    site_id: UuidIn | None = None
    site: NewSite | None = None
    plan: Annotated[str | None, documented(maxLength=station.MAX_PLAN_LENGTH)] = None
    connectors: Annotated[int, documented(minimum=1, maximum=station.MAX_CONNECTORS)] = 2
    evse_ids: (
        Annotated[
            list[Annotated[str, documented(minLength=1, maxLength=station.MAX_EVSE_ID_LENGTH)]],
            documented("one per connector, distinct, e.g. FR*SMA*E1234567*1", uniqueItems=True),
        ]
        | None
    ) = None
    password: (
        Annotated[
            str,
            documented(
                "OCPP basic-auth password, required by security profiles 1 and 2 only",
                minLength=PASSWORD_MIN,
                maxLength=PASSWORD_MAX,
            ),
        ]
        | None
    ) = None
    security_profile: (
        Annotated[
            int,
            documented(
                SECURITY_PROFILE + "; default: 1 with a password, else 0",
                enum=list(station.SECURITY_PROFILES),
            ),
        ]
        | None
    ) = None


class Station(Struct):
    ocpp_id: str
    serial_number: str
    site_id: Uuid
    plan: str
    connectors: int
    evse_ids: list[str | None]
    vendor: str | None
    model: str | None
    firmware_version: str | None
    connection: Literal["Connected", "Disconnected"]
    ocpp_version: str | None
    security_profile: Annotated[int, Meta(description=SECURITY_PROFILE)]
    commissioned_at: Instant
    last_seen: Instant | None


class StationPage(Struct):
    items: list[Station]
    next_cursor: str | None


class StationsQuery(PageQuery):
    site_id: Annotated[
        UUID | None, Meta(description="only the stations of this site (422 if no site of yours has that id)")
    ] = None
