"""A fake eMSP on loopback: a small Starlette app served by uvicorn, with its versions and 2.2.1
endpoints, recording the Authorization header of every request it receives."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class Emsp:
    port: int = 0
    received: list[tuple[str, str]] = field(default_factory=list)  # (path, Authorization)

    @property
    def versions_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ocpi/versions"

    def app(self) -> Starlette:
        def ok(data: object) -> JSONResponse:
            return JSONResponse({"data": data, "status_code": 1000, "timestamp": "2026-03-02T08:00:00Z"})

        async def versions(request: Request) -> JSONResponse:
            self.received.append((request.url.path, request.headers.get("authorization", "")))
            return ok([{"version": "2.2.1", "url": f"http://127.0.0.1:{self.port}/ocpi/2.2.1"}])

        async def details(request: Request) -> JSONResponse:
            self.received.append((request.url.path, request.headers.get("authorization", "")))
            base = f"http://127.0.0.1:{self.port}/ocpi/2.2.1"
            return ok(
                {
                    "version": "2.2.1",
                    "endpoints": [
                        {"identifier": "credentials", "role": "RECEIVER", "url": f"{base}/credentials"},
                        {"identifier": "tokens", "role": "SENDER", "url": f"{base}/tokens"},
                    ],
                }
            )

        return Starlette(routes=[Route("/ocpi/versions", versions), Route("/ocpi/2.2.1", details)])


@contextlib.asynccontextmanager
async def running_emsp() -> AsyncIterator[Emsp]:
    emsp = Emsp()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    emsp.port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(emsp.app(), log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield emsp
    finally:
        server.should_exit = True
        await task
