"""Test peers: an API client with an organization's key and OCPP chargers over real websockets
(1.6 here, 2.0.1 in `support201.py`, both connected by `peer_connected`)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, TypeVar

import httpx
import websockets
from ocpp.v16 import ChargePoint, call
from ocpp.v16.enums import ChargePointErrorCode

from cpms.node import Node
from tests import openapi_check


class _Peer(Protocol):
    def __init__(self, ocpp_id: str, connection: Any) -> None: ...

    async def start(self) -> None: ...


Peer = TypeVar("Peer", bound=_Peer)

ADDRESS = {"street": "12 Quai de Valmy", "postal_code": "75010", "city": "Paris", "country": "FR"}


async def api_client(node: Node, organization: str = "Acme Charging") -> httpx.AsyncClient:
    """An HTTP client for the node's API, authenticated as a new organization."""
    _, api_key = await node.network.create_organization(organization)
    return api_client_with(node, f"Bearer {api_key}")


# The operator's key every test node is started with (CPMS_OPERATOR_API_KEY).
OPERATOR_KEY = "operator-key-of-the-tests-0123456789"


def operator_client(node: Node) -> httpx.AsyncClient:
    """An HTTP client for the node's API with the operator's key (operator endpoints)."""
    return api_client_with(node, f"Bearer {OPERATOR_KEY}")


def api_client_with(node: Node, authorization: str) -> httpx.AsyncClient:
    """Every answer it receives is checked against the OpenAPI document (tests/openapi_check.py)."""
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{node.http_port}/api/v1",
        headers={"Authorization": authorization},
        timeout=15,
        event_hooks={"response": [openapi_check.checker()]},
    )


# Where ADDRESS is; a site needs coordinates to be published to roaming partners.
COORDINATES = {"latitude": 48.87209, "longitude": 2.36468}


async def create_site(
    api: httpx.AsyncClient, name: str = "Depot", coordinates: dict[str, float] | None = None
) -> dict[str, Any]:
    body = {"name": name, "address": ADDRESS, "provider": "EDF", "coordinates": coordinates}
    response = await api.post("/sites", json=body)
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

    async def status(self, connector_id: int, status: str, timestamp: str | None = None, **error: Any) -> Any:
        """`error`: errorCode (no error by default), info, vendorId, vendorErrorCode, snake_cased."""
        return await self.call(
            call.StatusNotification(
                connector_id=connector_id,
                error_code=error.pop("error_code", ChargePointErrorCode.no_error),
                status=status,
                timestamp=timestamp,
                **error,
            ),
            suppress=False,
        )

    async def authorize(self, id_tag: str) -> str:
        result = await self.call(call.Authorize(id_tag=id_tag), suppress=False)
        return result.id_tag_info["status"]

    async def start_transaction(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str
    ) -> Any:
        return await self.call(
            call.StartTransaction(
                connector_id=connector_id, id_tag=id_tag, meter_start=meter_start, timestamp=timestamp
            ),
            suppress=False,
        )

    async def meter(
        self, connector_id: int, transaction_id: int, timestamp: str, value: str, unit: str = "Wh"
    ) -> Any:
        sample = {"value": value, "measurand": "Energy.Active.Import.Register", "unit": unit}
        return await self.call(
            call.MeterValues(
                connector_id=connector_id,
                transaction_id=transaction_id,
                meter_value=[{"timestamp": timestamp, "sampledValue": [sample]}],
            ),
            suppress=False,
        )

    async def stop(self, transaction_id: int, meter_stop: int, timestamp: str, **extra: Any) -> Any:
        return await self.call(
            call.StopTransaction(
                transaction_id=transaction_id, meter_stop=meter_stop, timestamp=timestamp, **extra
            ),
            suppress=False,
        )


def connected(
    node: Node, ocpp_id: str, *, url: str | None = None, **connect: Any
) -> AbstractAsyncContextManager[Charger]:
    """An OCPP 1.6 charger connected to the node's gateway, its receive loop running; `url` (with
    an `ssl` context among the websockets `connect` options) reaches it over wss instead of ws."""
    return peer_connected(node, ocpp_id, Charger, "ocpp1.6", url=url, **connect)


@contextlib.asynccontextmanager
async def peer_connected(
    node: Node, ocpp_id: str, peer: type[Peer], subprotocol: str, *, url: str | None = None, **connect: Any
) -> AsyncIterator[Peer]:
    """A peer of the `ocpp` package (a ChargePoint of any version) connected with `subprotocol`,
    its receive loop running while the test drives it; stopped on the way out."""
    url = url or f"ws://127.0.0.1:{node.ocpp_port}/ocpp/{ocpp_id}"
    async with websockets.connect(url, subprotocols=[subprotocol], **connect) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == subprotocol
        charger = peer(ocpp_id, ws)
        task = asyncio.create_task(charger.start())
        try:
            yield charger
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                await task


async def access_group(api: httpx.AsyncClient, name: str, cards: dict[str, str]) -> str:
    """An access group with the given cards (uid -> label); its id."""
    response = await api.post("/access-groups", json={"name": name})
    assert response.status_code == 201, response.text
    group_id: str = response.json()["id"]
    for uid, label in cards.items():
        added = await api.post(f"/access-groups/{group_id}/cards", json={"uid": uid, "label": label})
        assert added.status_code == 201, added.text
    return group_id


async def configure(api: httpx.AsyncClient, ocpp_id: str, *group_ids: str, **flags: bool) -> None:
    body = {"access_group_ids": list(group_ids), "roaming_enabled": False, "scan2pay_enabled": False, **flags}
    response = await api.put(f"/stations/{ocpp_id}/configuration", json=body)
    assert response.status_code == 200, response.text


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
