"""Ranges at the door: a charger's out-of-range numbers and deep nesting are refused with the
protocol's CALLERROR, nothing of them is stored, and no other charger or organization notices.

Each scenario sends the frames that once froze every organization (issue 7) over a raw websocket
of one organization's station, while another organization's charger (the `ocpp` package's
ChargePoint) and API keep working after every frame; then the node restarts on the same database.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime

import websockets

from tests.support import (
    api_client,
    api_client_with,
    commission,
    connected,
    create_site,
    settled,
)

NOW = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
BIG = "99999999999999999999"  # beyond 64 bits
INT64_OVER = str(2**63)
INT32_OVER = str(2**31)


def status16(unique_id: str, connector: str) -> str:
    return (
        f'[2,"{unique_id}","StatusNotification",'
        f'{{"connectorId":{connector},"errorCode":"NoError","status":"Charging"}}]'
    )


def start16(unique_id: str, *, connector: str = "1", meter: str = "0", reservation: str | None = None) -> str:
    extra = f',"reservationId":{reservation}' if reservation is not None else ""
    return (
        f'[2,"{unique_id}","StartTransaction",{{"connectorId":{connector},"idTag":"04A1B2C3",'
        f'"meterStart":{meter},"timestamp":"{NOW}"{extra}}}]'
    )


def meter16(
    unique_id: str, *, connector: str = "1", transaction: str | None = None, value: str = "10"
) -> str:
    tx = f',"transactionId":{transaction}' if transaction is not None else ""
    return (
        f'[2,"{unique_id}","MeterValues",{{"connectorId":{connector}{tx},'
        f'"meterValue":[{{"timestamp":"{NOW}","sampledValue":[{{"value":"{value}"}}]}}]}}]'
    )


def stop16(unique_id: str, *, transaction: str, meter: str = "100") -> str:
    return (
        f'[2,"{unique_id}","StopTransaction",'
        f'{{"transactionId":{transaction},"meterStop":{meter},"timestamp":"{NOW}"}}]'
    )


DEEP = "[" * 3000 + "]" * 3000  # under 64 KiB


def deep_in(unique_id: str, levels: int = 40) -> str:
    return f'[2,"{unique_id}","Heartbeat",{{"x":' + "[" * levels + "]" * levels + "}]"


# (frame, CALLERROR code, message id): 1.6 spells FormatViolation "FormationViolation".
FRAMES_16 = [
    (status16("s1", INT64_OVER), "TypeConstraintViolation", "s1"),
    (status16("s2", BIG), "TypeConstraintViolation", "s2"),
    (status16("s3", "1e999"), "TypeConstraintViolation", "s3"),
    (status16("s4", INT32_OVER), "PropertyConstraintViolation", "s4"),
    (status16("s5", "7"), "PropertyConstraintViolation", "s5"),
    (status16("s6", str(2**63 - 1)), "PropertyConstraintViolation", "s6"),
    (start16("t1", meter=str(2**70)), "TypeConstraintViolation", "t1"),
    (start16("t2", meter=str(10**13)), "PropertyConstraintViolation", "t2"),
    (start16("t3", connector="3"), "PropertyConstraintViolation", "t3"),
    (start16("t4", connector="0"), "PropertyConstraintViolation", "t4"),
    (start16("t5", reservation=str(2**40)), "PropertyConstraintViolation", "t5"),
    (meter16("m1", connector="5"), "PropertyConstraintViolation", "m1"),
    (meter16("m2", transaction=INT32_OVER), "PropertyConstraintViolation", "m2"),
    (meter16("m3", transaction=BIG), "TypeConstraintViolation", "m3"),
    (meter16("m4", transaction="TX", value="1e999"), "PropertyConstraintViolation", "m4"),
    (meter16("m5", transaction="TX", value="1e13"), "PropertyConstraintViolation", "m5"),
    (stop16("p1", transaction=INT32_OVER), "PropertyConstraintViolation", "p1"),
    (stop16("p2", transaction="TX", meter=str(2**64 - 1)), "TypeConstraintViolation", "p2"),
    (stop16("p3", transaction="TX", meter=str(10**13)), "PropertyConstraintViolation", "p3"),
    (DEEP, "FormationViolation", "-1"),
    (deep_in("d1"), "FormationViolation", "d1"),
    ('[2,"n1","StatusNotification",{"connectorId":NaN,"errorCode":"NoError","status":"Charging"}]',
     "FormationViolation", "-1"),
]  # fmt: skip


def status201(unique_id: str, *, evse: str = "1", connector: str = "1") -> str:
    return (
        f'[2,"{unique_id}","StatusNotification",{{"timestamp":"{NOW}","connectorStatus":"Occupied",'
        f'"evseId":{evse},"connectorId":{connector}}}]'
    )


def transaction201(
    unique_id: str, *, seq: str = "0", evse: str = "1", value: str = "100", multiplier: str = "0"
) -> str:
    sampled = (
        f'{{"value":{value},"measurand":"Energy.Active.Import.Register",'
        f'"unitOfMeasure":{{"unit":"Wh","multiplier":{multiplier}}}}}'
    )
    return (
        f'[2,"{unique_id}","TransactionEvent",{{"eventType":"Started","timestamp":"{NOW}",'
        f'"triggerReason":"CablePluggedIn","seqNo":{seq},"transactionInfo":{{"transactionId":"tx-door"}},'
        f'"evse":{{"id":{evse},"connectorId":1}},'
        f'"meterValue":[{{"timestamp":"{NOW}","sampledValue":[{sampled}]}}]}}]'
    )


def meter201(unique_id: str, *, evse: str) -> str:
    return (
        f'[2,"{unique_id}","MeterValues",{{"evseId":{evse},"meterValue":[{{"timestamp":"{NOW}",'
        f'"sampledValue":[{{"value":5}}]}}]}}]'
    )


FRAMES_201 = [
    (status201("s1", evse="3"), "PropertyConstraintViolation", "s1"),
    (status201("s2", evse=INT32_OVER), "PropertyConstraintViolation", "s2"),
    (status201("s3", evse=INT64_OVER), "TypeConstraintViolation", "s3"),
    (status201("s4", evse=BIG), "TypeConstraintViolation", "s4"),
    (status201("s5", connector="9"), "PropertyConstraintViolation", "s5"),
    (transaction201("t1", seq=INT32_OVER), "PropertyConstraintViolation", "t1"),
    (transaction201("t2", seq="-1"), "PropertyConstraintViolation", "t2"),
    (transaction201("t3", evse="5"), "PropertyConstraintViolation", "t3"),
    (transaction201("t4", value="1e999"), "TypeConstraintViolation", "t4"),
    (transaction201("t5", value="1e20"), "PropertyConstraintViolation", "t5"),
    (transaction201("t6", value=BIG), "TypeConstraintViolation", "t6"),
    (transaction201("t7", multiplier=str(2**62)), "PropertyConstraintViolation", "t7"),
    (transaction201("t8", multiplier="10"), "PropertyConstraintViolation", "t8"),
    (transaction201("t9", value="NaN"), "FormatViolation", "-1"),
    (meter201("m1", evse="9"), "PropertyConstraintViolation", "m1"),
    (DEEP, "FormatViolation", "-1"),
    (deep_in("d1"), "FormatViolation", "d1"),
]


async def _head(node) -> int:
    return await asyncio.to_thread(node.store.recorder.max_notification_id)


async def _exchange(ws, frame: str) -> list:
    await ws.send(frame)
    return json.loads(await asyncio.wait_for(ws.recv(), 5))


async def _world(start_node):
    """Organization A's station takes the bad frames; organization B's charger and API watch."""
    node = await start_node()
    hostile = await api_client(node, "Hostile Org")
    hostile_site = await create_site(hostile, "Exposed")
    await commission(hostile, hostile_site["id"], "CP-DOOR", connectors=2)
    await commission(hostile, hostile_site["id"], "CS-DOOR", connectors=2)
    honest = await api_client(node, "Honest Org")
    honest_site = await create_site(honest, "Depot")
    await commission(honest, honest_site["id"], "CP-HONEST", connectors=1)
    return node, hostile, hostile_site["id"], honest, honest_site["id"]


async def _refused_and_nothing_stored(node, ws, frame: str, code: str, unique_id: str) -> None:
    head = await _head(node)
    reply = await _exchange(ws, frame)
    assert reply[:3] == [4, unique_id, code], (frame[:120], reply)
    assert await _head(node) == head, f"{frame[:120]} stored something"


async def _others_served(node, honest, charger, n: int) -> None:
    """The other organization's charger is acked and its API writes answer at once."""
    await charger.status(1, "Charging" if n % 2 else "Available")
    created = await honest.post("/access-groups", json={"name": f"Group {n}"})
    assert created.status_code == 201, created.text


