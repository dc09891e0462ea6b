"""A site's history as of any instant: its events in log order, and the site as it was then,
rebuilt by folding the events received up to that instant through the read models' own code into
a throwaway in-memory view, never read from today's tables.

The site's events are found through the `site_history` index and read from the event store by
the aggregate and version that name them. The past view of a long history is started from the
nearest snapshot (an image of an earlier past view, see `PastView.image`) rather than from the
first event; snapshots are taken while replaying, every `SNAPSHOT_EVERY` events of the site.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import sqlite3
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL, Identifier

from cpms.infra.eventstore import EventStore
from cpms.projections import charge_points, sessions, site_history, sites, stations
from cpms.projections.base import Projection
from cpms.projections.store import SqliteTx, Tx, ViewStore
from cpms.timestamps import to_iso

log = logging.getLogger(__name__)

# The read models whose answers make up the site as it was, folded by their own code.
REPLAYED: tuple[type[Projection], ...] = (
    sites.SitesProjection,
    charge_points.ChargePointsProjection,
    stations.StationsProjection,
    sessions.SessionsProjection,
)
# What made a snapshot: one made by other versions of these folds is never read.
FOLDS: tuple[type[Projection], ...] = (*REPLAYED, site_history.SiteHistoryProjection)
CODE = "+".join(f"{p.name}.v{p.version}" for p in FOLDS) + "+image.v1"
SNAPSHOT_EVERY = 5_000  # events of the site between two snapshots of its past view (at least)
FETCH = 1_000  # events read from the log at a time
SESSIONS_SHOWN = 50  # the sessions list's first page, as GET .../sessions answers by default
ALL = 500  # page size when reading a whole list of the past view
# Attributes every event has: served beside the payload, not in it.
ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})
SECRETS = frozenset({"password_hash"})  # a station's OCPP password, salted and hashed
REDACTED = "(redacted)"
END_OF_TIME = "9999-12-31T23:59:59.999Z"


@dataclass(frozen=True)
class Indexed:
    """A site's event as the index names it."""

    aggregate_id: str
    version: int
    seq: int
    received_at: str


