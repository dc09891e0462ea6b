"""Group commit: the commands of messages that arrive together are saved in one transaction.

Each caller awaits its own outcome, which is only set once the batch holding its events is
durably stored. So a charger's CALLRESULT still follows its own write, while a thousand chargers
share one insert.

When the event store cannot be reached, nobody waits on it: a batch that fails for want of the
store fails as a whole at once (no command-by-command retry against a dead database), new
commands are refused while the health monitor says the store is down, and a caller whose batch
takes longer than the write deadline hears so instead of hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import RecordConflictError

from cpms.aggregates.errors import Conflict, NotFound
from cpms.infra.eventstore import EventStore
from cpms.infra.health import EVENT_STORE, Unavailable, is_unavailable

T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)
log = logging.getLogger(__name__)

MAX_BATCH = 1000


class AggregateCache:
    """Aggregates as this writer last stored them, so a hot station is not reloaded per message.

    Optimistic: if another process wrote to a cached aggregate meanwhile, saving it conflicts on
    its version, the entry is evicted and the command runs again on a fresh load.
    """

    def __init__(self, maxsize: int = 20_000) -> None:
        self._maxsize = maxsize
        self._items: OrderedDict[UUID, Aggregate] = OrderedDict()

    def get(self, aggregate_id: UUID) -> Aggregate | None:
        aggregate = self._items.get(aggregate_id)
        if aggregate is not None:
            self._items.move_to_end(aggregate_id)
        return aggregate

    def put(self, aggregates: Iterable[Aggregate]) -> None:
        for aggregate in aggregates:
            self._items[aggregate.id] = aggregate
            self._items.move_to_end(aggregate.id)
        while len(self._items) > self._maxsize:
            self._items.popitem(last=False)

    def evict(self, aggregate_ids: Iterable[UUID]) -> None:
        for aggregate_id in aggregate_ids:
            self._items.pop(aggregate_id, None)


@dataclass(frozen=True)
class Stored:
    """Where a command's events stand in the log, and what kinds of event they are: enough for
    a reader to wait for just the projections that fold them (read-your-writes)."""

    position: int
    event_types: frozenset[type] = frozenset()


class UnitOfWork:
    """The aggregates one batch of commands loads and changes, saved together at the end."""

    def __init__(self, store: EventStore, cache: AggregateCache | None = None) -> None:
        self._store = store
        self._cache = cache or AggregateCache(maxsize=0)
        self._loaded: dict[UUID, Aggregate] = {}
        # Pending-event counts of the aggregates the current command touched, when it touched
        # them: what it added is what lies beyond (see `command_events`).
        self._marks: dict[UUID, int] = {}

    def get(self, cls: type[A], aggregate_id: UUID, missing: str) -> A:
        aggregate = self._loaded.get(aggregate_id) or self._cache.get(aggregate_id)
        if aggregate is None:
            try:
                aggregate = self._store.repository.get(aggregate_id)
            except AggregateNotFoundError:
                raise NotFound(missing) from None
        self._loaded[aggregate_id] = aggregate
        self._marks.setdefault(aggregate_id, len(aggregate._pending_events))
        if not isinstance(aggregate, cls):
            raise NotFound(missing)
        return aggregate

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        try:
            return self.get(cls, aggregate_id, "")
        except NotFound:
            return None

    def add(self, aggregate: Aggregate) -> None:
        if aggregate.id in self._loaded and self._loaded[aggregate.id] is not aggregate:
            raise Conflict("already exists")
        self._loaded[aggregate.id] = aggregate
        self._marks.setdefault(aggregate.id, 0)

    def pending_count(self) -> int:
        return sum(len(a._pending_events) for a in self._loaded.values())

    def command_events(self) -> frozenset[type]:
        """The kinds of event the command run since the last call recorded; starts the next."""
        kinds = frozenset(
            type(event)
            for aggregate_id, mark in self._marks.items()
            for event in self._loaded[aggregate_id]._pending_events[mark:]
        )
        self._marks = {}
        return kinds

    def save(self) -> int | None:
        """Store every pending event in one transaction; the last notification id, if any.

        Saved, the aggregates are what the cache holds from now on; failed, none of them is.
        """
        pending = [a for a in self._loaded.values() if a._pending_events]
        try:
            recordings = self._store.save(*pending) if pending else []
        except Exception:
            self.discard()
            raise
        self._cache.put(self._loaded.values())
        return max(r.notification.id for r in recordings) if recordings else None

    def discard(self) -> None:
        """Forget what this unit of work changed: cached copies of it may hold unsaved events."""
        self._cache.evict(self._loaded)


Command = Callable[[UnitOfWork], T]


@dataclass
class Outcome(Generic[T]):
    result: T | None = None
    error: BaseException | None = None
    stored: Stored | None = None  # where this command's events are, once durably stored

    @property
    def position(self) -> int | None:
        """The notification id up to which this command's events are stored."""
        return None if self.stored is None else self.stored.position


