"""Meter readings: what a station's meter measured, in base units and within physical bounds.

The gateway reads them off the wire (units, multipliers, numbers sent as text); what a reading
may be is decided here, whichever protocol carried it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypedDict

from cpms.aggregates.errors import InvalidValue

ENERGY_REGISTER = "Energy.Active.Import.Register"
# A physical bound on any reading, in base units (Wh, W, varh, var, A, V...): 10^12 Wh is 1 TWh,
# ten times what a 350 kW charger delivers running flat out for 30 years. Past it a number is a
# fault or a lie, and the views need not hold it.
MAX_READING = 10**12


class Sample(TypedDict):
    """One value the meter measured, in a base unit, as `MeterValuesRecorded` stores it (the shape
    events have always had). `phase` is the electrical phase (L1, L2-N...), `location` where on
    the circuit (Outlet, Inlet, EV...), `context` why it was read (periodic, at the transaction's
    start...), in the words stations use for them."""

    timestamp: datetime
    measurand: str
    value: float
    unit: str | None
    phase: str | None
    context: str | None
    location: str | None


def sample(
    timestamp: datetime,
    measurand: str,
    value: float,
    unit: str | None,
    *,
    phase: str | None = None,
    context: str | None = None,
    location: str | None = None,
) -> Sample:
    """A sample a meter can have given: finite, not a negative energy, within `MAX_READING`.

    A plain dict rather than an object: every reading of every MeterValues passes here, and it is
    stored as it is.
    """
    if not math.isfinite(value):
        raise InvalidValue(f"{measurand} value {value!r} is not a finite number")
    if measurand.startswith("Energy") and value < 0:
        raise InvalidValue(f"{measurand} must not be negative, got {value:g}")
    if abs(value) > MAX_READING:
        raise InvalidValue(f"{measurand} value {value:g} is beyond {MAX_READING:,} {unit or 'units'}")
    return {
        "timestamp": timestamp,
        "measurand": measurand,
        "value": value,
        "unit": unit,
        "phase": phase,
        "context": context,
        "location": location,
    }


def meter_reading(value: Any, field: str) -> float:
    """A register reading in Wh: a finite number from 0 to `MAX_READING`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidValue(f"{field} must be a number of Wh")
    if not (math.isfinite(value) and 0 <= value <= MAX_READING):
        raise InvalidValue(f"{field} must be a number of Wh from 0 to {MAX_READING:,}")
    return float(value)


def energy_register_wh(samples: Iterable[Mapping[str, Any]]) -> tuple[datetime, float] | None:
    """The latest Energy.Active.Import.Register reading of the whole meter (not per phase), from
    samples as stored."""
    readings = [
        (s["timestamp"], s["value"])
        for s in samples
        if s["measurand"] == ENERGY_REGISTER and not s.get("phase") and s.get("location") in (None, "Outlet")
    ]
    return max(readings, key=lambda r: r[0]) if readings else None
