"""Site state and the charge-point sheet follow real OCPP 1.6 chargers, end to end."""

from __future__ import annotations

from tests.support import (
    api_client,
    api_client_with,
    commission,
    connected,
    create_site,
    eventually,
    settled,
)


async def test_site_state_follows_chargers_through_a_charging_day(start_node):
    node = await start_node()
    api = await api_client(node)
    site = await create_site(api)
    site_id = site["id"]
    await commission(api, site_id, "CP-A", connectors=2, evse_ids=["FR*ACM*E1*1", "FR*ACM*E1*2"])
    await commission(api, site_id, "CP-B", connectors=1)

    async def state() -> str:
        response = await api.get(f"/sites/{site_id}")
        assert response.status_code == 200
        return response.json()["state"]

    async def sheet() -> dict[tuple[str, int], dict]:
        response = await api.get(f"/sites/{site_id}/charge-points")
        return {(cp["ocpp_id"], cp["connector_id"]): cp for cp in response.json()["items"]}

    assert await state() == "Unknown"
    assert {cp["status"] for cp in (await sheet()).values()} == {"Unknown"}

    async with connected(node, "CP-A") as a:
        await a.boot()
        await a.status(1, "Available")
        await a.status(2, "Available")
        await settled(node)
        assert await state() == "Available"
        rows = await sheet()
        assert rows["CP-A", 1]["status"] == "Available"
        assert rows["CP-A", 1]["evse_id"] == "FR*ACM*E1*1"
        assert rows["CP-B", 1]["status"] == "Unknown"  # commissioned, never connected

        await a.status(1, "Preparing")
        await a.status(2, "Charging")
        await settled(node)
        assert await state() == "Load"  # every charge point of every connected station in use

        async with connected(node, "CP-B") as b:
            await b.status(1, "Available")
            await settled(node)
            assert await state() == "Available"  # CP-B is connected and free

            await b.status(1, "SuspendedEV")
            await settled(node)
            assert await state() == "Load"

            await a.status(1, "Finishing")
            await a.status(1, "Available")
            await settled(node)
            assert await state() == "Available"

        async def b_gone() -> None:
            rows = await sheet()
            assert rows["CP-B", 1]["status"] == "NotAvailable"
            assert rows["CP-B", 1]["last_ocpp_status"] == "SuspendedEV"

        await eventually(b_gone)
        assert await state() == "Available"

    async def all_gone() -> None:
        rows = await sheet()
        assert {cp["status"] for cp in rows.values()} == {"NotAvailable"}
        assert rows["CP-A", 2]["last_ocpp_status"] == "Charging"
        assert await state() == "Unknown"

    await eventually(all_gone)
    stations = (await api.get("/stations", params={"site_id": site_id})).json()["items"]
    cp_a = next(s for s in stations if s["ocpp_id"] == "CP-A")
    assert cp_a["connection"] == "Disconnected"
    assert (cp_a["vendor"], cp_a["model"], cp_a["firmware_version"]) == ("Wallbox", "Pulsar", "6.1.2")
    assert cp_a["last_seen"] is not None


async def test_a_site_is_unknown_until_its_connected_stations_report_a_status(start_node):
    node = await start_node()
    api = await api_client(node)
    site = await create_site(api)
    await commission(api, site["id"], "CP-N", connectors=2)

    async def states() -> tuple[str, str]:
        overview = (await api.get(f"/sites/{site['id']}")).json()
        [listed] = [s for s in (await api.get("/sites")).json()["items"] if s["id"] == site["id"]]
        return overview["state"], listed["state"]

    async with connected(node, "CP-N") as n:
        await n.boot()
        await settled(node)
        # Connected and booted, no StatusNotification yet: nothing is known to be free.
        assert await states() == ("Unknown", "Unknown")
        assert (await api.get(f"/sites/{site['id']}")).json()["charge_points"] == {"Unknown": 2}

        await n.status(1, "Charging")
        await settled(node)
        assert await states() == ("Available", "Available")  # connector 2 is not known to be in use

        await n.status(2, "Preparing")
        await settled(node)
        assert await states() == ("Load", "Load")


async def test_connector_zero_describes_the_station_not_a_charge_point(start_node):
    node = await start_node()
    api = await api_client(node)
    site = await create_site(api)
    await commission(api, site["id"], "CP-Z", connectors=1)
    async with connected(node, "CP-Z") as z:
        await z.status(0, "Faulted")
        await z.status(1, "Charging")
        await settled(node)
        rows = (await api.get(f"/sites/{site['id']}/charge-points")).json()["items"]
        assert [(r["connector_id"], r["status"]) for r in rows] == [(1, "Charging")]
        assert (await api.get(f"/sites/{site['id']}")).json()["state"] == "Load"


async def test_a_status_queued_offline_does_not_overwrite_a_newer_one(start_node):
    node = await start_node()
    api = await api_client(node)
    site = await create_site(api)
    await commission(api, site["id"], "CP-Q", connectors=1)
    async with connected(node, "CP-Q") as q:
        await q.status(1, "Charging", timestamp="2026-11-23T10:00:00Z")
        await q.status(1, "Available", timestamp="2026-11-23T09:00:00Z")  # late delivery
        await settled(node)
        row = (await api.get(f"/sites/{site['id']}/charge-points")).json()["items"][0]
        assert row["status"] == "Charging"
        assert row["since"] == "2026-11-23T10:00:00.000Z"


async def test_state_and_positions_survive_a_restart(start_node):
    node = await start_node()
    api = await api_client(node)
    site = await create_site(api)
    await commission(api, site["id"], "CP-R", connectors=1)
    async with connected(node, "CP-R") as r:
        await r.boot()
        await r.status(1, "Charging")
        await settled(node)
    key = api.headers["Authorization"]
    await eventually(lambda: _expect_status(api, site["id"], "NotAvailable"))
    before = (await api.get(f"/sites/{site['id']}/charge-points")).json()
    position = node.projections.position
    await api.aclose()
    await node.stop()

    restarted = await start_node()
    assert restarted.projections.position == position  # resumed, nothing folded twice
    async with api_client_with(restarted, key) as again:
        assert (await again.get(f"/sites/{site['id']}/charge-points")).json() == before
        async with connected(restarted, "CP-R") as r:
            await r.status(1, "Available")
            await settled(restarted)
            assert (await again.get(f"/sites/{site['id']}")).json()["state"] == "Available"


async def _expect_status(api, site_id: str, status: str) -> None:
    rows = (await api.get(f"/sites/{site_id}/charge-points")).json()["items"]
    assert {r["status"] for r in rows} == {status}
