"""Access groups as the portal lists them, each with its cards (uid as given, label, when added)."""

from __future__ import annotations

from typing import Any

from cpms.aggregates.access_group import AccessGroup
from cpms.projections.base import Projection
from cpms.projections.paging import keyset_page
from cpms.projections.store import Tx
from cpms.timestamps import to_iso

COLUMNS = (
    "g.id, g.name, g.created_at, g.updated_at,"
    " (SELECT COUNT(*) FROM access_group_cards_v1 c WHERE c.group_id = g.id)"
)


class AccessGroupsProjection(Projection):
    name = "access_groups"
    version = 1
    handles = (AccessGroup.AccessGroupCreated, AccessGroup.CardAddedToGroup, AccessGroup.CardRemovedFromGroup)

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            """CREATE TABLE IF NOT EXISTS access_groups_v1 (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL,
                name TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )"""
        )
        tx.execute(
            "CREATE INDEX IF NOT EXISTS access_groups_v1_org"
            " ON access_groups_v1 (organization_id, created_at, id)"
        )
        tx.execute(
            """CREATE TABLE IF NOT EXISTS access_group_cards_v1 (
                group_id TEXT NOT NULL,
                normalized_uid TEXT NOT NULL,
                organization_id TEXT NOT NULL,
                uid TEXT NOT NULL,
                label TEXT NOT NULL,
                added_at TEXT NOT NULL,
                PRIMARY KEY (group_id, normalized_uid)
            )"""
        )

    def apply(self, event: Any, tx: Tx) -> None:
        group_id = str(event.originator_id)
        match event:
            case AccessGroup.AccessGroupCreated():
                at = to_iso(event.occurred_at)
                tx.execute(
                    "INSERT INTO access_groups_v1 (id, organization_id, name, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                    (group_id, event.organization_id, event.name, at, at),
                )
            case AccessGroup.CardAddedToGroup():
                # A card added again is relabelled; it keeps the time it was first added.
                tx.execute(
                    "INSERT INTO access_group_cards_v1"
                    " (group_id, normalized_uid, organization_id, uid, label, added_at)"
                    " SELECT id, ?, organization_id, ?, ?, ? FROM access_groups_v1 WHERE id = ?"
                    " ON CONFLICT (group_id, normalized_uid)"
                    " DO UPDATE SET uid = excluded.uid, label = excluded.label",
                    (event.normalized_uid, event.uid, event.label, to_iso(event.occurred_at), group_id),
                )
                self._touch(group_id, event, tx)
            case AccessGroup.CardRemovedFromGroup():
                tx.execute(
                    "DELETE FROM access_group_cards_v1 WHERE group_id = ? AND normalized_uid = ?",
                    (group_id, event.normalized_uid),
                )
                self._touch(group_id, event, tx)

    @staticmethod
    def _touch(group_id: str, event: Any, tx: Tx) -> None:
        at = to_iso(event.occurred_at)
        tx.execute(
            "UPDATE access_groups_v1 SET updated_at = ? WHERE id = ? AND updated_at < ?", (at, group_id, at)
        )


# -- queries ------------------------------------------------------------------------------------


def list_groups(
    tx: Tx, organization_id: str, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    sql = f"SELECT {COLUMNS} FROM access_groups_v1 g WHERE g.organization_id = ?"
    rows, next_cursor = keyset_page(
        tx,
        sql,
        [organization_id],
        order_by=("g.created_at", "g.id"),
        key_of=lambda r: [r[2], r[0]],
        limit=limit,
        cursor=cursor,
    )
    return [_group(r) for r in rows], next_cursor


def get_group(tx: Tx, organization_id: str, group_id: str) -> dict[str, Any] | None:
    """One group with its cards, sorted by uid."""
    rows = tx.execute(
        f"SELECT {COLUMNS} FROM access_groups_v1 g WHERE g.organization_id = ? AND g.id = ?",
        (organization_id, group_id),
    )
    if not rows:
        return None
    group = _group(rows[0])
    rows = tx.execute(
        "SELECT normalized_uid, uid, label, added_at FROM access_group_cards_v1"
        " WHERE organization_id = ? AND group_id = ?",
        (organization_id, group_id),
    )
    # Sorted here: SQLite and PostgreSQL collate text differently.
    group["cards"] = [
        {"uid": uid, "label": label, "added_at": added_at} for _, uid, label, added_at in sorted(rows)
    ]
    return group


def _group(row: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "id": row[0],
        "name": row[1],
        "created_at": row[2],
        "updated_at": row[3],
        "card_count": row[4],
    }
