"""`cpms audit site SITE_ID [--as-of TIME] [--format json|table|csv]`: a site's history and its
state as of an instant, read from the stores directly (no API needed), as the API answers it."""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import datetime
from typing import Any

import msgspec
import orjson

from cpms.command_line import subcommand
from cpms.infra.settings import ADMIN, Settings

FORMATS = ("json", "table", "csv")
CSV_HEADER = (
    "position",
    "received_at",
    "occurred_at",
    "type",
    "aggregate_type",
    "aggregate_id",
    "aggregate_version",
    "payload",
)


def add_actions(actions: Any) -> None:
    text = (
        "a site's events in log order up to --as-of (default: now), and the site as it was then"
        " (overview with state, sheet, stations, sessions), rebuilt from those events"
    )
    site = subcommand(
        actions,
        "site",
        text,
        ADMIN,
        description=text
        + ". json is the document GET /api/v1/sites/{site_id}/history answers, with every event;"
        " table is for reading; csv is the events, one per row.",
    )
    site.add_argument("site_id", help="the site's id")
    site.add_argument("--as-of", help="an RFC 3339 instant, e.g. 2026-11-23T08:00:00Z (default: now)")
    site.add_argument("--format", choices=FORMATS, default="json")
    site.add_argument("--limit", type=int, default=None, help="at most this many events, oldest first")
    site.set_defaults(run=_audit_site)


async def _audit_site(args: argparse.Namespace) -> int:
    from uuid import UUID

    from cpms.audit.history import SiteHistory, now
    from cpms.infra.eventstore import open_event_store
    from cpms.projections import site_history
    from cpms.projections.store import open_view_store
    from cpms.timestamps import parse_iso

    try:
        site_id = str(UUID(args.site_id))
    except ValueError:
        print(f"cpms: site_id must be a site's id (a UUID), got {args.site_id!r}", file=sys.stderr)
        return 2
    try:
        until = now() if args.as_of is None else min(parse_iso(args.as_of), now())
    except ValueError:
        print(
            f"cpms: --as-of must be an RFC 3339 instant, e.g. 2026-11-23T08:00:00Z, got {args.as_of!r}",
            file=sys.stderr,
        )
        return 2
    database = Settings.from_env().database
    if database.kind == "sqlite" and not (database.sqlite_path and database.sqlite_path.exists()):
        print(f"cpms: no event store at {database.sqlite_path} (see CPMS_DATABASE_URL)", file=sys.stderr)
        return 2
    store, views = open_event_store(database), open_view_store(database)
    try:
        history = SiteHistory(store, views)
        try:
            known = history.known(site_id)
        except Exception as error:
            if site_history.EVENTS not in str(error):
                raise
            print(
                "cpms: the site_history index is not built yet: run cpms serve (or cpms projector)"
                " of this version once, which folds the log into it",
                file=sys.stderr,
            )
            return 2
        if not known:
            print(f"cpms: no event of site {site_id} in the log", file=sys.stderr)
            return 2
        document = _document(history, site_id, until, args.limit)
    finally:
        store.close()
        views.close()
    {"json": _json, "table": _table, "csv": _csv}[args.format](document)
    return 0


def _document(history: Any, site_id: str, until: datetime, limit: int | None) -> dict[str, Any]:
    """The API's document, with every event (or the first `limit`) rather than a page."""
    from cpms.api.models.history import SiteHistory as Document
    from cpms.timestamps import to_iso

    items: list[dict[str, Any]] = []
    for item in history.all_events(site_id, until):
        if limit is not None and len(items) >= limit:
            break
        items.append(item)
    document = {
        "site_id": site_id,
        "until": to_iso(until),
        "items": items,
        "next_cursor": None,
        "as_of": history.as_of(site_id, until),
    }
    # Through the API's model: the same fields, spelled the same way.
    return msgspec.to_builtins(msgspec.convert(document, Document))  # type: ignore[no-any-return]


def _json(document: dict[str, Any]) -> None:
    sys.stdout.buffer.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")


def _csv(document: dict[str, Any]) -> None:
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(CSV_HEADER)
    for item in document["items"]:
        out.writerow([*(item[name] for name in CSV_HEADER[:-1]), orjson.dumps(item["payload"]).decode()])


def _table(document: dict[str, Any]) -> None:
    as_of = document["as_of"]
    site = as_of["site"]
    print(f"Site {document['site_id']} as of {document['until']}")
    print(f"  {as_of['events']} events folded, the last at log position {as_of['position']}")
    if site is None:
        print("  (not created yet)")
    else:
        address = site["address"]
        print(f"  {site['name']}, {address['street']}, {address['postal_code']} {address['city']}")
        print(f"  state {site['state']}, provider {site['provider'] or '-'}, updated {site['updated_at']}")
    _rows(
        "Sheet",
        ("ocpp_id", "connector_id", "evse_id", "status", "since", "last_ocpp_status"),
        as_of["charge_points"],
    )
    _rows(
        "Stations",
        ("ocpp_id", "serial_number", "connection", "vendor", "model", "firmware_version", "last_seen"),
        as_of["stations"],
    )
    _rows(
        "Sessions (newest first)",
        ("ocpp_id", "connector_id", "started_at", "ended_at", "state", "energy_wh", "duration_s"),
        as_of["sessions"],
    )
    events = [
        {
            **item,
            "aggregate": f"{item['aggregate_type']} {item['aggregate_id'][:8]} v{item['aggregate_version']}",
            "payload": _short(orjson.dumps(item["payload"]).decode()),
        }
        for item in document["items"]
    ]
    _rows("Events", ("position", "received_at", "occurred_at", "type", "aggregate", "payload"), events)


def _rows(title: str, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    print(f"\n{title} ({len(rows)})")
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    widths = [max([len(column), *(len(line[n]) for line in cells)]) for n, column in enumerate(columns)]
    print("  " + "  ".join(column.ljust(width) for column, width in zip(columns, widths, strict=True)))
    for line in cells:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def _short(text: str, width: int = 80) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
