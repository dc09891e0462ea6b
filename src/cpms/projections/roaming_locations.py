"""The OCPI 2.2.1 Locations a CPO publishes, read from the portal's own views.

A site with coordinates and at least one roaming-enabled station is a Location (OCPI requires
coordinates: a site without them is not published); each charge point of such a station an EVSE
with one Connector. No read model of its own: the sites, sheet and configuration views hold
everything, joined here in SQL that both databases run. The dicts returned are shaped as the
`cpms.api.ocpi_models.locations` Structs (`msgspec.convert` turns them into those).
"""

from __future__ import annotations

import functools
import logging
import uuid
import zoneinfo
from datetime import datetime
from pathlib import Path
from typing import Any

import iso3166

from cpms.aggregates.charge_point import ChargePointStatus
from cpms.projections.store import Tx
from cpms.timestamps import to_iso

log = logging.getLogger(__name__)

# What cpms knows nothing of yet, the same for every charge point: a Type 2 socket on three-phase
# AC at 32 A (22 kW), the common European wallbox. Voltage is line to neutral, as OCPI asks.
DEFAULT_CONNECTOR: dict[str, Any] = {
    "standard": "IEC_62196_T2",
    "format": "SOCKET",
    "power_type": "AC_3_PHASE",
    "max_voltage": 230,
    "max_amperage": 32,
    "max_electric_power": 22000,
}
FALLBACK_TIME_ZONE = "UTC"
_EVSE_UID_NAMESPACE = uuid.UUID("5b6f0c1e-4f2a-4d51-9a53-0c7e3b1d2a10")

# Portal status -> OCPI EVSE status, for a connected station.
_STATUSES = {
    ChargePointStatus.AVAILABLE: "AVAILABLE",
    ChargePointStatus.PREPARING: "CHARGING",  # OCPI's CHARGING means "in use"
    ChargePointStatus.CHARGING: "CHARGING",
    ChargePointStatus.SUSPENDED_EV: "CHARGING",
    ChargePointStatus.SUSPENDED_EVSE: "CHARGING",
    ChargePointStatus.FINISHING: "CHARGING",
    ChargePointStatus.RESERVED: "RESERVED",
    ChargePointStatus.FAILED: "OUTOFORDER",  # OCPP Faulted: something is broken
    ChargePointStatus.NOT_AVAILABLE: "INOPERATIVE",  # OCPP Unavailable: taken out of service
    ChargePointStatus.UNKNOWN: "UNKNOWN",
}


def evse_status(status: ChargePointStatus, *, connected: bool) -> str:
    """The OCPI status of an EVSE from its charge point's portal status.

    A disconnected station's charge points read NotAvailable in the portal, but OCPI keeps
    UNKNOWN for "no status information (also used when offline)", and INOPERATIVE for one taken
    out of service. No portal status says BLOCKED (a car parked in front): cpms cannot tell.
    """
    if not connected:
        return "UNKNOWN"
    return _STATUSES[status]


def evse_uid(ocpp_id: str, connector_id: int) -> str:
    """Stable and unique per charge point; OCPI allows 36 characters and an OCPP identity may
    have 48, so a long identity is replaced by a uuid5 of the same text."""
    uid = f"{ocpp_id}*{connector_id}"
    return uid if len(uid) <= 36 else str(uuid.uuid5(_EVSE_UID_NAMESPACE, uid))


@functools.cache
def _zones_by_country() -> dict[str, str]:
    """The first zone zone.tab lists for each country (its most populous, by the file's rule)."""
    zones: dict[str, str] = {}
    for directory in zoneinfo.TZPATH:
        table = Path(directory) / "zone.tab"
        if table.is_file():
            for line in table.read_text().splitlines():
                if line and not line.startswith("#"):
                    country, _, zone = line.split("\t")[:3]
                    zones.setdefault(country, zone)
            break
    return zones


def time_zone(country_alpha2: str) -> str:
    return _zones_by_country().get(country_alpha2.upper(), FALLBACK_TIME_ZONE)


# -- queries ------------------------------------------------------------------------------------

# One row per charge point of a roaming-enabled station of the organization.
_ROAMING = """
    SELECT cp.site_id, cp.ocpp_id, cp.connector_id, cp.evse_id, cp.status, cs.connected,
           cp.since, cp.last_ocpp_at, cp.phase_at, c.configured_at
    FROM charge_points_v2 cp
    JOIN station_configuration_v1 c ON c.ocpp_id = cp.ocpp_id AND c.roaming_enabled = 1
    JOIN cp_stations_v2 cs ON cs.ocpp_id = cp.ocpp_id
    WHERE cp.organization_id = ?
"""

# Each Location's last change: of the site, or of any of its EVSEs (OCPI: a child's update is
# its parent's too). MAX skips the NULLs of what has not happened yet.
_LAST_UPDATED = f"""
    WITH roaming AS ({_ROAMING})
    SELECT site_id, MAX(at) AS last_updated FROM (
        SELECT s.id AS site_id, s.updated_at AS at FROM sites_v2 s
            WHERE s.organization_id = ? AND s.id IN (SELECT site_id FROM roaming)
        UNION ALL SELECT site_id, since FROM roaming
        UNION ALL SELECT site_id, last_ocpp_at FROM roaming
        UNION ALL SELECT site_id, phase_at FROM roaming
        UNION ALL SELECT site_id, configured_at FROM roaming
    ) changes
    WHERE site_id IN (SELECT id FROM sites_v2 WHERE organization_id = ? AND latitude IS NOT NULL)
    GROUP BY site_id
"""


