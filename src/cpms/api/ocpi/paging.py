"""OCPI pagination for the sender modules' lists: offset and limit in, `X-Total-Count`,
`X-Limit` and a `Link: <next>; rel="next"` out, the next link keeping every other filter."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request

from cpms.api.ocpi.envelope import invalid

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int


def page_of(request: Request, max_limit: int = MAX_LIMIT) -> Page:
    """offset (default 0) and limit (default and cap `max_limit`) of a paginated GET."""
    params = request.query_params
    try:
        offset = int(params.get("offset", "0"))
        limit = int(params.get("limit", str(max_limit)))
    except ValueError:
        raise invalid("offset and limit must be integers") from None
    if offset < 0 or limit < 1:
        raise invalid("offset must be 0 or more and limit 1 or more")
    return Page(offset, min(limit, max_limit))


def page_headers(request: Request, page: Page, total: int, public_url: str) -> dict[str, str]:
    """The headers of a page of `total` objects; `public_url` is the list's URL as partners see it."""
    headers = {"X-Total-Count": str(total), "X-Limit": str(page.limit)}
    following = page.offset + page.limit
    if following < total:
        query = {k: v for k, v in request.query_params.items() if k not in ("offset", "limit")}
        query.update(offset=str(following), limit=str(page.limit))
        headers["Link"] = f'<{public_url}?{urlencode(query)}>; rel="next"'
    return headers
