"""The `cpms` command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from cpms.aggregates.errors import DomainError
from cpms.application import Address
from cpms.infra.settings import Settings, SettingsError
from cpms.node import Node
from cpms.simulation import cli as simulation_cli
from cpms.simulation import simulate


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("ocpp").setLevel(logging.WARNING)  # it logs every frame at INFO
    try:
        return int(asyncio.run(args.run(args)) or 0)
    except (SettingsError, DomainError) as error:
        print(f"cpms: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cpms", description="Charge point management system")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="embedded: gateway, projections and API in one process")
    serve.add_argument("-v", "--verbose", action="store_true")
    serve.set_defaults(run=_serve, roles=("gateway", "projector", "api"))
    for role, text in [
        ("gateway", "the OCPP gateway alone (distributed topology)"),
        ("projector", "the projections alone (distributed topology)"),
        ("api", "the HTTP API alone (distributed topology)"),
    ]:
        one = commands.add_parser(role, help=text)
        one.add_argument("-v", "--verbose", action="store_true")
        one.set_defaults(run=_serve, roles=(role,))

    demo = commands.add_parser("demo", help="serve with a seeded demo organization and simulated chargers")
    demo.add_argument("--duration", type=float, default=None, help="seconds to run (default: until Ctrl-C)")
    demo.set_defaults(run=_demo)

    admin = commands.add_parser("admin", help="administration").add_subparsers(
        required=True, metavar="ACTION"
    )
    create_org = admin.add_parser("create-org", help="create an organization and print its API key")
    create_org.add_argument("name")
    create_org.set_defaults(run=_create_org)

    projections = commands.add_parser("projections", help="read models").add_subparsers(
        required=True, metavar="ACTION"
    )
    status = projections.add_parser("status", help="position and lag of each projection")
    status.set_defaults(run=_projections_status)

    simulation_cli.add_parser(commands)
    return parser


async def _serve(args: argparse.Namespace) -> None:
    settings = Settings.from_env()
    node = Node.build(settings)
    roles = args.roles
    await node.start(gateway="gateway" in roles, projector="projector" in roles, api="api" in roles)
    print(f"cpms {' + '.join(roles)} running", flush=True)
    if node.ocpp_port is not None:
        print(f"  OCPP gateway: ws://{settings.host}:{node.ocpp_port}/ocpp/{{ocpp_id}}", flush=True)
    if node.ocpp_tls_port is not None:
        print(f"                wss://{settings.host}:{node.ocpp_tls_port}/ocpp/{{ocpp_id}}", flush=True)
    if node.http_port is not None:
        print(f"  HTTP API:     http://{settings.host}:{node.http_port}/api/v1", flush=True)
    try:
        await _until_signalled()
    finally:
        await node.stop()


async def _create_org(args: argparse.Namespace) -> None:
    node = Node.build(Settings.from_env())
    await node.writer.start()
    try:
        organization_id, api_key = await node.network.create_organization(args.name)
    finally:
        await node.writer.stop()
        node.store.close()
        node.views.close()
    print(json.dumps({"organization_id": organization_id, "api_key": api_key}), flush=True)


async def _projections_status(args: argparse.Namespace) -> int:
    """Each projection's position and lag; one stopped at a failing event is named with the
    event and the error, and makes the command exit 1 (for scripts and monitoring)."""
    node = Node.build(Settings.from_env())
    try:
        await asyncio.to_thread(node.projections.setup)
        statuses = await asyncio.to_thread(node.projections.status)
    finally:
        node.store.close()
        node.views.close()
    for status in statuses:
        line = f"{status.name} v{status.version}: position {status.position}, lag {status.lag}"
        line += f", {status.state}"
        if status.failure is not None:
            failure = status.failure
            line += (
                f": stopped at position {failure.position} ({failure.event_type}) since {failure.since},"
                f" {failure.attempts} attempts: {failure.error}"
            )
        print(line)
    return 1 if any(status.failure is not None for status in statuses) else 0


async def _demo(args: argparse.Namespace) -> None:
    settings = Settings.from_env()
    node = Node.build(settings)
    await node.start()
    try:
        demo = await _seed_demo(node, _demo_file(settings))
        base = f"http://127.0.0.1:{node.http_port}/api/v1"
        auth = f"-H 'Authorization: Bearer {demo['api_key']}'"
        print(
            "\ncpms demo is running (embedded, SQLite under ./data).\n"
            f"  API key:   {demo['api_key']}\n"
            f"  site:      curl -s {auth} {base}/sites/{demo['site_id']}\n"
            f"  sheet:     curl -s {auth} {base}/sites/{demo['site_id']}/charge-points\n"
            f"  stations:  curl -s {auth} {base}/stations\n"
            f"  chargers:  ws://127.0.0.1:{node.ocpp_port}/ocpp/{{{', '.join(demo['ocpp_ids'])}}}\n"
            "Simulated chargers are plugging in and out; press Ctrl-C to stop.\n",
            flush=True,
        )
        chargers = asyncio.create_task(
            simulate(
                f"ws://127.0.0.1:{node.ocpp_port}/ocpp",
                demo["ocpp_ids"],
                pause=3.0,
                duration=args.duration or 10**9,
                report_every=60.0,
            )
        )
        stop = asyncio.create_task(_until_signalled())
        await asyncio.wait([chargers, stop], return_when=asyncio.FIRST_COMPLETED)
        for task in (chargers, stop):
            task.cancel()
    finally:
        await node.stop()


def _demo_file(settings: Settings) -> Path:
    base = settings.database.sqlite_path.parent if settings.database.sqlite_path else Path("data")
    return base / "demo.json"


async def _seed_demo(node: Node, path: Path) -> dict[str, Any]:
    """Seed once; later runs reuse the organization, site and stations the file names."""
    if path.exists():
        demo = json.loads(path.read_text())
        if await node.network.authenticate(demo["api_key"]) is not None:
            return demo  # type: ignore[no-any-return]
    network = node.network
    organization_id, api_key = await network.create_organization("Demo Charging Co")
    site = await network.create_site(
        organization_id,
        name="Demo site",
        address=Address(street="1 Rue de la Paix", postal_code="75002", city="Paris", country="FR"),
        provider="Demo Energy",
    )
    ocpp_ids = ["DEMO-0001", "DEMO-0002"]
    for n, ocpp_id in enumerate(ocpp_ids, start=1):
        written = await network.commission_station(
            organization_id,
            ocpp_id=ocpp_id,
            serial_number=f"SN-DEMO-{n:04d}",
            site_id=site.id,
            plan="Business",
            connectors=2,
            evse_ids=[f"FR*CPM*E{n:07d}*1", f"FR*CPM*E{n:07d}*2"],
        )
        await node.projections.wait_for(written.position)
    demo = {"api_key": api_key, "organization_id": organization_id, "site_id": site.id, "ocpp_ids": ocpp_ids}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(demo, indent=2))
    return demo


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


if __name__ == "__main__":
    sys.exit(main())
