"""Stations (EVSE controllers): commissioning and the list."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from cpms.aggregates.errors import InvalidValue
from cpms.api.context import caught_up, organization, read, read_one, services
from cpms.api.models.common import NoQuery
from cpms.api.models.stations import NewStation, Station, StationPage, StationsQuery
from cpms.api.responses import reply
from cpms.api.routing import Operation
from cpms.projections import sites, stations


async def commission_station(request: Request, body: NewStation, query: NoQuery) -> Response:
    org = organization(request)
    written = await services(request).network.commission_station(
        org,
        ocpp_id=body.ocpp_id,
        serial_number=body.serial_number,
        site_id=None if body.site_id is None else str(body.site_id),
        site=None if body.site is None else body.site.value(),
        plan=body.plan,
        connectors=body.connectors,
        evse_ids=body.evse_ids,
        password=body.password,
        security_profile=body.security_profile,
    )
    await caught_up(request, written, (stations.StationsProjection,))
    return reply(Station, await _station(request, org, written.id), 201)


async def list_stations(request: Request, body: None, query: StationsQuery) -> Response:
    org = organization(request)
    site_id = None if query.site_id is None else str(query.site_id)
    if site_id is not None and await read(request, sites.get_site, org, site_id) is None:
        raise InvalidValue(f"site_id: no site {site_id!r} in this organization")
    items, next_cursor = await read(
        request,
        stations.list_stations,
        org,
        site_id=site_id,
        limit=query.limit,
        cursor=query.cursor,
    )
    return reply(StationPage, {"items": items, "next_cursor": next_cursor})


async def get_station(request: Request, body: None, query: NoQuery) -> Response:
    return reply(Station, await _station(request, organization(request), request.path_params["ocpp_id"]))


async def _station(request: Request, org: str, ocpp_id: str) -> dict[str, Any]:
    return await read_one(
        request, stations.get_station, org, ocpp_id, missing=f"station {ocpp_id!r} not found"
    )


ROUTES = (
    Operation(
        "POST",
        "/api/v1/stations",
        commission_station,
        "Commission a station, on a site of the organization or on a new one",
        body=NewStation,
        query=NoQuery,
        responses={201: Station},
        errors=frozenset({409, 422}),
    ),
    Operation(
        "GET",
        "/api/v1/stations",
        list_stations,
        "EVSE controllers, by OCPP identity",
        query=StationsQuery,
        responses={200: StationPage},
        errors=frozenset({422}),
    ),
    Operation(
        "GET",
        "/api/v1/stations/{ocpp_id}",
        get_station,
        "One station",
        query=NoQuery,
        responses={200: Station},
        errors=frozenset({404}),
    ),
)
