"""What every resource shares: the error body, paging, and how ids and instants are spelled."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from msgspec import Meta, Struct

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def documented(description: str | None = None, **schema: Any) -> Meta:
    """A rule the domain enforces (422; 404 for an id naming nothing of the caller's), written
    into the schema for clients only: a constraint of msgspec's own would refuse the same value at
    the door with 400 instead."""
    return Meta(description=description, extra_json_schema=schema or None)


# Spellings of values as they are served; stored ids and instants are text already.
Uuid = Annotated[str, documented(format="uuid")]
# An id a client sends: decoded at the door, so a malformed one is a 400 naming the field.
UuidIn = UUID
Instant = Annotated[str, documented(format="date-time")]
Limit = Annotated[int, Meta(ge=1, le=MAX_LIMIT, description="items per page")]
Cursor = Annotated[str | None, Meta(description="the next_cursor of the previous page")]


class ErrorDetail(Struct):
    code: str
    message: str


class Error(Struct):
    """Every error the API answers."""

    error: ErrorDetail


class NoQuery(Struct, forbid_unknown_fields=True):
    """The query string of a route that takes no parameters: any parameter is refused."""


class PageQuery(Struct, forbid_unknown_fields=True):
    limit: Limit = DEFAULT_LIMIT
    cursor: Cursor = None

    def __post_init__(self) -> None:
        self.cursor = self.cursor or None  # `cursor=` is the first page, as a form would send it
