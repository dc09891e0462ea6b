"""For operators and load balancers: health and projection positions."""

from __future__ import annotations

from dataclasses import asdict

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from cpms.api.context import organization, services
from cpms.api.openapi import OPENAPI
from cpms.api.responses import json_response


async def health(request: Request) -> Response:
    runner = services(request).projections
    writer = services(request).network.writer_stats()
    return json_response({"status": "ok", "projection_position": runner.position, "writer": writer})


async def projections(request: Request) -> Response:
    await organization(request)
    runner = services(request).projections
    items = [asdict(status) for status in await run_in_threadpool(runner.status)]
    return json_response({"items": items, "next_cursor": None, "last_error": runner.last_error})


async def openapi(request: Request) -> Response:
    return json_response(OPENAPI)


ROUTES = [
    ("GET", "/openapi.json", openapi),
    ("GET", "/projections", projections),
]
