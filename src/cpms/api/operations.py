"""For operators and load balancers: health of each dependency and of each projection."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from cpms.api.context import services
from cpms.api.models.common import NoQuery
from cpms.api.models.operations import Health, ProjectionPage
from cpms.api.responses import reply
from cpms.api.routing import Operation
from cpms.infra.health import VIEW_STORE, is_unavailable
from cpms.projections.tracking import ProjectionStatus, RebuildStatus


async def health(request: Request, body: None, query: NoQuery) -> Response:
    """503 while a dependency is down, so a load balancer stops sending work here; "degraded"
    (still 200) while a projection is stopped at a failing event, naming it. Unauthenticated,
    so it names what fails but keeps the errors themselves for operators."""
    api = services(request)
    dependencies = {
        name: {"status": "up" if state.up else "down", "since": state.since}
        for name, state in api.health.states().items()
    }
    projections: dict[str, Any] = {}
    if api.health.unavailable(VIEW_STORE) is None:
        try:
            statuses = await run_in_threadpool(api.projections.status)
        except Exception as error:
            if not is_unavailable(error):
                raise
            api.health.report(VIEW_STORE, error)
        else:
            projections = {s.name: _public(s) for s in statuses}
    down = sorted(name for name, state in dependencies.items() if state["status"] == "down")
    failing = sorted(name for name, state in projections.items() if state["state"] == "failing")
    status = "unavailable" if down else "degraded" if failing else "ok"
    report = {
        "status": status,
        "unavailable": down,
        "failing_projections": failing,
        "dependencies": dependencies,
        "projections": projections,
        "writer": api.network.writer_stats(),
    }
    return reply(Health, report, 503 if down else 200, {"Retry-After": "2"} if down else None)


async def projections(request: Request, body: None, query: NoQuery) -> Response:
    """For the operator: the errors' text too, and each rebuild with its progress."""
    statuses = await run_in_threadpool(services(request).projections.status)
    items = [{**_public(s), "rebuild": _rebuild(s.rebuild)} for s in statuses]
    for item, status in zip(items, statuses, strict=True):
        if status.failure is not None:
            item["failure"]["error"] = status.failure.error
    return reply(ProjectionPage, {"items": items, "next_cursor": None})


def _rebuild(rebuild: RebuildStatus | None) -> dict[str, Any] | None:
    return None if rebuild is None else asdict(rebuild)


def _public(status: ProjectionStatus) -> dict[str, Any]:
    """A projection's state as /health shows it to anyone: the failing event's kind, not the
    error's text (it may quote an organization's data; the operator's endpoint shows it)."""
    failure = status.failure
    return {
        "name": status.name,
        "version": status.version,
        "position": status.position,
        "head": status.head,
        "lag": status.lag,
        "state": status.state,
        "failure": None
        if failure is None
        else {
            "position": failure.position,
            "event_type": failure.event_type,
            "error_type": failure.error.partition(":")[0],
            "since": failure.since,
            "attempts": failure.attempts,
        },
    }


ROUTES = (
    Operation(
        "GET",
        "/health",
        health,
        "For load balancers: 503 while a dependency is down, naming it",
        query=NoQuery,
        responses={200: Health, 503: Health},
        public=True,
    ),
    Operation(
        "GET",
        "/api/v1/projections",
        projections,
        "Each projection's version, position, lag and state, and its rebuild's progress (operator)",
        query=NoQuery,
        responses={200: ProjectionPage},
        operator=True,
    ),
)
