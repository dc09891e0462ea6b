"""One spelling of instants everywhere they are stored or served: UTC ISO 8601, milliseconds, `Z`.

A fixed width keeps text columns sortable in SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, datetime


def to_iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    """This instant, as every instant is stored and served."""
    return to_iso(datetime.now(UTC))


def parse_iso(text: str) -> datetime:
    """Parse ISO 8601 (with `Z` or an offset; naive means UTC) into an aware UTC datetime."""
    moment = datetime.fromisoformat(text.strip().replace("z", "Z").replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
