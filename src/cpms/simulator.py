"""Simulated OCPP 1.6 chargers built on the `ocpp` package's ChargePoint, for demos and load.

Each charger connects, boots, reports its connectors Available, then plugs in and out at
random, heartbeating on the interval the central system gives it. Every CALL is counted when
its CALLRESULT arrives, so the figures printed are messages acknowledged by the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import websockets
from ocpp.v16 import ChargePoint, call
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

from cpms.application import utc_now
from cpms.timestamps import to_iso


@dataclass
class Stats:
    acked: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    connected: int = 0

    def summary(self, seconds: float) -> str:
        lat = sorted(self.latencies) or [0.0]
        p50 = statistics.median(lat) * 1000
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        return (
            f"{self.connected} chargers connected, {self.acked} messages acked in {seconds:.1f} s"
            f" = {self.acked / max(seconds, 1e-9):.0f} msg/s; latency p50 {p50:.1f} ms,"
            f" p99 {p99:.1f} ms; {self.failed} failed"
        )


class SimulatedCharger(ChargePoint):
    def __init__(self, ocpp_id: str, connection: Any, stats: Stats, connectors: int) -> None:
        super().__init__(ocpp_id, connection, response_timeout=30)
        self._stats = stats
        self._connectors = connectors
        self.heartbeat_interval = 300

    async def send(self, payload: Any) -> Any:
        started = time.perf_counter()
        try:
            result = await self.call(payload, suppress=False)
        except Exception:
            self._stats.failed += 1
            raise
        self._stats.acked += 1
        self._stats.latencies.append(time.perf_counter() - started)
        return result

    async def status(self, connector_id: int, status: ChargePointStatus) -> None:
        await self.send(
            call.StatusNotification(
                connector_id=connector_id,
                error_code=ChargePointErrorCode.no_error,
                status=status,
                timestamp=to_iso(utc_now()),
            )
        )

    async def boot(self) -> None:
        result = await self.send(
            call.BootNotification(
                charge_point_vendor="cpms-sim",
                charge_point_model="Simulated AC 22",
                charge_point_serial_number=f"SN-{self.id}",
                firmware_version="1.0.0",
            )
        )
        self.heartbeat_interval = result.interval
        for connector_id in range(1, self._connectors + 1):
            await self.status(connector_id, ChargePointStatus.available)

    async def plug_in_and_out(self, connector_id: int, pause: float) -> None:
        for status in (
            ChargePointStatus.preparing,
            ChargePointStatus.charging,
            ChargePointStatus.finishing,
            ChargePointStatus.available,
        ):
            await self.status(connector_id, status)
            await asyncio.sleep(pause * random.uniform(0.5, 1.5))

    async def heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            await self.send(call.Heartbeat())


async def run_charger(
    url: str, ocpp_id: str, stats: Stats, *, connectors: int, pause: float, deadline: float
) -> None:
    async with websockets.connect(f"{url.rstrip('/')}/{ocpp_id}", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        charger = SimulatedCharger(ocpp_id, ws, stats, connectors)
        receiver = asyncio.create_task(charger.start())
        stats.connected += 1
        heartbeats: asyncio.Task[None] | None = None
        try:
            await charger.boot()
            heartbeats = asyncio.create_task(charger.heartbeats())
            while time.monotonic() < deadline:
                await charger.plug_in_and_out(random.randint(1, connectors), pause)
                await asyncio.sleep(pause * random.uniform(0, 2))
        finally:
            for task in (heartbeats, receiver):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task


async def simulate(
    url: str,
    ocpp_ids: list[str],
    *,
    connectors: int = 2,
    pause: float = 2.0,
    duration: float = 60.0,
    report_every: float | None = 10.0,
) -> Stats:
    """Run the chargers until `duration` has passed; print progress every `report_every` s."""
    stats = Stats()
    started = time.monotonic()
    deadline = started + duration
    tasks = [
        asyncio.create_task(
            run_charger(url, ocpp_id, stats, connectors=connectors, pause=pause, deadline=deadline)
        )
        for ocpp_id in ocpp_ids
    ]
    reporter = asyncio.create_task(_report(stats, started, report_every)) if report_every else None
    results = await asyncio.gather(*tasks, return_exceptions=True)
    if reporter is not None:
        reporter.cancel()
    errors = [r for r in results if isinstance(r, BaseException)]
    for error in errors[:5]:
        print(f"charger failed: {type(error).__name__}: {error}")
    print(stats.summary(time.monotonic() - started), flush=True)
    return stats


async def _report(stats: Stats, started: float, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        print(stats.summary(time.monotonic() - started), flush=True)
