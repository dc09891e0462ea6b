"""Charging sessions of a site: the list, one session, and the CSV export."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from cpms.api.context import organization, read, read_one, services
from cpms.api.models.common import NoQuery
from cpms.api.models.sessions import Session, SessionFilters, SessionPage, SessionsQuery
from cpms.api.requests import uuid_param
from cpms.api.responses import reply
from cpms.api.routing import Csv, Operation
from cpms.api.sessions_csv import HEADER, csv_lines
from cpms.api.sites import existing_site
from cpms.application import utc_now
from cpms.projections import sessions


async def list_sessions(request: Request, body: None, query: SessionsQuery) -> Response:
    org, site_id = organization(request), await _site_id(request)
    items, next_cursor = await sessions_page(request, org, site_id, query)
    return reply(SessionPage, {"items": items, "next_cursor": next_cursor})


async def sessions_page(
    request: Request, org: str, site_id: str, query: SessionsQuery
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a site's listed sessions, newest first, as the list and the portal show it."""
    return await read(
        request,
        sessions.list_sessions,
        org,
        site_id,
        limit=query.limit,
        cursor=query.cursor,
        now=utc_now(),
        started_from=query.started_from,
        started_before=query.started_before,
        state=query.state,
    )


async def export_sessions(request: Request, body: None, query: SessionFilters) -> Response:
    site_id = await _site_id(request)
    rows = sessions.iter_sessions(
        services(request).views.read,
        organization(request),
        site_id,
        now=utc_now(),
        started_from=query.started_from,
        started_before=query.started_before,
        state=query.state,
    )
    return StreamingResponse(
        (line.encode() for line in csv_lines(rows)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="sessions-{site_id}.csv"'},
    )


async def get_session(request: Request, body: None, query: NoQuery) -> Response:
    session_id = uuid_param(request.path_params["session_id"], "session")
    missing = f"session {session_id!r} not found"
    org = organization(request)
    return reply(
        Session, await read_one(request, sessions.get_session, org, session_id, utc_now(), missing=missing)
    )


async def _site_id(request: Request) -> str:
    """The site of the path, which must be the caller's."""
    site_id = uuid_param(request.path_params["site_id"], "site")
    await existing_site(request, organization(request), site_id)
    return site_id


ROUTES = (
    Operation(
        "GET",
        "/api/v1/sites/{site_id}/sessions",
        list_sessions,
        "Listed sessions of a site, newest first",
        query=SessionsQuery,
        responses={200: SessionPage},
        errors=frozenset({404}),
    ),
    Operation(
        "GET",
        "/api/v1/sites/{site_id}/sessions.csv",
        export_sessions,
        "The same sessions as CSV, streamed",
        query=SessionFilters,
        responses={200: Csv("RFC 4180, UTF-8; the header: " + ", ".join(HEADER))},
        errors=frozenset({404}),
    ),
    Operation(
        "GET",
        "/api/v1/sessions/{session_id}",
        get_session,
        "One session with its card details",
        query=NoQuery,
        responses={200: Session},
        errors=frozenset({404}),
    ),
)
