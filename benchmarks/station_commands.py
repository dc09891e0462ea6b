"""Station commands through `cpms serve`: HTTP request -> recorded -> CALL -> charger's answer ->
recorded -> 201, for many stations at once and for one station that several clients command.

The server runs as its own process (embedded roles, SQLite or PostgreSQL); this process runs the
stations (the `ocpp` package's ChargePoint answering UnlockConnector at once) and the HTTP
clients. Each figure is a command the charger answered, both of its events durably stored.

    .venv/bin/python benchmarks/station_commands.py --backend sqlite --stations 100 --rounds 10
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from typing import Any

import httpx
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action

from benchmarks.serving import served
from cpms.client import Api
from cpms.simulation.commissioning import commission


class Station(ChargePoint):
    @on(Action.unlock_connector)
    async def on_unlock(self, connector_id: int, **_: Any) -> Any:
        return call_result.UnlockConnector(status="Unlocked")


async def connect(url: str, ocpp_id: str) -> tuple[Any, asyncio.Task[None]]:
    ws = await websockets.connect(f"{url}/{ocpp_id}", subprotocols=["ocpp1.6"])  # type: ignore[list-item]
    station = Station(ocpp_id, ws)
    task = asyncio.create_task(station.start())
    await station.call(call.BootNotification(charge_point_vendor="Bench", charge_point_model="B1"))
    return ws, task


async def timed(client: httpx.AsyncClient, ocpp_id: str, latencies: list[float]) -> None:
    began = time.perf_counter()
    response = await client.post(f"/stations/{ocpp_id}/connectors/1/unlock")
    latencies.append(time.perf_counter() - began)
    assert response.status_code == 201 and response.json()["outcome"] == "accepted", response.text


def report(label: str, latencies: list[float], elapsed: float) -> None:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(
        f"{label}: {len(latencies)} commands in {elapsed:.2f} s = {len(latencies) / elapsed:.0f}/s,"
        f" latency p50 {statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms",
        flush=True,
    )


async def drive(http: int, ocpp: int, api_key: str, ids: list[str], rounds: int, clients: int) -> None:
    connections = [await connect(f"ws://127.0.0.1:{ocpp}/ocpp", ocpp_id) for ocpp_id in ids]
    limits = httpx.Limits(max_connections=len(ids) + clients)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{http}/api/v1",
        headers={"Authorization": f"Bearer {api_key}", "User-Agent": "cpms-bench"},
        timeout=60,
        limits=limits,
    ) as client:
        await timed(client, ids[0], [])  # warm-up
        latencies: list[float] = []
        began = time.perf_counter()
        for _ in range(rounds):  # every station commanded at once, round after round
            await asyncio.gather(*(timed(client, ocpp_id, latencies) for ocpp_id in ids))
        report(f"{len(ids)} stations at once", latencies, time.perf_counter() - began)

        latencies = []
        began = time.perf_counter()
        for _ in range(rounds):  # one station, `clients` commands at once: delivered one by one
            await asyncio.gather(*(timed(client, ids[0], latencies) for _ in range(clients)))
        report(f"1 station, {clients} clients at once", latencies, time.perf_counter() - began)
    for ws, task in connections:
        task.cancel()
        await ws.close()


def run(backend: str, stations: int, rounds: int, clients: int) -> None:
    with served(backend) as server:
        http, ocpp, api_key = server.http, server.ocpp, server.api_key
        ids = [f"CMD-{n:05d}" for n in range(1, stations + 1)]
        commission(Api(f"http://127.0.0.1:{http}", api_key), ids, connectors=2)
        print(
            f"backend={backend} stations={stations} rounds={rounds} clients={clients} cores={os.cpu_count()}",
            flush=True,
        )
        asyncio.run(drive(http, ocpp, api_key, ids, rounds, clients))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--stations", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=10, help="concurrent commands to the one station")
    args = parser.parse_args()
    run(args.backend, args.stations, args.rounds, args.clients)


if __name__ == "__main__":
    main()