class SiteHistory:
    def __init__(self, store: EventStore, views: ViewStore, *, snapshot_every: int = SNAPSHOT_EVERY) -> None:
        self._store = store
        self._views = views
        self._log = EventLog(store)
        self._snapshot_every = snapshot_every
        self._taken = 0  # snapshots taken by this reader

    def known(self, site_id: str) -> bool:
        """Whether the log holds any event of the site (as far as the index has folded it)."""
        with self._views.read() as tx:
            return bool(_indexed(tx, site_id, after=0, until=END_OF_TIME, limit=1))

    def events(
        self, site_id: str, until: datetime, *, after: int = 0, limit: int
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Up to `limit` of the site's events received up to `until`, after the one with sequence
        number `after`, in log order; and the sequence number the next page starts after."""
        with self._views.read() as tx:
            rows = _indexed(tx, site_id, after=after, until=to_iso(until), limit=limit + 1)
        page = rows[:limit]
        items = [describe(record, position, event) for record, position, event in self._log.read(page)]
        return items, page[-1].seq if len(rows) > limit else None

    def all_events(self, site_id: str, until: datetime) -> Iterator[dict[str, Any]]:
        after: int | None = 0
        while after is not None:
            items, after = self.events(site_id, until, after=after, limit=FETCH)
            yield from items

    def as_of(self, site_id: str, until: datetime, organization_id: str | None = None) -> dict[str, Any]:
        """The site as the read models served it at `until`: overview (with its state), sheet,
        stations and sessions (the list's first page), folded from the events received up to
        then. `organization_id` None: the site's own (the command line reads for operators)."""
        with self.past_view(site_id, until) as view:
            return {
                "until": to_iso(until),
                "position": view.position,
                "events": view.events,
                **view.answers(site_id, until, organization_id),
            }

    def keep_snapshots(self) -> int:
        """Extend by one snapshot each site with `snapshot_every` events or more after its
        latest, so that even the first ask about a long past replays little; the number of
        snapshots taken. A site is extended a step at a time: others wait their turn briefly."""
        with self._views.read() as tx:
            behind = [
                site_id
                for site_id in site_history.sites(tx)
                if site_history.unsnapshotted(tx, site_id, CODE) >= self._snapshot_every
            ]
        taken = self._taken
        for site_id in behind:
            with self.past_view(site_id, now(), at_most=self._snapshot_every):
                pass
        # None taken (an event stamped in the future by a skewed clock holds them back): the
        # caller waits its interval rather than replaying the same events again at once.
        return self._taken - taken

    @contextmanager
    def past_view(self, site_id: str, until: datetime, *, at_most: int | None = None) -> Iterator[PastView]:
        """The site's past view at `until` (or after folding `at_most` events, for snapshots)."""
        until_iso = to_iso(until)
        with self._views.read() as tx:
            base = site_history.nearest_snapshot(tx, site_id, CODE, until_iso)
            first_late = site_history.first_received_after(tx, site_id, until_iso)
        view = PastView(None if base is None else _unpacked(base.image))
        try:
            progress = _Progress(base)
            while True:
                with self._views.read() as tx:
                    rows = _indexed(tx, site_id, after=progress.seq, until=until_iso, limit=FETCH)
                if not rows:
                    break
                with view.batch():
                    for record, position, event in self._log.read(rows):
                        view.fold(event)
                        progress.folded(record, position)
                # Only an image of every event up to here is a snapshot: none may come later.
                if progress.since_snapshot >= self._snapshot_every and (
                    first_late is None or progress.seq < first_late
                ):
                    self._snapshot(site_id, view, progress)
                if at_most is not None and progress.events - progress.base_events >= at_most:
                    break
            view.position, view.events = progress.position, progress.events
            yield view
        finally:
            view.close()

    def _snapshot(self, site_id: str, view: PastView, progress: _Progress) -> None:
        assert progress.position is not None  # it folded events since the last snapshot
        image = _packed(view.image())
        with self._views.transaction() as tx:
            site_history.save_snapshot(
                tx,
                site_id,
                CODE,
                seq=progress.seq,
                position=progress.position,
                last_received_at=progress.last_received_at,
                events=progress.events,
                image=image,
            )
        progress.since_snapshot = 0
        self._taken += 1


class Snapshotter:
    """In the projector's background: keeps every site's snapshots close behind its latest
    events (`SiteHistory.keep_snapshots`), so that no auditor's first question waits for a
    year to be replayed. One step at a time on a worker thread, pausing between steps."""

    def __init__(self, history: SiteHistory, *, interval: float = 30.0, pause: float = 0.5) -> None:
        self._history = history
        self._interval = interval
        self._pause = pause
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="cpms-history-snapshots")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                extended = await asyncio.to_thread(self._history.keep_snapshots)
            except Exception as error:  # a store down, say: the next round tries again
                if not self._failing:
                    log.warning("could not take snapshots of sites' history: %s", error)
                self._failing, extended = True, 0
            else:
                self._failing = False
            await asyncio.sleep(self._pause if extended else self._interval)


class _Progress:
    """How far a past view has folded a site's events."""

    def __init__(self, base: site_history.Snapshot | None) -> None:
        self.seq = 0 if base is None else base.seq
        self.position = None if base is None else base.position
        self.events = 0 if base is None else base.events
        self.last_received_at = "" if base is None else base.last_received_at
        self.since_snapshot = 0
        self.base_events = self.events

    def folded(self, record: Indexed, position: int) -> None:
        self.seq = record.seq
        self.position = position
        self.events += 1
        self.last_received_at = max(self.last_received_at, record.received_at)
        self.since_snapshot += 1


class PastView:
    """The four read models of a site in a private in-memory SQLite database, folded event by
    event through the projections' own `apply`; the same queries read it as read today's views."""

    def __init__(self, image: bytes | None = None) -> None:
        self._conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self.tx: Tx = SqliteTx(self._conn)
        self.position: int | None = None  # of the last event folded, in the log
        self.events = 0  # of the site, folded
        self._projections = [projection() for projection in REPLAYED]
        if image is None:
            for projection in self._projections:
                projection.create_tables(self.tx)
        else:
            self._conn.deserialize(image)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Folds in one transaction: in memory, a commit per statement is most of the cost."""
        self._conn.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def fold(self, event: Any) -> None:
        for projection in self._projections:
            if isinstance(event, projection.handles):
                projection.apply(event, self.tx)

    def image(self) -> bytes:
        return self._conn.serialize()

    def answers(self, site_id: str, until: datetime, organization_id: str | None) -> dict[str, Any]:
        tx = self.tx
        if organization_id is None:
            owner = tx.execute("SELECT organization_id FROM sites_v2 WHERE id = ?", (site_id,))
            organization_id = owner[0][0] if owner else ""
        org = organization_id
        return {
            "site": sites.get_site(tx, org, site_id),
            "charge_points": _whole(lambda c: charge_points.sheet(tx, org, site_id, limit=ALL, cursor=c)),
            "stations": _whole(
                lambda c: stations.list_stations(tx, org, site_id=site_id, limit=ALL, cursor=c)
            ),
            "sessions": sessions.list_sessions(
                tx,
                org,
                site_id,
                started_from=None,
                started_before=None,
                state=None,
                limit=SESSIONS_SHOWN,
                cursor=None,
                now=until,
            )[0],
        }

    def close(self) -> None:
        self._conn.close()


def _whole(page: Callable[[str | None], tuple[list[dict[str, Any]], str | None]]) -> list[dict[str, Any]]:
    items, cursor = page(None)
    while cursor is not None:
        more, cursor = page(cursor)
        items += more
    return items


# -- the log ------------------------------------------------------------------------------------


class EventLog:
    """The site's events read from the event store by key (aggregate id and version), each with
    its position in the log; SQLite and PostgreSQL."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    def read(self, rows: Sequence[Indexed]) -> Iterator[tuple[Indexed, int, Any]]:
        """Each indexed event with its position in the log and its domain event (upcast to
        today's shape)."""
        if not rows:
            return
        stored = {(n.originator_id, n.originator_version): n for n in self._select(rows)}
        mapper = self._store.mapper
        for row in rows:
            notification = stored[UUID(row.aggregate_id), row.version]
            yield row, notification.id, mapper.to_domain_event(notification)

    def _select(self, rows: Sequence[Indexed]) -> list[Notification]:
        recorder: Any = self._store.recorder
        table = recorder.events_table_name
        if isinstance(recorder, SQLiteApplicationRecorder):
            values = ", ".join("(?, ?)" for _ in rows)
            params = [value for row in rows for value in (row.aggregate_id.replace("-", ""), row.version)]
            with recorder.datastore.transaction(commit=False) as cursor:
                # A join on the keys, which SQLite plans as one primary-key lookup per key.
                cursor.execute(
                    f"WITH wanted (id, version) AS (VALUES {values})"
                    f" SELECT e.rowid, e.originator_id, e.originator_version, e.topic, e.state"
                    f" FROM wanted CROSS JOIN {table} e"
                    " WHERE e.originator_id = wanted.id AND e.originator_version = wanted.version",
                    params,
                )
                return [
                    Notification(
                        id=r["rowid"],
                        originator_id=recorder.convert_originator_id(r["originator_id"]),
                        originator_version=r["originator_version"],
                        topic=r["topic"],
                        state=r["state"],
                    )
                    for r in cursor.fetchall()
                ]
        statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {}.{}"
            " WHERE (originator_id, originator_version) IN (SELECT * FROM unnest(%s::uuid[], %s::bigint[]))"
        ).format(Identifier(recorder.datastore.schema), Identifier(table))
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, ([row.aggregate_id for row in rows], [row.version for row in rows]))
            return [
                Notification(
                    id=r["notification_id"],
                    originator_id=r["originator_id"],
                    originator_version=r["originator_version"],
                    topic=r["topic"],
                    state=bytes(r["state"]),
                )
                for r in cursor.fetchall()
            ]


