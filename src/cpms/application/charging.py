"""Charging: authorizing tokens and following transactions from start to end."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from cpms.aggregates.access_group import AccessGroup
from cpms.aggregates.authorization import PENDING, Authorization, authorize_card
from cpms.aggregates.charging_session import (
    TRANSACTION_IDS,
    ChargingSession,
    StartRequest,
    TransactionIds,
    session_id,
    start_request_key,
)
from cpms.aggregates.meter import Sample, energy_register_wh, meter_reading
from cpms.aggregates.station import Station, station_id
from cpms.application.base import Commands, Written
from cpms.infra.writer import UnitOfWork


@dataclass(frozen=True)
class AuthorizationOutcome:
    """What a station is told of a token; the card, its group and the rest stay in the events."""

    accepted: bool


ACCEPTED = AuthorizationOutcome(accepted=True)
REFUSED = AuthorizationOutcome(accepted=False)


def outcome_of(authorization: Authorization) -> AuthorizationOutcome:
    return ACCEPTED if authorization.accepted else REFUSED


class ChargingCommands(Commands):
    async def authorize(self, ocpp_id: str, id_tag: str) -> AuthorizationOutcome:
        """An Authorize request: decide, and record the request with its outcome."""

        def command(uow: UnitOfWork) -> AuthorizationOutcome:
            station = self._station(uow, ocpp_id)
            authorization = self._authorization(uow, station, id_tag)
            station.record_authorization(authorization=authorization.as_dict(), occurred_at=self._clock())
            return outcome_of(authorization)

        outcome, _ = await self._writer(command)
        return outcome

    async def start_transaction(
        self,
        ocpp_id: str,
        *,
        connector_id: int,
        id_tag: str,
        meter_start: Any,
        started_at: datetime,
        request_key: str,
    ) -> tuple[str, AuthorizationOutcome]:
        """OCPP 1.6 StartTransaction: the central system assigns the id, authorized or not.

        `request_key` identifies the message's content: a retry gets the same id back.
        """

        def command(uow: UnitOfWork) -> tuple[str, AuthorizationOutcome]:
            station = self._station(uow, ocpp_id)
            # Refused before an id is allocated, so a refusal spends none.
            station.require_connector(connector_id)
            meter_reading(meter_start, "meterStart")
            start_key = start_request_key(ocpp_id, request_key)
            earlier = uow.find(StartRequest, StartRequest.create_id(start_key))
            if earlier is not None:
                session = uow.get(ChargingSession, session_id(ocpp_id, earlier.transaction_id), "")
                return earlier.transaction_id, outcome_of(Authorization.from_dict(session.authorization))
            authorization = self._authorization(uow, station, id_tag)
            transaction_id = self._next_transaction_id(uow)
            uow.add(
                ChargingSession.start(
                    ocpp_id=ocpp_id,
                    transaction_id=transaction_id,
                    organization_id=station.organization_id,
                    site_id=station.site_id,
                    connector_id=connector_id,
                    evse_id=station.evse_id(connector_id),
                    meter_start_wh=meter_start,
                    started_at=started_at,
                    authorization=authorization.as_dict(),
                )
            )
            uow.add(StartRequest(key=start_key, ocpp_id=ocpp_id, transaction_id=transaction_id))
            return transaction_id, outcome_of(authorization)

        (transaction_id, outcome), _ = await self._writer(command)
        return transaction_id, outcome

    async def record_meter_values(
        self,
        ocpp_id: str,
        *,
        connector_id: int,
        transaction_id: str | None,
        samples: Sequence[Sample],
    ) -> Written:
        """MeterValues (1.6 connectorId, 2.0.1 evseId; 0 is the station's own meter): a
        transaction's readings are kept with its session, others are not kept yet. Either way
        the connector must be one the station was commissioned with."""

        def command(uow: UnitOfWork) -> str:
            self._station(uow, ocpp_id).require_connector(connector_id, or_station=True)
            if transaction_id is None:
                return ocpp_id
            session = self._session(uow, ocpp_id, transaction_id)
            session.record_meter_values(samples)
            return str(session.id)

        written_id, stored = await self._writer(command)
        return Written(written_id, stored)

    async def stop_transaction(
        self,
        ocpp_id: str,
        *,
        transaction_id: str,
        meter_stop: Any,
        ended_at: datetime,
        stop_reason: str | None,
        id_tag: str | None,
        samples: Sequence[Sample],
    ) -> AuthorizationOutcome | None:
        """End a transaction with its last readings; what the stopping token may do is returned."""

        def command(uow: UnitOfWork) -> AuthorizationOutcome | None:
            session = self._session(uow, ocpp_id, transaction_id)
            session.record_meter_values(samples)
            session.end(meter_stop_wh=meter_stop, ended_at=ended_at, stop_reason=stop_reason, id_tag=id_tag)
            if id_tag is None:
                return None
            return outcome_of(self._authorization(uow, self._station(uow, ocpp_id), id_tag))

        outcome, _ = await self._writer(command)
        return outcome

    async def transaction_event(
        self,
        ocpp_id: str,
        *,
        event_type: str,
        seq_no: int,
        transaction_id: str,
        occurred_at: datetime,
        trigger_reason: str,
        charging_state: str | None,
        stopped_reason: str | None,
        id_token: str | None,
        evse: int | None,
        samples: Sequence[Sample],
        ocpp_version: str,
        evse_connector: int | None = None,
    ) -> AuthorizationOutcome | None:
        """OCPP 2.0.1 TransactionEvent, in whatever order they arrive; a retry changes nothing.

        Returns the authorization of the token the message carried, if any.
        """

        def command(uow: UnitOfWork) -> AuthorizationOutcome | None:
            station = self._station(uow, ocpp_id)
            if evse is not None:
                station.require_connector(evse, within_evse=evse_connector)
            authorization = self._authorization(uow, station, id_token) if id_token else None
            reading = energy_register_wh(sample.as_dict() for sample in samples)
            session = uow.find(ChargingSession, session_id(ocpp_id, transaction_id))
            if session is None:
                session = ChargingSession.start(
                    ocpp_id=ocpp_id,
                    transaction_id=transaction_id,
                    organization_id=station.organization_id,
                    site_id=station.site_id,
                    connector_id=evse or 0,
                    evse_id=station.evse_id(evse or 0),
                    meter_start_wh=reading[1] if reading and event_type == "Started" else None,
                    started_at=occurred_at,
                    authorization=(authorization or Authorization(id_tag="", status=PENDING)).as_dict(),
                    ocpp_version=ocpp_version,
                    seq_no=seq_no,
                    charging_state=charging_state,
                )
                uow.add(session)
            elif session.has_seen(seq_no):
                return None if authorization is None else outcome_of(authorization)
            elif event_type == "Started":
                session.report_start(
                    started_at=occurred_at, meter_start_wh=reading[1] if reading else None, seq_no=seq_no
                )
            if authorization is not None and not Authorization.from_dict(session.authorization).accepted:
                session.authorize(authorization.as_dict(), seq_no)
            session.record_meter_values(samples, seq_no)
            session.change_charging_state(
                charging_state=charging_state,
                trigger_reason=trigger_reason,
                occurred_at=occurred_at,
                seq_no=seq_no,
            )
            if event_type == "Ended":
                session.end(
                    meter_stop_wh=reading[1] if reading else session.reached_wh,
                    ended_at=occurred_at,
                    stop_reason=stopped_reason or "Local",
                    id_tag=id_token,
                    seq_no=seq_no,
                )
            return None if authorization is None else outcome_of(authorization)

        outcome, _ = await self._writer(command)
        return outcome

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _station(uow: UnitOfWork, ocpp_id: str) -> Station:
        return uow.get(Station, station_id(ocpp_id), f"unknown station {ocpp_id!r}")

    @staticmethod
    def _session(uow: UnitOfWork, ocpp_id: str, transaction_id: str) -> ChargingSession:
        return uow.get(
            ChargingSession,
            session_id(ocpp_id, transaction_id),
            f"unknown transaction {transaction_id!r} at station {ocpp_id!r}",
        )

    @staticmethod
    def _authorization(uow: UnitOfWork, station: Station, id_tag: str) -> Authorization:
        """The rules of PRODUCT.md section 2, in order; roaming plugs in after the cards."""
        groups = [
            group
            for group_id in station.access_group_ids
            if (group := uow.find(AccessGroup, UUID(group_id))) is not None
            and group.organization_id == station.organization_id
        ]
        return authorize_card(id_tag, groups)

    @staticmethod
    def _next_transaction_id(uow: UnitOfWork) -> str:
        ids = uow.find(TransactionIds, TRANSACTION_IDS)
        if ids is None:
            ids = TransactionIds()
            uow.add(ids)
        ids.allocate()
        return str(ids.last)
