"""`cpms simulate` against a real node: chargers that run transactions the API lists, end on time,
connect over wss with their passwords, and stations commissioned once, completely, through the API."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import defaultdict
from itertools import pairwise
from typing import Any

import httpx
import pytest

from cpms.aggregates.charging_session import session_id
from cpms.client import Api
from cpms.node import Node
from cpms.simulation import simulate
from cpms.simulation.commissioning import GROUP_NAME, SITE_NAME, card_uids, commission
from cpms.simulation.run import tls_context
from tests.pki import Pki
from tests.support import access_group, api_client_with, configure, eventually, settled

PASSWORD = "correct-horse-battery"


@pytest.fixture
def database_url(tmp_path: Any) -> str:
    """The simulator is a client of the gateway and the API: one backend is enough here (both
    are run by the gateway's and the API's own tests)."""
    return f"sqlite:///{tmp_path}/cpms.sqlite"


@pytest.fixture
async def organization(node: Node) -> Any:
    """An organization's API key and an API client with it."""
    _, api_key = await node.network.create_organization("Sim Charging")
    async with api_client_with(node, f"Bearer {api_key}") as api:
        yield api_key, api


def _api(node: Node, api_key: str, path: str = "") -> Api:
    return Api(f"http://127.0.0.1:{node.http_port}{path}", api_key)


async def _commission(node: Node, api_key: str, ocpp_ids: list[str], **options: Any) -> Any:
    return await asyncio.to_thread(commission, _api(node, api_key), ocpp_ids, connectors=2, **options)


async def _all(api: httpx.AsyncClient, path: str) -> list[dict[str, Any]]:
    response = await api.get(path, params={"limit": 500})
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("ocpp_version", ["1.6", "2.0.1"])
async def test_chargers_run_transactions_with_meter_values_that_the_api_lists(
    node: Node, organization: Any, ocpp_version: str
) -> None:
    api_key, api = organization
    ocpp_ids = ["SIM-0001", "SIM-0002"]
    cards = card_uids(3)
    done = await _commission(node, api_key, ocpp_ids, id_tags=cards)

    stats = await simulate(
        f"ws://127.0.0.1:{node.ocpp_port}/ocpp",
        ocpp_ids,
        pause=0.1,
        duration=3,
        report_every=None,
        id_tags=cards,
        unknown_tag_share=0.3,
        ocpp_version=ocpp_version,
    )
    await settled(node)

    assert (stats.ever_connected, stats.failed, stats.lost) == (2, 0, 0)
    assert stats.started > 0
    assert stats.completed == stats.started  # those still open at the end were stopped
    sessions = await _all(api, f"/sites/{done.site_id}/sessions")
    assert len(sessions) == stats.started  # the refused cards started nothing
    assert {s["state"] for s in sessions} == {"Completed"}
    assert {s["authorization"]["card_uid"] for s in sessions} <= set(cards)
    assert {s["authorization"]["access_group_id"] for s in sessions} == {done.group_id}
    assert {s["evse_id"] for s in sessions} <= {
        f"FR*SIM*E{i.replace('-', '')}*{c}" for i in ocpp_ids for c in (1, 2)
    }
    assert {s["stop_reason"] for s in sessions} <= {"Local", "Other"}  # Other: stopped at the end

    by_connector = defaultdict(list)
    for session in sessions:
        assert session["energy_wh"] == pytest.approx(session["meter_stop_wh"] - session["meter_start_wh"])
        by_connector[session["ocpp_id"], session["connector_id"]].append(session)
    for on_one_connector in by_connector.values():  # each connector's register only grows
        on_one_connector.sort(key=lambda s: s["started_at"])
        for earlier, later in pairwise(on_one_connector):
            assert later["meter_start_wh"] >= earlier["meter_stop_wh"]

    charged = [s for s in sessions if s["stop_reason"] == "Local"]
    assert charged, "a session ran its whole course"
    recorded = [
        sample["measurand"]
        for s in charged
        for event in node.store.events.get(session_id(s["ocpp_id"], s["transaction_id"]))
        for sample in getattr(event, "samples", ())
    ]
    assert {"Energy.Active.Import.Register", "Power.Active.Import"} <= set(recorded)
    # Both send whole Wh, as meters read (a session of a second may read 0): no float residue.
    assert all(float(s["energy_wh"]).is_integer() and s["energy_wh"] >= 0 for s in sessions)


@pytest.mark.parametrize("ocpp_version", ["1.6", "2.0.1"])
async def test_a_card_nobody_knows_starts_no_transaction(
    node: Node, organization: Any, ocpp_version: str
) -> None:
    api_key, api = organization
    done = await _commission(node, api_key, ["SIM-0001"], id_tags=card_uids(2))

    stats = await simulate(
        f"ws://127.0.0.1:{node.ocpp_port}/ocpp",
        ["SIM-0001"],
        pause=0.05,
        duration=1.5,
        report_every=None,
        id_tags=card_uids(2),
        unknown_tag_share=1.0,
        ocpp_version=ocpp_version,
    )
    await settled(node)

    assert stats.refused > 0
    assert (stats.started, stats.failed) == (0, 0)
    assert await _all(api, f"/sites/{done.site_id}/sessions") == []


