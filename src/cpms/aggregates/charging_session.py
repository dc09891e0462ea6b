"""Charging sessions: one OCPP transaction each, from start to end, with its meter readings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from cpms.aggregates.charge_point import STOPPING_TRIGGERS
from cpms.aggregates.errors import InvalidValue
from cpms.aggregates.meter import Sample, energy_register_wh, meter_reading

SESSION_NAMESPACE = uuid5(NAMESPACE_URL, "cpms:charging-session")
START_NAMESPACE = uuid5(NAMESPACE_URL, "cpms:start-transaction")
TRANSACTION_IDS = uuid5(NAMESPACE_URL, "cpms:transaction-ids")


def session_id(ocpp_id: str, transaction_id: str) -> UUID:
    """Transaction ids are unique per station (1.6: ours; 2.0.1: the station's)."""
    return uuid5(SESSION_NAMESPACE, f"{ocpp_id}|{transaction_id}")


class ChargingSession(Aggregate):
    """One transaction. On 1.6 its messages come in order; on 2.0.1 TransactionEvents may not:
    whichever arrives first opens the session, and each later one adds what it tells. Every
    event of a 2.0.1 message carries its `seq_no`, so a retried message changes nothing."""

    if TYPE_CHECKING:  # classes that eventsourcing's @event creates at runtime; projections match on them
        TransactionStarted: type[Any]
        MeterValuesRecorded: type[Any]
        TransactionAuthorized: type[Any]
        TransactionStartReported: type[Any]
        ChargingStateChanged: type[Any]
        TransactionEnded: type[Any]

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
        charging_state: str | None = None,
    ) -> ChargingSession:
        if connector_id < 0 or (connector_id == 0 and seq_no is None):
            raise InvalidValue("a transaction runs on a connector numbered from 1")
        return cls(
            ocpp_id=ocpp_id,
            transaction_id=transaction_id,
            organization_id=organization_id,
            site_id=site_id,
            connector_id=connector_id,
            evse_id=evse_id,
            # 2.0.1 may begin with no reading: the first register reading then stands for it.
            meter_start_wh=None
            if meter_start_wh is None and seq_no is not None
            else meter_reading(meter_start_wh, "meterStart"),
            started_at=started_at,
            authorization=authorization,
            ocpp_version=ocpp_version,
            seq_no=seq_no,
            charging_state=charging_state,
        )

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
        charging_state: str | None = None,
    ) -> None:
        self.ocpp_id = ocpp_id
        self.transaction_id = transaction_id
        self.organization_id = organization_id
        self.connector_id = connector_id
        self.meter_start_wh = meter_start_wh
        self.started_at = started_at
        self.authorization = authorization
        self.charging_state = charging_state
        self.last_register_wh: float | None = None
        self.ended = False
        self.seq_nos: list[int] = []
        self._saw(seq_no)

    def has_seen(self, seq_no: int) -> bool:
        return seq_no in self.seq_nos

    def _saw(self, seq_no: int | None) -> None:
        if seq_no is not None and seq_no not in self.seq_nos:
            self.seq_nos.append(seq_no)

    def record_meter_values(self, samples: Sequence[Sample], seq_no: int | None = None) -> None:
        """Record what the meter measured; no samples, nothing recorded."""
        if samples:
            self._meter_values_recorded(samples=[sample.as_dict() for sample in samples], seq_no=seq_no)

    @event("MeterValuesRecorded")
    def _meter_values_recorded(self, samples: list[dict[str, Any]], seq_no: int | None = None) -> None:
        reading = energy_register_wh(samples)
        if reading is not None:
            self.last_register_wh = reading[1]
        self._saw(seq_no)

    @property
    def reached_wh(self) -> float:
        """The register as last read: the meter stop of a 2.0.1 Ended that carries no reading."""
        for value in (self.last_register_wh, self.meter_start_wh):
            if value is not None:
                return value
        return 0.0

    def authorize(self, authorization: dict[str, Any], seq_no: int | None = None) -> None:
        """2.0.1: the token came after the transaction began (e.g. plugged in, then badged)."""
        if authorization != self.authorization:
            self._authorized(authorization=authorization, seq_no=seq_no)

    @event("TransactionAuthorized")
    def _authorized(self, authorization: dict[str, Any], seq_no: int | None = None) -> None:
        self.authorization = authorization
        self._saw(seq_no)

    def report_start(self, *, started_at: datetime, meter_start_wh: Any, seq_no: int | None) -> None:
        """2.0.1: the Started event arrived after later ones; it tells when it really began."""
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

    def change_charging_state(
        self, *, charging_state: str | None, trigger_reason: str, occurred_at: datetime, seq_no: int | None
    ) -> None:
        """2.0.1: energy started or stopped flowing, or a stop was requested."""
        if charging_state == self.charging_state and trigger_reason not in STOPPING_TRIGGERS:
            return
        self._charging_state_changed(
            charging_state=charging_state or self.charging_state,
            trigger_reason=trigger_reason,
            occurred_at=occurred_at,
            seq_no=seq_no,
        )

    @event("ChargingStateChanged")
    def _charging_state_changed(
        self, charging_state: str | None, trigger_reason: str, occurred_at: datetime, seq_no: int | None
    ) -> None:
        self.charging_state = charging_state
        self._saw(seq_no)

    def end(
        self,
        *,
        meter_stop_wh: Any,
        ended_at: datetime,
        stop_reason: str | None,
        id_tag: str | None,
        seq_no: int | None = None,
    ) -> None:
        """End the transaction; a repeated stop (a retry) ends nothing twice."""
        if self.ended:
            return
        self._ended(
            meter_stop_wh=meter_reading(meter_stop_wh, "meterStop"),
            ended_at=ended_at,
            stop_reason=stop_reason,
            id_tag=id_tag,
            seq_no=seq_no,
        )

    @event("TransactionEnded")
    def _ended(
        self,
        meter_stop_wh: float,
        ended_at: datetime,
        stop_reason: str | None,
        id_tag: str | None,
        seq_no: int | None = None,
    ) -> None:
        self.ended = True
        self._saw(seq_no)


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
