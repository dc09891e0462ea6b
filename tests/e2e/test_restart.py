"""A gateway that stopped without recording its stations' disconnections closes them on restart."""

from __future__ import annotations

from cpms.aggregates.station import station_id
from tests.support import api_client, api_client_with, commission, connected, create_site, settled


async def _crash(node) -> None:
    """Stop a node as a crash would: its stations' disconnections are never recorded."""

    async def lost(*_, **__):
        raise ConnectionError("process died")

    node.network.station_disconnected = lost
    await node.stop()


async def test_a_restarted_gateway_records_the_disconnections_it_missed(start_node):
    node = await start_node(node_id="gw-1")
    api = await api_client(node)
    key = api.headers["Authorization"]
    site = await create_site(api)
    await commission(api, site["id"], "CP-CRASH", connectors=1)
    async with connected(node, "CP-CRASH") as charger:
        await charger.status(1, "Charging")
        await settled(node)
        await api.aclose()
        await _crash(node)

    other = await start_node(node_id="gw-2")  # another gateway: not its session to close
    async with api_client_with(other, key) as api2:
        assert (await api2.get("/stations/CP-CRASH")).json()["connection"] == "Connected"
    await other.stop()

    restarted = await start_node(node_id="gw-1")
    await settled(restarted)
    async with api_client_with(restarted, key) as api3:
        assert (await api3.get("/stations/CP-CRASH")).json()["connection"] == "Disconnected"
        sheet = (await api3.get(f"/sites/{site['id']}/charge-points")).json()["items"]
        assert sheet[0]["status"] == "NotAvailable"
    last = list(restarted.store.events.get(station_id("CP-CRASH")))[-1]
    assert type(last).__name__ == "StationDisconnected"
    assert last.reason == "Gateway restarted"