def locations(
    tx: Tx,
    organization_id: str,
    *,
    country_code: str,
    party_id: str,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    offset: int = 0,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    """One page of the organization's Locations, ordered by id, with the total the filters match.

    `date_from` is inclusive and `date_to` exclusive, on `last_updated`, as OCPI 2.2.1 says.
    """
    having, params = [], [organization_id, organization_id, organization_id]
    if date_from is not None:
        having.append("MAX(at) >= ?")
        params.append(to_iso(date_from))
    if date_to is not None:
        having.append("MAX(at) < ?")
        params.append(to_iso(date_to))
    sql = _LAST_UPDATED + (" HAVING " + " AND ".join(having) if having else "")
    rows = tx.execute(
        f"SELECT site_id, last_updated, COUNT(*) OVER () FROM ({sql}) located"
        " ORDER BY site_id LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    # A page past the end still tells how many there are.
    total = rows[0][2] if rows else tx.execute(f"SELECT COUNT(*) FROM ({sql}) located", params)[0][0]
    built = _build(tx, organization_id, {r[0]: r[1] for r in rows}, country_code, party_id)
    return [built[r[0]] for r in rows if r[0] in built], total


def location(
    tx: Tx, organization_id: str, location_id: str, *, country_code: str, party_id: str
) -> dict[str, Any] | None:
    rows = tx.execute(
        f"SELECT site_id, last_updated FROM ({_LAST_UPDATED}) located WHERE site_id = ?",
        [organization_id, organization_id, organization_id, location_id],
    )
    if not rows:
        return None
    return _build(tx, organization_id, {rows[0][0]: rows[0][1]}, country_code, party_id).get(location_id)


def evse(
    tx: Tx, organization_id: str, location_id: str, evse_uid: str, *, country_code: str, party_id: str
) -> dict[str, Any] | None:
    found = location(tx, organization_id, location_id, country_code=country_code, party_id=party_id)
    if found is None:
        return None
    return next((e for e in found["evses"] if e["uid"] == evse_uid), None)


def connector(
    tx: Tx,
    organization_id: str,
    location_id: str,
    evse_uid: str,
    connector_id: str,
    *,
    country_code: str,
    party_id: str,
) -> dict[str, Any] | None:
    found = evse(tx, organization_id, location_id, evse_uid, country_code=country_code, party_id=party_id)
    if found is None:
        return None
    return next((c for c in found["connectors"] if c["id"] == connector_id), None)


def _build(
    tx: Tx, organization_id: str, last_updated: dict[str, str], country_code: str, party_id: str
) -> dict[str, dict[str, Any]]:
    if not last_updated:
        return {}
    marks = ", ".join("?" for _ in last_updated)
    sites = tx.execute(
        "SELECT id, name, street, postal_code, city, country, provider, latitude, longitude FROM sites_v2"
        f" WHERE organization_id = ? AND id IN ({marks}) ORDER BY id",
        [organization_id, *last_updated],
    )
    evses: dict[str, list[dict[str, Any]]] = {site_id: [] for site_id in last_updated}
    for row in tx.execute(
        f"SELECT * FROM ({_ROAMING}) roaming WHERE site_id IN ({marks}) ORDER BY ocpp_id, connector_id",
        [organization_id, *last_updated],
    ):
        evses[row[0]].append(_evse(row))
    built = {}
    for site_id, name, street, postal_code, city, country, provider, latitude, longitude in sites:
        iso = _country(country)
        if iso is None:
            log.warning("site %s is left out of OCPI: country %r is no ISO 3166 code", site_id, country)
            continue
        built[site_id] = {
            "country_code": country_code,
            "party_id": party_id,
            "id": site_id,
            "publish": True,  # roaming enabled: any partner's driver may charge here
            "name": name[:255],
            # OCPI bounds these shorter than the portal does; longer values are cut, not refused.
            "address": street[:45],
            "city": city[:45],
            "postal_code": postal_code[:10],
            "country": iso.alpha3,
            "coordinates": {"latitude": latitude, "longitude": longitude},
            "evses": evses[site_id],
            **({"operator": {"name": provider[:100]}} if provider else {}),
            "time_zone": time_zone(iso.alpha2),
            "last_updated": last_updated[site_id],
        }
    return built


def _evse(row: tuple[Any, ...]) -> dict[str, Any]:
    _, ocpp_id, connector_id, evse_id, status, connected, since, last_ocpp_at, phase_at, configured_at = row
    changed = max(at for at in (since, last_ocpp_at, phase_at, configured_at) if at is not None)
    return {
        "uid": evse_uid(ocpp_id, connector_id),
        **({"evse_id": evse_id} if evse_id else {}),
        "status": evse_status(ChargePointStatus(status), connected=bool(connected)),
        # Appearing to partners is the connector's creation, as OCPI sees it.
        "connectors": [{"id": "1", **DEFAULT_CONNECTOR, "last_updated": configured_at or changed}],
        "last_updated": changed,
    }


def _country(country: str) -> iso3166.Country | None:
    """Sites store alpha-2 codes; ones stored before issue 9 may hold a name, which iso3166 knows."""
    try:
        return iso3166.countries.get(country)
    except KeyError:
        return None
