"""Roaming authorization against a real eMSP on loopback: pushed tokens charge where roaming is
enabled and nowhere else; real-time authorization accepted, rejected and timed out, asked once
per Authorize-then-start, and a stalled eMSP never slows another charger."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from ocpp.v16 import call

from cpms.aggregates.charging_session import ChargingSession, session_id
from cpms.aggregates.station import station_id
from cpms.node import Node
from tests.e2e.test_ocpi_credentials import handshake, registered_partner, token_header
from tests.e2e.test_ocpi_tokens import TOKEN
from tests.emsp import Emsp, running_emsp
from tests.support import commission, configure, connected, create_site, settled
from tests.support201 import connected201

TIMEOUT_S = 1  # CPMS_OCPI_AUTHORIZE_TIMEOUT of these tests
T0 = "2026-03-02T08:00:00Z"


@pytest.fixture
async def node(start_node: Any) -> Node:
    return await start_node(ocpi_authorize_timeout=TIMEOUT_S)


@contextlib.asynccontextmanager
async def partner_emsp(api: httpx.AsyncClient) -> AsyncIterator[tuple[Emsp, httpx.AsyncClient]]:
    """A registered eMSP FR/ABC, running for the whole test, and an OCPI client with its token C
    on cpms's Tokens receiver (base URL)."""
    partner = await registered_partner(api)
    async with running_emsp() as emsp, httpx.AsyncClient(timeout=15) as ocpi:
        base, token_c = await handshake(partner, emsp.versions_url)
        ocpi.headers.update(token_header(token_c))
        ocpi.base_url = httpx.URL(f"{base}/tokens/FR/ABC/")
        yield emsp, ocpi


async def stations(api: httpx.AsyncClient, *ocpp_ids: str, roaming: bool = True) -> str:
    site = await create_site(api)
    for ocpp_id in ocpp_ids:
        await commission(api, site["id"], ocpp_id)
        await configure(api, ocpp_id, roaming_enabled=roaming)
    return str(site["id"])


def decisions(node: Node, ocpp_id: str) -> list[tuple[str, str, str, str | None]]:
    """The roaming decisions recorded at a station: (uid, source, outcome, reference)."""
    events = node.store.repository.event_store.get(station_id(ocpp_id))
    return [
        (e.uid, e.source, e.outcome, e.authorization_reference)
        for e in events
        if type(e).__name__ == "RoamingAuthorizationDecided"
    ]


def session_events(node: Node, ocpp_id: str, transaction_id: str) -> list[Any]:
    return list(node.store.repository.event_store.get(session_id(ocpp_id, transaction_id)))


async def test_a_pushed_token_charges_where_roaming_is_enabled_and_is_refused_elsewhere(node, api):
    async with partner_emsp(api) as (emsp, ocpi):
        assert (await ocpi.put("012345678", json=TOKEN)).status_code == 201
        site_id = await stations(api, "R16", "R201")
        await stations(api, "OFF16", "OFF201", roaming=False)
        async with connected(node, "R16") as charger, connected201(node, "R201") as station:
            assert await charger.authorize("012345678") == "Accepted"
            started = await charger.start_transaction(1, "012345678", 1000, T0)
            assert started.id_tag_info["status"] == "Accepted"
            await charger.stop(started.transaction_id, 5000, "2026-03-02T09:00:00Z")
            assert await station.authorize("012345678") == "Accepted"
            result = await station.transaction(
                "Started", "tx-1", T0, "Authorized", token="012345678", evse_id=1
            )
            assert result.id_token_info["status"] == "Accepted"
        async with connected(node, "OFF16") as charger, connected201(node, "OFF201") as station:
            assert await charger.authorize("012345678") == "Invalid"
            assert (await charger.start_transaction(1, "012345678", 0, T0)).id_tag_info["status"] == "Invalid"
            assert await station.authorize("012345678") == "Unknown"
        assert emsp.authorize_requests == []  # the whitelist decides without asking
        assert decisions(node, "OFF16") == decisions(node, "OFF201") == []
        # Authorize then StartTransaction: one decision, reused by the start.
        assert decisions(node, "R16") == [("012345678", "whitelist", "accepted", None)]

        await settled(node)
        listed = (await api.get(f"/sites/{site_id}/sessions")).json()["items"]
        assert {s["ocpp_id"] for s in listed} == {"R16", "R201"}
        for session in listed:
            auth = session["authorization"]
            assert (auth["method"], auth["card_uid"]) == ("roaming", "012345678")
            assert auth["emsp"] == {"country_code": "FR", "party_id": "ABC"}
        csv = (await api.get(f"/sites/{site_id}/sessions.csv")).text.splitlines()
        assert csv[0].endswith(",roaming_partner,payment_reference,command_id")
        assert all(line.endswith(",FR*ABC,,") for line in csv[1:]) and len(csv) == 3
        [roamed] = [
            e for e in session_events(node, "R201", "tx-1") if type(e).__name__ == "RoamingSessionAuthorized"
        ]
        assert (roamed.party_id, roamed.contract_id, roamed.token_type) == ("ABC", "FR-ABC-C1", "RFID")


