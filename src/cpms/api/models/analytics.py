"""Charging analytics: the buckets of a time zone, their sessions, energy and durations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from msgspec import Meta, Struct, field

from cpms import buckets
from cpms.api.models.common import UuidIn, documented

# An instant as the answer spells it: ISO 8601 with the zone's offset at that instant.
LocalInstant = Annotated[
    str, documented("ISO 8601 with the zone's offset at that instant", format="date-time")
]
Bound = Annotated[
    str | None,
    Meta(description="a date (midnight in tz) or a date-time with its offset; snapped to a bucket start"),
]


class AnalyticsQuery(Struct, forbid_unknown_fields=True):
    """Which sessions: started from `from` (inclusive) to `to` (exclusive), at most 400 days, in
    buckets of the zone `tz`; of the whole organization, one site or one station."""

    from_: Bound = field(name="from", default=None)
    to: Bound = None
    bucket: Annotated[buckets.Bucket, Meta(description="days, ISO weeks (from Monday) or months")] = "day"
    tz: Annotated[str, Meta(description="IANA time zone name, e.g. Europe/Paris")] = "UTC"
    site_id: Annotated[UuidIn | None, Meta(description="a site of the organization")] = None
    station: Annotated[str | None, Meta(description="a station of the organization, by OCPP identity")] = None

    def __post_init__(self) -> None:
        zone = self.zone()  # each raises ValueError, which the door answers with 400
        self.start(zone)
        self.end(zone)

    def zone(self) -> ZoneInfo:
        return buckets.zone(self.tz)

    def start(self, zone: ZoneInfo) -> datetime | None:
        return buckets.parse_bound(self.from_, zone, "from") if self.from_ else None

    def end(self, zone: ZoneInfo) -> datetime | None:
        return buckets.parse_bound(self.to, zone, "to") if self.to else None


class Durations(Struct):
    total: Annotated[int, Meta(description="seconds, completed sessions")]
    mean: Annotated[float | None, Meta(description="seconds per completed session; null without any")]


class AnalyticsBucket(Struct):
    start: LocalInstant
    end: LocalInstant
    hours: Annotated[
        float, Meta(description="the bucket's length: 23 or 25 on a day of a daylight-saving change")
    ]
    sessions: Annotated[
        int, Meta(description="listed sessions that started in the bucket, active or completed")
    ]
    completed: Annotated[int, Meta(description="of those, the completed ones")]
    energy_wh: Annotated[float, Meta(description="of the completed ones")]
    duration_s: Durations


class AnalyticsTotals(Struct):
    sessions: int
    completed: int
    energy_wh: float
    duration_s: Durations


class HistogramBin(Struct):
    """Completed sessions whose duration is at least `from_s` and less than `to_s` (no bound: null)."""

    from_s: int
    to_s: int | None
    sessions: int


class Analytics(Struct):
    """Every bucket of the range, oldest first, empty ones included; the totals and the duration
    histogram of the whole range."""

    from_: LocalInstant = field(name="from")
    to: LocalInstant
    bucket: buckets.Bucket
    tz: str
    buckets: list[AnalyticsBucket]
    totals: AnalyticsTotals
    duration_histogram: list[HistogramBin]
