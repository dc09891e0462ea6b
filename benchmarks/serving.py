"""What the benchmarks share: `cpms serve` in a process of its own, on a fresh SQLite folder or a
PostgreSQL schema of its own (dropped afterwards), with an organization to drive it as.

    with served("postgresql", server_src="/tmp/before/src") as server:
        ...  # server.http, server.ocpp, server.api_key, server.database_url

To compare with an earlier commit: `git archive COMMIT src | tar -x -C /tmp/before`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import psycopg

from cpms.infra.settings import Database

PG_URL = os.environ.get("CPMS_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass(frozen=True)
class Server:
    backend: str
    database_url: str
    env: dict[str, str]
    http: int
    ocpp: int
    api_key: str
    organization_id: str
    workdir: Path
    process: subprocess.Popen[bytes]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpms(*args: str, env: dict[str, str]) -> str:
    """`cpms ARGS` with the server's environment (so the same code as the server); its output."""
    done = subprocess.run(
        [sys.executable, "-m", "cpms.cli", *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def wait_for_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextlib.contextmanager
def served(
    backend: str,
    *,
    server_src: str | None = None,
    output: IO[str] | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """`cpms serve` from this checkout, or from the `server_src` directory of another one, until
    the block ends; its output goes to `output` (default: this process's). `extra_env` adds settings
    (`CPMS_OPERATOR_API_KEY`) to this process's environment, for the server and `server.env`."""
    workdir = Path(tempfile.mkdtemp(prefix="cpms-bench-"))
    schema = f"cpms_bench_{uuid.uuid4().hex[:10]}"
    url = f"sqlite:///{workdir}/cpms.sqlite" if backend == "sqlite" else f"{PG_URL}?schema={schema}"
    http, ocpp = free_port(), free_port()
    env = {**os.environ, **(extra_env or {})}
    env.update(CPMS_DATABASE_URL=url, CPMS_HTTP_PORT=str(http), CPMS_OCPP_PORT=str(ocpp))
    if server_src:
        # Ahead of this checkout's editable install; the other checkout is only read.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [server_src, env.get("PYTHONPATH")]))
    created = json.loads(cpms("admin", "create-org", "Bench", env=env))
    process = subprocess.Popen(
        [sys.executable, "-m", "cpms.cli", "serve"],
        env=env,
        stdout=output,
        stderr=None if output is None else subprocess.STDOUT,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{http}/health")
        yield Server(
            backend, url, env, http, ocpp, created["api_key"], created["organization_id"], workdir, process
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
        if backend == "postgresql":
            with psycopg.connect(Database.from_url(PG_URL).conninfo(), autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        shutil.rmtree(workdir, ignore_errors=True)
