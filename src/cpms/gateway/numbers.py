"""OCPP's own integers, checked at the door: 32 bits, as both versions define them ("Data types").

Refused as `InvalidValue`, so the one table in `errors.py` answers them as it answers the domain's.
"""

from __future__ import annotations

from typing import Any

from cpms.aggregates.errors import InvalidValue

# 1.6 transaction and reservation ids may be anywhere in the signed range; a 2.0.1 seqNo counts
# up from 0.
INT32_RANGE = (-(2**31), 2**31 - 1)
SEQ_NO_RANGE = (0, 2**31 - 1)


def protocol_integer(value: Any, field: str, bounds: tuple[int, int] = INT32_RANGE) -> int:
    """An integer of the protocol within its range (by default OCPP's 32 bits)."""
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidValue(f"{field} must be an integer from {low} to {high}")
    return value


def transaction_number(value: Any) -> str:
    """A 1.6 transactionId as the portal keys its sessions (a station's own ids are strings)."""
    return str(protocol_integer(value, "transactionId"))
