"""`cpms simulate`: its arguments, and the run that commissions the stations (with an API key)
before starting the chargers."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from pathlib import Path
from typing import Any

from cpms.client import Api, ApiError
from cpms.process import stopped_by_signals
from cpms.simulation import commissioning
from cpms.simulation.run import OCPP_VERSIONS, simulate, tls_context
from cpms.simulation.stats import Stats

DESCRIPTION = """\
Run simulated OCPP chargers (the `ocpp` package's ChargePoint, 1.6 or 2.0.1) against a cpms
gateway. Each boots, reports its connectors Available and heartbeats; with cards, each connector
runs charging sessions (Authorize, a transaction with meter values of energy and power, stop),
some with a card nobody knows, which the server refuses; with --cards 0 it only plugs in and out.
They answer the central system's commands as real chargers do: remote start and stop (a session
with the idTag given), availability (a connector Inoperative takes no driver), reset (transactions
stopped, then a new boot) and unlock.

With --api-key it first commissions the stations PREFIX-0001..N through the HTTP API, on the site
named --site-name (created the first time, reused after) with a plan and EVSE identities, and
grants the access group "Simulation cards", holding the cards, at every station; so the sessions
are listed by the API. Stations commissioned before are reused as they are.

Prints a progress line every --report-every seconds (chargers connected, messages acknowledged per
second, latency p50/p99, transactions started/completed/refused, commands answered, failures)
and a summary at the end. Exits 1 when no charger could connect; Ctrl-C ends the run early with
its summary."""
UID = re.compile(r"^[!-~]{1,20}$")  # a 1.6 idTag is at most 20 characters; printable, no spaces


class _Help(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown after every flag's help, the description kept as written."""


def add_parser(commands: Any) -> None:
    """Add `simulate` to the `cpms` subcommands (`commands`, from `add_subparsers`)."""
    parser = commands.add_parser(
        "simulate",
        help="run simulated OCPP 1.6 / 2.0.1 chargers against a cpms gateway",
        description=DESCRIPTION,
        formatter_class=_Help,
    )
    chargers = parser.add_argument_group("chargers")
    chargers.add_argument(
        "--chargers", metavar="N", type=_positive(int), default=10, help="how many chargers"
    )
    chargers.add_argument(
        "--connectors", metavar="N", type=_positive(int), default=2, help="connectors per charger"
    )
    chargers.add_argument("--prefix", default="SIM", help="OCPP identities are PREFIX-0001, PREFIX-0002, ...")
    chargers.add_argument(
        "--ocpp", choices=OCPP_VERSIONS, default="1.6", help="OCPP version the chargers speak"
    )
    chargers.add_argument(
        "--pause",
        metavar="SECONDS",
        type=_not_negative(float),
        default=2.0,
        help="mean seconds between two steps of a session (0: back to back, for load)",
    )
    chargers.add_argument(
        "--duration", metavar="SECONDS", type=_positive(float), default=60.0, help="seconds to run"
    )
    chargers.add_argument(
        "--report-every",
        metavar="SECONDS",
        type=_positive(float),
        default=10.0,
        help="seconds between progress lines",
    )
    cards = parser.add_argument_group("cards")
    cards.add_argument(
        "--cards",
        metavar="N",
        type=_not_negative(int),
        default=10,
        help="how many cards the drivers present (uids the same on every run); 0: no transactions,"
        " the connectors only plug in and out",
    )
    cards.add_argument(
        "--id-tag",
        action="append",
        type=_uid,
        metavar="UID",
        help="a card uid the drivers present, instead of --cards' generated ones (repeat for more)",
    )
    cards.add_argument(
        "--unknown-cards",
        type=_share,
        default=0.1,
        metavar="SHARE",
        help="share of sessions started with a card nobody knows (the server refuses it)",
    )
    connection = parser.add_argument_group("connection")
    connection.add_argument(
        "--url",
        metavar="URL",
        type=_ws_url,
        default="ws://127.0.0.1:9000/ocpp",
        help="the gateway's OCPP URL, ws:// or wss:// (a charger connects to URL/OCPP_ID)",
    )
    secret = connection.add_mutually_exclusive_group()
    secret.add_argument(
        "--password",
        help="every station's basic-auth password (username: its OCPP identity); security profile 1"
        " over ws, 2 over wss; 16 to 40 characters",
    )
    secret.add_argument("--password-file", metavar="FILE", type=Path, help="read the password from this file")
    connection.add_argument(
        "--ca-file", metavar="PEM", type=Path, help="PEM of the CAs to trust for the gateway's wss"
    )
    connection.add_argument(
        "--insecure", action="store_true", help="do not verify the gateway's certificate (self-signed demo)"
    )
    api = parser.add_argument_group("commissioning through the HTTP API (with --api-key)")
    api.add_argument(
        "--api-key", metavar="KEY", help="an organization's API key: commission the stations first"
    )
    api.add_argument(
        "--api-url",
        metavar="URL",
        default="http://127.0.0.1:8000",
        help="the API, http://HOST:PORT or http://HOST:PORT/api/v1",
    )
    api.add_argument(
        "--site-id", metavar="ID", help="the site to commission the stations on, instead of --site-name"
    )
    api.add_argument(
        "--site-name",
        metavar="NAME",
        default=commissioning.SITE_NAME,
        help="the site to use, created if the organization has none of this name",
    )
    api.add_argument("--plan", default="Business", help="service plan of the stations commissioned")
    parser.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    """Commission (with an API key), simulate, and exit 1 if no charger could connect."""
    password = _password(args)
    ocpp_ids = [f"{args.prefix}-{n:04d}" for n in range(1, args.chargers + 1)]
    id_tags = args.id_tag or commissioning.card_uids(args.cards)
    over_tls = args.url.startswith("wss:")
    if args.api_key:
        await asyncio.to_thread(_commission, args, ocpp_ids, id_tags, password, over_tls)
    with stopped_by_signals(asyncio.Event()) as stop:
        stats = await simulate(
            args.url,
            ocpp_ids,
            connectors=args.connectors,
            pause=args.pause,
            duration=args.duration,
            report_every=args.report_every,
            id_tags=id_tags,
            unknown_tag_share=args.unknown_cards,
            ocpp_version=args.ocpp,
            password=password,
            ssl_context=tls_context(args.ca_file, insecure=args.insecure) if over_tls else None,
            stop=stop,
        )
    for hint in _hints(stats, args):
        print(f"hint: {hint}", file=sys.stderr)
    return 0 if stats.ever_connected else 1


