"""OCPI 2.2.1 Sessions and CDRs senders, and the roaming activity view, at the door: what a
partner must send, what it may not see, and how the operator's view bounds its window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.e2e.test_ocpi_credentials import handshake, token_header
from tests.e2e.test_ocpi_tokens import TOKEN, connected_partner
from tests.emsp import running_emsp
from tests.support import commission, configure, connected, settled
from tests.support201 import connected201


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


def _at(minutes: float) -> str:
    return (
        (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


async def _other_partner(api: httpx.AsyncClient) -> str:
    """A second eMSP, DE/XYZ, registered; its token C."""
    partner = (
        await api.post("/roaming/partners", json={"country_code": "DE", "party_id": "XYZ", "name": "X"})
    ).json()
    async with running_emsp() as emsp:
        _, token_c = await handshake(partner, emsp.versions_url, "B-token-2", "DE", "XYZ")
    return token_c


async def test_roaming_sessions_of_16_and_201_chargers_reach_ocpi_the_activity_and_the_sessions_list(
    node, api, site
):
    tokens_url, token_c = await connected_partner(api)
    base = tokens_url.removesuffix("/tokens")
    other_c = await _other_partner(api)
    for ocpp_id in ("CP-R16", "CP-R201"):
        await commission(api, site["id"], ocpp_id, connectors=1)
        await configure(api, ocpp_id, roaming_enabled=True)
    async with httpx.AsyncClient(timeout=15, headers=token_header(token_c)) as ocpi:
        assert (await ocpi.put(f"{tokens_url}/FR/ABC/{TOKEN['uid']}", json=TOKEN)).status_code == 201

        async def pull(path: str, **params: Any) -> httpx.Response:
            answer = await ocpi.get(f"{base}/{path}", params={"date_from": "2020-01-01T00:00:00Z", **params})
            assert (answer.status_code, answer.json()["status_code"]) == (200, 1000), answer.text
            return answer

        async with connected(node, "CP-R16") as charger:
            await charger.boot()
            started = await charger.start_transaction(1, TOKEN["uid"], 1000, _at(-30))
            assert started.id_tag_info["status"] == "Accepted"
            await charger.meter(1, started.transaction_id, _at(-15), "3500")
            await settled(node)
            [active] = (await pull("sessions")).json()["data"]
            assert (active["status"], active["kwh"], active["auth_method"]) == ("ACTIVE", 2.5, "WHITELIST")
            assert active["cdr_token"]["uid"] == TOKEN["uid"] and active["location_id"] == site["id"]
            assert (await pull("cdrs")).json()["data"] == []
            await charger.stop(started.transaction_id, 6000, _at(0))
            second = await charger.start_transaction(1, TOKEN["uid"], 6000, _at(1))
            await charger.stop(second.transaction_id, 6500, _at(2))
        async with connected201(node, "CP-R201") as station:
            await station.boot()
            await station.transaction(
                "Started", "T-201", _at(-20), "Authorized", token=TOKEN["uid"], evse_id=1, meter_wh=0
            )
            await station.transaction(
                "Ended", "T-201", _at(-5), "EVDeparted", stopped_reason="EVDisconnected", meter_wh=2000
            )
        await settled(node)

        sessions = (await pull("sessions")).json()["data"]
        assert [s["status"] for s in sessions] == ["COMPLETED"] * 3
        assert sorted(s["kwh"] for s in sessions) == [0.5, 2.0, 5.0]
        first = await pull("cdrs", limit=2)
        assert (first.headers["X-Total-Count"], first.headers["X-Limit"]) == ("3", "2")
        assert len(first.json()["data"]) == 2 and 'rel="next"' in first.headers["Link"]
        next_url = first.headers["Link"].split(">")[0].lstrip("<")
        rest = await ocpi.get(next_url)
        assert len(rest.json()["data"]) == 1 and "Link" not in rest.headers
        cdrs = first.json()["data"] + rest.json()["data"]
        assert sorted(c["total_energy"] for c in cdrs) == [0.5, 2.0, 5.0]
        assert {c["id"] for c in cdrs} == {s["id"] for s in sessions}
        assert all(c["total_cost"]["excl_vat"] == 0 and c["currency"] == "EUR" for c in cdrs)
        assert {c["cdr_location"]["evse_uid"] for c in cdrs} == {"CP-R16*1", "CP-R201*1"}

    async with httpx.AsyncClient(timeout=15, headers=token_header(other_c)) as stranger:
        for path in ("sessions", "cdrs"):
            seen = await stranger.get(f"{base}/{path}", params={"date_from": "2020-01-01T00:00:00Z"})
            assert (seen.json()["data"], seen.headers["X-Total-Count"]) == ([], "0")

    view = (await api.get("/roaming/activity", params={"days": 2})).json()  # two: near midnight UTC
    assert {d["partner_id"] for d in view["days"]} == {active_partner(view)}
    assert sum(d["sessions"] for d in view["days"]) == 3
    assert sum(d["energy_wh"] for d in view["days"]) == 7500.0
    assert sum(d["accepted"] for d in view["days"]) >= 1
    assert sum(d["rejected"] + d["timed_out"] + d["error"] for d in view["days"]) == 0
    assert {s["emsp"]["party_id"] for s in view["sessions"]} == {"ABC"}
    listed = (await api.get(f"/sites/{site['id']}/sessions")).json()["items"]
    assert len(listed) == 3
    assert all(s["authorization"]["emsp"] == {"country_code": "FR", "party_id": "ABC"} for s in listed)
    csv = (await api.get(f"/sites/{site['id']}/sessions.csv")).text
    assert csv.count("FR*ABC") == 3


def active_partner(view: dict[str, Any]) -> str:
    [partner] = {s["partner_id"] for s in view["sessions"]}
    return str(partner)
