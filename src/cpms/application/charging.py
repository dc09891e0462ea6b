"""Charging: authorizing tokens and following transactions from start to end.

The commands speak the portal's language whatever protocol a station speaks: a charge point
number, a token, readings in base units. Transactions come in two kinds: those the central system
numbers (`start_transaction`, `record_readings`, `stop_transaction`) and those the station
numbers and reports on in messages that may arrive in any order (`report_transaction`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from cpms.aggregates.access_group import AccessGroup
from cpms.aggregates.authorization import Authorization, authorize_card
from cpms.aggregates.charge_point_transactions import ChargePointTransactions
from cpms.aggregates.charging_session import (
    TRANSACTION_IDS,
    ChargingSession,
    StartRequest,
    TransactionIds,
    TransactionReport,
    session_id,
    start_request_key,
)
from cpms.aggregates.meter import Sample, meter_reading
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
    async def authorize(self, ocpp_id: str, token: str) -> AuthorizationOutcome:
        """A token presented at a station: decide, and record the request with its outcome."""

        def command(uow: UnitOfWork) -> AuthorizationOutcome:
            station = self._station(uow, ocpp_id)
            authorization = self._authorization(uow, station, token)
            station.record_authorization(authorization=authorization.as_dict(), occurred_at=self._clock())
            return outcome_of(authorization)

        outcome, _ = await self._writer(command)
        return outcome

    async def start_transaction(
        self,
        ocpp_id: str,
        *,
        connector_id: int,
        token: str,
        meter_start_wh: Any,
        started_at: datetime,
        request_key: str,
    ) -> tuple[str, AuthorizationOutcome]:
        """A transaction we number: the id is assigned whether the token is accepted or not.

        `request_key` identifies the message's content: a retry gets the same id back.
        """

        def command(uow: UnitOfWork) -> tuple[str, AuthorizationOutcome]:
            station = self._station(uow, ocpp_id)
            # Refused before an id is allocated, so a refusal spends none.
            station.require_connector(connector_id)
            meter_reading(meter_start_wh, "meterStart")
            start_key = start_request_key(ocpp_id, request_key)
            earlier = uow.find(StartRequest, StartRequest.create_id(start_key))
            if earlier is not None:
                session = uow.get(ChargingSession, session_id(ocpp_id, earlier.transaction_id), "")
                return earlier.transaction_id, outcome_of(Authorization.from_dict(session.authorization))
            authorization = self._authorization(uow, station, token)
            transaction_id = self._next_transaction_id(uow)
            session = ChargingSession.start(
                ocpp_id=ocpp_id,
                transaction_id=transaction_id,
                organization_id=station.organization_id,
                site_id=station.site_id,
                connector_id=connector_id,
                evse_id=station.evse_id(connector_id),
                meter_start_wh=meter_start_wh,
                started_at=started_at,
                authorization=authorization.as_dict(),
            )
            uow.add(session)
            uow.add(StartRequest(key=start_key, ocpp_id=ocpp_id, transaction_id=transaction_id))
            self._begin_on_charge_point(uow, session)
            return transaction_id, outcome_of(authorization)

        (transaction_id, outcome), _ = await self._writer(command)
        return transaction_id, outcome

    async def record_readings(
        self,
        ocpp_id: str,
        *,
        connector_id: int,
        transaction_id: str | None,
        samples: Sequence[Sample],
    ) -> Written:
        """Readings of a charge point (0: the station's own meter). A transaction's are kept
        with its session, others are not kept yet; either way the charge point must be one the
        station was commissioned with."""

        def command(uow: UnitOfWork) -> str:
            self._station(uow, ocpp_id).require_connector(connector_id, or_station=True)
            if transaction_id is None:
                return ocpp_id
            session = self._session(uow, ocpp_id, transaction_id)
            session.record_readings(samples)
            return str(session.id)

        written_id, stored = await self._writer(command)
        return Written(written_id, stored)

    async def stop_transaction(
        self,
        ocpp_id: str,
        *,
        transaction_id: str,
        meter_stop_wh: Any,
        ended_at: datetime,
        stop_reason: str | None,
        token: str | None,
        samples: Sequence[Sample],
    ) -> AuthorizationOutcome | None:
        """End a transaction we number, with its last readings; returns what the token that
        stopped it (if one did) may do."""

        def command(uow: UnitOfWork) -> AuthorizationOutcome | None:
            session = self._session(uow, ocpp_id, transaction_id)
            if not session.ended:  # a retried stop, or a late one of a superseded session, adds nothing
                session.record_readings(samples)
            session.end(meter_stop_wh=meter_stop_wh, ended_at=ended_at, stop_reason=stop_reason, token=token)
            if token is None:
                return None
            return outcome_of(self._authorization(uow, self._station(uow, ocpp_id), token))

        outcome, _ = await self._writer(command)
        return outcome

    async def report_transaction(
        self, ocpp_id: str, report: TransactionReport, *, ocpp_version: str
    ) -> AuthorizationOutcome | None:
        """A station's report on a transaction it numbers, in whatever order reports arrive; a
        retried one changes nothing. Returns the outcome of the token it carried, if any."""

        def command(uow: UnitOfWork) -> AuthorizationOutcome | None:
            station = self._station(uow, ocpp_id)
            if report.connector_id is not None:
                station.require_connector(report.connector_id, within_evse=report.ocpp_connector_id)
            authorization = self._authorization(uow, station, report.token) if report.token else None
            session = uow.find(ChargingSession, session_id(ocpp_id, report.transaction_id))
            if session is None:
                session = ChargingSession.open(
                    report,
                    ocpp_id=ocpp_id,
                    organization_id=station.organization_id,
                    site_id=station.site_id,
                    evse_id=station.evse_id(report.connector_id or 0),
                    authorization=authorization,
                    ocpp_version=ocpp_version,
                )
                uow.add(session)
                self._begin_on_charge_point(uow, session)
            else:
                session.follow(report, authorization)
            return None if authorization is None else outcome_of(authorization)

        outcome, _ = await self._writer(command)
        return outcome

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _begin_on_charge_point(uow: UnitOfWork, session: ChargingSession) -> None:
        """A transaction opening on a charge point supersedes the one the charger left open
        there, in the same write as its own start."""
        if session.connector_id < 1:
            return  # a station-numbered transaction whose reports have not named its EVSE yet
        key = ChargePointTransactions.create_id(session.ocpp_id, session.connector_id)
        charge_point = uow.find(ChargePointTransactions, key)
        if charge_point is None:
            charge_point = ChargePointTransactions(ocpp_id=session.ocpp_id, connector_id=session.connector_id)
            uow.add(charge_point)
        latest = None
        if charge_point.latest is not None:
            latest = uow.find(ChargingSession, session_id(session.ocpp_id, charge_point.latest))
        charge_point.begin(session, latest)

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
    def _authorization(uow: UnitOfWork, station: Station, token: str) -> Authorization:
        """The rules of PRODUCT.md section 2, in order; roaming plugs in after the cards."""
        groups = [
            group
            for group_id in station.access_group_ids
            if (group := uow.find(AccessGroup, UUID(group_id))) is not None
            and group.organization_id == station.organization_id
        ]
        return authorize_card(token, groups)

    @staticmethod
    def _next_transaction_id(uow: UnitOfWork) -> str:
        ids = uow.find(TransactionIds, TRANSACTION_IDS)
        if ids is None:
            ids = TransactionIds()
            uow.add(ids)
        ids.allocate()
        return str(ids.last)
