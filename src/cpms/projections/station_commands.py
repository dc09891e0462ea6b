"""Commands sent to stations, as operators and integrators follow them: what was asked, by whom,
how it ended, and for a remote or Scan2Pay start the session it began."""

from __future__ import annotations

from typing import Any

import orjson

from cpms.aggregates.charging_session import session_id
from cpms.aggregates.station import Station
from cpms.projections.base import Projection
from cpms.projections.paging import keyset_page
from cpms.projections.store import Tx
from cpms.timestamps import to_iso

COLUMNS = (
    "command_id, ocpp_id, kind, connector_id, parameters, requested_by, client, requested_at, outcome,"
    " charger_status, detail, answered_at, transaction_id, session_id"
)
# What each request event asks, beside the charge point, in the `parameters` of its command.
PARAMETERS = {
    "remote_start": ("id_tag", "remote_start_id"),
    "scan2pay": ("remote_start_id", "payment_reference", "amount", "currency"),
    "remote_stop": ("transaction_id", "session_id"),
    "availability": ("operative",),
    "reset": ("hard",),
    "unlock": (),
}


class StationCommandsProjection(Projection):
    name = "station_commands"
    version = 1
    handles = (
        Station.StationCommissioned,  # for the station's OCPP identity, which commands do not repeat
        Station.RemoteStartRequested,
        Station.Scan2PayStartRequested,
        Station.RemoteStopRequested,
        Station.AvailabilityChangeRequested,
        Station.ResetRequested,
        Station.UnlockRequested,
        Station.StationCommandAnswered,
        Station.RemoteStartTaken,
    )

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            """CREATE TABLE IF NOT EXISTS station_commands_v1 (
                command_id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL,
                ocpp_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                connector_id INTEGER,
                parameters TEXT NOT NULL,
                requested_by TEXT NOT NULL,
                client TEXT,
                requested_at TEXT NOT NULL,
                outcome TEXT,
                charger_status TEXT,
                detail TEXT,
                answered_at TEXT,
                transaction_id TEXT,
                session_id TEXT
            )"""
        )
        tx.execute(
            """CREATE TABLE IF NOT EXISTS station_commands_stations_v1 (
                station_id TEXT PRIMARY KEY,
                ocpp_id TEXT NOT NULL
            )"""
        )
        tx.execute(
            "CREATE INDEX IF NOT EXISTS station_commands_v1_station"
            " ON station_commands_v1 (organization_id, ocpp_id, requested_at, command_id)"
        )

    def apply(self, event: Any, tx: Tx) -> None:
        match event:
            case Station.StationCommissioned():
                tx.execute(
                    "INSERT INTO station_commands_stations_v1 (station_id, ocpp_id) VALUES (?, ?)"
                    " ON CONFLICT (station_id) DO NOTHING",
                    (str(event.originator_id), event.ocpp_id),
                )
            case Station.RemoteStartRequested():
                self._requested(event, "remote_start", tx)
            case Station.Scan2PayStartRequested():
                self._requested(event, "scan2pay", tx)
            case Station.RemoteStopRequested():
                self._requested(event, "remote_stop", tx)
            case Station.AvailabilityChangeRequested():
                self._requested(event, "availability", tx)
            case Station.ResetRequested():
                self._requested(event, "reset", tx)
            case Station.UnlockRequested():
                self._requested(event, "unlock", tx)
            case Station.StationCommandAnswered():
                tx.execute(
                    "UPDATE station_commands_v1 SET outcome = ?, charger_status = ?, detail = ?,"
                    " answered_at = ? WHERE command_id = ?",
                    (
                        event.outcome,
                        event.charger_status,
                        event.detail,
                        to_iso(event.occurred_at),
                        event.command_id,
                    ),
                )
            case Station.RemoteStartTaken():
                tx.execute(
                    "UPDATE station_commands_v1 SET transaction_id = ?, session_id = ? WHERE command_id = ?",
                    (
                        event.transaction_id,
                        str(session_id(_ocpp_id(tx, event.command_id), event.transaction_id)),
                        event.command_id,
                    ),
                )

    @staticmethod
    def _requested(event: Any, kind: str, tx: Tx) -> None:
        parameters = {name: getattr(event, name, None) for name in PARAMETERS[kind]}
        tx.execute(
            "INSERT INTO station_commands_v1 (command_id, organization_id, ocpp_id, kind, connector_id,"
            " parameters, requested_by, client, requested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (command_id) DO NOTHING",
            (
                event.command_id,
                event.requested_by,
                _station_ocpp_id(tx, str(event.originator_id)),
                kind,
                getattr(event, "connector_id", None),
                orjson.dumps(parameters).decode(),
                event.requested_by,
                event.client,
                to_iso(event.occurred_at),
            ),
        )


def _ocpp_id(tx: Tx, command_id: str) -> str:
    return str(
        tx.execute("SELECT ocpp_id FROM station_commands_v1 WHERE command_id = ?", (command_id,))[0][0]
    )


def _station_ocpp_id(tx: Tx, station_id: str) -> str:
    return str(
        tx.execute("SELECT ocpp_id FROM station_commands_stations_v1 WHERE station_id = ?", (station_id,))[0][
            0
        ]
    )


# -- queries ------------------------------------------------------------------------------------


def get_command(tx: Tx, organization_id: str, command_id: str) -> dict[str, Any] | None:
    rows = tx.execute(
        f"SELECT {COLUMNS} FROM station_commands_v1 WHERE organization_id = ? AND command_id = ?",
        (organization_id, command_id),
    )
    return _command(rows[0]) if rows else None


def list_commands(
    tx: Tx, organization_id: str, ocpp_id: str, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """A station's commands, newest first."""
    rows, next_cursor = keyset_page(
        tx,
        f"SELECT {COLUMNS} FROM station_commands_v1 WHERE organization_id = ? AND ocpp_id = ?",
        [organization_id, ocpp_id],
        order_by=("requested_at", "command_id"),
        key_of=lambda r: [r[7], r[0]],
        limit=limit,
        cursor=cursor,
        descending=True,
    )
    return [_command(r) for r in rows], next_cursor


def _command(row: tuple[Any, ...]) -> dict[str, Any]:
    (
        command_id,
        ocpp_id,
        kind,
        connector_id,
        parameters,
        requested_by,
        client,
        requested_at,
        outcome,
        charger_status,
        detail,
        answered_at,
        transaction_id,
        session,
    ) = row
    return {
        "id": command_id,
        "ocpp_id": ocpp_id,
        "kind": kind,
        "connector_id": connector_id,
        "parameters": orjson.loads(parameters),
        "requested_by": requested_by,
        "client": client,
        "requested_at": requested_at,
        "outcome": outcome or "pending",
        "charger_status": charger_status,
        "detail": detail,
        "answered_at": answered_at,
        "transaction_id": transaction_id,
        "session_id": session,
    }
