"""What the hash chain costs the event store's write path, with and without it, interleaved.

The group-commit writer turns many commands into one `EventStore.save(...)`; this saves batches
of that shape (BATCH aggregates of one StatusNotification-sized event each) back to back, on one
store with the chain and one without (eventsourcing's own recorders), alternating rounds, and
reports events stored per second (wall clock) and the writer's CPU per event. On a shared machine
the CPU figure is the steadier one; the end-to-end view is `ocpp_throughput.py`.

    .venv/bin/python -m benchmarks.chain_cost --backend sqlite --rounds 7
    .venv/bin/python -m benchmarks.chain_cost --backend postgresql --rounds 7
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import psycopg
from eventsourcing.domain import Aggregate, event

from benchmarks.serving import PG_URL
from cpms.audit import chain
from cpms.infra import eventstore
from cpms.infra.settings import Database
from cpms.infra.startup import prepare_database

STATE = "Charging"


class Connector(Aggregate):
    @event("StatusNotification")
    def report(self, connector_id: int, status: str, error_code: str, vendor: str) -> None:
        self.status = status


def _store(database: Database, chained: bool) -> eventstore.EventStore:
    env = eventstore.event_store_env(database)
    if not chained:
        env.pop("APPLICATION_RECORDER_TOPIC", None)
        if database.kind != "sqlite":  # still without retries, like cpms's, minus the chain
            env["APPLICATION_RECORDER_TOPIC"] = f"{__name__}:UnchainedPostgresRecorder"
    return eventstore.EventStore(env=env)


class UnchainedPostgresRecorder(eventstore.PromptPostgresRecorder):
    insert_events = eventstore.PostgresApplicationRecorder.insert_events.__wrapped__  # type: ignore[attr-defined]


def _round(store: eventstore.EventStore, aggregates: list[Connector], batches: int) -> tuple[float, float]:
    """Events per second (wall) and CPU microseconds per event over `batches` saves."""
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(batches):
        for aggregate in aggregates:
            aggregate.report(1, STATE if i % 2 else "Available", "NoError", "x" * 40)
        store.save(*aggregates)
    events = batches * len(aggregates)
    return events / (time.perf_counter() - wall), (time.process_time() - cpu) * 1e6 / events


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batches", type=int, default=200, help="saves per round")
    parser.add_argument("--batch", type=int, default=20, help="aggregates (events) per save")
    args = parser.parse_args()

    with ExitStack() as stack:
        if args.backend == "sqlite":
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            databases = {c: Database.from_url(f"sqlite:///{folder}/{c}.sqlite") for c in (True, False)}
        else:
            schemas = {c: f"bench_chain_{uuid.uuid4().hex[:12]}" for c in (True, False)}
            databases = {c: Database.from_url(f"{PG_URL}?schema={s}") for c, s in schemas.items()}
            stack.callback(_drop, list(schemas.values()))
        stores = {}
        for chained, database in databases.items():
            prepare_database(database)
            stores[chained] = _store(database, chained)
            stack.callback(stores[chained].close)
        aggregates = {c: [Connector() for _ in range(args.batch)] for c in stores}
        for chained, store in stores.items():  # warm up: tables, pools, prepared statements
            store.save(*aggregates[chained])
        results: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
        for _ in range(args.rounds):
            for chained in (False, True):
                results[chained].append(_round(stores[chained], aggregates[chained], args.batches))
        report = chain.verify(stores[True].recorder)
        assert report.ok and report.links == args.batch * (1 + args.rounds * args.batches)

    for chained, label in ((False, "without chain"), (True, "with chain")):
        rates = [rate for rate, _ in results[chained]]
        cpus = [cpu for _, cpu in results[chained]]
        print(
            f"{args.backend} {label:>13}: {statistics.median(rates):,.0f} events/s"
            f" (rounds: {', '.join(f'{r:,.0f}' for r in rates)}), CPU {statistics.median(cpus):.0f} µs/event"
        )
    loss = 1 - statistics.median(r for r, _ in results[True]) / statistics.median(
        r for r, _ in results[False]
    )
    extra = statistics.median(c for _, c in results[True]) - statistics.median(c for _, c in results[False])
    print(f"{args.backend}: throughput {loss:+.1%} lost with the chain; CPU {extra:+.0f} µs/event")


def _drop(schemas: list[str]) -> None:
    with psycopg.connect(Database.from_url(PG_URL).conninfo(), autocommit=True) as conn:
        for schema in schemas:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'.encode())


if __name__ == "__main__":
    main()
