"""The Starlette app factory: routes and the error table; no connection is opened here."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from cpms.api import operations, sites, stations
from cpms.api.context import ApiServices
from cpms.api.errors import EXCEPTION_HANDLERS

PREFIX = "/api/v1"


def create_app(api_services: ApiServices) -> Starlette:
    routes = [
        Route("/health", operations.health, methods=["GET"]),
        Route(f"{PREFIX}/openapi.json", operations.openapi, methods=["GET"]),
        Route(f"{PREFIX}/projections", operations.projections, methods=["GET"]),
        Route(f"{PREFIX}/sites", sites.create_site, methods=["POST"]),
        Route(f"{PREFIX}/sites", sites.list_sites, methods=["GET"]),
        Route(f"{PREFIX}/sites/{{site_id}}", sites.get_site, methods=["GET"]),
        Route(f"{PREFIX}/sites/{{site_id}}", sites.update_site, methods=["PATCH"]),
        Route(f"{PREFIX}/sites/{{site_id}}/charge-points", sites.charge_point_sheet, methods=["GET"]),
        Route(f"{PREFIX}/stations", stations.commission_station, methods=["POST"]),
        Route(f"{PREFIX}/stations", stations.list_stations, methods=["GET"]),
        Route(f"{PREFIX}/stations/{{ocpp_id}}", stations.get_station, methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers=EXCEPTION_HANDLERS)
    app.state.services = api_services
    return app
