"""The live sheet: Server-Sent Events that push a charge point's new status to the site's page.

The stream follows the sheet's read model, not the clock: it waits until the charge-point
projection has folded past the position it last read (`ProjectionRunner.moved_past`: woken by
the projector in a process that folds, the tracking table read every poll interval in an
API-only one), re-reads the site's sheet in one short read, and sends what changed. While the
log is quiet it holds no database connection and sends a comment now and then, so proxies keep
the connection and a browser that went away is noticed. It ends when the browser leaves and
when the node stops; the browser's EventSource reconnects by itself, and every stream starts
with the whole sheet, so nothing is missed in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from cpms.api.context import Tx, organization, read, services
from cpms.api.sites import existing_site
from cpms.infra.health import Unavailable
from cpms.portal.i18n import CATALOGS, WORDS
from cpms.portal.pages import site_id_of, whole_sheet
from cpms.portal.rendering import language_of
from cpms.portal.session import page
from cpms.projections import charge_points
from cpms.projections.charge_points import ChargePointsProjection
from cpms.projections.runner import ProjectionLagging

log = logging.getLogger(__name__)

KEEPALIVE = 15.0  # seconds between comments while nothing changes
MIN_INTERVAL = 0.25  # seconds between two reads of the sheet: a burst of events is one read
RETRY_MS = 2000  # how soon the browser reconnects after the stream ends
ON_TROUBLE = 5.0  # seconds to wait when the sheet cannot be read or its projection is stopped


def live_sheet(tx: Tx, organization_id: str, site_id: str) -> tuple[list[dict[str, Any]], str]:
    rows = whole_sheet(tx, organization_id, site_id)
    return rows, charge_points.site_states(tx, [site_id])[site_id].value


def event(kind: str, data: dict[str, Any]) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


@page
async def sheet_events(request: Request) -> Response:
    org, site_id = organization(request), site_id_of(request)
    await existing_site(request, org, site_id)  # 404 before the stream starts
    stream = _follow(request, org, site_id, CATALOGS[language_of(request)].gettext)
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _follow(request: Request, org: str, site_id: str, gettext: Any) -> AsyncIterator[bytes]:
    runner = services(request).projections
    stopping = services(request).stopping
    name = ChargePointsProjection.name
    yield f"retry: {RETRY_MS}\n\n".encode()
    shown: dict[tuple[str, int], dict[str, Any]] = {}
    shown_state: str | None = None
    while not stopping.is_set():
        position = runner.folded(name)  # read before the sheet: a fold in between is seen next time
        try:
            rows, state = await read(request, live_sheet, org, site_id)
        except Unavailable:
            yield b": the sheet cannot be read right now\n\n"
            await _pause(stopping, ON_TROUBLE)
            continue
        for row in rows:
            key = (row["ocpp_id"], row["connector_id"])
            if shown.get(key) != row:
                shown[key] = row
                label = gettext(WORDS.get(row["status"], row["status"]))
                yield event("charge-point", {**row, "label": label})
        if state != shown_state:
            shown_state = state
            yield event("site", {"state": state, "label": gettext(WORDS.get(state, state))})
        await _pause(stopping, MIN_INTERVAL)
        while not stopping.is_set():
            moved = await _moved(runner, name, position, stopping)
            if moved:
                break
            yield b": keep-alive\n\n"


async def _moved(runner: Any, name: str, position: int, stopping: asyncio.Event) -> bool:
    """True once the sheet's projection folded past `position`; False after KEEPALIVE seconds
    or when the node stops."""
    follow = asyncio.ensure_future(runner.moved_past(name, position, timeout=KEEPALIVE))
    stop = asyncio.ensure_future(stopping.wait())
    try:
        done, _ = await asyncio.wait({follow, stop}, return_when=asyncio.FIRST_COMPLETED)
        if follow not in done:
            return False
        try:
            return bool(follow.result() > position)
        except ProjectionLagging:  # stopped at a failing event: look again later, not in a loop
            await _pause(stopping, ON_TROUBLE)
            return False
    finally:
        for task in (follow, stop):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _pause(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)
