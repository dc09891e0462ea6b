"""The OCPI 2.2.1 Locations sender as a registered eMSP sees it over HTTP: its Locations, EVSEs
and Connectors, live statuses while a real OCPP 1.6 charger charges, paging headers, date
filters; unknown ids, token A, no token and another organization's sites refused or unseen."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import msgspec

from cpms.api.ocpi_models.locations import EVSE, Connector, Location
from tests.e2e.test_ocpi_credentials import registered_partner, token_header
from tests.e2e.test_ocpi_tokens import connected_partner
from tests.support import (
    COORDINATES,
    access_group,
    api_client,
    commission,
    configure,
    connected,
    create_site,
    settled,
)

NOW = "2026-03-02T08:00:00Z"


async def roaming_site(api: httpx.AsyncClient, name: str, ocpp_id: str, *groups: str) -> dict[str, Any]:
    site = await create_site(api, name, COORDINATES)
    await commission(api, site["id"], ocpp_id, connectors=1)
    await configure(api, ocpp_id, *groups, roaming_enabled=True)
    return site


async def partner_client(api: httpx.AsyncClient) -> tuple[httpx.AsyncClient, str]:
    """An OCPI client authenticated with a registered partner's token C, and the Locations URL."""
    tokens_url, token_c = await connected_partner(api)
    return httpx.AsyncClient(timeout=15, headers=token_header(token_c)), tokens_url.replace(
        "/tokens", "/locations"
    )


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status_code"] == 1000, body
    return body["data"]


async def test_a_partner_sees_an_evse_go_from_available_to_charging(node, api):
    group = await access_group(api, "Staff", {"CAFE01": "Alice"})
    site = await roaming_site(api, "Depot", "CP-LOC", group)
    unlocated = await create_site(api, "No coordinates")  # roaming-enabled, but OCPI needs a point
    await commission(api, unlocated["id"], "CP-NOWHERE", connectors=1)
    await configure(api, "CP-NOWHERE", roaming_enabled=True)
    ocpi, url = await partner_client(api)
    async with ocpi, connected(node, "CP-LOC") as charger:
        details = ok(await ocpi.get(url.removesuffix("/locations")))
        assert {"identifier": "locations", "role": "SENDER", "url": url} in details["endpoints"]
        await charger.boot()
        await charger.status(1, "Available")
        await settled(node)
        [listed] = ok(await ocpi.get(url))
        location = msgspec.convert(listed, Location)  # every field as OCPI 2.2.1 has it
        assert location.id == site["id"] and (location.country_code, location.party_id) == ("FR", "CPO")
        assert (location.coordinates.latitude, location.coordinates.longitude) == ("48.872090", "2.364680")
        assert [(e.uid, e.status) for e in location.evses] == [("CP-LOC*1", "AVAILABLE")]

        await asyncio.sleep(0.01)  # so the charge's changes have later times than the first pull
        started = await charger.start_transaction(1, "CAFE01", 1000, NOW)
        assert started.id_tag_info["status"] == "Accepted"
        await charger.status(1, "Charging")
        await settled(node)
        evse = msgspec.convert(ok(await ocpi.get(f"{url}/{site['id']}/CP-LOC*1")), EVSE)
        assert evse.status == "CHARGING"
        connector = msgspec.convert(ok(await ocpi.get(f"{url}/{site['id']}/CP-LOC*1/1")), Connector)
        assert connector.standard == "IEC_62196_T2"
        whole = msgspec.convert(ok(await ocpi.get(f"{url}/{site['id']}")), Location)
        assert whole.evses[0].status == "CHARGING" and whole.last_updated >= evse.last_updated

        # A delta pull from the first pull on sees the change.
        [changed] = ok(await ocpi.get(url, params={"date_from": location.last_updated}))
        assert changed["evses"][0]["status"] == "CHARGING"
        assert ok(await ocpi.get(url, params={"date_to": location.last_updated})) == []

        # Nothing of the site without coordinates is published.
        listed_ids = [loc["id"] for loc in ok(await ocpi.get(url))]
        assert listed_ids == [site["id"]]
        missing = await ocpi.get(f"{url}/{unlocated['id']}")
        assert (missing.status_code, missing.json()["status_code"]) == (404, 2003)


