"""last_seen without an event per heartbeat: remembered in memory, written behind in batches."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from cpms.application import utc_now

log = logging.getLogger(__name__)

Flush = Callable[[Iterable[tuple[str, datetime]]], None]


class Presence:
    def __init__(self, flush: Flush, *, interval: float = 1.0) -> None:
        self._flush = flush
        self._interval = interval
        self._seen: dict[str, datetime] = {}
        self._task: asyncio.Task[None] | None = None
        self._failing = False  # a failure is logged once, not every second of an outage

    def seen(self, ocpp_id: str) -> None:
        self._seen[ocpp_id] = utc_now()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="cpms-presence")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()

    async def flush(self) -> None:
        seen, self._seen = self._seen, {}
        if seen:
            try:
                await asyncio.to_thread(self._flush, list(seen.items()))
            except Exception as error:
                if not self._failing:
                    log.warning("could not record last_seen of %d stations (%s); retrying", len(seen), error)
                self._failing = True
                for ocpp_id, at in seen.items():
                    self._seen.setdefault(ocpp_id, at)
            else:
                self._failing = False

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()
