"""The `cpms` command line as scripts and operators call it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

from cpms.node import all_projections
from tests.support import api_client_with


def _cpms(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CPMS_DATABASE_URL": database_url}
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
