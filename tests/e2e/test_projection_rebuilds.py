"""Every projection rebuilt side by side while chargers keep sending and clients keep reading:
answers stay right throughout, and the rebuild ends on the sheet's new version (the error's
details, filled in from the start of the log) with the same data a fold from scratch gives."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cpms.infra.settings import Database
from cpms.node import all_projections
from cpms.projections import runner as runner_module
from cpms.projections.rebuilds import SHADOW, schema_of, tables_present
from cpms.projections.runner import ProjectionRunner
from cpms.projections.store import ViewStore, open_view_store
from tests.support import (
    OPERATOR_KEY,
    access_group,
    api_client,
    commission,
    configure,
    connected,
    create_site,
    eventually,
    operator_client,
    settled,
)

STATIONS = ("CP-RB1", "CP-RB2")
CYCLES = 150  # of the chargers' load: 4 messages each
CARD = "CAFE01"
BEGIN = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def at(seconds: int) -> str:
    return (BEGIN + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def cpms_command(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CPMS_DATABASE_URL": database_url, "CPMS_OPERATOR_API_KEY": OPERATOR_KEY}
    return subprocess.run(
        [sys.executable, "-m", "cpms.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def as_version_1(views: ViewStore) -> None:
    """The sheet's tables as the previous release left them: version 1, without the error's details."""
    with views.transaction() as tx:
        for table in ("charge_points", "cp_stations"):
            tx.execute(f"ALTER TABLE {table}_v2 RENAME TO {table}_v1")
        for column in ("error_info", "vendor_id", "vendor_error_code"):
            tx.execute(f"ALTER TABLE charge_points_v1 DROP COLUMN {column}")
        if tx.dialect == "postgresql":
            for table in ("charge_points_v1", "cp_stations_v1"):
                for (index,) in tx.execute(
                    "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ?",
                    (table,),
                ):
                    tx.execute(f'ALTER INDEX "{index}" RENAME TO "{index.replace("_v2", "_v1")}"')
        else:
            for table in ("charge_points", "cp_stations"):
                tx.execute(f"DROP INDEX {table}_v2_site")
            tx.execute(
                "CREATE INDEX charge_points_v1_site ON charge_points_v1 (site_id, ocpp_id, connector_id)"
            )
            tx.execute("CREATE INDEX cp_stations_v1_site ON cp_stations_v1 (site_id)")
        tx.execute("UPDATE projection_tracking SET version = 1 WHERE name = 'charge_points'")


def table_rows(views: ViewStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every projection's own tables, sorted: what "the same data" means."""
    rows = {}
    with views.read() as tx:
        for projection in all_projections():
            for table in schema_of(projection, tx.dialect).tables:
                if table != "site_history_snapshots_v1":  # a cache the history fills as asked, not a fold
                    rows[table] = sorted(tx.execute(f"SELECT * FROM {table}"), key=repr)
    return rows


@pytest.fixture
def fresh_views_url(database_url: str, tmp_path: Any, request: pytest.FixtureRequest) -> str:
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path}/fresh.sqlite"
    return str(request.getfixturevalue("postgres_url"))


