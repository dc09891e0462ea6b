"""Follows the event log and feeds the projections, committing each batch with its position.

A restarted process resumes from the tracked positions. The runner wakes when the local writer
reports a new position and otherwise polls, which also picks up writes of other processes.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from cpms.infra.eventstore import EventStore
from cpms.projections.base import Projection
from cpms.projections.store import ViewStore

log = logging.getLogger(__name__)

TRACKING_DDL = """
CREATE TABLE IF NOT EXISTS projection_tracking (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    position BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (name, version)
)
"""


class ProjectionLagging(TimeoutError):
    """The projections did not reach a position in time (the write itself is stored)."""


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    version: int
    position: int
    lag: int


class ProjectionRunner:
    def __init__(
        self,
        store: EventStore,
        views: ViewStore,
        projections: list[Projection],
        *,
        batch_size: int = 500,
        poll_interval: float = 0.5,
    ) -> None:
        self._store = store
        self._views = views
        self._projections = projections
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._positions: dict[str, int] = {}
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._waiters_lock = threading.Lock()
        self.last_error: str | None = None

    @property
    def position(self) -> int:
        return min(self._positions.values(), default=0)

    def setup(self) -> None:
        with self._views.transaction() as tx:
            tx.execute(TRACKING_DDL)
            for projection in self._projections:
                projection.create_tables(tx)
        self.refresh_positions()

    def refresh_positions(self) -> int:
        """Read the tracked positions (another process may be the one folding)."""
        with self._views.read() as tx:
            for projection in self._projections:
                rows = tx.execute(
                    "SELECT position FROM projection_tracking WHERE name = ? AND version = ?",
                    (projection.name, projection.version),
                )
                self._positions[projection.name] = rows[0][0] if rows else 0
        return self.position

    def catch_up(self) -> int:
        """Process every stored event not yet folded; return the position reached."""
        while self._process_batch():
            pass
        self._resolve_waiters()
        return self.position

    def _process_batch(self) -> bool:
        start = self.position
        notifications = self._store.recorder.select_notifications(start=start + 1, limit=self._batch_size)
        if not notifications:
            return False
        events = [(n.id, self._store.mapper.to_domain_event(n)) for n in notifications]
        last = notifications[-1].id
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with self._views.transaction() as tx:
            for projection in self._projections:
                position = self._positions[projection.name]
                for notification_id, event in events:
                    if notification_id > position:
                        projection.apply(event, tx)
                tx.execute(
                    "INSERT INTO projection_tracking (name, version, position, updated_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (name, version)"
                    " DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at",
                    (projection.name, projection.version, last, now),
                )
        for projection in self._projections:
            self._positions[projection.name] = max(self._positions[projection.name], last)
        return True

    # -- running in a thread ------------------------------------------------------------------

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="cpms-projections", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def notify(self, position: int) -> None:
        """Called by the writer after a commit: there is something new to fold."""
        if position > self.position:
            self._wake.set()

    def _run(self) -> None:
        backoff = self._poll_interval
        while not self._stopping.is_set():
            try:
                self.catch_up()
                self.last_error = None
                backoff = self._poll_interval
            except Exception as error:  # keep following the log; a broken fold is loud, not fatal
                self.last_error = f"{type(error).__name__}: {error}"
                log.exception("projection batch failed at position %d; will retry", self.position)
                backoff = min(backoff * 2, 10.0)
            self._wake.wait(backoff)
            self._wake.clear()

    # -- read-your-writes ---------------------------------------------------------------------

    async def wait_for(self, position: int | None, timeout: float = 10.0) -> None:
        """Return once every projection has folded the event at `position`."""
        if position is None or self.position >= position:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._waiters_lock:
            self._waiters.append((position, future))
        self._wake.set()
        try:
            if self._thread is None:
                await asyncio.wait_for(self._poll_until(position), timeout)
            else:
                await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            raise ProjectionLagging(f"read models have not caught up with position {position} yet") from None
        finally:
            with self._waiters_lock:
                self._waiters = [(p, f) for p, f in self._waiters if f is not future]

    async def _poll_until(self, position: int) -> None:
        """Without a local projector (an API-only process), follow the tracking table."""
        while await asyncio.to_thread(self.refresh_positions) < position:
            await asyncio.sleep(0.02)

    def _resolve_waiters(self) -> None:
        reached = self.position
        with self._waiters_lock:
            ready = [(p, f) for p, f in self._waiters if p <= reached]
            self._waiters = [(p, f) for p, f in self._waiters if p > reached]
        for _, future in ready:
            loop = future.get_loop()
            if not loop.is_closed():
                loop.call_soon_threadsafe(_settle, future)

    # -- operators ----------------------------------------------------------------------------

    def status(self) -> list[ProjectionStatus]:
        head = self._store.recorder.max_notification_id() or 0
        return [
            ProjectionStatus(
                p.name, p.version, self._positions.get(p.name, 0), head - self._positions.get(p.name, 0)
            )
            for p in self._projections
        ]


def _settle(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.set_result(None)
