"""Opaque keyset cursors: the sort key of the last row served, base64url of JSON."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson


class BadCursor(ValueError):
    pass


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        key = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise BadCursor("cursor is not one this API issued") from None
    if not isinstance(key, list) or len(key) != arity:
        raise BadCursor("cursor is not one this API issued")
    return key


def page(rows: list[Any], limit: int, key_of: Any) -> tuple[list[Any], str | None]:
    """Rows were fetched with `limit + 1`; cut to `limit` and say where the next page starts."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(key_of(rows[-1]))
