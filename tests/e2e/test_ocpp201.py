"""OCPP 2.0.1 stations end to end: the same site state, sheet, sessions and CSV as 1.6."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import websockets

from cpms.aggregates.charging_session import session_id
from cpms.timestamps import to_iso
from tests.support import access_group, api_client, commission, configure, create_site, eventually, settled
from tests.support201 import connected201

NOW = datetime.now(UTC).replace(microsecond=0)


def at(minutes: float, base: datetime = NOW) -> str:
    return to_iso(base + timedelta(minutes=minutes))


@pytest.fixture
async def world(start_node):
    node = await start_node()
    api = await api_client(node)
    site = await create_site(api)
    await commission(api, site["id"], "CS-201", evse_ids=["DE*ACM*E9*1", "DE*ACM*E9*2"])
    staff = await access_group(api, "Staff", {"A1B2C3D4": "Bob's badge"})
    await configure(api, "CS-201", staff)
    yield node, api, site["id"], staff
    await api.aclose()


async def _sheet(api, site_id):
    rows = (await api.get(f"/sites/{site_id}/charge-points")).json()["items"]
    return {r["connector_id"]: r["status"] for r in rows}


async def _state(api, site_id):
    return (await api.get(f"/sites/{site_id}")).json()["state"]


async def _sessions(api, site_id, **params):
    response = await api.get(f"/sites/{site_id}/sessions", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_site_state_sheet_and_session_follow_a_201_station(world):
    node, api, site_id, staff = world
    async with connected201(node, "CS-201") as cs:
        assert (await cs.boot()).status == "Accepted"
        await cs.status(1, "Available", at(0))
        await cs.status(2, "Available", at(0))
        await settled(node)
        assert await _sheet(api, site_id) == {1: "Available", 2: "Available"}
        assert await _state(api, site_id) == "Available"

        await cs.status(1, "Occupied", at(1))  # cable in, no transaction yet
        await settled(node)
        assert (await _sheet(api, site_id))[1] == "Preparing"

        await cs.transaction(
            "Started",
            "tx-1",
            at(1),
            "CablePluggedIn",
            evse_id=1,
            charging_state="EVConnected",
            meter_wh=10_000,
        )
        answer = await cs.transaction("Updated", "tx-1", at(2), "Authorized", token="a1b2c3d4")
        assert answer.id_token_info["status"] == "Accepted"
        await settled(node)
        assert (await _sheet(api, site_id))[1] == "Preparing"  # no energy yet

        await cs.transaction("Updated", "tx-1", at(3), "ChargingStateChanged", charging_state="Charging")
        await cs.status(2, "Occupied", at(4))
        await cs.transaction(
            "Started",
            "tx-2",
            at(4),
            "Authorized",
            evse_id=2,
            token="A1B2C3D4",
            charging_state="SuspendedEV",
            meter_wh=0,
        )
        await settled(node)
        assert await _sheet(api, site_id) == {1: "Charging", 2: "SuspendedEV"}
        assert await _state(api, site_id) == "Load"

        await cs.transaction("Updated", "tx-1", at(30), "MeterValuePeriodic", meter_wh=12_500)
        await settled(node)
        active = {s["transaction_id"]: s for s in await _sessions(api, site_id)}["tx-1"]
        assert active["state"] == "Active" and active["energy_wh"] == 2_500

        await cs.transaction("Updated", "tx-1", at(40), "StopAuthorized", token="A1B2C3D4")
        await settled(node)
        assert (await _sheet(api, site_id))[1] == "Finishing"
        await cs.transaction(
            "Ended",
            "tx-1",
            at(41),
            "EVCommunicationLost",
            stopped_reason="EVDisconnected",
            charging_state="Idle",
            meter_wh=14_000,
        )
        await settled(node)
        assert (await _sheet(api, site_id))[1] == "Finishing"  # ended, still occupied
        await cs.status(1, "Available", at(42))
        await settled(node)
        assert await _sheet(api, site_id) == {1: "Available", 2: "SuspendedEV"}
        assert await _state(api, site_id) == "Available"

    done = {s["transaction_id"]: s for s in await _sessions(api, site_id)}["tx-1"]
    assert done["state"] == "Completed"
    assert (done["started_at"], done["ended_at"]) == (at(1), at(41))
    assert done["energy_wh"] == 4_000
    assert done["duration_s"] == 40 * 60
    assert (done["connector_id"], done["evse_id"], done["stop_reason"]) == (
        1,
        "DE*ACM*E9*1",
        "EVDisconnected",
    )
    assert done["authorization"]["card_label"] == "Bob's badge"
    assert done["authorization"]["access_group_id"] == staff

    async def all_gone() -> None:
        assert set((await _sheet(api, site_id)).values()) == {"NotAvailable"}

    await eventually(all_gone)
    csv_rows = list(csv.DictReader(io.StringIO((await api.get(f"/sites/{site_id}/sessions.csv")).text)))
    assert [r["session_id"] for r in csv_rows] == [s["id"] for s in await _sessions(api, site_id)]


async def test_transaction_events_out_of_order_still_build_the_right_session(world):
    node, api, site_id, _ = world
    async with connected201(node, "CS-201") as cs:
        await cs.transaction(
            "Ended", "tx-9", at(50), "EVDeparted", seq_no=3, stopped_reason="Local", meter_wh=9_000
        )
        await cs.transaction(
            "Updated",
            "tx-9",
            at(20),
            "ChargingStateChanged",
            seq_no=1,
            charging_state="Charging",
            meter_wh=3_000,
        )
        await cs.transaction(
            "Started", "tx-9", at(0), "Authorized", seq_no=0, evse_id=2, token="A1B2C3D4", meter_wh=1_000
        )
        await cs.transaction("Updated", "tx-9", at(30), "MeterValuePeriodic", seq_no=2, meter_wh=5_000)
        await settled(node)
        before = len(list(node.store.events.get(session_id("CS-201", "tx-9"))))
        await cs.transaction("Updated", "tx-9", at(30), "MeterValuePeriodic", seq_no=2, meter_wh=5_000)
        await settled(node)
        assert len(list(node.store.events.get(session_id("CS-201", "tx-9")))) == before  # a retry
    [session] = await _sessions(api, site_id)
    assert session["transaction_id"] == "tx-9"
    assert (session["started_at"], session["ended_at"], session["state"]) == (at(0), at(50), "Completed")
    assert session["meter_start_wh"] == 1_000
    assert session["energy_wh"] == 8_000
    assert session["authorization"]["method"] == "rfid"


async def test_a_session_queued_offline_lands_at_its_true_time(world):
    node, api, site_id, _ = world
    yesterday = NOW - timedelta(days=1)
    async with connected201(node, "CS-201") as cs:
        await cs.transaction(
            "Started",
            "tx-off",
            at(0, yesterday),
            "Authorized",
            evse_id=1,
            token="A1B2C3D4",
            meter_wh=500,
            offline=True,
        )
        await cs.transaction(
            "Ended",
            "tx-off",
            at(60, yesterday),
            "StopAuthorized",
            meter_wh=2_500,
            stopped_reason="Local",
            offline=True,
        )
        await settled(node)
    [session] = await _sessions(api, site_id, **{"from": at(-120, yesterday), "to": at(-600)})
    assert (session["started_at"], session["ended_at"]) == (at(0, yesterday), at(60, yesterday))
    assert session["energy_wh"] == 2_000


async def test_an_unknown_token_is_unknown_and_its_session_recorded_but_not_listed(world):
    node, api, site_id, _ = world
    async with connected201(node, "CS-201") as cs:
        assert await cs.authorize("DEADBEEF") == "Unknown"
        answer = await cs.transaction(
            "Started", "tx-x", at(0), "Authorized", evse_id=1, token="DEADBEEF", meter_wh=0
        )
        assert answer.id_token_info["status"] == "Unknown"
        await settled(node)
    assert await _sessions(api, site_id) == []
    names = [type(e).__name__ for e in node.store.events.get(session_id("CS-201", "tx-x"))]
    assert names[0] == "TransactionStarted"


async def test_a_station_preferring_201_gets_it_and_one_offering_16_only_gets_16(world):
    node, _, _, _ = world
    url = f"ws://127.0.0.1:{node.ocpp_port}/ocpp/CS-201"
    async with websockets.connect(url, subprotocols=["ocpp1.6", "ocpp2.0.1"]) as ws:
        assert ws.subprotocol == "ocpp2.0.1"
    async with websockets.connect(url, subprotocols=["ocpp1.6"]) as ws:
        assert ws.subprotocol == "ocpp1.6"


async def _exchange(ws, frame) -> list:
    await ws.send(frame if isinstance(frame, str) else json.dumps(frame))
    return json.loads(await asyncio.wait_for(ws.recv(), 5))


async def test_malformed_201_frames_get_the_201_callerror_codes(world):
    node, _, _, _ = world
    url = f"ws://127.0.0.1:{node.ocpp_port}/ocpp/CS-201"
    async with websockets.connect(url, subprotocols=["ocpp2.0.1"]) as ws:
        assert (await _exchange(ws, "{{nope"))[:3] == [4, "-1", "FormatViolation"]
        assert (await _exchange(ws, [2, "a", "MakeCoffee", {}]))[:3] == [4, "a", "NotImplemented"]
        assert (await _exchange(ws, [2, "b", "DataTransfer", {"vendorId": "x"}]))[:3] == [
            4,
            "b",
            "NotSupported",
        ]
        bad_status = {"timestamp": at(0), "connectorStatus": "Occupied", "evseId": "one", "connectorId": 1}
        assert (await _exchange(ws, [2, "c", "StatusNotification", bad_status]))[:3] == [
            4,
            "c",
            "TypeConstraintViolation",
        ]
        bad_meter = {
            "eventType": "Started",
            "timestamp": at(0),
            "triggerReason": "Authorized",
            "seqNo": 0,
            "transactionInfo": {"transactionId": "t"},
            "evse": {"id": 1},
            "meterValue": [{"timestamp": at(0), "sampledValue": [{"value": -5}]}],
        }
        assert (await _exchange(ws, [2, "d", "TransactionEvent", bad_meter]))[:3] == [
            4,
            "d",
            "PropertyConstraintViolation",
        ]
        reply = await _exchange(ws, [2, "e", "Heartbeat", {}])
        assert reply[:2] == [3, "e"]


async def test_an_ocpp21_station_is_served_and_unknown_actions_are_answered(world):
    from ocpp.v21 import ChargePoint as ChargePoint21
    from ocpp.v21 import call as call21

    node, api, site_id, _ = world
    url = f"ws://127.0.0.1:{node.ocpp_port}/ocpp/CS-201"
    async with websockets.connect(url, subprotocols=["ocpp2.1"]) as ws:
        assert ws.subprotocol == "ocpp2.1"
        assert (await _exchange(ws, [2, "u", "NoSuchAction", {}]))[:3] == [4, "u", "NotImplemented"]
        station = ChargePoint21("CS-201", ws)
        task = asyncio.create_task(station.start())
        try:
            boot = await station.call(
                call21.BootNotification(
                    charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp"
                ),
                suppress=False,
            )
            assert boot.status == "Accepted"
            await station.call(
                call21.StatusNotification(
                    connector_id=1, connector_status="Occupied", evse_id=1, timestamp=at(0)
                ),
                suppress=False,
            )
            await station.call(
                call21.TransactionEvent(
                    event_type="Started",
                    seq_no=0,
                    timestamp=at(0),
                    trigger_reason="Authorized",
                    transaction_info={"transaction_id": "t21", "charging_state": "Charging"},
                    id_token={"id_token": "A1B2C3D4", "type": "ISO14443"},
                    evse={"id": 1},
                ),
                suppress=False,
            )
            await settled(node)
            assert (await _sheet(api, site_id))[1] == "Charging"
            assert [s["transaction_id"] for s in await _sessions(api, site_id)] == ["t21"]
        finally:
            task.cancel()


async def test_a_new_transaction_on_an_evse_supersedes_the_one_the_station_left_open(world):
    node, api, site_id, _ = world
    async with connected201(node, "CS-201") as cs:
        await cs.transaction(
            "Started", "tx-a", at(0), "Authorized", evse_id=1, token="A1B2C3D4", meter_wh=10_000
        )
        await cs.transaction("Updated", "tx-a", at(10), "MeterValuePeriodic", meter_wh=12_000)
        await cs.transaction("Started", "tx-2", at(5), "Authorized", evse_id=2, token="A1B2C3D4", meter_wh=0)
        # The station lost tx-a and begins tx-b on the same EVSE.
        await cs.transaction(
            "Started", "tx-b", at(20), "Authorized", evse_id=1, token="A1B2C3D4", meter_wh=12_500
        )
        retried = cs.seq - 1
        await cs.transaction(
            "Started",
            "tx-b",
            at(20),
            "Authorized",
            seq_no=retried,
            evse_id=1,
            token="A1B2C3D4",
            meter_wh=12_500,
        )
        # An older transaction of EVSE 1 reported late supersedes nothing: tx-b began after it.
        await cs.transaction(
            "Started", "tx-old", at(-60), "Authorized", evse_id=1, token="A1B2C3D4", meter_wh=0
        )
        await settled(node)

        listed = {s["transaction_id"]: s for s in await _sessions(api, site_id)}
        superseded = listed["tx-a"]
        assert (superseded["state"], superseded["stop_reason"]) == ("Completed", "Superseded")
        assert (superseded["ended_at"], superseded["meter_stop_wh"]) == (at(20), 12_000)
        assert superseded["energy_wh"] == 2_000
        assert {t: listed[t]["state"] for t in ("tx-b", "tx-2", "tx-old")} == dict.fromkeys(
            ("tx-b", "tx-2", "tx-old"), "Active"
        )
        [event] = [
            e
            for e in node.store.events.get(session_id("CS-201", "tx-a"))
            if type(e).__name__ == "TransactionSuperseded"
        ]
        assert event.superseded_by == "tx-b"

        # Its Ended report arrives after all: answered as ever, the session ended once.
        answer = await cs.transaction(
            "Ended",
            "tx-a",
            at(15),
            "StopAuthorized",
            token="A1B2C3D4",
            stopped_reason="Local",
            meter_wh=12_100,
        )
        assert answer.id_token_info["status"] == "Accepted"
        await settled(node)
        names = [type(e).__name__ for e in node.store.events.get(session_id("CS-201", "tx-a"))]
        assert names.count("TransactionSuperseded") == 1 and "TransactionEnded" not in names
    done = {s["transaction_id"]: s for s in await _sessions(api, site_id)}["tx-a"]
    assert (done["ended_at"], done["stop_reason"], done["energy_wh"]) == (at(20), "Superseded", 2_000)
