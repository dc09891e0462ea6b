"""The OCPI 2.2.1 Tokens receiver: a registered eMSP pushes, reads and patches its tokens, only
under its own party; malformed tokens are refused with 2001 and nothing stored."""

from __future__ import annotations

import httpx

from cpms.application.roaming import partner_tokens
from tests.e2e.test_ocpi_credentials import handshake, head, registered_partner, token_header
from tests.emsp import running_emsp

TOKEN = {
    "country_code": "FR",
    "party_id": "ABC",
    "uid": "012345678",
    "type": "RFID",
    "contract_id": "FR-ABC-C1",
    "issuer": "Roam",
    "valid": True,
    "whitelist": "ALLOWED",
    "last_updated": "2026-03-02T08:00:00Z",
}


async def connected_partner(api: httpx.AsyncClient) -> tuple[str, str]:
    """The tokens URL of a registered partner FR/ABC and its token C."""
    partner = await registered_partner(api)
    async with running_emsp() as emsp:
        base, token_c = await handshake(partner, emsp.versions_url)
    return f"{base}/tokens", token_c


async def test_a_token_is_put_read_and_patched_and_found_by_uid_in_a_unit_of_work(node, api):
    tokens_url, token_c = await connected_partner(api)
    async with httpx.AsyncClient(timeout=15, headers=token_header(token_c)) as ocpi:
        url = f"{tokens_url}/FR/ABC/012345678"
        assert (await ocpi.get(url)).json()["status_code"] == 2004
        assert (await ocpi.put(url, json=TOKEN)).status_code == 201
        assert (await ocpi.put(url, json=TOKEN)).status_code == 200
        got = (await ocpi.get(url, params={"type": "RFID"})).json()
        assert got["status_code"] == 1000 and got["data"]["whitelist"] == "ALLOWED"
        patched = await ocpi.patch(url, json={"whitelist": "NEVER", "last_updated": "2026-03-02T09:00:00Z"})
        assert patched.status_code == 200, patched.text
        got = (await ocpi.get(url)).json()["data"]
        assert (got["whitelist"], got["contract_id"]) == ("NEVER", "FR-ABC-C1")
    organization_id = (await node.network.ocpi_caller(token_c)).organization_id

    def found(uow):
        return [
            (t.uid, t.token["whitelist"], t.accepted_offline)
            for t in partner_tokens(uow, organization_id, "012345678")
        ]

    assert node.writer.run_now(found)[0] == [("012345678", "NEVER", False)]


async def test_another_partys_path_and_malformed_tokens_are_refused_and_store_nothing(node, api):
    tokens_url, token_c = await connected_partner(api)
    async with httpx.AsyncClient(timeout=15, headers=token_header(token_c)) as ocpi:
        url = f"{tokens_url}/FR/ABC/012345678"
        before = await head(node)
        other = await ocpi.put(
            f"{tokens_url}/DE/XYZ/012345678", json={**TOKEN, "country_code": "DE", "party_id": "XYZ"}
        )
        assert (other.status_code, other.json()["status_code"]) == (404, 2001)
        for body in (
            {**TOKEN, "whitelist": "SOMETIMES"},
            {**TOKEN, "uid": "another"},
            {**TOKEN, "contract_id": "x" * 37},
            {k: v for k, v in TOKEN.items() if k != "last_updated"},
            {**TOKEN, "colour": "red"},
        ):
            refused = await ocpi.put(url, json=body)
            assert (refused.status_code, refused.json()["status_code"]) == (400, 2001), body
            assert refused.json()["status_message"]
        assert (await ocpi.put(url, json=TOKEN, params={"type": "APP_USER"})).json()["status_code"] == 2001
        assert (await ocpi.patch(url, json={"valid": False})).json()["status_code"] == 2004  # unknown yet
        assert await head(node) == before
        await ocpi.put(url, json=TOKEN)
        before = await head(node)
        patch = await ocpi.patch(url, json={"valid": False})  # no last_updated
        assert (patch.status_code, patch.json()["status_code"]) == (400, 2001)
        assert await head(node) == before


async def test_a_body_over_the_limit_is_refused_before_it_is_read_and_stores_nothing(node, api):
    tokens_url, token_c = await connected_partner(api)
    before = await head(node)
    async with httpx.AsyncClient(timeout=15, headers=token_header(token_c)) as ocpi:
        huge = {**TOKEN, "issuer": "x" * 300_000}
        response = await ocpi.put(f"{tokens_url}/FR/ABC/012345678", json=huge)
    assert response.status_code == 413
    assert response.json()["status_code"] == 2000 and "exceeds" in response.json()["status_message"]
    assert await head(node) == before
