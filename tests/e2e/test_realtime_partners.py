"""Real-time authorization with several eMSPs asked at once: the first ALLOWED decides, a stalled
one neither delays it nor outlasts the timeout, and each refusal is its partner's own."""

from __future__ import annotations

import asyncio
import contextlib
import time

from cpms.api.ocpi.authorize import RealtimeAuthorization
from cpms.application.roaming_authorization import RealtimePartner, RealtimeRequest
from tests.emsp import Emsp, running_emsp


def partner(emsp: Emsp, party_id: str) -> RealtimePartner:
    tokens_url = f"http://127.0.0.1:{emsp.port}/ocpi/2.2.1/tokens"
    return RealtimePartner(f"id-{party_id}", "FR", party_id, tokens_url, f"B-{party_id}")


def request(*partners: RealtimePartner) -> RealtimeRequest:
    return RealtimeRequest(partners, "CAFE01", "RFID", "site-1", "ST-1", 2)


async def test_the_first_allowed_decides_while_another_emsp_stalls():
    async with running_emsp() as stalled, running_emsp() as quick:
        stalled.stall_s = 5
        began = time.monotonic()
        async with contextlib.aclosing(RealtimeAuthorization(timeout=2)) as authorize:
            [decision] = await authorize(request(partner(stalled, "SLO"), partner(quick, "QIK")))
        assert time.monotonic() - began < 1.0
        assert (decision.party_id, decision.outcome, decision.authorization_reference) == (
            "QIK",
            "accepted",
            "REF-0001",
        )
        assert quick.authorize_requests[0]["body"] == {"location_id": "site-1", "evse_uids": ["ST-1*2"]}


async def test_without_an_allowed_each_partner_says_its_own_outcome_within_the_timeout():
    async with running_emsp() as stalled, running_emsp() as blocking:
        stalled.stall_s = 5
        blocking.allowed = "BLOCKED"
        began = time.monotonic()
        async with contextlib.aclosing(RealtimeAuthorization(timeout=1)) as authorize:
            decisions = await authorize(request(partner(stalled, "SLO"), partner(blocking, "BLK")))
        assert time.monotonic() - began < 1.5
        assert [(d.party_id, d.outcome) for d in decisions] == [("SLO", "timeout"), ("BLK", "rejected")]
        unreachable = RealtimePartner("id-X", "FR", "XXX", "http://127.0.0.1:9/ocpi/2.2.1/tokens", "B")
        async with contextlib.aclosing(RealtimeAuthorization(timeout=1)) as authorize:
            [error] = await authorize(request(unreachable))
        assert error.outcome == "error"


async def test_one_connection_per_emsp_serves_every_authorization():
    """The node keeps its connections to each eMSP: no new TCP (or TLS) handshake per driver."""
    async with running_emsp() as emsp:
        accepted = 0

        async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal accepted
            accepted += 1
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", emsp.port)

            async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
                with contextlib.suppress(ConnectionError):
                    while data := await source.read(65536):
                        sink.write(data)
                        await sink.drain()
                sink.close()

            await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

        proxy = await asyncio.start_server(forward, "127.0.0.1", 0)
        port = proxy.sockets[0].getsockname()[1]
        counted = RealtimePartner("id-P", "FR", "PRX", f"http://127.0.0.1:{port}/ocpi/2.2.1/tokens", "B-P")
        async with proxy, contextlib.aclosing(RealtimeAuthorization(timeout=2)) as authorize:
            outcomes = [(await authorize(request(counted)))[0].outcome for _ in range(5)]
        assert outcomes == ["accepted"] * 5
        assert len(emsp.authorize_requests) == 5
        assert accepted == 1
