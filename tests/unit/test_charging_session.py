"""Sessions, meter readings and the authorization outcome, without IO."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cpms.aggregates.authorization import authorize_card, is_listed
from cpms.aggregates.charging_session import ChargingSession, TransactionIds
from cpms.aggregates.errors import InvalidValue
from cpms.aggregates.meter import MAX_READING, meter_reading

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def _session() -> ChargingSession:
    return ChargingSession.start(
        ocpp_id="CP-1",
        transaction_id="7",
        organization_id="org",
        site_id="site",
        connector_id=1,
        evse_id=None,
        meter_start_wh=100,
        started_at=T0,
        authorization={"status": "Invalid"},
    )


@pytest.mark.parametrize("value", [-1, float("nan"), "12", True])
def test_meter_start_must_be_a_non_negative_number(value):
    with pytest.raises(InvalidValue):
        meter_reading(value, "meterStart")


@pytest.mark.parametrize("value", [0, MAX_READING, 123.5])
def test_meter_start_within_the_physical_bound_is_accepted(value):
    assert meter_reading(value, "meterStart") == value


@pytest.mark.parametrize("value", [MAX_READING + 1, 2**63 - 1, 1e300])
def test_meter_start_beyond_the_physical_bound_is_refused(value):
    with pytest.raises(InvalidValue, match="meterStop must be a number of Wh from 0 to 1,000,000,000,000"):
        meter_reading(value, "meterStop")


def test_a_session_ends_once():
    session = _session()
    session.end(meter_stop_wh=500, ended_at=T0, stop_reason="Local", token=None)
    session.end(meter_stop_wh=900, ended_at=T0, stop_reason="Local", token=None)
    names = [type(e).__name__ for e in session.collect_events()]
    assert names == ["TransactionStarted", "TransactionEnded"]


def test_no_meter_values_record_nothing():
    session = _session()
    session.record_readings([])
    assert [type(e).__name__ for e in session.collect_events()] == ["TransactionStarted"]


def test_transaction_ids_count_up_from_one():
    ids = TransactionIds()
    ids.allocate()
    ids.allocate()
    assert ids.last == 2


class _Group:
    def __init__(self, name, cards):
        self.id, self.name, self.organization_id, self._cards = name + "-id", name, "org", cards

    def find_card(self, uid):
        return self._cards.get(uid.upper())


def test_the_first_group_holding_the_card_authorizes_it():
    groups = [_Group("A", {}), _Group("B", {"CARD": {"uid": "card", "label": "L"}})]
    auth = authorize_card("card", groups)
    assert auth.accepted and auth.method == "rfid"
    assert (auth.access_group_id, auth.card_label) == ("B-id", "L")
    assert is_listed(auth.as_dict())


def test_an_unknown_card_is_invalid_and_not_listed():
    auth = authorize_card("nobody", [_Group("A", {})])
    assert auth.status == "Invalid" and auth.method is None
    assert not is_listed(auth.as_dict())
