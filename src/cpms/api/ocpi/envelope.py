"""The OCPI 2.2.1 door: every answer in the response envelope, the credentials token checked,
X-Request-ID and X-Correlation-ID carried back, errors as the spec's status codes."""

from __future__ import annotations

import base64
import binascii
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cpms.aggregates.errors import Conflict, InvalidValue, NotFound
from cpms.api.context import services
from cpms.api.errors import ApiError
from cpms.api.requests import read_body
from cpms.application.roaming import OcpiCaller
from cpms.infra.health import is_unavailable

log = logging.getLogger(__name__)

SUCCESS = 1000
CLIENT_ERROR = 2000
INVALID_PARAMETERS = 2001
UNKNOWN_LOCATION = 2003
UNKNOWN_TOKEN = 2004
SERVER_ERROR = 3000
CLIENT_API_UNUSABLE = 3001
UNSUPPORTED_VERSION = 3002
NO_MATCHING_ENDPOINTS = 3003

_ENCODER = msgspec.json.Encoder()


class OcpiError(Exception):
    def __init__(self, http_status: int, status_code: int, message: str) -> None:
        super().__init__(message)
        self.http_status, self.status_code, self.message = http_status, status_code, message


def invalid(message: str) -> OcpiError:
    return OcpiError(400, INVALID_PARAMETERS, message)


def envelope(
    data: Any,
    status_code: int = SUCCESS,
    message: str | None = None,
    http_status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    body = {
        "data": data,
        "status_code": status_code,
        "status_message": message or ("Success" if status_code == SUCCESS else "Error"),
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    return Response(_ENCODER.encode(body), http_status, headers, media_type="application/json")


Endpoint = Callable[[Request, OcpiCaller], Awaitable[Response]]


def ocpi_route(path: str, endpoint: Endpoint, methods: list[str], *, token_a: bool = False) -> Route:
    """A route of the OCPI API. Token A opens only the versions and credentials modules
    (`token_a`); any other module answers it 401, as the spec says."""

    async def handle(request: Request) -> Response:
        try:
            caller = await _caller(request)
            if caller.credentials_token == "A" and not token_a:
                raise OcpiError(401, CLIENT_ERROR, "token A opens only the versions and credentials modules")
            response = await endpoint(request, caller)
        except OcpiError as error:
            response = envelope(None, error.status_code, error.message, error.http_status)
        except InvalidValue as error:
            response = envelope(None, INVALID_PARAMETERS, str(error), 400)
        except NotFound as error:
            response = envelope(None, CLIENT_ERROR, str(error), 404)
        except Conflict as error:
            response = envelope(None, CLIENT_ERROR, str(error), 405)
        except Exception as error:
            if not is_unavailable(error):
                log.exception("OCPI %s %s failed", request.method, request.url.path)
            response = envelope(None, SERVER_ERROR, "the server failed to handle this request", 500)
        return _traced(request, response)

    return Route(path, handle, methods=methods, name=f"ocpi_{endpoint.__name__}")


async def _caller(request: Request) -> OcpiCaller:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "token" or not value.strip():
        raise OcpiError(401, CLIENT_ERROR, "missing Authorization: Token <credentials token>")
    network = services(request).network
    for token in _readings(value.strip()):
        caller = await network.ocpi_caller(token)
        if caller is not None:
            request.state.credentials_token = token
            return caller
    raise OcpiError(401, CLIENT_ERROR, "unknown credentials token")


def _readings(value: str) -> list[str]:
    """OCPI 2.2.1 sends the token base64-encoded; earlier habits send it plain: try both."""
    readings = [value]
    try:
        decoded = base64.b64decode(value, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return readings
    if decoded and decoded.isprintable():
        readings.insert(0, decoded)
    return readings


def _traced(request: Request, response: Response) -> Response:
    response.headers["X-Request-ID"] = request.headers.get("x-request-id") or str(uuid.uuid4())
    correlation = request.headers.get("x-correlation-id")
    response.headers["X-Correlation-ID"] = correlation or response.headers["X-Request-ID"]
    return response


def authorization(token: str) -> str:
    """The Authorization header value for calls to a partner with its token B."""
    return "Token " + base64.b64encode(token.encode()).decode()


async def json_body(request: Request, model: type[Any]) -> Any:
    """The body as `model`, or 2001 naming what is wrong (invalid JSON: HTTP 400 as well); a body
    over the API's limit is refused (HTTP 413) before it is read whole."""
    try:
        body = await read_body(request)
    except ApiError as error:
        raise OcpiError(error.status, CLIENT_ERROR, error.message) from None
    try:
        return msgspec.json.decode(body, type=model)
    except msgspec.ValidationError as error:
        raise invalid(str(error)) from None
    except msgspec.DecodeError as error:
        raise invalid(f"request body is not valid JSON: {error}") from None
