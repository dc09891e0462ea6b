"""Basic-auth guessing over real websockets: the limit engages (401, then 429 with Retry-After and
no scrypt), while honest chargers, connected or reconnecting with a recently verified password,
are served throughout."""

from __future__ import annotations

import asyncio
import base64

import pytest
import websockets
from ocpp.v16 import call
from websockets.exceptions import InvalidStatus

from cpms.gateway.guard import CredentialGuard
from tests.support import commission, connected, eventually, settled

PASSWORD = "correct-horse-battery"
MAX_FAILURES = 3
ATTEMPTS = 400
CONCURRENCY = 50


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def _refusal(node, ocpp_id: str, headers: dict[str, str] | None) -> tuple[int, str | None]:
    """The status and Retry-After of a handshake that must be refused."""
    url = f"ws://127.0.0.1:{node.ocpp_port}/ocpp/{ocpp_id}"
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(url, subprotocols=["ocpp1.6"], additional_headers=headers):  # type: ignore[list-item]
            pass
    response = refused.value.response
    return response.status_code, response.headers.get("Retry-After")


@pytest.fixture
async def node(start_node):
    """The guard's policy from settings, on a clock that stands still: no back-off window lapses
    however slowly a shared machine runs the test, so every count below is exact."""
    node = await start_node(auth_max_failures=MAX_FAILURES, auth_lockout_max=60, auth_remember=600)
    node.gateway.guard = CredentialGuard(node.gateway.guard.policy, clock=lambda: 1000.0)
    return node


async def test_guessing_is_limited_while_honest_chargers_are_served(node, api, site):
    await commission(api, site["id"], "CP-ONLINE", connectors=1, password=PASSWORD)
    await commission(api, site["id"], "CP-TARGET", connectors=1, password=PASSWORD)
    async with connected(node, "CP-TARGET", additional_headers=_basic("CP-TARGET", PASSWORD)) as target:
        assert (await target.boot()).status == "Accepted"  # verified, so remembered for a while
    verifier, guard = node.gateway.verifier, node.gateway.guard
    assert guard.counters.succeeded == 1

    async with connected(node, "CP-ONLINE", additional_headers=_basic("CP-ONLINE", PASSWORD)) as online:
        assert (await online.boot()).status == "Accepted"
        verified_before = verifier.verifications

        # One guess after another: the free failures get 401, the next a 429 without scrypt.
        wrong = [_basic("CP-TARGET", f"guess-{n:04d}-of-the-password") for n in range(ATTEMPTS)]
        answers = [await _refusal(node, "CP-TARGET", headers) for headers in wrong[: MAX_FAILURES + 1]]
        assert [status for status, _ in answers] == [401] * MAX_FAILURES + [429]
        assert answers[-1][1] is not None and int(answers[-1][1]) >= 1

        # Then the rest at 50 concurrent connections, while the online charger keeps talking
        # and the target station reconnects halfway with its recently verified password.
        halfway, attack_over = asyncio.Event(), asyncio.Event()
        outcomes: list[tuple[int, str | None]] = []
        gate = asyncio.Semaphore(CONCURRENCY)

        async def guess(headers: dict[str, str]) -> None:
            async with gate:
                outcomes.append(await _refusal(node, "CP-TARGET", headers))
                if len(outcomes) == ATTEMPTS // 2:
                    halfway.set()

        async def keep_talking() -> int:
            answered = 0
            while not attack_over.is_set():
                await online.call(call.Heartbeat(), suppress=False)
                answered += 1
            await online.status(1, "Charging")
            return answered + 1

        async def reconnect_target() -> str:
            await halfway.wait()
            async with connected(
                node, "CP-TARGET", additional_headers=_basic("CP-TARGET", PASSWORD)
            ) as again:
                return str((await again.boot()).status)

        talking = asyncio.create_task(keep_talking())
        reconnected = asyncio.create_task(reconnect_target())
        await asyncio.gather(*(guess(headers) for headers in wrong[MAX_FAILURES + 1 :]))
        attack_over.set()

        assert await reconnected == "Accepted"
        assert await talking > 0
        assert outcomes == [(429, "1")] * (ATTEMPTS - MAX_FAILURES - 1)
        # 400 guesses, 3 scrypt runs: the free failures. The reconnect ran none either.
        assert verifier.verifications - verified_before == MAX_FAILURES
        assert guard.counters.limited == ATTEMPTS - MAX_FAILURES
        assert guard.counters.remembered == 1

        await settled(node)
        rows = (await api.get(f"/sites/{site['id']}/charge-points")).json()["items"]
        assert {row["ocpp_id"]: row["status"] for row in rows}["CP-ONLINE"] == "Charging"

        async def only_online_connected() -> None:
            assert node.gateway.connected == ["CP-ONLINE"]

        await eventually(only_online_connected)  # the target's reconnection has ended


async def test_a_station_not_verified_recently_waits_out_the_limit_of_its_address(node, api, site):
    for ocpp_id in ("CP-1", "CP-2", "CP-3", "CP-4"):
        await commission(api, site["id"], ocpp_id, password=PASSWORD)
    verifier = node.gateway.verifier
    for ocpp_id in ("CP-1", "CP-2", "CP-3"):  # one guess at each: no station is limited
        assert (await _refusal(node, ocpp_id, _basic(ocpp_id, "guess-0000-of-the-password")))[0] == 401
    verified = verifier.verifications
    status, retry_after = await _refusal(node, "CP-4", _basic("CP-4", PASSWORD))
    assert (status, retry_after) == (429, "1")  # the address is; its password was not even checked
    assert verifier.verifications == verified


async def test_attempts_without_a_password_cost_nothing_and_count_for_nothing(node, api, site):
    await commission(api, site["id"], "CP-1", password=PASSWORD)
    for headers in (None, _basic("CP-OTHER", PASSWORD), {"Authorization": "Basic !!"}) * 4:
        assert (await _refusal(node, "CP-1", headers))[0] == 401
    assert node.gateway.verifier.verifications == 0
    async with connected(node, "CP-1", additional_headers=_basic("CP-1", PASSWORD)) as charger:
        assert (await charger.boot()).status == "Accepted"


async def test_stations_connecting_together_from_one_address_all_get_in(node, api, site):
    """A site's chargers behind one NAT after a restart: more than the free failures at once,
    each verified in turn, none refused."""
    ocpp_ids = [f"CP-{n}" for n in range(MAX_FAILURES * 3)]
    for ocpp_id in ocpp_ids:
        await commission(api, site["id"], ocpp_id, password=PASSWORD)

    async def boot(ocpp_id: str) -> str:
        async with connected(node, ocpp_id, additional_headers=_basic(ocpp_id, PASSWORD)) as charger:
            return str((await charger.boot()).status)

    assert await asyncio.gather(*(boot(ocpp_id) for ocpp_id in ocpp_ids)) == ["Accepted"] * len(ocpp_ids)
    assert node.gateway.verifier.verifications == len(ocpp_ids)
    assert node.gateway.guard.counters.limited == 0
