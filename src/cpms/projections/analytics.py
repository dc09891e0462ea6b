"""Charging analytics: listed sessions summed per quarter-hour, hour, 6 hours and day of UTC, per
organization, site and station, and folded into a time zone's days, weeks or months when read.

A session counts in the slot where it started, once it is listed (the sessions list's rule,
`is_listed`); while active it counts as a session only, once completed also with its energy, its
duration and its duration's histogram bin. What a session contributes can change after it was
first counted: a 2.0.1 token arriving late lists it, a late Started report moves its start, its
end fixes its energy. So each session's facts are kept in `analytics_sessions_v1`, and every
change takes the session's former contribution out of its slots and puts the new one in.

Quarter-hours because every zone's offset in use is a multiple of 15 minutes (+05:30, +05:45,
+12:45): every local midnight is a quarter-hour boundary, so any zone's days fold exactly. Hours,
6 hours and days of UTC hold the same sums coarser, so that a bucket is read as the UTC days
between the UTC midnights nearest to its bounds, corrected by a few coarse and fine slots between
each bound and its midnight: 400 days of Paris read about 1,000 rows, not 38,400 quarter-hours.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from itertools import pairwise
from typing import Any, NamedTuple

from cpms.aggregates.authorization import is_listed
from cpms.aggregates.charging_session import ChargingSession
from cpms.aggregates.meter import energy_register_wh
from cpms.projections.base import Projection
from cpms.projections.sessions import session_duration_s, session_energy_wh
from cpms.projections.store import Tx
from cpms.timestamps import parse_iso, to_iso

QUARTER, HOUR, SIX_HOURS, DAY = 900, 3600, 6 * 3600, 86400  # the slots' spans, in seconds
SPANS = (QUARTER, HOUR, SIX_HOURS, DAY)
# Lower bounds of the duration histogram's bins, in seconds; the last bin has no upper bound.
HISTOGRAM_S = (0, 900, 1800, 3600, 7200, 14400, 28800, 43200, 86400)
BINS = len(HISTOGRAM_S)
ORGANIZATION, SITE, STATION = "organization", "site", "station"

_HISTOGRAM_COLUMNS = [f"h{n}" for n in range(BINS)]
# The columns each slot sums, in this order wherever a slot is read as a vector.
SUMMED = ["sessions", "completed", "energy_wh", "duration_s", *_HISTOGRAM_COLUMNS]


def slot_of(moment: datetime) -> int:
    """The start of the quarter-hour holding `moment`, in seconds since the epoch."""
    seconds = int(moment.timestamp() // 1)
    return seconds - seconds % QUARTER


def histogram_bin(duration_s: int) -> int:
    """The index of the histogram bin holding a duration: [0, 900) is 0, 86400 and more the last."""
    for index in range(BINS - 1, -1, -1):
        if duration_s >= HISTOGRAM_S[index]:
            return index
    return 0


class Contribution(NamedTuple):
    """What one listed session adds to its slot."""

    slot: int
    completed: int
    energy_wh: float
    duration_s: int
    bin: int | None  # completed sessions only

    def summed(self, sign: int) -> list[Any]:
        histogram = [0] * BINS
        if self.bin is not None:
            histogram[self.bin] = sign
        return [sign, sign * self.completed, sign * self.energy_wh, sign * self.duration_s, *histogram]


class _Session(NamedTuple):
    """One session's facts as the sessions list derives its figures from them."""

    id: str
    organization_id: str
    site_id: str
    ocpp_id: str
    started_at: str
    ended_at: str | None = None
    meter_start_wh: float | None = None
    first_register_wh: float | None = None
    first_register_at: str | None = None
    last_register_wh: float | None = None
    last_register_at: str | None = None
    meter_stop_wh: float | None = None
    listed: int = 0

    def contribution(self) -> Contribution | None:
        if not self.listed:
            return None
        started = parse_iso(self.started_at)
        if self.ended_at is None:
            return Contribution(slot_of(started), 0, 0.0, 0, None)
        duration = session_duration_s(started, parse_iso(self.ended_at))
        start_wh = self.meter_start_wh if self.meter_start_wh is not None else self.first_register_wh
        reached = self.meter_stop_wh if self.meter_stop_wh is not None else self.last_register_wh
        energy = session_energy_wh(start_wh, reached)
        return Contribution(slot_of(started), 1, energy, duration, histogram_bin(duration))


