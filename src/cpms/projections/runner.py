"""Follows the event log and feeds each projection on its own: its own savepoint, its own
tracked position, its own failures.

A fold that raises stops only its projection, at that event: the events before it are kept, the
failure is logged once and kept in `projection_failures` (so `cpms projections status`, /health
and API-only processes see it), and the fold is retried with back-off while the other
projections go on. All projections of a batch share one commit, each inside a savepoint, so
isolation costs no extra flush to disk. A restarted process resumes each projection from its
tracked position. The runner wakes when the local writer reports a new position and otherwise
polls, which also picks up writes of other processes.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from cpms.infra.eventstore import EventStore
from cpms.infra.health import EVENT_STORE, VIEW_STORE, is_unavailable
from cpms.projections import tracking
from cpms.projections.base import Projection
from cpms.projections.store import Tx, ViewStore
from cpms.projections.tracking import Failure, ProjectionStatus
from cpms.timestamps import now_iso

log = logging.getLogger(__name__)

FIRST_RETRY = 0.5  # seconds; doubled on each failure of the same fold, up to `max_backoff`
READ_YOUR_WRITES_POLL = 0.02  # seconds between reads of the tracking table for a writer, API-only


class ProjectionLagging(TimeoutError):
    """The read models a write needs did not reach it in time (the write itself is stored)."""


class ProjectionFailing(ProjectionLagging):
    """A read model a write needs is stopped at a failing event (the write itself is stored)."""


@dataclass(frozen=True)
class Needs:
    """What a reader waits for: the projections that fold its write, and those it reads."""

    folds: frozenset[str]
    reads: frozenset[str]


class _Track:
    """One projection's progress in this process."""

    def __init__(self, projection: Projection) -> None:
        self.projection = projection
        self.position = 0
        self.failure: Failure | None = None
        self.retry_at = 0.0
        self.backoff = 0.0