def run_batch(
    store: EventStore, commands: list[Command[Any]], cache: AggregateCache | None = None
) -> list[Outcome[Any]]:
    """Run commands against one unit of work and save them together.

    A command that fails without recording anything just reports its error. If a command
    fails half-way, or the save itself fails (a concurrent writer, a lock), every command is
    run again on its own so one bad command cannot take the others down with it. If the
    store itself cannot be reached, every command fails at once with `Unavailable`.
    """
    if len(commands) == 1:
        return [_single(store, commands[0], cache)]
    uow = UnitOfWork(store, cache)
    outcomes: list[Outcome[Any]] = []
    kinds: list[frozenset[type]] = []
    for command in commands:
        before = uow.pending_count()
        try:
            outcomes.append(Outcome(result=command(uow)))
        except Exception as error:
            if is_unavailable(error):
                uow.discard()
                return _all_unavailable(commands, error)
            if uow.pending_count() != before:
                uow.discard()
                return [_single(store, c, cache) for c in commands]
            outcomes.append(Outcome(error=error))
        kinds.append(uow.command_events())
    try:
        position = uow.save()
    except Exception as error:
        if is_unavailable(error):
            return _all_unavailable(commands, error)
        log.info("group commit of %d commands failed (%s); retrying one by one", len(commands), error)
        return [_single(store, c, cache) for c in commands]
    for outcome, events in zip(outcomes, kinds, strict=True):
        if outcome.error is None and position is not None and events:
            outcome.stored = Stored(position, events)
    return outcomes


def _single(store: EventStore, command: Command[Any], cache: AggregateCache | None) -> Outcome[Any]:
    """One command in its own transaction; a version conflict (another process wrote to the
    same aggregate) is retried once on a fresh load."""
    for attempt in (1, 2):
        uow = UnitOfWork(store, cache)
        try:
            result = command(uow)
            events = uow.command_events()
            position = uow.save()
        except RecordConflictError as error:
            uow.discard()
            if attempt == 2:
                return Outcome(error=error)
            continue
        except Exception as error:
            uow.discard()
            return Outcome(error=_unavailable(error) if is_unavailable(error) else error)
        return Outcome(result=result, stored=None if position is None else Stored(position, events))
    raise AssertionError("unreachable")


def _unavailable(error: BaseException) -> Unavailable:
    if isinstance(error, Unavailable):
        return error
    return Unavailable(EVENT_STORE, str(error) or type(error).__name__)


def _all_unavailable(commands: list[Command[Any]], error: BaseException) -> list[Outcome[Any]]:
    log.warning("the event store failed a batch of %d commands: %s", len(commands), error)
    unavailable = _unavailable(error)
    return [Outcome(error=unavailable) for _ in commands]