class AnalyticsProjection(Projection):
    name = "analytics"
    version = 1
    handles = (
        ChargingSession.TransactionStarted,
        ChargingSession.TransactionAuthorized,
        ChargingSession.TransactionStartReported,
        ChargingSession.MeterValuesRecorded,
        ChargingSession.TransactionEnded,
        ChargingSession.TransactionSuperseded,
    )

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            """CREATE TABLE IF NOT EXISTS analytics_sessions_v1 (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL,
                site_id TEXT NOT NULL,
                ocpp_id TEXT NOT NULL,
                started_at TEXT NOT NULL,
                ended_at TEXT,
                meter_start_wh DOUBLE PRECISION,
                first_register_wh DOUBLE PRECISION,
                first_register_at TEXT,
                last_register_wh DOUBLE PRECISION,
                last_register_at TEXT,
                meter_stop_wh DOUBLE PRECISION,
                listed INTEGER NOT NULL
            )"""
        )
        histogram = ", ".join(f"{column} INTEGER NOT NULL" for column in _HISTOGRAM_COLUMNS)
        # scope_id: '' for the organization, the site's id, the station's OCPP identity; span: the
        # slot's length in seconds (SPANS), slot: its start in seconds since the epoch. Keyed by
        # the time of day (UTC) first, so that the same hour of every day is one range of keys.
        tx.execute(
            f"""CREATE TABLE IF NOT EXISTS analytics_slots_v1 (
                organization_id TEXT NOT NULL,
                scope TEXT NOT NULL,
                scope_id TEXT NOT NULL,
                span INTEGER NOT NULL,
                time_of_day INTEGER NOT NULL,
                slot BIGINT NOT NULL,
                sessions INTEGER NOT NULL,
                completed INTEGER NOT NULL,
                energy_wh DOUBLE PRECISION NOT NULL,
                duration_s BIGINT NOT NULL,
                {histogram},
                PRIMARY KEY (organization_id, scope, scope_id, span, time_of_day, slot)
            )"""
        )

    def apply(self, event: Any, tx: Tx) -> None:
        session_id = str(event.originator_id)
        rows = tx.execute(_LOAD_SESSION, (session_id,))
        before = _Session(*rows[0]) if rows else None
        after = self._changed(event, before)
        if after is None or after == before:
            return
        tx.execute(_SAVE_SESSION, after)
        old = before.contribution() if before is not None else None
        new = after.contribution()
        if old != new:
            for slot, delta in _deltas(old, new):
                _add(tx, after, slot, delta)

    @staticmethod
    def _changed(event: Any, session: _Session | None) -> _Session | None:
        """The session's facts after `event`, following the sessions projection's fold."""
        match event:
            case ChargingSession.TransactionStarted():
                if session is None:
                    session = _Session(
                        id=str(event.originator_id),
                        organization_id=event.organization_id,
                        site_id=event.site_id,
                        ocpp_id=event.ocpp_id,
                        started_at=to_iso(event.started_at),
                        meter_start_wh=event.meter_start_wh,
                    )
                return session._replace(listed=int(is_listed(event.authorization)))
        if session is None:
            return None  # a session folded before this projection saw its start: none is
        match event:
            case ChargingSession.TransactionAuthorized():
                return session._replace(listed=int(is_listed(event.authorization)))
            case ChargingSession.TransactionStartReported():
                at = to_iso(event.started_at)
                meter_start = event.meter_start_wh
                return session._replace(
                    started_at=min(session.started_at, at),
                    meter_start_wh=session.meter_start_wh if meter_start is None else meter_start,
                )
            case ChargingSession.MeterValuesRecorded():
                return _read(session, energy_register_wh(event.samples))
            case ChargingSession.TransactionEnded() | ChargingSession.TransactionSuperseded():
                return session._replace(ended_at=to_iso(event.ended_at), meter_stop_wh=event.meter_stop_wh)
        return session


def _read(session: _Session, reading: tuple[datetime, float] | None) -> _Session:
    """Readings can arrive late or out of order: keep the latest by meter time, and the earliest,
    which stands for the start when a 2.0.1 Started carried none."""
    if reading is None:
        return session
    at, wh = to_iso(reading[0]), reading[1]
    if session.last_register_at is None or session.last_register_at <= at:
        session = session._replace(last_register_wh=wh, last_register_at=at)
    if session.first_register_at is None or session.first_register_at > at:
        session = session._replace(first_register_wh=wh, first_register_at=at)
    return session