def _commission(
    args: argparse.Namespace, ocpp_ids: list[str], id_tags: list[str], password: str | None, over_tls: bool
) -> None:
    if over_tls and password is None:
        raise SystemExit(
            "cpms simulate: over wss the gateway lets a station in with a password (security"
            " profile 2; profile 3's client certificates are not simulated): give --password"
        )
    profile = None if password is None else 2 if over_tls else 1
    try:
        api = Api(args.api_url, args.api_key)
        done = commissioning.commission(
            api,
            ocpp_ids,
            connectors=args.connectors,
            plan=args.plan,
            site_id=args.site_id,
            site_name=args.site_name,
            password=password,
            security_profile=profile,
            id_tags=id_tags,
        )
    except ApiError as error:
        raise SystemExit(f"cpms simulate: {error}") from None
    site = "created" if done.site_created else "reused"
    line = f"site {done.site_name!r} ({done.site_id}, {site}): {len(done.created)} stations commissioned"
    line += f", {len(done.existing)} reused"
    if done.group_id:
        line += f"; access group {commissioning.GROUP_NAME!r} ({done.group_id}) with {len(id_tags)} cards"
    print(line, flush=True)
    for warning in done.warnings[:10]:
        print(f"warning: {warning}", flush=True)
    if len(done.warnings) > 10:
        print(f"warning: ... and {len(done.warnings) - 10} more", flush=True)


def _hints(stats: Stats, args: argparse.Namespace) -> list[str]:
    """What to do about the failures a new user meets first."""
    hints = []
    if stats.not_connected["HTTP 404"]:
        hints.append("404: the gateway does not know these stations; commission them (--api-key)")
    if stats.not_connected["HTTP 401"]:
        hints.append(
            "401: refused at the handshake: the stations' password (--password) or security profile"
            " (ws: none or 1, wss: 2) differs from the one they were commissioned with"
        )
    if stats.not_connected["TLS certificate not trusted"]:
        hints.append("trust the gateway's certificate with --ca-file PEM, or skip the check with --insecure")
    if any(why.startswith("unreachable") for why in stats.not_connected):
        hints.append(f"is the gateway running at {args.url}? (--url)")
    if stats.refused and not stats.started and not args.api_key:
        hints.append("every card was refused: grant them at the stations (--api-key does it)")
    return hints


def _password(args: argparse.Namespace) -> str | None:
    if args.password_file is None:
        return args.password  # type: ignore[no-any-return]
    try:
        return args.password_file.read_text().strip()  # type: ignore[no-any-return]
    except OSError as error:
        raise SystemExit(f"cpms simulate: --password-file: {error}") from None


def _positive(kind: type[int] | type[float]) -> Any:
    def parse(text: str) -> int | float:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in "invalid int value"
    return parse


def _not_negative(kind: type[int] | type[float]) -> Any:
    def parse(text: str) -> int | float:
        value = kind(text)
        if value < 0:
            raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _share(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, got {text}")
    return value


def _ws_url(text: str) -> str:
    if not text.startswith(("ws://", "wss://")):
        raise argparse.ArgumentTypeError(f"expected ws://HOST:PORT/ocpp or wss://HOST:PORT/ocpp, got {text}")
    return text


def _uid(text: str) -> str:
    if not UID.fullmatch(text):
        raise argparse.ArgumentTypeError("a card uid is 1 to 20 printable characters without spaces")
    return text
