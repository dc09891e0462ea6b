"""What endpoints share: the services, the caller's organization, and reads in the threadpool."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from cpms.api.errors import ApiError, not_found
from cpms.application import ChargingNetwork, Written
from cpms.audit.history import SiteHistory
from cpms.infra.health import VIEW_STORE, DependencyMonitor, Unavailable, is_unavailable
from cpms.projections.base import Projection
from cpms.projections.runner import ProjectionRunner
from cpms.projections.store import Tx, ViewStore

T = TypeVar("T")

# The portal's sign-in keeps the organization's API key in this cookie (HttpOnly, SameSite=Strict).
# The API reads it for safe methods only, so that a page's script reads what the API answers
# (the Analytics charts, the CSV export) while no change can ride on a cookie.
SESSION_COOKIE = "cpms_session"
SAFE_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class ApiServices:
    network: ChargingNetwork
    views: ViewStore
    projections: ProjectionRunner
    health: DependencyMonitor
    ocpi_url: str = "http://127.0.0.1:8000/ocpi"  # the OCPI base URL partners are given
    ocpi_currency: str = "EUR"  # of Sessions and CDRs at sites without a tariff
    operator_key: str | None = None  # the operator's own key, for operator endpoints
    # Set when the node stops: long-lived answers (the portal's live sheet) end, so the HTTP
    # server is not left waiting for browsers that would hold them open for ever.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # Auditors' reads of a site's past, from the event log (None where no log is at hand).
    history: SiteHistory | None = None


def services(request: Request) -> ApiServices:
    return request.app.state.services  # type: ignore[no-any-return]


async def authenticate(request: Request) -> None:
    """Learn the organization of the request's Bearer API key, or answer 401. A GET without an
    Authorization header may bring the key in the portal's session cookie instead."""
    key = api_key_of(request)
    if key is None:
        raise _unauthorized("missing Bearer API key")
    organization_id = await services(request).network.authenticate(key)
    if organization_id is None:
        raise _unauthorized("unknown API key")
    request.state.organization = organization_id


async def authenticate_operator(request: Request) -> None:
    """Let the operator's key through (Bearer only: no portal cookie); an organization's key is
    403, for operator endpoints show every organization's data; no key or an unknown one 401."""
    header = request.headers.get("authorization")
    key = api_key_of(request) if header is not None else None
    if key is None:
        raise _unauthorized("missing Bearer API key (operator endpoints need the operator's)")
    expected = services(request).operator_key
    if expected is not None and hmac.compare_digest(key.encode(), expected.encode()):
        request.state.organization = None
        return
    if await services(request).network.authenticate(key) is not None:
        raise ApiError(
            403,
            "forbidden",
            "this is an operator endpoint: it needs the operator's key (CPMS_OPERATOR_API_KEY),"
            " not an organization's",
        )
    raise _unauthorized("unknown API key")


def api_key_of(request: Request) -> str | None:
    """The API key the request brings: its Bearer header, or for a safe method without one, the
    portal's session cookie."""
    header = request.headers.get("authorization")
    if header is None:
        cookie = request.cookies.get(SESSION_COOKIE, "").strip()
        return cookie if cookie and request.method in SAFE_METHODS else None
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return key.strip()


def organization(request: Request) -> str:
    """The caller's organization, which the door authenticated before the endpoint ran."""
    return request.state.organization  # type: ignore[no-any-return]


async def read(request: Request, query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a read-model query on a worker thread, in one consistent read transaction; refused at
    once while the view store is known to be down."""
    views, health = services(request).views, services(request).health
    health.require(VIEW_STORE)

    def run() -> T:
        with views.read() as tx:
            return query(tx, *args, **kwargs)

    try:
        return await run_in_threadpool(run)
    except Exception as error:
        if not is_unavailable(error):
            raise
        health.report(VIEW_STORE, error)
        raise Unavailable(VIEW_STORE, str(error)) from error


async def read_one(request: Request, query: Callable[..., T | None], *args: Any, missing: str) -> T:
    """A read model's answer about one thing of the caller's organization, or 404 `missing`."""
    found = await read(request, query, *args)
    if found is None:
        raise not_found(missing)
    return found


async def caught_up(request: Request, written: Written, reads: tuple[type[Projection], ...]) -> None:
    """Read-your-writes: wait until the read models include the caller's write. One stopped at a
    failing event answers 503 only when the response `reads` it; otherwise it is not waited for."""
    assert reads, "name the read models the response is built from"
    if written.stored is not None:
        await services(request).projections.wait_for(
            written.stored.position,
            event_types=written.stored.event_types,
            reads=[projection.name for projection in reads],
        )


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, {"WWW-Authenticate": 'Bearer realm="cpms"'})


__all__ = [
    "SESSION_COOKIE",
    "ApiServices",
    "Tx",
    "api_key_of",
    "authenticate",
    "authenticate_operator",
    "caught_up",
    "organization",
    "read",
    "read_one",
    "services",
]