_LOAD_SESSION = f"SELECT {', '.join(_Session._fields)} FROM analytics_sessions_v1 WHERE id = ?"
_SAVE_SESSION = (
    f"INSERT INTO analytics_sessions_v1 ({', '.join(_Session._fields)})"
    f" VALUES ({', '.join('?' * len(_Session._fields))}) ON CONFLICT (id) DO UPDATE SET"
    f" {', '.join(f'{c} = excluded.{c}' for c in _Session._fields[1:])}"
)
_ADD_TO_SLOTS = (
    "INSERT INTO analytics_slots_v1 (organization_id, scope, scope_id, span, time_of_day, slot,"
    f" {', '.join(SUMMED)}) VALUES (?, ?, ?, ?, ?, ?, {', '.join('?' * len(SUMMED))})"
    " ON CONFLICT (organization_id, scope, scope_id, span, time_of_day, slot) DO UPDATE SET"
    f" {', '.join(f'{c} = analytics_slots_v1.{c} + excluded.{c}' for c in SUMMED)}"
)


def _deltas(old: Contribution | None, new: Contribution | None) -> list[tuple[int, list[Any]]]:
    """What changes in which slot: the former contribution out, the new one in; one difference
    when both are in the same slot (a session that ends, say)."""
    if old is not None and new is not None and old.slot == new.slot:
        return [(new.slot, [a - b for a, b in zip(new.summed(1), old.summed(1), strict=True)])]
    return [
        *([(old.slot, old.summed(-1))] if old is not None else []),
        *([(new.slot, new.summed(1))] if new is not None else []),
    ]


def _add(tx: Tx, session: _Session, slot: int, delta: list[Any]) -> None:
    """Add `delta` to the slots of every span holding `slot`, of the organization, the site and
    the station."""
    scopes = ((ORGANIZATION, ""), (SITE, session.site_id), (STATION, session.ocpp_id))
    starts = [(span, slot - slot % span) for span in SPANS]
    tx.executemany(
        _ADD_TO_SLOTS,
        [
            (session.organization_id, scope, key, span, start % DAY, start, *delta)
            for scope, key in scopes
            for span, start in starts
        ],
    )


# -- queries ------------------------------------------------------------------------------------


class Sums(NamedTuple):
    """What a bucket (or a whole range) holds."""

    sessions: int
    completed: int
    energy_wh: float
    duration_s: int
    histogram: tuple[int, ...]

    @classmethod
    def of(cls, vector: Sequence[Any]) -> Sums:
        sessions, completed, energy, duration, *histogram = vector
        return cls(sessions, completed, float(energy), duration, tuple(histogram))


EMPTY = Sums(0, 0, 0.0, 0, (0,) * BINS)
Vector = Sequence[Any]  # a slot's summed columns, in SUMMED order
_IN_LIST = 500  # slots per IN (...): far below any database's limit on parameters


def bucket_sums(tx: Tx, organization_id: str, scope: str, scope_id: str, bounds: Sequence[int]) -> list[Sums]:
    """The sums of each bucket between consecutive `bounds` (UTC seconds, ascending, each a
    quarter-hour boundary; one that is not counts from the quarter-hour holding it).

    A bucket is read as the UTC days between the UTC midnights nearest to its bounds, less the
    stretch from its start's midnight to its start, plus the stretch from its end's midnight to
    its end (either may be negative: a midnight after its bound). A stretch is at most 12 hours,
    read as a few slots of 6 hours, hours and quarter-hours (_Edge), so a Paris day is its UTC
    day, less one hour before and plus one hour at its end."""
    key = (organization_id, scope, scope_id)
    edges = [_Edge.of(bound - bound % QUARTER) for bound in bounds]
    days = _days(tx, key, edges[0].midnight, edges[-1].midnight)
    fine = _slots(tx, key, {(span, slot) for edge in edges for _, span, slot in edge.pieces})
    stretches = [edge.stretch(fine) for edge in edges]
    found = []
    for index, (start, end) in enumerate(pairwise(edges)):
        parts = [days[day] for day in range(start.midnight, end.midnight, DAY) if day in days]
        inside = parts[0] if len(parts) == 1 else [sum(column) for column in zip(_ZERO, *parts, strict=True)]
        before, after = stretches[index], stretches[index + 1]
        found.append(Sums.of([d - b + a for d, b, a in zip(inside, before, after, strict=True)]))
    return found


