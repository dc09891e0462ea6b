"""Opaque keyset cursors: the sort key of the last row served, base64url of JSON."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
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


def keyset_page(
    tx: Any,
    sql: str,
    params: list[Any],
    *,
    order_by: tuple[str, ...],
    key_of: Callable[[Any], list[Any]],
    limit: int,
    cursor: str | None,
    descending: bool = False,
) -> tuple[list[Any], str | None]:
    """Run `sql` (a SELECT with a WHERE clause) for one page in `order_by` order, resuming after
    the row the cursor names: keyset paging, stable under inserts, one index range per page."""
    if cursor is not None:
        marks = ", ".join("?" for _ in order_by)
        sql += f" AND ({', '.join(order_by)}) {'<' if descending else '>'} ({marks})"
        params = [*params, *decode_cursor(cursor, len(order_by))]
    direction = " DESC" if descending else ""
    sql += " ORDER BY " + ", ".join(column + direction for column in order_by) + " LIMIT ?"
    return page(tx.execute(sql, [*params, limit + 1]), limit, key_of)


def page(rows: list[Any], limit: int, key_of: Any) -> tuple[list[Any], str | None]:
    """Rows were fetched with `limit + 1`; cut to `limit` and say where the next page starts."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(key_of(rows[-1]))
