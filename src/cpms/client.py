"""A small blocking client of the cpms HTTP API for the command line (`cpms simulate`'s
commissioning, `cpms station ...`): every failure is one line saying what was expected."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

API_PATH = "/api/v1"
PAGE = 500  # the API's largest page
USER_AGENT = "cpms command line"
TIMEOUT = 60  # beyond a station command's own timeout (CPMS_COMMAND_TIMEOUT, 30 s by default)


class ApiError(Exception):
    """The API could not do what commissioning needs; the message is one line for the user."""


def api_base(url: str) -> str:
    """`http://HOST:PORT` or `http://HOST:PORT/api/v1` (with a path before it behind a proxy),
    spelled as the latter; anything else is refused saying what was expected."""
    parts = urllib.parse.urlsplit(url.strip())
    path = parts.path.rstrip("/") or API_PATH
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or not path.endswith(API_PATH)
        or parts.query
        or parts.fragment
    ):
        raise ApiError(f"--api-url {url!r}: expected http://HOST:PORT or http://HOST:PORT{API_PATH}")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


class Api:
    """The few calls commissioning makes, each failure turned into a one-line `ApiError`."""

    def __init__(self, url: str, api_key: str) -> None:
        self.base = api_base(url)
        self._api_key = api_key

    def get(self, path: str, **query: Any) -> Any:
        query = {k: v for k, v in query.items() if v is not None}
        return self.request("GET", path + (f"?{urllib.parse.urlencode(query)}" if query else ""))

    def pages(self, path: str, **query: Any) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list."""
        cursor = None
        while True:
            page = self.get(path, limit=PAGE, cursor=cursor, **query)
            yield from page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return

    def request(self, method: str, path: str, body: Any = None, *, conflict_ok: bool = False) -> Any:
        """The answer's JSON; None for a 409 when `conflict_ok`."""
        url = self.base + path
        request = urllib.request.Request(
            url,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Authorization": f"Bearer {self._api_key}",
                "Content-Type": "application/json",
                # Named in what commands record as their client (who asked, beside the organization).
                "User-Agent": USER_AGENT,
            },
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                text = response.read()
        except urllib.error.HTTPError as error:
            if error.code == 409 and conflict_ok:
                return None
            raise ApiError(self._refusal(method, url, error)) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ApiError(
                f"cannot reach the cpms API at {self.base} ({reason}): is it running? (--api-url)"
            ) from None
        try:
            return json.loads(text)
        except ValueError:
            raise ApiError(
                f"{method} {url} answered with something other than JSON: expected the cpms API"
                f" at http://HOST:PORT or http://HOST:PORT{API_PATH} (--api-url)"
            ) from None

    def _refusal(self, method: str, url: str, error: urllib.error.HTTPError) -> str:
        said = f"{method} {url} answered HTTP {error.code}"
        try:
            message = json.loads(error.read())["error"]["message"]
        except (ValueError, KeyError, TypeError):  # not an answer of the cpms API
            return (
                f"{said} {error.reason}: expected the cpms API at http://HOST:PORT or"
                f" http://HOST:PORT{API_PATH} (--api-url)"
            )
        if error.code == 401:
            return f"{said}: {message} (--api-key: an organization's key, see `cpms admin create-org`)"
        return f"{said}: {message}"
