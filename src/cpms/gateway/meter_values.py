"""MeterValue objects of either OCPP version, read into the domain's samples.

1.6 sends each value as text with a `unit` beside it; 2.0.1 sends a number with a
`unitOfMeasure` {unit, multiplier}. Both become a `Sample` in a base unit (Wh, W, varh, var; others
as given); whether the reading is one a meter can give is the domain's rule (`sample`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cpms.aggregates.errors import InvalidValue
from cpms.aggregates.meter import ENERGY_REGISTER, Sample, sample
from cpms.gateway.framing import charger_time

# `unitOfMeasure.multiplier` is a power of ten; giga to nano covers every meter, and bounding it
# keeps `10 ** multiplier` from being a computation a charger can make us run.
MULTIPLIER_RANGE = (-9, 9)
_TO_BASE_UNIT = {
    "Wh": ("Wh", 1.0),
    "kWh": ("Wh", 1000.0),
    "W": ("W", 1.0),
    "kW": ("W", 1000.0),
    "varh": ("varh", 1.0),
    "kvarh": ("varh", 1000.0),
    "var": ("var", 1.0),
    "kvar": ("var", 1000.0),
}


def meter_samples(meter_values: Iterable[dict[str, Any]]) -> list[Sample]:
    """The samples of MeterValue objects (the `ocpp` package's snake_case keys), 1.6 or 2.0.1.

    A value that is not a number refuses the whole message, so nothing half-read is stored.
    """
    samples = []
    for meter_value in meter_values:
        at = charger_time(meter_value["timestamp"])
        for sampled in meter_value.get("sampled_value", []):
            # OCPP's default measurand, and Wh the default unit of any energy.
            measurand = sampled.get("measurand") or ENERGY_REGISTER
            unit_of_measure = sampled.get("unit_of_measure") or {}
            unit = sampled.get("unit") or unit_of_measure.get("unit")
            unit = unit or ("Wh" if measurand.startswith("Energy") else None)
            base_unit, factor = _TO_BASE_UNIT.get(unit or "", (unit, 1.0))
            number = _number(sampled.get("value"), measurand)
            samples.append(
                sample(
                    at,
                    measurand,
                    number * factor * 10 ** _multiplier(unit_of_measure.get("multiplier", 0)),
                    base_unit,
                    phase=sampled.get("phase"),
                    context=sampled.get("context"),
                    location=sampled.get("location"),
                )
            )
    return samples


def _number(value: Any, measurand: str) -> float:
    """1.6 values are text, 2.0.1 values numbers: either way a float."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InvalidValue(f"{measurand} value {_shown(value)} is not a number")
    try:
        return float(value)
    except ValueError:
        raise InvalidValue(f"{measurand} value {_shown(value)} is not a number") from None


def _multiplier(value: Any) -> int:
    low, high = MULTIPLIER_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidValue(f"unitOfMeasure.multiplier must be an integer from {low} to {high}")
    return value


def _shown(value: Any) -> str:
    """A charger's value as an error message quotes it: a frame may hold 64 KiB of it."""
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."
