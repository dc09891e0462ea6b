"""/health names each dependency a node has (event store, view store, NATS when configured) and
answers 503 while one is down, so a load balancer takes the node out of rotation."""

from __future__ import annotations

import socket

import httpx
import nats
import pytest

from tests.conftest import IN_CI

NATS_URL = "nats://127.0.0.1:4222"


async def _nats_or_skip() -> None:
    try:
        client = await nats.connect(
            NATS_URL, connect_timeout=2, allow_reconnect=False, max_reconnect_attempts=1
        )
    except Exception as error:
        if IN_CI:
            pytest.fail(f"NATS is required in CI and not reachable: {error}")
        pytest.skip(f"NATS not reachable: {error}")
    await client.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _health(node) -> httpx.Response:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{node.http_port}", timeout=10) as client:
        return await client.get("/health")


async def test_a_healthy_node_reports_each_dependency_and_projection(start_node):
    await _nats_or_skip()
    node = await start_node(nats_url=NATS_URL)
    response = await _health(node)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: d["status"] for name, d in body["dependencies"].items()} == {
        "event_store": "up",
        "view_store": "up",
        "nats": "up",
    }
    assert {p["state"] for p in body["projections"].values()} == {"live"}
    assert "error" not in str(body["projections"]).lower()  # errors are for operators, not here


async def test_nats_down_makes_the_node_unavailable_and_says_so(start_node):
    node = await start_node(nats_url=f"nats://127.0.0.1:{_closed_port()}")
    response = await _health(node)
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["unavailable"] == ["nats"]
    assert body["dependencies"]["event_store"]["status"] == "up"


async def test_without_nats_configured_it_is_not_a_dependency(start_node):
    node = await start_node()
    body = (await _health(node)).json()
    assert set(body["dependencies"]) == {"event_store", "view_store"}