def _indexed(tx: Tx, site_id: str, *, after: int, until: str, limit: int) -> list[Indexed]:
    return [Indexed(*row) for row in site_history.indexed(tx, site_id, after=after, until=until, limit=limit)]


# -- describing an event ------------------------------------------------------------------------


def describe(record: Indexed, position: int, event: Any) -> dict[str, Any]:
    """An event as auditors read it: where it is in the log, what it is, when it happened (by
    the clock that reported it) and when cpms received it, and what it says."""
    aggregate_type, _, event_type = type(event).__qualname__.rpartition(".")
    payload = {
        name: REDACTED if name in SECRETS and value is not None else plain(value)
        for name, value in vars(event).items()
        if name not in ENVELOPE
    }
    return {
        "position": position,
        "type": event_type,
        "aggregate_type": aggregate_type,
        "aggregate_id": record.aggregate_id,
        "aggregate_version": record.version,
        "occurred_at": occurred_at(event),
        "received_at": record.received_at,
        "payload": payload,
    }


def occurred_at(event: Any) -> str | None:
    """When it happened: the charger's time where its message carried one (a status, a
    transaction's start or end, the last of its meter readings), else when the command ran."""
    for name in ("occurred_at", "started_at", "ended_at"):
        moment = getattr(event, name, None)
        if isinstance(moment, datetime):
            return to_iso(moment)
    samples = getattr(event, "samples", None)
    if samples:
        moments = [s["timestamp"] for s in samples if isinstance(s.get("timestamp"), datetime)]
        if moments:
            return to_iso(max(moments))
    return None


def plain(value: Any) -> Any:
    """A payload value in JSON's terms: instants in cpms's spelling, ids as text."""
    if isinstance(value, datetime):
        return to_iso(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def now() -> datetime:
    return datetime.now(UTC)


def _packed(image: bytes) -> str:
    """Images are kept as text, which both databases store alike; compressed, they are a fifth."""
    return base64.b64encode(zlib.compress(image, 6)).decode()


def _unpacked(image: str) -> bytes:
    return zlib.decompress(base64.b64decode(image))
