"""Shared fixtures: a database per test on SQLite and PostgreSQL, and running cpms nodes."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest

from cpms.infra.settings import Database, Settings
from cpms.node import Node
from tests.support import OPERATOR_KEY, api_client, create_site

PG_URL = os.environ.get("CPMS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def postgres_or_skip() -> None:
    """Integration tests need the real PostgreSQL; in CI its absence is a failure, not a skip."""
    try:
        psycopg.connect(Database.from_url(PG_URL).conninfo(), connect_timeout=3).close()
    except psycopg.OperationalError as error:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and not reachable: {error}")
        pytest.skip(f"PostgreSQL not reachable: {error}")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL schema of this test's own, dropped afterwards."""
    postgres_or_skip()
    schema = f"cpms_test_{uuid.uuid4().hex[:16]}"
    yield f"{PG_URL}?schema={schema}"
    with psycopg.connect(Database.from_url(PG_URL).conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    """One fresh database per test, once on a SQLite file and once on a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/cpms.sqlite"
    else:
        yield request.getfixturevalue("postgres_url")


StartNode = Callable[..., Awaitable[Node]]


@pytest.fixture
async def start_node(database_url: str) -> AsyncIterator[StartNode]:
    """Start cpms (gateway, projections, API) on free ports; every node is stopped afterwards."""
    nodes: list[Node] = []

    async def start(**settings: object) -> Node:
        values: dict[str, object] = {
            "database": Database.from_url(database_url),
            "host": "127.0.0.1",
            "ocpp_port": 0,
            "http_port": 0,
            "heartbeat_interval": 300,
            "node_id": "test-node",
            "operator_api_key": OPERATOR_KEY,
        }
        values.update(settings)
        node = Node.build(Settings(**values))  # type: ignore[arg-type]
        await node.start()
        nodes.append(node)
        return node

    yield start
    for node in nodes:
        await node.stop()


@pytest.fixture
async def node(start_node: StartNode) -> Node:
    """A node with every role (a module may define its own, e.g. with TLS)."""
    return await start_node()


@pytest.fixture
async def api(node: Node) -> AsyncIterator[httpx.AsyncClient]:
    """An API client of a new organization on `node`, its answers checked against the document."""
    async with await api_client(node) as client:
        yield client


@pytest.fixture
async def site(api: httpx.AsyncClient) -> dict[str, Any]:
    return await create_site(api)
