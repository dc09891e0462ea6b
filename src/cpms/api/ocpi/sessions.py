"""OCPI 2.2.1 Sessions and CDRs, sender interfaces: an eMSP pulls its own drivers' sessions at
cpms's sites, and the CDR each leaves when it ends, a page at a time by `last_updated`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from cpms.api.context import read, services
from cpms.api.ocpi.envelope import envelope, invalid, ocpi_route
from cpms.api.ocpi.paging import page_headers, page_of
from cpms.api.ocpi.registry import VERSION, Module
from cpms.api.ocpi_models.cdrs import CDR
from cpms.api.ocpi_models.sessions import Session
from cpms.application.roaming import OcpiCaller
from cpms.projections import roaming
from cpms.timestamps import parse_iso


def _date(request: Request, name: str, *, required: bool = False) -> datetime | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        if required:
            raise invalid(f"{name} is required (an ISO 8601 DateTime)")
        return None
    try:
        return parse_iso(raw)
    except ValueError:
        raise invalid(f"{name}: {raw!r} is no ISO 8601 DateTime") from None


async def _list(
    request: Request,
    caller: OcpiCaller,
    query: Callable[..., tuple[list[dict[str, Any]], int]],
    model: type[Any],
    path: str,
    *,
    date_from_required: bool,
) -> Response:
    date_from = _date(request, "date_from", required=date_from_required)
    date_to = _date(request, "date_to")
    page = page_of(request)
    party = caller.party
    items, total = await read(
        request,
        query,
        caller.organization_id,
        caller.partner_id,
        country_code=party.country_code,
        party_id=party.party_id,
        currency=services(request).ocpi_currency,
        date_from=date_from,
        date_to=date_to,
        offset=page.offset,
        limit=page.limit,
    )
    # Through the spec's own objects: what is sent is what OCPI defines, or the request fails.
    data = [msgspec.to_builtins(msgspec.convert(item, model)) for item in items]
    url = f"{services(request).ocpi_url}/{VERSION}{path}"
    return envelope(data, headers=page_headers(request, page, total, url))


async def sessions(request: Request, caller: OcpiCaller) -> Response:
    """date_from is required by OCPI 2.2.1 for Sessions (not for CDRs)."""
    return await _list(request, caller, roaming.ocpi_sessions, Session, "/sessions", date_from_required=True)


async def cdrs(request: Request, caller: OcpiCaller) -> Response:
    return await _list(request, caller, roaming.ocpi_cdrs, CDR, "/cdrs", date_from_required=False)


SESSIONS = Module("sessions", "SENDER", "/sessions", [ocpi_route(f"/{VERSION}/sessions", sessions, ["GET"])])
CDRS = Module("cdrs", "SENDER", "/cdrs", [ocpi_route(f"/{VERSION}/cdrs", cdrs, ["GET"])])
