"""The portal's routes, mounted at the root of the API's app."""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from cpms.portal import commands, configuration, live, pages, session
from cpms.portal.rendering import STATIC

ROUTES: list[BaseRoute] = [
    Route("/", pages.my_sites, methods=["GET"]),
    Route("/sign-in", session.sign_in_form, methods=["GET"]),
    Route("/sign-in", session.sign_in, methods=["POST"]),
    Route("/sign-out", session.sign_out, methods=["POST"]),
    Route("/sites/{site_id}", pages.overview, methods=["GET"]),
    Route("/sites/{site_id}/sheet", pages.sheet, methods=["GET"]),
    Route("/sites/{site_id}/sheet/events", live.sheet_events, methods=["GET"]),
    Route("/sites/{site_id}/configuration", configuration.configuration, methods=["GET"]),
    Route(
        "/sites/{site_id}/configuration/stations/{ocpp_id}",
        configuration.configure_station,
        methods=["POST"],
    ),
    Route("/sites/{site_id}/configuration/groups", configuration.create_group, methods=["POST"]),
    Route("/sites/{site_id}/configuration/groups/{group_id}/cards", configuration.add_card, methods=["POST"]),
    Route(
        "/sites/{site_id}/configuration/groups/{group_id}/cards/remove",
        configuration.remove_card,
        methods=["POST"],
    ),
    Route("/sites/{site_id}/sessions", pages.site_sessions, methods=["GET"]),
    Route("/sites/{site_id}/stations", pages.site_stations, methods=["GET"]),
    Route("/sites/{site_id}/stations/{ocpp_id}/availability", commands.change_availability, methods=["POST"]),
    Route("/sessions/{session_id}", pages.session_detail, methods=["GET"]),
    Route("/analytics", pages.analytics, methods=["GET"]),
    Route("/roaming", pages.roaming_activity, methods=["GET"]),
    Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
]


class Portal(Mount):
    """Mounted at the root, it answers only the paths of its own routes: any other path, and a
    method an API route does not take, keep the API's own answers (JSON 404 and 405)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.FULL:
            return match, child_scope
        inner: dict[str, Any] = {**scope, **child_scope}
        found = Match.NONE
        for route in self.routes:
            route_match, _ = route.matches(inner)
            if route_match is Match.FULL:
                return Match.FULL, child_scope
            if route_match is Match.PARTIAL:
                found = Match.PARTIAL
        return found, child_scope


def mount() -> Mount:
    return Portal("", routes=ROUTES)
