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


OCPP201_STATUSES = {
    "Available": ChargePointStatus.AVAILABLE,
    "Reserved": ChargePointStatus.RESERVED,
    "Unavailable": ChargePointStatus.NOT_AVAILABLE,
    "Faulted": ChargePointStatus.FAILED,
}


class ChargingPhase(StrEnum):
    """Whether energy flows in a transaction, as the station reports it (2.0.1 tells it with each
    TransactionEvent; the gateway translates). The values are those stored in events."""

    EV_CONNECTED = "EVConnected"  # plugged in, no energy yet
    CHARGING = "Charging"
    SUSPENDED_EV = "SuspendedEV"  # the vehicle takes no energy
    SUSPENDED_EVSE = "SuspendedEVSE"  # the charge point gives none
    IDLE = "Idle"  # nothing plugged in, or nothing happening


# The phase of the transaction on a charge point: a charging phase, or one of these two.
PHASE_STOPPING = "Stopping"  # a stop was requested, still occupied
PHASE_ENDED = "Ended"  # transaction ended, cable maybe still in
_OCCUPIED_BY_PHASE = {
    ChargingPhase.CHARGING: ChargePointStatus.CHARGING,
    ChargingPhase.SUSPENDED_EV: ChargePointStatus.SUSPENDED_EV,
    ChargingPhase.SUSPENDED_EVSE: ChargePointStatus.SUSPENDED_EVSE,
    PHASE_STOPPING: ChargePointStatus.FINISHING,
    PHASE_ENDED: ChargePointStatus.FINISHING,
}


def from_ocpp16(ocpp_status: str) -> ChargePointStatus:
    """Map an OCPP 1.6 ChargePointStatus to the portal's vocabulary."""
    return OCPP16_STATUSES.get(ocpp_status, ChargePointStatus.UNKNOWN)


def from_ocpp201(connector_status: str, transaction_phase: str | None) -> ChargePointStatus:
    """Map a 2.0.1 ConnectorStatus, with the open transaction's phase when Occupied.

    Occupied with no transaction, or before energy flows (Idle, EVConnected): Preparing;
    Charging / SuspendedEV / SuspendedEVSE: the same; stop requested or ended: Finishing.
    """
    if connector_status == "Occupied":
        return _OCCUPIED_BY_PHASE.get(transaction_phase or "", ChargePointStatus.PREPARING)
    return OCPP201_STATUSES.get(connector_status, ChargePointStatus.UNKNOWN)


def charge_point_status(
    *,
    ever_connected: bool,
    connected: bool,
    last_ocpp_status: str | None,
    ocpp_version: str | None = None,
    transaction_phase: str | None = None,
) -> ChargePointStatus:
    """What the portal shows for one charge point.

    Never connected, or no status received yet: Unknown. Disconnected after having been
    connected: NotAvailable (the last OCPP status is kept apart). Otherwise the mapped status,
    by the vocabulary of the OCPP version the station speaks.
    """
    if not ever_connected:
        return ChargePointStatus.UNKNOWN
    if not connected:
        return ChargePointStatus.NOT_AVAILABLE
    if last_ocpp_status is None:
        return ChargePointStatus.UNKNOWN
    if ocpp_version is not None and ocpp_version.startswith("ocpp2"):
        return from_ocpp201(last_ocpp_status, transaction_phase)
    return from_ocpp16(last_ocpp_status)


def transaction_phase(charging_phase: str | None, stop_requested: bool, current: str | None) -> str | None:
    """The phase after a reported change: a requested stop sticks until the end."""
    if current in (PHASE_STOPPING, PHASE_ENDED):
        return current
    if stop_requested:
        return PHASE_STOPPING
    return charging_phase or current


def site_state(connected_stations: Sequence[Sequence[ChargePointStatus]]) -> SiteState:
    """Derive a site's state from the charge point statuses of each *connected* station.

    Unknown when no station is connected (or none is commissioned), or when no charge point of
    a connected station has a known status yet (a station that just booted): nothing is known
    to be free. Load when every charge point of every connected station is in use; Available
    otherwise.
    """
    statuses = [status for station in connected_stations for status in station]
    if all(status is ChargePointStatus.UNKNOWN for status in statuses):
        return SiteState.UNKNOWN
    if all(status in IN_USE for status in statuses):
        return SiteState.LOAD
    return SiteState.AVAILABLE