async def test_realtime_authorization_accepts_once_for_authorize_then_start(node, api):
    async with partner_emsp(api) as (emsp, _):
        site_id = await stations(api, "RT16")
        async with connected(node, "RT16") as charger:
            assert await charger.authorize("AB12CD34") == "Accepted"
            started = await charger.start_transaction(2, "AB12CD34", 0, T0)
            assert started.id_tag_info["status"] == "Accepted"
        [asked] = emsp.authorize_requests
        assert (asked["uid"], asked["type"], asked["body"]) == ("AB12CD34", "RFID", {"location_id": site_id})
        assert asked["authorization"] == "Token " + base64.b64encode(b"B-token-1").decode()
        assert asked["x_request_id"] and asked["x_correlation_id"]
        assert decisions(node, "RT16") == [("AB12CD34", "realtime", "accepted", "REF-0001")]
        transaction = str(started.transaction_id)
        [roamed] = [
            e
            for e in session_events(node, "RT16", transaction)
            if type(e).__name__ == "RoamingSessionAuthorized"
        ]
        assert (roamed.authorization_reference, roamed.contract_id) == ("REF-0001", "FR-ABC-AB12CD34")
        await settled(node)
        [listed] = (await api.get(f"/sites/{site_id}/sessions")).json()["items"]
        assert listed["authorization"]["emsp"] == {"country_code": "FR", "party_id": "ABC"}
        session = node.writer.run_now(
            lambda uow: uow.get(ChargingSession, session_id("RT16", transaction), "")
        )[0]
        assert session.authorization["authorization_reference"] == "REF-0001"


async def test_a_token_on_a_later_transaction_event_is_authorized_in_real_time_then(node, api):
    async with partner_emsp(api) as (emsp, _):
        site_id = await stations(api, "RT201")
        async with connected201(node, "RT201") as station:
            plugged = await station.transaction("Started", "tx-9", T0, "CablePluggedIn", evse_id=1)
            assert plugged.id_token_info is None
            badged = await station.transaction("Updated", "tx-9", T0, "Authorized", token="EE11FF22")
            assert badged.id_token_info["status"] == "Accepted"
            ended = await station.transaction("Ended", "tx-9", T0, "StopAuthorized", token="EE11FF22")
            assert ended.id_token_info["status"] == "Accepted"
        [asked] = emsp.authorize_requests  # the session's own token is not asked about again
        assert asked["body"] == {"location_id": site_id, "evse_uids": ["RT201*1"]}
        kinds = [type(e).__name__ for e in session_events(node, "RT201", "tx-9")]
        assert kinds.count("RoamingSessionAuthorized") == 1
        assert kinds.index("TransactionAuthorized") < kinds.index("RoamingSessionAuthorized")


async def test_realtime_authorization_rejected_is_refused_and_recorded(node, api):
    async with partner_emsp(api) as (emsp, ocpi):
        emsp.allowed = "NO_CREDIT"
        await stations(api, "RJ16", "RJ201")
        async with connected(node, "RJ16") as charger, connected201(node, "RJ201") as station:
            assert await charger.authorize("99AA") == "Invalid"
            assert (await charger.start_transaction(1, "99AA", 0, T0)).id_tag_info["status"] == "Invalid"
            assert await station.authorize("99AA") == "Invalid"  # known to a partner, refused
            # Whitelist NEVER: only its partner's real-time answer decides.
            await ocpi.put("NEVER1", json={**TOKEN, "uid": "NEVER1", "whitelist": "NEVER"})
            emsp.allowed = "ALLOWED"
            assert await charger.authorize("NEVER1") == "Accepted"
        assert decisions(node, "RJ16") == [
            ("99AA", "realtime", "rejected", None),
            ("99AA", "realtime", "rejected", None),  # a refusal is not reused: asked again
            ("NEVER1", "realtime", "accepted", "REF-0001"),
        ]
        assert [a["uid"] for a in emsp.authorize_requests] == ["99AA", "99AA", "99AA", "NEVER1"]


async def test_a_stalled_emsp_times_out_and_never_slows_another_charger(node, api):
    async with partner_emsp(api) as (emsp, _):
        emsp.stall_s = 5
        await stations(api, "SLOW", "FAST")
        async with connected(node, "SLOW") as slow, connected(node, "FAST") as fast:
            await fast.boot()
            began = time.monotonic()
            waiting = asyncio.create_task(slow.authorize("5A5A5A"))
            while not emsp.authorize_requests:
                await asyncio.sleep(0.01)
            slowest = 0.0
            for i in range(10):
                sent = time.monotonic()
                await fast.call(call.Heartbeat(), suppress=False)
                await fast.status(1 + i % 2, "Available")
                slowest = max(slowest, time.monotonic() - sent)
            assert not waiting.done()  # the other charger was answered while this one waited
            assert await waiting == "Invalid"
            waited = time.monotonic() - began
        assert slowest < 1.0, slowest
        assert TIMEOUT_S - 0.1 <= waited < TIMEOUT_S + 1.5, waited
        assert decisions(node, "SLOW") == [("5A5A5A", "realtime", "timeout", None)]
