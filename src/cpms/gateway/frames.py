"""Reading OCPP-J frames: JSON in, the `ocpp` package's Call / CallResult / CallError out.

Every frame a charger sends passes here, so it is read with orjson, and only what the event store
and the read models can hold gets through: nesting at most `MAX_DEPTH` levels, integers within
signed 64 bits, finite numbers. Anything else is a `BrokenFrame` carrying the CALLERROR to answer
with, never a RecursionError, and never an integer that fails later, when the event is stored.
"""

from __future__ import annotations

import json
import math
from collections import deque
from typing import Any, TypeAlias

import orjson
from ocpp.exceptions import (
    FormatViolationError,
    OCPPError,
    PropertyConstraintViolationError,
    ProtocolError,
    TypeConstraintViolationError,
)
from ocpp.messages import Call, CallError, CallResult

# The deepest message of any version we speak is 14 levels, frame included (2.0.1 and 2.1
# ReportChargingProfiles: tariff costs inside a schedule inside a profile); OCPP 1.6 reaches 6.
# 32 leaves room for vendor DataTransfer data, and keeps every reader of a frame (ours, the
# schema validator, the snake_case conversion) far from Python's recursion limit.
MAX_DEPTH = 32
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# orjson reads an integer literal beyond 64 bits as a float, so a float of this magnitude may
# have been one: those rare frames are read again with the stdlib, which keeps literals apart.
_MAYBE_LONG_INTEGER_FROM = float(2**63)
_ID_UNREADABLE = "-1"  # OCPP-J: the message id of a CALLERROR when the frame's cannot be read

Message: TypeAlias = Call | CallResult | CallError
MESSAGE_TYPES: dict[int, type[Message]] = {2: Call, 3: CallResult, 4: CallError}


class BrokenFrame(Exception):
    """A frame refused before any handler saw it: the CALLERROR to answer, and under which id."""

    def __init__(self, unique_id: str, error: OCPPError, action: str | None = None) -> None:
        super().__init__(error.description)
        self.unique_id = unique_id
        self.error = error
        self.action = action


def decode_frame(raw: str | bytes) -> Message:
    """The message a frame holds, as `ocpp.messages.unpack` builds it; `BrokenFrame` otherwise."""
    try:
        frame = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise _why_unreadable(raw) from None
    problem = _first_problem(frame, _MAYBE_LONG_INTEGER_FROM)
    if problem is _MAYBE_INTEGER:
        frame = _read_with_stdlib(raw, unique_id=_unique_id(frame))
        problem = _first_problem(frame, math.inf)
    if problem is not None:
        raise _refusal(frame, problem)
    return _message(frame)


# -- the walk --------------------------------------------------------------------------------


class _Problem:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_TOO_DEEP = _Problem("too deep")
_BEYOND_64_BITS = _Problem("integer beyond 64 bits")
_NOT_FINITE = _Problem("not finite")
_MAYBE_INTEGER = _Problem("a float that may have been a long integer")


class _LongInteger:
    """An integer literal too long for 64 bits, as the stdlib reads it here: never converted,
    since converting thousands of digits is slow and Python refuses beyond 4300."""


_LONG_INTEGER = _LongInteger()


def _first_problem(frame: Any, float_limit: float) -> _Problem | None:
    """One pass over the frame, level by level and without recursion: the first value out of
    bounds, or None. On the path of every frame, so it allocates one list per level and checks
    each value's type by identity (bool, a subclass of int, is a leaf like any other)."""
    if type(frame) is not list and type(frame) is not dict:
        return None
    level: list[Any] = [frame]
    depth = 1
    while level:
        if depth > MAX_DEPTH:
            return _TOO_DEEP
        below: list[Any] = []
        for container in level:
            for value in container.values() if type(container) is dict else container:
                kind = type(value)
                if kind is str:
                    continue
                if kind is dict or kind is list:
                    below.append(value)
                elif kind is int:
                    if value > INT64_MAX or value < INT64_MIN:
                        return _BEYOND_64_BITS
                elif kind is float:
                    if not -float_limit < value < float_limit:  # also false for NaN
                        return _MAYBE_INTEGER if math.isfinite(value) else _NOT_FINITE
                elif value is _LONG_INTEGER:
                    return _BEYOND_64_BITS
        level = below
        depth += 1
    return None


