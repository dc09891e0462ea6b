"""A cpms node fed by simulated chargers, and Debian's Chromium driven by Playwright, shared by the
browser tests of a module.

The node runs on an event loop of its own thread, so the tests drive the browser with Playwright's
sync API while the node, its chargers (the simulator's, then the `ocpp` package's ChargePoints
the tests move) and a fake eMSP keep running. `Server.run` hands the node's loop a coroutine."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from ocpp.v16 import call

from cpms.infra.settings import Database, Settings
from cpms.node import Node
from cpms.simulation import simulate
from tests.e2e.test_ocpi_credentials import handshake, registered_partner, token_header
from tests.e2e.test_ocpi_tokens import TOKEN
from tests.emsp import running_emsp
from tests.support import Charger, access_group, api_client_with, commission, configure, connected, settled

T = TypeVar("T")

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

CARDS = {"C0FFEE01": "Alice Martin", "C0FFEE02": "Bruno Leroy", "C0FFEE03": "Chloé Dubois"}
SIMULATED = ("VALMY-01", "VALMY-02")
ADDRESSES = {
    "Quai de Valmy": {"street": "12 Quai de Valmy", "postal_code": "75010", "city": "Paris", "country": "FR"},
    "Entrepôt Gerland": {
        "street": "40 Rue de Gerland",
        "postal_code": "69007",
        "city": "Lyon",
        "country": "FR",
    },
    "Parking Île de Nantes": {
        "street": "5 Boulevard de la Prairie au Duc",
        "postal_code": "44200",
        "city": "Nantes",
        "country": "FR",
    },
}


@dataclass
class World:
    """What the server holds, as the tests need to name it."""

    api_key: str
    sites: dict[str, str]  # name -> id
    group_id: str
    chargers: dict[str, Charger] = field(default_factory=dict)


class Server:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="cpms-browser-node", daemon=True)
        self.stack = contextlib.AsyncExitStack()
        self.node: Node | None = None

    def run(self, coroutine: Awaitable[T], timeout: float = 120) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)  # type: ignore[arg-type]

    @property
    def url(self) -> str:
        assert self.node is not None
        return f"http://127.0.0.1:{self.node.http_port}"

    def api(self, key: str) -> httpx.Client:
        """What the API answers, to compare the pages with."""
        return httpx.Client(
            base_url=f"{self.url}/api/v1", headers={"Authorization": f"Bearer {key}"}, timeout=15
        )

    async def start(self) -> World:
        settings = Settings(
            database=Database.from_url(self.database_url),
            host="127.0.0.1",
            ocpp_port=0,
            http_port=0,
            node_id="browser-node",
            ocpi_authorize_timeout=1,
        )
        self.node = Node.build(settings)
        await self.node.start()
        return await seed(self.node, self.stack)

    async def stop(self) -> None:
        await self.stack.aclose()
        if self.node is not None:
            await self.node.stop()


async def seed(node: Node, stack: contextlib.AsyncExitStack) -> World:
    """Three sites in their three states, chargers that have charged with the group's cards, one
    charging now, a roaming session and a refused roaming token."""
    _, key = await node.network.create_organization("Valmy Recharge")
    api = await stack.enter_async_context(api_client_with(node, f"Bearer {key}"))
    sites = {}
    for name, address in ADDRESSES.items():
        created = await api.post("/sites", json={"name": name, "address": address, "provider": "EDF"})
        assert created.status_code == 201, created.text
        sites[name] = created.json()["id"]
    group_id = await access_group(api, "Chauffeurs", CARDS)
    stations = {"VALMY-01": "Quai de Valmy", "VALMY-02": "Quai de Valmy", "GERLAND-01": "Entrepôt Gerland"}
    stations["NANTES-01"] = "Parking Île de Nantes"
    for n, (ocpp_id, site) in enumerate(stations.items(), start=1):
        evse_ids = [f"FR*VRC*E{n:07d}*{c}" for c in (1, 2)]
        await commission(api, sites[site], ocpp_id, plan="Business", evse_ids=evse_ids)
        await configure(api, ocpp_id, group_id, roaming_enabled=ocpp_id == "VALMY-02")

    # An eMSP whose token roams at VALMY-02, and which refuses another in real time.
    emsp = await stack.enter_async_context(running_emsp())
    partner = await registered_partner(api)
    base, token_c = await handshake(partner, emsp.versions_url)
    async with httpx.AsyncClient(timeout=15, headers=token_header(token_c)) as ocpi:
        pushed = await ocpi.put(f"{base}/tokens/FR/ABC/{TOKEN['uid']}", json=TOKEN)
        assert pushed.status_code == 201, pushed.text
    emsp.allowed = "NOT_ALLOWED"

    # The simulator's chargers charge a few sessions with the group's cards, then go.
    stats = await simulate(
        f"ws://127.0.0.1:{node.ocpp_port}/ocpp",
        SIMULATED,
        pause=0.4,
        duration=4,
        report_every=None,
        id_tags=list(CARDS),
        unknown_tag_share=0.0,
    )
    assert stats.completed > 0, stats

    # Then chargers the tests move: each status of the palette on the sheet, one charging now.
    world = World(key, sites, group_id)
    now = datetime.now(UTC)
    for ocpp_id in ("VALMY-01", "VALMY-02", "GERLAND-01"):
        charger = await stack.enter_async_context(connected(node, ocpp_id))
        await charger.boot()
        world.chargers[ocpp_id] = charger
    valmy1, valmy2, gerland = (world.chargers[i] for i in ("VALMY-01", "VALMY-02", "GERLAND-01"))
    await history(valmy1, now)
    await valmy1.status(1, "Available")
    await valmy1.status(2, "Preparing")
    started = await valmy1.start_transaction(2, "C0FFEE01", 120_000, iso(now - timedelta(minutes=40)))
    await valmy1.meter(2, started.transaction_id, iso(now - timedelta(minutes=5)), "131500")
    await valmy1.status(2, "Charging")
    roamed = await valmy2.start_transaction(1, TOKEN["uid"], 50_000, iso(now - timedelta(hours=3)))
    assert roamed.id_tag_info["status"] == "Accepted"
    await valmy2.stop(roamed.transaction_id, 68_250, iso(now - timedelta(hours=2)))
    assert await valmy2.authorize("DEADBEEF") == "Invalid"  # the eMSP says NOT_ALLOWED
    await valmy2.status(1, "SuspendedEV")
    await fault(valmy2, 2, "GroundFailure")
    await gerland.status(1, "Charging")
    await gerland.status(2, "SuspendedEVSE")
    await settled(node)
    return world


# Sessions of the last days, delivered now with the chargers' own times (as an offline queue
# would): (days ago, hour, minutes charged, kWh, connector, card).
HISTORY = (
    (9, 8, 95, 21.4, 1, "C0FFEE01"),
    (8, 18, 240, 38.0, 2, "C0FFEE02"),
    (7, 7, 45, 9.8, 1, "C0FFEE03"),
    (6, 12, 20, 4.2, 2, "C0FFEE01"),
    (5, 9, 130, 27.5, 1, "C0FFEE02"),
    (4, 19, 600, 55.1, 2, "C0FFEE03"),
    (3, 8, 75, 15.0, 1, "C0FFEE01"),
    (2, 14, 1500, 61.3, 2, "C0FFEE02"),
    (1, 10, 55, 12.2, 1, "C0FFEE03"),
)


async def history(charger: Charger, now: datetime) -> None:
    register = 1_000_000
    for days_ago, hour, minutes, kwh, connector, card in HISTORY:
        start = (now - timedelta(days=days_ago)).replace(hour=hour, minute=0, second=0, microsecond=0)
        started = await charger.start_transaction(connector, card, register, iso(start))
        register += round(kwh * 1000)
        await charger.stop(started.transaction_id, register, iso(start + timedelta(minutes=minutes)))


async def fault(charger: Charger, connector_id: int, error_code: str) -> None:
    await charger.call(
        call.StatusNotification(connector_id=connector_id, error_code=error_code, status="Faulted"),
        suppress=False,
    )


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, World]]:
    """SQLite is enough here: the pages read the same read models as the API, which the e2e
    tests run on both databases."""
    folder = tmp_path_factory.mktemp("browser")
    running = Server(f"sqlite:///{folder}/cpms.sqlite")
    running.thread.start()
    try:
        world = running.run(running.start())
        yield running, world
    finally:
        with contextlib.suppress(Exception):
            running.run(running.stop(), timeout=60)
        running.loop.call_soon_threadsafe(running.loop.stop)
        running.thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: scripts/test installs Debian's chromium (scripts/browser.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshots() -> Callable[[Any, str], Path]:
    """Saves a page, whole, under test-artifacts/screenshots/ (kept out of git)."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page: Any, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
