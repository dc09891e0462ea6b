"""A transaction beginning on a charge point supersedes the one the charger left open there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cpms.aggregates.charge_point_transactions import ChargePointTransactions
from cpms.aggregates.charging_session import SUPERSEDED, ChargingSession
from cpms.aggregates.meter import sample

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def _session(transaction_id: str, started_at: datetime, meter_start_wh: float = 1_000) -> ChargingSession:
    return ChargingSession.start(
        ocpp_id="CP-1",
        transaction_id=transaction_id,
        organization_id="org",
        site_id="site",
        connector_id=1,
        evse_id=None,
        meter_start_wh=meter_start_wh,
        started_at=started_at,
        authorization={"status": "Accepted"},
    )


def _names(session: ChargingSession) -> list[str]:
    return [type(e).__name__ for e in session.collect_events()]


def _charge_point() -> ChargePointTransactions:
    return ChargePointTransactions(ocpp_id="CP-1", connector_id=1)


def test_a_new_transaction_closes_the_open_one_at_its_last_reading_when_it_began():
    charge_point = _charge_point()
    lost = _session("1", T0)
    charge_point.begin(lost, None)
    lost.record_readings([sample(T0 + timedelta(minutes=20), "Energy.Active.Import.Register", 4_500, "Wh")])
    lost.collect_events()
    new = _session("2", T0 + timedelta(hours=1), meter_start_wh=5_000)

    charge_point.begin(new, lost)

    [superseded] = lost.collect_events()
    assert type(superseded).__name__ == "TransactionSuperseded"
    assert superseded.superseded_by == "2"
    assert (superseded.meter_stop_wh, superseded.ended_at) == (4_500, T0 + timedelta(hours=1))
    assert superseded.stop_reason == SUPERSEDED == "Superseded"
    assert lost.ended and charge_point.latest == "2"


def test_a_superseded_session_without_readings_ends_at_its_meter_start():
    charge_point = _charge_point()
    lost = _session("1", T0, meter_start_wh=1_000)
    charge_point.begin(lost, None)
    charge_point.begin(_session("2", T0 + timedelta(minutes=5)), lost)
    assert lost.collect_events()[-1].meter_stop_wh == 1_000


def test_a_session_that_ended_is_not_superseded():
    charge_point = _charge_point()
    done = _session("1", T0)
    charge_point.begin(done, None)
    done.end(meter_stop_wh=2_000, ended_at=T0 + timedelta(minutes=30), stop_reason="Local", token=None)
    charge_point.begin(_session("2", T0 + timedelta(hours=1)), done)
    assert _names(done) == ["TransactionStarted", "TransactionEnded"]
    assert charge_point.latest == "2"


def test_a_superseded_session_ends_once_when_its_late_stop_arrives():
    charge_point = _charge_point()
    lost = _session("1", T0)
    charge_point.begin(lost, None)
    charge_point.begin(_session("2", T0 + timedelta(hours=1)), lost)
    lost.end(meter_stop_wh=9_000, ended_at=T0 + timedelta(minutes=50), stop_reason="Local", token=None)
    assert _names(lost) == ["TransactionStarted", "TransactionSuperseded"]


def test_an_older_transaction_reported_late_supersedes_nothing():
    """2.0.1 reports may arrive in any order: the charge point stays with the newer transaction."""
    charge_point = _charge_point()
    newer = _session("tx-new", T0 + timedelta(hours=1))
    charge_point.begin(newer, None)
    charge_point.begin(_session("tx-old", T0), newer)
    assert _names(newer) == ["TransactionStarted"]
    assert charge_point.latest == "tx-new"


def test_the_charge_point_records_each_transaction_that_began_there():
    charge_point = _charge_point()
    first = _session("1", T0)
    charge_point.begin(first, None)
    charge_point.begin(_session("2", T0 + timedelta(hours=1)), first)
    names = [type(e).__name__ for e in charge_point.collect_events()]
    assert names == ["Created", "TransactionBegan", "TransactionBegan"]
    assert charge_point.id == ChargePointTransactions.create_id("CP-1", 1)
