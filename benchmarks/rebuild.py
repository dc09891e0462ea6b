"""Rebuilding every projection side by side (`cpms projections rebuild --all`) while chargers send
and clients read: how long it takes, and what it costs the reads and the chargers meanwhile.

`cpms serve` runs as its own process (SQLite or PostgreSQL, with an operator key). This process
commissions `--chargers` stations (2 connectors, `--cards` cards granted) through the API, then
fills the log through the real path: `cpms simulate` with no pause between messages (sessions:
Authorize, start, meter values, stop, and the statuses between) until the log's head reaches
`--events` (about 500 to 700 events/s on the 2-core development machine: 120,000 in 3 minutes).
Then, with `cpms simulate` sending at its usual pace (`--pause`, a live load) and
`--readers` clients reading the sheet (`GET /sites/{id}/charge-points`), the sessions
(`/sites/{id}/sessions`) and the site (`/sites/{id}`) in turn, each every `--read-interval`:

1. a baseline of `--baseline` seconds without rebuild;
2. `cpms projections rebuild --all` run as the operator would (a CLI process of its own, which
   exits 0 once every projection is switched), timed from start to exit; after `--timeout`
   seconds it is stopped and the run reported as unfinished (the rebuild could not catch up).

It prints the rebuild's wall time and rate (the log's head when asked / wall time), each read's
p50 / p99 / max and the non-200 answers in both phases, the reads within a second of a switch,
the live projections' largest lag (`GET /api/v1/projections`, polled every second), and the
chargers' acknowledgements (msg/s and latency, from `cpms simulate`'s summary of each phase, whose
first seconds are the chargers' boots: its p99 holds that burst). `--save` keeps the raw figures.

    .venv/bin/python -m benchmarks.rebuild --backend sqlite --events 120000
    .venv/bin/python -m benchmarks.rebuild --backend postgresql --events 120000 --chargers 100 --timeout 600
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import httpx

from benchmarks.serving import Server, served
from cpms.client import Api
from cpms.simulation.commissioning import card_uids, commission

OPERATOR_KEY = "bench-operator-key-0123456789abcdef"  # CPMS_OPERATOR_API_KEY: 24 characters or more
SETTLE = 5.0  # seconds for the load's chargers to connect and boot before measuring


@dataclass(frozen=True)
class Read:
    at: float  # time.time() when answered
    name: str
    status: int
    ms: float


@dataclass
class Watch:
    """What the background threads saw: reads, and the projections' states once a second."""

    reads: list[Read] = field(default_factory=list)
    samples: list[tuple[float, list[dict[str, Any]]]] = field(default_factory=list)
    failed_polls: int = 0  # GET /api/v1/projections not answered 200
    stop: threading.Event = field(default_factory=threading.Event)


def operator(server: Server) -> httpx.Client:
    headers = {"Authorization": f"Bearer {OPERATOR_KEY}"}
    return httpx.Client(base_url=server.base_url, headers=headers, timeout=60)


def projections(client: httpx.Client) -> list[dict[str, Any]]:
    response = client.get("/api/v1/projections")
    response.raise_for_status()
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def head(client: httpx.Client) -> int:
    return max(int(p["head"] or 0) for p in projections(client))


