"""The portal over HTTP: its doors (the session cookie, the forms' token, where a sign-in may lead)
and its live sheet, in one process and with the API in a process of its own."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from cpms.infra.settings import Database, Settings
from cpms.node import Node
from tests.commanded import Commanded16
from tests.support import commission, configure, connected, create_site, peer_connected, settled


@pytest.fixture
def database_url(tmp_path: Any) -> str:
    """The pages read the API's read models, which the API's tests run on both databases; the
    API-only process below runs on PostgreSQL, as that topology does."""
    return f"sqlite:///{tmp_path}/cpms.sqlite"


async def sign_in(web: httpx.AsyncClient, key: str, next_page: str = "/") -> httpx.Response:
    form = await web.get("/sign-in")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None
    return await web.post("/sign-in", data={"csrf": token[1], "api_key": key, "next": next_page})


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found[1]


@contextlib.asynccontextmanager
async def browser(node: Node) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{node.http_port}", timeout=15) as web:
        yield web


async def test_a_signed_in_browser_reads_pages_and_the_apis_reads_but_writes_nothing_through_the_api(
    node, api, site
):
    key = api.headers["Authorization"].removeprefix("Bearer ")
    async with browser(node) as web:
        assert (await web.get("/")).headers["location"] == "/sign-in?next=%2F"
        signed = await sign_in(web, key, next_page=f"/sites/{site['id']}")
        assert signed.status_code == 303 and signed.headers["location"] == f"/sites/{site['id']}"
        cookie = signed.headers.get_list("set-cookie")[0]
        assert cookie.startswith("cpms_session=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
        overview = await web.get(f"/sites/{site['id']}")
        assert overview.status_code == 200 and "Depot" in overview.text
        assert overview.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in overview.headers["content-security-policy"]

        assert (await web.get("/api/v1/sites")).json()["items"][0]["id"] == site["id"]  # the cookie reads
        refused = await web.post("/api/v1/sites", json={"name": "X", "address": site["address"]})
        assert refused.status_code == 401  # and writes nothing

        unknown = await web.get("/sites/00000000-0000-0000-0000-000000000000")
        assert unknown.status_code == 404 and "<h1>Page not found</h1>" in unknown.text


async def test_forms_without_the_sessions_token_or_from_another_origin_are_refused(node, api, site):
    key = api.headers["Authorization"].removeprefix("Bearer ")
    await commission(api, site["id"], "CP-FORM")
    async with browser(node) as web:
        await sign_in(web, key)
        page = await web.get(f"/sites/{site['id']}/configuration")
        token = csrf_of(page)
        target = f"/sites/{site['id']}/configuration/stations/CP-FORM"
        assert (await web.post(target, data={"roaming_enabled": "on"})).status_code == 403
        assert (await web.post(target, data={"csrf": "guess", "roaming_enabled": "on"})).status_code == 403
        other_origin = {"Origin": "https://evil.example"}
        forged = await web.post(target, data={"csrf": token, "roaming_enabled": "on"}, headers=other_origin)
        assert forged.status_code == 403
        assert (await api.get("/stations/CP-FORM/configuration")).json()["roaming_enabled"] is False

        saved = await web.post(target, data={"csrf": token, "roaming_enabled": "on"})
        assert saved.status_code == 303 and saved.headers["location"].endswith("/configuration?saved=CP-FORM")
        assert (await api.get("/stations/CP-FORM/configuration")).json()["roaming_enabled"] is True

        signed_out = await web.post("/sign-out", data={"csrf": token})
        assert signed_out.headers["location"] == "/sign-in?signed_out=1"
        assert 'cpms_session=""' in signed_out.headers["set-cookie"]


async def test_a_key_that_opens_nothing_signs_the_browser_out_and_sign_in_leads_only_here(node):
    async with browser(node) as web:
        web.cookies.set("cpms_session", "cpms_revoked-or-never-known")
        answer = await web.get("/roaming")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/sign-in?ended=1&next=%2Froaming"
        assert 'cpms_session=""' in answer.headers["set-cookie"]
        stream = await web.get("/sites/00000000-0000-0000-0000-000000000000/sheet/events")
        assert stream.status_code == 303  # the live sheet authenticates as every page does

        _, key = await node.network.create_organization("Elsewhere")
        for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
            web.cookies.clear()
            signed = await sign_in(web, key, next_page=target)
            assert signed.headers["location"] == "/"
        web.cookies.clear()
        wrong = await sign_in(web, "cpms_wrong")
        assert wrong.status_code == 401 and "This API key is not known." in wrong.text


async def events(response: httpx.Response) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """The Server-Sent Events of a stream, as (event, data)."""
    kind = None
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: ") and kind is not None:
            yield kind, json.loads(line.removeprefix("data: "))
            kind = None


async def next_status(stream: AsyncIterator[tuple[str, dict[str, Any]]], charge_point: str) -> str:
    async for kind, data in stream:
        if kind == "charge-point" and f"{data['ocpp_id']}/{data['connector_id']}" == charge_point:
            return str(data["status"])
    raise AssertionError("the stream ended")


async def watch_a_status_change(api_node: Node, gateway: Node, key: str, site_id: str, ocpp_id: str) -> None:
    """A status sent by a charger to `gateway` arrives on the sheet stream of `api_node`."""
    async with browser(api_node) as web:
        await sign_in(web, key)
        async with (
            connected(gateway, ocpp_id) as charger,
            web.stream(
                "GET", f"/sites/{site_id}/sheet/events", headers={"Accept-Language": "fr"}
            ) as response,
        ):
            assert response.headers["content-type"].startswith("text/event-stream")
            stream = events(response)
            # Every stream starts with the whole sheet: a station that has said nothing yet.
            assert await asyncio.wait_for(next_status(stream, f"{ocpp_id}/1"), 10) == "Unknown"
            await charger.boot()
            await charger.status(1, "Available")
            assert await asyncio.wait_for(next_status(stream, f"{ocpp_id}/1"), 10) == "Available"
            await charger.status(1, "Charging")
            async for kind, data in stream:
                if kind == "charge-point":
                    assert (data["status"], data["label"]) == ("Charging", "En charge")
                    break


async def test_the_live_sheet_pushes_a_charge_points_new_status(node, api, site):
    key = api.headers["Authorization"].removeprefix("Bearer ")
    await commission(api, site["id"], "CP-LIVE")
    await asyncio.wait_for(watch_a_status_change(node, node, key, site["id"], "CP-LIVE"), 60)


async def test_the_live_sheet_works_with_the_api_in_a_process_of_its_own(postgres_url):
    nodes = []
    for role in ("gateway", "projector", "api"):
        settings = Settings(
            database=Database.from_url(postgres_url), ocpp_port=0, http_port=0, node_id=f"{role}-1"
        )
        node = Node.build(settings)
        await node.start(gateway=role == "gateway", projector=role == "projector", api=role == "api")
        nodes.append(node)
    gateway, _, api_node = nodes
    try:
        _, key = await api_node.network.create_organization("Split")
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{api_node.http_port}/api/v1",
            headers={"Authorization": f"Bearer {key}"},
            timeout=15,
        ) as api:
            site = await create_site(api)
            await commission(api, site["id"], "CP-SPLIT")
            await configure(api, "CP-SPLIT")
        await asyncio.wait_for(watch_a_status_change(api_node, gateway, key, site["id"], "CP-SPLIT"), 60)
    finally:
        for node in nodes:
            await node.stop()


async def test_a_node_stops_promptly_while_a_browser_holds_the_live_sheet_open(start_node):
    node = await start_node()
    _, key = await node.network.create_organization("Open tab")
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{node.http_port}/api/v1", headers={"Authorization": f"Bearer {key}"}
    ) as api:
        site = await create_site(api)
        await commission(api, site["id"], "CP-TAB")
    await settled(node)
    async with browser(node) as web:
        await sign_in(web, key)
        async with web.stream("GET", f"/sites/{site['id']}/sheet/events") as response:
            stream = events(response)
            assert await asyncio.wait_for(next_status(stream, "CP-TAB/1"), 10) == "Unknown"
            started = time.monotonic()
            await asyncio.wait_for(node.stop(), 15)
            assert time.monotonic() - started < 5
            async for _ in stream:  # what was sent before the end, then the end itself
                pass


async def test_a_station_is_deactivated_and_reactivated_from_the_evse_controllers_page(node, api, site):
    key = api.headers["Authorization"].removeprefix("Bearer ")
    await commission(api, site["id"], "CP-AV")
    async with browser(node) as web:
        await sign_in(web, key)
        page = await web.get(f"/sites/{site['id']}/stations")
        target = f"/sites/{site['id']}/stations/CP-AV/availability"
        offline = await web.post(target, data={"csrf": csrf_of(page), "operative": "false"})
        assert offline.status_code == 303
        shown = await web.get(offline.headers["location"])
        assert "The station is not connected: nothing was sent." in shown.text
        async with peer_connected(node, "CP-AV", Commanded16, "ocpp1.6") as charger:
            await charger.boot()
            done = await web.post(target, data={"csrf": csrf_of(page), "operative": "false"})
            shown = await web.get(done.headers["location"], headers={"Accept-Language": "fr"})
            assert "La borne a accepté." in shown.text
            await charger.settle()
            assert charger.requests[-1] == ("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"})
            await settled(node)
            sheet = (await api.get(f"/sites/{site['id']}/charge-points")).json()["items"]
            assert {cp["status"] for cp in sheet} == {"NotAvailable"}
        commands = (await api.get("/stations/CP-AV/commands")).json()["items"]
        assert [(c["outcome"], c["client"]) for c in commands] == [
            ("accepted", "cpms portal"),
            ("offline", "cpms portal"),
        ]
