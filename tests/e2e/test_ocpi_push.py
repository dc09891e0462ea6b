"""Sessions and CDRs pushed to the eMSP's receivers: a real eMSP on loopback, a real OCPP charger,
retries with back-off, and deliveries a restarted node resumes."""

from __future__ import annotations

import asyncio
import base64
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from cpms.node import Node
from tests.e2e.test_ocpi_credentials import handshake, registered_partner, token_header
from tests.e2e.test_ocpi_tokens import TOKEN
from tests.emsp import Emsp, running_emsp
from tests.support import (
    api_client,
    api_client_with,
    commission,
    configure,
    connected,
    create_site,
    eventually,
)

FAST = {"ocpi_push_retry_first": 0.05, "ocpi_push_retry_max": 0.2}  # seconds, not 1 s to 5 min
B = "B-token-1"


def _at(minutes: float) -> str:
    return (
        (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


async def _roaming_site(api: httpx.AsyncClient, emsp: Emsp, ocpp_id: str = "CP-PUSH") -> None:
    """The eMSP registered as FR/ABC with token B, its token ALLOWED, a roaming station."""
    base, token_c = await handshake(await registered_partner(api), emsp.versions_url, B)
    async with httpx.AsyncClient(timeout=15) as ocpi:
        url = f"{base}/tokens/FR/ABC/{TOKEN['uid']}"
        assert (await ocpi.put(url, json=TOKEN, headers=token_header(token_c))).status_code == 201
    site = await create_site(api)
    await commission(api, site["id"], ocpp_id, connectors=1)
    await configure(api, ocpp_id, roaming_enabled=True)


async def _received(emsp: Emsp, sessions: list[str], cdrs: int, timeout: float = 10.0) -> None:
    """Wait until the eMSP holds exactly these Session statuses, in order, and this many CDRs."""

    async def check() -> None:
        assert [s["body"]["status"] for s in emsp.sessions()] == sessions
        assert len(emsp.cdrs()) == cdrs

    await eventually(check, timeout)


async def _push_state(api: httpx.AsyncClient) -> dict[str, Any]:
    [partner] = (await api.get("/roaming/partners")).json()["items"]
    return partner["push"]  # type: ignore[no-any-return]


async def _all_delivered(api: httpx.AsyncClient) -> dict[str, Any]:
    """The push state once nothing is owed (the eMSP may hold a push before cpms records it)."""
    state: dict[str, Any] = {}

    async def check() -> None:
        state.update(await _push_state(api))
        assert state["pending"] == 0

    await eventually(check)
    return state


async def test_a_roaming_charge_reaches_the_emsp_as_session_puts_and_one_cdr_post_sent_once(
    start_node, caplog
):
    node = await start_node(**FAST)
    async with running_emsp() as emsp, await api_client(node) as api:
        await _roaming_site(api, emsp)
        async with connected(node, "CP-PUSH") as charger:
            await charger.boot()
            started = await charger.start_transaction(1, TOKEN["uid"], 1000, _at(-30))
            assert started.id_tag_info["status"] == "Accepted"
            await _received(emsp, ["ACTIVE"], 0)
            await charger.stop(started.transaction_id, 3500, _at(0))
        await _received(emsp, ["ACTIVE", "COMPLETED"], 1)

        first, last = emsp.sessions()
        assert first["method"] == last["method"] == "PUT"
        session_id = last["body"]["id"]
        assert last["path"] == f"/ocpi/2.2.1/emsp/sessions/FR/CPO/{session_id}"
        assert (last["body"]["kwh"], last["body"]["cdr_token"]["uid"]) == (2.5, TOKEN["uid"])
        [cdr] = emsp.cdrs()
        assert (cdr["method"], cdr["body"]["id"], cdr["body"]["total_energy"]) == ("POST", session_id, 2.5)
        assert emsp.pushed[-1] is cdr  # after the COMPLETED Session
        for push in emsp.pushed:
            assert push["authorization"] == "Token " + base64.b64encode(B.encode()).decode()
            assert push["x_request_id"] and push["x_correlation_id"]
        assert await _all_delivered(api) == {"pending": 0, "failed": 0, "last_failure": None}

        node.push.wake()  # nothing owed any more: a look at the outbox sends nothing again
        await asyncio.sleep(0.3)
        assert len(emsp.pushed) == 3
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "push" in r.getMessage()]


async def test_an_emsp_failing_the_first_attempts_receives_everything_after_retries(start_node, caplog):
    node = await start_node(**FAST)
    async with running_emsp() as emsp, await api_client(node) as api:
        await _roaming_site(api, emsp)
        emsp.fail_pushes = 3
        async with connected(node, "CP-PUSH") as charger:
            await charger.boot()
            started = await charger.start_transaction(1, TOKEN["uid"], 1000, _at(-30))
            await charger.stop(started.transaction_id, 2000, _at(0))
        await _received(emsp, ["COMPLETED"], 1)
        assert emsp.failed_pushes == 3
        state = await _all_delivered(api)
        assert state["failed"] == 0
        assert "HTTP 503" in state["last_failure"]["message"]
    failures = [r.getMessage() for r in caplog.records if "OCPI push" in r.getMessage()]
    assert len(failures) == 3 and all("retrying in" in line and "\n" not in line for line in failures)
    assert not any(r.exc_info for r in caplog.records if "OCPI push" in r.getMessage())


async def test_deliveries_owed_when_a_node_stops_are_made_by_the_restarted_node(start_node):
    node = await start_node(**FAST)
    emsp = Emsp()
    async with running_emsp(emsp), await api_client(node) as api:
        key = api.headers["Authorization"]
        await _roaming_site(api, emsp)
    # The eMSP is down from here on: the charge's Session and CDR stay owed.
    async with connected(node, "CP-PUSH") as charger:
        await charger.boot()
        started = await charger.start_transaction(1, TOKEN["uid"], 1000, _at(-30))
        await charger.stop(started.transaction_id, 4000, _at(0))

    async def owed() -> None:
        async with api_client_with(node, key) as api:
            state = await _push_state(api)
            assert state["pending"] == 2 and state["last_failure"] is not None

    await eventually(owed)
    await node.stop()

    async with running_emsp(emsp):
        restarted: Node = await start_node(**FAST)
        await _received(emsp, ["COMPLETED"], 1)
        assert emsp.cdrs()[0]["body"]["total_energy"] == 3.0
        async with api_client_with(restarted, key) as api:
            assert (await _all_delivered(api))["failed"] == 0


async def test_a_partner_without_receivers_is_sent_nothing(start_node):
    node = await start_node(**FAST)
    async with running_emsp(Emsp(receivers=False)) as emsp, await api_client(node) as api:
        await _roaming_site(api, emsp)
        async with connected(node, "CP-PUSH") as charger:
            await charger.boot()
            started = await charger.start_transaction(1, TOKEN["uid"], 1000, _at(-30))
            await charger.stop(started.transaction_id, 2000, _at(0))

        async def skipped() -> None:  # looked at, and nothing owed any more
            with node.views.read() as tx:
                rows = tx.execute("SELECT kind, outcome FROM ocpi_push_outbox ORDER BY kind")
            assert rows == [("cdr", "skipped"), ("session", "skipped")]

        await eventually(skipped)
        assert emsp.pushed == []
        assert await _push_state(api) == {"pending": 0, "failed": 0, "last_failure": None}