def _path_to(frame: Any, problem: _Problem) -> tuple[int | str, ...]:
    """Where the first value with `problem` sits; only run once a frame is refused."""
    pending: deque[tuple[Any, tuple[int | str, ...]]] = deque([(frame, ())])
    while pending:
        container, path = pending.popleft()
        items = container.items() if type(container) is dict else enumerate(container)
        for key, value in items:
            if type(value) is dict or type(value) is list:
                pending.append((value, (*path, key)))
            elif _first_problem([value], math.inf) is problem:
                return (*path, key)
    return ()


# -- refusals --------------------------------------------------------------------------------


def _why_unreadable(raw: str | bytes) -> BrokenFrame:
    """orjson refused the frame. The stdlib tells a number out of bounds (an integer of
    thousands of digits, `1e999`) from what is not JSON at all; it never decides to accept."""
    frame = _read_with_stdlib(raw, unique_id=_ID_UNREADABLE)
    problem = _first_problem(frame, math.inf)
    if problem is not None:
        return _refusal(frame, problem)
    # Valid to the stdlib only: a lone surrogate, say, which no event could be stored with.
    return BrokenFrame(
        _unique_id(frame), FormatViolationError(description="Message is not valid JSON"), _action(frame)
    )


def _read_with_stdlib(raw: str | bytes, *, unique_id: str) -> Any:
    try:
        return json.loads(raw, parse_int=_integer, parse_constant=_no_constant)
    except RecursionError:
        raise BrokenFrame(unique_id, _too_deep()) from None
    except ValueError:  # JSONDecodeError and UnicodeDecodeError among them
        raise BrokenFrame(
            _ID_UNREADABLE, FormatViolationError(description="Message is not valid JSON")
        ) from None


def _integer(digits: str) -> int | _LongInteger:
    # 20 characters hold every signed 64-bit integer ("-9223372036854775808"); JSON allows no
    # leading zeros, so anything longer is out of range.
    return _LONG_INTEGER if len(digits) > 20 else int(digits)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _refusal(frame: Any, problem: _Problem) -> BrokenFrame:
    unique_id, action = _unique_id(frame), _action(frame)
    if problem is _TOO_DEEP:
        return BrokenFrame(unique_id, _too_deep(), action)
    field = _field_name(frame, _path_to(frame, problem))
    what = (
        "an integer beyond the signed 64-bit range" if problem is _BEYOND_64_BITS else "not a finite number"
    )
    return BrokenFrame(unique_id, TypeConstraintViolationError(description=f"{field} is {what}"), action)


def _too_deep() -> FormatViolationError:
    return FormatViolationError(description=f"Message is nested deeper than {MAX_DEPTH} levels")


def _field_name(frame: Any, path: tuple[int | str, ...]) -> str:
    """`meterValue[0].sampledValue[1].value`: the path within the payload, as the spec names it."""
    is_message = type(frame) is list and frame and type(frame[0]) is int
    payload_at = {2: 3, 3: 2, 4: 4}.get(frame[0]) if is_message else None
    if not path or path[0] != payload_at:
        return f"frame element {path[0]}" if path else "frame"
    name = ""
    for key in path[1:]:
        name += f"[{key}]" if isinstance(key, int) else (f".{key}" if name else key)
    return name or "payload"


def _unique_id(frame: Any) -> str:
    if type(frame) is list and len(frame) > 1 and type(frame[1]) is str:
        return str(frame[1])
    return _ID_UNREADABLE


def _action(frame: Any) -> str | None:
    if type(frame) is list and len(frame) > 2 and frame[0] == 2 and type(frame[2]) is str:
        return str(frame[2])
    return None


# -- messages --------------------------------------------------------------------------------


def _message(frame: Any) -> Message:
    """What `ocpp.messages.unpack` makes of a decoded frame, with the same errors."""
    if type(frame) is not list:
        raise BrokenFrame(
            _ID_UNREADABLE,
            ProtocolError(details={"cause": f"OCPP message should be a list, got {type(frame).__name__}"}),
        )
    if not frame:
        raise BrokenFrame(
            _ID_UNREADABLE, ProtocolError(details={"cause": "Message does not contain MessageTypeId"})
        )
    message_type = MESSAGE_TYPES.get(frame[0]) if type(frame[0]) is int else None
    if message_type is None:
        raise BrokenFrame(
            _unique_id(frame),
            PropertyConstraintViolationError(details={"cause": f"MessageTypeId '{frame[0]}' isn't valid"}),
        )
    try:
        return message_type(*frame[1:])
    except TypeError:
        raise BrokenFrame(
            _unique_id(frame), ProtocolError(details={"cause": "Message is missing elements."})
        ) from None
