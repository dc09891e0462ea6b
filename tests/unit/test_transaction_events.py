"""A 2.0.1 TransactionEvent read into the portal's terms, and the session such reports build in
whatever order they arrive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cpms.aggregates.authorization import authorize_card
from cpms.aggregates.charge_point import ChargingPhase
from cpms.aggregates.charging_session import ChargingSession, Stage, TransactionReport
from cpms.aggregates.errors import InvalidValue
from cpms.aggregates.meter import sample
from cpms.gateway.transaction_events import transaction_report

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def _event(event_type: str = "Updated", trigger_reason: str = "MeterValuePeriodic", **fields: Any) -> dict:
    event: dict[str, Any] = {
        "event_type": event_type,
        "timestamp": "2026-11-23T08:00:00Z",
        "trigger_reason": trigger_reason,
        "seq_no": 0,
        "transaction_info": {"transaction_id": "tx-1"},
        "id_token": None,
        "evse": None,
        "meter_value": None,
    }
    return event | fields


def test_the_evse_is_the_charge_point_and_its_connector_is_kept_beside_it():
    report = transaction_report(**_event(evse={"id": 2, "connector_id": 1}))
    assert (report.connector_id, report.ocpp_connector_id) == (2, 1)
    assert transaction_report(**_event()).connector_id is None


@pytest.mark.parametrize("state", ["EVConnected", "Charging", "SuspendedEV", "SuspendedEVSE", "Idle"])
def test_every_charging_state_is_a_charging_phase(state):
    info = {"transaction_id": "tx-1", "charging_state": state}
    assert transaction_report(**_event(transaction_info=info)).charging_phase == ChargingPhase(state)


@pytest.mark.parametrize(
    ("trigger", "stop_requested"),
    [("StopAuthorized", True), ("RemoteStop", True), ("Deauthorized", True), ("EVDeparted", False)],
)
def test_a_trigger_that_asks_for_a_stop_is_a_stop_request(trigger, stop_requested):
    assert transaction_report(**_event(trigger_reason=trigger)).stop_requested is stop_requested


def test_an_end_without_a_reason_is_2_0_1s_default_and_only_an_end_has_one():
    assert transaction_report(**_event("Ended")).stop_reason == "Local"
    stopped = {"transaction_id": "tx-1", "stopped_reason": "EVDisconnected"}
    assert transaction_report(**_event("Ended", transaction_info=stopped)).stop_reason == "EVDisconnected"
    assert transaction_report(**_event("Updated", transaction_info=stopped)).stop_reason is None


def test_only_a_card_kind_of_token_is_a_token_to_authorize():
    card = transaction_report(**_event(id_token={"id_token": "A1B2", "type": "ISO14443"}))
    contract = transaction_report(**_event(id_token={"id_token": "FR-ABC-C12345678-X", "type": "eMAID"}))
    assert (card.token, contract.token) == ("A1B2", None)


def test_meter_values_become_samples_in_base_units():
    sampled = {"value": 2, "unit_of_measure": {"unit": "kWh", "multiplier": 0}}
    report = transaction_report(
        **_event(meter_value=[{"timestamp": "2026-11-23T08:05:00Z", "sampled_value": [sampled]}])
    )
    assert [(s["value"], s["unit"]) for s in report.samples] == [(2000.0, "Wh")]


def test_a_seq_no_outside_its_range_is_refused():
    with pytest.raises(InvalidValue, match="seqNo"):
        transaction_report(**_event(seq_no=-1))


# -- the session that reports build ------------------------------------------------------------


class _Group:
    id, name, organization_id = "group-1", "Staff", "org"

    def find_card(self, uid):
        return {"uid": "A1B2", "label": "Bob's badge"} if uid.upper() == "A1B2" else None


def _report(
    seq_no: int, stage: Stage, minutes: int, wh: float | None = None, **fields: Any
) -> TransactionReport:
    at = T0 + timedelta(minutes=minutes)
    samples = () if wh is None else (sample(at, "Energy.Active.Import.Register", wh, "Wh"),)
    return TransactionReport("tx-1", seq_no, stage, at, samples=samples, **fields)


def _open(report: TransactionReport, authorization=None) -> ChargingSession:
    return ChargingSession.open(
        report,
        ocpp_id="CS-1",
        organization_id="org",
        site_id="site",
        evse_id=None,
        authorization=authorization,
        ocpp_version="ocpp2.0.1",
    )


def test_reports_out_of_order_build_the_session_the_ordered_ones_would():
    session = _open(_report(3, Stage.ENDED, 50, wh=9_000, stop_reason="Local"))
    session.follow(_report(1, Stage.ONGOING, 20, wh=3_000, charging_phase=ChargingPhase.CHARGING), None)
    session.follow(_report(0, Stage.STARTED, 0, wh=1_000, connector_id=2), None)
    assert (session.started_at, session.meter_start_wh, session.ended) == (T0, 1_000, True)
    assert session.charging_phase == ChargingPhase.CHARGING
    names = [type(e).__name__ for e in session.collect_events()]
    assert names[0] == "TransactionStarted" and names.count("TransactionEnded") == 1
    assert "TransactionStartReported" in names


def test_a_retried_report_changes_nothing():
    session = _open(_report(0, Stage.STARTED, 0, wh=1_000))
    session.follow(_report(1, Stage.ONGOING, 5, wh=2_000), None)
    session.collect_events()
    session.follow(_report(1, Stage.ONGOING, 5, wh=2_000), None)
    assert session.collect_events() == []


def test_a_card_presented_after_plug_in_authorizes_and_a_later_one_changes_nothing():
    session = _open(_report(0, Stage.STARTED, 0))
    assert session.authorization["status"] == "Pending"
    session.follow(_report(1, Stage.ONGOING, 1, token="a1b2"), authorize_card("a1b2", [_Group()]))
    session.follow(_report(2, Stage.ONGOING, 2, token="FFFF"), authorize_card("FFFF", [_Group()]))
    assert session.authorization["card_label"] == "Bob's badge"
    assert [type(e).__name__ for e in session.collect_events()].count("TransactionAuthorized") == 1


def test_an_end_without_a_reading_ends_at_the_register_as_last_read():
    session = _open(_report(0, Stage.STARTED, 0, wh=1_000))
    session.follow(_report(1, Stage.ONGOING, 30, wh=4_000), None)
    session.follow(_report(2, Stage.ENDED, 40, stop_reason="Local"), None)
    assert session.collect_events()[-1].meter_stop_wh == 4_000
