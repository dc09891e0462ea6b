"""The OCPP gateway at the edges: handshakes, broken frames, credentials, reconnects, heartbeats."""

from __future__ import annotations

import asyncio
import base64
import json
import logging

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.support import api_client, commission, connected, create_site, eventually, settled


async def _station(node, ocpp_id: str, **extra):
    api = await api_client(node)
    site = await create_site(api)
    await commission(api, site["id"], ocpp_id, **extra)
    return api, site


async def _raw(node, ocpp_id: str):
    return websockets.connect(f"ws://127.0.0.1:{node.ocpp_port}/ocpp/{ocpp_id}", subprotocols=["ocpp1.6"])


async def _exchange(ws, frame: str) -> list:
    await ws.send(frame)
    return json.loads(await asyncio.wait_for(ws.recv(), 5))


@pytest.mark.parametrize("path", ["/ocpp/NOPE-1", "/ocpp/", "/other/CP-1", "/ocpp/bad%2Fid"])
async def test_unknown_station_is_refused_at_the_handshake_with_404(start_node, path):
    node = await start_node()
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(f"ws://127.0.0.1:{node.ocpp_port}{path}", subprotocols=["ocpp1.6"]):
            pass
    assert refused.value.response.status_code == 404


async def test_malformed_frames_get_callerrors_and_the_connection_keeps_working(start_node):
    node = await start_node()
    await _station(node, "CP-F")
    async with await _raw(node, "CP-F") as ws:
        assert (await _exchange(ws, "this is not json"))[:3] == [4, "-1", "FormationViolation"]
        assert (await _exchange(ws, '{"not": "a list"}'))[:3] == [4, "-1", "ProtocolError"]
        assert (await _exchange(ws, '[2, "m1", "FooBar", {}]'))[:3] == [4, "m1", "NotImplemented"]
        assert (await _exchange(ws, '[2, "m2", "DataTransfer", {"vendorId": "x"}]'))[:3] == [
            4,
            "m2",
            "NotSupported",
        ]
        status = {"connectorId": "one", "errorCode": "NoError", "status": "Available"}
        wrong_type = json.dumps([2, "m3", "StatusNotification", status])
        assert (await _exchange(ws, wrong_type))[:3] == [4, "m3", "TypeConstraintViolation"]
        extra_field = '[2, "m4", "Heartbeat", {"surprise": 1}]'
        assert (await _exchange(ws, extra_field))[:3] == [4, "m4", "FormationViolation"]
        status = {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": "yesterday"}
        bad_time = json.dumps([2, "m5", "StatusNotification", status])
        assert (await _exchange(ws, bad_time))[:3] == [4, "m5", "PropertyConstraintViolation"]
        reply = await _exchange(ws, '[2, "m6", "Heartbeat", {}]')
        assert reply[:2] == [3, "m6"] and "currentTime" in reply[2]


async def test_other_chargers_are_unaffected_by_a_misbehaving_one(start_node):
    node = await start_node()
    api, site = await _station(node, "CP-BAD")
    await commission(api, site["id"], "CP-GOOD", connectors=1)
    async with await _raw(node, "CP-BAD") as bad, connected(node, "CP-GOOD") as good:
        await bad.send("[[[[")
        await bad.send(json.dumps([2, "x", "BootNotification", {"chargePointVendor": 5}]))
        await good.status(1, "Charging")
        await settled(node)
        rows = (await api.get(f"/sites/{site['id']}/charge-points")).json()["items"]
        assert {r["ocpp_id"]: r["status"] for r in rows}["CP-GOOD"] == "Charging"


async def test_a_frame_over_the_size_limit_closes_only_that_connection(start_node):
    node = await start_node()
    _api, _site = await _station(node, "CP-BIG")
    async with await _raw(node, "CP-BIG") as ws:
        await ws.send(json.dumps([2, "big", "Heartbeat", {"pad": "x" * 200_000}]))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd.code == 1009  # message too big
    async with connected(node, "CP-BIG") as again:
        assert (await again.boot()).status == "Accepted"


async def test_boot_is_accepted_with_the_configured_heartbeat_interval(start_node):
    node = await start_node(heartbeat_interval=42)
    await _station(node, "CP-H")
    async with connected(node, "CP-H") as charger:
        result = await charger.boot()
        assert result.status == "Accepted"
        assert result.interval == 42


async def test_heartbeats_refresh_last_seen_without_recording_events(start_node):
    node = await start_node()
    api, _ = await _station(node, "CP-HB")
    async with connected(node, "CP-HB") as charger:
        await charger.boot()
        await settled(node)
        events_before = node.store.recorder.max_notification_id()
        seen_before = (await api.get("/stations/CP-HB")).json()["last_seen"]
        await asyncio.sleep(0.05)
        from ocpp.v16 import call

        for _ in range(3):
            await charger.call(call.Heartbeat())
        await node.presence.flush()
        assert node.store.recorder.max_notification_id() == events_before
        seen_after = (await api.get("/stations/CP-HB")).json()["last_seen"]
        assert seen_after > seen_before


async def test_a_second_connection_replaces_the_first(start_node):
    node = await start_node()
    api, site = await _station(node, "CP-TWICE", connectors=1)
    async with connected(node, "CP-TWICE") as first:
        await first.status(1, "Available")
        async with connected(node, "CP-TWICE") as second:
            await second.status(1, "Charging")
            await settled(node)
            station = (await api.get("/stations/CP-TWICE")).json()
            assert station["connection"] == "Connected"
            rows = (await api.get(f"/sites/{site['id']}/charge-points")).json()["items"]
            assert rows[0]["status"] == "Charging"
        # the first socket was closed by the server when the second arrived
        assert first._connection.close_code == 1000
    types = [type(e).__name__ for e in _events(node, "CP-TWICE")]
    assert types.count("StationConnected") == 2
    assert types.index("StationDisconnected") < len(types) - 1  # the replacement's disconnect first


def _events(node, ocpp_id: str):
    from cpms.aggregates.station import station_id

    return list(node.store.events.get(station_id(ocpp_id)))


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.mark.parametrize(
    "headers",
    [
        None,
        _basic("CP-SEC", "wrong-password-123"),
        _basic("OTHER", "correct-horse-battery"),
        {"Authorization": "Bearer nope"},
    ],
    ids=["missing", "wrong-password", "wrong-username", "not-basic"],
)
async def test_a_station_with_a_password_refuses_bad_credentials_with_401(start_node, headers):
    node = await start_node()
    await _station(node, "CP-SEC", password="correct-horse-battery")
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(
            f"ws://127.0.0.1:{node.ocpp_port}/ocpp/CP-SEC",
            subprotocols=["ocpp1.6"],
            additional_headers=headers,
        ):
            pass
    assert refused.value.response.status_code == 401


async def test_a_station_with_a_password_connects_with_the_right_credentials(start_node):
    node = await start_node()
    await _station(node, "CP-SEC", password="correct-horse-battery")
    async with connected(node, "CP-SEC", additional_headers=_basic("CP-SEC", "correct-horse-battery")) as cp:
        assert (await cp.boot()).status == "Accepted"


async def test_a_charger_offering_no_known_subprotocol_is_closed(start_node):
    node = await start_node()
    await _station(node, "CP-OLD")
    async with websockets.connect(
        f"ws://127.0.0.1:{node.ocpp_port}/ocpp/CP-OLD", subprotocols=["ocpp1.5"]
    ) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd.code == 1002


async def test_disconnect_is_recorded_when_the_charger_goes_away(start_node):
    node = await start_node()
    api, _ = await _station(node, "CP-GONE")
    async with connected(node, "CP-GONE") as charger:
        await charger.boot()
        await settled(node)
        assert (await api.get("/stations/CP-GONE")).json()["connection"] == "Connected"

    async def disconnected() -> None:
        assert (await api.get("/stations/CP-GONE")).json()["connection"] == "Disconnected"

    await eventually(disconnected)


async def test_a_flooding_connection_is_closed_and_others_keep_working(start_node):
    node = await start_node()
    api, site = await _station(node, "CP-FLOOD")
    await commission(api, site["id"], "CP-CALM", connectors=1)
    async with await _raw(node, "CP-FLOOD") as flood, connected(node, "CP-CALM") as calm:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            for n in range(5000):
                await flood.send(json.dumps([2, f"f{n}", "Heartbeat", {}]))
            while True:  # drain answers until the server closes on us
                await asyncio.wait_for(flood.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        await calm.status(1, "Charging")
        await settled(node)
        rows = (await api.get(f"/sites/{site['id']}/charge-points")).json()["items"]
        assert {r["ocpp_id"]: r["status"] for r in rows}["CP-CALM"] == "Charging"


def _our_log(caplog, level: int = logging.WARNING) -> list[logging.LogRecord]:
    """What cpms and the `ocpp` package logged at `level` or above."""
    return [r for r in caplog.records if r.levelno >= level and r.name.split(".")[0] in ("cpms", "ocpp")]


async def test_a_chargers_bad_value_is_one_warning_line_without_a_traceback(start_node, caplog):
    node = await start_node()
    await _station(node, "CP-W")
    start = {"connectorId": 1, "idTag": "04A1B2C3", "meterStart": -1, "timestamp": "2026-11-23T08:00:00Z"}
    async with await _raw(node, "CP-W") as ws:
        caplog.clear()
        reply = await _exchange(ws, json.dumps([2, "s1", "StartTransaction", start]))
        assert reply[:3] == [4, "s1", "PropertyConstraintViolation"]
        assert "meterStart" in reply[3]
    [line] = _our_log(caplog)
    assert line.levelno == logging.WARNING and line.exc_info is None
    message = line.getMessage()
    for named in ("CP-W", "s1", "StartTransaction", "PropertyConstraintViolation", "meterStart"):
        assert named in message


async def test_an_unexpected_failure_is_an_internal_error_and_its_traceback_is_logged(start_node, caplog):
    node = await start_node()
    await _station(node, "CP-OOPS")

    async def failing(*_, **__):
        raise RuntimeError("the card reader service exploded")

    node.network.authorize = failing
    async with await _raw(node, "CP-OOPS") as ws:
        caplog.clear()
        reply = await _exchange(ws, json.dumps([2, "a1", "Authorize", {"idTag": "04A1B2C3"}]))
        assert reply[:3] == [4, "a1", "InternalError"]
        assert "Authorize" in reply[3] and "retry" in reply[3]
        [line] = _our_log(caplog)
        assert line.levelno == logging.ERROR and "CP-OOPS" in line.getMessage()
        assert isinstance(line.exc_info[1], RuntimeError)
        assert (await _exchange(ws, '[2, "h1", "Heartbeat", {}]'))[:2] == [3, "h1"]
