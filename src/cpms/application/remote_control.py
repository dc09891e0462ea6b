"""Commands sent to stations: remote start and stop, Scan2Pay, availability, reset, unlock.

Each is recorded on its station twice: the request, with who asked, before anything is sent
(so a charger quick to begin the transaction finds its remote start already there), then the
outcome. Delivery goes through the `StationLink` port, outside any unit of work and never from
inside the OCPP receive loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from cpms.aggregates.charging_session import ChargingSession
from cpms.aggregates.errors import Conflict, InvalidValue, NotFound
from cpms.aggregates.station import Scan2PayPayment, Station, station_id
from cpms.application.base import Written, owned, parse_uuid
from cpms.application.charging import ChargingCommands
from cpms.application.roaming_authorization import NeedsRealtime
from cpms.application.station_link import (
    ChangeAvailability,
    CommandsUnavailable,
    Delivery,
    NoLink,
    RemoteStart,
    RemoteStop,
    Reset,
    StationCommand,
    StationLink,
    UnlockConnector,
)
from cpms.infra.writer import Stored, UnitOfWork

log = logging.getLogger(__name__)

# How long a remote start's token stays good for the transaction it asks for: 1.6 chargers wait
# for the cable up to their ConnectionTimeOut (often 60 to 180 s) before they begin.
DEFAULT_REMOTE_START_WINDOW = 180.0
SCAN2PAY_TAG_PREFIX = "S2P"

Request = Callable[[UnitOfWork, str, datetime], tuple[StationCommand, int | None]]


@dataclass(frozen=True)
class Requester:
    """Who asked: the organization whose API key (or portal session) sent the command, and the
    client it came from, as it names itself (User-Agent)."""

    organization_id: str
    client: str | None = None


@dataclass(frozen=True)
class CommandResult:
    command_id: str
    ocpp_id: str
    delivery: Delivery
    written: Written
    remote_start_id: int | None = None


class RemoteControlCommands(ChargingCommands):
    _stations: StationLink = NoLink()
    _remote_start_window: float = DEFAULT_REMOTE_START_WINDOW

    async def remote_start(
        self, requester: Requester, ocpp_id: str, *, connector_id: int, id_tag: str
    ) -> CommandResult:
        """RemoteStartTransaction / RequestStartTransaction for a driver's token. The token must
        be one the station would accept (a card of its access groups, or a roaming token), so a
        charger is never started for a transaction it would then be told to refuse."""

        def request(uow: UnitOfWork, command_id: str, now: datetime) -> tuple[StationCommand, int | None]:
            station = self._owned_station(uow, requester, ocpp_id, connector_id)
            decided = self._authorization(uow, station, id_tag.strip(), connector_id=connector_id)
            if not isinstance(decided, NeedsRealtime) and not decided.authorization.accepted:
                raise InvalidValue(
                    f"id_tag {id_tag.strip()!r} may not charge at station {ocpp_id}: it is no card of"
                    " the station's access groups nor a roaming token it accepts"
                )
            remote_start_id = station.request_remote_start(
                command_id=command_id,
                connector_id=connector_id,
                id_tag=id_tag,
                requested_by=requester.organization_id,
                client=requester.client,
                expires_at=now + timedelta(seconds=self._remote_start_window),
                occurred_at=now,
            )
            command = RemoteStart(connector_id, id_tag.strip(), remote_start_id)
            return command, remote_start_id

        return await self._send(ocpp_id, request)

    async def scan2pay_start(
        self, requester: Requester, ocpp_id: str, *, connector_id: int, payment: Scan2PayPayment
    ) -> CommandResult:
        """A remote start for whoever paid `payment`: with a token made for it, which the station
        accepts on that charge point only, once, within the remote start window."""

        def request(uow: UnitOfWork, command_id: str, now: datetime) -> tuple[StationCommand, int | None]:
            station = self._owned_station(uow, requester, ocpp_id, connector_id)
            id_tag = scan2pay_tag(command_id)
            remote_start_id = station.request_remote_start(
                command_id=command_id,
                connector_id=connector_id,
                id_tag=id_tag,
                requested_by=requester.organization_id,
                client=requester.client,
                expires_at=now + timedelta(seconds=self._remote_start_window),
                occurred_at=now,
                scan2pay=payment,
            )
            return RemoteStart(connector_id, id_tag, remote_start_id, central=True), remote_start_id

        return await self._send(ocpp_id, request)

    async def remote_stop(self, requester: Requester, session_id: str) -> CommandResult:
        """RemoteStopTransaction / RequestStopTransaction of an active session."""
        missing = f"session {session_id!r} not found"
        aggregate_id = parse_uuid(session_id)

        def session_of(uow: UnitOfWork) -> ChargingSession:
            return owned(uow, ChargingSession, aggregate_id, requester.organization_id, missing)

        # Which station to ask is read outside any batch; whether the session is still open is
        # decided in the request's own write, below.
        found = None if aggregate_id is None else await self._load(aggregate_id)
        if not isinstance(found, ChargingSession) or found.organization_id != requester.organization_id:
            raise NotFound(missing)
        ocpp_id = found.ocpp_id

        def request(uow: UnitOfWork, command_id: str, now: datetime) -> tuple[StationCommand, int | None]:
            session = session_of(uow)
            if session.ended:
                raise Conflict(f"session {session_id} has already ended")
            station = self._owned_station(uow, requester, ocpp_id)
            station.request_remote_stop(
                command_id=command_id,
                transaction_id=session.transaction_id,
                session_id=str(session.id),
                requested_by=requester.organization_id,
                client=requester.client,
                occurred_at=now,
            )
            return RemoteStop(session.transaction_id), None

        return await self._send(ocpp_id, request)

    async def change_availability(
        self, requester: Requester, ocpp_id: str, *, operative: bool, connector_id: int | None = None
    ) -> CommandResult:
        def request(uow: UnitOfWork, command_id: str, now: datetime) -> tuple[StationCommand, int | None]:
            self._owned_station(uow, requester, ocpp_id).request_availability(
                command_id=command_id,
                operative=operative,
                connector_id=connector_id,
                requested_by=requester.organization_id,
                client=requester.client,
                occurred_at=now,
            )
            return ChangeAvailability(operative, connector_id), None

        return await self._send(ocpp_id, request)

    async def reset(self, requester: Requester, ocpp_id: str, *, hard: bool) -> CommandResult:
        def request(uow: UnitOfWork, command_id: str, now: datetime) -> tuple[StationCommand, int | None]:
            self._owned_station(uow, requester, ocpp_id).request_reset(
                command_id=command_id,
                hard=hard,
                requested_by=requester.organization_id,
                client=requester.client,
                occurred_at=now,
            )
            return Reset(hard), None

        return await self._send(ocpp_id, request)

    async def unlock(self, requester: Requester, ocpp_id: str, *, connector_id: int) -> CommandResult:
        def request(uow: UnitOfWork, command_id: str, now: datetime) -> tuple[StationCommand, int | None]:
            self._owned_station(uow, requester, ocpp_id, connector_id).request_unlock(
                command_id=command_id,
                connector_id=connector_id,
                requested_by=requester.organization_id,
                client=requester.client,
                occurred_at=now,
            )
            return UnlockConnector(connector_id), None

        return await self._send(ocpp_id, request)

    # -- helpers -----------------------------------------------------------------------------

    async def _send(self, ocpp_id: str, request: Request) -> CommandResult:
        """Record the request, deliver it, record how it ended."""
        if not self._stations.reachable():
            raise CommandsUnavailable(
                "station commands need the gateway role in this process (routing them to other"
                " nodes over NATS is not built yet)"
            )
        command_id = str(self._new_command_id())
        (command, remote_start_id), _ = await self._writer(
            lambda uow: request(uow, command_id, self._clock())
        )
        # Once asked, a command's outcome is recorded even if its caller goes away meanwhile.
        delivered = asyncio.ensure_future(self._deliver(ocpp_id, command_id, command))
        delivery, stored = await asyncio.shield(delivered)
        return CommandResult(command_id, ocpp_id, delivery, Written(command_id, stored), remote_start_id)

    async def _deliver(
        self, ocpp_id: str, command_id: str, command: StationCommand
    ) -> tuple[Delivery, Stored | None]:
        try:
            delivery = await self._stations.deliver(ocpp_id, command)
        except Exception:
            log.exception("%s: delivering %s failed", ocpp_id, type(command).__name__)
            delivery = Delivery.failed("InternalError", "the central system failed to send the command")

        def answered(uow: UnitOfWork) -> None:
            uow.get(Station, station_id(ocpp_id), f"unknown station {ocpp_id!r}").record_answer(
                command_id=command_id,
                outcome=delivery.outcome,
                charger_status=delivery.charger_status,
                detail=delivery.detail,
                occurred_at=self._clock(),
            )

        _, stored = await self._writer(answered)
        return delivery, stored

    @staticmethod
    def _owned_station(
        uow: UnitOfWork, requester: Requester, ocpp_id: str, connector_id: int | None = None
    ) -> Station:
        """The organization's station; with `connector_id`, a charge point it was commissioned
        with (addressed in a path: any other is not found)."""
        station = owned(
            uow, Station, station_id(ocpp_id), requester.organization_id, f"station {ocpp_id!r} not found"
        )
        if connector_id is not None and not station.is_commissioned(connector_id):
            raise NotFound(
                f"station {ocpp_id!r} has no charge point {connector_id} (1..{station.connectors})"
            )
        return station

    def _new_command_id(self) -> UUID:
        return uuid4()


def scan2pay_tag(command_id: str) -> str:
    """The token a Scan2Pay start is sent with: made from its command's random id, 20 characters
    (1.6's idTag length), so that no driver's card can be it and nobody can guess it."""
    return SCAN2PAY_TAG_PREFIX + UUID(command_id).hex[:17].upper()
