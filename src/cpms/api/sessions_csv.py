"""The sessions CSV export: a documented, stable header, RFC 4180 quoting, UTF-8, and no cell a
spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

# The header is part of the API: add columns at the end, never rename or reorder.
HEADER = (
    "session_id",
    "site_id",
    "ocpp_id",
    "connector_id",
    "evse_id",
    "started_at",
    "ended_at",
    "duration_s",
    "energy_kwh",
    "state",
    "stop_reason",
    "authorization_method",
    "card_uid",
    "card_label",
    "access_group_id",
    "access_group_name",
    "roaming_partner",
    "payment_reference",
    "command_id",
)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_row(session: dict[str, Any]) -> list[str]:
    auth = session["authorization"]
    emsp = auth.get("emsp")
    values = [
        session["id"],
        session["site_id"],
        session["ocpp_id"],
        session["connector_id"],
        session["evse_id"],
        session["started_at"],
        session["ended_at"],
        session["duration_s"],
        f"{session['energy_wh'] / 1000:.3f}",
        session["state"],
        session["stop_reason"],
        auth["method"],
        auth["card_uid"],
        auth["card_label"],
        auth["access_group_id"],
        auth["access_group_name"],
        f"{emsp['country_code']}*{emsp['party_id']}" if emsp else None,
        auth["payment_reference"],
        session["command_id"],
    ]
    return [neutralize("" if value is None else str(value)) for value in values]


def neutralize(cell: str) -> str:
    """OWASP's advice for CSV injection: a cell that starts like a formula is quoted as text."""
    return "'" + cell if cell.startswith(FORMULA_TRIGGERS) else cell


def csv_lines(sessions: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The header, then one CRLF-terminated line per session, produced as they are read."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for session in sessions:
        writer.writerow(csv_row(session))
        if buffer.tell() > 32_768:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