async def _sheet(api, site_id: str) -> dict:
    response = await api.get(f"/sites/{site_id}/charge-points")
    assert response.status_code == 200, response.text
    return {(r["ocpp_id"], r["connector_id"]): r["status"] for r in response.json()["items"]}


async def _restart_and_read(node, start_node, hostile, hostile_site, honest, honest_site) -> None:
    """A new node on the same database starts, folds the log and serves what was accepted."""
    keys = (hostile.headers["Authorization"], honest.headers["Authorization"])
    await hostile.aclose()
    await honest.aclose()
    await node.stop()
    again = await start_node()
    await settled(again)
    async with api_client_with(again, keys[0]) as hostile2, api_client_with(again, keys[1]) as honest2:
        assert set(await _sheet(hostile2, hostile_site)) == {
            ("CP-DOOR", 1),
            ("CP-DOOR", 2),
            ("CS-DOOR", 1),
            ("CS-DOOR", 2),
        }
        assert await _sheet(honest2, honest_site) == {("CP-HONEST", 1): "NotAvailable"}
        async with connected(again, "CP-HONEST") as charger:
            await charger.status(1, "Available")
            await settled(again)
        assert (await honest2.get(f"/sites/{honest_site}")).status_code == 200


async def test_a_16_charger_sending_out_of_range_frames_gets_callerrors_and_stores_nothing(start_node):
    node, hostile, hostile_site, honest, honest_site = await _world(start_node)
    url = f"ws://127.0.0.1:{node.ocpp_port}/ocpp/CP-DOOR"
    async with (
        connected(node, "CP-HONEST") as charger,
        websockets.connect(url, subprotocols=["ocpp1.6"]) as ws,
    ):
        started = await _exchange(ws, start16("ok1"))
        assert started[:2] == [3, "ok1"] and started[2]["transactionId"] > 0
        transaction = str(started[2]["transactionId"])
        for n, (frame, code, unique_id) in enumerate(FRAMES_16):
            await _refused_and_nothing_stored(node, ws, frame.replace("TX", transaction), code, unique_id)
            await _others_served(node, honest, charger, n)
        # the refusing connection still serves its station: the edges of the ranges are accepted
        for unique_id, frame in [
            ("ok2", status16("ok2", "2")),
            ("ok3", status16("ok3", "0")),
            ("ok4", meter16("ok4", connector="0")),
            ("ok5", stop16("ok5", transaction=transaction, meter=str(10**12))),
        ]:
            assert (await _exchange(ws, frame))[:2] == [3, unique_id]
        await settled(node)
        sheet = await _sheet(hostile, hostile_site)
        assert sheet[("CP-DOOR", 2)] == "Charging"
        assert {key for key in sheet if key[0] == "CP-DOOR"} == {("CP-DOOR", 1), ("CP-DOOR", 2)}
        last = "Charging" if (len(FRAMES_16) - 1) % 2 else "Available"
        assert (await _sheet(honest, honest_site))[("CP-HONEST", 1)] == last
    await _restart_and_read(node, start_node, hostile, hostile_site, honest, honest_site)


