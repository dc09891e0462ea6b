"""The stations this process holds a connection to, and the `StationLink` adapter over them.

A command goes to the station's current connection, if it has one here (else `offline`). Each
connection sends one CALL at a time and waits for its answer before the next (OCPP-J's rule):
commands to one station queue in order, commands to different stations run side by side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cpms.application.station_link import Delivery, StationCommand

if TYPE_CHECKING:
    from cpms.gateway.framing import CentralSystem

DEFAULT_COMMAND_TIMEOUT = 30.0


class StationConnections:
    def __init__(self, *, timeout: float = DEFAULT_COMMAND_TIMEOUT) -> None:
        self.timeout = timeout
        self._open: dict[str, CentralSystem] = {}
        self._serving = False

    def reachable(self) -> bool:
        return self._serving

    def serve(self, serving: bool = True) -> None:
        """A gateway serves stations in this process (or no longer does)."""
        self._serving = serving

    def opened(self, ocpp_id: str, central_system: CentralSystem) -> None:
        self._open[ocpp_id] = central_system

    def closed(self, ocpp_id: str, central_system: CentralSystem) -> None:
        """Forget a connection unless a newer one of the same station replaced it."""
        if self._open.get(ocpp_id) is central_system:
            del self._open[ocpp_id]

    async def deliver(self, ocpp_id: str, command: StationCommand) -> Delivery:
        central_system = self._open.get(ocpp_id)
        if central_system is None:
            return Delivery.offline()
        return await central_system.deliver(command, self.timeout)
