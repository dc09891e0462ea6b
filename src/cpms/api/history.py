"""Auditors: a site's history in log order, and under `as_of` the site as it was at `until`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from cpms.api.context import organization, services
from cpms.api.errors import bad_request
from cpms.api.models.history import HistoryQuery, SiteHistory
from cpms.api.requests import uuid_param
from cpms.api.responses import reply
from cpms.api.routing import Operation
from cpms.api.sites import existing_site
from cpms.audit import history
from cpms.infra.health import Unavailable, is_unavailable, store_of
from cpms.projections.paging import BadCursor, decode_cursor, encode_cursor
from cpms.timestamps import parse_iso, to_iso


async def site_history(request: Request, body: None, query: HistoryQuery) -> Response:
    org = organization(request)
    site_id = uuid_param(request.path_params["site_id"], "site")
    await existing_site(request, org, site_id)
    after, until = _resumed(query)
    reader = services(request).history
    assert reader is not None, "the node gives the API its history reader"

    def answer() -> dict[str, Any]:
        items, next_after = reader.events(site_id, until, after=after, limit=query.limit)
        document: dict[str, Any] = {
            "site_id": site_id,
            "until": to_iso(until),
            "items": items,
            "next_cursor": None if next_after is None else encode_cursor([next_after, to_iso(until)]),
        }
        if query.cursor is None:
            document["as_of"] = reader.as_of(site_id, until, org)
        return document

    try:
        document = await run_in_threadpool(answer)
    except Exception as error:
        if not is_unavailable(error):
            raise
        store = store_of(error)
        services(request).health.report(store, error)
        raise Unavailable(store, str(error)) from error
    return reply(SiteHistory, document)


def _resumed(query: HistoryQuery) -> tuple[int, datetime]:
    """Where the page starts, and up to when: a next page keeps its first page's `until`."""
    now = history.now()
    asked = query.until_instant
    if query.cursor is None:
        return 0, now if asked is None or asked > now else asked
    after, until = decode_cursor(query.cursor, 2)
    try:
        if not isinstance(after, int) or not isinstance(until, str):
            raise ValueError
        kept = parse_iso(until)
    except ValueError:
        raise BadCursor("cursor is not one this API issued") from None
    if asked is not None and to_iso(min(asked, now)) != to_iso(kept):
        raise bad_request(f"until differs from the listing's ({to_iso(kept)}): give the same, or none")
    return after, kept


ROUTES = (
    Operation(
        "GET",
        "/api/v1/sites/{site_id}/history",
        site_history,
        "Auditors: the site's events up to `until` in log order and, on the first page, the site as"
        " it was then (overview with state, sheet, stations, sessions), rebuilt from those events",
        query=HistoryQuery,
        responses={200: SiteHistory},
        errors=frozenset({404}),
    ),
)
