"""Roaming partners as the operator lists them: party, name, state; never a credentials token."""

from __future__ import annotations

from typing import Any

from cpms.aggregates.roaming import RoamingPartner
from cpms.projections.base import Projection
from cpms.projections.paging import keyset_page
from cpms.projections.store import Tx
from cpms.timestamps import to_iso

STATES = {
    RoamingPartner.PartnerCredentialsExchanged: "registered",
    RoamingPartner.PartnerUnregistered: "unregistered",
}


class RoamingPartnersProjection(Projection):
    name = "roaming_partners"
    version = 1
    handles = (
        RoamingPartner.PartnerRegistered,
        RoamingPartner.PartnerCredentialsExchanged,
        RoamingPartner.PartnerCredentialsUpdated,
        RoamingPartner.PartnerUnregistered,
    )

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            """CREATE TABLE IF NOT EXISTS roaming_partners_v1 (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL,
                country_code TEXT NOT NULL,
                party_id TEXT NOT NULL,
                name TEXT NOT NULL,
                state TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )"""
        )
        tx.execute(
            "CREATE INDEX IF NOT EXISTS roaming_partners_v1_org"
            " ON roaming_partners_v1 (organization_id, created_at, id)"
        )

    def apply(self, event: Any, tx: Tx) -> None:
        partner_id, at = str(event.originator_id), to_iso(event.occurred_at)
        if isinstance(event, RoamingPartner.PartnerRegistered):
            tx.execute(
                "INSERT INTO roaming_partners_v1 (id, organization_id, country_code, party_id, name, state,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)"
                " ON CONFLICT (id) DO NOTHING",
                (partner_id, event.organization_id, event.country_code, event.party_id, event.name, at, at),
            )
            return
        state = STATES.get(type(event))
        if state is None:  # credentials updated: the state stays, the time moves
            tx.execute("UPDATE roaming_partners_v1 SET updated_at = ? WHERE id = ?", (at, partner_id))
        else:
            tx.execute(
                "UPDATE roaming_partners_v1 SET state = ?, updated_at = ? WHERE id = ?",
                (state, at, partner_id),
            )


# -- queries ------------------------------------------------------------------------------------

COLUMNS = "id, country_code, party_id, name, state, created_at, updated_at"


def list_partners(
    tx: Tx, organization_id: str, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    rows, next_cursor = keyset_page(
        tx,
        f"SELECT {COLUMNS} FROM roaming_partners_v1 WHERE organization_id = ?",
        [organization_id],
        order_by=("created_at", "id"),
        key_of=lambda r: [r[5], r[0]],
        limit=limit,
        cursor=cursor,
    )
    return [dict(zip(COLUMNS.split(", "), row, strict=True)) for row in rows], next_cursor