async def test_a_201_station_sending_out_of_range_frames_gets_callerrors_and_stores_nothing(start_node):
    node, hostile, hostile_site, honest, honest_site = await _world(start_node)
    url = f"ws://127.0.0.1:{node.ocpp_port}/ocpp/CS-DOOR"
    async with (
        connected(node, "CP-HONEST") as charger,
        websockets.connect(url, subprotocols=["ocpp2.0.1"]) as ws,
    ):
        assert ws.subprotocol == "ocpp2.0.1"
        # an answer means the connection is recorded: from here on the station stores nothing
        assert (await _exchange(ws, '[2,"hb","Heartbeat",{}]'))[:2] == [3, "hb"]
        for n, (frame, code, unique_id) in enumerate(FRAMES_201):
            await _refused_and_nothing_stored(node, ws, frame, code, unique_id)
            await _others_served(node, honest, charger, n)
        for unique_id, frame in [
            ("ok1", status201("ok1", evse="2", connector="8")),
            ("ok2", transaction201("ok2", seq=str(2**31 - 1), evse="2", value="1e12", multiplier="0")),
            ("ok3", meter201("ok3", evse="0")),
        ]:
            assert (await _exchange(ws, frame))[:2] == [3, unique_id]
        await settled(node)
        assert (await _sheet(hostile, hostile_site))[("CS-DOOR", 2)] == "Preparing"
    await _restart_and_read(node, start_node, hostile, hostile_site, honest, honest_site)


async def test_a_connector_beyond_the_commissioned_ones_is_refused_naming_them_with_one_warning(
    start_node, caplog
):
    node, hostile, hostile_site, honest, _ = await _world(start_node)
    url = f"ws://127.0.0.1:{node.ocpp_port}/ocpp/CP-DOOR"
    async with websockets.connect(url, subprotocols=["ocpp1.6"]) as ws:
        caplog.clear()
        reply = await _exchange(ws, status16("c7", "7"))
    assert reply[:3] == [4, "c7", "PropertyConstraintViolation"]
    assert (
        reply[3]
        == "connector 7 is not commissioned at station CP-DOOR (connectors 0..2, 0 being the station itself)"
    )
    lines = [
        r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith(("cpms", "ocpp"))
    ]
    assert [(r.levelname, r.exc_info) for r in lines] == [("WARNING", None)]
    assert all(
        word in lines[0].getMessage() for word in ("CP-DOOR", "c7", "StatusNotification", "connectors 0..2")
    )
    await settled(node)
    assert set(await _sheet(hostile, hostile_site)) == {
        ("CP-DOOR", 1),
        ("CP-DOOR", 2),
        ("CS-DOOR", 1),
        ("CS-DOOR", 2),
    }
    await hostile.aclose()
    await honest.aclose()
