"""Sites as the portal lists them: name, address, provider, and when anything on them last changed."""

from __future__ import annotations

from typing import Any

from cpms.aggregates.site import Site
from cpms.aggregates.station import Station
from cpms.projections import charge_points
from cpms.projections.base import Projection
from cpms.projections.paging import keyset_page
from cpms.projections.store import Tx
from cpms.timestamps import to_iso

COLUMNS = "id, name, street, postal_code, city, country, provider, created_at, updated_at"


class SitesProjection(Projection):
    name = "sites"
    version = 1
    handles = (Site.SiteCreated, Site.SiteUpdated, Station.Event)

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            """CREATE TABLE IF NOT EXISTS sites_v1 (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL,
                name TEXT NOT NULL,
                street TEXT NOT NULL,
                postal_code TEXT NOT NULL,
                city TEXT NOT NULL,
                country TEXT NOT NULL,
                provider TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )"""
        )
        tx.execute("CREATE INDEX IF NOT EXISTS sites_v1_org ON sites_v1 (organization_id, created_at, id)")
        tx.execute(
            """CREATE TABLE IF NOT EXISTS site_stations_v1 (
                station_id TEXT PRIMARY KEY,
                site_id TEXT NOT NULL
            )"""
        )

    def apply(self, event: Any, tx: Tx) -> None:
        match event:
            case Site.SiteCreated():
                address = event.address
                at = to_iso(event.occurred_at)
                tx.execute(
                    f"INSERT INTO sites_v1 (organization_id, {COLUMNS})"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                    (
                        event.organization_id,
                        str(event.originator_id),
                        event.name,
                        address["street"],
                        address["postal_code"],
                        address["city"],
                        address["country"],
                        event.provider,
                        at,
                        at,
                    ),
                )
            case Site.SiteUpdated():
                changes = dict(event.changes)
                changes.update(changes.pop("address", {}))
                assignments = ", ".join(f"{column} = ?" for column in changes)
                tx.execute(
                    f"UPDATE sites_v1 SET {assignments} WHERE id = ?",
                    (*changes.values(), str(event.originator_id)),
                )
                self._touch(str(event.originator_id), event, tx)
            case Station.StationCommissioned():
                tx.execute(
                    "INSERT INTO site_stations_v1 VALUES (?, ?) ON CONFLICT (station_id) DO NOTHING",
                    (str(event.originator_id), event.site_id),
                )
                self._touch(event.site_id, event, tx)
            case Station.Event():
                rows = tx.execute(
                    "SELECT site_id FROM site_stations_v1 WHERE station_id = ?",
                    (str(event.originator_id),),
                )
                if rows:
                    self._touch(rows[0][0], event, tx)

    @staticmethod
    def _touch(site_id: str, event: Any, tx: Tx) -> None:
        """`updated_at` is the last change of anything on the site; late events never move it back."""
        at = to_iso(event.occurred_at)
        tx.execute("UPDATE sites_v1 SET updated_at = ? WHERE id = ? AND updated_at < ?", (at, site_id, at))


# -- queries ------------------------------------------------------------------------------------


def list_sites(
    tx: Tx, organization_id: str, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    sql = f"SELECT {COLUMNS} FROM sites_v1 WHERE organization_id = ?"
    rows, next_cursor = keyset_page(
        tx,
        sql,
        [organization_id],
        order_by=("created_at", "id"),
        key_of=lambda r: [r[7], r[0]],
        limit=limit,
        cursor=cursor,
    )
    states = charge_points.site_states(tx, [r[0] for r in rows])
    return [_site(r, states[r[0]].value) for r in rows], next_cursor


def get_site(tx: Tx, organization_id: str, site_id: str) -> dict[str, Any] | None:
    rows = tx.execute(
        f"SELECT {COLUMNS} FROM sites_v1 WHERE organization_id = ? AND id = ?",
        (organization_id, site_id),
    )
    if not rows:
        return None
    site = _site(rows[0], charge_points.site_states(tx, [site_id])[site_id].value)
    site["charge_points"] = charge_points.status_counts(tx, site_id)
    return site


def _site(row: tuple[Any, ...], state: str) -> dict[str, Any]:
    return {
        "id": row[0],
        "name": row[1],
        "address": {"street": row[2], "postal_code": row[3], "city": row[4], "country": row[5]},
        "provider": row[6],
        "state": state,
        "created_at": row[7],
        "updated_at": row[8],
    }
