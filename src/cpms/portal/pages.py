"""The portal's pages, read through the same read-model queries the API answers from."""

from __future__ import annotations

from itertools import groupby
from typing import Any, Literal, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from cpms.api.context import Tx, organization, read, read_one
from cpms.api.errors import bad_request, not_found
from cpms.api.models.common import MAX_LIMIT, PageQuery
from cpms.api.models.sessions import SessionsQuery
from cpms.api.requests import uuid_param
from cpms.api.roaming import activity_since
from cpms.api.sessions import sessions_page
from cpms.api.sites import existing_site
from cpms.application import utc_now
from cpms.portal.i18n import N_
from cpms.portal.rendering import render, translate
from cpms.portal.session import page
from cpms.projections import charge_points, roaming, roaming_partners, sessions, sites, stations

M = TypeVar("M")
ROAMING_DAYS = 30


def filters(request: Request, model: type[M]) -> M:
    """The query string as the API's model, a form's empty fields read as not given."""
    given = {name: value for name, value in request.query_params.items() if value.strip()}
    try:
        return msgspec.convert(given, model, strict=False)
    except msgspec.ValidationError as error:
        raise bad_request(str(error)) from None


def site_id_of(request: Request) -> str:
    return uuid_param(request.path_params["site_id"], "site")


async def station_on_site(request: Request, org: str, site_id: str) -> str:
    """The path's station, one of the organization's on this site (else 404): its OCPP identity."""
    ocpp_id: str = request.path_params["ocpp_id"]
    station = await read(request, stations.get_station, org, ocpp_id)
    if station is None or station["site_id"] != site_id:
        raise not_found(f"station {ocpp_id!r} not found on this site")
    return ocpp_id


@page
async def my_sites(request: Request) -> Response:
    query = filters(request, PageQuery)
    items, next_cursor = await read(
        request, sites.list_sites, organization(request), limit=query.limit, cursor=query.cursor
    )
    context = {"section": "sites", "sites": items, "next_cursor": next_cursor, "paged": bool(query.cursor)}
    return render(request, "sites.html", context)


@page
async def overview(request: Request) -> Response:
    site = await existing_site(request, organization(request), site_id_of(request))
    return render(request, "site_overview.html", {"section": "sites", "tab": "overview", "site": site})


def whole_sheet(tx: Tx, organization_id: str, site_id: str) -> list[dict[str, Any]]:
    """Every charge point of the site, by station and number (the API's pages, read to the end)."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        items, cursor = charge_points.sheet(tx, organization_id, site_id, limit=MAX_LIMIT, cursor=cursor)
        rows += items
        if cursor is None:
            return rows


def by_station(rows: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    return [(ocpp_id, list(points)) for ocpp_id, points in groupby(rows, key=lambda row: row["ocpp_id"])]


@page
async def sheet(request: Request) -> Response:
    org, site_id = organization(request), site_id_of(request)
    site = await existing_site(request, org, site_id)
    rows = await read(request, whole_sheet, org, site_id)
    context = {"section": "sites", "tab": "sheet", "site": site, "stations": by_station(rows)}
    return render(request, "site_sheet.html", context)


@page
async def site_sessions(request: Request) -> Response:
    org, site_id = organization(request), site_id_of(request)
    site = await existing_site(request, org, site_id)
    query = filters(request, SessionsQuery)
    items, next_cursor = await sessions_page(request, org, site_id, query)
    chosen = {"from": query.from_ or "", "to": query.to or "", "state": query.state or ""}
    export = {name: value for name, value in chosen.items() if value}
    context = {
        "section": "sites",
        "tab": "sessions",
        "site": site,
        "sessions": items,
        "next_cursor": next_cursor,
        "paged": bool(query.cursor),
        "chosen": chosen,
        "export": export,
    }
    return render(request, "site_sessions.html", context)


@page
async def session_detail(request: Request) -> Response:
    org = organization(request)
    session_id = uuid_param(request.path_params["session_id"], "session")
    found = await read_one(
        request, sessions.get_session, org, session_id, utc_now(), missing=f"session {session_id!r} not found"
    )
    site = await existing_site(request, org, found["site_id"])
    context = {"section": "sites", "tab": "sessions", "site": site, "session": found}
    return render(request, "session.html", context)


class StationsPageQuery(PageQuery, forbid_unknown_fields=True):
    """The EVSE controllers page; after a command sent from it, the station and its outcome."""

    station: str | None = None
    outcome: Literal["accepted", "rejected", "failed", "offline", "timeout", "unavailable"] | None = None


# How the portal says what became of a command (`Station.StationCommandAnswered`'s outcomes).
COMMAND_OUTCOMES = {
    "accepted": N_("The station accepted."),
    "rejected": N_("The station refused."),
    "failed": N_("The station could not carry it out."),
    "offline": N_("The station is not connected: nothing was sent."),
    "timeout": N_("The station did not answer in time."),
    "unavailable": N_("Commands cannot reach stations from this server."),
}


@page
async def site_stations(request: Request) -> Response:
    org, site_id = organization(request), site_id_of(request)
    site = await existing_site(request, org, site_id)
    query = filters(request, StationsPageQuery)
    items, next_cursor = await read(
        request, stations.list_stations, org, site_id=site_id, limit=query.limit, cursor=query.cursor
    )
    context = {
        "section": "sites",
        "tab": "stations",
        "site": site,
        "stations": items,
        "next_cursor": next_cursor,
        "paged": bool(query.cursor),
        # What the station answered the availability command just sent from this page, if one was.
        "commanded": query.station,
        "outcome": translate(request, COMMAND_OUTCOMES[query.outcome]) if query.outcome else None,
    }
    return render(request, "site_stations.html", context)


def all_sites(tx: Tx, organization_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        items, cursor = sites.list_sites(tx, organization_id, limit=MAX_LIMIT, cursor=cursor)
        found += items
        if cursor is None:
            return found


@page
async def analytics(request: Request) -> Response:
    """The charts are drawn by the page's script from `GET /api/v1/analytics`: what they show
    is the API's answer, which the page asks for with the session cookie."""
    query = request.query_params
    chosen = {name: query.get(name, "") for name in ("from", "to", "bucket", "tz", "site_id")}
    chosen["bucket"] = chosen["bucket"] if chosen["bucket"] in ("day", "week", "month") else "day"
    context = {
        "section": "analytics",
        "sites": await read(request, all_sites, organization(request)),
        "chosen": chosen,
    }
    return render(request, "analytics.html", context)


def roaming_page(tx: Tx, organization_id: str) -> dict[str, Any]:
    """The last 30 days as `GET /api/v1/roaming/activity` answers them, with partners' names."""
    since = activity_since(ROAMING_DAYS)
    found = roaming.activity(tx, organization_id, since=since)
    partners: dict[str, dict[str, Any]] = {}
    cursor = None
    while True:
        items, cursor = roaming_partners.list_partners(tx, organization_id, limit=MAX_LIMIT, cursor=cursor)
        partners.update({item["id"]: item for item in items})
        if cursor is None:
            break
    totals: dict[str, dict[str, Any]] = {}
    for entry in found["days"]:
        total = totals.setdefault(
            entry["partner_id"],
            {"sessions": 0, "energy_wh": 0.0, "accepted": 0, "rejected": 0, "timed_out": 0, "error": 0},
        )
        for name in total:
            total[name] += entry[name]
    return {"since": since.date().isoformat(), "partners": partners, "totals": totals, **found}


@page
async def roaming_activity(request: Request) -> Response:
    found = await read(request, roaming_page, organization(request))
    return render(request, "roaming.html", {"section": "roaming", **found})
