"""The charge-point sheet: per connector its portal status, since when, and the last OCPP status.

The site state is derived from these same rows (`site_states`), so the sheet and the site state
can never disagree.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from cpms.aggregates.charge_point import (
    PHASE_ENDED,
    ChargePointStatus,
    SiteState,
    charge_point_status,
    site_state,
    transaction_phase,
)
from cpms.aggregates.charging_session import ChargingSession
from cpms.aggregates.station import MAX_CONNECTORS, Station
from cpms.projections.base import Projection
from cpms.projections.paging import keyset_page
from cpms.projections.store import Tx
from cpms.timestamps import to_iso


class ChargePointsProjection(Projection):
    name = "charge_points"
    # 2: the error's details beside its code (info, and the vendor's code with the vendor's id)
    version = 2
    handles = (
        Station.StationCommissioned,
        Station.StationConnected,
        Station.StationDisconnected,
        Station.StatusNotification,
        ChargingSession.TransactionStarted,
        ChargingSession.ChargingStateChanged,
        ChargingSession.TransactionEnded,
    )

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            """CREATE TABLE IF NOT EXISTS cp_stations_v2 (
                ocpp_id TEXT PRIMARY KEY,
                station_id TEXT NOT NULL UNIQUE,
                organization_id TEXT NOT NULL,
                site_id TEXT NOT NULL,
                connectors INTEGER NOT NULL,
                ever_connected INTEGER NOT NULL,
                connected INTEGER NOT NULL,
                ocpp_version TEXT
            )"""
        )
        tx.execute(
            """CREATE TABLE IF NOT EXISTS charge_points_v2 (
                ocpp_id TEXT NOT NULL,
                connector_id INTEGER NOT NULL,
                organization_id TEXT NOT NULL,
                site_id TEXT NOT NULL,
                evse_id TEXT,
                status TEXT NOT NULL,
                since TEXT NOT NULL,
                error_code TEXT,
                error_info TEXT,
                vendor_id TEXT,
                vendor_error_code TEXT,
                last_ocpp_status TEXT,
                last_ocpp_at TEXT,
                transaction_phase TEXT,
                phase_session TEXT,
                phase_at TEXT,
                PRIMARY KEY (ocpp_id, connector_id)
            )"""
        )
        tx.execute("CREATE INDEX IF NOT EXISTS cp_stations_v2_site ON cp_stations_v2 (site_id)")
        tx.execute(
            "CREATE INDEX IF NOT EXISTS charge_points_v2_site"
            " ON charge_points_v2 (site_id, ocpp_id, connector_id)"
        )

    def upgrade(self, previous: int) -> list[str] | None:
        """Version 1's tables lack only the error's details: added empty, filled by the rebuild."""
        if previous != 1:
            return None
        return [
            f"ALTER TABLE charge_points_v2 ADD COLUMN {column} TEXT"
            for column in ("error_info", "vendor_id", "vendor_error_code")
        ]

    def apply(self, event: Any, tx: Tx) -> None:
        match event:
            case Station.StationCommissioned():
                self._commissioned(event, tx)
            case Station.StationConnected():
                self._connection(event.originator_id, True, to_iso(event.occurred_at), tx, event.ocpp_version)
            case Station.StationDisconnected():
                self._connection(event.originator_id, False, to_iso(event.occurred_at), tx)
            case Station.StatusNotification():
                self._status(event, tx)
            case ChargingSession.TransactionStarted():
                self._transaction_started(event, tx)
            case ChargingSession.ChargingStateChanged():
                self._phase(
                    str(event.originator_id),
                    to_iso(event.occurred_at),
                    tx,
                    lambda current: transaction_phase(event.charging_phase, event.stop_requested, current),
                )
            case ChargingSession.TransactionEnded():
                self._phase(str(event.originator_id), to_iso(event.ended_at), tx, lambda _: PHASE_ENDED)

    def _commissioned(self, event: Any, tx: Tx) -> None:
        at = to_iso(event.occurred_at)
        tx.execute(
            "INSERT INTO cp_stations_v2 (ocpp_id, station_id, organization_id, site_id, connectors,"
            " ever_connected, connected) VALUES (?, ?, ?, ?, ?, 0, 0) ON CONFLICT (ocpp_id) DO NOTHING",
            (event.ocpp_id, str(event.originator_id), event.organization_id, event.site_id, event.connectors),
        )
        tx.executemany(
            "INSERT INTO charge_points_v2 (ocpp_id, connector_id, organization_id, site_id, evse_id,"
            " status, since) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (ocpp_id, connector_id) DO NOTHING",
            [
                (
                    event.ocpp_id,
                    n,
                    event.organization_id,
                    event.site_id,
                    evse_id,
                    ChargePointStatus.UNKNOWN.value,
                    at,
                )
                for n, evse_id in enumerate(event.evse_ids, start=1)
            ],
        )

    def _connection(
        self, station_id: Any, connected: bool, at: str, tx: Tx, ocpp_version: str | None = None
    ) -> None:
        ocpp_id = _ocpp_id(station_id, tx)
        if ocpp_id is None:
            return
        tx.execute(
            "UPDATE cp_stations_v2 SET connected = ?, ocpp_version = COALESCE(?, ocpp_version),"
            " ever_connected = CASE WHEN ? = 1 THEN 1 ELSE ever_connected END WHERE ocpp_id = ?",
            (int(connected), ocpp_version, int(connected), ocpp_id),
        )
        self._refresh(ocpp_id, None, at, tx)

    def _transaction_started(self, event: Any, tx: Tx) -> None:
        """A newer transaction on a charge point takes over its phase (how an Occupied charge
        point reads, for stations that report phases)."""
        if not _charge_point_number(event.connector_id):
            return
        at = to_iso(event.started_at)
        rows = tx.execute(
            "UPDATE charge_points_v2 SET transaction_phase = ?, phase_session = ?, phase_at = ?"
            " WHERE ocpp_id = ? AND connector_id = ? AND (phase_at IS NULL OR phase_at <= ?)"
            " RETURNING ocpp_id",
            (event.charging_phase, str(event.originator_id), at, event.ocpp_id, event.connector_id, at),
        )
        if rows:
            self._refresh(event.ocpp_id, event.connector_id, at, tx)

    def _phase(self, session: str, at: str, tx: Tx, next_phase: Any) -> None:
        rows = tx.execute(
            "SELECT ocpp_id, connector_id, transaction_phase, phase_at FROM charge_points_v2"
            " WHERE phase_session = ?",
            (session,),
        )
        for ocpp_id, connector_id, current, phase_at in rows:
            if phase_at is not None and at < phase_at and next_phase(current) != PHASE_ENDED:
                continue  # a late-delivered state change does not undo a newer one
            tx.execute(
                "UPDATE charge_points_v2 SET transaction_phase = ?, phase_at = ?"
                " WHERE ocpp_id = ? AND connector_id = ?",
                (next_phase(current), max(at, phase_at or at), ocpp_id, connector_id),
            )
            self._refresh(ocpp_id, connector_id, at, tx)

    def _status(self, event: Any, tx: Tx) -> None:
        ocpp_id = _ocpp_id(event.originator_id, tx)
        if ocpp_id is None or not _charge_point_number(event.connector_id):
            return  # connector 0 describes the station, not a charge point
        at = to_iso(event.occurred_at)
        # A status queued offline can arrive after a newer one: never let it overwrite that.
        tx.execute(
            "UPDATE charge_points_v2 SET last_ocpp_status = ?, error_code = ?, error_info = ?,"
            " vendor_id = ?, vendor_error_code = ?, last_ocpp_at = ?"
            " WHERE ocpp_id = ? AND connector_id = ? AND (last_ocpp_at IS NULL OR last_ocpp_at <= ?)",
            (
                event.ocpp_status,
                event.error_code,
                event.info,
                event.vendor_id,
                event.vendor_error_code,
                at,
                ocpp_id,
                event.connector_id,
                at,
            ),
        )
        if event.ocpp_status != "Occupied":  # a freed charge point forgets its last transaction
            tx.execute(
                "UPDATE charge_points_v2 SET transaction_phase = NULL, phase_session = NULL"
                " WHERE ocpp_id = ? AND connector_id = ? AND last_ocpp_at = ?",
                (ocpp_id, event.connector_id, at),
            )
        self._refresh(ocpp_id, event.connector_id, at, tx)

    def _refresh(self, ocpp_id: str, connector_id: int | None, at: str, tx: Tx) -> None:
        """Re-derive the portal status of a station's charge points; `since` moves on change."""
        station = tx.execute(
            "SELECT ever_connected, connected, ocpp_version FROM cp_stations_v2 WHERE ocpp_id = ?", (ocpp_id,)
        )
        ever_connected, connected, ocpp_version = station[0]
        sql = (
            "SELECT connector_id, status, last_ocpp_status, transaction_phase FROM charge_points_v2"
            " WHERE ocpp_id = ?"
        )
        params: tuple[Any, ...] = (ocpp_id,)
        if connector_id is not None:
            sql += " AND connector_id = ?"
            params += (connector_id,)
        for number, old, last_ocpp_status, phase in tx.execute(sql, params):
            new = charge_point_status(
                ever_connected=bool(ever_connected),
                connected=bool(connected),
                last_ocpp_status=last_ocpp_status,
                ocpp_version=ocpp_version,
                transaction_phase=phase,
            ).value
            if new != old:
                tx.execute(
                    "UPDATE charge_points_v2 SET status = ?, since = ?"
                    " WHERE ocpp_id = ? AND connector_id = ?",
                    (new, at, ocpp_id, number),
                )


