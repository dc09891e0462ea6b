"""The Starlette app factory: routes and the error table; no connection is opened here."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from cpms.api import access_groups, operations, sessions, sites, stations
from cpms.api.context import ApiServices
from cpms.api.errors import EXCEPTION_HANDLERS

PREFIX = "/api/v1"


def create_app(api_services: ApiServices) -> Starlette:
    routes = [Route("/health", operations.health, methods=["GET"])]
    for module in (operations, sites, stations, sessions, access_groups):
        routes += [
            Route(PREFIX + path, endpoint, methods=[method]) for method, path, endpoint in module.ROUTES
        ]
    app = Starlette(routes=routes, exception_handlers=EXCEPTION_HANDLERS)
    app.state.services = api_services
    return app