class ProjectionRunner:
    def __init__(
        self,
        store: EventStore,
        views: ViewStore,
        projections: list[Projection],
        *,
        batch_size: int = 500,
        poll_interval: float = 0.5,
        max_backoff: float = 60.0,
        on_unavailable: Callable[[str, BaseException], None] = lambda _name, _error: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._views = views
        self._tracks = {p.name: _Track(p) for p in projections}
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._max_backoff = max_backoff
        self._on_unavailable = on_unavailable
        self._clock = clock
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._waiters: list[tuple[int, Needs, asyncio.Future[None]]] = []
        self._waiters_lock = threading.Lock()
        self._log_trouble: str | None = None  # why the log could not be followed, logged once
        # Called (on the folding thread) after a batch moved some projection on: the OCPI push
        # worker looks at its outbox then rather than at its next poll.
        self.on_folded: Callable[[], None] = lambda: None

    @property
    def position(self) -> int:
        """The position every projection has reached."""
        return min((t.position for t in self._tracks.values()), default=0)

    def setup(self) -> None:
        with self._views.transaction() as tx:
            tracking.create_tables(tx)
            for track in self._tracks.values():
                track.projection.create_tables(tx)
        self.refresh()

    def refresh(self) -> int:
        """Read tracked positions and failures (another process may be the one folding)."""
        with self._views.read() as tx:
            positions, failures = tracking.read(tx)
        for track in self._tracks.values():
            key = (track.projection.name, track.projection.version)
            track.position = positions.get(key, 0)
            track.failure = failures.get(key)
        return self.position

    def catch_up(self) -> int:
        """Fold every stored event each projection can; return the position all have reached."""
        while self._step():
            pass
        self._resolve_waiters()
        return self.position

    # -- folding ------------------------------------------------------------------------------

    def _step(self) -> bool:
        """One batch for every projection not waiting out a back-off, in one transaction with a
        savepoint per projection: a failing fold rolls back its own work only, and the batch
        costs one commit however many projections there are. True if any moved on."""
        now = self._clock()
        due = [t for t in self._tracks.values() if t.failure is None or t.retry_at <= now]
        if not due:
            return False
        start = min(t.position for t in due)
        notifications = self._store.recorder.select_notifications(start=start + 1, limit=self._batch_size)
        if not notifications:
            return False
        decoded: dict[int, Any] = {}
        folds: list[tuple[_Track, _Folded]] = []
        with self._views.transaction() as tx:
            for track in due:
                pending = [n for n in notifications if n.id > track.position]
                if pending:
                    folds.append((track, self._fold(track, pending, decoded, tx)))
        # Committed: only now does this process take the new positions and failures as true.
        for track, folded in folds:
            if folded.position is not None:
                track.position = folded.position
            if folded.failure is not None:
                self._failed(track, folded.failure, folded.error)
            elif track.failure is not None:
                self._recovered(track)
        self._resolve_waiters()
        moved = any(folded.position is not None for _, folded in folds)
        if moved:
            self.on_folded()
        return moved

    def _fold(self, track: _Track, pending: list[Any], decoded: dict[int, Any], tx: Tx) -> _Folded:
        """Fold `pending` into one projection with its tracking record, inside a savepoint; on a
        failing event, keep what came before it, record the failure, and stop there."""
        projection = track.projection
        tx.execute("SAVEPOINT fold")
        try:
            self._apply(projection, pending, decoded, tx)
        except _FoldFailed as failed:
            tx.execute("ROLLBACK TO SAVEPOINT fold")
            position = None
            if failed.index > 0:
                try:
                    self._apply(projection, pending[: failed.index], decoded, tx)
                    position = pending[failed.index - 1].id
                except _FoldFailed:  # it folded a moment ago: keep nothing rather than guess
                    tx.execute("ROLLBACK TO SAVEPOINT fold")
            failure = self._failure(track, pending[failed.index], failed.error)
            tracking.write_failure(tx, projection, failure)
            tx.execute("RELEASE SAVEPOINT fold")
            return _Folded(position, failure, failed.error)
        if track.failure is not None:
            tracking.write_failure(tx, projection, None)
        tx.execute("RELEASE SAVEPOINT fold")
        return _Folded(pending[-1].id)

    def _apply(
        self, projection: Projection, notifications: list[Any], decoded: dict[int, Any], tx: Tx
    ) -> None:
        for index, notification in enumerate(notifications):
            try:
                event = self._event(notification, decoded)
                if isinstance(event, projection.handles):
                    projection.apply(event, tx)
            except Exception as error:
                if is_unavailable(error):
                    raise  # the view store, not this event: every projection waits
                raise _FoldFailed(index, error) from error
        tracking.write_position(tx, projection, notifications[-1].id)

    def _event(self, notification: Any, decoded: dict[int, Any]) -> Any:
        event = decoded.get(notification.id)
        if event is None:
            event = decoded[notification.id] = self._store.mapper.to_domain_event(notification)
        return event

    def _failure(self, track: _Track, notification: Any, error: BaseException) -> Failure:
        """The failure as it stands after this attempt: the same one again, or a new one."""
        message = f"{type(error).__name__}: {error}"
        previous = track.failure
        if previous is not None and (previous.position, previous.error) == (notification.id, message):
            return replace(previous, attempts=previous.attempts + 1)
        return Failure(
            position=notification.id,
            event_type=notification.topic.rpartition(".")[2],
            error=message,
            since=now_iso(),
        )

    def _failed(self, track: _Track, failure: Failure, error: BaseException | None) -> None:
        track.failure = failure
        track.backoff = min(self._max_backoff, track.backoff * 2 or FIRST_RETRY)
        track.retry_at = self._clock() + track.backoff
        if failure.attempts == 1:  # logged once, not at every retry
            log.error(
                "projection %s stopped at position %d (%s): %s; retrying with back-off while the"
                " other projections go on",
                track.projection.name,
                failure.position,
                failure.event_type,
                failure.error,
                exc_info=error,
            )

    def _recovered(self, track: _Track) -> None:
        failure = track.failure
        assert failure is not None
        log.warning(
            "projection %s folded position %d after %d failed attempts; it is following the log again",
            track.projection.name,
            failure.position,
            failure.attempts,
        )
        track.failure = None
        track.backoff = 0.0

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
                progressed = self._step()
                self._resolve_waiters()
            except Exception as error:  # the log or the views cannot be read: wait, then resume
                self._trouble(error)
                backoff = min(backoff * 2, 10.0)
                self._wake.wait(backoff)
                self._wake.clear()
                continue
            backoff = self._poll_interval
            if self._log_trouble is not None:
                log.warning("projections are following the log again")
                self._log_trouble = None
            if progressed:
                continue
            self._wake.wait(self._next_wait())
            self._wake.clear()

    def _next_wait(self) -> float:
        retries = [t.retry_at for t in self._tracks.values() if t.failure is not None]
        if not retries:
            return self._poll_interval
        return max(0.01, min(self._poll_interval, min(retries) - self._clock()))

    def _trouble(self, error: Exception) -> None:
        message = f"{type(error).__name__}: {error}"
        if is_unavailable(error):
            self._on_unavailable(_store_of(error), error)
        if message != self._log_trouble:
            self._log_trouble = message
            if is_unavailable(error):
                log.error("projections cannot follow the log: %s; retrying", message)
            else:
                log.exception("projections cannot follow the log; retrying")

    # -- read-your-writes ---------------------------------------------------------------------

    def projections_for(self, event_types: Iterable[type] | None) -> frozenset[str]:
        """The projections that fold any of these kinds of event (all of them for None)."""
        if event_types is None:
            return frozenset(self._tracks)
        kinds = tuple(event_types)
        return frozenset(
            name
            for name, track in self._tracks.items()
            if any(issubclass(kind, track.projection.handles) for kind in kinds)
        )

    async def wait_for(
        self,
        position: int | None,
        *,
        event_types: Iterable[type] | None = None,
        reads: Iterable[str] | None = None,
        timeout: float = 10.0,
    ) -> None:
        """Return once the projections that fold `event_types` (every projection for None) have
        folded the event at `position`, so that any read after a write sees it.

        A projection stopped at a failing event before `position` is not waited for, unless the
        caller `reads` it (every projection for None): then ProjectionFailing is raised at once.
        So a failing sheet does not stop an operator from commissioning a station, and the
        answer to a write is never held by a read model it does not show. ProjectionLagging is
        raised after `timeout` seconds."""
        names = self.projections_for(event_types)
        needed = Needs(names, frozenset(self._tracks if reads is None else reads))
        if position is None or not names:
            return
        try:
            await self._wait(position, needed, timeout, poll=READ_YOUR_WRITES_POLL, wake=True)
        except ProjectionLagging:  # a TimeoutError too: a projection this write needs is stopped
            raise
        except TimeoutError:
            raise ProjectionLagging(
                f"the read models have not caught up with position {position} yet; the write is"
                " stored and will show shortly"
            ) from None

    def folded(self, name: str) -> int:
        """The position projection `name` has folded up to, as this process last saw it."""
        return self._tracks[name].position

    async def moved_past(self, name: str, position: int, *, timeout: float) -> int:
        """Wait until projection `name` has folded beyond `position`; return where it stands then
        (`position` itself if `timeout` passed first). For followers of a read model, such as the
        portal's live sheet: nothing is read while the log is quiet in a process that folds, and
        an API-only process reads the tracking table once per poll interval, not 50 times a
        second as a writer waiting for its own write does. ProjectionFailing if the projection
        is stopped at the next event."""
        needed = Needs(frozenset({name}), frozenset({name}))
        try:
            await self._wait(position + 1, needed, timeout, poll=self._poll_interval, wake=False)
        except ProjectionLagging:
            raise
        except TimeoutError:
            pass
        return self._tracks[name].position

    async def _wait(self, position: int, needed: Needs, timeout: float, *, poll: float, wake: bool) -> None:
        """Until `needed` is settled at `position`; TimeoutError after `timeout` seconds."""
        if self._settled(position, needed):
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._waiters_lock:
            self._waiters.append((position, needed, future))
        if wake:
            self._wake.set()
        try:
            if self._thread is None:
                await asyncio.wait_for(self._poll_until(position, needed, poll), timeout)
            else:
                await asyncio.wait_for(asyncio.shield(future), timeout)
        finally:
            with self._waiters_lock:
                self._waiters = [w for w in self._waiters if w[2] is not future]

    def _settled(self, position: int, needed: Needs) -> bool:
        """True when every projection in `needed.folds` reached `position` or is stopped before
        it without being read; raise if one that is read is stopped before it."""
        behind = [self._tracks[name] for name in needed.folds if self._tracks[name].position < position]
        stopped = [t for t in behind if t.failure is not None and t.failure.position <= position]
        failing = sorted(t.projection.name for t in stopped if t.projection.name in needed.reads)
        if failing:
            raise ProjectionFailing(
                f"the write is stored, but read model {', '.join(failing)} is stopped at a failing"
                " event and does not show it yet; operators are alerted through /health"
            )
        return len(stopped) == len(behind)

    async def _poll_until(self, position: int, needed: Needs, poll: float) -> None:
        """Without a local projector (an API-only process), follow the tracking tables."""
        while True:
            await asyncio.to_thread(self.refresh)
            if self._settled(position, needed):
                return
            await asyncio.sleep(poll)

    def _resolve_waiters(self) -> None:
        with self._waiters_lock:
            waiters, self._waiters = self._waiters, []
        keep = []
        for position, needed, future in waiters:
            try:
                done = self._settled(position, needed)
            except ProjectionFailing as error:
                _settle_soon(future, error)
                continue
            if done:
                _settle_soon(future, None)
            else:
                keep.append((position, needed, future))
        with self._waiters_lock:
            self._waiters.extend(keep)

    # -- operators ----------------------------------------------------------------------------

    def status(self) -> list[ProjectionStatus]:
        """Each projection's position, lag and state; read from the views unless this process
        is the one folding, and with the log's head when the event store answers."""
        if self._thread is None:
            self.refresh()
        try:
            head: int | None = self._store.recorder.max_notification_id() or 0
        except Exception as error:
            if not is_unavailable(error):
                raise
            self._on_unavailable(EVENT_STORE, error)
            head = None
        return [
            ProjectionStatus(
                name=t.projection.name,
                version=t.projection.version,
                position=t.position,
                head=head,
                lag=None if head is None else max(0, head - t.position),
                state="ok" if t.failure is None else "failing",
                failure=t.failure,
            )
            for t in self._tracks.values()
        ]


@dataclass(frozen=True)
class _Folded:
    """What one fold of a step did: the position it reached (None: none), and its failure."""

    position: int | None
    failure: Failure | None = None
    error: BaseException | None = None


class _FoldFailed(Exception):
    def __init__(self, index: int, error: BaseException) -> None:
        super().__init__(str(error))
        self.index = index
        self.error = error


def _store_of(error: BaseException) -> str:
    """Which store an availability error came from: eventsourcing's errors are the event store's."""
    module = type(error).__module__
    return EVENT_STORE if module.startswith("eventsourcing") else VIEW_STORE


def _settle_soon(future: asyncio.Future[None], error: BaseException | None) -> None:
    loop = future.get_loop()
    if not loop.is_closed():
        loop.call_soon_threadsafe(_settle, future, error)


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
