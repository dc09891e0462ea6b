"""OCPP messages acknowledged per second by `cpms serve`, driven by `cpms simulate`'s chargers.

The server runs as its own process (embedded roles, SQLite or PostgreSQL); this process runs the
simulated chargers with no pause between messages, so every figure is a CALLRESULT received
after the message's events were durably stored.

    .venv/bin/python benchmarks/ocpp_throughput.py --backend sqlite --chargers 200 --duration 20
    .venv/bin/python benchmarks/ocpp_throughput.py --backend postgresql
    .venv/bin/python benchmarks/ocpp_throughput.py --server-src /tmp/before/src  # another checkout's server

To compare with an earlier commit: `git archive COMMIT src | tar -x -C /tmp/before`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import urllib.request

from benchmarks.serving import served
from cpms.client import Api
from cpms.simulation import simulate
from cpms.simulation.commissioning import card_uids, commission


def run(
    backend: str, chargers: int, duration: float, connectors: int, server_src: str | None, cards: int
) -> None:
    with served(backend, server_src=server_src) as server:
        http, ocpp, api_key = server.http, server.ocpp, server.api_key
        ids = [f"BENCH-{n:05d}" for n in range(1, chargers + 1)]
        id_tags = card_uids(cards)
        commission(Api(f"http://127.0.0.1:{http}", api_key), ids, connectors=connectors, id_tags=id_tags)
        print(
            f"backend={backend} chargers={chargers} connectors={connectors} cards={cards}"
            f" duration={duration}s cores={os.cpu_count()} server={server_src or 'this checkout'}",
            flush=True,
        )
        stats = asyncio.run(
            simulate(
                f"ws://127.0.0.1:{ocpp}/ocpp",
                ids,
                connectors=connectors,
                pause=0.0,
                duration=duration,
                report_every=5.0,
                id_tags=id_tags,
                unknown_tag_share=0.0,
            )
        )
        health = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{http}/health").read())
        writer = health["writer"]
        print(
            f"writer: {writer['commands']} commands in {writer['batches']} transactions "
            f"= {writer['commands'] / max(writer['batches'], 1):.1f} per commit",
            flush=True,
        )
        if cards:
            print(f"transactions: {stats.started} started, {stats.completed} completed", flush=True)
        if stats.failed:
            print(f"WARNING: {stats.failed} calls failed")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--chargers", type=int, default=200)
    parser.add_argument("--connectors", type=int, default=2)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--server-src", help="run `cpms serve` from this src directory instead")
    parser.add_argument(
        "--cards",
        type=int,
        default=0,
        help="with N > 0, every connector runs transactions (Authorize, Start, MeterValues, Stop) with"
        " N cards granted at the stations; 0 (default): boots and status notifications only",
    )
    args = parser.parse_args()
    run(args.backend, args.chargers, args.duration, args.connectors, args.server_src, args.cards)


if __name__ == "__main__":
    main()
