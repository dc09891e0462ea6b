"""Running a simulation: connect every charger, let them live until the deadline (or until told to
stop), then stop their open transactions, close their connections and print the summary."""

from __future__ import annotations

import asyncio
import base64
import ssl
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import websockets
from ocpp.exceptions import OCPPError
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from cpms.simulation import chargers16, chargers201
from cpms.simulation.charger import Cards, SimulatedCharger
from cpms.simulation.stats import Stats

CHARGERS: dict[str, tuple[type[SimulatedCharger], str]] = {
    "1.6": (chargers16.Charger16, chargers16.SUBPROTOCOL),
    "2.0.1": (chargers201.Charger201, chargers201.SUBPROTOCOL),
}
OCPP_VERSIONS = tuple(CHARGERS)
# Seconds the chargers have, once the time is up, to stop their transactions and close; whatever
# is still running after them is cancelled, so a run ends this long after its duration at most.
GRACE = 1.0
CLOSE_MARGIN = 0.25  # for the closing handshakes after the transactions are stopped
CONNECT_TIMEOUT = 10.0


async def simulate(
    url: str,
    ocpp_ids: Sequence[str],
    *,
    connectors: int = 2,
    pause: float = 2.0,
    duration: float = 60.0,
    report_every: float | None = 10.0,
    id_tags: Sequence[str] = (),
    unknown_tag_share: float = 0.1,
    ocpp_version: str = "1.6",
    password: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    stop: asyncio.Event | None = None,
) -> Stats:
    """Run one simulated charger per OCPP identity against the gateway at `url` (`ws://` or
    `wss://HOST:PORT/ocpp`) for `duration` seconds, or until `stop` is set; print a progress line
    every `report_every` seconds and a summary at the end, and return the counts.

    With `id_tags`, each connector runs charging sessions with those cards, a share
    `unknown_tag_share` of them with a card nobody knows; without, it plugs in and out only.
    `password` is every station's basic-auth password (username: its OCPP identity); `ssl_context`
    is the TLS client context for `wss://`.
    """
    if ocpp_version not in CHARGERS:
        raise ValueError(f"ocpp_version must be one of {', '.join(OCPP_VERSIONS)}")
    stats = Stats(chargers=len(ocpp_ids))
    cards = Cards(list(id_tags), unknown_tag_share) if id_tags else None
    ended = asyncio.Event()
    started = time.monotonic()

    async def run(ocpp_id: str) -> None:
        await run_charger(
            url,
            ocpp_id,
            stats,
            ended,
            connectors=connectors,
            pause=pause,
            cards=cards,
            ocpp_version=ocpp_version,
            password=password,
            ssl_context=ssl_context,
        )

    chargers = [asyncio.create_task(run(ocpp_id)) for ocpp_id in ocpp_ids]
    watchers: list[asyncio.Task[Any]] = [asyncio.create_task(asyncio.wait(chargers))]  # none left
    if stop is not None:
        watchers.append(asyncio.create_task(stop.wait()))
    reporter = asyncio.create_task(_report(stats, report_every)) if report_every else None
    try:
        await asyncio.wait(watchers, timeout=duration, return_when=asyncio.FIRST_COMPLETED)
        ended.set()
        await asyncio.wait(chargers, timeout=GRACE + CLOSE_MARGIN)
    finally:
        for task in [*chargers, *watchers, *([reporter] if reporter else [])]:
            task.cancel()
        await asyncio.wait(chargers, timeout=CLOSE_MARGIN)  # bounded: a cancellation can be lost
    for task in chargers:
        if not task.done():
            stats.error("a charger did not stop when cancelled")
        elif not task.cancelled() and (fault := task.exception()) is not None:
            stats.error(f"charger failed: {type(fault).__name__}: {fault}")  # the simulator's own
    for line in stats.errors:
        print(line, flush=True)
    print(stats.summary(time.monotonic() - started), flush=True)
    return stats


