"""Strict parsing of what clients send: JSON bodies and query parameters."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import Any
from uuid import UUID

import orjson
from starlette.requests import Request

from cpms.api.errors import ApiError, bad_request

MAX_BODY_BYTES = 256 * 1024
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


async def json_object(
    request: Request, allowed: AbstractSet[str], required: AbstractSet[str] = frozenset()
) -> dict[str, Any]:
    """The request body as a JSON object with every `required` field and none outside `allowed`."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise ApiError(413, "payload_too_large", f"request body exceeds {MAX_BODY_BYTES} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise ApiError(413, "payload_too_large", f"request body exceeds {MAX_BODY_BYTES} bytes")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise bad_request(f"request body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise bad_request("request body must be a JSON object")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise bad_request(f"unknown field(s): {', '.join(unknown)}")
    missing = sorted(required - set(data))
    if missing:
        raise bad_request(f"missing field(s): {', '.join(missing)}")
    return data


def page_params(request: Request) -> tuple[int, str | None]:
    """`limit` (1..500, default 50) and the opaque `cursor`."""
    raw = request.query_params.get("limit")
    if raw is None:
        limit = DEFAULT_LIMIT
    else:
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            raise bad_request(f"limit must be an integer from 1 to {MAX_LIMIT}")
        limit = int(raw)
    cursor = request.query_params.get("cursor") or None
    return limit, cursor


def uuid_param(value: str, what: str) -> str:
    """Ids in paths are UUIDs; anything else cannot name a resource, so it is not found."""
    try:
        return str(UUID(value))
    except ValueError:
        raise ApiError(404, "not_found", f"{what} {value!r} not found") from None
