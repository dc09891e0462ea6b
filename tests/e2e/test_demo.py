"""`cpms demo` as a new user runs it: every read model shows data within a minute."""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import sys
import time
from pathlib import Path

import httpx

MINUTE = 60.0


def _environment(path: Path) -> dict[str, str]:
    """What `source data/demo.env` would set."""
    values = {}
    for line in path.read_text().splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        values[name] = shlex.split(value)[0]
    return values


async def _demo(folder: Path, *args: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "CPMS_DATABASE_URL": f"sqlite:///{folder}/data/cpms.sqlite",
        "CPMS_HTTP_PORT": "0",
        "CPMS_OCPP_PORT": "0",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cpms.cli",
        "demo",
        *args,
        cwd=folder,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def test_a_fresh_demo_shows_sessions_within_a_minute(tmp_path):
    demo = await _demo(tmp_path)
    started = time.monotonic()
    try:
        env_file = tmp_path / "data" / "demo.env"
        while not env_file.exists():
            assert demo.returncode is None, "the demo stopped"
            assert time.monotonic() - started < MINUTE, "no data/demo.env"
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.2)  # written in one go; let it land
        shell = _environment(env_file)
        assert set(shell) == {
            "CPMS_API",
            "KEY",
            "SITE",
            "GROUP",
            "CPMS_API_URL",
            "CPMS_API_KEY",
            "OPERATOR_KEY",
        }
        assert (shell["CPMS_API_URL"], shell["CPMS_API_KEY"]) == (shell["CPMS_API"], shell["KEY"])
        operator = {"Authorization": f"Bearer {shell['OPERATOR_KEY']}"}  # the operator's own key
        async with httpx.AsyncClient(base_url=shell["CPMS_API"], headers=operator, timeout=10) as api:
            projections = (await api.get("/projections")).json()["items"]
            assert {p["state"] for p in projections} <= {"live", "rebuilding"}
        assert (tmp_path / "data" / "demo-operator.key").stat().st_mode & 0o077 == 0
        headers = {"Authorization": f"Bearer {shell['KEY']}"}
        async with httpx.AsyncClient(base_url=shell["CPMS_API"], headers=headers, timeout=10) as api:
            site = f"/sites/{shell['SITE']}"
            while True:
                sessions = (await api.get(f"{site}/sessions")).json()["items"]
                if any(s["state"] == "Completed" and s["energy_wh"] > 0 for s in sessions):
                    break
                assert time.monotonic() - started < MINUTE, f"no session done within a minute: {sessions}"
                await asyncio.sleep(1)
            assert all(s["authorization"]["card_label"] for s in sessions)  # listed: the demo's own cards
            sheet = (await api.get(f"{site}/charge-points")).json()["items"]
            assert len(sheet) == 4 and all(cp["status"] != "Unknown" for cp in sheet)
            assert (await api.get(site)).json()["state"] in ("Available", "Load")
            csv = await api.get(f"{site}/sessions.csv")
            assert len(csv.text.splitlines()) >= 2  # header and at least one session
            stations = (await api.get("/stations", params={"site_id": shell["SITE"]})).json()["items"]
            assert {station["connection"] for station in stations} == {"Connected"}
            assert all(station["plan"] and None not in station["evse_ids"] for station in stations)
            group = (await api.get(f"/access-groups/{shell['GROUP']}")).json()
            assert len(group["cards"]) == 4
            await _scan2pay_shows_in_the_demo(api)
        portal = shell["CPMS_API"].removesuffix("api/v1")
        async with httpx.AsyncClient(base_url=portal, cookies={"cpms_session": shell["KEY"]}) as browser:
            sheet = await browser.get(f"/sites/{shell['SITE']}/sheet")
            assert sheet.status_code == 200 and "Demo site" in sheet.text
    finally:
        if demo.returncode is None:
            demo.send_signal(signal.SIGINT)  # Ctrl-C
        output = (await asyncio.wait_for(demo.communicate(), 30))[0].decode()
    assert demo.returncode == 0, output
    assert "Traceback" not in output, output
    assert "summary:" in output  # the chargers' figures, on Ctrl-C too
    first, second = output.strip().splitlines()[:2]  # it opens with the portal and the key
    assert first.startswith(f"cpms demo portal: {portal} ")
    assert second == f"  API key:  {shell['KEY']}"


async def _scan2pay_shows_in_the_demo(api: httpx.AsyncClient) -> None:
    """The demo's first station takes Scan2Pay, and its simulated chargers answer commands: a
    Scan2Pay start on a charge point that is free begins a listed session."""
    deadline = time.monotonic() + 30
    while True:
        for connector in (1, 2):
            body = {"payment_reference": "pi_demo_test"}
            answer = await api.post(f"/stations/DEMO-0001/connectors/{connector}/scan2pay", json=body)
            assert answer.status_code == 201, answer.text
            if answer.json()["outcome"] == "accepted":
                break
        else:  # both charge points busy with a driver: a real charger says Rejected
            assert time.monotonic() < deadline, "no charge point of DEMO-0001 took a Scan2Pay start"
            await asyncio.sleep(1)
            continue
        break
    command = answer.json()["id"]
    while (session_id := (await api.get(f"/commands/{command}")).json()["session_id"]) is None:
        assert time.monotonic() < deadline, "the Scan2Pay start began no session"
        await asyncio.sleep(0.5)
    session = (await api.get(f"/sessions/{session_id}")).json()
    assert session["authorization"]["method"] == "scan2pay"
    assert session["authorization"]["payment_reference"] == "pi_demo_test"


async def test_the_demo_stops_when_its_duration_is_up(tmp_path):
    """Not when its chargers have finished a cycle: `--duration 8` ran 17 s before issue 9."""
    started = time.monotonic()
    demo = await _demo(tmp_path, "--duration", "4")
    output = (await asyncio.wait_for(demo.communicate(), 60))[0].decode()
    assert demo.returncode == 0, output
    # Start-up (the seed, a Python process) and shutdown take a few seconds of their own.
    assert time.monotonic() - started < 4 + 6, output
    assert "Traceback" not in output, output
