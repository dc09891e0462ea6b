"""Whether the stores and brokers cpms depends on are answering, known before a request waits on them.

A background monitor probes each dependency every second on a thread of its own; a write or read
that fails for want of its store reports it at once. While a dependency is down, whoever needs it
is told so immediately (a CALLERROR, a 503 with Retry-After) instead of waiting on timeouts, and
everything resumes by itself once a probe succeeds again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import eventsourcing.persistence
import nats
import psycopg

from cpms.timestamps import now_iso

log = logging.getLogger(__name__)

EVENT_STORE = "event_store"
VIEW_STORE = "view_store"
NATS = "nats"

# sqlite3 reports a missing table and a full disk with the same exception class: only these
# messages say the database itself cannot be used right now.
_SQLITE_UNAVAILABLE = ("locked", "disk i/o", "unable to open", "disk is full", "readonly", "busy")


class Unavailable(Exception):
    """A dependency cannot be used right now; retrying later is the remedy."""

    def __init__(self, dependency: str, reason: str) -> None:
        super().__init__(f"{dependency.replace('_', ' ')} unavailable: {reason}")
        self.dependency = dependency
        self.reason = reason


def store_of(error: BaseException) -> str:
    """Which store an availability error came from: eventsourcing's errors are the event store's."""
    return EVENT_STORE if type(error).__module__.startswith("eventsourcing") else VIEW_STORE


def is_unavailable(error: BaseException) -> bool:
    """Does this error mean the database could not be reached (as opposed to a bug or a refusal)?"""
    if isinstance(error, Unavailable):
        return True
    if isinstance(
        error,
        (
            eventsourcing.persistence.OperationalError,
            eventsourcing.persistence.InterfaceError,
            psycopg.OperationalError,
            psycopg.InterfaceError,
        ),
    ):
        return True
    if isinstance(error, sqlite3.OperationalError):
        message = str(error).lower()
        return any(fragment in message for fragment in _SQLITE_UNAVAILABLE)
    return False


@dataclass(frozen=True)
class DependencyState:
    up: bool
    since: str
    error: str | None = None


Probe = Callable[[], Awaitable[None]]


class DependencyMonitor:
    """Probes each named dependency on an interval; `unavailable(name)` says why one is down."""

    def __init__(self, probes: dict[str, Probe], *, interval: float = 1.0, timeout: float = 2.0) -> None:
        self._probes = probes
        self._interval = interval
        self._timeout = timeout
        now = now_iso()
        self._states = {name: DependencyState(True, now) for name in probes}
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False

    def states(self) -> dict[str, DependencyState]:
        return dict(self._states)

    def unavailable(self, name: str) -> str | None:
        """Why `name` is down, or None when it is up (or not monitored)."""
        state = self._states.get(name)
        return None if state is None or state.up else (state.error or "not answering")

    def require(self, name: str) -> None:
        reason = self.unavailable(name)
        if reason is not None:
            raise Unavailable(name, reason)

    def report(self, name: str, error: BaseException | str) -> None:
        """A caller saw `name` fail for want of its store: mark it down now, probe again soon.
        Safe from any thread."""
        if name not in self._states:
            return
        self._mark(name, False, str(error) or type(error).__name__)
        if self._loop is not None and self._wake is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def check_now(self) -> None:
        """Probe every dependency once (at start, and on each tick)."""
        results = await asyncio.gather(*(self._probe(name) for name in self._probes))
        for name, error in zip(self._probes, results, strict=True):
            self._mark(name, error is None, error)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._stopping = False
        await self.check_now()
        self._task = asyncio.create_task(self._run(), name="cpms-health")

    async def stop(self) -> None:
        # Stopped by a flag, not by cancelling: a cancellation racing the wake-up inside
        # `asyncio.wait_for` can be lost (Python 3.11), and the loop would never end.
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        for probe in self._probes.values():
            close = getattr(probe, "close", None)
            if close is not None:
                await close()

    async def _run(self) -> None:
        assert self._wake is not None
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            if not self._stopping:
                await self.check_now()

    async def _probe(self, name: str) -> str | None:
        try:
            await asyncio.wait_for(self._probes[name](), self._timeout)
        except TimeoutError:
            return f"no answer within {self._timeout:g} s"
        except Exception as error:
            return f"{type(error).__name__}: {error}".strip()
        return None

    def _mark(self, name: str, up: bool, error: str | None) -> None:
        previous = self._states[name]
        if previous.up == up and (up or previous.error == error):
            return
        self._states[name] = DependencyState(up, previous.since if previous.up == up else now_iso(), error)
        if up and not previous.up:
            log.warning("%s is available again", name.replace("_", " "))
        elif not up and previous.up:
            log.error("%s is unavailable: %s", name.replace("_", " "), error)


# -- probes -----------------------------------------------------------------------------------


class _BlockingProbe(ABC):
    """Runs a blocking check on a thread of its own: a hung probe never takes a thread that
    chargers or API requests need, nor another dependency's."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cpms-health")

    async def __call__(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._check)

    @abstractmethod
    def _check(self) -> None:
        """Return if the dependency answers; raise why not."""

    async def close(self) -> None:
        self._executor.shutdown(wait=False)


class PostgresProbe(_BlockingProbe):
    """`SELECT 1` over a connection of its own, reconnected (with a short timeout) when it broke."""

    def __init__(self, conninfo: str, *, timeout: float = 1.0) -> None:
        super().__init__()
        self._conninfo = conninfo
        self._timeout = timeout
        self._conn: psycopg.Connection[Any] | None = None

    def _check(self) -> None:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(
                    self._conninfo,
                    autocommit=True,
                    connect_timeout=max(1, round(self._timeout)),
                    options=f"-c statement_timeout={int(self._timeout * 1000)}",
                )
            self._conn.execute("SELECT 1")
        except Exception:
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    self._conn.close()
            self._conn = None
            raise

    async def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        await super().close()


class SqliteProbe(_BlockingProbe):
    """The file can be opened and read."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = path

    def _check(self) -> None:
        conn = sqlite3.connect(f"file:{self._path}?mode=rw", uri=True, timeout=1)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
        finally:
            conn.close()


class NatsProbe:
    """A NATS connection of the probe's own; each probe is a PING round trip, and a lost
    connection is made again by the next probe (once, quickly: the monitor is the retry loop)."""

    def __init__(self, url: str, *, timeout: float = 1.0) -> None:
        self._url = url
        self._timeout = timeout
        self._client: Any = None

    async def __call__(self) -> None:
        if self._client is None or not self._client.is_connected:
            await self.close()
            self._client = await nats.connect(
                self._url,
                connect_timeout=self._timeout,
                allow_reconnect=False,
                # nats-py retries a server during the first connection even so; once is enough.
                max_reconnect_attempts=1,
                reconnect_time_wait=0.1,  # type: ignore[arg-type]
                error_cb=_quiet,
                disconnected_cb=_quiet_event,
                closed_cb=_quiet_event,
            )
        await self._client.flush(timeout=self._timeout)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and not client.is_closed:
            with contextlib.suppress(Exception):
                await client.close()


async def _quiet(_: Exception) -> None:
    """The monitor reports NATS being down once; nats-py would log every failed attempt."""


async def _quiet_event() -> None:
    pass
