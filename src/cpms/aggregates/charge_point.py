"""The portal's charge point vocabulary and the rules deriving it, and the site state, from OCPP facts."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum


class ChargePointStatus(StrEnum):
    AVAILABLE = "Available"
    NOT_AVAILABLE = "NotAvailable"
    PREPARING = "Preparing"
    UNKNOWN = "Unknown"
    CHARGING = "Charging"
    FINISHING = "Finishing"
    SUSPENDED_EV = "SuspendedEV"
    SUSPENDED_EVSE = "SuspendedEVSE"
    RESERVED = "Reserved"
    FAILED = "Failed"


class SiteState(StrEnum):
    UNKNOWN = "Unknown"
    LOAD = "Load"
    AVAILABLE = "Available"


IN_USE = frozenset(
    {
        ChargePointStatus.PREPARING,
        ChargePointStatus.CHARGING,
        ChargePointStatus.SUSPENDED_EV,
        ChargePointStatus.SUSPENDED_EVSE,
        ChargePointStatus.FINISHING,
    }
)

OCPP16_STATUSES = {
    "Available": ChargePointStatus.AVAILABLE,
    "Preparing": ChargePointStatus.PREPARING,
    "Charging": ChargePointStatus.CHARGING,
    "SuspendedEV": ChargePointStatus.SUSPENDED_EV,
    "SuspendedEVSE": ChargePointStatus.SUSPENDED_EVSE,
    "Finishing": ChargePointStatus.FINISHING,
    "Reserved": ChargePointStatus.RESERVED,
    "Unavailable": ChargePointStatus.NOT_AVAILABLE,
    "Faulted": ChargePointStatus.FAILED,
}


def from_ocpp16(ocpp_status: str) -> ChargePointStatus:
    """Map an OCPP 1.6 ChargePointStatus to the portal's vocabulary."""
    return OCPP16_STATUSES.get(ocpp_status, ChargePointStatus.UNKNOWN)


def charge_point_status(
    *, ever_connected: bool, connected: bool, last_ocpp_status: str | None
) -> ChargePointStatus:
    """What the portal shows for one connector.

    Never connected, or no status received yet: Unknown. Disconnected after having been
    connected: NotAvailable (the last OCPP status is kept apart). Otherwise the mapped status.
    """
    if not ever_connected:
        return ChargePointStatus.UNKNOWN
    if not connected:
        return ChargePointStatus.NOT_AVAILABLE
    if last_ocpp_status is None:
        return ChargePointStatus.UNKNOWN
    return from_ocpp16(last_ocpp_status)


def site_state(connected_stations: Sequence[Sequence[ChargePointStatus]]) -> SiteState:
    """Derive a site's state from the charge point statuses of each *connected* station.

    Unknown when no station is connected (or none is commissioned); Load when every charge
    point of every connected station is in use; Available otherwise.
    """
    if not connected_stations:
        return SiteState.UNKNOWN
    statuses = [status for station in connected_stations for status in station]
    if statuses and all(status in IN_USE for status in statuses):
        return SiteState.LOAD
    return SiteState.AVAILABLE