async def test_without_cards_the_chargers_only_plug_in_and_out(node: Node, organization: Any) -> None:
    api_key, api = organization
    done = await _commission(node, api_key, ["LOAD-0001"])
    stats = await simulate(
        f"ws://127.0.0.1:{node.ocpp_port}/ocpp", ["LOAD-0001"], pause=0.0, duration=1, report_every=None
    )
    await settled(node)
    assert stats.acked > 10 and stats.failed == 0
    assert (stats.started, stats.refused) == (0, 0)
    assert await _all(api, f"/sites/{done.site_id}/sessions") == []


async def test_the_run_ends_on_time_with_open_transactions_stopped(node: Node, organization: Any) -> None:
    api_key, api = organization
    ocpp_ids = [f"SIM-{n:04d}" for n in range(1, 6)]
    done = await _commission(node, api_key, ocpp_ids, id_tags=card_uids(2))

    started = time.monotonic()
    stats = await simulate(
        f"ws://127.0.0.1:{node.ocpp_port}/ocpp",
        ocpp_ids,
        pause=0.5,  # a session takes 4 s and more: cut short at the deadline
        duration=2,
        report_every=None,
        id_tags=card_uids(2),
        unknown_tag_share=0.0,
    )
    elapsed = time.monotonic() - started
    await settled(node)

    assert 2 <= elapsed < 2 + 1.5
    assert stats.started > 0 and stats.completed == stats.started
    sessions = await _all(api, f"/sites/{done.site_id}/sessions")
    assert {s["state"] for s in sessions} == {"Completed"}
    assert "Other" in {s["stop_reason"] for s in sessions}

    async def all_disconnected() -> None:  # recorded as the server sees each socket close
        assert {s["connection"] for s in await _all(api, "/stations")} == {"Disconnected"}

    await eventually(all_disconnected)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki.issue(tmp_path_factory.mktemp("pki"))


class TestOverTls:
    @pytest.fixture
    async def node(self, start_node: Any, pki: Pki) -> Node:
        return await start_node(tls_cert=pki.cert, tls_key=pki.key, ocpp_tls_port=0)  # type: ignore[no-any-return]

    async def test_chargers_connect_over_wss_with_their_password(
        self, node: Node, organization: Any, pki: Pki
    ) -> None:
        api_key, api = organization
        await _commission(node, api_key, ["TLS-0001", "TLS-0002"], password=PASSWORD, security_profile=2)
        wss = f"wss://127.0.0.1:{node.ocpp_tls_port}/ocpp"

        stats = await simulate(
            wss,
            ["TLS-0001", "TLS-0002"],
            pause=0.05,
            duration=1,
            report_every=None,
            password=PASSWORD,
            ssl_context=tls_context(pki.ca_pem),
        )
        await settled(node)
        assert (stats.ever_connected, stats.failed) == (2, 0)
        stations = await _all(api, "/stations")
        assert {(s["security_profile"], s["vendor"]) for s in stations} == {(2, "cpms-sim")}

        insecure = await simulate(
            wss,
            ["TLS-0001"],
            duration=0.5,
            report_every=None,
            password=PASSWORD,
            ssl_context=tls_context(insecure=True),
        )
        assert insecure.ever_connected == 1

    async def test_a_wrong_password_or_an_untrusted_certificate_is_counted_not_connected(
        self, node: Node, organization: Any, pki: Pki
    ) -> None:
        api_key, _ = organization
        await _commission(node, api_key, ["TLS-0001"], password=PASSWORD, security_profile=2)
        wss = f"wss://127.0.0.1:{node.ocpp_tls_port}/ocpp"

        wrong = await simulate(
            wss,
            ["TLS-0001"],
            duration=1,
            report_every=None,
            password="not-the-password-at-all",
            ssl_context=tls_context(pki.ca_pem),
        )
        assert (wrong.ever_connected, dict(wrong.not_connected)) == (0, {"HTTP 401": 1})

        untrusted = await simulate(
            wss,
            ["TLS-0001"],
            duration=1,
            report_every=None,
            password=PASSWORD,
            ssl_context=tls_context(),
        )
        assert (untrusted.ever_connected, dict(untrusted.not_connected)) == (
            0,
            {"TLS certificate not trusted": 1},
        )

    async def test_the_command_commissions_profile_2_stations_and_runs_them_over_wss(
        self, node: Node, organization: Any, pki: Pki, tmp_path: Any
    ) -> None:
        api_key, api = organization
        secret = tmp_path / "password"
        secret.write_text(PASSWORD + "\n")
        common = [
            "simulate",
            "--chargers=2",
            "--duration=1",
            f"--url=wss://127.0.0.1:{node.ocpp_tls_port}/ocpp",
            f"--api-url=http://127.0.0.1:{node.http_port}/api/v1",
            f"--api-key={api_key}",
        ]
        refused = await asyncio.to_thread(_cpms, *common)  # no password: no profile fits wss
        assert refused.returncode != 0 and "give --password" in refused.stderr
        assert await _all(api, "/stations") == []

        done = await asyncio.to_thread(_cpms, *common, f"--password-file={secret}", f"--ca-file={pki.ca_pem}")
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[-1].startswith("summary: 2/2 chargers connected;")
        assert {s["security_profile"] for s in await _all(api, "/stations")} == {2}


