"""The Starlette app factory: the operations' routes, their document, and the error table; no
connection is opened here."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.applications import Starlette

from cpms import buckets
from cpms.api import access_groups, analytics, ocpi, openapi, operations, roaming, sessions, sites, stations
from cpms.api.context import ApiServices
from cpms.api.errors import EXCEPTION_HANDLERS
from cpms.api.routing import Operation

# Every operation the app serves; the document at /api/v1/openapi.json describes exactly these.
OPERATIONS: tuple[Operation[Any, Any], ...] = (
    *operations.ROUTES,
    *openapi.ROUTES,
    *sites.ROUTES,
    *stations.ROUTES,
    *sessions.ROUTES,
    *access_groups.ROUTES,
    *roaming.ROUTES,
    *analytics.ROUTES,
)


def create_app(api_services: ApiServices) -> Starlette:
    app = Starlette(
        routes=[*(operation.route() for operation in OPERATIONS), ocpi.mount()],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    app.state.services = api_services
    buckets.zone_names()  # read at start rather than in the first analytics request
    app.state.openapi = msgspec.json.encode(openapi.document(OPERATIONS))
    return app
