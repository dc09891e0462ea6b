"""The door: request bodies and query strings decoded into their models, or refused with 400."""

from __future__ import annotations

import re
from typing import TypeVar
from uuid import UUID

import msgspec
from starlette.requests import Request

from cpms.api.errors import ApiError, bad_request

MAX_BODY_BYTES = 256 * 1024

M = TypeVar("M")

# msgspec says what is wrong, then where: "Expected `int`, got `str` - at `$.site.connectors`".
_WHERE = re.compile(r"^(?P<what>.*?)(?: - at `\$\.?(?P<where>.*)`)?$", re.DOTALL)
_FIELD = re.compile(r"^Object (?P<kind>missing required|contains unknown) field `(?P<name>.*)`$")


async def body_of(request: Request, model: type[M]) -> M:
    """The request body as `model`: a JSON object with every required field, none unknown, each
    of its type. Bodies over MAX_BODY_BYTES are refused (413) before they are read whole, and
    bodies declared as anything but JSON (415): no Content-Type at all is taken as JSON."""
    _json_declared(request)
    body = await read_body(request)
    try:
        return msgspec.json.decode(body, type=model)
    except msgspec.ValidationError as error:
        if not body.lstrip().startswith(b"{"):
            raise bad_request("request body must be a JSON object") from None
        raise bad_request(_message(error, "field")) from None
    except (msgspec.DecodeError, UnicodeDecodeError) as error:
        raise bad_request(f"request body is not valid JSON: {error}") from None


def query_of(request: Request, model: type[M]) -> M:
    """The query string as `model`: text converted to each parameter's type, none unknown.
    A parameter given twice counts once, with its last value."""
    try:
        return msgspec.convert(dict(request.query_params), model, strict=False)
    except msgspec.ValidationError as error:
        raise bad_request(_message(error, "parameter")) from None


def uuid_param(value: str, what: str) -> str:
    """Ids in paths are UUIDs; anything else cannot name a resource, so it is not found."""
    try:
        return str(UUID(value))
    except ValueError:
        raise ApiError(404, "not_found", f"{what} {value!r} not found") from None


def _json_declared(request: Request) -> None:
    declared = request.headers.get("content-type")
    if declared is None:
        return
    media_type = declared.split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send the body as JSON with Content-Type: application/json, not {media_type or 'empty'}",
        )


async def read_body(request: Request) -> bytes:
    """The body, refused (413) as soon as it is known to exceed MAX_BODY_BYTES."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise _too_large()
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise _too_large()
    return body


def _too_large() -> ApiError:
    return ApiError(413, "payload_too_large", f"request body exceeds {MAX_BODY_BYTES} bytes")


def _message(error: msgspec.ValidationError, noun: str) -> str:
    """msgspec's message with the field named first, in the words of today's answers:
    "unknown field(s): site.colour", "missing field(s): serial_number", "connectors: expected
    `int`, got `str`"."""
    match = _WHERE.match(str(error))
    assert match is not None  # the pattern matches any text
    what, where = match["what"], match["where"] or ""
    field = _FIELD.match(what)
    if field is not None:
        kind = "missing" if field["kind"] == "missing required" else "unknown"
        return f"{kind} {noun}(s): {'.'.join(filter(None, (where, field['name'])))}"
    if not where:
        return what  # a rule of the whole, e.g. "from must be before to"
    return f"{where}: {what[:1].lower()}{what[1:]}"
