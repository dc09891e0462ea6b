"""The OCPI push outbox: what each partner's eMSP is still owed (a Session's latest state, a CDR),
written by the roaming projection in the fold's own transaction and worked off by the push worker.

One row per partner, kind (`session` or `cdr`) and object id. `version` is the latest change the
fold asked to deliver (the session's aggregate version, so the same on every rebuild); `done_version`
the latest with a final outcome (`delivered`, `failed` for good, or `skipped` because the partner
has no receiver or is not registered). A row is owed while `version > done_version`. The table has
no version in its name, so a rebuilt roaming projection finds it as it was: a change folded again
asks for a version already delivered and is not sent twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cpms.projections.store import Tx
from cpms.timestamps import to_iso

SESSION = "session"
CDR = "cdr"
TABLE = "ocpi_push_outbox"


def create_tables(tx: Tx) -> None:
    tx.execute(
        f"""CREATE TABLE IF NOT EXISTS {TABLE} (
            partner_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            object_id TEXT NOT NULL,
            organization_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            done_version INTEGER NOT NULL DEFAULT 0,
            outcome TEXT,
            queued_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            lease_until TEXT,
            last_error TEXT,
            last_error_at TEXT,
            delivered_at TEXT,
            location TEXT,
            PRIMARY KEY (partner_id, kind, object_id)
        )"""
    )
    tx.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_owed ON {TABLE} (partner_id, queued_at)")


def enqueue(
    tx: Tx, organization_id: str, partner_id: str, kind: str, object_id: str, version: int, at: str
) -> None:
    """Ask for `version` of the object to be delivered, unless this or a later one was asked already."""
    tx.execute(
        f"INSERT INTO {TABLE} (partner_id, kind, object_id, organization_id, version, queued_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (partner_id, kind, object_id) DO UPDATE SET"
        f" version = excluded.version, queued_at = excluded.queued_at, attempts = 0"
        f" WHERE excluded.version > {TABLE}.version",
        (partner_id, kind, object_id, organization_id, version, at),
    )


@dataclass(frozen=True)
class Delivery:
    partner_id: str
    kind: str
    object_id: str
    organization_id: str
    version: int
    attempts: int


def owing_partners(tx: Tx) -> list[str]:
    return [r[0] for r in tx.execute(f"SELECT DISTINCT partner_id FROM {TABLE} WHERE version > done_version")]


def claim(tx: Tx, partner_id: str, now: datetime, lease: float) -> Delivery | None:
    """The partner's oldest owed row no worker holds, leased to the caller for `lease` seconds, so
    that of several projector processes only one sends it (a crashed one's lease runs out)."""
    stamp = to_iso(now)
    rows = tx.execute(
        f"SELECT kind, object_id FROM {TABLE} WHERE partner_id = ? AND version > done_version"
        " AND (lease_until IS NULL OR lease_until < ?)"
        " ORDER BY queued_at, CASE kind WHEN 'session' THEN 0 ELSE 1 END, object_id LIMIT 1",
        (partner_id, stamp),
    )
    if not rows:
        return None
    kind, object_id = rows[0]
    taken = tx.execute(
        f"UPDATE {TABLE} SET lease_until = ? WHERE partner_id = ? AND kind = ? AND object_id = ?"
        " AND version > done_version AND (lease_until IS NULL OR lease_until < ?)"
        " RETURNING organization_id, version, attempts",
        (to_iso(now + timedelta(seconds=lease)), partner_id, kind, object_id, stamp),
    )
    if not taken:
        return None  # another process took it between the two statements
    organization_id, version, attempts = taken[0]
    return Delivery(partner_id, kind, object_id, organization_id, version, attempts)


def settle(
    tx: Tx, delivery: Delivery, outcome: str, *, error: str | None = None, location: str | None = None
) -> None:
    """A final outcome for the version claimed: `delivered`, `failed` (not retried) or `skipped`.
    A newer version asked for meanwhile stays owed."""
    at = to_iso(datetime.now(UTC))
    sets = ["done_version = ?", "outcome = ?", "lease_until = NULL", "attempts = 0"]
    params: list[Any] = [delivery.version, outcome]
    if outcome == "delivered":
        sets += ["delivered_at = ?", "location = ?"]
        params += [at, location]
    if error is not None:
        sets += ["last_error = ?", "last_error_at = ?"]
        params += [error, at]
    tx.execute(
        f"UPDATE {TABLE} SET {', '.join(sets)}"
        " WHERE partner_id = ? AND kind = ? AND object_id = ? AND done_version < ?",
        (*params, delivery.partner_id, delivery.kind, delivery.object_id, delivery.version),
    )


def retry_later(tx: Tx, delivery: Delivery, error: str) -> None:
    """A failure worth retrying: counted and kept owed; the worker's back-off says when."""
    tx.execute(
        f"UPDATE {TABLE} SET attempts = attempts + 1, lease_until = NULL, last_error = ?,"
        " last_error_at = ? WHERE partner_id = ? AND kind = ? AND object_id = ?",
        (error, to_iso(datetime.now(UTC)), delivery.partner_id, delivery.kind, delivery.object_id),
    )


def release(tx: Tx, delivery: Delivery) -> None:
    tx.execute(
        f"UPDATE {TABLE} SET lease_until = NULL WHERE partner_id = ? AND kind = ? AND object_id = ?",
        (delivery.partner_id, delivery.kind, delivery.object_id),
    )


def partner_state(tx: Tx, organization_id: str) -> dict[str, dict[str, Any]]:
    """Per partner of the organization: rows owed, rows failed for good, and the latest failure."""
    state: dict[str, dict[str, Any]] = {}
    for partner_id, pending, failed in tx.execute(
        f"SELECT partner_id, SUM(CASE WHEN version > done_version THEN 1 ELSE 0 END),"
        f" SUM(CASE WHEN version = done_version AND outcome = 'failed' THEN 1 ELSE 0 END)"
        f" FROM {TABLE} WHERE organization_id = ? GROUP BY partner_id",
        (organization_id,),
    ):
        state[partner_id] = {"pending": int(pending), "failed": int(failed), "last_failure": None}
    for partner_id, at, message in tx.execute(
        f"SELECT partner_id, last_error_at, last_error FROM {TABLE} WHERE organization_id = ?"
        " AND last_error_at IS NOT NULL ORDER BY last_error_at",
        (organization_id,),
    ):
        state[partner_id]["last_failure"] = {"at": at, "message": message}
    return state
