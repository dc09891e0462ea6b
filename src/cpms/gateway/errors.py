"""What a handler's exception is answered with, for every OCPP version: one table.

A domain error a charger's message caused is a refusal the charger can act on; a store that is
down is answered `InternalError` so the charger retries later, as its protocol says; anything
else is our fault, answered `InternalError` and logged with its traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ocpp.exceptions import InternalError, OCPPError, PropertyConstraintViolationError

from cpms.aggregates.errors import InvalidValue
from cpms.infra.health import Unavailable


@dataclass(frozen=True)
class Answer:
    """How one kind of exception is answered, and whether each answer is worth a log line (an
    outage is logged once by the health monitor, not once per message)."""

    make: Callable[[Exception], OCPPError]
    logged: bool = True


# Looked up along the exception's class hierarchy, so a subclass is answered as its base is.
OCPP_ERRORS: dict[type[Exception], Answer] = {
    InvalidValue: Answer(lambda error: PropertyConstraintViolationError(description=str(error))),
    Unavailable: Answer(
        lambda error: InternalError(
            description="The central system cannot store messages right now; retry later"
        ),
        logged=False,
    ),
}


@dataclass(frozen=True)
class Refusal:
    error: OCPPError
    logged: bool = True


def refusal_for(error: Exception) -> Refusal | None:
    """The CALLERROR a handler's exception is answered with; None when it is not one we expect."""
    if isinstance(error, OCPPError):
        return Refusal(error)
    for kind in type(error).__mro__:
        answer = OCPP_ERRORS.get(kind)
        if answer is not None:
            return Refusal(answer.make(error), answer.logged)
    return None


def internal_error(action: str) -> InternalError:
    """Said instead of the package's "An unexpected error occurred.": what failed, and that
    retrying is the charger's move while we look at our log."""
    return InternalError(
        description=f"The central system failed to process this {action}; it is logged, retry later"
    )