async def test_two_runs_commission_one_site_one_group_and_complete_stations(
    node: Node, organization: Any
) -> None:
    api_key, api = organization
    staff = await access_group(api, "Staff", {"STAFF01": "Bob"})
    first = await _commission(node, api_key, ["SIM-0001"], id_tags=card_uids(2), plan="Premium")
    await configure(api, "SIM-0001", first.group_id, staff)  # an operator grants another group too
    second = await _commission(node, api_key, ["SIM-0001", "SIM-0002"], id_tags=card_uids(3))

    assert (first.site_created, first.created) == (True, ["SIM-0001"])
    assert (second.site_created, second.created, second.existing) == (False, ["SIM-0002"], ["SIM-0001"])
    assert [s["name"] for s in await _all(api, "/sites")] == [SITE_NAME]
    groups = await _all(api, "/access-groups")
    assert sorted((g["name"], g["card_count"]) for g in groups) == [(GROUP_NAME, 3), ("Staff", 1)]
    assert second.group_id == first.group_id

    for ocpp_id in ("SIM-0001", "SIM-0002"):
        station = (await api.get(f"/stations/{ocpp_id}")).json()
        assert station["site_id"] == first.site_id
        assert station["evse_ids"] == [
            f"FR*SIM*E{ocpp_id.replace('-', '')}*1",
            f"FR*SIM*E{ocpp_id.replace('-', '')}*2",
        ]
    assert (await api.get("/stations/SIM-0001")).json()["plan"] == "Premium"
    assert (await api.get("/stations/SIM-0002")).json()["plan"] == "Business"
    granted = (await api.get("/stations/SIM-0001/configuration")).json()["access_group_ids"]
    assert sorted(granted) == sorted([first.group_id, staff])  # the other group kept
    granted = (await api.get("/stations/SIM-0002/configuration")).json()["access_group_ids"]
    assert granted == [first.group_id]


async def test_a_site_given_by_id_is_used(node: Node, organization: Any) -> None:
    api_key, api = organization
    site = (
        await api.post(
            "/sites",
            json={
                "name": "Depot",
                "address": {"street": "1 Rue", "postal_code": "75001", "city": "Paris", "country": "FR"},
            },
        )
    ).json()
    done = await _commission(node, api_key, ["SIM-0001"], site_id=site["id"])
    assert (done.site_id, done.site_created) == (site["id"], False)
    assert [s["name"] for s in await _all(api, "/sites")] == ["Depot"]


def _cpms(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cpms.cli", *args],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_the_command_commissions_with_the_base_url_and_prints_its_summary(
    node: Node, organization: Any
) -> None:
    api_key, api = organization
    done = await asyncio.to_thread(
        _cpms,
        "simulate",
        "--chargers=2",
        "--cards=2",
        "--pause=0.1",
        "--duration=2",
        "--report-every=1",
        f"--url=ws://127.0.0.1:{node.ocpp_port}/ocpp",
        f"--api-url=http://127.0.0.1:{node.http_port}",
        f"--api-key={api_key}",
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"site {SITE_NAME!r}") and "2 stations commissioned" in lines[0]
    assert any("msg/s acked" in line for line in lines[1:-1])  # progress
    assert lines[-1].startswith("summary: 2/2 chargers connected;")
    assert "latency p50" in lines[-1] and "transactions" in lines[-1] and "0 calls failed" in lines[-1]
    assert len(await _all(api, "/stations")) == 2


async def test_an_api_url_that_is_not_the_api_is_a_one_line_error(node: Node, organization: Any) -> None:
    api_key, _ = organization
    for url in (f"http://127.0.0.1:{node.ocpp_port}", f"http://127.0.0.1:{node.http_port}/elsewhere"):
        done = await asyncio.to_thread(_cpms, "simulate", f"--api-url={url}", f"--api-key={api_key}")
        assert done.returncode != 0
        assert "Traceback" not in done.stderr
        [line] = done.stderr.splitlines()
        assert "expected" in line and "http://HOST:PORT or http://HOST:PORT/api/v1" in line