class _Edge(NamedTuple):
    """A bound seen from its nearest UTC midnight: the slots that lead from the midnight to the
    bound, each with a sign (+ forwards, - backwards), as (sign, span, slot)."""

    midnight: int
    pieces: tuple[tuple[int, int, int], ...]

    @classmethod
    def of(cls, bound: int) -> _Edge:
        day = bound - bound % DAY
        midnight, pieces = _edge_in_day(bound - day)
        return cls(day + midnight, tuple((sign, span, day + slot) for sign, span, slot in pieces))

    def stretch(self, fine: dict[tuple[int, int], Vector]) -> Vector:
        """What lies from the midnight to the bound, negative when the midnight is after it."""
        parts = [(sign, fine[span, slot]) for sign, span, slot in self.pieces if (span, slot) in fine]
        if len(parts) == 1:  # the usual case (Paris: one hour)
            sign, part = parts[0]
            return part if sign == 1 else [-value for value in part]
        signed = [[sign * value for value in part] for sign, part in parts]
        return [sum(column) for column in zip(*signed, strict=True)] if signed else _ZERO


_ZERO = (0,) * len(SUMMED)


@functools.cache
def _edge_in_day(second: int) -> tuple[int, tuple[tuple[int, int, int], ...]]:
    """_Edge.of a bound `second` seconds into a UTC day, in seconds from that day's start; the
    same for every bound at that time of day, so worked out once.

    From the nearest midnight, each span in turn takes whole slots to the multiple of it nearest
    to the bound, forwards or backwards: at most two 6-hour slots, three hours and two
    quarter-hours, usually one to three slots (Paris: one hour; Los Angeles: 6 hours and 1 or 2
    hours; Kolkata: 6 hours back, then two quarter-hours)."""
    midnight = 0 if second <= DAY // 2 else DAY
    at, pieces = midnight, []
    for span in (SIX_HOURS, HOUR, QUARTER):
        below = second - second % span
        above = below + span if below < second else below
        # The nearer multiple; at equal distance, the one nearer to where the slots have reached.
        nearest = min((below, above), key=lambda n: (abs(second - n), abs(at - n)))
        while at < nearest:
            pieces.append((1, span, at))
            at += span
        while at > nearest:
            at -= span
            pieces.append((-1, span, at))
    return midnight, tuple(pieces)


_COLUMNS = ", ".join(SUMMED)
_SCOPE = "organization_id = ? AND scope = ? AND scope_id = ?"


def _days(tx: Tx, key: tuple[str, str, str], start: int, end: int) -> dict[int, Vector]:
    rows = tx.execute(
        f"SELECT slot, {_COLUMNS} FROM analytics_slots_v1"
        f" WHERE {_SCOPE} AND span = ? AND time_of_day = 0 AND slot >= ? AND slot < ?",
        (*key, DAY, start, end),
    )
    return {row[0]: row[1:] for row in rows}


def _slots(tx: Tx, key: tuple[str, str, str], pieces: set[tuple[int, int]]) -> dict[tuple[int, int], Vector]:
    """The slots named by `pieces`. Those of one span at one time of day (the hour from 23:00 UTC
    of each day of a year of Paris days) lie together in the key's order: they are read as one
    range, or by name when they are few across a long range (a year of months)."""
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for span, slot in pieces:
        groups[span, slot % DAY].append(slot)
    found: dict[tuple[int, int], Vector] = {}
    for (span, time_of_day), slots in groups.items():
        slots.sort()
        where = f"{_SCOPE} AND span = ? AND time_of_day = ?"
        chunks: list[tuple[str, tuple[int, ...]]]
        if (slots[-1] - slots[0]) // DAY < 4 * len(slots):
            chunks = [(f"{where} AND slot >= ? AND slot <= ?", (slots[0], slots[-1]))]
        else:
            chunks = [
                (f"{where} AND slot IN ({', '.join('?' * len(chunk))})", tuple(chunk))
                for chunk in (slots[n : n + _IN_LIST] for n in range(0, len(slots), _IN_LIST))
            ]
        for condition, params in chunks:
            rows = tx.execute(
                f"SELECT slot, {_COLUMNS} FROM analytics_slots_v1 WHERE {condition}",
                (*key, span, time_of_day, *params),
            )
            found.update(((span, row[0]), row[1:]) for row in rows)
    return found


def total(sums: Sequence[Sums]) -> Sums:
    return Sums(
        sum(s.sessions for s in sums),
        sum(s.completed for s in sums),
        sum(s.energy_wh for s in sums),
        sum(s.duration_s for s in sums),
        tuple(sum(column) for column in zip(*(s.histogram for s in sums), strict=True))
        if sums
        else EMPTY.histogram,
    )
