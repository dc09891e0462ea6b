"""The Starlette app factory: the operations' routes, their document, the error table, and the
web portal mounted beside them; no connection is opened here."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.applications import Starlette

from cpms import buckets
from cpms.api import (
    access_groups,
    analytics,
    commands,
    ocpi,
    openapi,
    operations,
    roaming,
    sessions,
    sites,
    stations,
)
from cpms.api.context import ApiServices
from cpms.api.errors import EXCEPTION_HANDLERS
from cpms.api.routing import Operation
from cpms.portal import mount as portal

# Every operation the app serves; the document at /api/v1/openapi.json describes exactly these.
OPERATIONS: tuple[Operation[Any, Any], ...] = (
    *operations.ROUTES,
    *openapi.ROUTES,
    *sites.ROUTES,
    *stations.ROUTES,
    *commands.ROUTES,
    *sessions.ROUTES,
    *access_groups.ROUTES,
    *roaming.ROUTES,
    *analytics.ROUTES,
)


def create_app(api_services: ApiServices) -> Starlette:
    app = Starlette(
        # The portal last: it answers only its own paths, every other one stays the API's.
        routes=[*(operation.route() for operation in OPERATIONS), ocpi.mount(), portal()],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    app.state.services = api_services
    buckets.zone_names()  # read at start rather than in the first analytics request
    app.state.openapi = msgspec.json.encode(openapi.document(OPERATIONS))
    return app
