"""Follows the event log and feeds each projection on its own: its own savepoint, its own
tracked position, its own failures.

A fold that raises stops only its projection, at that event: the events before it are kept, the
failure is logged once and kept in `projection_failures` (so `cpms projections status`, /health
and API-only processes see it), and the fold is retried with back-off while the other
projections go on. All projections of a batch share one commit, each inside a savepoint, so
isolation costs no extra flush to disk. A restarted process resumes each projection from its
tracked position. The runner wakes when the local writer reports a new position and otherwise
polls, which also picks up writes of other processes.

The same thread rebuilds projections side by side when asked (`rebuilds.py`): between two batches
of the live projections it folds a batch into the shadow tables, and switches to them once they
have caught up, so the live answers never wait for a rebuild.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from cpms.infra.eventstore import EventStore
from cpms.infra.health import EVENT_STORE, is_unavailable, store_of
from cpms.projections import rebuilds, tracking
from cpms.projections.base import Projection
from cpms.projections.rebuilds import Renamed, Schema, schema_of
from cpms.projections.store import Tx, ViewStore
from cpms.projections.tracking import Failure, ProjectionStatus, RebuildStatus
from cpms.timestamps import now_iso, to_iso

log = logging.getLogger(__name__)

FIRST_RETRY = 0.5  # seconds; doubled on each failure of the same fold, up to `max_backoff`
READ_YOUR_WRITES_POLL = 0.02  # seconds between reads of the tracking table for a writer, API-only
REBUILD_BATCH_SIZE = 2000  # events of the log a rebuild folds per transaction, at most
REBUILD_SLICE = 0.25  # seconds a rebuild batch aims to take: the live projections fold in between
REBUILD_BEHIND_EVERY = 1.0  # seconds between rebuild batches while the live projections lag
REBUILD_OWNER_SILENT = 30.0  # seconds after which a rebuild whose process stopped reporting is taken over


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


class _Shadow:
    """A projection being rebuilt beside its live tables, in this process."""

    def __init__(self, track: _Track, schema: Schema, position: int) -> None:
        self.track = track
        self.schema = schema
        self.names = schema.shadows()
        self.position = position
        self.rate: float | None = None  # events of the log per second, smoothed
        self.retry_at = 0.0
        self.backoff = 0.0

    @property
    def name(self) -> str:
        return self.track.projection.name


class ProjectionRunner:
    def __init__(
        self,
        store: EventStore,
        views: ViewStore,
        projections: list[Projection],
        *,
        batch_size: int = 500,
        rebuild_batch_size: int | None = None,
        poll_interval: float = 0.5,
        max_backoff: float = 60.0,
        on_unavailable: Callable[[str, BaseException], None] = lambda _name, _error: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._views = views
        self._tracks = {p.name: _Track(p) for p in projections}
        self._batch_size = batch_size
        self.rebuild_batch_size = rebuild_batch_size or REBUILD_BATCH_SIZE
        self._shadows: dict[str, _Shadow] = {}
        # Live folds come first: a rebuild batch is sized to take about REBUILD_SLICE seconds (from
        # the last one's pace), and while the live projections are behind the head it runs only
        # every REBUILD_BEHIND_EVERY seconds, so that they get most of the time and catch up.
        self._live_behind = False
        self._rebuild_batch = 100
        self._rebuild_due = 0.0
        self._owner = uuid.uuid4().hex  # whose rebuilds these are, in `projection_rebuilds`
        self._next_claim = 0.0
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
        """Create what is missing, and take on new versions of projections (`rebuilds.py`)."""
        with self._views.transaction() as tx:
            tracking.create_tables(tx)
            rebuilds.create_table(tx)
            projections = [track.projection for track in self._tracks.values()]
            rebuilds.take_on_versions(tx, projections)
            for projection in projections:
                projection.create_tables(tx)
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
        self._live_behind = len(notifications) == self._batch_size
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
            tracking.write_position(tx, projection, pending[-1].id)
        except _FoldFailed as failed:
            tx.execute("ROLLBACK TO SAVEPOINT fold")
            position = None
            if failed.index > 0:
                try:
                    self._apply(projection, pending[: failed.index], decoded, tx)
                    position = pending[failed.index - 1].id
                    tracking.write_position(tx, projection, position)
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

    # -- rebuilding side by side --------------------------------------------------------------

    def request_rebuild(
        self, names: Iterable[str] | None = None, *, reason: str = "asked by an operator"
    ) -> list[str]:
        """Ask for the named projections (every one for None) to be rebuilt side by side by the
        process that folds; the names of those newly requested (not already under way)."""
        wanted = list(self._tracks) if names is None else list(names)
        unknown = sorted(set(wanted) - set(self._tracks))
        if unknown:
            raise KeyError(f"no projection named {', '.join(unknown)}; known: {', '.join(self._tracks)}")
        with self._views.transaction() as tx:
            requested = [
                name for name in wanted if rebuilds.request(tx, self._tracks[name].projection, reason)
            ]
        self._next_claim = 0.0
        self._wake.set()
        return requested

    def rebuild_now(self) -> None:
        """Fold and rebuild until no rebuild is left to do here (for tests and tools; a running
        node does the same in its thread)."""
        self._next_claim = 0.0
        while True:
            moved = self._step()
            moved = self._rebuild_step() or moved
            if not moved and not any(s.retry_at <= self._clock() for s in self._shadows.values()):
                self._resolve_waiters()
                return

    def _rebuild_step(self) -> bool:
        """Take on rebuilds asked for, fold one batch into their shadows, and switch those that
        have caught up with the live tables. True if anything moved."""
        now = self._clock()
        if now >= self._next_claim:
            self._next_claim = now + self._poll_interval
            self._claim_rebuilds()
        due = [shadow for shadow in self._shadows.values() if shadow.retry_at <= now]
        switched = False
        for shadow in due:
            if shadow.position >= shadow.track.position:
                self._switch(shadow)
                switched = True
        due = [shadow for shadow in due if shadow.name in self._shadows]
        if not due:
            return switched
        start = min(shadow.position for shadow in due)
        notifications = self._store.recorder.select_notifications(
            start=start + 1, limit=min(self._rebuild_batch, self.rebuild_batch_size)
        )
        if not notifications:
            return switched
        decoded: dict[int, Any] = {}
        began = time.perf_counter()
        folded: list[tuple[_Shadow, int, _FoldFailed | None]] = []
        with self._views.transaction() as tx:
            for shadow in due:
                pending = [n for n in notifications if n.id > shadow.position]
                if pending:
                    folded.append((shadow, *self._fold_shadow(shadow, pending, decoded, tx)))
        seconds = max(time.perf_counter() - began, 1e-6)
        self._rebuild_due = self._clock() + REBUILD_BEHIND_EVERY
        paced = int(len(notifications) * REBUILD_SLICE / seconds)
        self._rebuild_batch = max(10, min(self.rebuild_batch_size, paced))
        for shadow, position, failed in folded:
            if failed is None:
                rate = (position - shadow.position) / seconds
                shadow.rate = rate if shadow.rate is None else 0.7 * shadow.rate + 0.3 * rate
                shadow.position = position
                shadow.backoff = 0.0
            else:
                shadow.position = position
                shadow.backoff = min(self._max_backoff, shadow.backoff * 2 or FIRST_RETRY)
                shadow.retry_at = self._clock() + shadow.backoff
        return True

    def _fold_shadow(
        self, shadow: _Shadow, pending: list[Any], decoded: dict[int, Any], tx: Tx
    ) -> tuple[int, _FoldFailed | None]:
        """One batch into a shadow, inside a savepoint; a failing event stops the rebuild there
        (retried with back-off) and leaves the live tables serving."""
        projection, renamed = shadow.track.projection, Renamed(tx, shadow.names)
        tx.execute("SAVEPOINT rebuild")
        try:
            self._apply(projection, pending, decoded, renamed)
            rebuilds.progress(tx, shadow.name, pending[-1].id, shadow.rate)
        except _FoldFailed as failed:
            tx.execute("ROLLBACK TO SAVEPOINT rebuild")
            position = shadow.position
            if failed.index > 0:  # keep what came before the failing event, as the live fold does
                try:
                    self._apply(projection, pending[: failed.index], decoded, renamed)
                    position = pending[failed.index - 1].id
                    rebuilds.progress(tx, shadow.name, position, shadow.rate)
                except _FoldFailed:
                    tx.execute("ROLLBACK TO SAVEPOINT rebuild")
            at = pending[failed.index].id
            rebuilds.failed(tx, shadow.name, at, f"{type(failed.error).__name__}: {failed.error}")
            tx.execute("RELEASE SAVEPOINT rebuild")
            if shadow.backoff == 0.0:
                log.error(
                    "rebuild of projection %s stopped at position %d; retrying with back-off while the"
                    " live tables serve",
                    shadow.name,
                    at,
                    exc_info=failed.error,
                )
            return position, failed
        tx.execute("RELEASE SAVEPOINT rebuild")
        return pending[-1].id, None

    def _claim_rebuilds(self) -> None:
        with self._views.read() as tx:
            asked = rebuilds.read_all(tx)
        candidates = [
            rebuild
            for rebuild in asked.values()
            if rebuild.active
            and rebuild.name in self._tracks
            and rebuild.name not in self._shadows
            and rebuild.version == self._tracks[rebuild.name].projection.version
        ]
        if not candidates:
            return
        silent_since = to_iso(datetime.now(UTC) - timedelta(seconds=REBUILD_OWNER_SILENT))
        with self._views.transaction() as tx:
            for candidate in candidates:
                rebuild = rebuilds.claim(tx, candidate.name, candidate.version, self._owner, silent_since)
                if rebuild is None:
                    continue  # another process has it
                track = self._tracks[rebuild.name]
                schema = schema_of(track.projection, tx.dialect)
                resume = rebuild.position > 0 and rebuilds.shadow_exists(tx, schema)
                rebuilds.create_shadow(tx, track.projection, schema, fresh=not resume)
                position = rebuild.position if resume else 0
                if not resume:
                    rebuilds.progress(tx, rebuild.name, 0, None)
                self._shadows[rebuild.name] = _Shadow(track, schema, position)
                log.warning(
                    "projection %s: rebuilding version %d side by side from position %d (%s)",
                    rebuild.name,
                    rebuild.version,
                    position,
                    rebuild.reason,
                )

    def _switch(self, shadow: _Shadow) -> None:
        """In one transaction: the shadow replaces the live tables, at its position."""
        track = shadow.track
        projection = track.projection
        heals = track.failure is not None and track.failure.position <= shadow.position
        with self._views.transaction() as tx:
            rebuilds.switch(tx, projection, shadow.schema)
            tracking.write_position(tx, projection, shadow.position)
            if heals:
                tracking.write_failure(tx, projection, None)
            rebuilds.finished(tx, shadow.name, shadow.position)
        del self._shadows[shadow.name]
        track.position = shadow.position
        if heals:
            track.failure = None
            track.backoff = 0.0
        log.warning(
            "projection %s: switched to its rebuilt tables at position %d; the previous ones are dropped",
            shadow.name,
            shadow.position,
        )
        self._resolve_waiters()

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
                if not self._live_behind or self._clock() >= self._rebuild_due:
                    progressed = self._rebuild_step() or progressed
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
        retries += [s.retry_at for s in self._shadows.values()]
        if not retries:
            return self._poll_interval
        return max(0.01, min(self._poll_interval, min(retries) - self._clock()))

    def _trouble(self, error: Exception) -> None:
        message = f"{type(error).__name__}: {error}"
        if is_unavailable(error):
            self._on_unavailable(store_of(error), error)
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
        with self._views.read() as tx:
            asked = rebuilds.read_all(tx)
        try:
            head: int | None = self._store.recorder.max_notification_id() or 0
        except Exception as error:
            if not is_unavailable(error):
                raise
            self._on_unavailable(EVENT_STORE, error)
            head = None
        statuses = []
        for t in self._tracks.values():
            rebuild = _rebuild_status(asked.get(t.projection.name), t.projection, head)
            state = (
                "failing" if t.failure is not None else "rebuilding" if rebuild and rebuild.active else "live"
            )
            statuses.append(
                ProjectionStatus(
                    name=t.projection.name,
                    version=t.projection.version,
                    position=t.position,
                    head=head,
                    lag=None if head is None else max(0, head - t.position),
                    state=state,
                    failure=t.failure,
                    rebuild=rebuild,
                )
            )
        return statuses


def _rebuild_status(
    rebuild: rebuilds.Rebuild | None, projection: Projection, head: int | None
) -> RebuildStatus | None:
    """The last rebuild of the projection's current version, with its progress against the head."""
    if rebuild is None or rebuild.version != projection.version:
        return None
    behind = None if head is None else max(0, head - rebuild.position)
    eta = None
    if rebuild.active and behind is not None and rebuild.rate:
        eta = round(behind / rebuild.rate, 1)
    return RebuildStatus(
        state=rebuild.state,
        reason=rebuild.reason,
        position=rebuild.position,
        progress=None if not head else min(1.0, rebuild.position / head),
        rate=None if rebuild.rate is None else round(rebuild.rate, 1),
        eta_seconds=eta,
        requested_at=rebuild.requested_at,
        started_at=rebuild.started_at,
        finished_at=rebuild.finished_at,
        error=rebuild.error,
    )


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
