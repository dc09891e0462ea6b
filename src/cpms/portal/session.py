"""Signing in with the organization's API key, kept in an HttpOnly, SameSite=Strict cookie; the
token every form carries; and the doors of the portal's pages and forms.

Every page authenticates from the cookie exactly as the API does from its Authorization header
(`ChargingNetwork.authenticate`): a key that opens nothing (revoked, or never known) signs the
browser out. A form's token is an HMAC of the fixed word "csrf" keyed with the session's API key:
another site can neither read it nor compute it, any node of the API role can check it without
shared state, and SameSite=Strict keeps the cookie off cross-site requests besides. Before
signing in, the sign-in form carries a random token doubled in a cookie of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.responses import Response

from cpms.aggregates.errors import NotFound
from cpms.api.context import SESSION_COOKIE, services
from cpms.api.errors import ApiError
from cpms.api.requests import read_body
from cpms.infra.health import Unavailable, is_unavailable
from cpms.portal.i18n import N_
from cpms.portal.rendering import error_page, redirect, render, translate
from cpms.projections.runner import ProjectionLagging

log = logging.getLogger(__name__)

SIGN_IN_COOKIE = "cpms_sign_in"  # the sign-in form's double-submitted token
FORM_TYPE = "application/x-www-form-urlencoded"

Form = dict[str, list[str]]
Page = Callable[[Request], Awaitable[Response]]
Action = Callable[[Request, Form], Awaitable[Response]]


def csrf_token(api_key: str) -> str:
    return hmac.new(api_key.encode(), b"csrf", hashlib.sha256).hexdigest()


def _cookie(response: Response, request: Request, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict",
        path="/",
        secure=request.url.scheme == "https",
    )


def _forget(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(
        name, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )


async def _signed_in(request: Request) -> bool | None:
    """True when the cookie's key opens an organization (then known to the request), False when
    it opens none, None without a cookie."""
    key = request.cookies.get(SESSION_COOKIE, "").strip()
    if not key:
        return None
    organization_id = await services(request).network.authenticate(key)
    if organization_id is None:
        return False
    request.state.organization = organization_id
    request.state.csrf = csrf_token(key)
    return True


def _to_sign_in(request: Request, **query: str | None) -> Response:
    response = redirect("/sign-in", **query)
    _forget(response, request, SESSION_COOKIE)
    return response


async def _answered(request: Request, handle: Callable[[], Awaitable[Response]]) -> Response:
    """The page, or the error a person should see instead of the API's JSON."""
    try:
        return await handle()
    except NotFound as error:
        return error_page(request, 404, N_("Page not found"), str(error))
    except ApiError as error:
        title = N_("Page not found") if error.status == 404 else N_("Bad request")
        return error_page(request, error.status, title, error.message)
    except ProjectionLagging:  # the write is stored; its page shows it shortly
        return error_page(request, 503, N_("Temporarily unavailable"), translate(request, UNAVAILABLE))
    except Exception as error:
        if not isinstance(error, Unavailable) and not is_unavailable(error):
            raise
        return error_page(request, 503, N_("Temporarily unavailable"), translate(request, UNAVAILABLE))


UNAVAILABLE = N_("The portal cannot read its data right now. Try again in a few seconds.")


def page(handle: Page) -> Page:
    """A page for a signed-in browser; others are sent to sign in, and back here afterwards."""

    async def endpoint(request: Request) -> Response:
        signed_in = await _signed_in(request)
        if signed_in is None:
            return redirect("/sign-in", next=_here(request))
        if signed_in is False:
            return _to_sign_in(request, ended="1", next=_here(request))
        return await _answered(request, lambda: handle(request))

    endpoint.__name__ = handle.__name__
    return endpoint


def action(handle: Action) -> Page:
    """A form's POST: signed in, from this origin, with the session's token, or refused (403)."""

    async def endpoint(request: Request) -> Response:
        signed_in = await _signed_in(request)
        if not signed_in:
            return _to_sign_in(request, ended="1" if signed_in is False else None)
        form = await _form(request)
        if form is None or not _same_origin(request) or not _token_matches(form, request.state.csrf):
            return _expired(request)
        return await _answered(request, lambda: handle(request, form))

    endpoint.__name__ = handle.__name__
    return endpoint


def _expired(request: Request) -> Response:
    message = translate(request, "This form has expired. Go back, reload the page and try again.")
    return error_page(request, 403, N_("Forbidden"), message)


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


async def _form(request: Request) -> Form | None:
    """A urlencoded form (bounded as API bodies are), or None for anything else."""
    declared = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if declared != FORM_TYPE:
        return None
    body = await read_body(request)
    form: Form = {}
    for name, value in parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True):
        form.setdefault(name, []).append(value)
    return form


def field(form: Form, name: str) -> str:
    return (form.get(name) or [""])[-1].strip()


def _token_matches(form: Form, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(field(form, "csrf").encode(), expected.encode())


def _same_origin(request: Request) -> bool:
    """A browser names the page a form was sent from; it must be one of ours (a request without
    Origin, from an old browser or a script, still needs the token)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.headers.get("host")


def safe_next(target: str | None) -> str:
    """Only a path of this portal, never another site (`//evil.example`)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


# -- sign in and out --------------------------------------------------------------------------


async def sign_in_form(request: Request) -> Response:
    if await _signed_in(request):
        return redirect(safe_next(request.query_params.get("next")))
    return _sign_in_page(request)


def _sign_in_page(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    query = request.query_params
    context: dict[str, Any] = {
        "sign_in_token": token,
        "next": safe_next(query.get("next")),
        "error": error,
        "signed_out": query.get("signed_out") == "1",
        "ended": query.get("ended") == "1",
    }
    response = render(request, "sign_in.html", context, status=status)
    _cookie(response, request, SIGN_IN_COOKIE, token)
    return response


async def sign_in(request: Request) -> Response:
    form = await _form(request)
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if form is None or not _same_origin(request) or not _token_matches(form, expected):
        return _expired(request)
    key = field(form, "api_key")
    organization_id = await services(request).network.authenticate(key) if key else None
    if organization_id is None:
        log.info("portal sign-in refused: unknown API key")
        return _sign_in_page(request, error=translate(request, "This API key is not known."), status=401)
    response = redirect(safe_next(field(form, "next")))
    _cookie(response, request, SESSION_COOKIE, key)
    _forget(response, request, SIGN_IN_COOKIE)
    return response


@action
async def sign_out(request: Request, form: Form) -> Response:
    response = redirect("/sign-in", signed_out="1")
    _forget(response, request, SESSION_COOKIE)
    return response