def _charge_point_number(connector_id: int) -> bool:
    """Could this be a row of the sheet? Events stored before connector ranges were checked at
    the door may name any integer, even one no SQL column can hold: such events fold to nothing."""
    return 1 <= connector_id <= MAX_CONNECTORS


def _ocpp_id(station_id: Any, tx: Tx) -> str | None:
    """Station events carry the aggregate id; the sheet is keyed by the OCPP identity."""
    rows = tx.execute("SELECT ocpp_id FROM cp_stations_v2 WHERE station_id = ?", (str(station_id),))
    return rows[0][0] if rows else None


# -- queries ------------------------------------------------------------------------------------


def sheet(
    tx: Tx, organization_id: str, site_id: str, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    sql = (
        "SELECT ocpp_id, connector_id, evse_id, status, since, error_code, last_ocpp_status,"
        " error_info, vendor_id, vendor_error_code"
        " FROM charge_points_v2 WHERE organization_id = ? AND site_id = ?"
    )
    rows, next_cursor = keyset_page(
        tx,
        sql,
        [organization_id, site_id],
        order_by=("ocpp_id", "connector_id"),
        key_of=lambda r: [r[0], r[1]],
        limit=limit,
        cursor=cursor,
    )
    return [
        {
            "ocpp_id": r[0],
            "connector_id": r[1],
            "evse_id": r[2],
            "status": r[3],
            "since": r[4],
            "error_code": r[5],
            "last_ocpp_status": r[6],
            "error_info": r[7],
            "vendor_id": r[8],
            "vendor_error_code": r[9],
        }
        for r in rows
    ], next_cursor


def site_states(tx: Tx, site_ids: list[str]) -> dict[str, SiteState]:
    """The derived state of each site, from the sheet rows of its connected stations."""
    if not site_ids:
        return {}
    marks = ", ".join("?" for _ in site_ids)
    rows = tx.execute(
        "SELECT s.site_id, s.ocpp_id, cp.status FROM cp_stations_v2 s"
        " JOIN charge_points_v2 cp ON cp.ocpp_id = s.ocpp_id"
        f" WHERE s.connected = 1 AND s.site_id IN ({marks})",
        site_ids,
    )
    stations: dict[str, dict[str, list[ChargePointStatus]]] = defaultdict(lambda: defaultdict(list))
    for site_id, ocpp_id, status in rows:
        stations[site_id][ocpp_id].append(ChargePointStatus(status))
    return {
        site_id: site_state(list(stations[site_id].values()) if site_id in stations else [])
        for site_id in site_ids
    }


def status_counts(tx: Tx, site_id: str) -> dict[str, int]:
    rows = tx.execute(
        "SELECT status, COUNT(*) FROM charge_points_v2 WHERE site_id = ? GROUP BY status", (site_id,)
    )
    return {status: count for status, count in rows}
