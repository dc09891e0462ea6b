"""OCPP 2.0.1 TransactionEvent, read into the portal's terms: one `TransactionReport` a message.

What 2.0.1 says in its own words is translated here: the EVSE is the portal's charge point,
`chargingState` a charging phase, a `triggerReason` that asks for a stop a stop request, a
missing `stoppedReason` 2.0.1's default, an IdToken a card's uid (when it is a card).
"""

from __future__ import annotations

from typing import Any

from cpms.aggregates.charge_point import ChargingPhase
from cpms.aggregates.charging_session import Stage, TransactionReport
from cpms.gateway.framing import charger_time
from cpms.gateway.meter_values import meter_samples
from cpms.gateway.numbers import SEQ_NO_RANGE, protocol_integer
from cpms.gateway.tokens import card_token

STAGES = {"Started": Stage.STARTED, "Updated": Stage.ONGOING, "Ended": Stage.ENDED}
CHARGING_PHASES = {
    "EVConnected": ChargingPhase.EV_CONNECTED,
    "Charging": ChargingPhase.CHARGING,
    "SuspendedEV": ChargingPhase.SUSPENDED_EV,
    "SuspendedEVSE": ChargingPhase.SUSPENDED_EVSE,
    "Idle": ChargingPhase.IDLE,
}
# The triggers by which a driver, the central system or the station ends charging before the
# cable is out: the charge point reads Finishing from then on.
STOPPING_TRIGGERS = frozenset({"StopAuthorized", "RemoteStop", "Deauthorized"})
DEFAULT_STOPPED_REASON = "Local"  # what an Ended without `stoppedReason` means (2.0.1 E06)


def transaction_report(
    *,
    event_type: str,
    timestamp: str,
    trigger_reason: str,
    seq_no: int,
    transaction_info: dict[str, Any],
    id_token: dict[str, Any] | None,
    evse: dict[str, Any] | None,
    meter_value: list[dict[str, Any]] | None,
) -> TransactionReport:
    """The report a TransactionEvent makes (its fields as the `ocpp` package hands them over)."""
    stage = STAGES[event_type]  # the schema admits only these three
    stopped_reason = transaction_info.get("stopped_reason") or DEFAULT_STOPPED_REASON
    return TransactionReport(
        transaction_id=transaction_info["transaction_id"],
        seq_no=protocol_integer(seq_no, "seqNo", SEQ_NO_RANGE),
        stage=stage,
        occurred_at=charger_time(timestamp),
        connector_id=evse["id"] if evse else None,
        ocpp_connector_id=evse.get("connector_id") if evse else None,
        token=card_token(id_token) if id_token else None,
        remote_start_id=_remote_start_id(transaction_info.get("remote_start_id")),
        charging_phase=CHARGING_PHASES.get(transaction_info.get("charging_state") or ""),
        stop_requested=trigger_reason in STOPPING_TRIGGERS,
        stop_reason=stopped_reason if stage is Stage.ENDED else None,
        samples=tuple(meter_samples(meter_value or [])),
    )


def _remote_start_id(value: Any) -> int | None:
    return None if value is None else protocol_integer(value, "remoteStartId")
