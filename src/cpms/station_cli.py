"""`cpms station ...`: operators' commands to stations, through the HTTP API of a running node
(the node whose gateway holds the station's connection)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

from cpms.client import Api, ApiError

NOT_DONE = 1  # refused, failed, offline or timed out: scripts can tell
SUMMARY = (
    "send a command to a station through the HTTP API and print the command as JSON; exits 0 when"
    " the charger accepted it, 1 otherwise (rejected, CALLERROR, offline, timeout)"
)


def add_parser(commands: Any) -> None:
    station = commands.add_parser("station", help="commands to stations (operators)").add_subparsers(
        required=True, metavar="ACTION"
    )
    start = _action(station, "start", "remote start: the charger begins a transaction for a card")
    start.add_argument("ocpp_id", help="the station's OCPP identity")
    start.add_argument("connector_id", type=int, help="the charge point, from 1")
    start.add_argument("--id-tag", required=True, help="a card of the station's groups, or a roaming token")
    start.set_defaults(request=lambda a: ("POST", _connector(a, "start"), {"id_tag": a.id_tag}))

    stop = _action(station, "stop", "remote stop of an active session")
    stop.add_argument("session_id", help="the session's id (GET /api/v1/sites/{site_id}/sessions)")
    stop.set_defaults(request=lambda a: ("POST", f"/sessions/{a.session_id}/stop", None))

    availability = _action(
        station, "availability", "make a station, or one charge point, operative or not (deactivated)"
    )
    availability.add_argument("ocpp_id", help="the station's OCPP identity")
    state = availability.add_mutually_exclusive_group(required=True)
    state.add_argument("--operative", dest="operative", action="store_true", help="in service")
    state.add_argument("--inoperative", dest="operative", action="store_false", help="out of service")
    availability.add_argument("--connector", type=int, help="one charge point (default: the whole station)")
    availability.set_defaults(request=_availability)

    reset = _action(station, "reset", "reset the station: soft (once idle) by default, or --hard (at once)")
    reset.add_argument("ocpp_id", help="the station's OCPP identity")
    reset.add_argument("--hard", action="store_true", help="at once, ending transactions (default: soft)")
    reset.set_defaults(
        request=lambda a: ("POST", f"/stations/{a.ocpp_id}/reset", {"type": "hard" if a.hard else "soft"})
    )

    unlock = _action(station, "unlock", "unlock a charge point's connector")
    unlock.add_argument("ocpp_id", help="the station's OCPP identity")
    unlock.add_argument("connector_id", type=int, help="the charge point, from 1")
    unlock.set_defaults(request=lambda a: ("POST", _connector(a, "unlock"), None))


def _connector(args: argparse.Namespace, action: str) -> str:
    return f"/stations/{args.ocpp_id}/connectors/{args.connector_id}/{action}"


def _availability(args: argparse.Namespace) -> tuple[str, str, dict[str, Any]]:
    body: dict[str, Any] = {"operative": args.operative}
    if args.connector is not None:
        body["connector_id"] = args.connector
    return "POST", f"/stations/{args.ocpp_id}/availability", body


def _action(station: Any, name: str, text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = station.add_parser(
        name,
        help=text,
        description=f"{text[0].upper()}{text[1:]}: {SUMMARY}.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--api-url",
        metavar="URL",
        default=os.environ.get("CPMS_API_URL", "http://127.0.0.1:8000"),
        help="the API, http://HOST:PORT or http://HOST:PORT/api/v1 ($CPMS_API_URL; default %(default)s)",
    )
    parser.add_argument(
        "--api-key",
        metavar="KEY",
        default=os.environ.get("CPMS_API_KEY"),
        help="the organization's API key (default: $CPMS_API_KEY)",
    )
    parser.set_defaults(run=_run)
    return parser


async def _run(args: argparse.Namespace) -> int:
    if not args.api_key:
        print("cpms station: an API key is needed: --api-key KEY or CPMS_API_KEY", file=sys.stderr)
        return 2
    method, path, body = args.request(args)
    try:
        command = await asyncio.to_thread(_send, args.api_url, args.api_key, method, path, body)
    except ApiError as error:
        print(f"cpms station: {error}", file=sys.stderr)
        return NOT_DONE
    print(json.dumps(command), flush=True)
    return 0 if command.get("outcome") == "accepted" else NOT_DONE


def _send(url: str, key: str, method: str, path: str, body: Any) -> Any:
    return Api(url, key).request(method, path, body)
