"""Side-by-side rebuilds and new versions, on SQLite and PostgreSQL: a rebuild folds into shadow
tables while the live ones serve, switches in one transaction (indexes and keys keep their names,
so the next rebuild works too), survives a failing fold without touching what is served, and a new
version is upgraded in place when the projection says how, else built from the start."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from cpms.aggregates.site import Address, Site
from cpms.infra.eventstore import EventStore, open_event_store
from cpms.infra.settings import Database
from cpms.infra.startup import prepare_database
from cpms.infra.writer import UnitOfWork, run_batch
from cpms.node import all_projections
from cpms.projections.base import Projection
from cpms.projections.rebuilds import SHADOW, Renamed, schema_of, tables_present
from cpms.projections.runner import ProjectionRunner
from cpms.projections.store import Tx, ViewStore, open_view_store

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
ADDRESS = Address(street="12 Quai de Valmy", postal_code="75010", city="Paris", country="FR")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class SiteNames(Projection):
    """Version 1: each site's name, under a key and a unique constraint and a named index."""

    name = "site_names"
    version = 1
    handles = (Site.SiteCreated,)
    poison: str | None = None  # a site name this code cannot fold (until it is fixed)

    def table(self) -> str:
        return f"site_names_v{self.version}"

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table()} (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE)"
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {self.table()}_by_name ON {self.table()} (name, id)")

    def apply(self, event: Any, tx: Tx) -> None:
        if event.name == self.poison:
            raise ValueError(f"cannot fold {event.name}")
        tx.execute(
            f"INSERT INTO {self.table()} (id, name) VALUES (?, ?)", (str(event.originator_id), event.name)
        )


