"""Instants are written as UTC ISO 8601 with milliseconds and `Z`, and read back from any offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from cpms.timestamps import parse_iso, to_iso


def test_an_utc_instant_is_written_with_milliseconds_and_z() -> None:
    assert to_iso(datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)) == "2024-05-01T12:00:00.123Z"


def test_an_instant_with_an_offset_is_written_in_utc() -> None:
    moment = datetime(2024, 5, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    assert to_iso(moment) == "2024-05-01T12:30:00.000Z"


def test_a_naive_instant_is_written_as_utc() -> None:
    assert to_iso(datetime(2024, 5, 1, 12, 0)) == "2024-05-01T12:00:00.000Z"


def test_written_instants_have_a_fixed_width() -> None:
    moments = [datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)]
    assert {len(to_iso(moment)) for moment in moments} == {24}


def test_z_is_read_as_utc() -> None:
    moment = parse_iso("2024-05-01T12:00:00Z")
    assert moment == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert moment.utcoffset() == timedelta(0)


def test_a_lowercase_z_and_surrounding_spaces_are_accepted() -> None:
    assert parse_iso(" 2024-05-01T12:00:00.5z ") == datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=UTC)


def test_an_offset_is_converted_to_utc() -> None:
    moment = parse_iso("2024-05-01T14:00:00+02:00")
    assert moment == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert moment.tzinfo is UTC
    assert parse_iso("2024-05-01T07:00:00-05:00").hour == 12


def test_a_naive_text_is_read_as_utc() -> None:
    moment = parse_iso("2024-05-01T12:00:00")
    assert moment == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert moment.tzinfo is UTC


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 2),
        max_value=datetime(2100, 1, 1),
        timezones=st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m))),
    )
)
def test_reading_back_a_written_instant_gives_the_same_instant_to_the_millisecond(moment: datetime) -> None:
    expected = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    assert parse_iso(to_iso(moment)) == expected
