"""The EVSE controllers list: identity, site, plan, what the station told us at boot, connection."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson

from cpms.aggregates.station import Station, legacy_security_profile
from cpms.projections.base import Projection
from cpms.projections.paging import keyset_page
from cpms.projections.store import Tx, ViewStore
from cpms.timestamps import to_iso

COLUMNS = (
    "s.ocpp_id, s.serial_number, s.site_id, s.plan, s.connectors, s.evse_ids, s.vendor, s.model,"
    " s.firmware_version, s.connection, s.ocpp_version, s.commissioned_at, s.last_seen,"
    " p.last_seen, s.security_profile"
)


class StationsProjection(Projection):
    name = "stations"
    version = 1
    handles = (Station.Event,)  # every station event says when we last heard from it

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            """CREATE TABLE IF NOT EXISTS stations_v1 (
                ocpp_id TEXT PRIMARY KEY,
                station_id TEXT NOT NULL UNIQUE,
                organization_id TEXT NOT NULL,
                site_id TEXT NOT NULL,
                serial_number TEXT NOT NULL,
                plan TEXT NOT NULL,
                connectors INTEGER NOT NULL,
                evse_ids TEXT NOT NULL,
                security_profile INTEGER NOT NULL,
                vendor TEXT,
                model TEXT,
                firmware_version TEXT,
                connection TEXT NOT NULL,
                ocpp_version TEXT,
                commissioned_at TEXT NOT NULL,
                last_seen TEXT
            )"""
        )
        tx.execute("CREATE INDEX IF NOT EXISTS stations_v1_org ON stations_v1 (organization_id, site_id)")
        create_presence_table(tx)

    def apply(self, event: Any, tx: Tx) -> None:
        station_id = str(event.originator_id)
        match event:
            case Station.StationCommissioned():
                tx.execute(
                    "INSERT INTO stations_v1 (ocpp_id, station_id, organization_id, site_id,"
                    " serial_number, plan, connectors, evse_ids, security_profile, connection,"
                    " commissioned_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'Disconnected', ?)"
                    " ON CONFLICT (ocpp_id) DO NOTHING",
                    (
                        event.ocpp_id,
                        station_id,
                        event.organization_id,
                        event.site_id,
                        event.serial_number,
                        event.plan,
                        event.connectors,
                        orjson.dumps(event.evse_ids).decode(),
                        _security_profile(event),
                        to_iso(event.occurred_at),
                    ),
                )
            case Station.StationBooted():
                self._seen(
                    station_id,
                    event,
                    tx,
                    vendor=event.vendor,
                    model=event.model,
                    firmware_version=event.firmware_version,
                )
            case Station.StationConnected():
                self._seen(station_id, event, tx, connection="Connected", ocpp_version=event.ocpp_version)
            case Station.StationDisconnected():
                self._seen(station_id, event, tx, connection="Disconnected")
            case Station.Event():
                self._seen(station_id, event, tx)

    @staticmethod
    def _seen(station_id: str, event: Any, tx: Tx, **changes: Any) -> None:
        # last_seen is when we heard from the station: the time the event was recorded, not the
        # charger's own (possibly offline-queued) timestamp.
        assignments = "".join(f"{column} = ?, " for column in changes)
        seen = to_iso(event.timestamp)
        tx.execute(
            f"UPDATE stations_v1 SET {assignments}"
            " last_seen = CASE WHEN last_seen IS NULL OR last_seen < ? THEN ? ELSE last_seen END"
            " WHERE station_id = ?",
            (*changes.values(), seen, seen, station_id),
        )


def _security_profile(commissioned: Any) -> int:
    """Events stored before security profiles existed do not carry one."""
    profile = getattr(commissioned, "security_profile", None)
    return legacy_security_profile(commissioned.password_hash) if profile is None else int(profile)


def create_presence_table(tx: Tx) -> None:
    """Heartbeats are not events: the gateway keeps last_seen here, outside any projection."""
    tx.execute(
        "CREATE TABLE IF NOT EXISTS station_presence (ocpp_id TEXT PRIMARY KEY, last_seen TEXT NOT NULL)"
    )


def record_presence(views: ViewStore, seen: Iterable[tuple[str, datetime]]) -> None:
    rows = [(ocpp_id, to_iso(at)) for ocpp_id, at in seen]
    if not rows:
        return
    with views.transaction() as tx:
        create_presence_table(tx)
        tx.executemany(
            "INSERT INTO station_presence (ocpp_id, last_seen) VALUES (?, ?)"
            " ON CONFLICT (ocpp_id) DO UPDATE SET last_seen = excluded.last_seen"
            " WHERE station_presence.last_seen < excluded.last_seen",
            rows,
        )


# -- queries ------------------------------------------------------------------------------------


def list_stations(
    tx: Tx, organization_id: str, *, site_id: str | None, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    sql = (
        f"SELECT {COLUMNS} FROM stations_v1 s LEFT JOIN station_presence p"
        " ON p.ocpp_id = s.ocpp_id WHERE s.organization_id = ?"
    )
    params: list[Any] = [organization_id]
    if site_id is not None:
        sql += " AND s.site_id = ?"
        params.append(site_id)
    rows, next_cursor = keyset_page(
        tx, sql, params, order_by=("s.ocpp_id",), key_of=lambda r: [r[0]], limit=limit, cursor=cursor
    )
    return [_station(r) for r in rows], next_cursor


def connected_stations(tx: Tx) -> list[str]:
    """Every station the log says is connected, through whichever gateway."""
    return [row[0] for row in tx.execute("SELECT ocpp_id FROM stations_v1 WHERE connection = 'Connected'")]


def get_station(tx: Tx, organization_id: str, ocpp_id: str) -> dict[str, Any] | None:
    rows = tx.execute(
        f"SELECT {COLUMNS} FROM stations_v1 s LEFT JOIN station_presence p"
        " ON p.ocpp_id = s.ocpp_id WHERE s.organization_id = ? AND s.ocpp_id = ?",
        (organization_id, ocpp_id),
    )
    return _station(rows[0]) if rows else None


def _station(row: tuple[Any, ...]) -> dict[str, Any]:
    last_seen = max((t for t in (row[12], row[13]) if t is not None), default=None)
    return {
        "ocpp_id": row[0],
        "serial_number": row[1],
        "site_id": row[2],
        "plan": row[3],
        "connectors": row[4],
        "evse_ids": orjson.loads(row[5]),
        "vendor": row[6],
        "model": row[7],
        "firmware_version": row[8],
        "connection": row[9],
        "ocpp_version": row[10],
        "security_profile": row[14],
        "commissioned_at": row[11],
        "last_seen": last_seen,
    }
