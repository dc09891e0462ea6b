"""OCPI 2.2.1 Locations, sender interface: a registered partner (token C) pulls the operator's
published Locations (sites with coordinates and roaming-enabled stations), their EVSEs and
Connectors, with each EVSE's live status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from cpms.api.context import read, services
from cpms.api.ocpi.envelope import UNKNOWN_LOCATION, OcpiError, envelope, invalid, ocpi_route
from cpms.api.ocpi.paging import page_headers, page_of
from cpms.api.ocpi.registry import VERSION, Module
from cpms.api.ocpi_models.locations import EVSE, Connector, Location
from cpms.application.roaming import OcpiCaller
from cpms.projections import roaming_locations
from cpms.timestamps import parse_iso

PATH = "/locations"


async def location_list(request: Request, caller: OcpiCaller) -> Response:
    page = page_of(request)
    found, total = await read(
        request,
        roaming_locations.locations,
        caller.organization_id,
        **_party(caller),
        date_from=_moment(request, "date_from"),
        date_to=_moment(request, "date_to"),
        offset=page.offset,
        limit=page.limit,
    )
    public_url = f"{services(request).ocpi_url}/{VERSION}{PATH}"
    data = [msgspec.convert(location, Location) for location in found]
    return envelope(data, headers=page_headers(request, page, total, public_url))


async def location_object(request: Request, caller: OcpiCaller) -> Response:
    location_id = request.path_params["location_id"]
    found = await read(
        request, roaming_locations.location, caller.organization_id, location_id, **_party(caller)
    )
    return envelope(msgspec.convert(_known(found, f"location {location_id}"), Location))


async def evse_object(request: Request, caller: OcpiCaller) -> Response:
    location_id, evse_uid = request.path_params["location_id"], request.path_params["evse_uid"]
    found = await read(
        request, roaming_locations.evse, caller.organization_id, location_id, evse_uid, **_party(caller)
    )
    return envelope(msgspec.convert(_known(found, f"EVSE {location_id}/{evse_uid}"), EVSE))


async def connector_object(request: Request, caller: OcpiCaller) -> Response:
    location_id, evse_uid, connector_id = (
        request.path_params[k] for k in ("location_id", "evse_uid", "connector_id")
    )
    found = await read(
        request,
        roaming_locations.connector,
        caller.organization_id,
        location_id,
        evse_uid,
        connector_id,
        **_party(caller),
    )
    return envelope(
        msgspec.convert(_known(found, f"connector {location_id}/{evse_uid}/{connector_id}"), Connector)
    )


def _party(caller: OcpiCaller) -> dict[str, str]:
    """The Locations are ours: our CPO party's country_code and party_id, not the caller's."""
    return {"country_code": caller.party.country_code, "party_id": caller.party.party_id}


def _moment(request: Request, name: str) -> datetime | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    try:
        return parse_iso(value)
    except ValueError:
        raise invalid(f"{name}: {value!r} is no ISO 8601 date-time such as 2026-03-02T08:00:00Z") from None


def _known(found: dict[str, Any] | None, what: str) -> dict[str, Any]:
    if found is None:
        raise OcpiError(404, UNKNOWN_LOCATION, f"unknown {what}")
    return found


LOCATIONS = Module(
    "locations",
    "SENDER",
    PATH,
    [
        ocpi_route(f"/{VERSION}{PATH}", location_list, ["GET"]),
        ocpi_route(f"/{VERSION}{PATH}/{{location_id}}", location_object, ["GET"]),
        ocpi_route(f"/{VERSION}{PATH}/{{location_id}}/{{evse_uid}}", evse_object, ["GET"]),
        ocpi_route(
            f"/{VERSION}{PATH}/{{location_id}}/{{evse_uid}}/{{connector_id}}", connector_object, ["GET"]
        ),
    ],
)