async def test_every_projection_rebuilt_under_load_serves_throughout_and_ends_on_the_new_version(
    start_node, database_url, fresh_views_url, monkeypatch
):
    # -- the previous release ran for a while: statuses with vendor error codes, sessions ---------
    node = await start_node()
    api = await api_client(node)
    site = (await create_site(api))["id"]
    group = await access_group(api, "Staff", {CARD: "Alice"})
    for ocpp_id in STATIONS:
        await commission(api, site, ocpp_id, connectors=2)
        await configure(api, ocpp_id, group)
    async with connected(node, "CP-RB1") as one, connected(node, "CP-RB2") as two:
        for charger in (one, two):
            await charger.boot()
        for n in range(60):
            await one.status(1 + n % 2, "Available", at(n), vendor_id="Wallbox", vendor_error_code=f"W{n}")
            await two.status(1 + n % 2, "Available", at(n), info=f"self-test {n}")
        started = await one.start_transaction(1, CARD, 1000, at(100))
        await one.stop(started.transaction_id, 3000, at(200))
        await one.status(
            2, "Faulted", at(300), error_code="GroundFailure", vendor_id="Wallbox", vendor_error_code="E42"
        )
    # a longer past, so that the rebuild takes a while (folds are slower on PostgreSQL): statuses
    # stored through the writer
    past = 1000 if database_url.startswith("sqlite") else 300
    await asyncio.gather(
        *(
            node.network.status_notified(
                STATIONS[n % 2],
                connector_id=1,
                ocpp_status="Available",
                occurred_at=BEGIN + timedelta(seconds=n),
                vendor_id="Wallbox",
                vendor_error_code=f"W{n}",
            )
            for n in range(past)
        )
    )
    await settled(node)
    org_api = api
    await node.stop()
    views = open_view_store(Database.from_url(database_url))
    as_version_1(views)
    views.close()

    # -- the new release starts: the sheet is upgraded in place and rebuilt; --all asked too ----
    monkeypatch.setattr(runner_module, "REBUILD_BATCH_SIZE", 100)  # long enough to overlap the load
    node = await start_node()
    api = org_api.__class__(
        base_url=f"http://127.0.0.1:{node.http_port}/api/v1", headers=org_api.headers, timeout=15
    )
    operator = operator_client(node)
    problems: list[str] = []
    seen_rebuilding: set[str] = set()
    reads = 0
    loading = True

    async def read() -> None:
        """One client: what it was served must never go back (each reader on its own, for two
        readers' answers may cross on the way)."""
        nonlocal reads
        sessions_seen: set[str] = set()
        positions_seen: dict[str, int] = {}
        while loading:
            sheet = await api.get(f"/sites/{site}/charge-points")
            sessions = await api.get(f"/sites/{site}/sessions?limit=500")  # all of them: see load()
            overview = await api.get(f"/sites/{site}")
            stations = await api.get(f"/stations?site_id={site}")
            status = await operator.get("/projections")
            for answer in (sheet, sessions, overview, stations, status):
                if answer.status_code != 200:
                    problems.append(f"{answer.request.url.path}: {answer.status_code} {answer.text}")
            if sheet.status_code == 200:
                items = sheet.json()["items"]
                if len(items) != 4:
                    problems.append(f"the sheet shows {len(items)} charge points")
            if sessions.status_code == 200:
                ids = {item["id"] for item in sessions.json()["items"]}
                if not sessions_seen <= ids:
                    problems.append(f"sessions went missing: {sessions_seen - ids}")
                sessions_seen.update(ids)
            if stations.status_code == 200 and len(stations.json()["items"]) != 2:
                problems.append(f"the stations are {stations.json()['items']}")
            if status.status_code == 200:
                for item in status.json()["items"]:
                    if item["state"] == "rebuilding":
                        seen_rebuilding.add(item["name"])
                    if item["position"] < positions_seen.get(item["name"], 0):  # a switch never goes back
                        problems.append(f"{item['name']} went back to position {item['position']}")
                    positions_seen[item["name"]] = item["position"]
            reads += 1

    sent_while_rebuilding = 0

    async def load() -> None:
        """Statuses and sessions at a steady pace for a while (fewer sessions than a page of
        500): most of the rebuild runs under it, and its end can catch up on a loaded machine."""
        nonlocal sent_while_rebuilding
        async with connected(node, "CP-RB1") as one, connected(node, "CP-RB2") as two:
            for n in range(1000, 1000 + 2 * CYCLES, 2):
                if not loading:
                    break
                await one.status(2, "Available", at(n), vendor_id="Wallbox", vendor_error_code="W-live")
                await two.status(1, "Charging", at(n))
                started = await two.start_transaction(2, CARD, 10, at(n))
                await two.stop(started.transaction_id, 20, at(n + 1))
                sent_while_rebuilding += bool(seen_rebuilding)
                await asyncio.sleep(0.03)

    readers = [asyncio.create_task(read()) for _ in range(2)]
    chargers = asyncio.create_task(load())
    rebuilt = await asyncio.to_thread(
        cpms_command, "projections", "rebuild", "--all", database_url=database_url
    )
    loading = False
    await asyncio.gather(*readers, chargers)

    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert "charge_points v2: rebuilt and switched" in rebuilt.stdout
    assert problems == [], problems[:10]
    assert reads > 5 and seen_rebuilding and sent_while_rebuilding > 5, (reads, seen_rebuilding)

    # -- it ends on the new version, with the same data a fold from scratch gives, plus the field -
    await settled(node)

    async def all_live() -> None:
        items = (await operator.get("/projections")).json()["items"]
        assert {i["state"] for i in items} == {"live"}, items
        assert {i["rebuild"]["state"] for i in items} == {"done"}
        assert next(i for i in items if i["name"] == "charge_points")["version"] == 2

    await eventually(all_live)
    sheet = {
        (i["ocpp_id"], i["connector_id"]): i
        for i in (await api.get(f"/sites/{site}/charge-points")).json()["items"]
    }
    assert sheet[("CP-RB1", 2)] | {"since": None, "status": None} == {  # the chargers have gone
        "ocpp_id": "CP-RB1",
        "connector_id": 2,
        "evse_id": None,
        "status": None,
        "since": None,
        "error_code": "NoError",
        "last_ocpp_status": "Available",
        "error_info": None,
        "vendor_id": "Wallbox",
        "vendor_error_code": "W-live",
    }
    assert (sheet[("CP-RB1", 1)]["vendor_id"], sheet[("CP-RB1", 1)]["vendor_error_code"]) == (
        "Wallbox",
        f"W{past - 2}",
    )
    assert sheet[("CP-RB2", 2)]["error_info"] == "self-test 59"  # stored before the upgrade, filled in

    fresh = open_view_store(Database.from_url(fresh_views_url))
    scratch = ProjectionRunner(node.store, fresh, all_projections())
    await asyncio.to_thread(scratch.setup)
    await asyncio.to_thread(scratch.catch_up)
    assert table_rows(node.views) == table_rows(fresh)
    with node.views.read() as tx:
        present = tables_present(tx)
    assert not {t for t in present if t.endswith(SHADOW) or t in ("charge_points_v1", "cp_stations_v1")}
    fresh.close()
    await api.aclose()
    await operator.aclose()
