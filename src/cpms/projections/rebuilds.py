"""Projections rebuilt side by side, and switched to in one transaction.

A rebuild folds the whole log again into *shadow* tables (each of the projection's own tables and
indexes under its name plus `__next`) while the live tables keep serving and keep following the
log. The fold is the projection's own code: its SQL is only renamed on the way to the database
(`Renamed`). Once the shadow has reached the live position, one transaction drops the live tables,
renames the shadows to the live names and moves the tracked position; readers see the old tables
up to that commit and the new ones after it, never a mixture and never a table half built.

A projection's own tables are those named with its version (`sessions_v3`): tables without it,
such as the roaming outbox, are shared by every build and written through as they are.

Requests live in `projection_rebuilds`, so that any process may ask (`cpms projections rebuild`,
a start-up that found a new version) and the process that folds (`cpms serve`, `cpms projector`)
does the work, reporting its progress there for `cpms projections status` and the API.

A new version of a projection (its `version` went up) is taken on at start-up. If the projection
says how its previous tables become its own (`Projection.upgrade`, for additive changes such as a
new column), they are upgraded in place, so reads go on from them at once, and a side-by-side
rebuild is requested to fill the new columns from the start of the log. Otherwise the previous
version's tables are dropped and the new version folds from the start, serving partial answers
until it has caught up.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cpms.projections.base import Projection
from cpms.projections.store import Row, Tx
from cpms.timestamps import now_iso

log = logging.getLogger(__name__)

SHADOW = "__next"
MAX_IDENTIFIER = 63  # PostgreSQL's limit on a table or index name

REQUESTED, REBUILDING, FAILING, DONE = "requested", "rebuilding", "failing", "done"

REBUILDS_DDL = """
CREATE TABLE IF NOT EXISTS projection_rebuilds (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    owner TEXT,
    position BIGINT NOT NULL,
    rate DOUBLE PRECISION,
    requested_at TEXT NOT NULL,
    started_at TEXT,
    updated_at TEXT NOT NULL,
    finished_at TEXT,
    error TEXT
)
"""

_CREATE_TABLE = re.compile(r"CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+(\w+)", re.IGNORECASE)
_CREATE_INDEX = re.compile(
    r"CREATE\s+(?:UNIQUE\s+)?INDEX\s+IF\s+NOT\s+EXISTS\s+(\w+)\s+ON\s+(\w+)", re.IGNORECASE
)


@dataclass(frozen=True)
class Schema:
    """A projection's own tables and their named indexes, as its `create_tables` declares them."""

    tables: tuple[str, ...]
    indexes: tuple[str, ...]

    def shadows(self) -> dict[str, str]:
        return {name: name + SHADOW for name in (*self.tables, *self.indexes)}


