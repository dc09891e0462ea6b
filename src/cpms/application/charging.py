"""Charging: authorizing tokens and following transactions from start to end.

The commands speak the portal's language whatever protocol a station speaks: a charge point
number, a token, readings in base units. Transactions come in two kinds: those the central system
numbers (`start_transaction`, `record_readings`, `stop_transaction`) and those the station
numbers and reports on in messages that may arrive in any order (`report_transaction`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from cpms.aggregates.access_group import AccessGroup
from cpms.aggregates.authorization import Authorization, RoamingDecision, authorize_card, authorize_scan2pay
from cpms.aggregates.charge_point_transactions import ChargePointTransactions
from cpms.aggregates.charging_session import (
    TRANSACTION_IDS,
    ChargingSession,
    Stage,
    StartRequest,
    TransactionIds,
    TransactionReport,
    session_id,
    start_request_key,
)
from cpms.aggregates.meter import Sample, meter_reading
from cpms.aggregates.station import PendingStart, Station, station_id
from cpms.application.base import Commands, Written
from cpms.application.roaming_authorization import (
    Decided,
    NeedsRealtime,
    RealtimeAuthorizer,
    authorize_roaming,
    no_realtime,
)
from cpms.infra.writer import UnitOfWork

T = TypeVar("T")
Answer = tuple[RoamingDecision, ...] | None


@dataclass(frozen=True)
class AuthorizationOutcome:
    """What a station is told of a token; the card, its group and the rest stay in the events."""

    accepted: bool
    known: bool = False  # refused, by a roaming partner that knows the token


ACCEPTED = AuthorizationOutcome(accepted=True)
REFUSED = AuthorizationOutcome(accepted=False)
REFUSED_KNOWN = AuthorizationOutcome(accepted=False, known=True)


def outcome_of(authorization: Authorization, *, known: bool = False) -> AuthorizationOutcome:
    if authorization.accepted:
        return ACCEPTED
    return REFUSED_KNOWN if known else REFUSED


def decided_outcome(decided: Decided) -> AuthorizationOutcome:
    return outcome_of(decided.authorization, known=decided.known)


def scan2pay_authorization(token: str, pending: PendingStart) -> Authorization:
    assert pending.scan2pay is not None
    return authorize_scan2pay(
        token, command_id=pending.command_id, payment_reference=pending.scan2pay["payment_reference"]
    )


class ChargingCommands(Commands):
    _realtime: RealtimeAuthorizer = staticmethod(no_realtime)  # type: ignore[assignment]

    async def authorize(self, ocpp_id: str, token: str) -> AuthorizationOutcome:
        """A token presented at a station: decide, and record the request with its outcome."""

        def command(uow: UnitOfWork, answer: Answer) -> AuthorizationOutcome | NeedsRealtime:
            station = self._station(uow, ocpp_id)
            now = self._clock()
            awaited = station.awaited_scan2pay(token, now)
            decided = (
                self._authorization(uow, station, token, answer=answer)
                if awaited is None
                else Decided(scan2pay_authorization(token, awaited))
            )
            if isinstance(decided, NeedsRealtime):
                return decided
            decided.record(station, now)
            station.record_authorization(authorization=decided.authorization.as_dict(), occurred_at=now)
            return decided_outcome(decided)

        return await self._deciding(command)

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

        def command(uow: UnitOfWork, answer: Answer) -> tuple[str, AuthorizationOutcome] | NeedsRealtime:
            station = self._station(uow, ocpp_id)
            # Refused before an id is allocated, so a refusal spends none.
            station.require_connector(connector_id)
            meter_reading(meter_start_wh, "meterStart")
            start_key = start_request_key(ocpp_id, request_key)
            earlier = uow.find(StartRequest, StartRequest.create_id(start_key))
            if earlier is not None:
                session = uow.get(ChargingSession, session_id(ocpp_id, earlier.transaction_id), "")
                return earlier.transaction_id, outcome_of(Authorization.from_dict(session.authorization))
            pending = station.remote_start_for(connector_id, token, None, self._clock())
            decided = self._start_authorization(uow, station, token, connector_id, pending, answer)
            if isinstance(decided, NeedsRealtime):
                return decided  # nothing written yet: asked outside, then run again with the answer
            decided.record(station, self._clock())
            authorization = decided.authorization
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
            self._answer_remote_start(station, session, pending)
            return transaction_id, decided_outcome(decided)

        return await self._deciding(command)

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
            # The stopping token is told what it may do; no partner is asked nor decision
            # recorded for it (it starts nothing), and the session's own token stays accepted
            # (a Scan2Pay token, which no rule knows, among them).
            own = Authorization.from_dict(session.authorization)
            if own.accepted and own.token.upper() == token.upper():
                return ACCEPTED
            decided = self._authorization(uow, self._station(uow, ocpp_id), token, session=session)
            return REFUSED if isinstance(decided, NeedsRealtime) else outcome_of(decided.authorization)

        outcome, _ = await self._writer(command)
        return outcome

    async def report_transaction(
        self, ocpp_id: str, report: TransactionReport, *, ocpp_version: str
    ) -> AuthorizationOutcome | None:
        """A station's report on a transaction it numbers, in whatever order reports arrive; a
        retried one changes nothing. Returns the outcome of the token it carried, if any."""

        def command(uow: UnitOfWork, answer: Answer) -> AuthorizationOutcome | NeedsRealtime | None:
            station = self._station(uow, ocpp_id)
            if report.connector_id is not None:
                station.require_connector(report.connector_id, within_evse=report.ocpp_connector_id)
            session = uow.find(ChargingSession, session_id(ocpp_id, report.transaction_id))
            connector_id = report.connector_id or (session.connector_id if session else None)
            pending = None
            if session is None or report.stage is Stage.STARTED:
                pending = station.remote_start_for(
                    connector_id, report.token, report.remote_start_id, self._clock()
                )
            decided: Decided | None = None
            if report.token or (pending is not None and pending.scan2pay is not None):
                deciding = self._start_authorization(
                    uow, station, report.token or "", connector_id, pending, answer, session=session
                )
                if isinstance(deciding, NeedsRealtime):
                    return deciding
                decided = deciding
                decided.record(station, self._clock())
            authorization = None if decided is None else decided.authorization
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
            self._answer_remote_start(station, session, pending)
            return None if decided is None else decided_outcome(decided)

        return await self._deciding(command)

    # -- helpers -----------------------------------------------------------------------------

    async def _deciding(self, command: Callable[[UnitOfWork, Answer], T | NeedsRealtime]) -> T:
        """Run a command that authorizes a token. When only a roaming partner's real-time answer
        can decide, the first run writes nothing and says whom to ask; they are asked here, on
        the event loop and outside any unit of work (the writer and other chargers never wait
        on an eMSP), and the command runs again with their answer, which it records."""
        result, _ = await self._writer(lambda uow: command(uow, None))
        if not isinstance(result, NeedsRealtime):
            return result
        answer = await self._realtime(result.request)
        result, _ = await self._writer(lambda uow: command(uow, answer))
        if isinstance(result, NeedsRealtime):  # cannot happen: an answer always decides
            raise RuntimeError("a roaming decision was asked for twice")
        return result

    def _start_authorization(
        self,
        uow: UnitOfWork,
        station: Station,
        token: str,
        connector_id: int | None,
        pending: PendingStart | None,
        answer: Answer,
        *,
        session: ChargingSession | None = None,
    ) -> Decided | NeedsRealtime:
        """A transaction's token: a Scan2Pay start's own is paid for; any other is decided by the
        rules, and one a remote start sent keeps the link to its command."""
        if pending is not None and pending.scan2pay is not None:
            return Decided(scan2pay_authorization(token or pending.id_tag, pending))
        decided = self._authorization(
            uow, station, token, connector_id=connector_id, session=session, answer=answer
        )
        if pending is None or isinstance(decided, NeedsRealtime):
            return decided
        return replace(decided, authorization=decided.authorization.started_by(pending.command_id))

    def _answer_remote_start(
        self, station: Station, session: ChargingSession, pending: PendingStart | None
    ) -> None:
        """The remote start a transaction answers is used up, and a Scan2Pay session says so."""
        if pending is None:
            return
        now = self._clock()
        station.take_remote_start(pending, transaction_id=session.transaction_id, occurred_at=now)
        if pending.scan2pay is not None:
            session.note_scan2pay(
                command_id=pending.command_id,
                payment_reference=pending.scan2pay["payment_reference"],
                amount=pending.scan2pay.get("amount"),
                currency=pending.scan2pay.get("currency"),
                occurred_at=session.started_at,
            )

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

    def _authorization(
        self,
        uow: UnitOfWork,
        station: Station,
        token: str,
        *,
        connector_id: int | None = None,
        session: ChargingSession | None = None,
        answer: Answer = None,
    ) -> Decided | NeedsRealtime:
        """The rules of PRODUCT.md section 2, in order: a card of the station's access groups;
        where roaming is enabled, the partners (`roaming_authorization.py`); else Invalid. A card
        that matches, or a station without roaming, costs no lookup beyond the groups."""
        groups = [
            group
            for group_id in station.access_group_ids
            if (group := uow.find(AccessGroup, UUID(group_id))) is not None
            and group.organization_id == station.organization_id
        ]
        authorization = authorize_card(token, groups)
        if authorization.accepted or not station.roaming_enabled:
            return Decided(authorization)
        return authorize_roaming(
            uow,
            station,
            token,
            now=self._clock(),
            connector_id=connector_id,
            session=session,
            answer=answer,
        )

    @staticmethod
    def _next_transaction_id(uow: UnitOfWork) -> str:
        ids = uow.find(TransactionIds, TRANSACTION_IDS)
        if ids is None:
            ids = TransactionIds()
            uow.add(ids)
        ids.allocate()
        return str(ids.last)
