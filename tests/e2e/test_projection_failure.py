"""A projection whose fold breaks stops alone: the gateway, the other read models and the API
writes of every organization go on, the failure is reported, and it resumes once it can fold."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx

from cpms.aggregates.station import Station, station_id
from cpms.projections.charge_points import ChargePointsProjection
from tests.e2e.test_cli import _cpms
from tests.support import (
    access_group,
    api_client,
    api_client_with,
    commission,
    configure,
    connected,
    create_site,
    eventually,
    operator_client,
)

NOW = "2026-03-02T08:00:00Z"


def break_the_sheet_for(monkeypatch: Any, ocpp_id: str) -> None:
    """The charge-point sheet cannot fold this station's StatusNotifications (a bug, say)."""
    broken = station_id(ocpp_id)
    fold = ChargePointsProjection.apply

    def apply(self: ChargePointsProjection, event: Any, tx: Any) -> None:
        if isinstance(event, Station.StatusNotification) and event.originator_id == broken:
            raise RuntimeError("a fold broken on purpose")
        fold(self, event, tx)

    monkeypatch.setattr(ChargePointsProjection, "apply", apply)


async def health_of(node: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{node.http_port}", timeout=10) as client:
        return await client.get("/health")


async def test_a_broken_projection_stops_alone_and_resumes_once_it_can_fold(
    start_node, database_url, monkeypatch
):
    node = await start_node()
    api_a, api_b = await api_client(node, "Org A"), await api_client(node, "Org B")
    site_a, site_b = await create_site(api_a), await create_site(api_b)
    await commission(api_a, site_a["id"], "CP-BROKEN", connectors=1)
    await commission(api_b, site_b["id"], "CP-B", connectors=1)
    group = await access_group(api_b, "Staff", {"CAFE01": "Alice"})
    await configure(api_b, "CP-B", group)
    break_the_sheet_for(monkeypatch, "CP-BROKEN")

    async with connected(node, "CP-BROKEN") as broken, connected(node, "CP-B") as good:
        await broken.status(1, "Charging", NOW)  # acked and stored; the sheet cannot fold it

        forbidden = await api_a.get("/projections")  # every organization's state: the operator's
        assert (forbidden.status_code, forbidden.json()["error"]["code"]) == (403, "forbidden")
        operator = operator_client(node)

        async def reported() -> None:
            items = (await operator.get("/projections")).json()["items"]
            sheet = next(item for item in items if item["name"] == "charge_points")
            assert sheet["state"] == "failing", sheet
            assert sheet["failure"]["event_type"] == "StatusNotification"
            assert sheet["failure"]["error_type"] == "RuntimeError"
            assert sheet["failure"]["error"] == "RuntimeError: a fold broken on purpose"
            assert {item["state"] for item in items if item["name"] != "charge_points"} == {"live"}
            health = await health_of(node)
            assert health.status_code == 200
            assert health.json()["status"] == "degraded"
            assert health.json()["failing_projections"] == ["charge_points"]

        await eventually(reported)
        status = await asyncio.to_thread(_cpms, "projections", "status", database_url=database_url)
        assert status.returncode == 1  # scripts and monitoring see it
        failing = [line for line in status.stdout.splitlines() if line.startswith("charge_points")]
        assert "failing: stopped at position" in failing[0]
        assert "(StatusNotification)" in failing[0] and "RuntimeError: a fold broken on purpose" in failing[0]

        # The gateway, the other read models and both organizations' writes go on.
        await good.boot()
        await good.status(1, "Preparing", NOW)
        started = await good.start_transaction(1, "CAFE01", 1000, NOW)
        await good.stop(started.transaction_id, 4000, "2026-03-02T09:00:00Z")
        for api, name in ((api_a, "Annex A"), (api_b, "Annex B")):
            response = await api.post(
                "/stations",
                json={"ocpp_id": f"CP-NEW-{name[-1]}", "serial_number": "SN", "site": _site(name)},
            )
            assert response.status_code == 201, response.text  # the sheet folds it, but is not read
        renamed = await api_a.patch(f"/sites/{site_a['id']}", json={"name": "Depot North"})
        assert renamed.status_code == 200, renamed.text
        group_b = await api_b.post("/access-groups", json={"name": "Visitors"})
        assert group_b.status_code == 201, group_b.text

        async def other_read_models_follow() -> None:
            station = (await api_b.get("/stations/CP-B")).json()
            assert station["vendor"] == "Wallbox"
            sessions = (await api_b.get(f"/sites/{site_b['id']}/sessions")).json()["items"]
            assert [(s["state"], s["energy_wh"]) for s in sessions] == [("Completed", 3000.0)]

        await eventually(other_read_models_follow)
        sheet = await api_a.get(f"/sites/{site_a['id']}/charge-points")
        assert sheet.status_code == 200  # stale, but served
        assert sheet.json()["items"][0]["status"] != "Charging"
        key = api_a.headers["Authorization"]

    # A restart is not held back by the failing projection.
    await node.stop()
    restarted = await start_node()
    async with api_client_with(restarted, key) as api:
        assert (await api.get(f"/sites/{site_a['id']}")).status_code == 200
        assert (await health_of(restarted)).json()["failing_projections"] == ["charge_points"]

        monkeypatch.undo()  # the fix is deployed

        async def resumed() -> None:
            health = await health_of(restarted)
            assert health.json()["status"] == "ok", health.json()
            rows = (await api.get(f"/sites/{site_a['id']}/charge-points")).json()["items"]
            assert [(r["ocpp_id"], r["last_ocpp_status"]) for r in rows] == [("CP-BROKEN", "Charging")]

        await eventually(resumed, timeout=20)


def _site(name: str) -> dict[str, Any]:
    address = {"street": "3 Rue Basse", "postal_code": "69001", "city": "Lyon", "country": "FR"}
    return {"name": name, "address": address, "provider": "EDF"}


async def test_an_event_stored_before_connector_ranges_were_checked_folds_to_nothing(start_node):
    node = await start_node()
    api = await api_client(node)
    site = await create_site(api)
    await commission(api, site["id"], "CP-OLD", connectors=2)
    for connector_id in (2**63, 2**31, 7):  # what chargers could get stored before the door checked
        station = node.store.repository.get(station_id("CP-OLD"))
        station._status_notified(
            connector_id=connector_id,
            ocpp_status="Charging",
            error_code="NoError",
            info=None,
            vendor_error_code=None,
            vendor_id=None,
            occurred_at=datetime.now(UTC),
        )
        await asyncio.to_thread(node.store.save, station)  # not on the node's event loop

    async with connected(node, "CP-OLD") as charger:  # the writer's cached copy is stale: no matter
        await charger.status(1, "Charging", NOW)

        async def folded() -> None:
            rows = (await api.get(f"/sites/{site['id']}/charge-points")).json()["items"]
            assert [(r["connector_id"], r["status"]) for r in rows] == [(1, "Charging"), (2, "Unknown")]
            assert (await health_of(node)).json()["status"] == "ok"

        await eventually(folded)
