"""One view-store interface over SQLite and PostgreSQL; projections and queries use only this.

SQL is written once, with `?` placeholders and the upsert and row-value syntax both databases
share; the PostgreSQL store rewrites placeholders to psycopg's `%s`.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from psycopg_pool import ConnectionPool

from cpms.infra.settings import Database

Row = tuple[Any, ...]


class Tx(Protocol):
    dialect: str  # "sqlite" or "postgresql": for the few statements the two spell differently

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...


class ViewStore(Protocol):
    def transaction(self) -> Any:
        """A context manager yielding a `Tx` committed on success, rolled back on error."""

    def read(self) -> Any:
        """A context manager yielding a `Tx` for consistent reads."""

    def close(self) -> None: ...


class SqliteTx:
    """A Tx over one SQLite connection (the view store's, or a private in-memory one)."""

    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._conn.execute(sql, params).fetchall()

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)


class SqliteViewStore:
    """Views in a SQLite file in WAL mode: one connection per thread, writers serialized."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._guard = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            with self._guard:
                self._connections.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield SqliteTx(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[Tx]:
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            yield SqliteTx(conn)
        finally:
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._guard:
            for conn in self._connections:
                # A connection made by a thread that has gone may refuse; sqlite closes it then.
                with contextlib.suppress(sqlite3.ProgrammingError):
                    conn.close()
            self._connections.clear()


class _PostgresTx:
    dialect = "postgresql"

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cur = self._conn.execute(sql.replace("?", "%s"), params)
        return cur.fetchall() if cur.description is not None else []

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._conn.cursor() as cur:
            cur.executemany(sql.replace("?", "%s"), rows)


class PostgresViewStore:
    """Views in the PostgreSQL schema of the event store, through a small connection pool."""

    def __init__(self, database: Database, *, max_size: int = 8, timeout: float = 2.0) -> None:
        # A short wait for a connection: while the database is down, a read is answered with an
        # error (a 503) within seconds rather than held for the pool's default 30 s. Pre-ping
        # drops connections a database restart broke, so recovery needs no restart of ours.
        self._pool = ConnectionPool(
            database.conninfo(),
            min_size=1,
            max_size=max_size,
            kwargs={
                "options": f"-c search_path={database.schema}",
                "connect_timeout": max(1, round(timeout)),
            },
            timeout=timeout,
            check=ConnectionPool.check_connection,
            open=True,
        )

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self._pool.connection() as conn, conn.transaction():
            yield _PostgresTx(conn)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self._pool.connection() as conn, conn.transaction():
            yield _PostgresTx(conn)

    def close(self) -> None:
        self._pool.close()


def open_view_store(database: Database) -> ViewStore:
    if database.kind == "sqlite":
        return SqliteViewStore(database.views_path)
    return PostgresViewStore(database)
