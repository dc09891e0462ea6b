"""A fake eMSP on loopback: a small Starlette app served by uvicorn, with its versions and 2.2.1
endpoints, recording the Authorization header of every request it receives, a Tokens sender
whose real-time authorization answers what the test sets (`allowed`, or a stall of `stall_s`),
and (unless `receivers=False`) Sessions and CDRs receivers recording what cpms pushes, which can
be told to answer HTTP 503 `fail_pushes` times or to stall `push_stall_s` first."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class Emsp:
    port: int = 0
    received: list[tuple[str, str]] = field(default_factory=list)  # (path, Authorization)
    # Real-time authorization: what `POST .../tokens/{uid}/authorize` answers, and what it got.
    allowed: str = "ALLOWED"
    authorization_reference: str = "REF-0001"
    stall_s: float = 0.0
    authorize_requests: list[dict[str, Any]] = field(default_factory=list)
    # Push receivers: whether the endpoints list them, what they received, how they misbehave.
    receivers: bool = True
    pushed: list[dict[str, Any]] = field(default_factory=list)  # in the order received
    fail_pushes: int = 0
    push_stall_s: float = 0.0
    failed_pushes: int = 0

    def sessions(self) -> list[dict[str, Any]]:
        return [p for p in self.pushed if p["module"] == "sessions"]

    def cdrs(self) -> list[dict[str, Any]]:
        return [p for p in self.pushed if p["module"] == "cdrs"]

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
            endpoints = [
                {"identifier": "credentials", "role": "RECEIVER", "url": f"{base}/credentials"},
                {"identifier": "tokens", "role": "SENDER", "url": f"{base}/tokens"},
            ]
            if self.receivers:
                endpoints += [
                    {"identifier": "sessions", "role": "RECEIVER", "url": f"{base}/emsp/sessions"},
                    {"identifier": "cdrs", "role": "RECEIVER", "url": f"{base}/emsp/cdrs"},
                ]
            return ok({"version": "2.2.1", "endpoints": endpoints})

        async def receive(request: Request) -> JSONResponse:
            if self.push_stall_s:
                await asyncio.sleep(self.push_stall_s)
            if self.failed_pushes < self.fail_pushes:
                self.failed_pushes += 1
                return JSONResponse({"status_code": 3000, "timestamp": "2026-03-02T08:00:00Z"}, 503)
            module = request.path_params["module"]
            body = await request.json()
            self.pushed.append(
                {
                    "module": module,
                    "method": request.method,
                    "path": request.url.path,
                    "body": body,
                    "authorization": request.headers.get("authorization"),
                    "x_request_id": request.headers.get("x-request-id"),
                    "x_correlation_id": request.headers.get("x-correlation-id"),
                }
            )
            answer = ok(None)
            if module == "cdrs":
                answer.headers["Location"] = f"http://127.0.0.1:{self.port}/ocpi/2.2.1/emsp/cdrs/{body['id']}"
            return answer

        async def authorize(request: Request) -> JSONResponse:
            uid = request.path_params["uid"]
            self.authorize_requests.append(
                {
                    "uid": uid,
                    "type": request.query_params.get("type"),
                    "body": await request.json(),
                    "authorization": request.headers.get("authorization"),
                    "x_request_id": request.headers.get("x-request-id"),
                    "x_correlation_id": request.headers.get("x-correlation-id"),
                }
            )
            if self.stall_s:
                await asyncio.sleep(self.stall_s)
            info = {
                "allowed": self.allowed,
                "token": {"uid": uid, "type": "RFID", "contract_id": f"FR-ABC-{uid}"},
                "authorization_reference": self.authorization_reference,
            }
            return ok(info)

        return Starlette(
            routes=[
                Route("/ocpi/versions", versions),
                Route("/ocpi/2.2.1", details),
                Route("/ocpi/2.2.1/tokens/{uid}/authorize", authorize, methods=["POST"]),
                Route("/ocpi/2.2.1/emsp/{module:str}", receive, methods=["POST"]),
                Route("/ocpi/2.2.1/emsp/{module:str}/{cc}/{party}/{id}", receive, methods=["PUT"]),
            ]
        )


@contextlib.asynccontextmanager
async def running_emsp(emsp: Emsp | None = None) -> AsyncIterator[Emsp]:
    """Serve `emsp` (a new one by default) on its port (a free one if 0): handing the same one
    again brings an eMSP that was stopped back where partners knew it, with what it received."""
    emsp = emsp or Emsp()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", emsp.port))
    emsp.port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(emsp.app(), log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield emsp
    finally:
        server.should_exit = True
        server.force_exit = True  # a stalled request must not hold the test's end
        await task
