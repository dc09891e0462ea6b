"""The Starlette app factory: the operations' routes, their document, the error table, and the
pages the composition root mounts beside them (the web portal); no connection is opened here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from cpms import buckets
from cpms.api import (
    access_groups,
    analytics,
    commands,
    history,
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

# Every operation the app serves; the document at /api/v1/openapi.json describes exactly these.
OPERATIONS: tuple[Operation[Any, Any], ...] = (
    *operations.ROUTES,
    *openapi.ROUTES,
    *sites.ROUTES,
    *stations.ROUTES,
    *commands.ROUTES,
    *sessions.ROUTES,
    *history.ROUTES,
    *access_groups.ROUTES,
    *roaming.ROUTES,
    *analytics.ROUTES,
)


def create_app(api_services: ApiServices, pages: Sequence[BaseRoute] = ()) -> Starlette:
    """`pages` come last: the portal answers only its own paths, every other one stays the API's."""
    app = Starlette(
        routes=[*(operation.route() for operation in OPERATIONS), ocpi.mount(), *pages],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    app.state.services = api_services
    buckets.zone_names()  # read at start rather than in the first analytics request
    app.state.openapi = msgspec.json.encode(openapi.document(OPERATIONS))
    return app
