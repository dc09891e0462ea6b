"""MeterValue objects of either OCPP version read into the domain's samples, in base units."""

from __future__ import annotations

import pytest

from cpms.aggregates.errors import InvalidValue
from cpms.aggregates.meter import energy_register_wh
from cpms.gateway.meter_values import meter_samples
from cpms.timestamps import parse_iso


def _reading(value, unit=None, measurand="Energy.Active.Import.Register", **extra):
    sampled = {"value": value, "measurand": measurand, **extra}
    if unit:
        sampled["unit"] = unit
    return {"timestamp": "2026-11-23T08:10:00Z", "sampled_value": [sampled]}


@pytest.mark.parametrize(
    ("value", "unit", "wh"),
    [("1500", "Wh", 1500.0), ("1.5", "kWh", 1500.0), ("42", None, 42.0), ("0", "kWh", 0.0)],
)
def test_energy_readings_are_stored_in_wh_whatever_the_unit(value, unit, wh):
    [sample] = meter_samples([_reading(value, unit)])
    assert (sample["value"], sample["unit"]) == (wh, "Wh")


@pytest.mark.parametrize("value", ["abc", "", "nan", "inf", None, "-1"])
def test_non_numeric_or_negative_energy_is_refused(value):
    with pytest.raises(InvalidValue):
        meter_samples([_reading(value)])


def test_the_latest_whole_meter_register_reading_gives_the_energy():
    samples = meter_samples(
        [
            {"timestamp": "2026-11-23T08:20:00Z", "sampled_value": [{"value": "2", "unit": "kWh"}]},
            {"timestamp": "2026-11-23T08:10:00Z", "sampled_value": [{"value": "9", "unit": "kWh"}]},
            _reading("99999", phase="L1"),
            _reading("5", unit="kW", measurand="Power.Active.Import"),
        ]
    )
    assert energy_register_wh(samples) == (parse_iso("2026-11-23T08:20:00Z"), 2000.0)


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
        meter_samples([_reading(value, unit, measurand=measurand)])


def test_readings_at_the_bound_are_accepted_and_other_measurands_may_be_negative():
    samples = meter_samples(
        [_reading("1000000000", "kWh"), _reading("-11000", "W", measurand="Power.Active.Import")]
    )
    assert [s["value"] for s in samples] == [1e12, -11000.0]


def _reading_201(value, multiplier):
    sampled = {"value": value, "unit_of_measure": {"unit": "Wh", "multiplier": multiplier}}
    return {"timestamp": "2026-11-23T08:10:00Z", "sampled_value": [sampled]}


@pytest.mark.parametrize(("multiplier", "wh"), [(3, 2000.0), (-3, 0.002), (9, 2e9), (-9, 2e-9), (0, 2.0)])
def test_a_201_multiplier_is_a_power_of_ten_from_minus_9_to_9(multiplier, wh):
    [sample] = meter_samples([_reading_201(2, multiplier)])
    assert sample["value"] == pytest.approx(wh)


@pytest.mark.parametrize("multiplier", [10, -10, 2**62, -(2**62), True, "3", 1.5])
def test_a_201_multiplier_outside_minus_9_to_9_is_refused_without_computing_it(multiplier):
    with pytest.raises(InvalidValue, match="multiplier must be an integer from -9 to 9"):
        meter_samples([_reading_201(2, multiplier)])


def test_a_refused_value_is_quoted_short():
    with pytest.raises(InvalidValue) as refused:
        meter_samples([_reading("x" * 60_000)])
    assert len(str(refused.value)) < 100
