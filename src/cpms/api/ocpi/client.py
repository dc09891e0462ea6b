"""Calls to an eMSP's OCPI API with its token B: its versions, then its 2.2.1 endpoints."""

from __future__ import annotations

from typing import Any

import httpx

from cpms.api.ocpi.envelope import CLIENT_API_UNUSABLE, UNSUPPORTED_VERSION, OcpiError, authorization
from cpms.api.ocpi.registry import VERSION

TIMEOUT = httpx.Timeout(5.0, connect=3.0)


async def partner_endpoints(versions_url: str, token_b: str) -> dict[str, str]:
    """The partner's 2.2.1 endpoints as "module|ROLE" -> url; 3001 if it cannot be used, 3002
    if it offers no 2.2.1."""
    async with httpx.AsyncClient(
        timeout=TIMEOUT, headers={"Authorization": authorization(token_b)}
    ) as client:
        versions = await _data(client, versions_url)
        if not isinstance(versions, list):
            raise _unusable(f"{versions_url} did not list versions")
        url = next(
            (v.get("url") for v in versions if isinstance(v, dict) and v.get("version") == VERSION), None
        )
        if not isinstance(url, str):
            raise OcpiError(
                400, UNSUPPORTED_VERSION, f"the partner offers no OCPI {VERSION} at {versions_url}"
            )
        details = await _data(client, url)
    endpoints = details.get("endpoints") if isinstance(details, dict) else None
    if not isinstance(endpoints, list):
        raise _unusable(f"{url} listed no endpoints")
    found: dict[str, str] = {}
    for endpoint in endpoints:
        if isinstance(endpoint, dict) and all(
            isinstance(endpoint.get(k), str) for k in ("identifier", "url")
        ):
            role = endpoint.get("role") if isinstance(endpoint.get("role"), str) else "SENDER"
            found[f"{endpoint['identifier']}|{role}"] = endpoint["url"]
    return found


async def _data(client: httpx.AsyncClient, url: str) -> Any:
    try:
        response = await client.get(url)
    except httpx.HTTPError as error:
        raise _unusable(f"could not reach {url}: {type(error).__name__}") from None
    if response.status_code != 200:
        raise _unusable(f"{url} answered HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        raise _unusable(f"{url} did not answer JSON") from None
    if not isinstance(body, dict) or body.get("status_code") != 1000:
        raise _unusable(f"{url} did not answer with OCPI success")
    return body.get("data")


def _unusable(message: str) -> OcpiError:
    return OcpiError(400, CLIENT_API_UNUSABLE, f"unable to use the client's API: {message}")
