"""Commands to stations, end to end: the API asks, the gateway sends the CALL to a real OCPP
charger (1.6 or 2.0.1, the `ocpp` package's ChargePoint answering like a real one), and what
follows is recorded and served: remote start and stop, availability, Scan2Pay, and commands that
reach no answer."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from typing import Any

import pytest

from cpms.aggregates.charge_point import ChargePointStatus, site_state
from tests.commanded import Commanded16, Commanded201, now
from tests.support import (
    access_group,
    api_client,
    api_client_with,
    commission,
    configure,
    create_site,
    eventually,
    peer_connected,
    settled,
)

CARD = "04A1B2C3"
VERSIONS = {"1.6": (Commanded16, "ocpp1.6"), "2.0.1": (Commanded201, "ocpp2.0.1")}


@pytest.fixture
async def world(start_node):
    """A site with station CP-1 (2 charge points) where the Staff group's card charges."""
    node = await start_node(command_timeout=1)
    api = await api_client(node)
    site = await create_site(api)
    await commission(api, site["id"], "CP-1", evse_ids=["FR*ACM*E1*1", "FR*ACM*E1*2"])
    staff = await access_group(api, "Staff", {CARD: "Alice's badge"})
    await configure(api, "CP-1", staff)
    yield node, api, site["id"], staff
    await api.aclose()


def charger(node, version: str = "1.6", ocpp_id: str = "CP-1"):
    peer, subprotocol = VERSIONS[version]
    return peer_connected(node, ocpp_id, peer, subprotocol)


async def booted(cp) -> None:
    await cp.boot()
    for connector in (1, 2):
        await cp.status(connector, "Available", _now())


def _now() -> str:
    return now()