class _Recorder:
    """A Tx that only notes the statements it is given."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.statements: list[str] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self.statements.append(sql)
        return []

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.statements.append(sql)


def schema_of(projection: Projection, dialect: str = "sqlite") -> Schema:
    recorder = _Recorder(dialect)
    projection.create_tables(recorder)
    suffix = f"_v{projection.version}"
    text = "\n".join(recorder.statements)
    tables = tuple(name for name in _CREATE_TABLE.findall(text) if name.endswith(suffix))
    indexes = tuple(index for index, table in _CREATE_INDEX.findall(text) if table in tables)
    too_long = [name for name in (*tables, *indexes) if len(name + SHADOW) > MAX_IDENTIFIER]
    assert not too_long, f"names too long to rebuild beside: {too_long}"
    return Schema(tables, indexes)


class Renamed:
    """A Tx in which some tables and indexes go by other names: a projection's fold, unchanged,
    writes its shadow tables."""

    def __init__(self, tx: Tx, names: Mapping[str, str]) -> None:
        self.dialect = tx.dialect
        self._tx = tx
        self._names = dict(names)
        alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
        self._pattern = re.compile(rf"\b({alternatives})\b")
        self._cache: dict[str, str] = {}

    def _sql(self, sql: str) -> str:
        renamed = self._cache.get(sql)
        if renamed is None:
            renamed = self._cache[sql] = self._pattern.sub(lambda m: self._names[m.group(1)], sql)
        return renamed

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._tx.execute(self._sql(sql), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._tx.executemany(self._sql(sql), rows)


# -- the shadow and the switch ------------------------------------------------------------------


def create_shadow(tx: Tx, projection: Projection, schema: Schema, *, fresh: bool) -> None:
    """The shadow tables, empty when `fresh` (a rebuild starting over), else as they were left."""
    if fresh:
        for table in schema.tables:
            tx.execute(f"DROP TABLE IF EXISTS {table}{SHADOW}")
    projection.create_tables(Renamed(tx, schema.shadows()))


def shadow_exists(tx: Tx, schema: Schema) -> bool:
    present = tables_present(tx)
    return all(table + SHADOW in present for table in schema.tables)


def switch(tx: Tx, projection: Projection, schema: Schema) -> None:
    """Drop the live tables and put the shadows in their place, indexes included."""
    for table in schema.tables:
        tx.execute(f"DROP TABLE IF EXISTS {table}")
    for table in schema.tables:
        tx.execute(f"ALTER TABLE {table}{SHADOW} RENAME TO {table}")
    _name_indexes_after(tx, projection, schema.tables, lambda index: index.replace(SHADOW, ""))


def _name_indexes_after(tx: Tx, projection: Projection, tables: Sequence[str], rename: Any) -> None:
    """Indexes keep their names when their table is renamed. PostgreSQL renames them (those of
    keys and unique columns included); SQLite cannot, so its named ones are made again under the
    names `create_tables` gives them."""
    if tx.dialect == "postgresql":
        for table in tables:
            for (index,) in tx.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ?",
                (table,),
            ):
                new = rename(index)
                if new != index:
                    tx.execute(f'ALTER INDEX "{index}" RENAME TO "{new}"')
    else:
        for table in tables:
            for (index,) in tx.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                (table,),
            ):
                tx.execute(f'DROP INDEX "{index}"')
    projection.create_tables(tx)


def tables_present(tx: Tx) -> set[str]:
    if tx.dialect == "postgresql":
        rows = tx.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    else:
        rows = tx.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {row[0] for row in rows}


# -- new versions at start-up -------------------------------------------------------------------


def take_on_versions(tx: Tx, projections: Sequence[Projection]) -> None:
    """Bring the stored views up to the versions the code declares (see the module's docstring),
    and drop what older versions left behind. Runs at every start, in the setup transaction."""
    if tx.dialect == "postgresql":  # processes starting together take turns
        tx.execute("SELECT pg_advisory_xact_lock(hashtext('cpms projections setup'))")
    stored: dict[str, dict[int, int]] = {}
    for name, version, position in tx.execute("SELECT name, version, position FROM projection_tracking"):
        stored.setdefault(name, {})[version] = position
    for projection in projections:
        versions = stored.get(projection.name, {})
        older = sorted(v for v in versions if v < projection.version)
        if not older:
            continue
        if projection.version not in versions:
            previous = older.pop()
            steps = projection.upgrade(previous)
            if steps is None:
                log.warning(
                    "projection %s: version %d replaces %d and builds from the start of the log;"
                    " its answers are partial until it has caught up",
                    projection.name,
                    projection.version,
                    previous,
                )
                older.append(previous)
            else:
                _upgrade_in_place(tx, projection, previous, steps)
        for version in older:
            _drop_version(tx, projection, version)


def _names_at(projection: Projection, version: int) -> dict[str, str]:
    """The projection's table names at an earlier `version`, by today's names."""
    suffix = f"_v{projection.version}"
    return {table: table[: -len(suffix)] + f"_v{version}" for table in schema_of(projection).tables}


def _upgrade_in_place(tx: Tx, projection: Projection, previous: int, steps: Sequence[str]) -> None:
    present = tables_present(tx)
    renamed = [new for new, old in _names_at(projection, previous).items() if old in present]
    for new, old in _names_at(projection, previous).items():
        if old in present:
            tx.execute(f"ALTER TABLE {old} RENAME TO {new}")
    for step in steps:
        tx.execute(step)
    old_suffix, new_suffix = f"_v{previous}", f"_v{projection.version}"
    _name_indexes_after(tx, projection, renamed, lambda index: index.replace(old_suffix, new_suffix))
    tx.execute(
        "UPDATE projection_tracking SET version = ? WHERE name = ? AND version = ?",
        (projection.version, projection.name, previous),
    )
    tx.execute("DELETE FROM projection_failures WHERE name = ? AND version = ?", (projection.name, previous))
    request(
        tx, projection, f"upgraded in place from version {previous}; filling in from the start of the log"
    )
    log.warning(
        "projection %s: version %d upgraded in place from %d, serving as before; rebuilding it side"
        " by side from the start of the log",
        projection.name,
        projection.version,
        previous,
    )


def _drop_version(tx: Tx, projection: Projection, version: int) -> None:
    for table in _names_at(projection, version).values():
        tx.execute(f"DROP TABLE IF EXISTS {table}")
    tx.execute("DELETE FROM projection_tracking WHERE name = ? AND version = ?", (projection.name, version))
    tx.execute("DELETE FROM projection_failures WHERE name = ? AND version = ?", (projection.name, version))


# -- requests and progress ----------------------------------------------------------------------


@dataclass(frozen=True)
class Rebuild:
    """A rebuild as `projection_rebuilds` holds it."""

    name: str
    version: int
    state: str
    reason: str
    owner: str | None
    position: int
    rate: float | None
    requested_at: str
    started_at: str | None
    updated_at: str
    finished_at: str | None
    error: str | None

    @property
    def active(self) -> bool:
        return self.state in (REQUESTED, REBUILDING, FAILING)


_COLUMNS = (
    "name, version, state, reason, owner, position, rate, requested_at, started_at, updated_at,"
    " finished_at, error"
)


def create_table(tx: Tx) -> None:
    tx.execute(REBUILDS_DDL)


def read_all(tx: Tx) -> dict[str, Rebuild]:
    return {row[0]: Rebuild(*row) for row in tx.execute(f"SELECT {_COLUMNS} FROM projection_rebuilds")}


def request(tx: Tx, projection: Projection, reason: str) -> bool:
    """Ask for a rebuild of the projection at its version; False if one is under way already."""
    current = tx.execute("SELECT version, state FROM projection_rebuilds WHERE name = ?", (projection.name,))
    if current and current[0][0] == projection.version and current[0][1] in (REQUESTED, REBUILDING, FAILING):
        return False
    now = now_iso()
    tx.execute("DELETE FROM projection_rebuilds WHERE name = ?", (projection.name,))
    tx.execute(
        f"INSERT INTO projection_rebuilds ({_COLUMNS})"
        " VALUES (?, ?, ?, ?, NULL, 0, NULL, ?, NULL, ?, NULL, NULL)",
        (projection.name, projection.version, REQUESTED, reason, now, now),
    )
    return True


def claim(tx: Tx, name: str, version: int, owner: str, stale_before: str) -> Rebuild | None:
    """Take on a requested rebuild, or one whose owner has stopped reporting (a crashed
    process): the shadow it left is resumed from its recorded position."""
    rows = tx.execute(
        f"UPDATE projection_rebuilds SET state = ?, owner = ?, started_at = COALESCE(started_at, ?),"
        f" updated_at = ? WHERE name = ? AND version = ? AND (state = ? OR (state IN (?, ?)"
        f" AND (owner = ? OR updated_at < ?))) RETURNING {_COLUMNS}",
        (
            REBUILDING,
            owner,
            now_iso(),
            now_iso(),
            name,
            version,
            REQUESTED,
            REBUILDING,
            FAILING,
            owner,
            stale_before,
        ),
    )
    return Rebuild(*rows[0]) if rows else None


def progress(tx: Tx, name: str, position: int, rate: float | None) -> None:
    tx.execute(
        "UPDATE projection_rebuilds SET position = ?, rate = ?, state = ?, error = NULL, updated_at = ?"
        " WHERE name = ?",
        (position, rate, REBUILDING, now_iso(), name),
    )


def failed(tx: Tx, name: str, position: int, error: str) -> None:
    tx.execute(
        "UPDATE projection_rebuilds SET state = ?, error = ?, updated_at = ? WHERE name = ?",
        (FAILING, f"at position {position}: {error}", now_iso(), name),
    )


def finished(tx: Tx, name: str, position: int) -> None:
    now = now_iso()
    tx.execute(
        "UPDATE projection_rebuilds SET state = ?, position = ?, updated_at = ?, finished_at = ?,"
        " error = NULL WHERE name = ?",
        (DONE, position, now, now, name),
    )
