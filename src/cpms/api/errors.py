"""Every error the API answers, as `{"error": {"code", "message"}}` with the right status."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from cpms.aggregates.errors import Conflict, InvalidValue, NotFound
from cpms.api.models.common import Error, ErrorDetail
from cpms.api.responses import reply
from cpms.application.station_link import CommandsUnavailable
from cpms.infra.health import Unavailable, is_unavailable
from cpms.projections.paging import BadCursor
from cpms.projections.runner import ProjectionFailing, ProjectionLagging

# Seconds a client should wait before trying again, by what made us answer 503.
RETRY_AFTER_LAGGING = 1
RETRY_AFTER_UNAVAILABLE = 2
RETRY_AFTER_FAILING = 10


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def bad_request(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return reply(Error, Error(ErrorDetail(code, message)), status, headers)


async def _api_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.headers)


def _mapped(status: int, code: str, retry_after: int | None = None) -> Any:
    headers = None if retry_after is None else {"Retry-After": str(retry_after)}

    async def handler(_: Request, exc: Exception) -> Response:
        return error_response(status, code, str(exc), headers)

    return handler


async def _unavailable(_: Request, exc: Exception) -> Response:
    """A store we need is down: say which, and when to try again (not why: that is for operators)."""
    dependency = exc.dependency if isinstance(exc, Unavailable) else "database"
    message = f"the {dependency.replace('_', ' ')} is unavailable; retry shortly"
    return error_response(503, "unavailable", message, {"Retry-After": str(RETRY_AFTER_UNAVAILABLE)})


async def _http_exception(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, exc.detail, dict(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> Response:
    if is_unavailable(exc):
        return await _unavailable(request, exc)
    return error_response(500, "internal_error", "the server failed to handle this request")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ApiError: _api_error,
    InvalidValue: _mapped(422, "invalid_value"),
    NotFound: _mapped(404, "not_found"),
    Conflict: _mapped(409, "conflict"),
    BadCursor: _mapped(400, "bad_request"),
    ProjectionLagging: _mapped(503, "read_models_lagging", RETRY_AFTER_LAGGING),
    ProjectionFailing: _mapped(503, "read_model_failing", RETRY_AFTER_FAILING),
    Unavailable: _unavailable,
    CommandsUnavailable: _mapped(503, "commands_unavailable", RETRY_AFTER_FAILING),
    HTTPException: _http_exception,
    Exception: _unexpected,
}
