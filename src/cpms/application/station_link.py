"""The port through which commands reach stations, and what can come back.

The application asks it to deliver a command to a station by OCPP identity and gets a typed
answer; it does not know where the station's connection is. The embedded adapter
(`gateway/connections.py`) finds the connection in this process; a distributed one will route the
same commands over NATS to the gateway node holding the socket, with no change here or above.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cpms.aggregates.station import (
    ACCEPTED_OUTCOME,
    FAILED_OUTCOME,
    OFFLINE_OUTCOME,
    REJECTED_OUTCOME,
    TIMEOUT_OUTCOME,
)


@dataclass(frozen=True)
class RemoteStart:
    connector_id: int
    id_tag: str
    remote_start_id: int
    central: bool = False  # a token the central system made (Scan2Pay), not a driver's card


@dataclass(frozen=True)
class RemoteStop:
    transaction_id: str


@dataclass(frozen=True)
class ChangeAvailability:
    operative: bool
    connector_id: int | None = None  # None: the whole station


@dataclass(frozen=True)
class Reset:
    hard: bool


@dataclass(frozen=True)
class UnlockConnector:
    connector_id: int


StationCommand = RemoteStart | RemoteStop | ChangeAvailability | Reset | UnlockConnector


@dataclass(frozen=True)
class Delivery:
    """How a command ended: `outcome` is one of the station's command outcomes; the charger's own
    status word (Accepted, Rejected, Scheduled, Unlocked, ...) or CALLERROR code, and a detail."""

    outcome: str
    charger_status: str | None = None
    detail: str | None = None

    @classmethod
    def answered(cls, status: str, *, yes: bool) -> Delivery:
        return cls(ACCEPTED_OUTCOME if yes else REJECTED_OUTCOME, status)

    @classmethod
    def failed(cls, code: str, description: str | None) -> Delivery:
        return cls(FAILED_OUTCOME, code, description or None)

    @classmethod
    def offline(cls) -> Delivery:
        return cls(OFFLINE_OUTCOME, None, "the station is not connected")

    @classmethod
    def timed_out(cls, seconds: float, *, sent: bool = True) -> Delivery:
        if sent:
            return cls(TIMEOUT_OUTCOME, None, f"no answer from the station within {seconds:g} s")
        return cls(TIMEOUT_OUTCOME, None, f"not sent: earlier commands held the station for {seconds:g} s")


class CommandsUnavailable(Exception):
    """No route to stations from this process (an API role running without a gateway)."""


class StationLink(Protocol):
    def reachable(self) -> bool:
        """Whether this process can deliver commands at all (a gateway serves stations here)."""
        ...

    async def deliver(self, ocpp_id: str, command: StationCommand) -> Delivery: ...


class NoLink:
    """Where no gateway is wired: nothing can be delivered, and callers are told why."""

    def reachable(self) -> bool:
        return False

    async def deliver(self, ocpp_id: str, command: StationCommand) -> Delivery:
        raise CommandsUnavailable("no gateway serves stations in this process")
