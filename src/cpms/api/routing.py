"""One declaration per operation: method, path, endpoint, the models it reads and answers with, and
a summary. The app's routes and the OpenAPI document are both built from these, so no route is
served undocumented, and none reads a body or a query string other than the one documented."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cpms.api.context import authenticate, authenticate_operator
from cpms.api.requests import body_of, query_of

B = TypeVar("B")
Q = TypeVar("Q")


@dataclass(frozen=True)
class PathParameter:
    description: str
    schema: Mapping[str, Any]
    # Starlette's convertor; "path" lets a value hold a slash (sent percent-encoded).
    convertor: str | None = None


UUID_SCHEMA = {"type": "string", "format": "uuid"}
# Every name a path may hold, described once; an id that names nothing of the caller's
# organization (or is no UUID) is answered 404.
PATH_PARAMETERS = {
    "site_id": PathParameter("a site of the caller's organization", UUID_SCHEMA),
    "group_id": PathParameter("an access group of the caller's organization", UUID_SCHEMA),
    "session_id": PathParameter("a charging session of the caller's organization", UUID_SCHEMA),
    "ocpp_id": PathParameter("a station, by its OCPP identity", {"type": "string"}),
    "connector_id": PathParameter(
        "a charge point of the station, numbered from 1", {"type": "integer", "minimum": 1}, convertor="int"
    ),
    "command_id": PathParameter("a command sent to a station of the caller's organization", UUID_SCHEMA),
    "uid": PathParameter(
        "a card's uid, whatever its case; a slash percent-encoded", {"type": "string"}, convertor="path"
    ),
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Csv:
    """A text/csv answer (`description` says its columns), streamed."""

    description: str


Answer = type[Any] | Csv


@dataclass(frozen=True)
class Operation(Generic[B, Q]):
    """An operation of the API. `responses` are its answers other than errors (a model per
    status); `errors` the statuses its own rules may answer (404, 409, 422), beside those its
    kind may: 400 (its query string, and its body), 401 and 503 unless `public`, 413 and 415
    with a body. The endpoint receives the request, then the decoded body (None without one) and
    query string."""

    method: str
    path: str
    endpoint: Callable[[Request, B, Q], Awaitable[Response]]
    summary: str
    query: type[Q]
    responses: Mapping[int, Answer]
    body: type[B] | None = None
    errors: frozenset[int] = field(default_factory=frozenset)
    public: bool = False
    operator: bool = False  # for the operator's key only (CPMS_OPERATOR_API_KEY), not an organization's

    def __post_init__(self) -> None:
        unknown = set(self.path_parameters) - set(PATH_PARAMETERS)
        assert not unknown, f"{self.path}: describe {unknown} in PATH_PARAMETERS"

    @property
    def path_parameters(self) -> list[str]:
        return _PLACEHOLDER.findall(self.path)

    @property
    def error_statuses(self) -> list[int]:
        derived = {400} | ({413, 415} if self.body is not None else set())
        derived |= set() if self.public else {401, 503}
        derived |= {403} if self.operator else set()
        return sorted((derived | self.errors) - set(self.responses))

    def route(self) -> Route:
        def convert(match: re.Match[str]) -> str:
            convertor = PATH_PARAMETERS[match[1]].convertor
            return match[0] if convertor is None else f"{{{match[1]}:{convertor}}}"

        path = _PLACEHOLDER.sub(convert, self.path)
        return Route(path, self._handle, methods=[self.method], name=self.endpoint.__name__)

    async def _handle(self, request: Request) -> Response:
        """Who asks, then what: an unknown key is 401 before its request is read."""
        if self.operator:
            await authenticate_operator(request)
        elif not self.public:
            await authenticate(request)
        query = query_of(request, self.query)
        # Without a body model the endpoint declares its body None.
        body = cast(B, None) if self.body is None else await body_of(request, self.body)
        return await self.endpoint(request, body, query)
