"""Calendar buckets of an IANA time zone (days, ISO weeks from Monday, months) as the UTC instants
that bound them: a day in Europe/Paris starts at 23:00 or 22:00 UTC and lasts 23 or 25 hours on
the days of the daylight-saving changes.

Every bound is a local midnight, found by zoneinfo. A midnight that does not exist (a zone moving
its clocks forward at 00:00) is the first instant of that date; one that happens twice, the first.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo, available_timezones

Bucket = Literal["day", "week", "month"]
BUCKETS: tuple[str, ...] = get_args(Bucket)
MAX_DAYS = 400
# How far back `from` lies from `to` when the request does not say.
DEFAULT_SPAN = {"day": 30, "week": 12, "month": 12}


@functools.cache
def zone_names() -> frozenset[str]:
    """The zone database's names; reading them walks its folders (~0.1 s), once per process."""
    return frozenset(available_timezones())


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name` (e.g. Europe/Paris, UTC), or ValueError: only names of the database
    are taken, never a path or a file that happens to lie in a zone directory."""
    if name not in zone_names():
        raise ValueError(f"tz: {name!r} is not an IANA time zone name, e.g. Europe/Paris or UTC")
    return ZoneInfo(name)


def parse_bound(text: str, tz: ZoneInfo, name: str) -> datetime:
    """A bound as a client writes it: a date (midnight in `tz`) or a date-time with its offset."""
    example = f"{name} must be a date (2026-03-29) or a date-time with its offset (2026-03-29T00:00:00+01:00)"
    try:
        if len(text) == 10:
            return local_midnight(date.fromisoformat(text), tz)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(example) from None
    if moment.tzinfo is None:
        raise ValueError(example)  # whose wall clock? The zone's, or UTC as elsewhere: we do not guess
    return moment.astimezone(UTC)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of `day` in `tz`, in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def _first_day(day: date, bucket: Bucket) -> date:
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


def _next_day(first: date, bucket: Bucket) -> date:
    if bucket == "week":
        return first + timedelta(days=7)
    if bucket == "month":
        return date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first + timedelta(days=1)


def _months_before(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def floor(moment: datetime, bucket: Bucket, tz: ZoneInfo) -> datetime:
    """The start of the bucket holding `moment`."""
    return local_midnight(_first_day(moment.astimezone(tz).date(), bucket), tz)


def ceil(moment: datetime, bucket: Bucket, tz: ZoneInfo) -> datetime:
    """The start of the first bucket starting at or after `moment`."""
    start = floor(moment, bucket, tz)
    if start == moment:
        return start
    return local_midnight(_next_day(_first_day(start.astimezone(tz).date(), bucket), bucket), tz)


@dataclass(frozen=True)
class Period:
    """The buckets of an answer: `bounds` are their starts in UTC, then the end of the last."""

    bucket: Bucket
    tz: ZoneInfo
    bounds: Sequence[datetime]

    @property
    def start(self) -> datetime:
        return self.bounds[0]

    @property
    def end(self) -> datetime:
        return self.bounds[-1]

    def local(self, moment: datetime) -> str:
        """ISO 8601 with the zone's offset at that instant."""
        return moment.astimezone(self.tz).isoformat()


def period(
    bucket: Bucket, tz: ZoneInfo, start: datetime | None, end: datetime | None, now: datetime
) -> Period:
    """The buckets from `start` (snapped down to a bucket start) to `end` (snapped up), by default
    the bucket holding `now` and those before it, 30 days, 12 weeks or 12 months back.

    ValueError when `start` is not before `end`, or they lie over MAX_DAYS local days apart (a
    date-time counts as its whole day), so that an answer reads a bounded number of slots."""
    if end is None:
        end = ceil(now + timedelta(microseconds=1), bucket, tz)  # the bucket after now's
    stop = ceil(end, bucket, tz)
    if start is None:
        start = _default_start(stop, bucket, tz)
    if start >= end:
        raise ValueError("from must be before to")
    days = (ceil(end, "day", tz).astimezone(tz).date() - start.astimezone(tz).date()).days
    if days > MAX_DAYS:
        raise ValueError(f"from and to are {days} days apart; at most {MAX_DAYS} days per request")
    first_day = _first_day(start.astimezone(tz).date(), bucket)
    bounds = [local_midnight(first_day, tz)]
    day = first_day
    while bounds[-1] < stop:
        day = _next_day(day, bucket)
        bounds.append(local_midnight(day, tz))
    return Period(bucket, tz, bounds)


def _default_start(stop: datetime, bucket: Bucket, tz: ZoneInfo) -> datetime:
    """30 days, 12 weeks or 12 months before `stop`, a bucket start."""
    last = stop.astimezone(tz).date()
    span = DEFAULT_SPAN[bucket]
    if bucket == "month":
        return local_midnight(_months_before(last, span), tz)
    return local_midnight(last - timedelta(days=span * (7 if bucket == "week" else 1)), tz)
