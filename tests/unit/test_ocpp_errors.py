"""One table answers a handler's exceptions for every OCPP version."""

from __future__ import annotations

from ocpp.exceptions import FormatViolationError, InternalError, PropertyConstraintViolationError

from cpms.aggregates.errors import InvalidValue, NotFound
from cpms.gateway.errors import internal_error, refusal_for
from cpms.infra.health import Unavailable


class _NarrowerValue(InvalidValue):
    pass


def test_an_invalid_value_is_a_property_constraint_violation_saying_why() -> None:
    refusal = refusal_for(InvalidValue("connector 7 is not commissioned"))
    assert refusal is not None and refusal.logged
    assert isinstance(refusal.error, PropertyConstraintViolationError)
    assert refusal.error.description == "connector 7 is not commissioned"


def test_a_subclass_is_answered_as_its_base() -> None:
    refusal = refusal_for(_NarrowerValue("x"))
    assert refusal is not None and isinstance(refusal.error, PropertyConstraintViolationError)


def test_an_ocpp_error_a_handler_raises_is_answered_as_it_is() -> None:
    error = FormatViolationError(description="bad")
    refusal = refusal_for(error)
    assert refusal is not None and refusal.error is error


def test_an_exception_outside_the_table_is_not_a_refusal() -> None:
    assert refusal_for(RuntimeError("bug")) is None
    assert refusal_for(NotFound("unknown transaction")) is None


def test_an_internal_error_says_what_failed_and_to_retry() -> None:
    error = internal_error("StartTransaction")
    assert isinstance(error, InternalError)
    assert "StartTransaction" in error.description and "retry" in error.description


def test_a_store_that_is_down_is_an_internal_error_to_retry_and_not_a_log_line_per_message() -> None:
    refusal = refusal_for(Unavailable("event_store", "connection refused"))
    assert refusal is not None and not refusal.logged  # the health monitor logs the outage once
    assert isinstance(refusal.error, InternalError)
    assert "retry later" in refusal.error.description
    assert "connection refused" not in refusal.error.description  # no infrastructure details
