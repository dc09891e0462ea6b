"""Charging sessions as the Sessions page and its CSV export show them, with card details.

Every transaction is folded (auditors and analytics may want them), but only those the
visibility rule lists are served: `listed` is decided from the authorization at the start.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from cpms.aggregates.authorization import is_listed
from cpms.aggregates.charging_session import ChargingSession
from cpms.aggregates.meter import energy_register_wh
from cpms.projections.base import Projection
from cpms.projections.paging import keyset_page
from cpms.projections.store import Tx
from cpms.timestamps import parse_iso, to_iso

COLUMNS = (
    "id, site_id, ocpp_id, connector_id, evse_id, transaction_id, started_at, ended_at, state,"
    " COALESCE(meter_start_wh, first_register_wh), meter_stop_wh, last_register_wh, stop_reason,"
    " auth_method, card_uid,"
    " card_label, access_group_id, access_group_name, emsp_country_code, emsp_party_id,"
    " payment_reference, command_id"
)


class SessionsProjection(Projection):
    name = "sessions"
    # 2: the presented token's column is `token` (it was named after OCPP 1.6's word);
    # 3: `command_id`, the remote or Scan2Pay start the session answers.
    version = 3
    handles = (
        ChargingSession.TransactionStarted,
        ChargingSession.TransactionAuthorized,
        ChargingSession.TransactionStartReported,
        ChargingSession.MeterValuesRecorded,
        ChargingSession.TransactionEnded,
        ChargingSession.TransactionSuperseded,
    )

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            """CREATE TABLE IF NOT EXISTS sessions_v3 (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL,
                site_id TEXT NOT NULL,
                ocpp_id TEXT NOT NULL,
                connector_id INTEGER NOT NULL,
                evse_id TEXT,
                transaction_id TEXT NOT NULL,
                started_at TEXT NOT NULL,
                ended_at TEXT,
                state TEXT NOT NULL,
                meter_start_wh DOUBLE PRECISION,
                first_register_wh DOUBLE PRECISION,
                first_register_at TEXT,
                meter_stop_wh DOUBLE PRECISION,
                last_register_wh DOUBLE PRECISION,
                last_register_at TEXT,
                stop_reason TEXT,
                auth_status TEXT NOT NULL,
                auth_method TEXT,
                token TEXT,
                card_uid TEXT,
                card_label TEXT,
                access_group_id TEXT,
                access_group_name TEXT,
                emsp_country_code TEXT,
                emsp_party_id TEXT,
                payment_reference TEXT,
                command_id TEXT,
                listed INTEGER NOT NULL
            )"""
        )
        tx.execute(
            "CREATE INDEX IF NOT EXISTS sessions_v3_site"
            " ON sessions_v3 (organization_id, site_id, listed, started_at, id)"
        )

    def apply(self, event: Any, tx: Tx) -> None:
        match event:
            case ChargingSession.TransactionStarted():
                tx.execute(
                    "INSERT INTO sessions_v3 (id, organization_id, site_id, ocpp_id, connector_id, evse_id,"
                    " transaction_id, started_at, state, meter_start_wh, auth_status, listed)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'Active', ?, '', 0) ON CONFLICT (id) DO NOTHING",
                    (
                        str(event.originator_id),
                        event.organization_id,
                        event.site_id,
                        event.ocpp_id,
                        event.connector_id,
                        event.evse_id,
                        event.transaction_id,
                        to_iso(event.started_at),
                        event.meter_start_wh,
                    ),
                )
                self._authorized(str(event.originator_id), event.authorization, tx)
            case ChargingSession.TransactionAuthorized():
                self._authorized(str(event.originator_id), event.authorization, tx)
            case ChargingSession.TransactionStartReported():
                at = to_iso(event.started_at)
                tx.execute(
                    "UPDATE sessions_v3 SET started_at = CASE WHEN started_at > ? THEN ? ELSE started_at END,"
                    " meter_start_wh = COALESCE(?, meter_start_wh) WHERE id = ?",
                    (at, at, event.meter_start_wh, str(event.originator_id)),
                )
            case ChargingSession.MeterValuesRecorded():
                reading = energy_register_wh(event.samples)
                if reading is not None:
                    at, wh, session = to_iso(reading[0]), reading[1], str(event.originator_id)
                    # Readings can arrive late or out of order: keep the latest by meter time, and
                    # the earliest, which stands for the start when a 2.0.1 Started carried none.
                    tx.execute(
                        "UPDATE sessions_v3 SET last_register_wh = ?, last_register_at = ?"
                        " WHERE id = ? AND (last_register_at IS NULL OR last_register_at <= ?)",
                        (wh, at, session, at),
                    )
                    tx.execute(
                        "UPDATE sessions_v3 SET first_register_wh = ?, first_register_at = ?"
                        " WHERE id = ? AND (first_register_at IS NULL OR first_register_at > ?)",
                        (wh, at, session, at),
                    )
            case ChargingSession.TransactionEnded() | ChargingSession.TransactionSuperseded():
                tx.execute(
                    "UPDATE sessions_v3 SET state = 'Completed', ended_at = ?, meter_stop_wh = ?,"
                    " stop_reason = ? WHERE id = ?",
                    (
                        to_iso(event.ended_at),
                        event.meter_stop_wh,
                        event.stop_reason,
                        str(event.originator_id),
                    ),
                )

    @staticmethod
    def _authorized(session: str, auth: dict[str, Any], tx: Tx) -> None:
        emsp = auth.get("emsp") or {}
        tx.execute(
            "UPDATE sessions_v3 SET auth_status = ?, auth_method = ?, token = ?, card_uid = ?,"
            " card_label = ?, access_group_id = ?, access_group_name = ?, emsp_country_code = ?,"
            " emsp_party_id = ?, payment_reference = ?, command_id = ?, listed = ? WHERE id = ?",
            (
                auth["status"],
                auth.get("method"),
                auth.get("token"),
                auth.get("card_uid"),
                auth.get("card_label"),
                auth.get("access_group_id"),
                auth.get("access_group_name"),
                emsp.get("country_code"),
                emsp.get("party_id"),
                auth.get("payment_reference"),
                auth.get("command_id"),
                int(is_listed(auth)),
                session,
            ),
        )


# -- queries ------------------------------------------------------------------------------------


def list_sessions(
    tx: Tx,
    organization_id: str,
    site_id: str,
    *,
    started_from: datetime | None,
    started_before: datetime | None,
    state: str | None,
    limit: int,
    cursor: str | None,
    now: datetime,
) -> tuple[list[dict[str, Any]], str | None]:
    """Listed sessions of a site, newest first; `from` inclusive, `to` exclusive on started_at."""
    sql = f"SELECT {COLUMNS} FROM sessions_v3 WHERE organization_id = ? AND site_id = ? AND listed = 1"
    params: list[Any] = [organization_id, site_id]
    if started_from is not None:
        sql += " AND started_at >= ?"
        params.append(to_iso(started_from))
    if started_before is not None:
        sql += " AND started_at < ?"
        params.append(to_iso(started_before))
    if state is not None:
        sql += " AND state = ?"
        params.append(state)
    rows, next_cursor = keyset_page(
        tx,
        sql,
        params,
        order_by=("started_at", "id"),
        key_of=lambda r: [r[6], r[0]],
        limit=limit,
        cursor=cursor,
        descending=True,
    )
    return [_session(r, now) for r in rows], next_cursor


def iter_sessions(
    tx_factory: Any, organization_id: str, site_id: str, *, batch: int = 500, **filters: Any
) -> Iterator[dict[str, Any]]:
    """Every listed session matching the filters, a page per read transaction: flat memory."""
    cursor = None
    while True:
        with tx_factory() as tx:
            items, cursor = list_sessions(tx, organization_id, site_id, limit=batch, cursor=cursor, **filters)
        yield from items
        if cursor is None:
            return


def get_session(tx: Tx, organization_id: str, session_id: str, now: datetime) -> dict[str, Any] | None:
    rows = tx.execute(
        f"SELECT {COLUMNS} FROM sessions_v3 WHERE organization_id = ? AND id = ? AND listed = 1",
        (organization_id, session_id),
    )
    return _session(rows[0], now) if rows else None


def _session(row: tuple[Any, ...], now: datetime) -> dict[str, Any]:
    (
        id_,
        site_id,
        ocpp_id,
        connector_id,
        evse_id,
        transaction_id,
        started_at,
        ended_at,
        state,
        meter_start,
        meter_stop,
        last_register,
        stop_reason,
        method,
        card_uid,
        card_label,
        group_id,
        group_name,
        emsp_country,
        emsp_party,
        payment_reference,
        command_id,
    ) = row
    energy = session_energy_wh(meter_start, meter_stop if meter_stop is not None else last_register)
    duration = session_duration_s(parse_iso(started_at), parse_iso(ended_at) if ended_at else now)
    return {
        "id": id_,
        "ocpp_id": ocpp_id,
        "connector_id": connector_id,
        "evse_id": evse_id,
        "site_id": site_id,
        "transaction_id": transaction_id,
        "started_at": started_at,
        "ended_at": ended_at,
        "state": state,
        "meter_start_wh": meter_start,
        "meter_stop_wh": meter_stop,
        "energy_wh": energy,
        "duration_s": duration,
        "stop_reason": stop_reason,
        "command_id": command_id,
        "authorization": {
            "method": method,
            "card_uid": card_uid,
            "card_label": card_label,
            "access_group_id": group_id,
            "access_group_name": group_name,
            "emsp": {"country_code": emsp_country, "party_id": emsp_party} if emsp_country else None,
            "payment_reference": payment_reference,
        },
    }


def session_energy_wh(start_wh: float | None, reached_wh: float | None) -> float:
    """A session's energy from the register at its start to the register as last read (its stop
    reading once it ended); analytics sums the same figure."""
    if start_wh is None or reached_wh is None:
        return 0.0
    return max(0.0, reached_wh - start_wh)


def session_duration_s(started_at: datetime, until: datetime) -> int:
    return max(0, int((until - started_at).total_seconds()))
