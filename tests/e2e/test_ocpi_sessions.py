"""OCPI 2.2.1 Sessions and CDRs senders, and the roaming activity view, at the door: what a
partner must send, what it may not see, and how the operator's view bounds its window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.e2e.test_ocpi_credentials import token_header
from tests.e2e.test_ocpi_tokens import connected_partner


async def test_sessions_and_cdrs_are_offered_paged_and_need_date_from_for_sessions(node, api):
    tokens_url, token_c = await connected_partner(api)
    base = tokens_url.removesuffix("/tokens")
    async with httpx.AsyncClient(timeout=15, headers=token_header(token_c)) as ocpi:
        modules = {(e["identifier"], e["role"]) for e in (await ocpi.get(base)).json()["data"]["endpoints"]}
        assert {("sessions", "SENDER"), ("cdrs", "SENDER")} <= modules
        missing = await ocpi.get(f"{base}/sessions")
        assert (missing.status_code, missing.json()["status_code"]) == (400, 2001)
        assert "date_from" in missing.json()["status_message"]
        bad = await ocpi.get(f"{base}/cdrs", params={"date_from": "yesterday"})
        assert (bad.status_code, bad.json()["status_code"]) == (400, 2001)
        for path, params in (("sessions", {"date_from": "2020-01-01T00:00:00Z"}), ("cdrs", {})):
            listed = await ocpi.get(f"{base}/{path}", params={**params, "limit": 5})
            assert (listed.status_code, listed.json()["status_code"]) == (200, 1000), listed.text
            assert listed.json()["data"] == []
            assert (listed.headers["X-Total-Count"], listed.headers["X-Limit"]) == ("0", "5")
            assert "Link" not in listed.headers
    async with httpx.AsyncClient(timeout=15, headers=token_header("not-a-token")) as stranger:
        refused = await stranger.get(f"{base}/cdrs")
        assert refused.status_code == 401


async def test_the_activity_window_is_one_to_ninety_days(api):
    empty = await api.get("/roaming/activity")
    assert empty.status_code == 200 and empty.json()["days"] == [] and empty.json()["sessions"] == []
    today = datetime.now(UTC).date()
    assert (await api.get("/roaming/activity", params={"days": 1})).json()["since"] == today.isoformat()
    since = (await api.get("/roaming/activity", params={"days": 90})).json()["since"]
    assert since == (today - timedelta(days=89)).isoformat()
    for days in ("0", "91", "many"):
        assert (await api.get("/roaming/activity", params={"days": days})).status_code == 400
