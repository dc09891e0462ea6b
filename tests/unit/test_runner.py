"""Each projection folds on its own: a failing fold stops only itself, is retried with back-off,
is reported, and never holds back the others or a write that does not need it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cpms.aggregates.site import Address, Site
from cpms.infra.eventstore import EventStore, open_event_store
from cpms.infra.settings import Database
from cpms.infra.writer import Command, UnitOfWork, run_batch
from cpms.projections.base import Projection
from cpms.projections.runner import ProjectionFailing, ProjectionRunner
from cpms.projections.store import SqliteViewStore, Tx

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ADDRESS = Address(street="12 Quai de Valmy", postal_code="75010", city="Paris", country="FR")


class SiteNames(Projection):
    name = "site_names"
    version = 1
    handles = (Site.SiteCreated,)

    def create_tables(self, tx: Tx) -> None:
        tx.execute(f"CREATE TABLE IF NOT EXISTS {self.name} (id TEXT PRIMARY KEY, name TEXT NOT NULL)")

    def apply(self, event: Any, tx: Tx) -> None:
        tx.execute(f"INSERT INTO {self.name} VALUES (?, ?)", (str(event.originator_id), event.name))


class Fragile(SiteNames):
    """Cannot fold a site named "Poison" until it is fixed."""

    name = "fragile"
    fixed = False

    def apply(self, event: Any, tx: Tx) -> None:
        if event.name == "Poison" and not self.fixed:
            raise OverflowError("Python int too large to convert to SQLite INTEGER")
        super().apply(event, tx)


class Renames(Projection):
    """Folds only renames: every other event still moves its position on."""

    name = "renames"
    version = 1
    handles = (Site.SiteUpdated,)

    def create_tables(self, tx: Tx) -> None:
        pass

    def apply(self, event: Any, tx: Tx) -> None:
        raise AssertionError("no site is renamed in these tests")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    event_store = open_event_store(Database.from_url(f"sqlite:///{tmp_path}/e.sqlite"))
    yield event_store
    event_store.close()


@pytest.fixture
def views(tmp_path: Path) -> Iterator[SqliteViewStore]:
    view_store = SqliteViewStore(tmp_path / "views.sqlite")
    yield view_store
    view_store.close()


def create_site(name: str) -> Command[None]:
    def command(uow: UnitOfWork) -> None:
        uow.add(Site.create(organization_id="org", name=name, address=ADDRESS, provider="", occurred_at=NOW))

    return command


def store_sites(store: EventStore, *names: str) -> list[int]:
    """Each site in a write of its own; the position of each."""
    positions = []
    for name in names:
        (outcome,) = run_batch(store, [create_site(name)])
        assert outcome.position is not None
        positions.append(outcome.position)
    return positions


def names_in(views: SqliteViewStore, table: str) -> set[str]:
    with views.read() as tx:
        return {row[0] for row in tx.execute(f"SELECT name FROM {table}")}


def caught_up(store: EventStore, views: SqliteViewStore, *projections: Projection) -> ProjectionRunner:
    """A runner that has folded what is stored, on a clock that stands still."""
    runner = ProjectionRunner(store, views, list(projections), clock=Clock())
    runner.setup()
    runner.catch_up()
    return runner


def by_name(runner: ProjectionRunner) -> dict[str, Any]:
    return {status.name: status for status in runner.status()}


def test_a_failing_fold_stops_only_its_projection_after_committing_what_came_before(
    store: EventStore, views: SqliteViewStore
) -> None:
    _, poison, last = store_sites(store, "A", "Poison", "B")
    runner = caught_up(store, views, SiteNames(), Fragile(), Renames())

    assert names_in(views, "site_names") == {"A", "Poison", "B"}
    assert names_in(views, "fragile") == {"A"}
    status = by_name(runner)
    healthy = status["site_names"]
    assert (healthy.state, healthy.position, healthy.lag) == ("live", last, 0)
    assert status["renames"].position == last  # events it ignores still move it on
    fragile = status["fragile"]
    assert (fragile.state, fragile.position, fragile.lag) == ("failing", poison - 1, last - poison + 1)
    assert fragile.failure is not None
    assert (fragile.failure.position, fragile.failure.event_type) == (poison, "SiteCreated")
    assert fragile.failure.error.startswith("OverflowError: Python int too large")


def test_a_failing_fold_is_retried_with_back_off_and_resumes_once_it_folds(
    store: EventStore, views: SqliteViewStore
) -> None:
    store_sites(store, "A", "Poison", "B")
    fragile, clock = Fragile(), Clock()
    runner = ProjectionRunner(store, views, [fragile], clock=clock, max_backoff=2.0)
    runner.setup()
    runner.catch_up()
    runner.catch_up()  # within the back-off: not tried again
    assert by_name(runner)["fragile"].failure.attempts == 1

    for attempts in (2, 3, 4):
        clock.now += 2.0  # the back-off grew 0.5, 1, 2 and stays at its cap
        runner.catch_up()
        assert by_name(runner)["fragile"].failure.attempts == attempts

    fragile.fixed = True
    clock.now += 2.0
    runner.catch_up()
    assert names_in(views, "fragile") == {"A", "Poison", "B"}
    status = by_name(runner)["fragile"]
    assert (status.state, status.failure, status.lag) == ("live", None, 0)


def test_another_process_sees_the_failure_and_where_each_projection_stands(
    store: EventStore, views: SqliteViewStore
) -> None:
    _, poison, last = store_sites(store, "A", "Poison", "B")
    caught_up(store, views, SiteNames(), Fragile())

    reader = ProjectionRunner(store, views, [SiteNames(), Fragile()])  # e.g. `cpms projections status`
    reader.setup()
    status = by_name(reader)
    assert status["site_names"].position == last
    assert status["fragile"].state == "failing" and status["fragile"].failure.position == poison


async def test_a_write_waits_for_the_projections_that_fold_it_and_a_failing_one_only_if_it_reads_it(
    store: EventStore, views: SqliteViewStore
) -> None:
    _, poison, last = store_sites(store, "A", "Poison", "B")
    runner = caught_up(store, views, SiteNames(), Fragile(), Renames())

    assert runner.projections_for([Site.SiteCreated]) == {"site_names", "fragile"}
    assert runner.projections_for([Site.SiteUpdated]) == {"renames"}
    await runner.wait_for(last, event_types=[Site.SiteUpdated], timeout=1)  # returns at once
    # The answer reads only site_names: the stopped projection is not waited for.
    await runner.wait_for(last, event_types=[Site.SiteCreated], reads=["site_names"], timeout=1)
    with pytest.raises(ProjectionFailing, match="fragile"):  # it reads it: told at once, not in 30 s
        await runner.wait_for(last, event_types=[Site.SiteCreated], reads=["fragile"], timeout=30)
    with pytest.raises(ProjectionFailing, match="fragile"):
        await runner.wait_for(last, timeout=30)
    await runner.wait_for(poison - 1, event_types=[Site.SiteCreated], timeout=1)  # folded before it


async def test_a_running_projector_keeps_serving_writes_that_do_not_need_the_failing_projection(
    store: EventStore, views: SqliteViewStore
) -> None:
    store_sites(store, "Poison")
    runner = ProjectionRunner(store, views, [SiteNames(), Fragile()], poll_interval=0.05)
    runner.setup()
    runner.start()
    try:
        (position,) = store_sites(store, "C")
        runner.notify(position)
        await _folded(runner, "site_names", position)
        await runner.wait_for(position, event_types=[Site.SiteCreated], reads=["site_names"], timeout=5)
        with pytest.raises(ProjectionFailing):
            await runner.wait_for(position, event_types=[Site.SiteCreated], timeout=5)
    finally:
        runner.stop()
    assert names_in(views, "site_names") == {"Poison", "C"}


async def _folded(runner: ProjectionRunner, name: str, position: int) -> None:
    for _ in range(200):
        if by_name(runner)[name].position >= position:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"{name} did not fold position {position}")


async def test_a_follower_wakes_when_its_projection_moves_and_not_before(
    store: EventStore, views: SqliteViewStore
) -> None:
    (first,) = store_sites(store, "A")
    runner = ProjectionRunner(store, views, [SiteNames()], poll_interval=0.05)
    runner.setup()
    runner.start()
    try:
        await _folded(runner, "site_names", first)
        # Nothing new: the follower is told after its timeout that the projection stayed put.
        assert await runner.moved_past("site_names", first, timeout=0.2) == first
        follower = asyncio.create_task(runner.moved_past("site_names", first, timeout=5))
        await asyncio.sleep(0.1)
        assert not follower.done()
        (second,) = store_sites(store, "B")
        runner.notify(second)
        assert await asyncio.wait_for(follower, 5) == second
    finally:
        runner.stop()


async def test_a_follower_in_an_api_only_process_sees_another_process_fold(
    store: EventStore, views: SqliteViewStore
) -> None:
    (first,) = store_sites(store, "A")
    projector = caught_up(store, views, SiteNames())
    reader = ProjectionRunner(store, views, [SiteNames()], poll_interval=0.05)  # never started
    reader.setup()
    assert reader.folded("site_names") == first
    follower = asyncio.create_task(reader.moved_past("site_names", first, timeout=5))
    (second,) = store_sites(store, "B")
    projector.catch_up()
    assert await asyncio.wait_for(follower, 5) == second


async def test_a_follower_of_a_stopped_projection_is_told_at_once(
    store: EventStore, views: SqliteViewStore
) -> None:
    (_, poison, _) = store_sites(store, "A", "Poison", "B")
    runner = caught_up(store, views, Fragile())
    with pytest.raises(ProjectionFailing):
        await runner.moved_past("fragile", poison - 1, timeout=30)
