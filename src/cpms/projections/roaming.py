"""Roaming as partners and the operator see it: each roaming session (OCPI Sessions), the CDR it
leaves when it ends (OCPI CDRs), and the activity per organization, partner and UTC day.

Every session is folded, roaming or not, because a 2.0.1 token can arrive after the transaction
began: the roaming fields are filled when an authorization names a partner, and reads list only
those. A CDR is the ended session's row, its price fixed when the end is folded: the tariff of the
site at that point of the log and the site's address are copied into the row, and nothing folded
later changes an ended row, so a CDR never changes once issued. The projection keeps its own copy
of each site's address and tariff, folded from the site's events in log order, so that rebuilding
it prices every CDR as it was priced the first time (another view's current tariff would not).
"""

from __future__ import annotations

import functools
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import iso3166

from cpms.aggregates.charging_session import ChargingSession
from cpms.aggregates.meter import energy_register_wh
from cpms.aggregates.site import Site
from cpms.aggregates.station import Station
from cpms.projections import roaming_outbox as outbox
from cpms.projections.base import Projection
from cpms.projections.roaming_locations import DEFAULT_CONNECTOR, evse_uid
from cpms.projections.store import Tx
from cpms.timestamps import to_iso

# OCPI outcome -> activity column; "error" is kept apart from the three the view shows.
OUTCOMES = {"accepted": "accepted", "rejected": "rejected", "timeout": "timed_out", "error": "error"}
CENT = Decimal("0.01")

_SESSION = (
    "id, site_id, ocpp_id, connector_id, evse_id, started_at, ended_at,"
    " COALESCE(meter_start_wh, first_register_wh), COALESCE(meter_stop_wh, last_register_wh),"
    " partner_id, country_code, party_id, uid, token_type, contract_id, authorization_reference,"
    " last_updated, tariff_currency, tariff_price_per_kwh, tariff_vat_percent,"
    " site_name, site_street, site_postal_code, site_city, site_country, site_latitude, site_longitude"
)


_SESSION_EVENTS = (
    ChargingSession.TransactionStarted,
    ChargingSession.TransactionAuthorized,
    ChargingSession.TransactionStartReported,
    ChargingSession.MeterValuesRecorded,
    ChargingSession.TransactionEnded,
    ChargingSession.TransactionSuperseded,
    ChargingSession.RoamingSessionAuthorized,
)


