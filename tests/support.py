"""Test peers: an API client with an organization's key and OCPP 1.6 chargers over real websockets."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import websockets
from ocpp.v16 import ChargePoint, call
from ocpp.v16.enums import ChargePointErrorCode

from cpms.node import Node

ADDRESS = {"street": "12 Quai de Valmy", "postal_code": "75010", "city": "Paris", "country": "FR"}


async def api_client(node: Node, organization: str = "Acme Charging") -> httpx.AsyncClient:
    """An HTTP client for the node's API, authenticated as a new organization."""
    _, api_key = await node.network.create_organization(organization)
    return api_client_with(node, f"Bearer {api_key}")


def api_client_with(node: Node, authorization: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{node.http_port}/api/v1",
        headers={"Authorization": authorization},
        timeout=15,
    )


async def create_site(api: httpx.AsyncClient, name: str = "Depot") -> dict[str, Any]:
    response = await api.post("/sites", json={"name": name, "address": ADDRESS, "provider": "EDF"})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def commission(api: httpx.AsyncClient, site_id: str, ocpp_id: str, **extra: Any) -> dict[str, Any]:
    body = {"ocpp_id": ocpp_id, "serial_number": f"SN-{ocpp_id}", "site_id": site_id, **extra}
    response = await api.post("/stations", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


class Charger(ChargePoint):
    """An OCPP 1.6 charge point from the `ocpp` package, driven by the test."""

    async def boot(self) -> Any:
        return await self.call(
            call.BootNotification(
                charge_point_vendor="Wallbox", charge_point_model="Pulsar", firmware_version="6.1.2"
            )
        )

    async def status(self, connector_id: int, status: str, timestamp: str | None = None) -> Any:
        return await self.call(
            call.StatusNotification(
                connector_id=connector_id,
                error_code=ChargePointErrorCode.no_error,
                status=status,
                timestamp=timestamp,
            ),
            suppress=False,
        )


@contextlib.asynccontextmanager
async def connected(node: Node, ocpp_id: str, **connect: Any) -> Any:
    """A charger connected to the node's gateway, its receive loop running."""
    url = f"ws://127.0.0.1:{node.ocpp_port}/ocpp/{ocpp_id}"
    async with websockets.connect(url, subprotocols=["ocpp1.6"], **connect) as ws:  # type: ignore[list-item]
        charger = Charger(ocpp_id, ws)
        task = asyncio.create_task(charger.start())
        try:
            yield charger
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                await task


async def settled(node: Node) -> None:
    """Wait until the projections have folded everything stored so far."""
    head = await asyncio.to_thread(node.store.recorder.max_notification_id)
    await node.projections.wait_for(head)


async def eventually(check: Callable[[], Awaitable[None]], timeout: float = 5.0) -> None:
    """Retry an assertion until it holds (for facts recorded after a socket closes)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            await check()
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)
