"""Keyset cursors: what the API issues it reads back, anything else is a BadCursor."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpms.projections.paging import BadCursor, decode_cursor, encode_cursor, page


def test_a_cursor_reads_back_as_the_key_it_was_made_from() -> None:
    key = ["2024-05-01T12:00:00.000Z", "3f2b8c1e-0000-4000-8000-000000000001", 42]
    assert decode_cursor(encode_cursor(key), 3) == key


def test_a_cursor_is_url_safe_without_padding() -> None:
    cursor = encode_cursor(["é?&/+=", 1])
    assert "=" not in cursor and "+" not in cursor and "/" not in cursor


keys = st.lists(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.text(alphabet=st.characters(exclude_categories=("Cs",))),
    max_size=4,
)


@given(keys)
def test_any_key_of_json_scalars_round_trips(key: list[Any]) -> None:
    assert decode_cursor(encode_cursor(key), len(key)) == key


@pytest.mark.parametrize("cursor", ["", "!!!", "abcde", "not a cursor", "é", "////", "e30"], ids=repr)
def test_a_garbage_cursor_is_a_bad_cursor(cursor: str) -> None:
    with pytest.raises(BadCursor):
        decode_cursor(cursor, 2)


def test_a_cursor_of_another_arity_is_a_bad_cursor() -> None:
    with pytest.raises(BadCursor):
        decode_cursor(encode_cursor(["a", 1, 2]), 2)


def test_a_cursor_that_is_not_a_list_is_a_bad_cursor() -> None:
    with pytest.raises(BadCursor):
        decode_cursor(encode_cursor({"a": 1}), 1)  # type: ignore[arg-type]


def test_a_short_result_is_the_last_page() -> None:
    assert page([1, 2, 3], 3, lambda row: [row]) == ([1, 2, 3], None)


def test_a_full_result_is_cut_and_points_past_its_last_row() -> None:
    rows, cursor = page([{"id": n} for n in range(4)], 3, lambda row: [row["id"]])
    assert rows == [{"id": 0}, {"id": 1}, {"id": 2}]
    assert cursor is not None
    assert decode_cursor(cursor, 1) == [2]
