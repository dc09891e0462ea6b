"""An eMSP connects over OCPI 2.2.1 as the spec's registration says, against a real eMSP server
on loopback: token A, then C; rotation; unregistration; and what is refused stores nothing."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx

from cpms.node import Node
from tests.emsp import running_emsp

PARTY = {"country_code": "FR", "party_id": "CPO", "name": "Acme Charging"}


async def head(node: Node) -> int:
    return await asyncio.to_thread(node.store.recorder.max_notification_id) or 0


def token_header(token: str) -> dict[str, str]:
    return {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}


def credentials(
    url: str, token_b: str = "B-token-1", country: str = "FR", party: str = "ABC"
) -> dict[str, Any]:
    role = {"role": "EMSP", "business_details": {"name": "Roam"}, "party_id": party, "country_code": country}
    return {"token": token_b, "url": url, "roles": [role]}


async def handshake(
    partner: dict[str, Any],
    emsp_versions_url: str,
    token_b: str = "B-token-1",
    country: str = "FR",
    party: str = "ABC",
) -> tuple[str, str]:
    """The eMSP registers: it POSTs its credentials with the partner's token A. cpms's 2.2.1 base
    URL, and the token C cpms answers."""
    base = partner["versions_url"].replace("/versions", "/2.2.1")
    async with httpx.AsyncClient(timeout=15) as ocpi:
        posted = await ocpi.post(
            f"{base}/credentials",
            json=credentials(emsp_versions_url, token_b, country, party),
            headers=token_header(partner["token_a"]),
        )
    assert posted.status_code == 200, posted.text
    return base, str(posted.json()["data"]["token"])


async def registered_partner(api: httpx.AsyncClient) -> dict[str, Any]:
    assert (await api.put("/roaming/party", json=PARTY)).status_code == 200
    response = await api.post(
        "/roaming/partners", json={"country_code": "fr", "party_id": "abc", "name": "Roam"}
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_an_emsp_registers_with_token_a_rotates_c_and_unregisters(node, api):
    partner = await registered_partner(api)
    assert partner["state"] == "pending" and partner["versions_url"].endswith("/ocpi/versions")
    token_a = partner["token_a"]
    async with running_emsp() as emsp, httpx.AsyncClient(timeout=15) as ocpi:
        versions = await ocpi.get(partner["versions_url"], headers={"Authorization": f"Token {token_a}"})
        assert versions.status_code == 200, versions.text
        assert versions.headers["X-Request-ID"]
        details_url = versions.json()["data"][0]["url"]
        details = await ocpi.get(details_url, headers={**token_header(token_a), "X-Request-ID": "r-1"})
        assert details.headers["X-Request-ID"] == "r-1"
        modules = {(e["identifier"], e["role"]) for e in details.json()["data"]["endpoints"]}
        assert {("credentials", "SENDER"), ("tokens", "RECEIVER")} <= modules
        credentials_url = f"{details_url}/credentials"

        posted = await ocpi.post(
            credentials_url, json=credentials(emsp.versions_url), headers=token_header(token_a)
        )
        assert posted.status_code == 200, posted.text
        ours = posted.json()
        assert ours["status_code"] == 1000
        token_c = ours["data"]["token"]
        assert token_c != token_a
        assert ours["data"]["roles"][0] == {
            "role": "CPO",
            "business_details": {"name": "Acme Charging"},
            "party_id": "CPO",
            "country_code": "FR",
        }
        expected = "Token " + base64.b64encode(b"B-token-1").decode()
        assert emsp.received == [("/ocpi/versions", expected), ("/ocpi/2.2.1", expected)]

        assert (await ocpi.get(credentials_url, headers=token_header(token_a))).status_code == 401
        again = await ocpi.post(
            credentials_url, json=credentials(emsp.versions_url), headers=token_header(token_c)
        )
        assert again.status_code == 405
        assert (await ocpi.get(credentials_url, headers=token_header(token_c))).json()["data"][
            "token"
        ] == token_c

        put = await ocpi.put(
            credentials_url, json=credentials(emsp.versions_url, "B-token-2"), headers=token_header(token_c)
        )
        assert put.status_code == 200, put.text
        token_c2 = put.json()["data"]["token"]
        assert (await ocpi.get(credentials_url, headers=token_header(token_c))).status_code == 401
        assert (await ocpi.get(credentials_url, headers=token_header(token_c2))).status_code == 200

        assert (await ocpi.delete(credentials_url, headers=token_header(token_c2))).status_code == 200
        assert (await ocpi.get(credentials_url, headers=token_header(token_c2))).status_code == 401
    listed = (await api.get("/roaming/partners")).json()["items"]
    assert [(p["party_id"], p["state"]) for p in listed] == [("ABC", "unregistered")]
    assert "token_a" not in listed[0]


async def test_refused_registrations_store_nothing_and_leave_token_a_usable(node, api):
    partner = await registered_partner(api)
    token_a = partner["token_a"]
    credentials_url = partner["versions_url"].replace("/versions", "/2.2.1/credentials")
    async with running_emsp() as emsp, httpx.AsyncClient(timeout=15) as ocpi:
        before = await head(node)
        cases = [
            (credentials(emsp.versions_url, party="XYZ"), 400, 2001),  # another party's role
            ({"token": "B", "url": emsp.versions_url}, 400, 2001),  # no roles
            ({**credentials(emsp.versions_url), "token": "x" * 65}, 400, 2001),
            (credentials("http://127.0.0.1:9/ocpi/versions"), 400, 3001),  # the eMSP cannot be reached
        ]
        for body, http_status, status_code in cases:
            response = await ocpi.post(credentials_url, json=body, headers=token_header(token_a))
            assert (response.status_code, response.json()["status_code"]) == (http_status, status_code), body
            assert response.json()["status_message"]
        malformed = await ocpi.post(credentials_url, content=b"{not json", headers=token_header(token_a))
        assert (malformed.status_code, malformed.json()["status_code"]) == (400, 2001)
        for headers in ({}, {"Authorization": "Token nope"}, {"Authorization": f"Bearer {token_a}"}):
            assert (await ocpi.get(credentials_url, headers=headers)).status_code == 401
        assert await head(node) == before
        posted = await ocpi.post(
            credentials_url, json=credentials(emsp.versions_url), headers=token_header(token_a)
        )
        assert posted.json()["status_code"] == 1000


async def test_a_partner_needs_the_organizations_party_and_a_unique_party(api):
    response = await api.post(
        "/roaming/partners", json={"country_code": "FR", "party_id": "ABC", "name": "Roam"}
    )
    assert response.status_code == 422
    await registered_partner(api)
    again = await api.post(
        "/roaming/partners", json={"country_code": "FR", "party_id": "ABC", "name": "Twice"}
    )
    assert again.status_code == 409
    bad = await api.post("/roaming/partners", json={"country_code": "XX", "party_id": "ABD", "name": "Roam"})
    assert bad.status_code == 422
