"""The OCPI 2.2.1 API cpms serves as a CPO, under /ocpi: versions, credentials, and the modules
registered in `MODULES` (each adds its routes and its entry in the version details)."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount

from cpms.api.ocpi.credentials import CREDENTIALS, VERSION_ROUTES
from cpms.api.ocpi.locations import LOCATIONS
from cpms.api.ocpi.registry import Module
from cpms.api.ocpi.sessions import CDRS, SESSIONS
from cpms.api.ocpi.tokens import TOKENS

MODULES: list[Module] = [CREDENTIALS, LOCATIONS, TOKENS, SESSIONS, CDRS]


def mount() -> Mount:
    routes: list[BaseRoute] = [*VERSION_ROUTES]
    for module in MODULES:
        routes += module.routes
    return Mount("/ocpi", routes=routes)
