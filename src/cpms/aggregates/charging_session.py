"""Charging sessions: one transaction each, from start to end, with its meter readings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from cpms.aggregates.authorization import ACCEPTED, NOT_YET_AUTHORIZED, Authorization
from cpms.aggregates.charge_point import ChargingPhase
from cpms.aggregates.errors import InvalidValue
from cpms.aggregates.meter import Sample, energy_register_wh, meter_reading
from cpms.aggregates.upcasting import (
    authorization_token_named,
    phase_change_in_portal_words,
    session_opened_in_portal_words,
    token_named,
    versioned,
)

SESSION_NAMESPACE = uuid5(NAMESPACE_URL, "cpms:charging-session")
START_NAMESPACE = uuid5(NAMESPACE_URL, "cpms:start-transaction")
TRANSACTION_IDS = uuid5(NAMESPACE_URL, "cpms:transaction-ids")
# The stop reason of a session closed because a newer transaction began on its charge point: no
# OCPP reason is spelled so, so it never passes for one a charger gave.
SUPERSEDED = "Superseded"


def session_id(ocpp_id: str, transaction_id: str) -> UUID:
    """Transaction ids are unique per station (ours when we number them, else the station's)."""
    return uuid5(SESSION_NAMESPACE, f"{ocpp_id}|{transaction_id}")


class Stage(StrEnum):
    """Where in its transaction a station's numbered message stands."""

    STARTED = "started"
    ONGOING = "ongoing"
    ENDED = "ended"


class TransactionReport(NamedTuple):
    """One message about a transaction the station numbers itself (OCPP 2.0.1 TransactionEvent),
    in the portal's terms. Such messages may arrive in any order and more than once: `seq_no`
    tells them apart, and each says only what it knows.

    A named tuple, immutable and made for every such message at half a frozen dataclass's cost."""

    transaction_id: str
    seq_no: int
    stage: Stage
    occurred_at: datetime
    connector_id: int | None = None  # the charge point, when the message names it
    ocpp_connector_id: int | None = None  # 2.0.1's connector within it: checked, not kept
    token: str | None = None  # a card's uid presented with this message
    remote_start_id: int | None = None  # the remote start it answers (2.0.1 remoteStartId)
    charging_phase: ChargingPhase | None = None
    stop_requested: bool = False
    stop_reason: str | None = None  # when it ended
    samples: tuple[Sample, ...] = ()


class ChargingSession(Aggregate):
    """One transaction. When we number it (OCPP 1.6) its messages come in order: `start`,
    `record_readings`, `end`. When the station numbers it (2.0.1), its reports may not:
    whichever arrives first opens the session (`open`), and each later one adds what it tells
    (`follow`). Every event of a report carries its `seq_no`, so a retried report changes nothing."""

    if TYPE_CHECKING:  # classes that eventsourcing's @event creates at runtime; projections match on them
        TransactionStarted: type[Any]
        MeterValuesRecorded: type[Any]
        TransactionAuthorized: type[Any]
        TransactionStartReported: type[Any]
        ChargingStateChanged: type[Any]
        TransactionEnded: type[Any]
        TransactionSuperseded: type[Any]
        RoamingSessionAuthorized: type[Any]
        Scan2PaySessionAuthorized: type[Any]

    @staticmethod
    def create_id(ocpp_id: str, transaction_id: str) -> UUID:
        return session_id(ocpp_id, transaction_id)

    @classmethod
    def start(
        cls,
        *,
        ocpp_id: str,
        transaction_id: str,
        organization_id: str,
        site_id: str,
        connector_id: int,
        evse_id: str | None,
        meter_start_wh: Any,
        started_at: datetime,
        authorization: dict[str, Any],
        ocpp_version: str = "ocpp1.6",
        seq_no: int | None = None,
        charging_phase: ChargingPhase | None = None,
    ) -> ChargingSession:
        if connector_id < 0 or (connector_id == 0 and seq_no is None):
            raise InvalidValue("a transaction runs on a connector numbered from 1")
        session = cls(
            ocpp_id=ocpp_id,
            transaction_id=transaction_id,
            organization_id=organization_id,
            site_id=site_id,
            connector_id=connector_id,
            evse_id=evse_id,
            # A station-numbered transaction may begin with no reading: its first register
            # reading then stands for it.
            meter_start_wh=None
            if meter_start_wh is None and seq_no is not None
            else meter_reading(meter_start_wh, "meterStart"),
            started_at=started_at,
            authorization=authorization,
            ocpp_version=ocpp_version,
            seq_no=seq_no,
            charging_phase=charging_phase,
        )
        session._note_roaming(started_at)
        return session

    @classmethod
    def open(
        cls,
        report: TransactionReport,
        *,
        ocpp_id: str,
        organization_id: str,
        site_id: str,
        evse_id: str | None,
        authorization: Authorization | None,
        ocpp_version: str,
    ) -> ChargingSession:
        """The session of a station-numbered transaction, opened by whichever of its reports
        arrived first; what that report tells beyond the opening is recorded as a later one's is."""
        readings = list(report.samples)
        reading = energy_register_wh(readings)
        session = cls.start(
            ocpp_id=ocpp_id,
            transaction_id=report.transaction_id,
            organization_id=organization_id,
            site_id=site_id,
            connector_id=report.connector_id or 0,
            evse_id=evse_id,
            meter_start_wh=reading[1] if reading and report.stage is Stage.STARTED else None,
            started_at=report.occurred_at,
            authorization=(authorization or NOT_YET_AUTHORIZED).as_dict(),
            ocpp_version=ocpp_version,
            seq_no=report.seq_no,
            charging_phase=report.charging_phase,
        )
        session._take(report, readings, authorization)
        return session

    @event("TransactionStarted")
    def __init__(
        self,
        ocpp_id: str,
        transaction_id: str,
        organization_id: str,
        site_id: str,
        connector_id: int,
        evse_id: str | None,
        meter_start_wh: float | None,
        started_at: datetime,
        authorization: dict[str, Any],
        ocpp_version: str = "ocpp1.6",
        seq_no: int | None = None,
        charging_phase: str | None = None,
    ) -> None:
        self.ocpp_id = ocpp_id
        self.transaction_id = transaction_id
        self.organization_id = organization_id
        self.connector_id = connector_id
        self.meter_start_wh = meter_start_wh
        self.started_at = started_at
        self.authorization = authorization
        self.charging_phase = charging_phase
        self.last_register_wh: float | None = None
        self.ended = False
        self.seq_nos: list[int] = []
        self._saw(seq_no)

    def follow(self, report: TransactionReport, authorization: Authorization | None) -> None:
        """A later report of a station-numbered transaction. One already seen (a retry) changes
        nothing; a late `STARTED` one tells when the transaction really began."""
        if self.has_seen(report.seq_no):
            return
        readings = list(report.samples)
        if report.stage is Stage.STARTED:
            reading = energy_register_wh(readings)
            self.report_start(
                started_at=report.occurred_at,
                meter_start_wh=reading[1] if reading else None,
                seq_no=report.seq_no,
            )
        self._take(report, readings, authorization)

    def _take(
        self, report: TransactionReport, readings: list[Sample], authorization: Authorization | None
    ) -> None:
        """What any report adds: a token accepted late, readings, the phase, the end."""
        if authorization is not None and self.authorization.get("status") != ACCEPTED:
            self.authorize(authorization.as_dict(), report.seq_no)
            self._note_roaming(report.occurred_at)
        self._record(readings, report.seq_no)
        self.change_phase(
            charging_phase=report.charging_phase,
            stop_requested=report.stop_requested,
            occurred_at=report.occurred_at,
            seq_no=report.seq_no,
        )
        if report.stage is Stage.ENDED:
            reading = energy_register_wh(readings)
            self.end(
                # An end that carries no reading ends at the register as last read.
                meter_stop_wh=reading[1] if reading else self.reached_wh,
                ended_at=report.occurred_at,
                stop_reason=report.stop_reason,
                token=report.token,
                seq_no=report.seq_no,
            )

    def has_seen(self, seq_no: int) -> bool:
        return seq_no in self.seq_nos

    def _saw(self, seq_no: int | None) -> None:
        if seq_no is not None and seq_no not in self.seq_nos:
            self.seq_nos.append(seq_no)

    def record_readings(self, samples: Sequence[Sample]) -> None:
        """Record what the meter measured; no samples, nothing recorded."""
        self._record(list(samples), None)

    def _record(self, readings: list[Sample], seq_no: int | None) -> None:
        if readings:
            self._readings_recorded(samples=readings, seq_no=seq_no)

    @event("MeterValuesRecorded")
    def _readings_recorded(self, samples: list[Sample], seq_no: int | None = None) -> None:
        reading = energy_register_wh(samples)
        if reading is not None:
            self.last_register_wh = reading[1]
        self._saw(seq_no)

    @property
    def reached_wh(self) -> float:
        """The register as last read."""
        for value in (self.last_register_wh, self.meter_start_wh):
            if value is not None:
                return value
        return 0.0

    def authorize(self, authorization: dict[str, Any], seq_no: int | None = None) -> None:
        """The token came after the transaction began (e.g. plugged in, then badged)."""
        if authorization != self.authorization:
            self._authorized(authorization=authorization, seq_no=seq_no)

    def _note_roaming(self, occurred_at: datetime) -> None:
        """A session a roaming partner authorized says so, with the partner and its reference."""
        auth = self.authorization
        if auth.get("status") != ACCEPTED or auth.get("method") != "roaming":
            return
        emsp = auth.get("emsp") or {}
        self._roaming_authorized(
            partner_id=auth["partner_id"],
            country_code=emsp["country_code"],
            party_id=emsp["party_id"],
            uid=auth["card_uid"],
            token_type=auth["token_type"],
            contract_id=auth.get("contract_id"),
            authorization_reference=auth.get("authorization_reference"),
            occurred_at=occurred_at,
        )

    @event("RoamingSessionAuthorized")
    def _roaming_authorized(
        self,
        partner_id: str,
        country_code: str,
        party_id: str,
        uid: str,
        token_type: str,
        contract_id: str | None,
        authorization_reference: str | None,
        occurred_at: datetime,
    ) -> None:
        pass

    def note_scan2pay(
        self,
        *,
        command_id: str,
        payment_reference: str,
        amount: str | None,
        currency: str | None,
        occurred_at: datetime,
    ) -> None:
        """A Scan2Pay start began this session: it says so, with its payment."""
        self._scan2pay_authorized(
            command_id=command_id,
            payment_reference=payment_reference,
            amount=amount,
            currency=currency,
            occurred_at=occurred_at,
        )

    @event("Scan2PaySessionAuthorized")
    def _scan2pay_authorized(
        self,
        command_id: str,
        payment_reference: str,
        amount: str | None,
        currency: str | None,
        occurred_at: datetime,
    ) -> None:
        pass

    @event("TransactionAuthorized")
    def _authorized(self, authorization: dict[str, Any], seq_no: int | None = None) -> None:
        self.authorization = authorization
        self._saw(seq_no)

    def report_start(self, *, started_at: datetime, meter_start_wh: Any, seq_no: int | None) -> None:
        """The report of the start arrived after later ones; it tells when it really began."""
        self._start_reported(
            started_at=started_at,
            meter_start_wh=None if meter_start_wh is None else meter_reading(meter_start_wh, "meterStart"),
            seq_no=seq_no,
        )

    @event("TransactionStartReported")
    def _start_reported(self, started_at: datetime, meter_start_wh: float | None, seq_no: int | None) -> None:
        self.started_at = min(self.started_at, started_at)
        if meter_start_wh is not None:
            self.meter_start_wh = meter_start_wh
        self._saw(seq_no)

    def change_phase(
        self,
        *,
        charging_phase: ChargingPhase | None,
        stop_requested: bool,
        occurred_at: datetime,
        seq_no: int | None,
    ) -> None:
        """Energy started or stopped flowing, or a stop was requested (each request is kept)."""
        if charging_phase == self.charging_phase and not stop_requested:
            return
        self._phase_changed(
            charging_phase=charging_phase or self.charging_phase,
            stop_requested=stop_requested,
            occurred_at=occurred_at,
            seq_no=seq_no,
        )

    @event("ChargingStateChanged")
    def _phase_changed(
        self, charging_phase: str | None, stop_requested: bool, occurred_at: datetime, seq_no: int | None
    ) -> None:
        self.charging_phase = charging_phase
        self._saw(seq_no)

    def end(
        self,
        *,
        meter_stop_wh: Any,
        ended_at: datetime,
        stop_reason: str | None,
        token: str | None,
        seq_no: int | None = None,
    ) -> None:
        """End the transaction; a repeated stop (a retry) ends nothing twice."""
        if self.ended:
            return
        self._ended(
            meter_stop_wh=meter_reading(meter_stop_wh, "meterStop"),
            ended_at=ended_at,
            stop_reason=stop_reason,
            token=token,
            seq_no=seq_no,
        )

    @event("TransactionEnded")
    def _ended(
        self,
        meter_stop_wh: float,
        ended_at: datetime,
        stop_reason: str | None,
        token: str | None,
        seq_no: int | None = None,
    ) -> None:
        self.ended = True
        self._saw(seq_no)

    def supersede(self, by: ChargingSession) -> None:
        """A newer transaction began on this session's charge point while it was still open: the
        charger lost this one. It ends when the newer one began, at the register as last read
        (its start when nothing was read); one already ended is left as it ended."""
        if self.ended:
            return
        self._superseded(
            superseded_by=by.transaction_id,
            meter_stop_wh=self.reached_wh,
            ended_at=by.started_at,
            stop_reason=SUPERSEDED,
        )

    @event("TransactionSuperseded")
    def _superseded(
        self, superseded_by: str, meter_stop_wh: float, ended_at: datetime, stop_reason: str
    ) -> None:
        self.ended = True


class StartRequest(Aggregate):
    """A StartTransaction as the charger sent it: a retry of the same message finds the same id."""

    @staticmethod
    def create_id(key: str) -> UUID:
        return uuid5(START_NAMESPACE, key)

    @event("TransactionIdAssigned")
    def __init__(self, key: str, ocpp_id: str, transaction_id: str) -> None:
        self.key = key
        self.ocpp_id = ocpp_id
        self.transaction_id = transaction_id


def start_request_key(ocpp_id: str, content: str) -> str:
    """A StartTransaction is the same message when the same station sends the same content."""
    return f"{ocpp_id}|{content}"


class TransactionIds(Aggregate):
    """The central system's transaction ids (OCPP 1.6): unique and never reused."""

    @staticmethod
    def create_id() -> UUID:
        return TRANSACTION_IDS

    @event("TransactionIdsStarted")
    def __init__(self) -> None:
        self.last = 0

    @event("TransactionIdAllocated")
    def allocate(self) -> None:
        self.last += 1


# Events stored before the attributes were named in the portal's words (see `upcasting.py`).
versioned(ChargingSession.TransactionStarted, session_opened_in_portal_words)
versioned(ChargingSession.TransactionAuthorized, authorization_token_named)
versioned(ChargingSession.ChargingStateChanged, phase_change_in_portal_words)
versioned(ChargingSession.TransactionEnded, token_named)