class Writer:
    """Feeds queued commands to `run_batch` on one thread, as many per batch as have arrived.

    `unavailable` says why the store is known to be down (None when it is up): commands are then
    refused at once. `on_unavailable` hears of every failure to reach the store. A caller waits
    at most `deadline` seconds for its outcome.
    """

    def __init__(
        self,
        store: EventStore,
        on_stored: Callable[[int], None] | None = None,
        *,
        unavailable: Callable[[], str | None] = lambda: None,
        on_unavailable: Callable[[BaseException], None] = lambda _: None,
        deadline: float = 5.0,
    ) -> None:
        self.store = store
        self._on_stored = on_stored
        self._unavailable = unavailable
        self._on_unavailable = on_unavailable
        self._deadline = deadline
        self._queue: asyncio.Queue[tuple[Command[Any], asyncio.Future[Outcome[Any]]]] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cpms-writer")
        self._cache = AggregateCache()
        self._task: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._deadlines: deque[tuple[float, asyncio.Future[Outcome[Any]]]] = deque()
        self._late = f"no answer within {deadline:g} s"
        self._lock = threading.Lock()
        self.batches = 0
        self.commands = 0

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._run(), name="cpms-writer")
        self._sweeper = asyncio.create_task(self._sweep(), name="cpms-writer-deadlines")

    async def stop(self) -> None:
        for task in (self._task, self._sweeper):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._sweeper = None
        self._executor.shutdown(wait=True)

    async def execute(self, command: Command[T]) -> Outcome[T]:
        """Queue a command and wait until its events are durably stored (or it failed, or the
        store did not answer within the deadline)."""
        if self._queue is None:
            raise RuntimeError("writer is not started")
        down = self._known_down()
        if down is not None:
            return Outcome(error=down)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome[Any]] = loop.create_future()
        self._queue.put_nowait((command, future))
        self._deadlines.append((loop.time() + self._deadline, future))
        return await future

    def _known_down(self) -> Unavailable | None:
        """The error to answer with at once while the store is known to be down."""
        reason = self._unavailable()
        return None if reason is None else Unavailable(EVENT_STORE, reason)

    async def _sweep(self) -> None:
        """Answer callers whose deadline passed. One task for all, rather than a timer per
        command: this is on the path of every message a charger sends."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min(0.25, self._deadline / 4))
            now, late = loop.time(), 0
            while self._deadlines and (self._deadlines[0][1].done() or self._deadlines[0][0] <= now):
                _, future = self._deadlines.popleft()
                if not future.done():
                    # Not started yet, the command is dropped (see `_run`); already in a batch,
                    # it may still be stored: never acknowledged, the safe side of the race.
                    future.set_result(Outcome(error=Unavailable(EVENT_STORE, self._late)))
                    late += 1
            if late:
                self._on_unavailable(Unavailable(EVENT_STORE, self._late))

    async def load(self, aggregate_id: UUID) -> Aggregate | None:
        """An aggregate as stored (None if there is none), read outside any batch: for the few
        reads that decide nothing to write (a handshake, an API key). Same availability rules."""
        down = self._known_down()
        if down is not None:
            raise down
        try:
            return await asyncio.to_thread(self.store.repository.get, aggregate_id)
        except AggregateNotFoundError:
            return None
        except Exception as error:
            if not is_unavailable(error):
                raise
            unavailable = _unavailable(error)
            self._on_unavailable(unavailable)
            raise unavailable from error

    async def __call__(self, command: Command[T]) -> tuple[T, Stored | None]:
        """Execute a command; raise its error, or return its result and where it is stored."""
        outcome = await self.execute(command)
        if outcome.error is not None:
            raise outcome.error
        return outcome.result, outcome.stored  # type: ignore[return-value]

    def run_now(self, command: Command[T]) -> tuple[T, Stored | None]:
        """The same, synchronously, for callers outside the event loop (CLI, seeding)."""
        with self._lock:
            outcome = run_batch(self.store, [command], self._cache)[0]
        self._stored(outcome.position)
        if outcome.error is not None:
            raise outcome.error
        return outcome.result, outcome.stored  # type: ignore[return-value]

    async def _run(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            batch = [(command, future) for command, future in batch if not future.done()]
            if not batch:
                continue  # every caller gave up waiting: run nothing they were not told of
            down = self._known_down()
            if down is not None:  # the store went down while these waited behind a batch
                for _, future in batch:
                    future.set_result(Outcome(error=down))
                continue
            commands = [command for command, _ in batch]
            try:
                outcomes = await loop.run_in_executor(self._executor, self._write, commands)
            except Exception as error:  # the writer itself broke: every caller hears of it
                log.exception("the writer failed a batch of %d commands", len(commands))
                outcomes = [Outcome(error=error) for _ in batch]
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if not future.done():
                    future.set_result(outcome)

    def _write(self, commands: list[Command[Any]]) -> list[Outcome[Any]]:
        with self._lock:
            outcomes = run_batch(self.store, commands, self._cache)
        self.batches += 1
        self.commands += len(commands)
        positions = [o.position for o in outcomes if o.position is not None]
        if positions:
            self._stored(max(positions))
        unavailable = next((o.error for o in outcomes if isinstance(o.error, Unavailable)), None)
        if unavailable is not None:
            self._on_unavailable(unavailable)
        return outcomes

    def _stored(self, position: int | None) -> None:
        if position is not None and self._on_stored is not None:
            self._on_stored(position)
