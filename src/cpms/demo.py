"""`cpms demo`: the embedded node with a seeded organization and simulated chargers running
transactions, so that every read model shows data within a minute of a fresh clone.

The seed is kept in DATA/demo.json and reused on later runs; DATA/demo.env holds the API key,
the site and the API's address for a shell (`source data/demo.env`)."""

from __future__ import annotations

import asyncio
import json
import secrets
import shlex
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from cpms.aggregates.site import Coordinates
from cpms.application import Address
from cpms.infra.settings import Settings
from cpms.node import Node
from cpms.process import stopped_by_signals
from cpms.simulation import simulate

STATIONS = ("DEMO-0001", "DEMO-0002")
SCAN2PAY_STATION = STATIONS[0]  # takes ad-hoc payments: try `.../connectors/1/scan2pay`
CONNECTORS = 2
# The demo's drivers: cards of the access group granted at both stations.
CARDS = {"DE0A11CE": "Alice", "DE0B0B01": "Bob", "DE0CA201": "Carol", "DE0DA7E0": "Dave"}
UNKNOWN_CARD_SHARE = 0.15  # of transactions begun with a card no group knows (the charger is refused)
PAUSE = 2.0  # seconds between a simulated charger's steps: a first session completes within ~20 s


@dataclass(frozen=True)
class Demo:
    api_key: str
    organization_id: str
    site_id: str
    access_group_id: str
    ocpp_ids: list[str]


async def run_demo(settings: Settings, duration: float | None) -> None:
    folder = data_folder(settings)
    if settings.operator_api_key is None:  # the operator's endpoints are tried by hand too
        settings = replace(settings, operator_api_key=operator_key(folder / "demo-operator.key"))
    node = Node.build(settings)
    await node.start()
    try:
        demo = await seed(node, folder / "demo.json")
        portal = f"http://127.0.0.1:{node.http_port}/"
        api = f"{portal}api/v1"
        ocpp = f"ws://127.0.0.1:{node.ocpp_port}/ocpp"
        env_file = write_env(folder / "demo.env", demo, api, settings.operator_api_key)
        print(_banner(demo, portal, api, ocpp, env_file), flush=True)
        with stopped_by_signals(asyncio.Event()) as stop:
            await simulate(
                ocpp,
                demo.ocpp_ids,
                connectors=CONNECTORS,
                pause=PAUSE,
                duration=duration or 10**9,
                report_every=60.0,
                id_tags=list(CARDS),
                unknown_tag_share=UNKNOWN_CARD_SHARE,
                stop=stop,
            )
    finally:
        await node.stop()


def data_folder(settings: Settings) -> Path:
    path = settings.database.sqlite_path
    return path.parent if path is not None else Path("data")


async def seed(node: Node, path: Path) -> Demo:
    """Seed once; later runs reuse what the file names, if its API key still opens it."""
    if path.exists():
        try:
            demo = Demo(**json.loads(path.read_text()))
        except (TypeError, ValueError):
            demo = None  # written by an older cpms, or damaged: seed afresh
        if demo is not None and await node.network.authenticate(demo.api_key) == demo.organization_id:
            return demo
    network = node.network
    organization_id, api_key = await network.create_organization("Demo Charging Co")
    site = await network.create_site(
        organization_id,
        name="Demo site",
        address=Address(street="1 Rue de la Paix", postal_code="75002", city="Paris", country="FR"),
        provider="Demo Energy",
        coordinates=Coordinates(latitude=48.868662, longitude=2.330858),  # what roaming publishes
    )
    group = await network.create_access_group(organization_id, name="Demo drivers")
    for uid, driver in CARDS.items():
        await network.add_card(organization_id, group.id, uid=uid, label=driver)
    for n, ocpp_id in enumerate(STATIONS, start=1):
        await network.commission_station(
            organization_id,
            ocpp_id=ocpp_id,
            serial_number=f"SN-DEMO-{n:04d}",
            site_id=site.id,
            plan="Business",
            connectors=CONNECTORS,
            evse_ids=[f"FR*CPM*E{n:07d}*{c}" for c in range(1, CONNECTORS + 1)],
        )
        written = await network.configure_station(
            organization_id,
            ocpp_id,
            access_group_ids=[group.id],
            roaming_enabled=False,
            scan2pay_enabled=ocpp_id == SCAN2PAY_STATION,
        )
        await node.projections.wait_for(written.position)
    demo = Demo(api_key, organization_id, site.id, group.id, list(STATIONS))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(demo), indent=2))
    return demo


def operator_key(path: Path) -> str:
    """The demo's operator key: made once, readable by its owner only, reused on later runs."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    path.touch(mode=0o600)
    path.write_text(key + "\n")
    return key


def write_env(path: Path, demo: Demo, api: str, operator: str | None = None) -> Path:
    """Shell variables for trying the API by hand: `source data/demo.env`."""
    values = {"CPMS_API": api, "KEY": demo.api_key, "SITE": demo.site_id, "GROUP": demo.access_group_id}
    if operator is not None:
        values["OPERATOR_KEY"] = operator
    # What `cpms station ...` reads, so operators' commands work from the same shell.
    values |= {"CPMS_API_URL": api, "CPMS_API_KEY": demo.api_key}
    path.write_text("".join(f"export {name}={shlex.quote(value)}\n" for name, value in values.items()))
    return path


def _banner(demo: Demo, portal: str, api: str, ocpp: str, env_file: Path) -> str:
    """Opens with the portal's address and the key to sign in with: what a newcomer wants first."""
    auth = '-H "Authorization: Bearer $KEY"'
    return (
        f"\ncpms demo portal: {portal}  (open it in a browser, sign in with the API key below)\n"
        f"  API key:  {demo.api_key}\n"
        "The demo is running (embedded, SQLite).\n"
        f"  site:     {demo.site_id}\n"
        f"  API:      {api}\n"
        f"  chargers: {ocpp}/{{{','.join(demo.ocpp_ids)}}}, cards {', '.join(CARDS)} and now and then an"
        " unknown one\n"
        f"In another shell:  source {env_file}\n"
        f"  curl -s {auth} $CPMS_API/sites/$SITE\n"
        f"  curl -s {auth} $CPMS_API/sites/$SITE/charge-points\n"
        f"  curl -s {auth} $CPMS_API/sites/$SITE/sessions\n"
        f"  curl -s {auth} $CPMS_API/sites/$SITE/sessions.csv\n"
        f"  curl -s {auth} -H 'Content-Type: application/json' -X POST"
        f" $CPMS_API/stations/{SCAN2PAY_STATION}/connectors/1/scan2pay"
        """ -d '{"payment_reference": "pi_1"}'\n"""
        f"  .venv/bin/cpms station availability {demo.ocpp_ids[-1]} --inoperative --connector 2\n"
        '  curl -s -H "Authorization: Bearer $OPERATOR_KEY" $CPMS_API/projections   # operator\n'
        f"  .venv/bin/cpms audit site {demo.site_id} --format table\n"
        "Simulated chargers plug in, charge with a card and plug out; press Ctrl-C to stop.\n"
    )
