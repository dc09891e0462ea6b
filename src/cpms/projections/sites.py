"""Sites as the portal lists them: name, address, provider, coordinates, tariff, and when anything
on them last changed."""

from __future__ import annotations

from typing import Any

from cpms.aggregates.site import Site
from cpms.aggregates.station import Station
from cpms.projections import charge_points
from cpms.projections.base import Projection
from cpms.projections.paging import keyset_page
from cpms.projections.store import Tx
from cpms.timestamps import to_iso

COLUMNS = (
    "id, name, street, postal_code, city, country, provider, created_at, updated_at,"
    " latitude, longitude, tariff_currency, tariff_price_per_kwh, tariff_vat_percent"
)


class SitesProjection(Projection):
    name = "sites"
    version = 2  # 2: coordinates and tariff (issue 10)
    handles = (Site.SiteCreated, Site.SiteUpdated, Site.SiteTariffSet, Site.SiteTariffRemoved, Station.Event)

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            """CREATE TABLE IF NOT EXISTS sites_v2 (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL,
                name TEXT NOT NULL,
                street TEXT NOT NULL,
                postal_code TEXT NOT NULL,
                city TEXT NOT NULL,
                country TEXT NOT NULL,
                provider TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                latitude TEXT,
                longitude TEXT,
                tariff_currency TEXT,
                tariff_price_per_kwh TEXT,
                tariff_vat_percent TEXT
            )"""
        )
        tx.execute("CREATE INDEX IF NOT EXISTS sites_v2_org ON sites_v2 (organization_id, created_at, id)")
        tx.execute(
            """CREATE TABLE IF NOT EXISTS site_stations_v2 (
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
                    f"INSERT INTO sites_v2 (organization_id, {COLUMNS})"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)"
                    " ON CONFLICT (id) DO NOTHING",
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
                        *_coordinates(event.coordinates),
                    ),
                )
            case Site.SiteUpdated():
                changes = dict(event.changes)
                changes.update(changes.pop("address", {}))
                if "coordinates" in changes:
                    changes["latitude"], changes["longitude"] = _coordinates(changes.pop("coordinates"))
                assignments = ", ".join(f"{column} = ?" for column in changes)
                tx.execute(
                    f"UPDATE sites_v2 SET {assignments} WHERE id = ?",
                    (*changes.values(), str(event.originator_id)),
                )
                self._touch(str(event.originator_id), event, tx)
            case Site.SiteTariffSet():
                tariff = event.tariff
                tx.execute(
                    "UPDATE sites_v2 SET tariff_currency = ?, tariff_price_per_kwh = ?,"
                    " tariff_vat_percent = ? WHERE id = ?",
                    (
                        tariff["currency"],
                        tariff["price_per_kwh"],
                        tariff["vat_percent"],
                        str(event.originator_id),
                    ),
                )
                self._touch(str(event.originator_id), event, tx)
            case Site.SiteTariffRemoved():
                tx.execute(
                    "UPDATE sites_v2 SET tariff_currency = NULL, tariff_price_per_kwh = NULL,"
                    " tariff_vat_percent = NULL WHERE id = ?",
                    (str(event.originator_id),),
                )
                self._touch(str(event.originator_id), event, tx)
            case Station.StationCommissioned():
                tx.execute(
                    "INSERT INTO site_stations_v2 VALUES (?, ?) ON CONFLICT (station_id) DO NOTHING",
                    (str(event.originator_id), event.site_id),
                )
                self._touch(event.site_id, event, tx)
            case Station.Event():
                rows = tx.execute(
                    "SELECT site_id FROM site_stations_v2 WHERE station_id = ?",
                    (str(event.originator_id),),
                )
                if rows:
                    self._touch(rows[0][0], event, tx)

    @staticmethod
    def _touch(site_id: str, event: Any, tx: Tx) -> None:
        """`updated_at` is the last change of anything on the site; late events never move it back."""
        at = to_iso(event.occurred_at)
        tx.execute("UPDATE sites_v2 SET updated_at = ? WHERE id = ? AND updated_at < ?", (at, site_id, at))


def _coordinates(coordinates: dict[str, str] | None) -> tuple[str | None, str | None]:
    return (None, None) if coordinates is None else (coordinates["latitude"], coordinates["longitude"])


# -- queries ------------------------------------------------------------------------------------


def list_sites(
    tx: Tx, organization_id: str, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    sql = f"SELECT {COLUMNS} FROM sites_v2 WHERE organization_id = ?"
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
        f"SELECT {COLUMNS} FROM sites_v2 WHERE organization_id = ? AND id = ?",
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
        "coordinates": None if row[9] is None else {"latitude": row[9], "longitude": row[10]},
        "tariff": _tariff(row[11:14]),
        "state": state,
        "created_at": row[7],
        "updated_at": row[8],
    }


def _tariff(row: tuple[Any, ...]) -> dict[str, str] | None:
    currency, price_per_kwh, vat_percent = row
    if currency is None:
        return None
    return {"currency": currency, "price_per_kwh": price_per_kwh, "vat_percent": vat_percent}
