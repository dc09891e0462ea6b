"""What must hold before a node can start, checked first so that a busy port, an unreachable
database or a data folder cpms cannot write stops the process with one line that says what is
wrong and which setting to change, not a traceback."""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from cpms.infra.settings import Database


class StartupError(RuntimeError):
    """Something outside cpms keeps it from starting; the message names the setting involved."""


def prepare_database(database: Database) -> None:
    """The SQLite folder exists and is writable, or the PostgreSQL schema exists."""
    if database.kind == "sqlite":
        assert database.sqlite_path is not None
        _writable_folder(database.sqlite_path.parent)
    else:
        _ensure_schema(database)


def _writable_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise StartupError(
            f"the data folder {folder} is a file, not a folder (CPMS_DATABASE_URL names the SQLite file)"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".cpms-write-check-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise StartupError(
            f"cannot write the data folder {folder}: {error.strerror or error}"
            " (CPMS_DATABASE_URL names the SQLite file; pick a folder cpms may write)"
        ) from None


def _ensure_schema(database: Database) -> None:
    where = f"{database.user}@{database.host}:{database.port}/{database.dbname}"
    try:
        with psycopg.connect(database.conninfo(), autocommit=True, connect_timeout=5) as conn:
            conn.execute(
                psycopg.sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    psycopg.sql.Identifier(database.schema)
                )
            )
    except psycopg.OperationalError as error:
        reason = " ".join(str(error).split())  # psycopg's message spans lines
        raise StartupError(f"cannot reach PostgreSQL at {where} (CPMS_DATABASE_URL): {reason}") from None
    except psycopg.Error as error:
        raise StartupError(
            f"PostgreSQL at {where} refused schema {database.schema!r} (CPMS_DATABASE_URL): {error}"
        ) from None


@contextmanager
def listening(what: str, variable: str, host: str, port: int) -> Iterator[None]:
    """Turn a failure to bind `host:port` into a StartupError naming the setting."""
    try:
        yield
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            reason = "the port is in use by another process"
        elif error.errno == errno.EACCES:
            reason = "permission denied (ports below 1024 need privileges)"
        else:
            reason = error.strerror or str(error)
        raise StartupError(f"cannot listen for {what} on {host}:{port}: {reason} (set {variable})") from None


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket, bound before the HTTP server is handed it (uvicorn would
    otherwise log the failure and exit the process itself)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family, backlog=2048)
    # Named as TCP: create_server leaves the protocol number 0, which accepted connections
    # inherit, and asyncio sets TCP_NODELAY only on sockets that say IPPROTO_TCP. Without it an
    # answer written in two parts (headers, then body) waits for the client's delayed ACK: 40 ms
    # on every request of a kept-alive connection.
    return socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, fileno=listener.detach())
