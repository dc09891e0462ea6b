"""The commands of cpms: load, call one aggregate method, save, behind a facade of plain types.

Transports (the OCPP gateway, the HTTP API, the CLI) call these with strings, numbers,
datetimes and small values such as an `Address`, whose types each transport checks at its door;
the domain checks only its rules. Every write returns the notification position of its events
so a caller can wait for the projections to catch up with its own write.
"""

from __future__ import annotations

from cpms.aggregates.site import Address, AddressChange
from cpms.application.access import AccessCommands
from cpms.application.base import Clock, Written, utc_now
from cpms.application.charging import AuthorizationOutcome, ChargingCommands
from cpms.application.organizations import OrganizationCommands
from cpms.application.remote_control import CommandResult, RemoteControlCommands, Requester
from cpms.application.roaming import RoamingCommands
from cpms.application.roaming_authorization import RealtimeAuthorizer
from cpms.application.sites import NewSite, SiteCommands
from cpms.application.station_link import CommandsUnavailable, StationLink
from cpms.application.stations import StationAccess, StationCommands
from cpms.infra.writer import Writer


class ChargingNetwork(
    OrganizationCommands,
    SiteCommands,
    StationCommands,
    AccessCommands,
    RemoteControlCommands,  # before ChargingCommands, whose rules it reuses
    ChargingCommands,
    RoamingCommands,
):
    """Every command of cpms, one facade for the transports."""

    def __init__(
        self,
        writer: Writer,
        clock: Clock = utc_now,
        realtime: RealtimeAuthorizer | None = None,
        stations: StationLink | None = None,
        remote_start_window: float | None = None,
    ) -> None:
        super().__init__(writer, clock)
        self._api_keys = {}
        if realtime is not None:
            self._realtime = realtime
        if stations is not None:
            self._stations = stations
        if remote_start_window is not None:
            self._remote_start_window = remote_start_window


__all__ = [
    "Address",
    "AddressChange",
    "AuthorizationOutcome",
    "ChargingNetwork",
    "Clock",
    "CommandResult",
    "CommandsUnavailable",
    "NewSite",
    "Requester",
    "StationAccess",
    "Written",
    "utc_now",
]
