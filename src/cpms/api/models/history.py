"""Auditors: a site's events in log order, and the site as it was at an instant."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from msgspec import UNSET, Meta, Struct, UnsetType

from cpms.api.models.common import DEFAULT_LIMIT, Cursor, Instant, Limit, Uuid, documented
from cpms.api.models.sessions import Session
from cpms.api.models.sites import ChargePoint, Site
from cpms.api.models.stations import Station
from cpms.timestamps import parse_iso


class HistoryQuery(Struct, forbid_unknown_fields=True):
    until: Annotated[
        str | None,
        documented(
            "an RFC 3339 instant: the events received up to it (default: now; a later one is now)."
            " A next page keeps the until of the first: give the same or none",
            format="date-time",
        ),
    ] = None
    limit: Limit = DEFAULT_LIMIT
    cursor: Cursor = None

    def __post_init__(self) -> None:
        self.until = self.until or None
        self.cursor = self.cursor or None
        if self.until is not None:
            try:
                parse_iso(self.until)
            except ValueError:
                raise ValueError("until must be an RFC 3339 instant, e.g. 2026-11-23T08:00:00Z") from None

    @property
    def until_instant(self) -> datetime | None:
        return None if self.until is None else parse_iso(self.until)


class HistoryEvent(Struct):
    position: Annotated[int, Meta(description="its place in the log (the event store's notification id)")]
    type: Annotated[str, Meta(description="e.g. StatusNotification, TransactionStarted, StationConfigured")]
    aggregate_type: Annotated[
        str, Meta(description="Site, Station, ChargingSession or ChargePointTransactions")
    ]
    aggregate_id: Uuid
    aggregate_version: int
    occurred_at: Annotated[
        Instant | None,
        Meta(
            description="when it happened, by the clock that reported it: the charger's timestamp where"
            " its message carried one (a status, a transaction's start or end, the last meter reading),"
            " else when cpms ran the command"
        ),
    ]
    received_at: Annotated[Instant, Meta(description="when cpms recorded it, to the millisecond")]
    payload: Annotated[
        dict[str, Any],
        Meta(description="what the event says, in today's shape (older events upcast); secrets redacted"),
    ]


class SiteAsOf(Struct):
    """The site as the read models served it at `until`, rebuilt from the events received up to
    then; never read from today's tables."""

    until: Instant
    position: Annotated[int | None, Meta(description="the log position of the last event folded")]
    events: Annotated[int, Meta(description="how many of the site's events were folded")]
    site: Annotated[Site | None, Meta(description="its overview with state (null: not created yet)")]
    charge_points: Annotated[list[ChargePoint], Meta(description="the whole sheet")]
    stations: list[Station]
    sessions: Annotated[
        list[Session],
        Meta(description="the sessions list's first page then: the 50 newest listed, durations as of until"),
    ]


class SiteHistory(Struct):
    site_id: Uuid
    until: Instant
    items: list[HistoryEvent]
    next_cursor: str | None
    as_of: Annotated[SiteAsOf, Meta(description="on the first page only (without cursor)")] | UnsetType = (
        UNSET
    )
