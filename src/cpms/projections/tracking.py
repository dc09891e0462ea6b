"""Where each projection stands, as stored beside its tables: the position it has folded up to,
and the failure it is stopped at, if any. Every process reads them here: the one folding, an
API-only process waiting for its own write, an operator's `cpms projections status`."""

from __future__ import annotations

from dataclasses import dataclass

from cpms.projections.base import Projection
from cpms.projections.store import Tx
from cpms.timestamps import now_iso

TRACKING_DDL = """
CREATE TABLE IF NOT EXISTS projection_tracking (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    position BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (name, version)
)
"""

FAILURES_DDL = """
CREATE TABLE IF NOT EXISTS projection_failures (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    position BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    error TEXT NOT NULL,
    since TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    PRIMARY KEY (name, version)
)
"""


@dataclass(frozen=True)
class Failure:
    """Why a projection stopped: the event it cannot fold, and since when it keeps failing."""

    position: int
    event_type: str
    error: str
    since: str
    attempts: int = 1


@dataclass(frozen=True)
class RebuildStatus:
    """A side-by-side rebuild: asked for, under way (with its rate and time left), or done."""

    state: str  # "requested", "rebuilding", "failing" or "done"
    reason: str
    position: int
    progress: float | None  # share of the log folded, 0 to 1
    rate: float | None  # events of the log folded per second
    eta_seconds: float | None
    requested_at: str
    started_at: str | None
    finished_at: str | None
    error: str | None

    @property
    def active(self) -> bool:
        return self.state != "done"


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    version: int
    position: int
    head: int | None
    lag: int | None
    state: str  # "live", "rebuilding" (serving its live tables meanwhile) or "failing"
    failure: Failure | None = None
    rebuild: RebuildStatus | None = None


def create_tables(tx: Tx) -> None:
    tx.execute(TRACKING_DDL)
    tx.execute(FAILURES_DDL)


def read(tx: Tx) -> tuple[dict[tuple[str, int], int], dict[tuple[str, int], Failure]]:
    """Every projection's position and failure, by (name, version)."""
    positions = {
        (name, version): position
        for name, version, position in tx.execute("SELECT name, version, position FROM projection_tracking")
    }
    failures = {
        (row[0], row[1]): Failure(*row[2:])
        for row in tx.execute(
            "SELECT name, version, position, event_type, error, since, attempts FROM projection_failures"
        )
    }
    return positions, failures


def write_position(tx: Tx, projection: Projection, position: int) -> None:
    tx.execute(
        "INSERT INTO projection_tracking (name, version, position, updated_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (name, version)"
        " DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at",
        (projection.name, projection.version, position, now_iso()),
    )


def write_failure(tx: Tx, projection: Projection, failure: Failure | None) -> None:
    """Keep the failure where other processes and operators look; None clears it."""
    key = (projection.name, projection.version)
    tx.execute("DELETE FROM projection_failures WHERE name = ? AND version = ?", key)
    if failure is not None:
        tx.execute(
            "INSERT INTO projection_failures (name, version, position, event_type, error, since, attempts)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                projection.name,
                projection.version,
                failure.position,
                failure.event_type,
                failure.error,
                failure.since,
                failure.attempts,
            ),
        )
