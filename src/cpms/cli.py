"""The `cpms` command line."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import sys
from typing import Any

from cpms import chain_cli, history_cli, projection_progress, station_cli
from cpms.aggregates.errors import DomainError
from cpms.command_line import subcommand
from cpms.infra.settings import ADMIN, ALL_ROLES, Settings, SettingsError
from cpms.infra.startup import StartupError
from cpms.process import until_signalled
from cpms.simulation import cli as simulation_cli

# The node (and the demo, which runs one) is imported by the commands that start one: the
# others, `cpms station ...` and `--help` among them, start in a fraction of the time.


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
    except StartupError as error:
        print(f"cpms: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cpms", description="Charge point management system")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    for name, roles, text in [
        ("serve", ALL_ROLES, "embedded: OCPP gateway, projections and HTTP API in one process"),
        ("gateway", frozenset({"gateway"}), "the OCPP gateway alone (distributed topology)"),
        ("projector", frozenset({"projector"}), "the projections alone (distributed topology)"),
        ("api", frozenset({"api"}), "the HTTP API alone (distributed topology)"),
    ]:
        role = subcommand(commands, name, text, roles)
        role.add_argument("-v", "--verbose", action="store_true", help=VERBOSE)
        role.set_defaults(run=_serve, roles=tuple(sorted(roles)))

    demo = subcommand(
        commands,
        "demo",
        "serve with a seeded demo organization, site, stations, access group and cards, and simulated"
        " chargers running transactions; prints the API key and curl lines, and writes them to"
        " DATA/demo.env for the shell",
        ALL_ROLES,
    )
    demo.add_argument("--duration", type=float, default=None, help="seconds to run (default: until Ctrl-C)")
    demo.add_argument("-v", "--verbose", action="store_true", help=VERBOSE)
    demo.set_defaults(run=_demo)

    admin = commands.add_parser("admin", help="administration").add_subparsers(
        required=True, metavar="ACTION"
    )
    create_org = subcommand(
        admin, "create-org", "create an organization and print its id and API key as one JSON object", ADMIN
    )
    create_org.add_argument("name", help="the organization's name")
    create_org.set_defaults(run=_create_org)

    roaming = commands.add_parser("roaming", help="OCPI 2.2.1 roaming").add_subparsers(
        required=True, metavar="ACTION"
    )
    set_party = subcommand(roaming, "set-party", "set an organization's own CPO party (OCPI)", ADMIN)
    add_partner = subcommand(
        roaming,
        "add-partner",
        "register an eMSP partner; prints its one-time token A and the versions URL",
        ADMIN,
    )
    for action in (set_party, add_partner):
        action.add_argument("--org", required=True, help="the organization's id")
        action.add_argument("--country-code", required=True, help="ISO 3166-1 alpha-2, e.g. FR")
        action.add_argument("--party-id", required=True, help="3 letters or digits")
        action.add_argument("--name", required=True, help="business name")
    set_party.set_defaults(run=_set_party)
    add_partner.set_defaults(run=_add_partner)

    projections = commands.add_parser("projections", help="read models").add_subparsers(
        required=True, metavar="ACTION"
    )
    status = subcommand(
        projections,
        "status",
        "each projection's position, lag and state; exits 1 when one is stopped at a failing event",
        ADMIN,
    )
    status.set_defaults(run=_projections_status)
    rebuild = subcommand(
        projections,
        "rebuild",
        "rebuild projections side by side from the start of the log while the live ones keep serving,"
        " then switch to them in one transaction; the running `cpms serve` or `cpms projector` does"
        " the work, and this command follows it with a progress bar",
        ADMIN,
    )
    which = rebuild.add_mutually_exclusive_group(required=True)
    which.add_argument("names", nargs="*", default=[], metavar="NAME", help="a projection (see status)")
    which.add_argument("--all", action="store_true", help="every projection")
    rebuild.add_argument("--no-wait", action="store_true", help="ask, and return without following it")
    rebuild.set_defaults(run=_projections_rebuild)

    audit = commands.add_parser(
        "audit", help="auditors: a site's history, the log's hash chain"
    ).add_subparsers(required=True, metavar="ACTION")
    history_cli.add_actions(audit)
    chain_cli.add_actions(audit)

    station_cli.add_parser(commands)
    simulation_cli.add_parser(commands)
    return parser


VERBOSE = "also log what the node does (INFO); by default only warnings and errors are logged"


async def _serve(args: argparse.Namespace) -> None:
    from cpms.node import Node

    settings = Settings.from_env()
    node = Node.build(settings)
    roles = args.roles
    await node.start(gateway="gateway" in roles, projector="projector" in roles, api="api" in roles)
    # What start-up built (modules, the app, the node) lives as long as the process: kept out of
    # the collector's full passes, which otherwise walk it all and held a request up to 60 ms.
    gc.freeze()
    print(f"cpms {' + '.join(roles)} running", flush=True)
    if node.ocpp_port is not None:
        print(f"  OCPP gateway: ws://{settings.host}:{node.ocpp_port}/ocpp/{{ocpp_id}}", flush=True)
    if node.ocpp_tls_port is not None:
        print(f"                wss://{settings.host}:{node.ocpp_tls_port}/ocpp/{{ocpp_id}}", flush=True)
    if node.http_port is not None:
        print(f"  HTTP API:     http://{settings.host}:{node.http_port}/api/v1", flush=True)
    try:
        await until_signalled()
    finally:
        await node.stop()


async def _create_org(args: argparse.Namespace) -> None:
    organization_id, api_key = await _admin(lambda node: node.network.create_organization(args.name))
    print(json.dumps({"organization_id": organization_id, "api_key": api_key}), flush=True)


async def _set_party(args: argparse.Namespace) -> None:
    party = await _admin(
        lambda node: node.network.set_roaming_party(
            args.org, country_code=args.country_code, party_id=args.party_id, name=args.name
        )
    )
    print(json.dumps({"country_code": party.country_code, "party_id": party.party_id, "name": party.name}))


async def _add_partner(args: argparse.Namespace) -> None:
    settings = Settings.from_env()
    new = await _admin(
        lambda node: node.network.add_roaming_partner(
            args.org, country_code=args.country_code, party_id=args.party_id, name=args.name
        )
    )
    answer = {
        "partner_id": new.id,
        "token_a": new.token_a,
        "versions_url": f"{settings.ocpi_base()}/versions",
    }
    print(json.dumps(answer), flush=True)


async def _admin(command: Any) -> Any:
    """One command on a writer of its own, outside any serving node."""
    from cpms.node import Node

    node = Node.build(Settings.from_env())
    await node.writer.start()
    try:
        return await command(node)
    finally:
        await node.writer.stop()
        node.store.close()
        node.views.close()


async def _projections_status(args: argparse.Namespace) -> int:
    """Each projection's position and lag; one stopped at a failing event is named with the
    event and the error, and makes the command exit 1 (for scripts and monitoring)."""
    from cpms.node import Node

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
        if status.rebuild is not None and status.rebuild.active:
            line += f" ({projection_progress.describe(status.rebuild)})"
        if status.failure is not None:
            failure = status.failure
            line += (
                f": stopped at position {failure.position} ({failure.event_type}) since {failure.since},"
                f" {failure.attempts} attempts: {failure.error}"
            )
        print(line)
    return 1 if any(status.failure is not None for status in statuses) else 0


async def _projections_rebuild(args: argparse.Namespace) -> int:
    from cpms.node import Node

    node = Node.build(Settings.from_env())
    try:
        await asyncio.to_thread(node.projections.setup)
        try:
            names = None if args.all else args.names
            await asyncio.to_thread(node.projections.request_rebuild, names)
        except KeyError as error:
            print(f"cpms: {error.args[0]}", file=sys.stderr)
            return 2
        if args.no_wait:
            print("rebuild requested; `cpms projections status` follows it")
            return 0
        return await projection_progress.follow(node.projections, names, out=sys.stdout)
    finally:
        node.store.close()
        node.views.close()


async def _demo(args: argparse.Namespace) -> None:
    from cpms.demo import run_demo

    await run_demo(Settings.from_env(), args.duration)


if __name__ == "__main__":
    sys.exit(main())
