"""Pages from templates: one Jinja2 environment per language, the portal's number, energy,
duration and time formats, and the headers every page carries."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from cpms.aggregates import access_group
from cpms.portal.i18n import CATALOGS, WORDS, negotiate
from cpms.timestamps import parse_iso

HERE = Path(__file__).parent
STATIC = HERE / "static"

# Pages hold an organization's data: never cached, never framed, scripts and styles only from
# the portal itself (no inline script anywhere, so the policy needs no exception).
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _static_versions() -> dict[str, str]:
    """A digest per static file, put in its URL: a new release is fetched anew, not from cache."""
    return {
        path.relative_to(STATIC).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        for path in STATIC.rglob("*")
        if path.is_file()
    }


_VERSIONS = _static_versions()


def static_url(name: str) -> str:
    return f"/static/{name}?v={_VERSIONS[name]}"


# -- formats ----------------------------------------------------------------------------------


def number(value: float | int | None, decimals: int = 0, *, language: str) -> str:
    """1,234.5 in English, 1 234,5 in French (a narrow no-break space between thousands)."""
    if value is None:
        return "—"
    text = f"{value:,.{decimals}f}"
    if language == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def kwh(wh: float | None, *, language: str) -> str:
    return "—" if wh is None else f"{number(wh / 1000, 2, language=language)}\u00a0kWh"


def duration(seconds: int | float | None) -> str:
    """2 h 05 min, 45 min, 30 s: the same in both languages."""
    if seconds is None:
        return "—"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}\u00a0h\u00a0{minutes:02d}\u00a0min"
    if minutes:
        return f"{minutes}\u00a0min"
    return f"{secs}\u00a0s"


def instant(value: str | None, *, language: str) -> Markup:
    """A <time> in UTC; the page's script shows it in the browser's own zone and language."""
    if not value:
        return Markup("—")
    moment = parse_iso(value)
    text = moment.strftime("%d/%m/%Y %H:%M" if language == "fr" else "%Y-%m-%d %H:%M") + " UTC"
    return Markup('<time datetime="{}">{}</time>').format(value, text)


def day(value: str, *, language: str) -> str:
    """A calendar day (YYYY-MM-DD) as its language writes it."""
    year, month, date = value[:10].split("-")
    return f"{date}/{month}/{year}" if language == "fr" else value[:10]


# The domain's lengths, given to the form fields (the domain still checks them).
LIMITS = {
    "uid": access_group.MAX_UID_LENGTH,
    "label": access_group.MAX_LABEL_LENGTH,
    "group_name": access_group.MAX_NAME_LENGTH,
}


def _environment(language: str) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    catalog = CATALOGS[language]
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        catalog.gettext, catalog.ngettext, newstyle=True
    )
    environment.filters.update(
        number=lambda value, decimals=0: number(value, decimals, language=language),
        kwh=lambda wh: kwh(wh, language=language),
        duration=duration,
        instant=lambda value: instant(value, language=language),
        day=lambda value: day(value, language=language),
        word=lambda value: catalog.gettext(WORDS.get(value) or value) if value else "—",
    )
    environment.globals.update(static=static_url, lang=language, WORDS=WORDS, LIMITS=LIMITS)
    return environment


ENVIRONMENTS = {language: _environment(language) for language in CATALOGS}


def language_of(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"))


def translate(request: Request, message: str, **values: Any) -> str:
    text = CATALOGS[language_of(request)].gettext(message)
    return text % values if values else text


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    language = language_of(request)
    page = ENVIRONMENTS[language].get_template(template)
    state = request.state
    html = page.render(
        {
            "request": request,
            "path": request.url.path,
            "signed_in": getattr(state, "organization", None) is not None,
            "csrf": getattr(state, "csrf", ""),
            "section": None,
            **(context or {}),
        }
    )
    response = HTMLResponse(html, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})
    response.headers["Content-Language"] = language
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response


def redirect(path: str, **query: str | None) -> Response:
    """303 See Other: after a form, the browser GETs the page (reloading it posts nothing)."""
    given = {name: value for name, value in query.items() if value}
    target = f"{path}?{urlencode(given)}" if given else path
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})


def error_page(request: Request, status: int, title: str, message: str = "") -> HTMLResponse:
    headers = {"Retry-After": "2"} if status == 503 else None
    context = {"title": translate(request, title), "message": message}
    return render(request, "error.html", context, status=status, headers=headers)
