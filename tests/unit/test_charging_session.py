"""Sessions, meter readings and the authorization outcome, without IO."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cpms.aggregates.authorization import authorize_card, is_listed
from cpms.aggregates.charging_session import (
    MAX_READING,
    SEQ_NO_RANGE,
    ChargingSession,
    TransactionIds,
    energy_register_wh,
    meter_reading,
    parse_samples,
    protocol_integer,
    transaction_number,
)
from cpms.aggregates.errors import InvalidValue
from cpms.timestamps import parse_iso

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def _reading(value, unit=None, measurand="Energy.Active.Import.Register", **extra):
    sampled = {"value": value, "measurand": measurand, **extra}
    if unit:
        sampled["unit"] = unit
    return {"timestamp": "2026-11-23T08:10:00Z", "sampled_value": [sampled]}


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


@pytest.mark.parametrize(
    ("value", "unit", "wh"),
    [("1500", "Wh", 1500.0), ("1.5", "kWh", 1500.0), ("42", None, 42.0), ("0", "kWh", 0.0)],
)
def test_energy_readings_are_stored_in_wh_whatever_the_unit(value, unit, wh):
    [sample] = parse_samples([_reading(value, unit)], parse_iso)
    assert (sample["value"], sample["unit"]) == (wh, "Wh")


@pytest.mark.parametrize("value", ["abc", "", "nan", "inf", None, "-1"])
def test_non_numeric_or_negative_energy_is_refused(value):
    with pytest.raises(InvalidValue):
        parse_samples([_reading(value)], parse_iso)


def test_the_latest_whole_meter_register_reading_gives_the_energy():
    samples = parse_samples(
        [
            {"timestamp": "2026-11-23T08:20:00Z", "sampled_value": [{"value": "2", "unit": "kWh"}]},
            {"timestamp": "2026-11-23T08:10:00Z", "sampled_value": [{"value": "9", "unit": "kWh"}]},
            _reading("99999", phase="L1"),
            _reading("5", unit="kW", measurand="Power.Active.Import"),
        ],
        parse_iso,
    )
    assert energy_register_wh(samples) == (parse_iso("2026-11-23T08:20:00Z"), 2000.0)


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


@pytest.mark.parametrize(
    ("value", "unit", "measurand"),
    [
        ("1000000000001", "Wh", "Energy.Active.Import.Register"),
        ("1000000001", "kWh", "Energy.Active.Import.Register"),
        ("1e300", None, "Voltage"),
        ("-1e13", "W", "Power.Active.Import"),
        (str(2**63 - 1), "Wh", "Energy.Active.Import.Register"),
    ],
)
def test_a_reading_beyond_the_physical_bound_in_base_units_is_refused(value, unit, measurand):
    with pytest.raises(InvalidValue, match="is beyond 1,000,000,000,000"):
        parse_samples([_reading(value, unit, measurand=measurand)], parse_iso)


def test_readings_at_the_bound_are_accepted_and_other_measurands_may_be_negative():
    samples = parse_samples(
        [_reading("1000000000", "kWh"), _reading("-11000", "W", measurand="Power.Active.Import")], parse_iso
    )
    assert [s["value"] for s in samples] == [1e12, -11000.0]


def _reading_201(value, multiplier):
    sampled = {"value": value, "unit_of_measure": {"unit": "Wh", "multiplier": multiplier}}
    return {"timestamp": "2026-11-23T08:10:00Z", "sampled_value": [sampled]}


@pytest.mark.parametrize(("multiplier", "wh"), [(3, 2000.0), (-3, 0.002), (9, 2e9), (-9, 2e-9), (0, 2.0)])
def test_a_201_multiplier_is_a_power_of_ten_from_minus_9_to_9(multiplier, wh):
    [sample] = parse_samples([_reading_201(2, multiplier)], parse_iso)
    assert sample["value"] == pytest.approx(wh)


@pytest.mark.parametrize("multiplier", [10, -10, 2**62, -(2**62), True, "3", 1.5])
def test_a_201_multiplier_outside_minus_9_to_9_is_refused_without_computing_it(multiplier):
    with pytest.raises(InvalidValue, match="multiplier must be an integer from -9 to 9"):
        parse_samples([_reading_201(2, multiplier)], parse_iso)


def test_a_refused_value_is_quoted_short():
    with pytest.raises(InvalidValue) as refused:
        parse_samples([_reading("x" * 60_000)], parse_iso)
    assert len(str(refused.value)) < 100


@pytest.mark.parametrize("value", [-(2**31), 0, 2**31 - 1])
def test_a_16_transaction_id_within_32_bits_keys_its_session(value):
    assert transaction_number(value) == str(value)


@pytest.mark.parametrize("value", [2**31, -(2**31) - 1, 2**63 - 1, True, "7"])
def test_a_16_transaction_id_beyond_32_bits_is_refused(value):
    with pytest.raises(InvalidValue, match="transactionId must be an integer from -2147483648 to 2147483647"):
        transaction_number(value)


@pytest.mark.parametrize(("value", "accepted"), [(0, True), (2**31 - 1, True), (-1, False), (2**31, False)])
def test_a_201_seq_no_counts_from_0_within_31_bits(value, accepted):
    if accepted:
        assert protocol_integer(value, "seqNo", SEQ_NO_RANGE) == value
    else:
        with pytest.raises(InvalidValue, match="seqNo must be an integer from 0 to 2147483647"):
            protocol_integer(value, "seqNo", SEQ_NO_RANGE)


def test_a_session_ends_once():
    session = _session()
    session.end(meter_stop_wh=500, ended_at=T0, stop_reason="Local", id_tag=None)
    session.end(meter_stop_wh=900, ended_at=T0, stop_reason="Local", id_tag=None)
    names = [type(e).__name__ for e in session.collect_events()]
    assert names == ["TransactionStarted", "TransactionEnded"]


def test_no_meter_values_record_nothing():
    session = _session()
    session.record_meter_values([])
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
