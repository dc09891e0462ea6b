"""Which events of the log are a site's: an index for auditors, so that a site's history is read by
key rather than by scanning the log of the whole network.

A site's events are those of the site itself, of the stations commissioned on it (their status
changes, configuration, commands...), of the charging sessions begun at them and of their charge
points' transaction records. Each is indexed by the aggregate and version that name it in the
event store, with the time cpms received it and a sequence number in log order (the runner folds
the log in order, and indexed rows are never renumbered). Access groups are not a site's: a
session carries the card label and group name it was authorized with.

The same tables keep the images of the throwaway views that `cpms.audit.history` rebuilds a
site's past in (snapshots): the past does not change, so nothing ever invalidates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cpms.aggregates.charge_point_transactions import ChargePointTransactions
from cpms.aggregates.charging_session import ChargingSession
from cpms.aggregates.site import Site
from cpms.aggregates.station import Station
from cpms.projections.base import Projection
from cpms.projections.store import Tx
from cpms.timestamps import to_iso

EVENTS = "site_history_v1"
MEMBERS = "site_history_members_v1"
SITES = "site_history_sites_v1"
SNAPSHOTS = "site_history_snapshots_v1"


class SiteHistoryProjection(Projection):
    name = "site_history"
    version = 1
    handles = (Site.Event, Station.Event, ChargingSession.Event, ChargePointTransactions.Event)

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            f"""CREATE TABLE IF NOT EXISTS {EVENTS} (
                seq BIGINT PRIMARY KEY,
                site_id TEXT NOT NULL,
                aggregate_id TEXT NOT NULL,
                aggregate_version INTEGER NOT NULL,
                received_at TEXT NOT NULL
            )"""
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {EVENTS}_site ON {EVENTS} (site_id, seq)")
        tx.execute(
            f"""CREATE TABLE IF NOT EXISTS {MEMBERS} (
                aggregate_id TEXT PRIMARY KEY,
                site_id TEXT NOT NULL
            )"""
        )
        tx.execute(f"CREATE TABLE IF NOT EXISTS {SITES} (site_id TEXT PRIMARY KEY)")
        tx.execute(
            f"""CREATE TABLE IF NOT EXISTS {SNAPSHOTS} (
                site_id TEXT NOT NULL,
                code TEXT NOT NULL,
                seq BIGINT NOT NULL,
                position BIGINT NOT NULL,
                last_received_at TEXT NOT NULL,
                events INTEGER NOT NULL,
                image TEXT NOT NULL,
                PRIMARY KEY (site_id, code, seq)
            )"""
        )

    def apply(self, event: Any, tx: Tx) -> None:
        aggregate_id = str(event.originator_id)
        row = (aggregate_id, event.originator_version, to_iso(event.timestamp))
        site_id = self._site_of(event, aggregate_id, tx)
        if site_id is None:
            # Most events: a member's, whose site the members table says, in one statement (one
            # round trip on PostgreSQL); none for an aggregate on no site.
            tx.execute(
                f"INSERT INTO {EVENTS} (seq, site_id, aggregate_id, aggregate_version, received_at)"
                f" SELECT (SELECT COALESCE(MAX(seq), 0) + 1 FROM {EVENTS}), site_id, ?, ?, ?"
                f" FROM {MEMBERS} WHERE aggregate_id = ?",
                (*row, aggregate_id),
            )
            return
        tx.execute(
            f"INSERT INTO {EVENTS} (seq, site_id, aggregate_id, aggregate_version, received_at)"
            f" SELECT COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ? FROM {EVENTS}",
            (site_id, *row),
        )

    def _site_of(self, event: Any, aggregate_id: str, tx: Tx) -> str | None:
        """The site of an event that says it (its aggregate's creation, remembered for that
        aggregate's later events); None for the others, whose site the members table holds."""
        match event:
            case Site.SiteCreated():
                tx.execute(
                    f"INSERT INTO {SITES} (site_id) VALUES (?) ON CONFLICT (site_id) DO NOTHING",
                    (aggregate_id,),
                )
                return aggregate_id
            case Site.Event():
                return aggregate_id
            case Station.StationCommissioned() | ChargingSession.TransactionStarted():
                return self._member(aggregate_id, event.site_id, tx)
            case ChargePointTransactions.Created():
                station = _site_of_member(str(Station.create_id(vars(event)["ocpp_id"])), tx)
                return None if station is None else self._member(aggregate_id, station, tx)
        return None

    @staticmethod
    def _member(aggregate_id: str, site_id: str, tx: Tx) -> str:
        tx.execute(
            f"INSERT INTO {MEMBERS} (aggregate_id, site_id) VALUES (?, ?)"
            " ON CONFLICT (aggregate_id) DO NOTHING",
            (aggregate_id, site_id),
        )
        return site_id


def _site_of_member(aggregate_id: str, tx: Tx) -> str | None:
    rows = tx.execute(f"SELECT site_id FROM {MEMBERS} WHERE aggregate_id = ?", (aggregate_id,))
    return rows[0][0] if rows else None


# -- queries ------------------------------------------------------------------------------------


def indexed(tx: Tx, site_id: str, *, after: int, until: str, limit: int) -> list[tuple[str, int, int, str]]:
    """Up to `limit` of the site's events after sequence number `after` that were received at or
    before `until`, in log order: (aggregate id, version, sequence number, received at)."""
    return [
        (row[0], row[1], row[2], row[3])
        for row in tx.execute(
            f"SELECT aggregate_id, aggregate_version, seq, received_at FROM {EVENTS}"
            " WHERE site_id = ? AND seq > ? AND received_at <= ? ORDER BY seq LIMIT ?",
            (site_id, after, until, limit),
        )
    ]


def sites(tx: Tx) -> list[str]:
    return [row[0] for row in tx.execute(f"SELECT site_id FROM {SITES}")]


def unsnapshotted(tx: Tx, site_id: str, code: str) -> int:
    """How many of the site's events come after its latest snapshot (made by code `code`)."""
    rows = tx.execute(
        f"SELECT COUNT(*) FROM {EVENTS} WHERE site_id = ? AND seq >"
        f" (SELECT COALESCE(MAX(seq), 0) FROM {SNAPSHOTS} WHERE site_id = ? AND code = ?)",
        (site_id, site_id, code),
    )
    return int(rows[0][0])


def first_received_after(tx: Tx, site_id: str, until: str) -> int | None:
    """The sequence number of the site's first event received after `until` (None: none yet)."""
    rows = tx.execute(
        f"SELECT MIN(seq) FROM {EVENTS} WHERE site_id = ? AND received_at > ?", (site_id, until)
    )
    return rows[0][0] if rows else None


@dataclass(frozen=True)
class Snapshot:
    """An image of a site's past view after the event with sequence number `seq` (at `position`
    in the log), folding `events` events all received at or before `last_received_at`."""

    seq: int
    position: int
    events: int
    last_received_at: str
    image: str


def nearest_snapshot(tx: Tx, site_id: str, code: str, until: str) -> Snapshot | None:
    """The latest snapshot of the site's past view (made by code `code`) whose events were all
    received at or before `until`."""
    rows = tx.execute(
        f"SELECT seq, position, events, last_received_at, image FROM {SNAPSHOTS}"
        " WHERE site_id = ? AND code = ? AND last_received_at <= ? ORDER BY seq DESC LIMIT 1",
        (site_id, code, until),
    )
    return Snapshot(*rows[0]) if rows else None


def save_snapshot(
    tx: Tx,
    site_id: str,
    code: str,
    *,
    seq: int,
    position: int,
    last_received_at: str,
    events: int,
    image: str,
) -> None:
    tx.execute(
        f"INSERT INTO {SNAPSHOTS} (site_id, code, seq, position, last_received_at, events, image)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site_id, code, seq) DO NOTHING",
        (site_id, code, seq, position, last_received_at, events, image),
    )