class SiteNamesWithLength(SiteNames):
    """Version 2: the name's length too, a new column version 1's table can be given."""

    version = 2

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table()} (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
            " length INTEGER)"
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {self.table()}_by_name ON {self.table()} (name, id)")

    def apply(self, event: Any, tx: Tx) -> None:
        tx.execute(
            f"INSERT INTO {self.table()} (id, name, length) VALUES (?, ?, ?)",
            (str(event.originator_id), event.name, len(event.name)),
        )

    def upgrade(self, previous: int) -> list[str] | None:
        return ["ALTER TABLE site_names_v2 ADD COLUMN length INTEGER"] if previous == 1 else None


class SiteNamesIncompatible(SiteNamesWithLength):
    def upgrade(self, previous: int) -> list[str] | None:
        return None


@pytest.fixture
def database(database_url: str) -> Database:
    database = Database.from_url(database_url)
    prepare_database(database)
    return database


@pytest.fixture
def store(database: Database) -> Iterator[EventStore]:
    event_store = open_event_store(database)
    yield event_store
    event_store.close()


@pytest.fixture
def views(database: Database) -> Iterator[ViewStore]:
    view_store = open_view_store(database)
    yield view_store
    view_store.close()


def store_sites(store: EventStore, *names: str) -> None:
    def command(name: str) -> Any:
        def create(uow: UnitOfWork) -> None:
            uow.add(
                Site.create(organization_id="org", name=name, address=ADDRESS, provider="", occurred_at=NOW)
            )

        return create

    for outcome in run_batch(store, [command(name) for name in names]):
        assert outcome.error is None


def rows(views: ViewStore, table: str) -> list[tuple[Any, ...]]:
    with views.read() as tx:
        return sorted(tuple(row) for row in tx.execute(f"SELECT * FROM {table}"))


def index_names(views: ViewStore) -> set[str]:
    with views.read() as tx:
        if tx.dialect == "postgresql":
            found = tx.execute("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
        else:
            found = tx.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
    return {row[0] for row in found if row[0].startswith("site_names")}


def runner_of(
    store: EventStore, views: ViewStore, projection: Projection, **options: Any
) -> ProjectionRunner:
    runner = ProjectionRunner(store, views, [projection], clock=Clock(), **options)
    runner.setup()
    return runner


def test_the_shadow_names_only_a_projections_own_tables_and_their_indexes() -> None:
    for projection in all_projections():
        schema = schema_of(projection)
        assert schema.tables, projection.name
        assert all(table.endswith(f"_v{projection.version}") for table in schema.tables)
    roaming = next(p for p in all_projections() if p.name == "roaming")
    assert "roaming_outbox" not in schema_of(roaming).tables  # shared by every build: kept
    renamed = Renamed(_Echo(), {"sessions_v3": "s__next", "sessions_v3_by_site": "x__next"})
    assert renamed.execute(
        "UPDATE sessions_v3 SET n = sessions_v3.n + 1 WHERE id IN (SELECT id FROM sessions_v3_old)"
    ) == [("UPDATE s__next SET n = s__next.n + 1 WHERE id IN (SELECT id FROM sessions_v3_old)",)]
    assert renamed.execute("CREATE INDEX IF NOT EXISTS sessions_v3_by_site ON sessions_v3 (a)") == [
        ("CREATE INDEX IF NOT EXISTS x__next ON s__next (a)",)
    ]


class _Echo:
    dialect = "sqlite"

    def execute(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        return [(sql,)]

    def executemany(self, sql: str, rows: Any) -> None:
        pass


def test_a_rebuild_serves_the_live_tables_until_it_switches_and_can_be_done_again(store, views) -> None:
    store_sites(store, *(f"Site {n}" for n in range(30)))
    runner = runner_of(store, views, SiteNames(), rebuild_batch_size=10)
    runner.catch_up()
    before = rows(views, "site_names_v1")
    names_before = index_names(views)
    assert runner.request_rebuild(["site_names"]) == ["site_names"]
    assert runner.request_rebuild(["site_names"]) == []  # under way already
    runner._rebuild_step()  # takes it on, and folds a first batch beside the live table
    (status,) = runner.status()
    assert status.state == "rebuilding" and status.rebuild is not None
    assert status.rebuild.position == 10 and status.rebuild.progress == pytest.approx(10 / 30)
    assert rows(views, "site_names_v1") == before  # still served, whole
    with views.read() as tx:
        assert len(tx.execute(f"SELECT * FROM site_names_v1{SHADOW}")) == 10
    store_sites(store, "Site 30")  # the log goes on meanwhile
    runner.rebuild_now()
    (status,) = runner.status()
    assert (status.state, status.position, status.rebuild and status.rebuild.state) == ("live", 31, "done")
    assert len(rows(views, "site_names_v1")) == 31
    assert index_names(views) == names_before  # keys, unique columns and indexes: today's names
    with views.read() as tx:
        assert not {t for t in tables_present(tx) if t.endswith(SHADOW)}
    runner.request_rebuild(["site_names"])  # and again: no name is left taken
    runner.rebuild_now()
    assert len(rows(views, "site_names_v1")) == 31 and index_names(views) == names_before


def test_a_failing_rebuild_leaves_the_live_tables_serving_and_resumes_when_it_can(store, views) -> None:
    store_sites(store, "Alpha", "Beta", "Gamma")
    projection = SiteNames()
    runner = runner_of(store, views, projection)
    runner.catch_up()
    projection.poison = "Beta"  # a code change that breaks the fold of one event
    runner.request_rebuild(["site_names"])
    runner.rebuild_now()
    (status,) = runner.status()
    assert status.state == "rebuilding" and status.rebuild is not None
    assert status.rebuild.state == "failing" and status.rebuild.position == 1
    assert status.rebuild.error == "at position 2: ValueError: cannot fold Beta"
    assert sorted(r[1] for r in rows(views, "site_names_v1")) == ["Alpha", "Beta", "Gamma"]
    projection.poison = None
    runner._clock.now += 60  # type: ignore[attr-defined]  # past the back-off
    runner.rebuild_now()
    (status,) = runner.status()
    assert status.state == "live" and status.rebuild is not None and status.rebuild.state == "done"


def test_a_new_version_is_upgraded_in_place_and_filled_in_by_a_rebuild(store, views) -> None:
    store_sites(store, "Alpha", "Beta")
    runner_of(store, views, SiteNames()).catch_up()
    store_sites(store, "Gamma")  # stored while the old version ran no more
    upgraded = runner_of(store, views, SiteNamesWithLength())
    assert sorted(r[1:] for r in rows(views, "site_names_v2")) == [("Alpha", None), ("Beta", None)]
    (status,) = upgraded.status()
    assert (status.version, status.position, status.state) == (2, 2, "rebuilding")
    with views.read() as tx:
        assert "site_names_v1" not in tables_present(tx)
    upgraded.catch_up()  # serving, and following the log, before the rebuild is done
    assert sorted(r[1:] for r in rows(views, "site_names_v2")) == [
        ("Alpha", None),
        ("Beta", None),
        ("Gamma", 5),
    ]
    upgraded.rebuild_now()
    assert sorted(r[1:] for r in rows(views, "site_names_v2")) == [("Alpha", 5), ("Beta", 4), ("Gamma", 5)]
    assert index_names(views) == {
        name.replace("v1", "v2") for name in index_names(views)
    }  # no index left under version 1's names
    assert not {n for n in index_names(views) if "v1" in n}


def test_a_new_version_that_cannot_upgrade_builds_from_the_start_and_drops_the_old(store, views) -> None:
    store_sites(store, "Alpha", "Beta")
    runner_of(store, views, SiteNames()).catch_up()
    rebuilt = runner_of(store, views, SiteNamesIncompatible())
    with views.read() as tx:
        present = tables_present(tx)
        tracked = tx.execute("SELECT version, position FROM projection_tracking WHERE name = 'site_names'")
    assert "site_names_v1" not in present and rows(views, "site_names_v2") == []
    assert tracked == []
    rebuilt.catch_up()
    assert sorted(r[1:] for r in rows(views, "site_names_v2")) == [("Alpha", 5), ("Beta", 4)]
    assert not {n for n in index_names(views) if re.search(r"_v1\b|_v1_", n)}
