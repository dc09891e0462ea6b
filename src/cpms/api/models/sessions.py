"""Charging sessions of a site: the filters of the list and the export, and a session."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from msgspec import Meta, Struct, field

from cpms.api.models.common import DEFAULT_LIMIT, Cursor, Instant, Limit, Uuid, documented
from cpms.timestamps import parse_iso

State = Literal["Active", "Completed"]
# Query parameters are text: parsed by parse_iso, as every instant cpms reads, so a date alone
# (midnight UTC) and an offset are taken as they always were.
InstantParameter = Annotated[str | None, documented(format="date-time")]


class SessionFilters(Struct, forbid_unknown_fields=True):
    """Which sessions: started at or after `from`, before `to`, in a `state`."""

    from_: Annotated[InstantParameter, Meta(description="started at or after")] = field(
        name="from", default=None
    )
    to: Annotated[InstantParameter, Meta(description="started before")] = None
    state: State | None = None

    def __post_init__(self) -> None:
        started_from, started_before = self.started_from, self.started_before
        if started_from and started_before and started_from >= started_before:
            raise ValueError("from must be before to")

    @property
    def started_from(self) -> datetime | None:
        return _instant(self.from_, "from")

    @property
    def started_before(self) -> datetime | None:
        return _instant(self.to, "to")


class SessionsQuery(SessionFilters):
    limit: Limit = DEFAULT_LIMIT
    cursor: Cursor = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.cursor = self.cursor or None


def _instant(value: str | None, name: str) -> datetime | None:
    if not value:  # `from=` is no bound, as a form would send it
        return None
    try:
        return parse_iso(value)
    except ValueError:
        raise ValueError(f"{name} must be an ISO 8601 instant, e.g. 2026-11-23T00:00:00Z") from None


class Emsp(Struct):
    country_code: str
    party_id: str


class SessionAuthorization(Struct):
    method: Literal["rfid", "roaming", "scan2pay"]
    card_uid: str | None
    card_label: str | None
    access_group_id: Uuid | None
    access_group_name: str | None
    emsp: Emsp | None
    payment_reference: str | None


class Session(Struct):
    id: Uuid
    ocpp_id: str
    connector_id: int
    evse_id: str | None
    site_id: Uuid
    transaction_id: str
    started_at: Instant
    ended_at: Instant | None
    state: State
    meter_start_wh: float | None
    meter_stop_wh: float | None
    energy_wh: Annotated[float, Meta(description="so far, while Active")]
    duration_s: Annotated[int, Meta(description="so far, while Active")]
    stop_reason: Annotated[
        str | None,
        Meta(
            description="the charger's reason (OCPP), or Superseded: a newer transaction began on the"
            " charge point while this one was open, and closed it at its last reading"
        ),
    ]
    command_id: Annotated[
        Uuid | None,
        Meta(
            description="the remote or Scan2Pay start this session answers: GET /api/v1/commands/{command_id}"
        ),
    ]
    authorization: SessionAuthorization


class SessionPage(Struct):
    items: list[Session]
    next_cursor: str | None
