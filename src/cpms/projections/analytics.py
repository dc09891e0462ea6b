"""Charging analytics: listed sessions summed per quarter-hour of UTC, per organization, site and
station, folded into a time zone's days, weeks or months when read.

A session counts in the slot where it started, once it is listed (the sessions list's rule,
`is_listed`); while active it counts as a session only, once completed also with its energy, its
duration and its duration's histogram bin. What a session contributes can change after it was
first counted: a 2.0.1 token arriving late lists it, a late Started report moves its start, its
end fixes its energy. So each session's facts are kept in `analytics_sessions_v1`, and every
change takes the session's former contribution out of its slot and puts the new one in.

Slots are quarter-hours because every zone's offset in use is a multiple of 15 minutes (+05:30,
+05:45, +12:45): every local midnight is a slot boundary, so any zone's days fold exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields, replace
from datetime import datetime
from typing import Any, NamedTuple

from cpms.aggregates.authorization import is_listed
from cpms.aggregates.charging_session import ChargingSession
from cpms.aggregates.meter import energy_register_wh
from cpms.projections.base import Projection
from cpms.projections.sessions import session_duration_s, session_energy_wh
from cpms.projections.store import Tx
from cpms.timestamps import parse_iso, to_iso

SLOT_S = 15 * 60
# Lower bounds of the duration histogram's bins, in seconds; the last bin has no upper bound.
HISTOGRAM_S = (0, 900, 1800, 3600, 7200, 14400, 28800, 43200, 86400)
BINS = len(HISTOGRAM_S)
ORGANIZATION, SITE, STATION = "organization", "site", "station"

_HISTOGRAM_COLUMNS = [f"h{n}" for n in range(BINS)]
_SUMMED = ["sessions", "completed", "energy_wh", "duration_s", *_HISTOGRAM_COLUMNS]
_SESSION_COLUMNS = (
    "id, organization_id, site_id, ocpp_id, started_at, ended_at, meter_start_wh, first_register_wh,"
    " first_register_at, last_register_wh, last_register_at, meter_stop_wh, listed"
)


def slot_of(moment: datetime) -> int:
    """The start of the quarter-hour holding `moment`, in seconds since the epoch."""
    seconds = int(moment.timestamp() // 1)
    return seconds - seconds % SLOT_S


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


@dataclass(frozen=True)
class _Session:
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
        # scope_id: '' for the organization, the site's id, the station's OCPP identity.
        tx.execute(
            f"""CREATE TABLE IF NOT EXISTS analytics_slots_v1 (
                organization_id TEXT NOT NULL,
                scope TEXT NOT NULL,
                scope_id TEXT NOT NULL,
                slot BIGINT NOT NULL,
                sessions INTEGER NOT NULL,
                completed INTEGER NOT NULL,
                energy_wh DOUBLE PRECISION NOT NULL,
                duration_s BIGINT NOT NULL,
                {histogram},
                PRIMARY KEY (organization_id, scope, scope_id, slot)
            )"""
        )

    def apply(self, event: Any, tx: Tx) -> None:
        session_id = str(event.originator_id)
        rows = tx.execute(f"SELECT {_SESSION_COLUMNS} FROM analytics_sessions_v1 WHERE id = ?", (session_id,))
        before = _Session(*rows[0]) if rows else None
        after = self._changed(event, before)
        if after is None or after == before:
            return
        columns = [f.name for f in fields(_Session)]
        tx.execute(
            f"INSERT INTO analytics_sessions_v1 ({_SESSION_COLUMNS}) VALUES ({', '.join('?' * len(columns))})"
            f" ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in columns[1:])}",
            astuple(after),
        )
        old = before.contribution() if before is not None else None
        new = after.contribution()
        if old != new:
            _add(tx, after, old, -1)
            _add(tx, after, new, 1)

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
                return replace(session, listed=int(is_listed(event.authorization)))
        if session is None:
            return None  # a session folded before this projection saw its start: none is
        match event:
            case ChargingSession.TransactionAuthorized():
                return replace(session, listed=int(is_listed(event.authorization)))
            case ChargingSession.TransactionStartReported():
                at = to_iso(event.started_at)
                meter_start = event.meter_start_wh
                return replace(
                    session,
                    started_at=min(session.started_at, at),
                    meter_start_wh=session.meter_start_wh if meter_start is None else meter_start,
                )
            case ChargingSession.MeterValuesRecorded():
                return _read(session, energy_register_wh(event.samples))
            case ChargingSession.TransactionEnded() | ChargingSession.TransactionSuperseded():
                return replace(session, ended_at=to_iso(event.ended_at), meter_stop_wh=event.meter_stop_wh)
        return session


def _read(session: _Session, reading: tuple[datetime, float] | None) -> _Session:
    """Readings can arrive late or out of order: keep the latest by meter time, and the earliest,
    which stands for the start when a 2.0.1 Started carried none."""
    if reading is None:
        return session
    at, wh = to_iso(reading[0]), reading[1]
    if session.last_register_at is None or session.last_register_at <= at:
        session = replace(session, last_register_wh=wh, last_register_at=at)
    if session.first_register_at is None or session.first_register_at > at:
        session = replace(session, first_register_wh=wh, first_register_at=at)
    return session


def _add(tx: Tx, session: _Session, contribution: Contribution | None, sign: int) -> None:
    """Add (or with sign -1 take out) a contribution to its slot of the organization, the site
    and the station."""
    if contribution is None:
        return
    summed = contribution.summed(sign)
    scopes = ((ORGANIZATION, ""), (SITE, session.site_id), (STATION, session.ocpp_id))
    updates = ", ".join(f"{c} = analytics_slots_v1.{c} + excluded.{c}" for c in _SUMMED)
    tx.executemany(
        f"INSERT INTO analytics_slots_v1 (organization_id, scope, scope_id, slot, {', '.join(_SUMMED)})"
        f" VALUES (?, ?, ?, ?, {', '.join('?' * len(_SUMMED))})"
        f" ON CONFLICT (organization_id, scope, scope_id, slot) DO UPDATE SET {updates}",
        [(session.organization_id, scope, key, contribution.slot, *summed) for scope, key in scopes],
    )


# -- queries ------------------------------------------------------------------------------------


class Sums(NamedTuple):
    """What a bucket (or a whole range) holds."""

    sessions: int
    completed: int
    energy_wh: float
    duration_s: int
    histogram: tuple[int, ...]


# Typed, so that PostgreSQL divides integers as integers whatever type the driver sends.
_INT = "CAST(? AS BIGINT)"
EMPTY = Sums(0, 0, 0.0, 0, (0,) * BINS)


def bucket_sums(tx: Tx, organization_id: str, scope: str, scope_id: str, bounds: Sequence[int]) -> list[Sums]:
    """The sums of each bucket between consecutive `bounds` (UTC seconds, ascending), in one query
    that reads each slot of the range once and sums it into its bucket in the database.

    A slot's bucket is found by a CASE over runs of buckets of equal length (the days between two
    daylight-saving changes, say): within a run it is arithmetic, so a year of days in a zone with
    daylight saving is five branches, not 365."""
    branches: list[str] = []
    params: list[Any] = []
    for first, start, end, length in _runs(bounds):
        branches.append(f"WHEN slot < {_INT} THEN {_INT} + (slot - {_INT}) / {_INT}")
        params += [end, first, start, length]
    sums = ", ".join(f"SUM({column})" for column in _SUMMED)
    rows = tx.execute(
        f"SELECT CASE {' '.join(branches)} END AS bucket, {sums} FROM analytics_slots_v1"
        " WHERE organization_id = ? AND scope = ? AND scope_id = ? AND slot >= ? AND slot < ?"
        " GROUP BY 1",
        (*params, organization_id, scope, scope_id, bounds[0], bounds[-1]),
    )
    found = [EMPTY] * (len(bounds) - 1)
    for bucket, sessions, completed, energy, duration, *histogram in rows:
        # PostgreSQL sums integers as numeric (Decimal), SQLite as integers.
        found[int(bucket)] = Sums(
            int(sessions), int(completed), float(energy), int(duration), tuple(int(n) for n in histogram)
        )
    return found


def _runs(bounds: Sequence[int]) -> list[tuple[int, int, int, int]]:
    """Consecutive buckets of one length: (index of the first, start, end, length) each."""
    runs: list[tuple[int, int, int, int]] = []
    for index in range(len(bounds) - 1):
        start, end = bounds[index], bounds[index + 1]
        length = end - start
        if runs and runs[-1][3] == length and runs[-1][2] == start:
            first, run_start, _, _ = runs[-1]
            runs[-1] = (first, run_start, end, length)
        else:
            runs.append((index, start, end, length))
    return runs


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
