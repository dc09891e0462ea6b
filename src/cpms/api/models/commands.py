"""Commands sent to stations: what a caller asks, and the command as it is followed."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from cpms.aggregates import station
from cpms.api.models.common import Instant, PageQuery, Uuid, documented

Outcome = Literal["pending", "accepted", "rejected", "failed", "offline", "timeout"]
Kind = Literal["remote_start", "scan2pay", "remote_stop", "availability", "reset", "unlock"]


class RemoteStartBody(Struct, forbid_unknown_fields=True):
    id_tag: Annotated[
        str,
        documented(
            "the driver's token: a card of the station's access groups, or a roaming token it accepts",
            minLength=1,
            maxLength=station.MAX_ID_TAG_LENGTH,
        ),
    ]


class Scan2PayBody(Struct, forbid_unknown_fields=True):
    payment_reference: Annotated[
        str,
        documented(
            "the payment provider's reference", minLength=1, maxLength=station.MAX_PAYMENT_REFERENCE_LENGTH
        ),
    ]
    amount: Annotated[
        str | None,
        documented(
            "what the payer was shown, a decimal string (recorded, not charged)", pattern=r"^\d+(\.\d{1,4})?$"
        ),
    ] = None
    currency: Annotated[str | None, documented("ISO 4217, with amount", pattern="^[A-Z]{3}$")] = None


class AvailabilityBody(Struct, forbid_unknown_fields=True):
    operative: Annotated[bool, Meta(description="false: the portal's temporarily deactivated")]
    connector_id: Annotated[
        int | None, documented("a charge point; absent: the whole station", minimum=1)
    ] = None


class ResetBody(Struct, forbid_unknown_fields=True):
    type: Annotated[
        Literal["soft", "hard"],
        Meta(
            description="soft: once idle (2.0.1 OnIdle, 1.6 Soft); hard: at once (2.0.1 Immediate, 1.6 Hard)"
        ),
    ]


class Command(Struct):
    id: Uuid
    ocpp_id: str
    kind: Kind
    connector_id: int | None
    parameters: Annotated[dict[str, Any], Meta(description="what was asked beside the charge point")]
    requested_by: Annotated[Uuid, Meta(description="the organization that asked")]
    client: Annotated[str | None, Meta(description="the client it came from (User-Agent)")]
    requested_at: Instant
    outcome: Annotated[
        Outcome,
        Meta(
            description="accepted or rejected: the charger's answer (charger_status); failed: it answered"
            " with a CALLERROR (charger_status is its code); offline, timeout: no answer; pending: under way"
        ),
    ]
    charger_status: str | None
    detail: str | None
    answered_at: Instant | None
    transaction_id: Annotated[str | None, Meta(description="remote starts: the transaction it began")]
    session_id: Annotated[Uuid | None, Meta(description="remote starts: the session it began, once begun")]


class CommandPage(Struct):
    items: list[Command]
    next_cursor: str | None


class CommandsQuery(PageQuery, forbid_unknown_fields=True):
    pass
