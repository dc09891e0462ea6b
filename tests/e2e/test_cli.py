"""The `cpms` command line as scripts and operators call it."""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from cpms.infra.settings import VARIABLES, Settings
from cpms.node import all_projections
from tests.support import api_client_with, eventually


def _cpms(
    *args: str, database_url: str, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CPMS_DATABASE_URL": database_url, **(extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "cpms.cli", *args], env=env, capture_output=True, text=True, timeout=60
    )


async def test_create_org_prints_one_json_object_whose_key_works(database_url, start_node):
    done = await asyncio.to_thread(_cpms, "admin", "create-org", "Volt Fleet", database_url=database_url)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert set(printed) == {"organization_id", "api_key"}

    node = await start_node()
    assert await node.network.authenticate(printed["api_key"]) == printed["organization_id"]
    async with api_client_with(node, f"Bearer {printed['api_key']}") as api:
        assert (await api.get("/sites")).status_code == 200


async def test_a_bad_setting_is_a_clear_error_not_a_traceback(tmp_path):
    done = await asyncio.to_thread(_cpms, "admin", "create-org", "X", database_url="mysql://nope")
    assert done.returncode == 2
    assert "CPMS_DATABASE_URL" in done.stderr
    assert "Traceback" not in done.stderr


async def test_projections_status_lists_every_projection(database_url, start_node):
    node = await start_node()
    await node.network.create_organization("Org")
    await node.stop()
    done = await asyncio.to_thread(_cpms, "projections", "status", database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert {line.split()[0] for line in done.stdout.splitlines()} == {p.name for p in all_projections()}


async def test_a_rebuild_asked_while_no_projector_runs_waits_for_the_next_one(database_url, start_node):
    node = await start_node()
    await node.network.create_organization("Org")
    await node.stop()
    unknown = await asyncio.to_thread(_cpms, "projections", "rebuild", "sheet", database_url=database_url)
    assert (
        unknown.returncode == 2 and "no projection named sheet; known: sites, charge_points" in unknown.stderr
    )
    asked = await asyncio.to_thread(
        _cpms, "projections", "rebuild", "sessions", "--no-wait", database_url=database_url
    )
    assert asked.returncode == 0, asked.stderr
    status = await asyncio.to_thread(_cpms, "projections", "status", database_url=database_url)
    (sessions,) = [line for line in status.stdout.splitlines() if line.startswith("sessions ")]
    assert sessions.endswith("rebuilding (rebuild requested, waiting for a projector)"), sessions
    node = await start_node()  # the next projector takes it up, and switches once caught up

    async def rebuilt() -> None:
        (status,) = [s for s in await asyncio.to_thread(node.projections.status) if s.name == "sessions"]
        assert status.state == "live" and status.rebuild is not None and status.rebuild.state == "done"

    await eventually(rebuilt, timeout=20)


def _serve(
    *env: tuple[str, str], database_url: str, command: str = "serve"
) -> subprocess.CompletedProcess[str]:
    """Run a node that must fail to start, with ports that are free unless a test says otherwise."""
    return _cpms(
        command, database_url=database_url, extra={"CPMS_OCPP_PORT": "0", "CPMS_HTTP_PORT": "0", **dict(env)}
    )


def _one_clean_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


async def test_a_port_in_use_is_one_line_naming_the_setting(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        url = f"sqlite:///{tmp_path}/cpms.sqlite"
        http = await asyncio.to_thread(_serve, ("CPMS_HTTP_PORT", port), database_url=url)
        ocpp = await asyncio.to_thread(_serve, ("CPMS_OCPP_PORT", port), database_url=url, command="gateway")
    assert _one_clean_line(http) == (
        f"cpms: cannot listen for HTTP on 127.0.0.1:{port}: the port is in use by another process"
        " (set CPMS_HTTP_PORT)"
    )
    assert "CPMS_OCPP_PORT" in _one_clean_line(ocpp)


async def test_an_unreachable_postgresql_is_one_line_naming_the_setting():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        port = closed.getsockname()[1]
        done = await asyncio.to_thread(
            _serve, database_url=f"postgresql://postgres@127.0.0.1:{port}/test", command="projector"
        )
    line = _one_clean_line(done)
    assert line.startswith(
        f"cpms: cannot reach PostgreSQL at postgres@127.0.0.1:{port}/test (CPMS_DATABASE_URL)"
    )


async def test_a_data_folder_cpms_cannot_write_is_one_line_naming_the_setting(tmp_path):
    (tmp_path / "data").write_text("a file where the folder should be")
    done = await asyncio.to_thread(_serve, database_url=f"sqlite:///{tmp_path}/data/cpms.sqlite")
    line = _one_clean_line(done)
    assert "data folder" in line and "CPMS_DATABASE_URL" in line


def test_every_command_that_runs_a_node_lists_the_environment_it_reads():
    for command, expected in [
        ("serve", {"CPMS_DATABASE_URL", "CPMS_OCPP_PORT", "CPMS_HTTP_PORT", "CPMS_WRITE_TIMEOUT"}),
        ("gateway", {"CPMS_DATABASE_URL", "CPMS_OCPP_PORT", "CPMS_TLS_CERT", "CPMS_AUTH_REMEMBER"}),
        ("projector", {"CPMS_DATABASE_URL", "CPMS_NATS_URL"}),
        ("api", {"CPMS_DATABASE_URL", "CPMS_HTTP_PORT", "CPMS_HOST"}),
    ]:
        done = subprocess.run(
            [sys.executable, "-m", "cpms.cli", command, "--help"], capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0
        listed = set(re.findall(r"^  (CPMS_\w+)", done.stdout, re.MULTILINE))
        assert expected <= listed, (command, listed)
        if command == "api":
            assert "CPMS_OCPP_PORT" not in listed  # only what the role reads
        assert "-v, --verbose  also log" in done.stdout


def test_every_variable_the_settings_read_is_documented_in_help_and_readme():
    read = set(re.findall(r'"(CPMS_\w+)"', inspect.getsource(Settings.from_env)))
    assert read == {variable.name for variable in VARIABLES}
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert {name for name in read if f"`{name}`" not in readme} == set()


async def test_an_operator_registers_an_emsp_from_the_command_line(database_url, start_node):
    created = await asyncio.to_thread(_cpms, "admin", "create-org", "Volt Fleet", database_url=database_url)
    org = json.loads(created.stdout)["organization_id"]
    party = ["--country-code", "FR", "--party-id", "VLT", "--name", "Volt Fleet"]
    emsp = ["--country-code", "DE", "--party-id", "EMS", "--name", "Mobility eMSP"]

    too_soon = await asyncio.to_thread(
        _cpms, "roaming", "add-partner", "--org", org, *emsp, database_url=database_url
    )
    assert too_soon.returncode == 2 and "Traceback" not in too_soon.stderr  # no party of our own yet
    nobody = await asyncio.to_thread(
        _cpms, "roaming", "set-party", "--org", "no-such-org", *party, database_url=database_url
    )
    assert nobody.returncode == 2 and "organization 'no-such-org' not found" in nobody.stderr

    set_party = await asyncio.to_thread(
        _cpms, "roaming", "set-party", "--org", org, *party, database_url=database_url
    )
    assert set_party.returncode == 0, set_party.stderr
    assert json.loads(set_party.stdout) == {"country_code": "FR", "party_id": "VLT", "name": "Volt Fleet"}
    added = await asyncio.to_thread(
        _cpms, "roaming", "add-partner", "--org", org, *emsp, database_url=database_url
    )
    assert added.returncode == 0, added.stderr
    printed = json.loads(added.stdout)
    assert printed["token_a"] and printed["versions_url"].endswith("/ocpi/versions")

    node = await start_node()  # the token A printed opens the OCPI versions to the eMSP
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{node.http_port}") as ocpi:
        versions = await ocpi.get("/ocpi/versions", headers={"Authorization": f"Token {printed['token_a']}"})
    assert versions.status_code == 200 and versions.json()["status_code"] == 1000