def simulator(server: Server, ids: Sequence[str], cards: int, pause: float) -> subprocess.Popen[str]:
    """`cpms simulate` on the stations commissioned, until sent SIGINT (it then prints its summary)."""
    args = ["--url", f"ws://127.0.0.1:{server.ocpp}/ocpp", "--chargers", str(len(ids))]
    args += ["--prefix", ids[0].rpartition("-")[0], "--cards", str(cards), "--unknown-cards", "0.1"]
    args += ["--pause", str(pause), "--duration", "36000", "--report-every", "5"]
    return subprocess.Popen(
        [sys.executable, "-m", "cpms.cli", "simulate", *args],
        env=server.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop_simulator(process: subprocess.Popen[str], *, show: bool = False) -> str:
    """Stop it as Ctrl-C does; its summary line (and all it printed if `show`)."""
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    if show:
        print(output, end="", flush=True)
    lines = [line for line in output.splitlines() if line.startswith("summary:")]
    return lines[-1] if lines else "no summary"


def fill(server: Server, ids: Sequence[str], cards: int, events: int) -> None:
    """The log up to `events`, through `cpms simulate` sending back to back."""
    began = time.monotonic()
    process = simulator(server, ids, cards, 0.0)
    with operator(server) as client:
        reached = head(client)
        while reached < events:
            time.sleep(2)
            reached = head(client)
            if process.poll() is not None:
                raise SystemExit(f"cpms simulate ended early:\n{process.communicate()[0]}")
    summary = stop_simulator(process, show=True)
    seconds = time.monotonic() - began
    print(
        f"filled: {reached:,} events in {seconds:.0f} s = {reached / seconds:,.0f}/s; {summary}", flush=True
    )


def caught_up(server: Server, timeout: float = 300) -> None:
    """Until every live projection has folded the whole log."""
    deadline = time.monotonic() + timeout
    with operator(server) as client:
        while max(int(p["lag"] or 0) for p in projections(client)) > 0:
            if time.monotonic() > deadline:
                raise SystemExit("the projections did not catch up with the log")
            time.sleep(1)


def reader(server: Server, site_id: str, interval: float, watch: Watch) -> None:
    paths = {
        "sheet": f"/api/v1/sites/{site_id}/charge-points",
        "sessions": f"/api/v1/sites/{site_id}/sessions",
        "site": f"/api/v1/sites/{site_id}",
    }
    headers = {"Authorization": f"Bearer {server.api_key}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as client:
        while not watch.stop.is_set():
            for name, path in paths.items():
                began = time.perf_counter()
                try:
                    status = client.get(path).status_code
                except httpx.HTTPError:
                    status = 0
                ms = (time.perf_counter() - began) * 1000
                watch.reads.append(Read(time.time(), name, status, ms))
                watch.stop.wait(max(0.0, interval - ms / 1000))


def poller(server: Server, watch: Watch) -> None:
    with operator(server) as client:
        while not watch.stop.is_set():
            try:
                watch.samples.append((time.time(), projections(client)))
            except httpx.HTTPError:
                watch.failed_polls += 1
            watch.stop.wait(1.0)


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else 0.0


def latency(reads: Sequence[Read]) -> str:
    values = [r.ms for r in reads]
    if not values:
        return "-"
    return (
        f"{len(values):>5}  {statistics.median(values):7.1f} {percentile(values, 0.99):8.1f}"
        f" {max(values):8.1f}"
    )


@dataclass(frozen=True)
class Phase:
    began: float
    ended: float
    acks: str

    def reads(self, watch: Watch) -> list[Read]:
        return [r for r in watch.reads if self.began <= r.at <= self.ended]


def baseline(server: Server, ids: Sequence[str], args: argparse.Namespace, watch: Watch) -> Phase:
    load = simulator(server, ids, args.cards, args.pause)
    time.sleep(SETTLE)
    began = time.time()
    time.sleep(args.baseline)
    ended = time.time()
    return Phase(began, ended, stop_simulator(load))


def rebuild(server: Server, ids: Sequence[str], args: argparse.Namespace) -> tuple[Phase, int, str]:
    load = simulator(server, ids, args.cards, args.pause)
    time.sleep(SETTLE)
    with operator(server) as client:
        asked_at = head(client)
    began = time.time()
    command = [sys.executable, "-m", "cpms.cli", "projections", "rebuild", "--all"]
    try:
        done = subprocess.run(command, env=server.env, capture_output=True, text=True, timeout=args.timeout)
        output, finished = done.stdout, done.returncode == 0
    except subprocess.TimeoutExpired as expired:  # measured as far as it went; the node goes on
        partial = expired.stdout or ""
        output = partial.decode(errors="replace") if isinstance(partial, bytes) else partial
        finished = False
        output += f"not done after {args.timeout:.0f} s: the command was stopped\n"
    ended = time.time()
    acks = stop_simulator(load)
    if not finished and not output.endswith("stopped\n"):
        raise SystemExit(f"cpms projections rebuild failed:\n{output}")
    return Phase(began, ended, acks), asked_at, output


def switches(watch: Watch) -> dict[str, float]:
    """When each projection switched to its rebuilt tables (its rebuild's `finished_at`)."""
    finished: dict[str, float] = {}
    for _, items in watch.samples:
        for p in items:
            rebuilt = p.get("rebuild") or {}
            if rebuilt.get("finished_at"):
                finished[p["name"]] = datetime.fromisoformat(rebuilt["finished_at"]).timestamp()
    return finished


def report(args: argparse.Namespace, watch: Watch, quiet: Phase, busy: Phase, asked_at: int) -> None:
    seconds = busy.ended - busy.began
    during = [items for at, items in watch.samples if busy.began <= at <= busy.ended]
    rates = [p["rebuild"]["rate"] for items in during for p in items if (p.get("rebuild") or {}).get("rate")]
    lags = [int(p["lag"] or 0) for items in during for p in items]
    quiet_lags = [
        int(p["lag"] or 0) for at, items in watch.samples if quiet.began <= at <= quiet.ended for p in items
    ]
    switched = switches(watch)
    heads = [int(p["head"] or 0) for items in during for p in items]
    near = [r for r in busy.reads(watch) if any(abs(r.at - t) <= 1.0 for t in switched.values())]
    print()
    print(
        f"backend={args.backend} events={asked_at:,} chargers={args.chargers}x2 cards={args.cards}"
        f" load pause={args.pause}s readers={args.readers} every {args.read_interval}s"
        f" cores={os.cpu_count()} load average={os.getloadavg()[0]:.1f}"
    )
    print(
        f"rebuild --all: {seconds:.1f} s wall, {asked_at / seconds:,.0f} events/s (head when asked / wall);"
        f" {len(switched)} projections switched; the log grew by {max(heads, default=asked_at) - asked_at:,}"
        f" events meanwhile; reported rate median"
        f" {statistics.median(rates) if rates else 0:,.0f} events/s"
    )
    if during and len(switched) < len(during[-1]):
        slowest = min(during[-1], key=lambda p: (p.get("rebuild") or {}).get("progress") or 0.0)
        progress = (slowest.get("rebuild") or {}).get("progress") or 0.0
        print(
            f"UNFINISHED: {len(switched)} of {len(during[-1])} switched; at the end {slowest['name']} was at"
            f" {progress:.0%} of the log, the live projections {max(lags, default=0):,} events behind"
        )
    if switched:
        first, last = min(switched.values()), max(switched.values())
        print(f"switches from {first - busy.began:.1f} s to {last - busy.began:.1f} s after the request")
    print(f"{'reads':<28} {'n':>5}  {'p50 ms':>7} {'p99 ms':>8} {'max ms':>8}  non-200")
    for label, phase in (("baseline", quiet), ("during rebuild", busy)):
        reads = phase.reads(watch)
        for name in ("sheet", "sessions", "site", None):
            chosen = [r for r in reads if name is None or r.name == name]
            failed = sum(1 for r in chosen if r.status != 200)
            print(f"{label + ' ' + (name or 'all'):<28} {latency(chosen)}  {failed}")
    print(f"{'within 1 s of a switch':<28} {latency(near)}  {sum(1 for r in near if r.status != 200)}")
    print(
        f"live lag max (events): baseline {max(quiet_lags, default=0)}, during rebuild {max(lags, default=0)}"
    )
    print(
        f"GET /api/v1/projections not 200: {watch.failed_polls} of {len(watch.samples) + watch.failed_polls}"
    )
    print(f"chargers, baseline:       {quiet.acks.removeprefix('summary: ')}")
    print(f"chargers, during rebuild: {busy.acks.removeprefix('summary: ')}")


def run(args: argparse.Namespace) -> None:
    settings = {"CPMS_OPERATOR_API_KEY": OPERATOR_KEY}
    with open(args.server_log, "w") as log, served(args.backend, output=log, extra_env=settings) as server:
        ids = [f"BENCH-{n:04d}" for n in range(1, args.chargers + 1)]
        api = Api(server.base_url, server.api_key)
        done = commission(api, ids, connectors=2, id_tags=card_uids(args.cards))
        print(
            f"backend={args.backend}: {len(ids)} stations commissioned; server log {args.server_log}",
            flush=True,
        )
        fill(server, ids, args.cards, args.events)
        caught_up(server)
        watch = Watch()
        threads = [threading.Thread(target=poller, args=(server, watch))]
        threads += [
            threading.Thread(target=reader, args=(server, done.site_id, args.read_interval, watch))
            for _ in range(args.readers)
        ]
        for thread in threads:
            thread.start()
        try:
            quiet = baseline(server, ids, args, watch)
            busy, asked_at, output = rebuild(server, ids, args)
        finally:
            watch.stop.set()
            for thread in threads:
                thread.join()
        print(output, end="")
        if args.save:
            save(args, watch, quiet, busy, asked_at)
        report(args, watch, quiet, busy, asked_at)


def save(args: argparse.Namespace, watch: Watch, quiet: Phase, busy: Phase, asked_at: int) -> None:
    """Every read and projections' sample, to look at the figures again."""
    raw = {
        "args": vars(args),
        "asked_at": asked_at,
        "phases": {"baseline": asdict(quiet), "rebuild": asdict(busy)},
        "reads": [asdict(r) for r in watch.reads],
        "samples": watch.samples,
        "failed_polls": watch.failed_polls,
    }
    with open(args.save, "w") as out:
        json.dump(raw, out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--events", type=int, default=200_000, help="fill the log up to this many events")
    parser.add_argument("--chargers", type=int, default=100, help="simulated chargers (2 connectors each)")
    parser.add_argument("--cards", type=int, default=10, help="cards granted at the stations")
    parser.add_argument(
        "--pause", type=float, default=2.0, help="the live load: mean seconds between a connector's steps"
    )
    parser.add_argument("--baseline", type=float, default=15.0, help="seconds of reads without rebuild")
    parser.add_argument("--readers", type=int, default=2, help="clients reading side by side")
    parser.add_argument("--read-interval", type=float, default=0.1, help="seconds between a client's reads")
    parser.add_argument(
        "--timeout",
        type=float,
        default=900,
        help="seconds to let the rebuild run before reporting it unfinished",
    )
    parser.add_argument("--save", metavar="JSON", help="write every read and sample to this file")
    parser.add_argument("--server-log", default="/tmp/cpms-bench-rebuild.log", help="the server's output")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
