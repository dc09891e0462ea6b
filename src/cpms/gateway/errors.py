"""What a handler's exception is answered with, for every OCPP version: one table.

A domain error a charger's message caused is a refusal the charger can act on; anything else
is our fault, answered `InternalError` so the charger retries later, and logged with its
traceback.
"""

from __future__ import annotations

from ocpp.exceptions import InternalError, OCPPError, PropertyConstraintViolationError

from cpms.aggregates.errors import InvalidValue

# Looked up along the exception's class hierarchy, so a subclass is answered as its base is.
OCPP_ERRORS: dict[type[Exception], type[OCPPError]] = {
    InvalidValue: PropertyConstraintViolationError,
}


def refusal_for(error: Exception) -> OCPPError | None:
    """The CALLERROR a handler's exception is answered with; None when it is not one we expect."""
    if isinstance(error, OCPPError):
        return error
    for kind in type(error).__mro__:
        answer = OCPP_ERRORS.get(kind)
        if answer is not None:
            return answer(description=str(error))
    return None


def internal_error(action: str) -> InternalError:
    """Said instead of the package's "An unexpected error occurred.": what failed, and that
    retrying is the charger's move while we look at our log."""
    return InternalError(
        description=f"The central system failed to process this {action}; it is logged, retry later"
    )