async def run_charger(
    url: str,
    ocpp_id: str,
    stats: Stats,
    ended: asyncio.Event,
    *,
    connectors: int,
    pause: float,
    cards: Cards | None,
    ocpp_version: str,
    password: str | None,
    ssl_context: ssl.SSLContext | None,
) -> None:
    """One charger: connect, live until `ended` is set or the connection is lost, then stop its
    open transactions (within `GRACE`) and close."""
    charger_class, subprotocol = CHARGERS[ocpp_version]
    headers = None if password is None else {"Authorization": _basic(ocpp_id, password)}
    try:
        connection = await websockets.connect(
            f"{url.rstrip('/')}/{ocpp_id}",
            subprotocols=[Subprotocol(subprotocol)],
            additional_headers=headers,
            ssl=ssl_context if url.startswith("wss:") else None,
            open_timeout=CONNECT_TIMEOUT,
            close_timeout=CLOSE_MARGIN,
        )
    except InvalidStatus as refused:
        stats.not_connected[f"HTTP {refused.response.status_code}"] += 1
        return
    except ssl.SSLCertVerificationError as error:
        stats.not_connected["TLS certificate not trusted"] += 1
        stats.error(f"{ocpp_id}: {error.verify_message}")
        return
    except (OSError, TimeoutError, InvalidHandshake) as error:
        stats.not_connected[f"unreachable ({type(error).__name__})"] += 1
        stats.error(f"{ocpp_id}: cannot connect: {error}")
        return
    try:
        if connection.subprotocol != subprotocol:
            stats.not_connected[f"{subprotocol} not offered"] += 1
            return
        charger = charger_class(
            ocpp_id, connection, stats=stats, connectors=connectors, pause=pause, cards=cards
        )
        stats.connected += 1
        stats.ever_connected += 1
        try:
            await _live(charger, ended, stats)
        finally:
            stats.connected -= 1
        await connection.close()
    finally:
        connection.transport.abort()  # no-op once closed; cancelled while closing, it closes now


async def _live(charger: SimulatedCharger, ended: asyncio.Event, stats: Stats) -> None:
    """Let `charger` live on its connection until `ended` is set or the connection is lost."""
    receiver = asyncio.create_task(charger.start())  # type: ignore[attr-defined]
    living = asyncio.create_task(charger.live())
    ending = asyncio.create_task(ended.wait())
    try:
        await asyncio.wait([receiver, living, ending], return_when=asyncio.FIRST_COMPLETED)
        charger.retiring = True
        living.cancel()
        await asyncio.wait([living], timeout=GRACE)
        if not ending.done() or receiver.done():
            stats.lost += 1
            stats.error(f"{charger.id}: connection lost: {_why(receiver, living)}")
            return
        if living.done():
            charger.retiring = False  # its cycles are over: only `end` sends now
            try:
                async with asyncio.timeout(GRACE):
                    await charger.end()
            except (ConnectionClosed, OCPPError, TimeoutError) as error:
                stats.error(f"{charger.id}: stopping its transactions: {type(error).__name__}: {error}")
    finally:
        for task in (receiver, living, ending):
            task.cancel()
        await asyncio.wait([receiver, living, ending], timeout=CLOSE_MARGIN)


def tls_context(ca_file: Path | None = None, *, insecure: bool = False) -> ssl.SSLContext:
    """The chargers' TLS client context: the system's CAs or `ca_file`'s, or no check at all."""
    context = ssl.create_default_context(cafile=None if ca_file is None else str(ca_file))
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


async def _report(stats: Stats, every: float) -> None:
    started = time.monotonic()
    previous = stats.snapshot()
    while True:
        await asyncio.sleep(every)
        print(stats.progress(time.monotonic() - started, previous, every), flush=True)
        previous = stats.snapshot()


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _why(receiver: asyncio.Task[None], living: asyncio.Task[None]) -> str:
    """What ended a charger before its time: the connection closing, or a fault of its own."""
    for task in (receiver, living):
        if task.done() and not task.cancelled() and (error := task.exception()) is not None:
            while isinstance(error, BaseExceptionGroup):  # from the charger's TaskGroup
                error = error.exceptions[0]
            return f"{type(error).__name__}: {error}"
    return "closed"
