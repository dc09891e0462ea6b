"""Group commit against a real SQLite event store: batching, isolation of bad commands, the async Writer."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import OperationalError

from cpms.aggregates.errors import NotFound
from cpms.aggregates.site import Address, Site
from cpms.infra.eventstore import EventStore, open_event_store
from cpms.infra.health import Unavailable
from cpms.infra.settings import Database
from cpms.infra.writer import Command, UnitOfWork, Writer, run_batch

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ADDRESS = Address(street="12 Quai de Valmy", postal_code="75010", city="Paris", country="FR")


class Boom(Exception):
    """Not a domain error: a command that breaks after it has changed an aggregate."""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    event_store = open_event_store(Database.from_url(f"sqlite:///{tmp_path}/e.sqlite"))
    yield event_store
    event_store.close()


def create_site(name: str) -> Command[UUID]:
    def command(uow: UnitOfWork) -> UUID:
        site = Site.create(
            organization_id="org-1", name=name, address=ADDRESS, provider="EDF", occurred_at=NOW
        )
        uow.add(site)
        return site.id

    return command


def rename_site(site_id: UUID, name: str) -> Command[int]:
    def command(uow: UnitOfWork) -> int:
        site = uow.get(Site, site_id, f"site {site_id} not found")
        site.update(name=name, occurred_at=NOW)
        return site.version

    return command


def rename_then_fail(site_id: UUID) -> Command[None]:
    def command(uow: UnitOfWork) -> None:
        uow.get(Site, site_id, "missing").update(name="Leaked", occurred_at=NOW)
        raise Boom("after the event was triggered")

    return command


def existing_site(store: EventStore, name: str = "Depot") -> UUID:
    (outcome,) = run_batch(store, [create_site(name)])
    assert outcome.error is None
    return outcome.result


def stored_names(store: EventStore, site_id: UUID) -> list[str]:
    return [getattr(event, "name", None) or event.changes["name"] for event in store.events.get(site_id)]


def counting_saves(store: EventStore, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real_save: Callable[..., Any] = store.save

    def save(*aggregates: Any, **kwargs: Any) -> Any:
        calls.append(len(aggregates))
        return real_save(*aggregates, **kwargs)

    monkeypatch.setattr(store, "save", save)
    return calls


def test_a_batch_of_commands_on_different_aggregates_is_stored_in_one_save(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    saves = counting_saves(store, monkeypatch)
    outcomes = run_batch(store, [create_site(f"Site {n}") for n in range(50)])
    assert saves == [50]
    assert all(outcome.error is None for outcome in outcomes)
    assert {outcome.position for outcome in outcomes} == {50}
    assert store.recorder.max_notification_id() == 50
    assert len({outcome.result for outcome in outcomes}) == 50


def test_two_commands_on_the_same_aggregate_in_one_batch_both_apply(store: EventStore) -> None:
    site_id = existing_site(store)
    outcomes = run_batch(store, [rename_site(site_id, "North"), rename_site(site_id, "South")])
    assert [outcome.error for outcome in outcomes] == [None, None]
    assert [outcome.result for outcome in outcomes] == [2, 3]
    assert [event.originator_version for event in store.events.get(site_id)] == [1, 2, 3]
    assert store.repository.get(site_id).name == "South"


def test_a_command_refused_before_recording_fails_alone_and_the_batch_is_still_grouped(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    saves = counting_saves(store, monkeypatch)
    outcomes = run_batch(store, [create_site("A"), rename_site(uuid4(), "Nowhere"), create_site("B")])
    assert isinstance(outcomes[1].error, NotFound)
    assert outcomes[1].position is None
    assert [outcomes[0].error, outcomes[2].error] == [None, None]
    assert outcomes[0].position == outcomes[2].position == 2
    assert saves == [2]
    assert store.repository.get(outcomes[0].result).name == "A"
    assert store.repository.get(outcomes[2].result).name == "B"


def test_a_command_failing_after_triggering_an_event_does_not_leak_it(store: EventStore) -> None:
    victim = existing_site(store, "Depot")
    outcomes = run_batch(store, [create_site("A"), rename_then_fail(victim), rename_site(victim, "Renamed")])
    assert isinstance(outcomes[1].error, Boom)
    assert outcomes[0].error is None and outcomes[2].error is None
    assert stored_names(store, victim) == ["Depot", "Renamed"]
    assert store.repository.get(outcomes[0].result).name == "A"
    # Retried one by one: each surviving command got its own save.
    assert outcomes[0].position is not None and outcomes[2].position is not None
    assert outcomes[0].position < outcomes[2].position == store.recorder.max_notification_id()


def test_a_single_command_failing_after_triggering_an_event_stores_nothing(store: EventStore) -> None:
    victim = existing_site(store, "Depot")
    (outcome,) = run_batch(store, [rename_then_fail(victim)])
    assert isinstance(outcome.error, Boom)
    assert stored_names(store, victim) == ["Depot"]
    assert store.repository.get(victim).name == "Depot"


def test_a_batch_of_only_failing_commands_stores_nothing(store: EventStore) -> None:
    outcomes = run_batch(store, [rename_site(uuid4(), "X"), rename_site(uuid4(), "Y")])
    assert all(isinstance(outcome.error, NotFound) for outcome in outcomes)
    assert store.recorder.max_notification_id() is None


async def test_the_writer_groups_concurrent_commands_into_fewer_batches(store: EventStore) -> None:
    stored: list[int] = []
    writer = Writer(store, on_stored=stored.append)
    await writer.start()
    try:
        results = await asyncio.gather(*(writer(create_site(f"Site {n}")) for n in range(200)))
    finally:
        await writer.stop()
    assert writer.commands == 200
    assert writer.batches < writer.commands
    assert len({site_id for site_id, _ in results}) == 200
    assert all(stored is not None for _, stored in results)
    assert max(stored.position for _, stored in results) == store.recorder.max_notification_id() == 200
    assert stored[-1] == 200


async def test_the_writer_raises_a_command_error_to_its_caller_only(store: EventStore) -> None:
    writer = Writer(store)
    await writer.start()
    try:
        results = await asyncio.gather(
            writer(create_site("A")), writer(rename_site(uuid4(), "X")), return_exceptions=True
        )
    finally:
        await writer.stop()
    assert isinstance(results[1], NotFound)
    site_id, stored = results[0]
    assert stored.position == 1
    assert store.repository.get(site_id).name == "A"


async def test_the_writer_refuses_commands_before_it_is_started(store: EventStore) -> None:
    writer = Writer(store)
    with pytest.raises(RuntimeError, match="not started"):
        await writer(create_site("A"))
    await writer.stop()


def test_each_command_learns_the_kinds_of_event_it_recorded_itself(store: EventStore) -> None:
    site_id = existing_site(store)
    created, renamed, refused = run_batch(
        store, [create_site("A"), rename_site(site_id, "North"), rename_site(uuid4(), "X")]
    )
    assert created.stored is not None and renamed.stored is not None
    assert created.stored.event_types == {Site.SiteCreated}
    assert renamed.stored.event_types == {Site.SiteUpdated}
    assert refused.stored is None


def test_a_command_that_records_nothing_has_nothing_to_wait_for(store: EventStore) -> None:
    site_id = existing_site(store, "Depot")
    (outcome,) = run_batch(store, [rename_site(site_id, "Depot")])  # same name: no event
    assert outcome.error is None and outcome.stored is None


def test_a_store_that_cannot_be_reached_fails_the_whole_batch_at_once(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def save(*aggregates: Any, **kwargs: Any) -> Any:
        calls.append(len(aggregates))
        raise OperationalError("connection refused")

    monkeypatch.setattr(store, "save", save)
    outcomes = run_batch(store, [create_site(f"Site {n}") for n in range(5)])
    assert all(isinstance(outcome.error, Unavailable) for outcome in outcomes)
    assert calls == [5]  # not retried command by command against a dead database


async def test_the_writer_refuses_at_once_while_the_store_is_known_to_be_down(store: EventStore) -> None:
    down: list[str | None] = ["connection refused"]
    writer = Writer(store, unavailable=lambda: down[0])
    await writer.start()
    try:
        with pytest.raises(Unavailable, match="connection refused"):
            await writer(create_site("A"))
        down[0] = None
        site_id, _ = await writer(create_site("B"))
    finally:
        await writer.stop()
    assert store.repository.get(site_id).name == "B"
    assert store.recorder.max_notification_id() == 1


async def test_a_caller_waits_no_longer_than_the_deadline_and_a_command_it_gave_up_never_runs(
    store: EventStore,
) -> None:
    release = threading.Event()
    ran: list[str] = []
    heard: list[BaseException] = []

    def stuck(uow: UnitOfWork) -> None:
        release.wait(5)
        ran.append("stuck")

    def queued(uow: UnitOfWork) -> None:
        ran.append("queued")

    writer = Writer(store, on_unavailable=heard.append, deadline=0.2)
    await writer.start()
    try:
        first = asyncio.ensure_future(writer.execute(stuck))
        await asyncio.sleep(0.05)  # the first batch is running
        second = await writer.execute(queued)
        assert isinstance(second.error, Unavailable)
        assert isinstance((await first).error, Unavailable)
        release.set()
        await writer(create_site("After"))
    finally:
        await writer.stop()
    assert ran == ["stuck"]  # the queued command's caller had been answered: it was dropped
    assert heard and all(isinstance(error, Unavailable) for error in heard)


async def test_commands_queued_behind_a_batch_are_refused_if_the_store_went_down_meanwhile(
    store: EventStore,
) -> None:
    release = threading.Event()
    down: list[str | None] = [None]
    ran: list[str] = []

    def stuck(uow: UnitOfWork) -> None:
        release.wait(5)

    def queued(uow: UnitOfWork) -> None:
        ran.append("queued")

    writer = Writer(store, unavailable=lambda: down[0], deadline=5)
    await writer.start()
    try:
        first = asyncio.ensure_future(writer.execute(stuck))
        await asyncio.sleep(0.05)
        second = asyncio.ensure_future(writer.execute(queued))
        await asyncio.sleep(0.05)
        down[0] = "connection refused"
        release.set()
        await first
        outcome = await second
    finally:
        await writer.stop()
    assert isinstance(outcome.error, Unavailable)
    assert ran == []
