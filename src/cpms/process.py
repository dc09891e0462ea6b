"""What a long-running cpms process shares: waiting for the signal that stops it."""

from __future__ import annotations

import asyncio
import signal


async def until_signalled() -> None:
    """Return on SIGINT or SIGTERM; the caller then stops what it runs, in order."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
