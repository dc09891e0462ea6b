"""`cpms projections rebuild` following the rebuilds it asked for: a progress bar on a terminal,
a line every few seconds otherwise (a log, a CI job)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, TextIO

from cpms.projections.tracking import ProjectionStatus, RebuildStatus

BAR = 24
UNCLAIMED_AFTER = 10.0  # seconds without a projector taking the request before saying so
PLAIN_EVERY = 2.0  # seconds between lines when the output is not a terminal


def describe(rebuild: RebuildStatus) -> str:
    """`rebuilding 45%, 3,100 events/s, 5 s left`, or why it waits."""
    if rebuild.state == "requested":
        return "rebuild requested, waiting for a projector"
    text = f"{rebuild.state}"
    if rebuild.progress is not None:
        text += f" {rebuild.progress:.0%}"
    if rebuild.rate:
        text += f", {rebuild.rate:,.0f} events/s"
    if rebuild.eta_seconds is not None and rebuild.state != "done":
        text += f", {_duration(rebuild.eta_seconds)} left"
    if rebuild.error:
        text += f": {rebuild.error}"
    return text


async def follow(runner: Any, names: Sequence[str] | None, *, out: TextIO, poll: float = 0.5) -> int:
    """Show the rebuilds of `names` (every projection for None) until all are done; 0 then. If no
    projector takes them up, say so and return 0: they are recorded, and the next `cpms serve`
    or `cpms projector` does them."""
    began = time.monotonic()
    terminal = out.isatty()
    printed = 0.0
    while True:
        statuses: list[ProjectionStatus] = await asyncio.to_thread(runner.status)
        mine = [s for s in statuses if names is None or s.name in names]
        rebuilds = [s.rebuild for s in mine if s.rebuild is not None]
        done = [r for r in rebuilds if r.state == "done"]
        if len(done) == len(mine):
            if terminal:
                out.write("\r\033[K")
            for status in mine:
                out.write(
                    f"{status.name} v{status.version}: rebuilt and switched at position {status.position}\n"
                )
            out.flush()
            return 0
        if (
            all(r.state == "requested" for r in rebuilds if r not in done)
            and time.monotonic() - began > UNCLAIMED_AFTER
        ):
            out.write(
                ("\r\033[K" if terminal else "")
                + "no projector has taken the rebuild up: it is recorded, and runs side by side as soon as"
                " `cpms serve` or `cpms projector` runs\n"
            )
            out.flush()
            return 0
        line = _line(mine, len(done))
        if terminal:
            out.write("\r\033[K" + line)
            out.flush()
        elif time.monotonic() - printed >= PLAIN_EVERY:
            out.write(line + "\n")
            out.flush()
            printed = time.monotonic()
        await asyncio.sleep(poll)


def _line(statuses: Sequence[ProjectionStatus], done: int) -> str:
    """The whole run as one bar (each projection's share of the log, summed), and the slowest."""
    rebuilds = [s.rebuild for s in statuses if s.rebuild is not None]
    shares = [r.progress or 0.0 for r in rebuilds]
    share = sum(shares) / len(statuses) if statuses else 1.0
    filled = round(share * BAR)
    bar = "#" * filled + "." * (BAR - filled)
    line = f"[{bar}] {share:4.0%}  {done}/{len(statuses)} done"
    behind = [s for s in statuses if s.rebuild is not None and s.rebuild.state != "done"]
    if behind:
        slowest = min(behind, key=lambda s: s.rebuild.progress or 0.0 if s.rebuild else 0.0)
        assert slowest.rebuild is not None
        line += f"  {slowest.name} v{slowest.version}: {describe(slowest.rebuild)}"
    return line


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
