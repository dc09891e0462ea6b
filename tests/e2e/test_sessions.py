"""Charging sessions from real OCPP 1.6 transactions: authorization, energy, visibility, CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from ocpp.exceptions import PropertyConstraintViolationError

from cpms.aggregates.charging_session import session_id
from cpms.timestamps import to_iso
from tests.support import (
    access_group,
    api_client,
    commission,
    configure,
    connected,
    create_site,
    settled,
)

NOW = datetime.now(UTC).replace(microsecond=0)


def at(minutes: float, base: datetime = NOW) -> str:
    return to_iso(base + timedelta(minutes=minutes))


@pytest.fixture
async def world(start_node):
    """A site with station CP-1 (2 connectors) that lets the Staff group's cards charge."""
    node = await start_node()
    api = await api_client(node)
    site = await create_site(api)
    await commission(api, site["id"], "CP-1", evse_ids=["FR*ACM*E1*1", "FR*ACM*E1*2"])
    staff = await access_group(api, "Staff", {"04A1B2C3": "Alice's badge"})
    await access_group(api, "Visitors", {"0BADCAFE": "Visitor 7"})  # not authorized at CP-1
    await configure(api, "CP-1", staff)
    yield node, api, site["id"], staff
    await api.aclose()


async def _sessions(api, site_id: str, **params) -> list[dict]:
    response = await api.get(f"/sites/{site_id}/sessions", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_a_card_of_an_authorized_group_charges_and_its_session_is_listed(world):
    node, api, site_id, staff = world
    async with connected(node, "CP-1") as cp:
        assert await cp.authorize("04a1b2c3") == "Accepted"  # uids match case-insensitively
        started = await cp.start_transaction(2, "04a1b2c3", meter_start=1_000, timestamp=at(0))
        assert started.id_tag_info["status"] == "Accepted"
        await cp.meter(2, started.transaction_id, at(10), "3.5", unit="kWh")
        await settled(node)

        [active] = await _sessions(api, site_id)
        assert active["state"] == "Active"
        assert active["energy_wh"] == 2_500  # energy so far: 3500 Wh register - 1000 Wh start
        assert active["ended_at"] is None

        stopped = await cp.stop(
            started.transaction_id, 12_000, at(45), id_tag="04A1B2C3", reason="EVDisconnected"
        )
        assert stopped.id_tag_info["status"] == "Accepted"
        await settled(node)

    [done] = await _sessions(api, site_id)
    assert done["state"] == "Completed"
    assert (done["ocpp_id"], done["connector_id"], done["evse_id"]) == ("CP-1", 2, "FR*ACM*E1*2")
    assert done["started_at"] == at(0) and done["ended_at"] == at(45)
    assert done["energy_wh"] == 11_000
    assert done["duration_s"] == 45 * 60
    assert done["stop_reason"] == "EVDisconnected"
    assert done["authorization"] == {
        "method": "rfid",
        "card_uid": "04A1B2C3",
        "card_label": "Alice's badge",
        "access_group_id": staff,
        "access_group_name": "Staff",
        "emsp": None,
        "payment_reference": None,
    }
    one = await api.get(f"/sessions/{done['id']}")
    assert one.status_code == 200
    assert one.json() == done


@pytest.mark.parametrize("id_tag", ["FFFF0000", "0BADCAFE"], ids=["in-no-group", "group-not-authorized-here"])
async def test_an_unauthorized_card_is_rejected_and_its_offline_session_recorded_but_not_listed(
    world, id_tag
):
    node, api, site_id, _ = world
    async with connected(node, "CP-1") as cp:
        assert await cp.authorize(id_tag) == "Invalid"
        # The charger starts anyway (it was offline): it still gets a transaction id.
        started = await cp.start_transaction(1, id_tag, meter_start=0, timestamp=at(-30))
        assert started.id_tag_info["status"] == "Invalid"
        assert started.transaction_id > 0
        await cp.stop(started.transaction_id, 5_000, at(-5))
        await settled(node)
    assert await _sessions(api, site_id) == []
    hidden = str(session_id("CP-1", str(started.transaction_id)))
    assert (await api.get(f"/sessions/{hidden}")).status_code == 404
    recorded = [
        type(e).__name__ for e in node.store.events.get(session_id("CP-1", str(started.transaction_id)))
    ]
    assert recorded == ["TransactionStarted", "TransactionEnded"]


async def test_a_session_started_offline_yesterday_is_listed_at_yesterdays_time(world):
    node, api, site_id, _ = world
    yesterday = NOW - timedelta(days=1)
    async with connected(node, "CP-1") as cp:
        first = await cp.start_transaction(1, "04A1B2C3", meter_start=0, timestamp=at(0, yesterday))
        await cp.stop(first.transaction_id, 7_000, at(90, yesterday))
        today = await cp.start_transaction(1, "04A1B2C3", meter_start=7_000, timestamp=at(0))
        await settled(node)
    listed = await _sessions(api, site_id)
    assert [s["started_at"] for s in listed] == [at(0), at(0, yesterday)]  # newest first
    assert [s["state"] for s in listed] == ["Active", "Completed"]
    only_yesterday = await _sessions(api, site_id, **{"from": at(-60, yesterday), "to": at(-60)})
    assert [s["transaction_id"] for s in only_yesterday] == [str(first.transaction_id)]
    assert [s["transaction_id"] for s in await _sessions(api, site_id, state="Active")] == [
        str(today.transaction_id)
    ]


async def test_retried_start_and_stop_do_not_duplicate_sessions(world):
    node, api, site_id, _ = world
    async with connected(node, "CP-1") as cp:
        first = await cp.start_transaction(1, "04A1B2C3", meter_start=100, timestamp=at(0))
        again = await cp.start_transaction(1, "04A1B2C3", meter_start=100, timestamp=at(0))
        assert again.transaction_id == first.transaction_id
        other = await cp.start_transaction(2, "04A1B2C3", meter_start=100, timestamp=at(1))
        assert other.transaction_id != first.transaction_id
        await cp.stop(first.transaction_id, 900, at(20))
        await cp.stop(first.transaction_id, 950, at(25))  # a retry (or a confused charger)
        await settled(node)
    listed = {s["transaction_id"]: s for s in await _sessions(api, site_id)}
    assert len(listed) == 2
    assert listed[str(first.transaction_id)]["energy_wh"] == 800
    assert listed[str(first.transaction_id)]["ended_at"] == at(20)
    events = [type(e).__name__ for e in node.store.events.get(session_id("CP-1", str(first.transaction_id)))]
    assert events.count("TransactionEnded") == 1


async def test_transaction_ids_are_unique_across_stations_and_never_reused(world):
    node, api, site_id, _ = world
    await commission(api, site_id, "CP-2")
    seen = set()
    async with connected(node, "CP-1") as one, connected(node, "CP-2") as two:
        for n in range(3):
            for cp in (one, two):
                started = await cp.start_transaction(1, "04A1B2C3", meter_start=n, timestamp=at(n))
                assert started.transaction_id not in seen
                seen.add(started.transaction_id)
    assert len(seen) == 6


async def test_the_csv_export_has_the_same_rows_as_the_json_list(world):
    node, api, site_id, _ = world
    async with connected(node, "CP-1") as cp:
        for n in range(3):
            started = await cp.start_transaction(1, "04A1B2C3", meter_start=n * 1000, timestamp=at(n * 60))
            await cp.stop(started.transaction_id, n * 1000 + 1234, at(n * 60 + 30), reason="Local")
        await cp.start_transaction(2, "04A1B2C3", meter_start=0, timestamp=at(300))
        await settled(node)
    listed = await _sessions(api, site_id, state="Completed")
    response = await api.get(f"/sites/{site_id}/sessions.csv", params={"state": "Completed"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"), newline="")))
    assert rows[0].keys() == {
        "session_id",
        "site_id",
        "ocpp_id",
        "connector_id",
        "evse_id",
        "started_at",
        "ended_at",
        "duration_s",
        "energy_kwh",
        "state",
        "stop_reason",
        "authorization_method",
        "card_uid",
        "card_label",
        "access_group_id",
        "access_group_name",
        "roaming_partner",
        "payment_reference",
        "command_id",
    }
    assert [r["session_id"] for r in rows] == [s["id"] for s in listed]
    for row, session in zip(rows, listed, strict=True):
        assert row["started_at"] == session["started_at"]
        assert row["ended_at"] == session["ended_at"]
        assert float(row["energy_kwh"]) == session["energy_wh"] / 1000
        assert int(row["duration_s"]) == session["duration_s"]
        assert row["card_label"] == "Alice's badge"
        assert row["evse_id"] == "FR*ACM*E1*1"
        assert row["roaming_partner"] == ""


async def test_csv_cells_that_look_like_formulas_are_neutralised(world):
    node, api, site_id, staff = world
    await api.post(f"/access-groups/{staff}/cards", json={"uid": "C0FFEE01", "label": '=HYPERLINK("x")'})
    async with connected(node, "CP-1") as cp:
        started = await cp.start_transaction(1, "C0FFEE01", meter_start=0, timestamp=at(0))
        await cp.stop(started.transaction_id, 10, at(1))
        await settled(node)
    response = await api.get(f"/sites/{site_id}/sessions.csv")
    [row] = list(csv.DictReader(io.StringIO(response.text, newline="")))
    assert row["card_label"] == '\'=HYPERLINK("x")'


async def test_the_csv_export_streams_many_sessions(world):
    """Pages are read one after another; the whole export still arrives in order."""
    node, api, site_id, _ = world
    async with connected(node, "CP-1") as cp:
        for n in range(120):
            started = await cp.start_transaction(1, "04A1B2C3", meter_start=0, timestamp=at(n))
            await cp.stop(started.transaction_id, 10, at(n + 0.5))
        await settled(node)
    async with api.stream("GET", f"/sites/{site_id}/sessions.csv") as response:
        body = b"".join([chunk async for chunk in response.aiter_bytes()])
    rows = list(csv.DictReader(io.StringIO(body.decode(), newline="")))
    assert len(rows) == 120
    assert rows[0]["started_at"] == at(119)


@pytest.mark.parametrize(
    "query",
    [
        "from=yesterday",
        "to=2026-13-01T00:00:00Z",
        "state=Charging",
        "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
    ],
)
async def test_bad_session_filters_are_bad_requests(world, query):
    _, api, site_id, _ = world
    assert (await api.get(f"/sites/{site_id}/sessions?limit=0")).status_code == 400
    for path in (f"/sites/{site_id}/sessions", f"/sites/{site_id}/sessions.csv"):
        response = await api.get(f"{path}?{query}")
        assert response.status_code == 400, (path, response.text)
        assert response.json()["error"]["code"] == "bad_request"


async def test_another_organizations_sessions_are_not_found(world, start_node):
    node, api, site_id, _ = world
    async with connected(node, "CP-1") as cp:
        started = await cp.start_transaction(1, "04A1B2C3", meter_start=0, timestamp=at(0))
        await settled(node)
    [session] = await _sessions(api, site_id)
    async with await api_client(node, "Intruder") as other:
        assert (await other.get(f"/sites/{site_id}/sessions")).status_code == 404
        assert (await other.get(f"/sites/{site_id}/sessions.csv")).status_code == 404
        assert (await other.get(f"/sessions/{session['id']}")).status_code == 404
    assert started.transaction_id > 0


async def test_bad_meter_values_are_refused_and_change_nothing(world):
    node, api, site_id, _ = world
    async with connected(node, "CP-1") as cp:
        started = await cp.start_transaction(1, "04A1B2C3", meter_start=1000, timestamp=at(0))
        await cp.meter(1, started.transaction_id, at(1), "1500")
        with pytest.raises(PropertyConstraintViolationError):
            await cp.meter(1, started.transaction_id, at(2), "lots")
        with pytest.raises(PropertyConstraintViolationError):
            await cp.meter(1, started.transaction_id, at(3), "-5")
        with pytest.raises(PropertyConstraintViolationError):
            await cp.start_transaction(2, "04A1B2C3", meter_start=-1, timestamp=at(4))
        with pytest.raises(PropertyConstraintViolationError):
            await cp.stop(started.transaction_id, -10, at(5))
        await settled(node)
        [session] = await _sessions(api, site_id)
        assert session["energy_wh"] == 500
        assert session["state"] == "Active"
        # the connection keeps working after every refusal
        await cp.stop(started.transaction_id, 2000, at(6))
        await settled(node)
    assert (await _sessions(api, site_id))[0]["energy_wh"] == 1000


async def test_a_stop_for_an_unknown_transaction_is_accepted_and_records_nothing(world):
    node, _, _, _ = world
    async with connected(node, "CP-1") as cp:
        await cp.boot()  # the connection and boot are recorded before we look
        before = node.store.recorder.max_notification_id()
        result = await cp.stop(987654, 100, at(0))
        assert result.id_tag_info is None
        await cp.meter(1, 987654, at(0), "10")
        assert node.store.recorder.max_notification_id() == before


async def test_a_new_transaction_on_a_connector_supersedes_the_one_the_charger_left_open(world):
    node, api, site_id, _ = world
    async with connected(node, "CP-1") as cp:
        lost = await cp.start_transaction(1, "04A1B2C3", meter_start=1_000, timestamp=at(0))
        await cp.meter(1, lost.transaction_id, at(10), "3500")
        beside = await cp.start_transaction(2, "04A1B2C3", meter_start=0, timestamp=at(5))
        # The charger lost transaction `lost` (a reboot, say) and starts afresh on connector 1.
        new = await cp.start_transaction(1, "04A1B2C3", meter_start=3_600, timestamp=at(30))
        retried = await cp.start_transaction(1, "04A1B2C3", meter_start=3_600, timestamp=at(30))
        assert retried.transaction_id == new.transaction_id  # a retry supersedes nothing, itself least
        await settled(node)

        listed = {s["transaction_id"]: s for s in await _sessions(api, site_id)}
        superseded = listed[str(lost.transaction_id)]
        assert (superseded["state"], superseded["stop_reason"]) == ("Completed", "Superseded")
        assert superseded["ended_at"] == at(30)  # when the new transaction began
        assert (superseded["meter_stop_wh"], superseded["energy_wh"]) == (3_500, 2_500)  # its last reading
        assert superseded["duration_s"] == 30 * 60
        assert listed[str(new.transaction_id)]["state"] == "Active"
        assert listed[str(beside.transaction_id)]["state"] == "Active"  # another connector's
        assert (await api.get(f"/sessions/{superseded['id']}")).json() == superseded
        lost_id = session_id("CP-1", str(lost.transaction_id))
        events = list(node.store.events.get(lost_id))
        assert [type(e).__name__ for e in events] == [
            "TransactionStarted",
            "MeterValuesRecorded",
            "TransactionSuperseded",
        ]
        assert events[-1].superseded_by == str(new.transaction_id)

        # The charger finds the lost transaction and stops it late: answered as ever, changing nothing.
        reading = {"value": "3550", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
        late = await cp.stop(
            lost.transaction_id,
            3_550,
            at(25),
            id_tag="04A1B2C3",
            reason="PowerLoss",
            transaction_data=[{"timestamp": at(25), "sampledValue": [reading]}],
        )
        assert late.id_tag_info["status"] == "Accepted"
        await settled(node)
        assert len(list(node.store.events.get(lost_id))) == len(events)
        assert (await api.get(f"/sessions/{superseded['id']}")).json() == superseded

        # A session without a reading is superseded at its meter start.
        await cp.start_transaction(1, "04A1B2C3", meter_start=9_000, timestamp=at(60))
        await settled(node)
    listed = {s["transaction_id"]: s for s in await _sessions(api, site_id)}
    unread = listed[str(new.transaction_id)]
    assert (unread["state"], unread["ended_at"], unread["stop_reason"]) == ("Completed", at(60), "Superseded")
    assert (unread["meter_stop_wh"], unread["energy_wh"]) == (3_600, 0)
    response = await api.get(f"/sites/{site_id}/sessions.csv", params={"state": "Completed"})
    rows = list(csv.DictReader(io.StringIO(response.text, newline="")))
    assert [(r["session_id"], r["stop_reason"]) for r in rows] == [
        (unread["id"], "Superseded"),
        (superseded["id"], "Superseded"),
    ]
