"""Buckets of a time zone: local days of 23 and 25 hours, ISO weeks across a year's end, months,
zones half and three quarters of an hour off UTC, the defaults and what is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cpms.buckets import Period, parse_bound, period, zone

PARIS = zone("Europe/Paris")
NOW = datetime(2026, 11, 29, 3, 50, tzinfo=UTC)  # a Sunday


def buckets(bucket: str, tz: str, start: str | None, end: str | None, now: datetime = NOW) -> Period:
    z = zone(tz)
    return period(
        bucket,  # type: ignore[arg-type]
        z,
        None if start is None else parse_bound(start, z, "from"),
        None if end is None else parse_bound(end, z, "to"),
        now,
    )


def starts(found: Period) -> list[str]:
    return [found.local(bound) for bound in found.bounds]


def hours(found: Period) -> list[float]:
    pairs = zip(found.bounds, found.bounds[1:], strict=False)
    return [(end - start).total_seconds() / 3600 for start, end in pairs]


def test_the_day_clocks_go_forward_in_paris_has_23_hours():
    found = buckets("day", "Europe/Paris", "2026-03-28", "2026-03-31")
    assert starts(found) == [
        "2026-03-28T00:00:00+01:00",
        "2026-03-29T00:00:00+01:00",
        "2026-03-30T00:00:00+02:00",
        "2026-03-31T00:00:00+02:00",
    ]
    assert hours(found) == [24, 23, 24]
    assert found.bounds[0] == datetime(2026, 3, 27, 23, tzinfo=UTC)  # a Paris day is not a UTC day


def test_the_day_clocks_go_back_in_paris_has_25_hours():
    found = buckets("day", "Europe/Paris", "2026-10-24", "2026-10-27")
    assert starts(found) == [
        "2026-10-24T00:00:00+02:00",
        "2026-10-25T00:00:00+02:00",
        "2026-10-26T00:00:00+01:00",
        "2026-10-27T00:00:00+01:00",
    ]
    assert hours(found) == [24, 25, 24]


def test_iso_weeks_start_on_monday_across_the_years_end():
    found = buckets("week", "Europe/Paris", "2026-12-31", "2027-01-05")
    assert starts(found) == [
        "2026-12-28T00:00:00+01:00",  # ISO week 53 of 2026
        "2027-01-04T00:00:00+01:00",
        "2027-01-11T00:00:00+01:00",
    ]
    assert hours(found) == [168, 168]


def test_the_week_of_a_daylight_saving_change_is_an_hour_short():
    assert hours(buckets("week", "Europe/Paris", "2026-03-23", "2026-03-30")) == [167]


def test_months_end_at_their_last_day_whatever_their_length():
    found = buckets("month", "Europe/Paris", "2026-01-31T23:30:00+01:00", "2026-04-01")
    assert starts(found) == [
        "2026-01-01T00:00:00+01:00",
        "2026-02-01T00:00:00+01:00",
        "2026-03-01T00:00:00+01:00",
        "2026-04-01T00:00:00+02:00",
    ]
    assert hours(found) == [31 * 24, 28 * 24, 31 * 24 - 1]


def test_a_month_across_the_years_end():
    assert starts(buckets("month", "UTC", "2026-12-15", "2027-01-02")) == [
        "2026-12-01T00:00:00+00:00",
        "2027-01-01T00:00:00+00:00",
        "2027-02-01T00:00:00+00:00",
    ]


@pytest.mark.parametrize(
    ("tz", "midnight_utc"),
    [("Asia/Kolkata", "2026-03-01T18:30:00"), ("Asia/Kathmandu", "2026-03-01T18:15:00")],
)
def test_days_of_zones_off_by_half_and_three_quarters_of_an_hour(tz, midnight_utc):
    found = buckets("day", tz, "2026-03-02", "2026-03-03")
    assert found.bounds[0] == datetime.fromisoformat(midnight_utc).replace(tzinfo=UTC)
    assert hours(found) == [24]


def test_a_midnight_that_does_not_happen_starts_the_day_at_its_first_instant():
    # Santiago moves its clocks from 00:00 to 01:00 on the first Sunday of September.
    found = buckets("day", "America/Santiago", "2026-09-05", "2026-09-07")
    assert starts(found) == [
        "2026-09-05T00:00:00-04:00",
        "2026-09-06T01:00:00-03:00",
        "2026-09-07T00:00:00-03:00",
    ]
    assert hours(found) == [24, 23]


def test_bounds_snap_to_bucket_starts_from_down_and_to_up():
    found = buckets("day", "Europe/Paris", "2026-03-10T15:00:00Z", "2026-03-12T00:00:01+01:00")
    assert starts(found) == [
        "2026-03-10T00:00:00+01:00",
        "2026-03-11T00:00:00+01:00",
        "2026-03-12T00:00:00+01:00",
        "2026-03-13T00:00:00+01:00",
    ]
    assert (
        starts(buckets("day", "UTC", "2026-03-10", "2026-03-12T00:00:00Z"))[-1] == "2026-03-12T00:00:00+00:00"
    )


@pytest.mark.parametrize(
    ("bucket", "first", "last", "count"),
    [
        ("day", "2026-10-31T00:00:00+01:00", "2026-11-30T00:00:00+01:00", 30),
        ("week", "2026-09-07T00:00:00+02:00", "2026-11-30T00:00:00+01:00", 12),
        ("month", "2025-12-01T00:00:00+01:00", "2026-12-01T00:00:00+01:00", 12),
    ],
)
def test_by_default_the_range_ends_with_the_bucket_holding_now(bucket, first, last, count):
    found = buckets(bucket, "Europe/Paris", None, None)
    assert (found.local(found.start), found.local(found.end), len(found.bounds) - 1) == (first, last, count)


def test_to_alone_counts_the_default_span_back_from_it():
    found = buckets("day", "UTC", None, "2026-03-01")
    assert (found.local(found.start), len(found.bounds) - 1) == ("2026-01-30T00:00:00+00:00", 30)


def test_from_after_the_bucket_after_now_needs_a_to():
    with pytest.raises(ValueError, match="from must be before to"):
        buckets("day", "UTC", "2026-12-01", None)


def test_four_hundred_days_are_answered_and_one_more_is_refused():
    assert len(buckets("day", "Europe/Paris", "2025-10-01", "2026-11-05").bounds) == 401
    with pytest.raises(ValueError, match="401 days apart; at most 400 days"):
        buckets("day", "Europe/Paris", "2025-10-01", "2026-11-06")
    with pytest.raises(ValueError, match="at most 400 days"):  # a date-time counts its whole day
        buckets("month", "UTC", "2025-10-01", "2026-11-05T00:00:01Z")


def test_from_must_be_before_to():
    with pytest.raises(ValueError, match="from must be before to"):
        buckets("day", "UTC", "2026-03-02", "2026-03-02")


@pytest.mark.parametrize("name", ["Mars/Olympus", "europe/paris", "", "../../etc/passwd", "/etc/localtime"])
def test_a_zone_must_be_an_iana_name(name):
    with pytest.raises(ValueError, match="is not an IANA time zone name"):
        zone(name)


@pytest.mark.parametrize("text", ["2026-03-02T00:00:00", "yesterday", "2026-13-01", "2026-03-02 00:00"])
def test_a_bound_is_a_date_or_a_date_time_with_its_offset(text):
    with pytest.raises(ValueError, match="from must be a date"):
        parse_bound(text, PARIS, "from")


def test_a_date_is_midnight_in_the_zone():
    assert parse_bound("2026-07-14", PARIS, "from") == datetime(2026, 7, 13, 22, tzinfo=UTC)
