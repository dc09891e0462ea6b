"""Auditors: a site's history and the site as it was at an instant, from real OCPP chargers.

The state as of a past instant must equal what the read models served at that instant: it is
captured then, during the scenario, and asked for afterwards, once the site has moved on."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cpms.audit.history import SiteHistory
from cpms.cli import main
from cpms.timestamps import to_iso
from tests.support import access_group, api_client, commission, configure, connected, create_site, settled

NOW = datetime.now(UTC).replace(microsecond=0)


def at(minutes: float) -> str:
    return to_iso(NOW + timedelta(minutes=minutes))


async def _get(api, path: str, **params) -> Any:
    response = await api.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def _served(api, site_id: str) -> dict[str, Any]:
    """What the read models serve about the site right now."""
    return {
        "site": await _get(api, f"/sites/{site_id}"),
        "charge_points": (await _get(api, f"/sites/{site_id}/charge-points"))["items"],
        "stations": (await _get(api, "/stations", site_id=site_id))["items"],
        "sessions": (await _get(api, f"/sites/{site_id}/sessions"))["items"],
    }


def _without_running_durations(state: dict[str, Any]) -> dict[str, Any]:
    """An Active session's duration runs with the clock: the view served it at the moment of the
    request, the past view at `until`, a moment after."""
    sessions = [{**s, "duration_s": None} if s["state"] == "Active" else s for s in state["sessions"]]
    return {**state, "sessions": sessions}


def _assert_as_served(as_of: dict[str, Any], served: dict[str, Any]) -> None:
    state = {key: as_of[key] for key in served}
    assert _without_running_durations(state) == _without_running_durations(served)
    for then, now in zip(served["sessions"], as_of["sessions"], strict=True):
        assert 0 <= now["duration_s"] - then["duration_s"] <= 1


@pytest.fixture
async def lived(start_node, database_url):
    """A site whose charger lived through a scenario; what the views served at instant T in the
    middle of it, and T."""
    node = await start_node()
    api = await api_client(node)
    site = await create_site(api)
    site_id = site["id"]
    await commission(api, site_id, "HIST-1", evse_ids=["FR*HST*E1*1", "FR*HST*E1*2"])
    await commission(api, site_id, "HIST-2", connectors=1, password="a-secret-of-16-chars")
    staff = await access_group(api, "Staff", {"04A1B2C3": "Alice's badge"})
    await configure(api, "HIST-1", staff)
    async with connected(node, "HIST-1") as cp:
        await cp.boot()
        await cp.status(1, "Available", at(-60))
        await cp.status(2, "Available", at(-60))
        first = await cp.start_transaction(1, "04A1B2C3", meter_start=1_000, timestamp=at(-30))
        await cp.meter(1, first.transaction_id, at(-20), "2500")
        await configure(api, "HIST-1", staff, roaming_enabled=True)  # a configuration change
        await cp.status(1, "Charging", at(-29))  # the last frame before T: a station event
        await settled(node)
        served = await _served(api, site_id)
        until = to_iso(datetime.now(UTC))
        await asyncio.sleep(0.01)  # nothing more is received within T's millisecond

        # The site moves on: the session ends, statuses change, a new session begins.
        await cp.meter(1, first.transaction_id, at(-10), "4000")
        await cp.stop(first.transaction_id, 5_000, at(-5), reason="EVDisconnected")
        await cp.status(1, "Available", at(-4))
        await cp.status(2, "Preparing", at(-3))
        await cp.start_transaction(2, "04A1B2C3", meter_start=9_000, timestamp=at(-2))
        await cp.status(2, "Charging", at(-1))
        await settled(node)
        assert await _served(api, site_id) != served  # the views have moved on
        yield node, api, site_id, served, until, database_url
    await api.aclose()


async def test_the_site_as_of_a_past_instant_is_what_the_views_served_then(lived):
    node, api, site_id, served, until, _ = lived
    document = await _get(api, f"/sites/{site_id}/history", until=until)
    assert document["until"] == until
    as_of = document["as_of"]
    _assert_as_served(as_of, served)
    assert as_of["site"]["state"] == "Available"
    assert [s["state"] for s in as_of["sessions"]] == ["Active"]
    assert (
        as_of["events"] == len(document["items"]) and as_of["position"] == document["items"][-1]["position"]
    )

    # Rebuilt through snapshots taken every few events, the same past: those taken while
    # answering, and those the projector takes in its background.
    history = SiteHistory(node.store, node.views, snapshot_every=5)
    moment = datetime.fromisoformat(until)
    cold = await asyncio.to_thread(history.as_of, site_id, moment, None)
    warm = await asyncio.to_thread(history.as_of, site_id, moment, None)
    while await asyncio.to_thread(history.keep_snapshots):
        pass
    kept = await asyncio.to_thread(history.as_of, site_id, moment, None)
    for again in (cold, warm, kept):
        assert again["position"] == as_of["position"]
        _assert_as_served({**again, "sessions": as_of["sessions"]}, served)
        assert again["sessions"] == as_of["sessions"]


async def test_history_lists_the_sites_events_in_log_order_up_to_until(lived):
    _, api, site_id, _, until, _ = lived
    everything = await _get(api, f"/sites/{site_id}/history", limit=500)
    items = everything["items"]
    positions = [item["position"] for item in items]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    types = [item["type"] for item in items]
    assert types[:2] == ["SiteCreated", "StationCommissioned"]
    for kind in (
        "StationConfigured",
        "StationBooted",
        "StatusNotification",
        "TransactionStarted",
        "MeterValuesRecorded",
        "TransactionEnded",
        "TransactionBegan",
    ):
        assert kind in types
    assert "AccessGroupCreated" not in types  # the organization's, not the site's
    status = next(i for i in items if i["type"] == "StatusNotification")
    assert status["aggregate_type"] == "Station"
    assert status["occurred_at"] == at(-60)  # the charger's time
    assert status["received_at"] > status["occurred_at"]
    assert status["payload"]["ocpp_status"] == "Available"
    hist2 = next(
        i for i in items if i["type"] == "StationCommissioned" and i["payload"]["ocpp_id"] == "HIST-2"
    )
    assert hist2["payload"]["password_hash"] == "(redacted)"

    cut = await _get(api, f"/sites/{site_id}/history", until=until, limit=500)
    assert cut["items"] == [item for item in items if item["received_at"] <= until]
    assert len(cut["items"]) < len(items)

    # Pages of 4 join into the same listing; as_of comes with the first page only, and every
    # page keeps the first page's until.
    pages, cursor = [], None
    while True:
        params = {"until": until, "limit": 4} if cursor is None else {"cursor": cursor, "limit": 4}
        page = await _get(api, f"/sites/{site_id}/history", **params)
        assert ("as_of" in page) == (cursor is None)
        assert page["until"] == until
        pages += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == cut["items"]


async def test_another_organizations_site_and_bad_parameters_are_refused(lived):
    node, api, site_id, _, until, _ = lived
    async with await api_client(node, "Other Org") as other:
        response = await other.get(f"/sites/{site_id}/history")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert (await api.get("/sites/not-a-uuid/history")).status_code == 404
    for params in ({"until": "yesterday"}, {"cursor": "bm90IG91cnM"}, {"limit": 0}, {"since": until}):
        response = await api.get(f"/sites/{site_id}/history", params=params)
        assert response.status_code == 400, params
    bad = await api.get(f"/sites/{site_id}/history", params={"until": "2026-13-01T00:00:00Z"})
    assert "until must be an RFC 3339 instant" in bad.json()["error"]["message"]
    first = await _get(api, f"/sites/{site_id}/history", until=until, limit=2)
    other_until = await api.get(
        f"/sites/{site_id}/history", params={"cursor": first["next_cursor"], "until": at(-100)}
    )
    assert other_until.status_code == 400
    future = await _get(api, f"/sites/{site_id}/history", until="2999-01-01T00:00:00Z", limit=1)
    assert future["until"] <= to_iso(datetime.now(UTC))  # a later until is now


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`cpms audit site ARGS` in a process of its own, reading the node's stores directly."""
    env = {**os.environ, "CPMS_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "cpms.cli", "audit", "site", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def _cli_here(capsys, monkeypatch, database_url: str, *args: str) -> tuple[int, str, str]:
    """The same in this process (quicker): exit status, output and errors."""
    monkeypatch.setenv("CPMS_DATABASE_URL", database_url)
    capsys.readouterr()
    status = await asyncio.to_thread(main, ["audit", "site", *args])
    out, err = capsys.readouterr()
    return status, out, err


async def test_the_command_line_gives_the_same_history(lived, capsys, monkeypatch):
    _, api, site_id, _, until, url = lived
    api_document = await _get(api, f"/sites/{site_id}/history", until=until, limit=500)

    done = await asyncio.to_thread(_cli, url, site_id, "--as-of", until)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == api_document

    status, out, _ = await _cli_here(capsys, monkeypatch, url, site_id, "--as-of", until, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 0
    assert [int(row["position"]) for row in rows] == [i["position"] for i in api_document["items"]]
    assert json.loads(rows[0]["payload"])["name"] == "Depot"

    status, out, _ = await _cli_here(capsys, monkeypatch, url, site_id, "--as-of", until, "--format", "table")
    assert status == 0
    assert "state Available" in out and "HIST-1" in out and "StatusNotification" in out

    status, _, err = await _cli_here(capsys, monkeypatch, url, "00000000-0000-0000-0000-000000000000")
    assert status == 2 and "no event of site" in err
    status, _, err = await _cli_here(capsys, monkeypatch, url, site_id, "--as-of", "soon")
    assert status == 2 and "--as-of" in err