class RoamingProjection(Projection):
    name = "roaming"
    version = 1
    handles = (
        Site.SiteCreated,
        Site.SiteUpdated,
        Site.SiteTariffSet,
        Site.SiteTariffRemoved,
        Station.StationCommissioned,  # whose organization a station is
        Station.RoamingAuthorizationDecided,
        ChargingSession.TransactionStarted,
        ChargingSession.TransactionAuthorized,
        ChargingSession.TransactionStartReported,
        ChargingSession.MeterValuesRecorded,
        ChargingSession.TransactionEnded,
        ChargingSession.TransactionSuperseded,
        ChargingSession.RoamingSessionAuthorized,
    )

    def create_tables(self, tx: Tx) -> None:
        outbox.create_tables(tx)  # unversioned: a rebuild keeps what was delivered
        tx.execute(
            """CREATE TABLE IF NOT EXISTS roaming_stations_v1 (
                station_id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL
            )"""
        )
        tx.execute(
            """CREATE TABLE IF NOT EXISTS roaming_sites_v1 (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                street TEXT NOT NULL,
                postal_code TEXT NOT NULL,
                city TEXT NOT NULL,
                country TEXT NOT NULL,
                latitude TEXT,
                longitude TEXT,
                tariff_currency TEXT,
                tariff_price_per_kwh TEXT,
                tariff_vat_percent TEXT
            )"""
        )
        tx.execute(
            """CREATE TABLE IF NOT EXISTS roaming_decisions_v1 (
                organization_id TEXT NOT NULL,
                partner_id TEXT NOT NULL,
                day TEXT NOT NULL,
                outcome TEXT NOT NULL,
                count INTEGER NOT NULL,
                PRIMARY KEY (organization_id, partner_id, day, outcome)
            )"""
        )
        tx.execute(
            """CREATE TABLE IF NOT EXISTS roaming_sessions_v1 (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL,
                site_id TEXT NOT NULL,
                ocpp_id TEXT NOT NULL,
                connector_id INTEGER NOT NULL,
                evse_id TEXT,
                started_at TEXT NOT NULL,
                ended_at TEXT,
                meter_start_wh DOUBLE PRECISION,
                first_register_wh DOUBLE PRECISION,
                first_register_at TEXT,
                last_register_wh DOUBLE PRECISION,
                last_register_at TEXT,
                meter_stop_wh DOUBLE PRECISION,
                partner_id TEXT,
                country_code TEXT,
                party_id TEXT,
                uid TEXT,
                token_type TEXT,
                contract_id TEXT,
                authorization_reference TEXT,
                last_updated TEXT NOT NULL,
                tariff_currency TEXT,
                tariff_price_per_kwh TEXT,
                tariff_vat_percent TEXT,
                site_name TEXT,
                site_street TEXT,
                site_postal_code TEXT,
                site_city TEXT,
                site_country TEXT,
                site_latitude TEXT,
                site_longitude TEXT
            )"""
        )
        tx.execute(
            "CREATE INDEX IF NOT EXISTS roaming_sessions_v1_partner"
            " ON roaming_sessions_v1 (organization_id, partner_id, last_updated, id)"
        )
        tx.execute(
            "CREATE INDEX IF NOT EXISTS roaming_sessions_v1_started"
            " ON roaming_sessions_v1 (organization_id, started_at)"
        )

    def apply(self, event: Any, tx: Tx) -> None:
        received = to_iso(event.timestamp)  # OCPI's last_updated: when cpms learnt of the change
        session = str(event.originator_id)
        match event:
            case Site.SiteCreated():
                address = event.address
                tx.execute(
                    "INSERT INTO roaming_sites_v1 (id, name, street, postal_code, city, country, latitude,"
                    " longitude) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                    (
                        session,
                        event.name,
                        address["street"],
                        address["postal_code"],
                        address["city"],
                        address["country"],
                        *_coordinates(event.coordinates),
                    ),
                )
            case Site.SiteUpdated():
                changes = dict(event.changes)
                changes.update(changes.pop("address", {}))
                if "coordinates" in changes:
                    changes["latitude"], changes["longitude"] = _coordinates(changes.pop("coordinates"))
                changes = {k: v for k, v in changes.items() if k in _SITE_COLUMNS}
                if changes:
                    assignments = ", ".join(f"{column} = ?" for column in changes)
                    tx.execute(
                        f"UPDATE roaming_sites_v1 SET {assignments} WHERE id = ?",
                        (*changes.values(), session),
                    )
            case Site.SiteTariffSet():
                tariff = event.tariff
                tx.execute(
                    "UPDATE roaming_sites_v1 SET tariff_currency = ?, tariff_price_per_kwh = ?,"
                    " tariff_vat_percent = ? WHERE id = ?",
                    (tariff["currency"], tariff["price_per_kwh"], tariff["vat_percent"], session),
                )
            case Site.SiteTariffRemoved():
                tx.execute(
                    "UPDATE roaming_sites_v1 SET tariff_currency = NULL, tariff_price_per_kwh = NULL,"
                    " tariff_vat_percent = NULL WHERE id = ?",
                    (session,),
                )
            case Station.StationCommissioned():
                tx.execute(
                    "INSERT INTO roaming_stations_v1 VALUES (?, ?) ON CONFLICT (station_id) DO NOTHING",
                    (session, event.organization_id),
                )
            case Station.RoamingAuthorizationDecided():
                self._decided(event, tx)
            case ChargingSession.TransactionStarted():
                tx.execute(
                    "INSERT INTO roaming_sessions_v1 (id, organization_id, site_id, ocpp_id, connector_id,"
                    " evse_id, started_at, meter_start_wh, last_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (id) DO NOTHING",
                    (
                        session,
                        event.organization_id,
                        event.site_id,
                        event.ocpp_id,
                        event.connector_id,
                        event.evse_id,
                        to_iso(event.started_at),
                        event.meter_start_wh,
                        received,
                    ),
                )
                self._authorized(session, event.authorization, received, tx)
            case ChargingSession.TransactionAuthorized():
                self._authorized(session, event.authorization, received, tx)
            case ChargingSession.RoamingSessionAuthorized():
                self._roaming(session, _fields(event), received, tx)
            case ChargingSession.TransactionStartReported():
                at = to_iso(event.started_at)
                tx.execute(
                    "UPDATE roaming_sessions_v1 SET started_at = CASE WHEN started_at > ? THEN ? ELSE"
                    " started_at END, meter_start_wh = COALESCE(?, meter_start_wh), last_updated = ?"
                    " WHERE id = ? AND ended_at IS NULL",
                    (at, at, event.meter_start_wh, received, session),
                )
            case ChargingSession.MeterValuesRecorded():
                reading = energy_register_wh(event.samples)
                if reading is not None:
                    at, wh = to_iso(reading[0]), reading[1]
                    tx.execute(
                        "UPDATE roaming_sessions_v1 SET last_register_wh = ?, last_register_at = ?,"
                        " last_updated = ? WHERE id = ? AND ended_at IS NULL"
                        " AND (last_register_at IS NULL OR last_register_at <= ?)",
                        (wh, at, received, session, at),
                    )
                    tx.execute(
                        "UPDATE roaming_sessions_v1 SET first_register_wh = ?, first_register_at = ?"
                        " WHERE id = ? AND ended_at IS NULL"
                        " AND (first_register_at IS NULL OR first_register_at > ?)",
                        (wh, at, session, at),
                    )
            case ChargingSession.TransactionEnded() | ChargingSession.TransactionSuperseded():
                self._ended(session, event, received, tx)
        if isinstance(event, _SESSION_EVENTS):
            self._owed(session, event, received, tx)

    @staticmethod
    def _owed(session: str, event: Any, received: str, tx: Tx) -> None:
        """A roaming session this event changed (every change moves last_updated to the event's
        time) is owed to its partner at this version; the CDR too when this event ended it."""
        rows = tx.execute(
            "SELECT organization_id, partner_id, ended_at, last_updated FROM roaming_sessions_v1"
            " WHERE id = ?",
            (session,),
        )
        if not rows or rows[0][1] is None or rows[0][3] != received:
            return
        organization_id, partner_id, ended_at, _ = rows[0]
        version = event.originator_version
        outbox.enqueue(tx, organization_id, partner_id, outbox.SESSION, session, version, received)
        ending = (ChargingSession.TransactionEnded, ChargingSession.TransactionSuperseded)
        if ended_at is not None and isinstance(event, ending):
            outbox.enqueue(tx, organization_id, partner_id, outbox.CDR, session, version, received)

    @staticmethod
    def _decided(event: Any, tx: Tx) -> None:
        rows = tx.execute(
            "SELECT organization_id FROM roaming_stations_v1 WHERE station_id = ?",
            (str(event.originator_id),),
        )
        outcome = OUTCOMES.get(event.outcome)
        if not rows or outcome is None:
            return
        tx.execute(
            "INSERT INTO roaming_decisions_v1 VALUES (?, ?, ?, ?, 1)"
            " ON CONFLICT (organization_id, partner_id, day, outcome)"
            " DO UPDATE SET count = roaming_decisions_v1.count + 1",
            (rows[0][0], event.partner_id, to_iso(event.occurred_at)[:10], outcome),
        )

    def _authorized(self, session: str, authorization: dict[str, Any], received: str, tx: Tx) -> None:
        if authorization.get("method") == "roaming" and authorization.get("partner_id"):
            emsp = authorization.get("emsp") or {}
            fields = {
                "partner_id": authorization["partner_id"],
                "country_code": emsp.get("country_code"),
                "party_id": emsp.get("party_id"),
                "uid": authorization.get("card_uid") or authorization.get("token"),
                "token_type": authorization.get("token_type"),
                "contract_id": authorization.get("contract_id"),
                "authorization_reference": authorization.get("authorization_reference"),
            }
            self._roaming(session, fields, received, tx)

    @staticmethod
    def _roaming(session: str, fields: dict[str, Any], received: str, tx: Tx) -> None:
        tx.execute(
            "UPDATE roaming_sessions_v1 SET partner_id = ?, country_code = ?, party_id = ?, uid = ?,"
            " token_type = COALESCE(?, token_type, 'RFID'), contract_id = COALESCE(?, contract_id, uid),"
            " authorization_reference = COALESCE(?, authorization_reference), last_updated = ?"
            " WHERE id = ? AND ended_at IS NULL",
            (
                fields["partner_id"],
                fields["country_code"],
                fields["party_id"],
                fields["uid"],
                fields["token_type"],
                fields["contract_id"],
                fields["authorization_reference"],
                received,
                session,
            ),
        )

    @staticmethod
    def _ended(session: str, event: Any, received: str, tx: Tx) -> None:
        rows = tx.execute(
            "SELECT site_id FROM roaming_sessions_v1 WHERE id = ? AND ended_at IS NULL", (session,)
        )
        if not rows:
            return
        site_id = rows[0][0]
        site = tx.execute(
            "SELECT name, street, postal_code, city, country, latitude, longitude, tariff_currency,"
            " tariff_price_per_kwh, tariff_vat_percent FROM roaming_sites_v1 WHERE id = ?",
            (site_id,),
        )
        name, street, postal_code, city, country, latitude, longitude, *priced = (
            site[0] if site else (None,) * 10
        )
        tariff = dict(zip(("currency", "price_per_kwh", "vat_percent"), priced, strict=True))
        tx.execute(
            "UPDATE roaming_sessions_v1 SET ended_at = ?, meter_stop_wh = ?, last_updated = ?,"
            " tariff_currency = ?, tariff_price_per_kwh = ?, tariff_vat_percent = ?, site_name = ?,"
            " site_street = ?, site_postal_code = ?, site_city = ?, site_country = ?, site_latitude = ?,"
            " site_longitude = ? WHERE id = ?",
            (
                to_iso(event.ended_at),
                event.meter_stop_wh,
                received,
                tariff.get("currency"),
                _text(tariff.get("price_per_kwh")),
                _text(tariff.get("vat_percent")),
                name,
                street,
                postal_code,
                city,
                country,
                latitude,
                longitude,
                session,
            ),
        )