async def test_pages_carry_total_limit_and_a_next_link_until_the_last(node, api):
    sites = [await roaming_site(api, f"Site {n}", f"CP-{n}") for n in range(5)]
    await settled(node)
    ocpi, url = await partner_client(api)
    seen: list[str] = []
    async with ocpi:
        response = await ocpi.get(url, params={"limit": 2})
        pages = 0
        while True:
            pages += 1
            assert (response.headers["X-Total-Count"], response.headers["X-Limit"]) == ("5", "2")
            seen += [loc["id"] for loc in ok(response)]
            if "Link" not in response.headers:
                break
            link = response.headers["Link"]
            assert link.endswith('>; rel="next"')
            next_url = link[1 : link.index(">")]
            assert urlsplit(next_url).path == urlsplit(url).path
            assert parse_qs(urlsplit(next_url).query)["offset"] == [str(len(seen))]
            response = await ocpi.get(next_url)
        assert pages == 3 and seen == sorted(s["id"] for s in sites)
        capped = await ocpi.get(url, params={"limit": 1000})
        assert capped.headers["X-Limit"] == "100" and "Link" not in capped.headers
        past = await ocpi.get(url, params={"offset": 10})
        assert ok(past) == [] and past.headers["X-Total-Count"] == "5"


async def test_bad_parameters_and_unknown_ids_answer_in_ocpi_codes(node, api):
    site = await roaming_site(api, "Depot", "CP-1")
    await settled(node)
    ocpi, url = await partner_client(api)
    async with ocpi:
        for params in ({"limit": "x"}, {"offset": -1}, {"date_from": "yesterday"}, {"date_to": "2026-13-01"}):
            refused = await ocpi.get(url, params=params)
            assert (refused.status_code, refused.json()["status_code"]) == (400, 2001), params
            assert refused.json()["data"] is None
        for path in ("nowhere", f"{site['id']}/CP-2*1", f"{site['id']}/CP-1*1/2", f"{site['id']}/CP-1*1/1/x"):
            unknown = await ocpi.get(f"{url}/{path}")
            assert unknown.status_code == 404, path
            if path.count("/") < 3:
                assert unknown.json()["status_code"] == 2003, path


async def test_token_a_no_token_and_a_wrong_token_are_refused(node, api):
    await roaming_site(api, "Depot", "CP-1")
    partner = await registered_partner(api)  # not yet registered: only token A
    url = partner["versions_url"].replace("/versions", "/2.2.1/locations")
    async with httpx.AsyncClient(timeout=15) as ocpi:
        for headers in (token_header(partner["token_a"]), {}, token_header("not-a-token")):
            refused = await ocpi.get(url, headers=headers)
            assert (refused.status_code, refused.json()["status_code"]) == (401, 2000)
            assert refused.json()["data"] is None


async def test_another_organizations_locations_never_appear(node, api):
    ours = await roaming_site(api, "Ours", "CP-OURS")
    async with await api_client(node, "Rival Charging") as rival:
        theirs = await roaming_site(rival, "Theirs", "CP-THEIRS")
    await settled(node)
    ocpi, url = await partner_client(api)
    async with ocpi:
        response = await ocpi.get(url)
        assert [loc["id"] for loc in ok(response)] == [ours["id"]] and response.headers[
            "X-Total-Count"
        ] == "1"
        for path in (theirs["id"], f"{theirs['id']}/CP-THEIRS*1", f"{theirs['id']}/CP-THEIRS*1/1"):
            assert (await ocpi.get(f"{url}/{path}")).json()["status_code"] == 2003
