"""Honest chargers' heartbeat latency without and during a basic-auth guessing attack.

`cpms serve` runs as its own process (embedded roles, SQLite or PostgreSQL). This process
connects honest OCPP 1.6 chargers (the `ocpp` package's ChargePoint, with their passwords) that
heartbeat in a loop, and measures their latency for a while; then a third process sends wrong
passwords for other stations at N concurrent connections (its own event loop, so the attack's
client work does not delay the honest chargers' answers in this one), and the latency is
measured again while that lasts. Both are printed side by side, with the server's CPU time in
each window and how the attack's handshakes were answered.

    .venv/bin/python -m benchmarks.auth_guessing --backend sqlite
    .venv/bin/python -m benchmarks.auth_guessing --rate 35            # the attack paced, attempts/s
    .venv/bin/python -m benchmarks.auth_guessing --server-src /tmp/before/src  # another checkout's server
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import websockets
from ocpp.v16 import ChargePoint, call
from websockets.exceptions import InvalidStatus

from benchmarks.serving import served
from cpms.client import Api

PASSWORD = "correct-horse-battery-staple"


@dataclass
class Heartbeats:
    samples: list[tuple[float, float]] = field(default_factory=list)  # (sent at, latency), seconds
    failed: int = 0

    def between(self, start: float, end: float) -> list[float]:
        return sorted(latency for sent, latency in self.samples if start <= sent < end)


@dataclass(frozen=True)
class Window:
    start: float  # time.monotonic(): system-wide, so comparable with the attacker's clock
    end: float
    server_cpu: float  # seconds of CPU the server process used in it


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def honest_charger(
    url: str, ocpp_id: str, beats: Heartbeats, pause: float, stop: asyncio.Event
) -> None:
    async with websockets.connect(
        f"{url}/{ocpp_id}",
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        additional_headers=_basic(ocpp_id, PASSWORD),
    ) as ws:
        charger = ChargePoint(ocpp_id, ws, response_timeout=30)
        receiver = asyncio.create_task(charger.start())
        try:
            await charger.call(
                call.BootNotification(charge_point_vendor="bench", charge_point_model="honest"),
                suppress=False,
            )
            while not stop.is_set():
                sent = time.monotonic()
                try:
                    await charger.call(call.Heartbeat(), suppress=False)
                    beats.samples.append((sent, time.monotonic() - sent))
                except Exception:
                    beats.failed += 1
                await asyncio.sleep(pause)
        finally:
            receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await receiver


# -- the attacker's process ------------------------------------------------------------------------


async def guess(url: str, ocpp_id: str, n: int, gate: asyncio.Semaphore, answers: Counter[str]) -> None:
    async with gate:
        try:
            async with websockets.connect(
                f"{url}/{ocpp_id}",
                subprotocols=["ocpp1.6"],  # type: ignore[list-item]
                additional_headers=_basic(ocpp_id, f"guess-{n:06d}-wrong-password"),
                open_timeout=30,
            ):
                answers["accepted (!)"] += 1
        except InvalidStatus as refused:
            answers[str(refused.response.status_code)] += 1
        except Exception as error:
            answers[type(error).__name__] += 1


async def attack(url: str, victims: list[str], attempts: int, concurrency: int, rate: float) -> None:
    """Guesses round-robin over the victims, at most `rate` a second if given; prints its
    window and what the handshakes were answered, as JSON."""
    answers: Counter[str] = Counter()
    gate = asyncio.Semaphore(concurrency)
    start = time.monotonic()
    print("started", flush=True)  # the measuring process reads the server's CPU time now

    async def paced(n: int) -> None:
        if rate > 0:
            await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
        await guess(url, victims[n % len(victims)], n, gate, answers)

    await asyncio.gather(*(paced(n) for n in range(attempts)))
    print(json.dumps({"start": start, "end": time.monotonic(), "answers": answers}), flush=True)


# -- the measuring process -------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    return values[min(len(values) - 1, int(len(values) * fraction))]


async def measure(
    url: str, server_pid: int, args: argparse.Namespace, honest: list[str], victims: list[str]
) -> None:
    beats, stop = Heartbeats(), asyncio.Event()
    chargers = [
        asyncio.create_task(honest_charger(url, ocpp_id, beats, args.pause, stop)) for ocpp_id in honest
    ]
    await asyncio.sleep(args.warmup)  # connected and booted, their own scrypt checks done
    cpu, start = cpu_seconds(server_pid), time.monotonic()
    await asyncio.sleep(args.baseline)
    quiet = Window(start, time.monotonic(), cpu_seconds(server_pid) - cpu)
    attacker = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "benchmarks.auth_guessing", "--attack", url, *victims],
        *["--attempts", str(args.attempts), "--concurrency", str(args.concurrency), "--rate", str(args.rate)],
        stdout=asyncio.subprocess.PIPE,
    )
    assert attacker.stdout is not None
    await attacker.stdout.readline()
    cpu = cpu_seconds(server_pid)
    report = json.loads(await attacker.stdout.readline())
    attacked = Window(report["start"], report["end"], cpu_seconds(server_pid) - cpu)
    await attacker.wait()
    stop.set()
    results = await asyncio.gather(*chargers, return_exceptions=True)
    report_figures(beats, quiet, attacked)
    tally = ", ".join(f"{status}: {count}" for status, count in sorted(report["answers"].items()))
    paced = f", paced at {args.rate:g}/s" if args.rate > 0 else ""
    print(
        f"\nattack: {args.attempts} wrong passwords for {len(victims)} stations at {args.concurrency}"
        f" concurrent connections{paced}, over in {attacked.end - attacked.start:.2f} s; answered {tally}"
    )
    failed = [r for r in results if isinstance(r, BaseException)]
    if beats.failed or failed:
        print(
            f"WARNING: {beats.failed} heartbeats failed; {len(failed)} honest chargers failed: {failed[:3]}"
        )


def report_figures(beats: Heartbeats, quiet: Window, attacked: Window) -> None:
    columns = []
    for window in (quiet, attacked):
        latencies, seconds = beats.between(window.start, window.end), window.end - window.start
        columns.append(
            [
                f"{seconds:.1f}",
                str(len(latencies)),
                f"{statistics.median(latencies) * 1000:.1f}",
                f"{percentile(latencies, 0.99) * 1000:.1f}",
                f"{latencies[-1] * 1000:.1f}",
                f"{window.server_cpu:.2f} ({window.server_cpu / seconds:.0%})",
            ]
        )
    names = ["window (s)", "heartbeats answered", "p50 (ms)", "p99 (ms)", "max (ms)", "server CPU (s)"]
    print(f"\n{'honest heartbeats':<22}{'without attack':>18}{'during attack':>18}")
    for name, without, during in zip(names, *columns, strict=True):
        print(f"{name:<22}{without:>18}{during:>18}")


def cpms_module(env: dict[str, str]) -> str:
    """Where the server's code comes from (this checkout, or --server-src)."""
    code = "import cpms; print(cpms.__file__)"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def run(args: argparse.Namespace) -> None:
    honest = [f"HONEST-{n:04d}" for n in range(1, args.chargers + 1)]
    victims = [f"VICTIM-{n:04d}" for n in range(1, args.victims + 1)]
    log = Path(tempfile.mkdtemp(prefix="cpms-bench-auth-")) / "server.log"
    with log.open("w") as output, served(args.backend, server_src=args.server_src, output=output) as server:
        api_key, ocpp = server.api_key, server.ocpp
        code = cpms_module(server.env)
        print(f"server code: {code}")
        api = Api(server.base_url, api_key)
        address = {"street": "1 Test Street", "postal_code": "00000", "city": "Simcity", "country": "FR"}
        site = api.request("POST", "/sites", {"name": "Bench", "address": address, "provider": "Bench"})
        for ocpp_id in honest + victims:
            station = {"ocpp_id": ocpp_id, "serial_number": f"SN-{ocpp_id}", "site_id": site["id"]}
            api.request("POST", "/stations", {**station, "password": PASSWORD})
        print(
            f"backend={args.backend} honest chargers={args.chargers} (basic auth, a heartbeat every"
            f" {args.pause * 1000:.0f} ms each) cores={os.cpu_count()}",
            flush=True,
        )
        asyncio.run(measure(f"ws://127.0.0.1:{ocpp}/ocpp", server.process.pid, args, honest, victims))
        lines = log.read_text().splitlines()
        limited = sum("basic-auth guessing" in line for line in lines)
        refusals = sum("refused station" in line for line in lines)
        print(f"server log {log}: {refusals} per-attempt refusal lines, {limited} limit lines")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--chargers", type=int, default=20, help="honest chargers heartbeating")
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between heartbeats")
    parser.add_argument("--victims", type=int, default=10, help="stations whose passwords are guessed")
    parser.add_argument("--attempts", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rate", type=float, default=0.0, help="attempts per second at most (0: unpaced)")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--baseline", type=float, default=10.0, help="seconds measured without attack")
    parser.add_argument("--server-src", help="run `cpms serve` from this src directory instead")
    parser.add_argument("--attack", nargs="+", metavar="URL VICTIM", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.attack:
        asyncio.run(attack(args.attack[0], args.attack[1:], args.attempts, args.concurrency, args.rate))
    else:
        run(args)


if __name__ == "__main__":
    main()