async def _command(api, command_id: str) -> dict[str, Any]:
    response = await api.get(f"/commands/{command_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def _sheet(api, site_id: str) -> dict[int, str]:
    response = await api.get(f"/sites/{site_id}/charge-points")
    assert response.status_code == 200, response.text
    return {cp["connector_id"]: cp["status"] for cp in response.json()["items"]}


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_remote_start_begins_a_session_that_carries_its_command(world, version):
    node, api, site_id, _ = world
    async with charger(node, version) as cp:
        await booted(cp)
        response = await api.post("/stations/CP-1/connectors/2/start", json={"id_tag": CARD})
        assert response.status_code == 201, response.text
        command = response.json()
        assert (command["kind"], command["outcome"], command["charger_status"]) == (
            "remote_start",
            "accepted",
            "Accepted",
        )
        assert response.headers["location"] == f"/api/v1/commands/{command['id']}"
        [(action, request)] = cp.requests
        if version == "1.6":
            assert (action, request) == ("RemoteStartTransaction", {"idTag": CARD, "connectorId": 2})
        else:
            assert action == "RequestStartTransaction"
            assert request["idToken"] == {"idToken": CARD, "type": "ISO14443"}
            assert (request["evseId"], request["remoteStartId"]) == (
                2,
                command["parameters"]["remote_start_id"],
            )
        await cp.settle()
        await settled(node)

        followed = await _command(api, command["id"])
        assert followed["session_id"] is not None  # the link to follow: the session it began
        session = (await api.get(f"/sessions/{followed['session_id']}")).json()
        assert session["command_id"] == command["id"]
        assert (session["connector_id"], session["state"]) == (2, "Active")
        assert session["authorization"]["method"] == "rfid"
        assert session["authorization"]["card_label"] == "Alice's badge"
        listed = (await api.get(f"/sites/{site_id}/sessions")).json()["items"]
        assert [s["id"] for s in listed] == [session["id"]]


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_remote_stop_ends_the_session(world, version):
    node, api, _, _ = world
    async with charger(node, version) as cp:
        await booted(cp)
        start = (await api.post("/stations/CP-1/connectors/1/start", json={"id_tag": CARD})).json()
        await cp.settle()
        await settled(node)
        session_id = (await _command(api, start["id"]))["session_id"]

        response = await api.post(f"/sessions/{session_id}/stop")
        assert response.status_code == 201, response.text
        assert (response.json()["kind"], response.json()["outcome"]) == ("remote_stop", "accepted")
        await cp.settle()
        await settled(node)
        session = (await api.get(f"/sessions/{session_id}")).json()
        assert (session["state"], session["stop_reason"]) == ("Completed", "Remote")
        assert session["energy_wh"] == 4_000

        again = await api.post(f"/sessions/{session_id}/stop")
        assert again.status_code == 409, again.text  # nothing left to stop: nothing is sent
        for unknown in ("00000000-0000-0000-0000-000000000000", "not-a-session"):
            assert (await api.post(f"/sessions/{unknown}/stop")).status_code == 404
        async with await api_client(node, "Another Charging") as other:
            assert (await other.post(f"/sessions/{session_id}/stop")).status_code == 404
        stops = [action for action, _ in cp.requests if "Stop" in action]
        assert stops == ["RemoteStopTransaction" if version == "1.6" else "RequestStopTransaction"]


@pytest.mark.parametrize("version", VERSIONS)
async def test_availability_off_shows_not_available_and_the_site_state_follows(world, version):
    node, api, site_id, _ = world
    async with charger(node, version) as cp:
        await booted(cp)
        await api.post("/stations/CP-1/connectors/1/start", json={"id_tag": CARD})
        await cp.settle()

        response = await api.post("/stations/CP-1/availability", json={"operative": False, "connector_id": 2})
        assert response.status_code == 201, response.text
        assert response.json()["outcome"] == "accepted"
        await cp.settle()
        await settled(node)
        assert await _sheet(api, site_id) == {1: "Charging", 2: "NotAvailable"}
        site = (await api.get(f"/sites/{site_id}")).json()
        # The site's state is the rule's reading of the sheet (PRODUCT.md section 2).
        expected = site_state([[ChargePointStatus.CHARGING, ChargePointStatus.NOT_AVAILABLE]])
        assert site["state"] == expected

        await api.post("/stations/CP-1/availability", json={"operative": True})
        await cp.settle()
        await settled(node)
        assert await _sheet(api, site_id) == {1: "Available", 2: "Available"}
        assert (await api.get(f"/sites/{site_id}")).json()["state"] == "Available"


@pytest.mark.parametrize("version", VERSIONS)
async def test_scan2pay_ends_as_a_listed_session_with_its_payment_reference(world, version):
    node, api, site_id, staff = world
    await configure(api, "CP-1", staff, scan2pay_enabled=True)
    async with charger(node, version) as cp:
        await booted(cp)
        body = {"payment_reference": "pi_3QXk2", "amount": "25.00", "currency": "EUR"}
        response = await api.post("/stations/CP-1/connectors/1/scan2pay", json=body)
        assert response.status_code == 201, response.text
        command = response.json()
        assert (command["kind"], command["outcome"]) == ("scan2pay", "accepted")
        assert command["parameters"]["payment_reference"] == "pi_3QXk2"
        assert command["parameters"]["amount"] == "25"
        await cp.settle()
        session_id = None

        async def started() -> None:
            nonlocal session_id
            session_id = (await _command(api, command["id"]))["session_id"]
            assert session_id is not None

        await eventually(started)
        await api.post(f"/sessions/{session_id}/stop")
        await cp.settle()
        await settled(node)

        session = (await api.get(f"/sessions/{session_id}")).json()
        assert session["state"] == "Completed"
        assert session["authorization"]["method"] == "scan2pay"
        assert session["authorization"]["payment_reference"] == "pi_3QXk2"
        assert session["command_id"] == command["id"]
        export = (await api.get(f"/sites/{site_id}/sessions.csv")).text
        [row] = list(csv.DictReader(io.StringIO(export)))
        assert (row["authorization_method"], row["payment_reference"]) == ("scan2pay", "pi_3QXk2")

        # Its token was good once: the same token again, on any charge point, is refused.
        _, request = cp.requests[0]
        token = request["idTag"] if version == "1.6" else request["idToken"]["idToken"]
        assert token.startswith("S2P") and len(token) == 20
        if version == "2.0.1":
            assert request["idToken"]["type"] == "Central"  # made by the central system
        if version == "1.6":
            again = await cp.start_transaction(1, token, meter_start=20_000, timestamp=_now())
            assert again.id_tag_info["status"] == "Invalid"


async def test_scan2pay_where_it_is_not_enabled_is_a_conflict_and_sends_nothing(world):
    node, api, _, _ = world
    async with charger(node) as cp:
        await booted(cp)
        response = await api.post("/stations/CP-1/connectors/1/scan2pay", json={"payment_reference": "pi_1"})
        assert response.status_code == 409, response.text
        assert "Scan2Pay is not enabled" in response.json()["error"]["message"]
        assert cp.requests == []


async def test_a_command_to_an_offline_station_says_offline_and_is_recorded(world):
    node, api, _, staff = world
    await configure(api, "CP-1", staff, scan2pay_enabled=True)
    response = await api.post("/stations/CP-1/connectors/1/scan2pay", json={"payment_reference": "pi_2"})
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "offline"
    await settled(node)
    command = await _command(api, response.headers["location"].rsplit("/", 1)[1])
    assert (command["outcome"], command["session_id"]) == ("offline", None)
    listed = (await api.get("/stations/CP-1/commands")).json()["items"]
    assert [c["id"] for c in listed] == [command["id"]]


async def test_a_charger_that_rejects_is_answered_rejected(world):
    node, api, _, staff = world
    await configure(api, "CP-1", staff, scan2pay_enabled=True)
    async with charger(node) as cp:
        await booted(cp)
        cp.answers["RemoteStartTransaction"] = "Rejected"
        response = await api.post("/stations/CP-1/connectors/1/scan2pay", json={"payment_reference": "pi_3"})
        assert response.status_code == 201, response.text
        assert (response.json()["outcome"], response.json()["charger_status"]) == ("rejected", "Rejected")
        # A refused start begins nothing: its token is not good for a transaction either.
        token = cp.requests[0][1]["idTag"]
        refused = await cp.start_transaction(1, token, meter_start=1, timestamp=_now())
        assert refused.id_tag_info["status"] == "Invalid"


async def test_a_charger_that_never_answers_times_out_and_its_connection_keeps_working(world):
    node, api, site_id, _ = world
    async with charger(node) as cp:
        await booted(cp)
        cp.silent.add("Reset")
        response = await api.post("/stations/CP-1/reset", json={"type": "hard"})
        assert response.status_code == 504, response.text
        assert response.json()["error"]["code"] == "timeout"

        # The charger is still served, and the next command goes through.
        await cp.status(2, "Preparing", _now())
        response = await api.post("/stations/CP-1/connectors/2/unlock")
        assert response.status_code == 201, response.text
        assert (response.json()["outcome"], response.json()["charger_status"]) == ("accepted", "Unlocked")
        await settled(node)
        assert (await _sheet(api, site_id))[2] == "Preparing"
        outcomes = [c["outcome"] for c in (await api.get("/stations/CP-1/commands")).json()["items"]]
        assert outcomes == ["accepted", "timeout"]


async def test_a_station_that_disconnects_before_answering_is_offline_at_once(start_node):
    node = await start_node(command_timeout=60)  # beyond the client's own 15 s: it must not be waited for
    async with await api_client(node) as api:
        site = await create_site(api)
        await commission(api, site["id"], "CP-1")
        async with charger(node) as cp:
            await booted(cp)
            cp.silent.add("Reset")
            asking = asyncio.create_task(api.post("/stations/CP-1/reset", json={"type": "hard"}))
            while not cp.requests:
                await asyncio.sleep(0.05)
        response = await asking  # the charger went away with the reset unanswered
        assert response.status_code == 409, response.text
        assert response.json()["error"]["code"] == "offline"


async def test_a_remote_start_with_a_token_the_station_refuses_is_not_sent(world):
    node, api, _, _ = world
    async with charger(node) as cp:
        await booted(cp)
        response = await api.post("/stations/CP-1/connectors/1/start", json={"id_tag": "0BADCAFE"})
        assert response.status_code == 422, response.text
        missing = await api.post("/stations/CP-1/connectors/3/start", json={"id_tag": CARD})
        assert missing.status_code == 404, missing.text
        assert cp.requests == []


async def test_commands_to_one_station_are_sent_one_after_the_other(world):
    node, api, _, _ = world
    async with charger(node) as cp:
        await booted(cp)
        cp.delay = 0.3
        first, second = await asyncio.gather(
            api.post("/stations/CP-1/connectors/1/unlock"),
            api.post("/stations/CP-1/connectors/2/unlock"),
        )
        assert (first.status_code, second.status_code) == (201, 201)
        kinds = [kind for kind, _, action in cp.log if action == "UnlockConnector"]
        assert kinds == ["arrived", "answered", "arrived", "answered"]  # never two outstanding


async def test_commands_to_different_stations_run_side_by_side(world):
    node, api, site_id, _ = world
    await commission(api, site_id, "CP-2")
    async with charger(node, ocpp_id="CP-1") as one, charger(node, ocpp_id="CP-2") as two:
        await booted(one)
        await booted(two)
        one.log = two.log = []  # one log for both: the order across stations
        one.delay = two.delay = 0.5
        answers = await asyncio.gather(
            api.post("/stations/CP-1/reset", json={"type": "soft"}),
            api.post("/stations/CP-2/reset", json={"type": "soft"}),
        )
        assert [a.status_code for a in answers] == [201, 201]
        # Both were sent before either was answered: no station waits for another's answer.
        assert [kind for kind, _, _ in one.log] == ["arrived", "arrived", "answered", "answered"]
        assert {station for _, station, _ in one.log} == {"CP-1", "CP-2"}


def _station_cli(node, key: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CPMS_API_KEY": key, "CPMS_API_URL": f"http://127.0.0.1:{node.http_port}"}
    return subprocess.run(
        [sys.executable, "-m", "cpms.cli", "station", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the API is the peer here
async def test_an_operator_sends_commands_from_the_command_line(start_node):
    node = await start_node(command_timeout=1)
    _, key = await node.network.create_organization("Volt Fleet")
    async with api_client_with(node, f"Bearer {key}") as api:
        site = await create_site(api)
        await commission(api, site["id"], "CP-9")
        offline = await asyncio.to_thread(_station_cli, node, key, "reset", "CP-9", "--hard")
        assert offline.returncode == 1 and "the station is not connected" in offline.stderr
        async with charger(node, ocpp_id="CP-9") as cp:
            await booted(cp)
            done = await asyncio.to_thread(_station_cli, node, key, "availability", "CP-9", "--inoperative")
            assert done.returncode == 0, done.stderr
            printed = json.loads(done.stdout)
            assert (printed["kind"], printed["outcome"], printed["parameters"]) == (
                "availability",
                "accepted",
                {"operative": False},
            )
            assert printed["client"] == "cpms command line"  # who asked, as recorded
            cp.answers["UnlockConnector"] = "UnlockFailed"
            failed = await asyncio.to_thread(_station_cli, node, key, "unlock", "CP-9", "2")
            assert failed.returncode == 1 and json.loads(failed.stdout)["charger_status"] == "UnlockFailed"
            unknown = await asyncio.to_thread(_station_cli, node, key, "unlock", "CP-404", "1")
            assert unknown.returncode == 1 and "station 'CP-404' not found" in unknown.stderr
            assert [action for action, _ in cp.requests] == ["ChangeAvailability", "UnlockConnector"]
