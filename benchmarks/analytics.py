"""`GET /api/v1/analytics` latency with 1,000,000 listed sessions in the analytics read model.

`cpms serve` runs as its own process (SQLite or PostgreSQL); this process commissions the sites
and stations through the API, then fills the analytics view with sessions spread over the last
~400 days (`--days`) across the stations, through a bulk path: the projection's own arithmetic
(slot, contribution, histogram bin) summed in memory and written once per slot, instead of 1M
OCPP transactions. The bulk path is first checked against the projection's fold on a sample. Then
each case (bucket, zone, scope, range) is asked `--requests` times over HTTP, one at a time on
one kept-alive connection, and its p50, p99 and max printed.

    .venv/bin/python -m benchmarks.analytics --backend sqlite
    .venv/bin/python -m benchmarks.analytics --backend postgresql --sessions 1000000 --requests 200
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import psycopg

from benchmarks.serving import served
from cpms.aggregates.charging_session import ChargingSession
from cpms.infra.settings import Database
from cpms.projections.analytics import (
    DAY,
    ORGANIZATION,
    SITE,
    SPANS,
    STATION,
    SUMMED,
    AnalyticsProjection,
    Contribution,
    histogram_bin,
    slot_of,
)
from cpms.projections.store import Tx, ViewStore, open_view_store
from cpms.timestamps import to_iso

CARD = {"token": "CAFE01", "status": "Accepted", "method": "rfid", "card_uid": "CAFE01"}
BATCH = 20_000


@dataclass(frozen=True)
class Session:
    id: str
    site_id: str
    ocpp_id: str
    started_at: datetime
    ended_at: datetime
    start_wh: float
    stop_wh: float

    def contribution(self) -> Contribution:
        duration = int((self.ended_at - self.started_at).total_seconds())
        energy = max(0.0, self.stop_wh - self.start_wh)
        return Contribution(slot_of(self.started_at), 1, energy, duration, histogram_bin(duration))


def generate(
    count: int, stations: list[tuple[str, str]], end: datetime, days: int, seed: int
) -> Iterator[Session]:
    """Sessions started uniformly over `days` before `end`, lasting minutes to a day and more
    (log-normal around 50 min), at ~7 kW."""
    rng = random.Random(seed)
    span = days * 86400
    for n in range(count):
        site_id, ocpp_id = stations[rng.randrange(len(stations))]
        started = end - timedelta(seconds=rng.random() * span)
        duration = min(rng.lognormvariate(8.0, 1.0), 40 * 3600)
        start_wh = rng.randrange(0, 10**8)
        yield Session(
            f"bench-{n}",
            site_id,
            ocpp_id,
            started.replace(microsecond=0),
            (started + timedelta(seconds=duration)).replace(microsecond=0),
            float(start_wh),
            float(start_wh + round(duration * 7000 / 3600)),
        )


class Slots:
    """What the fold leaves in analytics_slots_v1, summed in memory session by session."""

    def __init__(self, organization_id: str) -> None:
        self.organization_id = organization_id
        self.sums: dict[tuple[str, str, int, int, int], list[Any]] = defaultdict(lambda: [0] * len(SUMMED))

    def add(self, session: Session) -> None:
        contribution = session.contribution()
        added = contribution.summed(1)
        slot = contribution.slot
        for scope, scope_id in ((ORGANIZATION, ""), (SITE, session.site_id), (STATION, session.ocpp_id)):
            for span in SPANS:
                start = slot - slot % span
                row = self.sums[scope, scope_id, span, start % DAY, start]
                for index, value in enumerate(added):
                    row[index] += value

    def rows(self) -> list[tuple[Any, ...]]:
        return [(self.organization_id, *key, *values) for key, values in self.sums.items()]


def session_rows(organization_id: str, sessions: list[Session]) -> Iterator[tuple[Any, ...]]:
    for s in sessions:
        yield (
            s.id, organization_id, s.site_id, s.ocpp_id, to_iso(s.started_at), to_iso(s.ended_at),
            s.start_wh, None, None, None, None, s.stop_wh, 1,
        )  # fmt: skip


def insert(tx: Tx, table: str, columns: int, rows: list[tuple[Any, ...]]) -> None:
    tx.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * columns)})", rows)


def check_bulk_path(sessions: list[Session], workdir: str) -> None:
    """The bulk rows equal what the projection's fold of the same sessions' events leaves."""
    organization_id = "check"
    folded = open_view_store(Database.from_url(f"sqlite:///{workdir}/check.sqlite"))
    projection = AnalyticsProjection()
    with folded.transaction() as tx:
        projection.create_tables(tx)
        for s in sessions:
            session = ChargingSession.start(
                ocpp_id=s.ocpp_id, transaction_id=s.id, organization_id=organization_id, site_id=s.site_id,
                connector_id=1, evse_id=None, meter_start_wh=s.start_wh, started_at=s.started_at,
                authorization=CARD,
            )  # fmt: skip
            session.end(meter_stop_wh=s.stop_wh, ended_at=s.ended_at, stop_reason="Local", token=None)
            for event in session.collect_events():
                projection.apply(event, tx)
        stored = sorted(tuple(r) for r in tx.execute("SELECT * FROM analytics_slots_v1"))
    folded.close()
    slots = Slots(organization_id)
    for s in sessions:
        slots.add(s)
    assert stored == sorted(slots.rows()), "the bulk path differs from the fold"
    print(f"bulk path checked against the fold on {len(sessions)} sessions", flush=True)


def fill(views: ViewStore, organization_id: str, sessions: Iterator[Session]) -> None:
    started = time.monotonic()
    slots = Slots(organization_id)
    batch: list[Session] = []
    count = 0
    for session in sessions:
        slots.add(session)
        batch.append(session)
        if len(batch) == BATCH:
            count += _insert_sessions(views, organization_id, batch)
    count += _insert_sessions(views, organization_id, batch)
    rows = slots.rows()
    for first in range(0, len(rows), BATCH):
        with views.transaction() as tx:
            insert(tx, "analytics_slots_v1", 6 + len(SUMMED), rows[first : first + BATCH])
    print(
        f"filled {count:,} sessions, {len(rows):,} slot rows in {time.monotonic() - started:.0f} s",
        flush=True,
    )


def _insert_sessions(views: ViewStore, organization_id: str, batch: list[Session]) -> int:
    with views.transaction() as tx:
        insert(tx, "analytics_sessions_v1", 13, list(session_rows(organization_id, batch)))
    count = len(batch)
    batch.clear()
    return count


def settle(backend: str, url: str) -> None:
    """What autovacuum would do in the minutes after such a load, done before measuring rather
    than during it: without statistics PostgreSQL plans slot lookups as a filter over every slot
    of a scope; SQLite gets its statistics too."""
    database = Database.from_url(url)
    if backend == "postgresql":
        with psycopg.connect(database.conninfo(), autocommit=True) as conn:
            conn.execute(f'SET search_path TO "{database.schema}"')
            conn.execute("VACUUM (ANALYZE) analytics_slots_v1, analytics_sessions_v1")
    else:
        views = open_view_store(database)
        with views.transaction() as tx:
            tx.execute("ANALYZE analytics_slots_v1")
        views.close()


def cases(end: date, site_id: str, ocpp_id: str, zones: list[str]) -> Iterator[tuple[str, dict[str, str]]]:
    for days in (400, 30):
        for scope, filters in (
            ("organization", {}),
            ("site", {"site_id": site_id}),
            ("station", {"station": ocpp_id}),
        ):
            for tz in zones:
                for bucket in ("day", "week", "month"):
                    window = {"from": (end - timedelta(days=days)).isoformat(), "to": end.isoformat()}
                    name = f"{days:>3} days  {scope:<12} {tz:<19} {bucket:<5}"
                    yield name, {**window, "bucket": bucket, "tz": tz, **filters}


def measure(
    client: httpx.Client, params: dict[str, str], requests: int, warmup: int
) -> tuple[list[float], int]:
    latencies = []
    buckets = 0
    for n in range(warmup + requests):
        began = time.perf_counter()
        response = client.get("/api/v1/analytics", params=params)
        elapsed = time.perf_counter() - began
        assert response.status_code == 200, response.text
        if n >= warmup:
            latencies.append(elapsed * 1000)
        buckets = len(response.json()["buckets"])
    return latencies, buckets


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run(args: argparse.Namespace) -> None:
    with served(args.backend) as server:
        url, base, workdir = server.database_url, server.base_url, str(server.workdir)
        org = {"api_key": server.api_key, "organization_id": server.organization_id}
        headers = {"Authorization": f"Bearer {org['api_key']}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            stations = commission(client, args.sites, args.stations_per_site)
            now = datetime.now(UTC)
            end = now.date() + timedelta(days=1)
            tomorrow = datetime(end.year, end.month, end.day, tzinfo=UTC)
            check_bulk_path(list(generate(2_000, stations, tomorrow, args.days, seed=1)), workdir)
            views = open_view_store(Database.from_url(url))
            fill(views, org["organization_id"], generate(args.sessions, stations, now, args.days, seed=7))
            views.close()
            settle(args.backend, url)
            print(
                f"backend={args.backend} sessions={args.sessions:,} days={args.days} sites={args.sites}"
                f" stations={len(stations)} requests={args.requests} per case (after {args.warmup})"
                f" cores={os.cpu_count()}",
                flush=True,
            )
            print(f"{'case':<45} {'buckets':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}", flush=True)
            worst = 0.0
            for name, params in cases(end, stations[0][0], stations[0][1], args.zones.split(",")):
                if args.only and not all(word in name for word in args.only.split(",")):
                    continue
                latencies, count = measure(client, params, args.requests, args.warmup)
                p99 = percentile(latencies, 0.99)
                worst = max(worst, p99)
                print(
                    f"{name:<45} {count:>7} {statistics.median(latencies):>8.1f} {p99:>8.1f}"
                    f" {max(latencies):>8.1f}",
                    flush=True,
                )
            print(f"worst p99: {worst:.1f} ms", flush=True)


def commission(client: httpx.Client, sites: int, per_site: int) -> list[tuple[str, str]]:
    """Sites and stations, as an operator creates them; (site id, OCPP identity) of each station."""
    address = {"street": "1 Bench Street", "postal_code": "75010", "city": "Paris", "country": "FR"}
    stations = []
    for s in range(1, sites + 1):
        site = client.post("/api/v1/sites", json={"name": f"Site {s}", "address": address})
        assert site.status_code == 201, site.text
        for n in range(1, per_site + 1):
            ocpp_id = f"BENCH-{s:02d}-{n:02d}"
            body = {"ocpp_id": ocpp_id, "serial_number": f"SN-{ocpp_id}", "site_id": site.json()["id"]}
            station = client.post("/api/v1/stations", json=body)
            assert station.status_code == 201, station.text
            stations.append((site.json()["id"], ocpp_id))
    return stations


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=400, help="sessions start over this many days before now")
    parser.add_argument("--sites", type=int, default=5)
    parser.add_argument("--stations-per-site", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200, help="measured requests per case")
    parser.add_argument("--zones", default="UTC,Europe/Paris", help="comma-separated IANA zones")
    parser.add_argument("--only", help="comma-separated words a case's name must hold, e.g. 400,site,day")
    parser.add_argument("--warmup", type=int, default=10, help="requests per case before measuring")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