_SITE_COLUMNS = {"name", "street", "postal_code", "city", "country", "latitude", "longitude"}


def _coordinates(coordinates: dict[str, str] | None) -> tuple[str | None, str | None]:
    return (None, None) if coordinates is None else (coordinates["latitude"], coordinates["longitude"])


def _fields(event: Any) -> dict[str, Any]:
    return {
        k: getattr(event, k, None)
        for k in (
            "partner_id",
            "country_code",
            "party_id",
            "uid",
            "token_type",
            "contract_id",
            "authorization_reference",
        )
    }


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


# -- pricing ------------------------------------------------------------------------------------


def energy_kwh(start_wh: float | None, reached_wh: float | None) -> Decimal:
    """What the meter counted, in kWh to the Wh; a meter that went backwards counts nothing."""
    if start_wh is None or reached_wh is None:
        return Decimal(0)
    wh = max(Decimal(0), Decimal(str(reached_wh)) - Decimal(str(start_wh)))
    return (wh / 1000).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def total_cost(kwh: Decimal, price_per_kwh: str | None, vat_percent: str | None) -> tuple[Decimal, Decimal]:
    """Excl. and incl. VAT, to the cent, half up; the VAT applies to the unrounded price so that
    rounding happens once per amount. No tariff: zero."""
    if price_per_kwh is None:
        return Decimal(0), Decimal(0)
    exact = kwh * Decimal(price_per_kwh)
    vat = Decimal(vat_percent or 0)
    incl = exact * (1 + vat / 100)
    return exact.quantize(CENT, rounding=ROUND_HALF_UP), incl.quantize(CENT, rounding=ROUND_HALF_UP)


