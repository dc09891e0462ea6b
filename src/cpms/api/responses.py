"""Responses encoded through their models: what is served is what the document describes."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.responses import Response

_ENCODER = msgspec.json.Encoder()


def reply(
    model: type[Any], content: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """`content` (a read model's dicts, or the model itself) as `model`, in JSON. A field the
    model lacks is left out; one it needs and `content` lacks is our bug, answered 500."""
    if not isinstance(content, model):
        content = msgspec.convert(content, model)
    return raw_json(_ENCODER.encode(content), status, headers)


def raw_json(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, headers=headers, media_type="application/json")
