"""The orjson transcoder: event state survives the round trip, datetimes keep their type."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpms.infra.eventstore import OrjsonTranscoder


@pytest.fixture
def transcoder() -> OrjsonTranscoder:
    return OrjsonTranscoder()


def test_nested_dicts_and_lists_with_aware_datetimes_round_trip(transcoder: OrjsonTranscoder) -> None:
    paris_summer = timezone(timedelta(hours=2))
    state = {
        "occurred_at": datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC),
        "changes": {
            "address": {"city": "Lyon", "street": "1 Rue X"},
            "readings": [
                {"at": datetime(2024, 5, 1, 14, 0, tzinfo=paris_summer), "wh": 1200},
                [datetime(2023, 1, 1, tzinfo=UTC), None, True, 1.5],
            ],
        },
        "evse_ids": ["FR*SMA*E1*1", None],
    }
    decoded = transcoder.decode(transcoder.encode(state))
    assert decoded == state
    reading_at = decoded["changes"]["readings"][0]["at"]
    assert isinstance(reading_at, datetime)
    assert reading_at.utcoffset() == timedelta(hours=2)


def test_strings_that_look_like_dates_stay_strings(transcoder: OrjsonTranscoder) -> None:
    state = {
        "label": "2024-05-01T12:00:00+00:00",
        "when": datetime(2024, 5, 1, tzinfo=UTC),
        "list": ["2024-05-01", "2024-05-01T12:00:00Z"],
    }
    decoded = transcoder.decode(transcoder.encode(state))
    assert decoded == state
    assert isinstance(decoded["label"], str)
    assert all(isinstance(value, str) for value in decoded["list"])


def test_an_envelope_of_an_unknown_type_is_left_as_is(transcoder: OrjsonTranscoder) -> None:
    state = {"value": {"_type_": "decimal", "_data_": "1.50"}, "at": datetime(2024, 5, 1, tzinfo=UTC)}
    decoded = transcoder.decode(transcoder.encode(state))
    assert decoded["value"] == {"_type_": "decimal", "_data_": "1.50"}
    assert decoded["at"] == datetime(2024, 5, 1, tzinfo=UTC)


def test_a_datetime_envelope_with_extra_keys_is_left_as_is(transcoder: OrjsonTranscoder) -> None:
    envelope = {"_type_": "datetime_iso", "_data_": "2024-05-01T00:00:00+00:00", "note": "x"}
    assert transcoder.decode(transcoder.encode({"value": envelope})) == {"value": envelope}


def test_sets_and_tuples_are_stored_as_lists(transcoder: OrjsonTranscoder) -> None:
    decoded = transcoder.decode(transcoder.encode({"ids": ("a", "b"), "groups": {"g1"}}))
    assert decoded == {"ids": ["a", "b"], "groups": ["g1"]}


def test_a_value_json_cannot_hold_is_refused(transcoder: OrjsonTranscoder) -> None:
    with pytest.raises(TypeError):
        transcoder.encode({"value": object()})


fixed_offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
aware_datetimes = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=fixed_offsets
)
texts = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=20)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts
    | aware_datetimes
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(texts, json_values, max_size=5))
def test_any_event_state_of_json_values_and_aware_datetimes_round_trips(state: dict[str, Any]) -> None:
    transcoder = OrjsonTranscoder()
    assert transcoder.decode(transcoder.encode(state)) == state
