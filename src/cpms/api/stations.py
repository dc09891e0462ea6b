"""Stations (EVSE controllers): commissioning and the list."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from cpms.api.context import caught_up, organization, read, services
from cpms.api.errors import not_found
from cpms.api.requests import json_object, page_params, uuid_param
from cpms.api.responses import json_response
from cpms.projections import stations

COMMISSION_FIELDS = {
    "ocpp_id",
    "serial_number",
    "site_id",
    "site",
    "plan",
    "connectors",
    "evse_ids",
    "password",
    "security_profile",
}


async def commission_station(request: Request) -> Response:
    org = await organization(request)
    body = await json_object(request, COMMISSION_FIELDS, required=frozenset({"ocpp_id", "serial_number"}))
    written = await services(request).network.commission_station(org, **body)
    await caught_up(request, written, (stations.StationsProjection,))
    return json_response(await _station(request, org, written.id), 201)


async def list_stations(request: Request) -> Response:
    org = await organization(request)
    limit, cursor = page_params(request)
    site_id = request.query_params.get("site_id")
    if site_id is not None:
        site_id = uuid_param(site_id, "site")
    items, next_cursor = await read(
        request, stations.list_stations, org, site_id=site_id, limit=limit, cursor=cursor
    )
    return json_response({"items": items, "next_cursor": next_cursor})


async def get_station(request: Request) -> Response:
    org = await organization(request)
    return json_response(await _station(request, org, request.path_params["ocpp_id"]))


async def _station(request: Request, org: str, ocpp_id: str) -> dict[str, Any]:
    station = await read(request, stations.get_station, org, ocpp_id)
    if station is None:
        raise not_found(f"station {ocpp_id!r} not found")
    return station


ROUTES = [
    ("POST", "/stations", commission_station),
    ("GET", "/stations", list_stations),
    ("GET", "/stations/{ocpp_id}", get_station),
]
