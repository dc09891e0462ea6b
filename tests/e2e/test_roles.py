"""Gateway, projector and API as separate nodes over one PostgreSQL database."""

from __future__ import annotations

import pytest

from cpms.infra.settings import Database, Settings
from cpms.node import Node
from tests.support import (
    OPERATOR_KEY,
    api_client,
    commission,
    connected,
    create_site,
    eventually,
    operator_client,
)


@pytest.fixture
async def roles(postgres_url):
    nodes: dict[str, Node] = {}
    for role in ("gateway", "projector", "api"):
        settings = Settings(
            database=Database.from_url(postgres_url),
            ocpp_port=0,
            http_port=0,
            node_id=f"{role}-1",
            operator_api_key=OPERATOR_KEY,
        )
        node = Node.build(settings)
        await node.start(gateway=role == "gateway", projector=role == "projector", api=role == "api")
        nodes[role] = node
    yield nodes
    for node in nodes.values():
        await node.stop()


async def test_each_role_runs_alone_and_together_they_serve_the_portal(roles):
    api_node, gateway = roles["api"], roles["gateway"]
    assert api_node.ocpp_port is None and gateway.http_port is None
    async with await api_client(api_node) as api:
        site = await create_site(api)  # read-your-writes through the projector process
        await commission(api, site["id"], "CP-DIST", connectors=1)
        async with connected(gateway, "CP-DIST") as charger:
            await charger.boot()
            await charger.status(1, "Charging")

            async def loaded() -> None:
                assert (await api.get(f"/sites/{site['id']}")).json()["state"] == "Load"

            await eventually(loaded)
            # Commands reach stations through a gateway in the API's own process, or (later) over
            # NATS: a separate API says so rather than calling the station offline.
            refused = await api.post("/stations/CP-DIST/reset", json={"type": "soft"})
            assert refused.status_code == 503, refused.text
            assert refused.json()["error"]["code"] == "commands_unavailable"
            assert "Retry-After" in refused.headers

        async def caught_up_as_the_projector_says() -> None:
            async with operator_client(api_node) as operator:
                items = (await operator.get("/projections")).json()["items"]
            folded = {item["name"]: item["position"] for item in items}
            assert folded == {
                status.name: status.position for status in roles["projector"].projections.status()
            }
            assert {item["lag"] for item in items} == {0}

        # The API process folds nothing: it reads where the projector committed each position.
        await eventually(caught_up_as_the_projector_says)
