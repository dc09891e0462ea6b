"""What a simulation counts: messages acknowledged and their latency, transactions, the central
system's commands answered, failures.

Counting is on the hot path of a load test (every CALL of every charger), so recording a latency is
one logarithm and one list increment into a histogram of fixed size, whatever the run's length.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal, get_args

# Latencies are kept in buckets 1 % wide from 10 µs to beyond a minute: percentiles to within 1 %.
_SMALLEST = 1e-5
_GROWTH = math.log(1.01)
_BUCKETS = int(math.log(120 / _SMALLEST) / _GROWTH) + 1
SHOWN_ERRORS = 5
# The commands a simulated charger answers, in the order the summary names them.
Command = Literal["remote start", "remote stop", "availability", "reset", "unlock"]
COMMANDS: tuple[Command, ...] = get_args(Command)


class Latencies:
    """A histogram of latencies in seconds."""

    def __init__(self) -> None:
        self.counts = [0] * _BUCKETS
        self.total = 0

    def record(self, seconds: float) -> None:
        bucket = int(math.log(max(seconds, _SMALLEST) / _SMALLEST) / _GROWTH)
        self.counts[min(bucket, _BUCKETS - 1)] += 1
        self.total += 1

    def quantile(self, q: float) -> float:
        """The latency under which a share `q` of those recorded fall (0.0 when none were)."""
        if not self.total:
            return 0.0
        rank = max(1, math.ceil(q * self.total))
        seen = 0
        for bucket, count in enumerate(self.counts):
            seen += count
            if seen >= rank:
                return _SMALLEST * math.exp((bucket + 0.5) * _GROWTH)  # the bucket's middle
        raise AssertionError("unreachable: the counts add up to the total")

    def since(self, earlier: Latencies) -> Latencies:
        """The latencies recorded after `earlier` was copied from this histogram."""
        window = Latencies()
        window.counts = [now - then for now, then in zip(self.counts, earlier.counts, strict=True)]
        window.total = self.total - earlier.total
        return window

    def copy(self) -> Latencies:
        copied = Latencies()
        copied.counts = list(self.counts)
        copied.total = self.total
        return copied


@dataclass
class Stats:
    """Counters shared by all the chargers of one simulation (one event loop: no locks)."""

    chargers: int = 0
    connected: int = 0  # connected now
    ever_connected: int = 0
    acked: int = 0  # CALLs answered with a CALLRESULT
    failed: int = 0  # CALLs answered with a CALLERROR, or not answered in time
    latencies: Latencies = field(default_factory=Latencies)
    started: int = 0  # transactions the server accepted
    completed: int = 0  # of them, stopped and acknowledged
    refused: int = 0  # transactions not started (or stopped at once) because the card was refused
    commands: Counter[Command] = field(default_factory=Counter)  # answered, by kind
    not_connected: Counter[str] = field(default_factory=Counter)  # why a charger could not connect
    lost: int = 0  # connections that ended before the simulation did
    errors: list[str] = field(default_factory=list)  # the first few, as printed

    def acknowledged(self, seconds: float) -> None:
        self.acked += 1
        self.latencies.record(seconds)

    def error(self, message: str) -> None:
        if len(self.errors) < SHOWN_ERRORS and message not in self.errors:
            self.errors.append(message)

    def snapshot(self) -> Snapshot:
        return Snapshot(self.acked, self.latencies.copy())

    def progress(self, elapsed: float, previous: Snapshot, window: float) -> str:
        """One line for the last `window` seconds: what a load test watches while it runs."""
        latencies = self.latencies.since(previous.latencies)
        return (
            f"[{elapsed:5.0f} s] {self.connected}/{self.chargers} connected;"
            f" {(self.acked - previous.acked) / max(window, 1e-9):,.0f} msg/s acked,"
            f" {_latency(latencies)}; {self._transactions()}{self._commands()}; {self._failures()}"
        )

    def summary(self, seconds: float) -> str:
        """The run as a whole."""
        return (
            f"summary: {self.ever_connected}/{self.chargers} chargers connected;"
            f" {self.acked:,} messages acked in {seconds:.1f} s = {self.acked / max(seconds, 1e-9):,.0f}"
            f" msg/s, {_latency(self.latencies)}; {self._transactions()}{self._commands()};"
            f" {self._failures()}"
        )

    def _transactions(self) -> str:
        return f"transactions {self.started} started, {self.completed} completed, {self.refused} refused"

    def _commands(self) -> str:
        """Nothing when no command came (a load test's line stays as it was)."""
        answered = sum(self.commands.values())
        if not answered:
            return ""
        kinds = ", ".join(f"{kind} {self.commands[kind]}" for kind in COMMANDS if self.commands[kind])
        return f"; commands answered: {answered} ({kinds})"

    def _failures(self) -> str:
        failures = f"{self.failed} calls failed"
        if self.not_connected:
            reasons = ", ".join(f"{count} {why}" for why, count in sorted(self.not_connected.items()))
            failures += f", {sum(self.not_connected.values())} chargers not connected ({reasons})"
        if self.lost:
            failures += f", {self.lost} connections lost"
        return failures


@dataclass(frozen=True)
class Snapshot:
    acked: int
    latencies: Latencies


def _latency(latencies: Latencies) -> str:
    return (
        f"latency p50 {latencies.quantile(0.5) * 1000:.1f} ms, p99 {latencies.quantile(0.99) * 1000:.1f} ms"
    )
