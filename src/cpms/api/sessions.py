"""Charging sessions of a site: the list, one session, and the CSV export."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from cpms.api.context import organization, read, services
from cpms.api.errors import bad_request, not_found
from cpms.api.requests import page_params, uuid_param
from cpms.api.responses import json_response
from cpms.api.sessions_csv import csv_lines
from cpms.api.sites import existing_site
from cpms.application import utc_now
from cpms.projections import sessions
from cpms.timestamps import parse_iso

STATES = ("Active", "Completed")


async def list_sessions(request: Request) -> Response:
    org, site_id, filters = await _site_and_filters(request)
    limit, cursor = page_params(request)
    items, next_cursor = await read(
        request, sessions.list_sessions, org, site_id, limit=limit, cursor=cursor, now=utc_now(), **filters
    )
    return json_response({"items": items, "next_cursor": next_cursor})


async def export_sessions(request: Request) -> Response:
    org, site_id, filters = await _site_and_filters(request)
    views = services(request).views
    rows = sessions.iter_sessions(views.read, org, site_id, now=utc_now(), **filters)
    filename = f"sessions-{site_id}.csv"
    return StreamingResponse(
        (line.encode() for line in csv_lines(rows)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def get_session(request: Request) -> Response:
    org = await organization(request)
    session_id = uuid_param(request.path_params["session_id"], "session")
    session = await read(request, sessions.get_session, org, session_id, utc_now())
    if session is None:
        raise not_found(f"session {session_id!r} not found")
    return json_response(session)


async def _site_and_filters(request: Request) -> tuple[str, str, dict[str, Any]]:
    org = await organization(request)
    site_id = uuid_param(request.path_params["site_id"], "site")
    query = request.query_params
    filters: dict[str, Any] = {
        "started_from": _instant(query.get("from"), "from"),
        "started_before": _instant(query.get("to"), "to"),
        "state": query.get("state"),
    }
    if filters["state"] is not None and filters["state"] not in STATES:
        raise bad_request(f"state must be one of {', '.join(STATES)}")
    if (
        filters["started_from"]
        and filters["started_before"]
        and filters["started_from"] >= filters["started_before"]
    ):
        raise bad_request("from must be before to")
    await existing_site(request, org, site_id)
    return org, site_id, filters


def _instant(value: str | None, name: str) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        return parse_iso(value)
    except ValueError:
        raise bad_request(f"{name} must be an ISO 8601 instant, e.g. 2026-11-23T00:00:00Z") from None


ROUTES = [
    ("GET", "/sites/{site_id}/sessions", list_sessions),
    ("GET", "/sites/{site_id}/sessions.csv", export_sessions),
    ("GET", "/sessions/{session_id}", get_session),
]
