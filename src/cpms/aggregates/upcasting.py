"""Events stored by earlier versions of cpms, read in today's shape (eventsourcing's class-level
upcasting).

Stored events are never rewritten. An event class whose attributes changed carries a
`class_version`; a state stored under an older version is brought up to date, one step per
version, each time it is read, before the aggregate or a projection sees it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

State = dict[str, Any]
Step = Callable[[State], None]


def versioned(event_class: type, *steps: Step) -> None:
    """Give an event class (one that `@event` made) its upcasting steps: version 1 is what was
    stored before the first step, and the class is now at version `len(steps) + 1`."""
    event_class.class_version = len(steps) + 1  # type: ignore[attr-defined]
    for number, step in enumerate(steps, start=1):
        setattr(event_class, f"upcast_v{number}_v{number + 1}", staticmethod(step))


# -- version 2: the portal's words, not OCPP's (issue 8) ----------------------------------------
# Until then some attributes kept the names OCPP gives them. These are the only lines that still
# spell the old names, so that what was stored under them keeps loading.
_TOKEN_V1 = "id_tag"
_CHARGING_PHASE_V1 = "charging_state"
_CAUSE_V1 = "trigger_reason"
# The 2.0.1 triggerReasons that asked for a stop, as `ChargingStateChanged` stored them in version 1.
_STOPPING_CAUSES_V1 = frozenset({"StopAuthorized", "RemoteStop", "Deauthorized"})


def token_named(state: State) -> None:
    """`TransactionEnded`: the token that ended the transaction."""
    state["token"] = state.pop(_TOKEN_V1, None)


def authorization_token_named(state: State) -> None:
    """`TransactionAuthorized`, `AuthorizationRequested`: the token inside the authorization."""
    authorization = dict(state["authorization"])
    if _TOKEN_V1 in authorization:
        authorization["token"] = authorization.pop(_TOKEN_V1)
    state["authorization"] = authorization


def session_opened_in_portal_words(state: State) -> None:
    """`TransactionStarted`: its authorization's token, and the charging phase it opened in."""
    authorization_token_named(state)
    state["charging_phase"] = state.pop(_CHARGING_PHASE_V1, None)


def phase_change_in_portal_words(state: State) -> None:
    """`ChargingStateChanged`: the phase (same values), and whether its cause asked for a stop."""
    state["charging_phase"] = state.pop(_CHARGING_PHASE_V1, None)
    state["stop_requested"] = state.pop(_CAUSE_V1, None) in _STOPPING_CAUSES_V1


# -- version 2 of `StatusNotification`: whose vendor error code it is (issue 13) -----------------
# OCPP 1.6 sends `vendorId` beside `vendorErrorCode`: a code means nothing without the vendor
# whose list it comes from. Until then only the code was kept; what was stored then did not
# record the vendor, and reads as unknown rather than guessed from the station's boot.


def vendor_of_the_error_code(state: State) -> None:
    """`StatusNotification`: the vendor whose error code `vendor_error_code` is (unknown before)."""
    state.setdefault("vendor_id", None)