# -- queries ------------------------------------------------------------------------------------


def ocpi_sessions(
    tx: Tx,
    organization_id: str,
    partner_id: str,
    *,
    country_code: str,
    party_id: str,
    currency: str,
    date_from: datetime | None,
    date_to: datetime | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    """One page of the partner's sessions by last_updated (from inclusive, to exclusive) and id,
    with the total the filters match, shaped as OCPI Session objects."""
    rows, total = _page(tx, organization_id, partner_id, date_from, date_to, offset, limit, ended=False)
    return [_session(r, country_code, party_id, currency) for r in rows], total


def ocpi_cdrs(
    tx: Tx,
    organization_id: str,
    partner_id: str,
    *,
    country_code: str,
    party_id: str,
    currency: str,
    date_from: datetime | None,
    date_to: datetime | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    """One page of the partner's CDRs, ended sessions only, as OCPI CDR objects."""
    rows, total = _page(tx, organization_id, partner_id, date_from, date_to, offset, limit, ended=True)
    return [_cdr(r, country_code, party_id, currency) for r in rows], total


def ocpi_object(
    tx: Tx, kind: str, session_id: str, *, country_code: str, party_id: str, currency: str
) -> dict[str, Any] | None:
    """One roaming session as an OCPI Session (`kind` "session") or its CDR ("cdr"), as it stands
    now; None if the view does not hold it (yet), or holds no CDR for a session still going on."""
    rows = tx.execute(
        f"SELECT {_SESSION} FROM roaming_sessions_v1 WHERE id = ? AND partner_id IS NOT NULL", (session_id,)
    )
    if not rows:
        return None
    if kind == outbox.CDR:
        return _cdr(rows[0], country_code, party_id, currency) if rows[0][6] else None
    return _session(rows[0], country_code, party_id, currency)


def _page(
    tx: Tx,
    organization_id: str,
    partner_id: str,
    date_from: datetime | None,
    date_to: datetime | None,
    offset: int,
    limit: int,
    *,
    ended: bool,
) -> tuple[list[tuple[Any, ...]], int]:
    where = "organization_id = ? AND partner_id = ?" + (" AND ended_at IS NOT NULL" if ended else "")
    params: list[Any] = [organization_id, partner_id]
    if date_from is not None:
        where += " AND last_updated >= ?"
        params.append(to_iso(date_from))
    if date_to is not None:
        where += " AND last_updated < ?"
        params.append(to_iso(date_to))
    total = tx.execute(f"SELECT COUNT(*) FROM roaming_sessions_v1 WHERE {where}", params)[0][0]
    rows = tx.execute(
        f"SELECT {_SESSION} FROM roaming_sessions_v1 WHERE {where}"
        " ORDER BY last_updated, id LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return rows, total


def _token(row: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "country_code": row[10],
        "party_id": row[11],
        "uid": row[12],
        "type": row[13] or "RFID",
        "contract_id": row[14] or row[12],
    }


def _auth_method(row: tuple[Any, ...]) -> str:
    # An authorization_reference is what the eMSP's real-time answer hands out.
    return "AUTH_REQUEST" if row[15] else "WHITELIST"


def _session(row: tuple[Any, ...], country_code: str, party_id: str, currency: str) -> dict[str, Any]:
    id_, site_id, ocpp_id, connector_id, _, started_at, ended_at, start_wh, reached_wh = row[:9]
    session: dict[str, Any] = {
        "country_code": country_code,
        "party_id": party_id,
        "id": id_,
        "start_date_time": started_at,
        "kwh": float(energy_kwh(start_wh, reached_wh)),
        "cdr_token": _token(row),
        "auth_method": _auth_method(row),
        "location_id": site_id,
        "evse_uid": evse_uid(ocpp_id, connector_id),
        "connector_id": "1",  # each charge point is an EVSE of one connector (roaming_locations)
        "currency": row[17] or currency,
        "status": "COMPLETED" if ended_at else "ACTIVE",
        "last_updated": row[16],
    }
    if ended_at:
        session["end_date_time"] = ended_at
    if row[15]:
        session["authorization_reference"] = row[15]
    return session


def _cdr(row: tuple[Any, ...], country_code: str, party_id: str, currency: str) -> dict[str, Any]:
    id_, site_id, ocpp_id, connector_id, evse_id, started_at, ended_at, start_wh, reached_wh = row[:9]
    kwh = energy_kwh(start_wh, reached_wh)
    excl, incl = total_cost(kwh, row[18], row[19])
    hours = Decimal(str((_instant(ended_at) - _instant(started_at)).total_seconds())) / 3600
    location: dict[str, Any] = {
        "id": site_id,
        "name": row[20],
        "address": (row[21] or "")[:45],
        "city": (row[23] or "")[:45],
        "postal_code": (row[22] or "")[:10],
        "country": _alpha3(row[24]),
        "evse_uid": evse_uid(ocpp_id, connector_id),
        "evse_id": evse_id or evse_uid(ocpp_id, connector_id),
        "connector_id": "1",
        "connector_standard": DEFAULT_CONNECTOR["standard"],
        "connector_format": DEFAULT_CONNECTOR["format"],
        "connector_power_type": DEFAULT_CONNECTOR["power_type"],
        "coordinates": None if row[25] is None else {"latitude": row[25], "longitude": row[26]},
    }
    cdr: dict[str, Any] = {
        "country_code": country_code,
        "party_id": party_id,
        "id": id_,
        "start_date_time": started_at,
        "end_date_time": ended_at,
        "session_id": id_,
        "cdr_token": _token(row),
        "auth_method": _auth_method(row),
        "cdr_location": {k: v for k, v in location.items() if v is not None},
        "currency": row[17] or currency,
        "charging_periods": [
            {"start_date_time": started_at, "dimensions": [{"type": "ENERGY", "volume": float(kwh)}]}
        ],
        "total_cost": {"excl_vat": float(excl), "incl_vat": float(incl)},
        "total_energy": float(kwh),
        "total_time": float(max(Decimal(0), hours).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)),
        "total_parking_time": 0.0,
        "last_updated": row[16],
    }
    if row[15]:
        cdr["authorization_reference"] = row[15]
    return cdr


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@functools.cache
def _alpha3(country: str | None) -> str:
    try:
        return str(iso3166.countries.get(country or "").alpha3)
    except KeyError:
        return "ZZZ"  # unknown to ISO 3166; sites store alpha-2 codes since issue 9


def activity(tx: Tx, organization_id: str, *, since: datetime) -> dict[str, Any]:
    """Per partner and UTC day since `since` (a day's start): sessions by start day and their
    energy, and the decisions; with the roaming sessions that started in the window, newest first."""
    day_from = to_iso(since)[:10]
    days: dict[tuple[str, str], dict[str, Any]] = {}

    def bucket(partner: str, day: str) -> dict[str, Any]:
        return days.setdefault(
            (partner, day),
            {
                "partner_id": partner,
                "day": day,
                "sessions": 0,
                "energy_wh": 0.0,
                "accepted": 0,
                "rejected": 0,
                "timed_out": 0,
                "error": 0,
            },
        )

    sessions = []
    for row in tx.execute(
        f"SELECT {_SESSION} FROM roaming_sessions_v1 WHERE organization_id = ? AND partner_id IS NOT NULL"
        " AND started_at >= ? ORDER BY started_at DESC, id DESC",
        (organization_id, day_from),
    ):
        kwh = energy_kwh(row[7], row[8])
        entry = bucket(row[9], row[5][:10])
        entry["sessions"] += 1
        entry["energy_wh"] += float(kwh * 1000)
        sessions.append(
            {
                "id": row[0],
                "partner_id": row[9],
                "emsp": {"country_code": row[10], "party_id": row[11]},
                "token_uid": row[12],
                "site_id": row[1],
                "ocpp_id": row[2],
                "connector_id": row[3],
                "started_at": row[5],
                "ended_at": row[6],
                "energy_wh": float(kwh * 1000),
                "status": "COMPLETED" if row[6] else "ACTIVE",
            }
        )
    for partner, day, outcome, count in tx.execute(
        "SELECT partner_id, day, outcome, count FROM roaming_decisions_v1"
        " WHERE organization_id = ? AND day >= ?",
        (organization_id, day_from),
    ):
        bucket(partner, day)[outcome] += count
    return {"days": [days[k] for k in sorted(days)], "sessions": sessions}
