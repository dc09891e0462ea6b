"""Each station's configuration: the access groups whose cards may charge there, roaming, Scan2Pay."""

from __future__ import annotations

from typing import Any

import orjson

from cpms.aggregates.station import Station
from cpms.projections.base import Projection
from cpms.projections.store import Tx
from cpms.timestamps import to_iso


class StationConfigurationProjection(Projection):
    name = "station_configuration"
    version = 1
    handles = (Station.StationCommissioned, Station.StationConfigured)

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            """CREATE TABLE IF NOT EXISTS station_configuration_v1 (
                ocpp_id TEXT PRIMARY KEY,
                station_id TEXT NOT NULL UNIQUE,
                organization_id TEXT NOT NULL,
                access_group_ids TEXT NOT NULL,
                roaming_enabled INTEGER NOT NULL,
                scan2pay_enabled INTEGER NOT NULL,
                configured_at TEXT
            )"""
        )

    def apply(self, event: Any, tx: Tx) -> None:
        match event:
            case Station.StationCommissioned():
                # A commissioned station that was never configured: no groups, no roaming, no Scan2Pay.
                tx.execute(
                    "INSERT INTO station_configuration_v1 (ocpp_id, station_id, organization_id,"
                    " access_group_ids, roaming_enabled, scan2pay_enabled) VALUES (?, ?, ?, '[]', 0, 0)"
                    " ON CONFLICT (ocpp_id) DO NOTHING",
                    (event.ocpp_id, str(event.originator_id), event.organization_id),
                )
            case Station.StationConfigured():
                tx.execute(
                    "UPDATE station_configuration_v1 SET access_group_ids = ?, roaming_enabled = ?,"
                    " scan2pay_enabled = ?, configured_at = ? WHERE station_id = ?",
                    (
                        orjson.dumps(list(event.access_group_ids)).decode(),
                        int(event.roaming_enabled),
                        int(event.scan2pay_enabled),
                        to_iso(event.occurred_at),
                        str(event.originator_id),
                    ),
                )


# -- queries ------------------------------------------------------------------------------------


def get_configuration(tx: Tx, organization_id: str, ocpp_id: str) -> dict[str, Any] | None:
    rows = tx.execute(
        "SELECT access_group_ids, roaming_enabled, scan2pay_enabled FROM station_configuration_v1"
        " WHERE organization_id = ? AND ocpp_id = ?",
        (organization_id, ocpp_id),
    )
    if not rows:
        return None
    access_group_ids, roaming_enabled, scan2pay_enabled = rows[0]
    return {
        "access_group_ids": orjson.loads(access_group_ids),
        "roaming_enabled": bool(roaming_enabled),
        "scan2pay_enabled": bool(scan2pay_enabled),
    }
