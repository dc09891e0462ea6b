"""The log's hash chain: `cpms audit verify` passes on an untouched store and names the first
broken record after each kind of tampering done with plain SQL, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.domain import Aggregate, event

from cpms.audit import chain
from cpms.cli import main
from cpms.infra import eventstore
from cpms.infra.settings import Database
from cpms.infra.startup import prepare_database
from tests.support import api_client, commission, connected, create_site, settled


class Tamperer:
    """Plain SQL on the event store's tables, as someone with the database's password would."""

    def __init__(self, url: str) -> None:
        self.database = Database.from_url(url)
        if self.database.kind == "sqlite":
            self.names = {"events": "stored_events", "pos": "rowid", "chain": "cpms_chain"}
        else:
            schema = f'"{self.database.schema}"'
            self.names = {
                "events": f"{schema}.cpms_events",
                "pos": "notification_id",
                "chain": f"{schema}.cpms_chain",
            }

    def sql(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        statement = statement.format(**self.names)
        if self.database.kind == "sqlite":
            with sqlite3.connect(str(self.database.sqlite_path)) as conn:
                return conn.execute(statement, params).fetchall()
        with psycopg.connect(self.database.conninfo(), autocommit=True) as conn:
            cursor = conn.execute(statement.replace("?", "%s").encode(), params)
            return cursor.fetchall() if cursor.description else []

    def positions(self) -> list[int]:
        return [row[0] for row in self.sql("SELECT {pos} FROM {events} ORDER BY {pos}")]

    def record(self, position: int) -> tuple[str, int, str]:
        oid, version, topic = self.sql(
            "SELECT originator_id, originator_version, topic FROM {events} WHERE {pos} = ?", position
        )[0]
        return str(uuid.UUID(str(oid))), version, topic


async def _verify(monkeypatch: pytest.MonkeyPatch, capsys: Any, url: str, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("CPMS_DATABASE_URL", url)
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["audit", "verify", *args])
    return code, capsys.readouterr().out


async def _checkpoint(monkeypatch: pytest.MonkeyPatch, capsys: Any, url: str, key: Path, out: Path) -> dict:
    monkeypatch.setenv("CPMS_DATABASE_URL", url)
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["audit", "checkpoint", "--key", str(key), "--out", str(out)])
    assert code == 0, capsys.readouterr()
    return json.loads(capsys.readouterr().out)


def _broken_at(output: str) -> int:
    found = re.search(r"^BROKEN at position (\d+)", output, re.MULTILINE)
    assert found, output
    return int(found.group(1))


async def _charging_day(start_node: Any, ocpp_id: str = "CP-AUDIT") -> dict[str, Any]:
    """A site, a station, a charger reporting its connectors: a few dozen events through the
    gateway and the group-commit writer."""
    node = await start_node()
    async with await api_client(node) as api:
        site = await create_site(api)
        await commission(api, site["id"], ocpp_id, connectors=2)
        async with connected(node, ocpp_id) as charger:
            await charger.boot()
            for status in ("Preparing", "Charging", "Finishing", "Available"):
                await asyncio.gather(charger.status(1, status), charger.status(2, status))
        await settled(node)
    await node.stop()
    return site


@pytest.fixture
def key(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "operator.key"
    assert main(["audit", "keygen", str(path)]) == 0
    yield path


async def test_an_untouched_log_verifies_and_a_changed_payload_is_named(
    database_url, start_node, monkeypatch, capsys
):
    site = await _charging_day(start_node)
    code, output = await _verify(monkeypatch, capsys, database_url, "--site", site["id"])
    assert code == 0, output
    assert "chain OK" in output
    links = int(re.search(r"(\d+) links verified", output).group(1))  # type: ignore[union-attr]
    db = Tamperer(database_url)
    assert links == len(db.positions()) > 10
    assert re.search(rf"site {site['id']}: (\d+) records, \1 of them vouched for", output), output

    victim = db.positions()[len(db.positions()) // 2]
    db.sql("UPDATE {events} SET state = state || ? WHERE {pos} = ?", b" ", victim)
    code, output = await _verify(monkeypatch, capsys, database_url)
    assert code == 1
    assert _broken_at(output) == victim
    oid, version, topic = db.record(victim)
    assert f"{topic} of {oid} version {version}" in output
    assert "does not match its link" in output


async def test_a_deleted_record_is_named_and_so_is_one_deleted_with_its_link(
    database_url, start_node, monkeypatch, capsys
):
    await _charging_day(start_node)
    db = Tamperer(database_url)
    positions = db.positions()
    victim, following = positions[5], positions[6]
    db.sql("DELETE FROM {events} WHERE {pos} = ?", victim)
    code, output = await _verify(monkeypatch, capsys, database_url)
    assert code == 1 and _broken_at(output) == victim
    assert "record is missing" in output

    db.sql("DELETE FROM {chain} WHERE position = ?", victim)  # covering its tracks
    code, output = await _verify(monkeypatch, capsys, database_url)
    assert code == 1 and _broken_at(output) == following
    assert "does not match its link" in output


async def test_an_inserted_record_is_named(database_url, start_node, monkeypatch, capsys):
    await _charging_day(start_node)
    db = Tamperer(database_url)
    db.sql(
        "INSERT INTO {events} (originator_id, originator_version, topic, state)"
        " SELECT originator_id, originator_version + 1000, topic, state FROM {events} WHERE {pos} = ?",
        db.positions()[3],
    )
    inserted = db.positions()[-1]
    code, output = await _verify(monkeypatch, capsys, database_url)
    assert code == 1 and _broken_at(output) == inserted
    assert "has no link" in output


async def test_two_swapped_records_are_named(database_url, start_node, monkeypatch, capsys):
    await _charging_day(start_node)
    db = Tamperer(database_url)
    first, second = db.positions()[4], db.positions()[9]
    # Each moves to the other's place in the log; nothing else changes.
    db.sql("UPDATE {events} SET {pos} = -1 WHERE {pos} = ?", first)
    db.sql("UPDATE {events} SET {pos} = ? WHERE {pos} = ?", first, second)
    db.sql("UPDATE {events} SET {pos} = ? WHERE {pos} = -1", second)
    code, output = await _verify(monkeypatch, capsys, database_url)
    assert code == 1 and _broken_at(output) == first
    oid, version, topic = db.record(first)  # the record now there, which came from `second`
    assert f"{topic} of {oid} version {version}" in output


async def test_a_truncated_and_reappended_tail_is_revealed_by_a_checkpoint_taken_before(
    database_url, start_node, monkeypatch, capsys, key, tmp_path
):
    await _charging_day(start_node)
    kept = tmp_path / "checkpoint.json"
    checkpoint = await _checkpoint(monkeypatch, capsys, database_url, key, kept)
    db = Tamperer(database_url)
    assert checkpoint["position"] == db.positions()[-1]

    # The attacker drops the tail and its links; cpms then appends new events as usual.
    cut = db.positions()[-8]
    db.sql("DELETE FROM {events} WHERE {pos} > ?", cut)
    db.sql("DELETE FROM {chain} WHERE position > ?", cut)
    node = await start_node()
    for name in ("North", "South", "East", "West"):
        await node.network.create_organization(name)
    await node.stop()
    assert db.positions()[-1] > cut

    # The chain alone is consistent again: only the checkpoint knows better.
    code, output = await _verify(monkeypatch, capsys, database_url, "--public-key", f"{key}.pub")
    assert code == 1 and _broken_at(output) == checkpoint["position"]
    assert f"checkpoint of {checkpoint['signed_at']}" in output

    # Also when the stored checkpoints are deleted too: the auditor's copy reveals it.
    db.sql("DELETE FROM {chain}_checkpoints")
    code, output = await _verify(monkeypatch, capsys, database_url)
    assert code == 0, output  # what the chain alone can tell
    code, output = await _verify(
        monkeypatch, capsys, database_url, "--checkpoint", str(kept), "--public-key", f"{key}.pub"
    )
    assert code == 1 and _broken_at(output) == checkpoint["position"]


async def test_a_store_written_before_the_chain_is_migrated_from_a_declared_genesis(
    database_url, start_node, monkeypatch, capsys
):
    without_chain = eventstore.event_store_env

    def old_env(database: Database) -> dict[str, str]:
        env = without_chain(database)
        del env["APPLICATION_RECORDER_TOPIC"]
        if database.kind != "sqlite":
            env["APPLICATION_RECORDER_TOPIC"] = "eventsourcing.postgres:PostgresApplicationRecorder"
        return env

    monkeypatch.setattr(eventstore, "event_store_env", old_env)
    await _charging_day(start_node, "CP-OLD")
    db = Tamperer(database_url)
    old = db.positions()
    monkeypatch.setattr(eventstore, "event_store_env", without_chain)

    await _charging_day(start_node, "CP-NEW")  # the first start with the chain declares the genesis
    code, output = await _verify(monkeypatch, capsys, database_url)
    assert code == 0, output
    assert f"genesis at position {old[-1]}" in output
    assert f"{len(old)} records before it not covered" in output
    new = [position for position in db.positions() if position > old[-1]]
    assert f"{len(new)} links verified" in output

    db.sql("UPDATE {events} SET state = state || ? WHERE {pos} = ?", b" ", old[2])
    assert (await _verify(monkeypatch, capsys, database_url))[0] == 0  # before the genesis: not covered
    db.sql("UPDATE {events} SET state = state || ? WHERE {pos} = ?", b" ", new[2])
    code, output = await _verify(monkeypatch, capsys, database_url)
    assert code == 1 and _broken_at(output) == new[2]


async def test_checkpoints_signed_by_another_key_or_altered_fail(
    database_url, start_node, monkeypatch, capsys, key, tmp_path
):
    url = database_url
    node = await start_node()
    async with await api_client(node) as api:
        await create_site(api)
    await node.stop()
    kept = tmp_path / "checkpoint.json"
    checkpoint = await _checkpoint(monkeypatch, capsys, url, key, kept)
    public = f"{key}.pub"
    assert (await _verify(monkeypatch, capsys, url, "--checkpoint", str(kept), "--public-key", public))[
        0
    ] == 0

    other = tmp_path / "other.key"
    assert await asyncio.to_thread(main, ["audit", "keygen", str(other)]) == 0
    code, output = await _verify(monkeypatch, capsys, url, "--public-key", f"{other}.pub")
    assert code == 1 and "signed with another key" in output

    altered = tmp_path / "altered.json"
    altered.write_text(json.dumps({**checkpoint, "position": checkpoint["position"] - 1}))
    code, output = await _verify(monkeypatch, capsys, url, "--checkpoint", str(altered))
    assert code == 1 and "signature does not match" in output

    assert await asyncio.to_thread(main, ["audit", "keygen", str(key)]) == 2  # never overwrites a key
    with pytest.raises(SystemExit) as usage:
        await asyncio.to_thread(main, ["audit", "verify", "--no-such-option"])
    assert usage.value.code == 2


class Note(Aggregate):
    @event("Written")
    def write(self, text: str) -> None:
        self.text = text


async def test_writers_of_two_stores_on_one_database_extend_one_chain(database_url):
    """Like two nodes (processes) writing at once: each reads the chain's head under its insert's
    lock, never from a cache of its own."""
    database = Database.from_url(database_url)
    prepare_database(database)
    stores = [eventstore.open_event_store(database) for _ in range(2)]

    def write(store: eventstore.EventStore, n: int) -> None:
        for i in range(n):
            notes = [Note() for _ in range(3)]
            for note in notes:
                note.write(f"note {i}")
            store.save(*notes)

    await asyncio.gather(*(asyncio.to_thread(write, store, 40) for store in stores))
    report = await asyncio.to_thread(chain.verify, stores[0].recorder)
    for store in stores:
        store.close()
    assert report.ok, report.breaks
    assert report.links == 2 * 40 * 3 * 2
