"""`GET /api/v1/sites/{site_id}/history` latency on a site with a year of history.

`cpms serve` runs as its own process (SQLite or PostgreSQL). This process writes a year of a
site's life into its event store through a bulk path: the real aggregates (Site, Station,
ChargingSession, ChargePointTransactions) record their events under a simulated clock, in the
order they happened, and the events are appended to the log in large batches rather than one
OCPP message at a time. By default: 10 stations of 2 connectors, each connector charging twice
a day (Preparing, start, Charging, a meter reading every 30 minutes for two hours, stop,
Finishing, Available), each station reconnecting once a day; about 175,000 events. The server's
projections fold them and its projector takes snapshots of the site's past view in the
background (both waits are timed); then the history's first page with `as_of` is asked at a few
instants of the year, each twice.

    .venv/bin/python -m benchmarks.site_history --backend sqlite
    .venv/bin/python -m benchmarks.site_history --backend postgresql --days 365
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from eventsourcing.domain import CanCreateTimestamp

from benchmarks.serving import served
from cpms.aggregates.charge_point_transactions import ChargePointTransactions
from cpms.aggregates.charging_session import ChargingSession
from cpms.aggregates.meter import sample
from cpms.aggregates.site import Address, Site
from cpms.aggregates.station import Station
from cpms.audit.history import CODE, SNAPSHOT_EVERY
from cpms.infra.eventstore import open_event_store
from cpms.infra.settings import Database
from cpms.projections import site_history
from cpms.projections.store import open_view_store
from cpms.timestamps import to_iso

BATCH = 5_000  # events appended per transaction


class SimulatedClock:
    """The time events are received at, moved on by the scenario; eventsourcing reads it."""

    now = datetime(2025, 1, 1, tzinfo=UTC)

    @classmethod
    def timestamp(cls) -> datetime:
        return cls.now


def year_of_a_site(
    organization_id: str, start: datetime, *, days: int, stations: int, connectors: int
) -> Iterator[Any]:
    """The events of a site's `days` days from `start`, in the order they happened."""
    clock = SimulatedClock
    clock.now = start
    site = Site.create(
        organization_id=organization_id,
        name="A year of history",
        address=Address("1 Bench Street", "75010", "Paris", "FR"),
        provider="EDF",
        occurred_at=start,
    )
    yield from site.collect_events()
    site_id = str(site.id)
    fleet = []
    for n in range(1, stations + 1):
        station = Station.commission(
            ocpp_id=f"YEAR-{uuid.uuid4().hex[:6]}-{n:02d}",
            organization_id=organization_id,
            site_id=site_id,
            serial_number=f"SN-{n}",
            connectors=connectors,
            occurred_at=start,
        )
        fleet.append(station)
        yield from station.collect_events()
    transactions = 0
    records = {
        (s.ocpp_id, c): ChargePointTransactions(s.ocpp_id, c) for s in fleet for c in range(1, connectors + 1)
    }
    for record in records.values():
        yield from record.collect_events()
    card = {
        "status": "Accepted",
        "method": "rfid",
        "token": "CAFE01",
        "card_uid": "CAFE01",
        "card_label": "Fleet card",
        "access_group_id": str(uuid.uuid4()),
        "access_group_name": "Fleet",
    }
    register = 0.0
    for day in range(days):
        midnight = start + timedelta(days=day)
        steps: list[tuple[datetime, Any]] = []
        for index, station in enumerate(fleet):
            steps.append((midnight + timedelta(minutes=5 + index), ("reconnect", station)))
            for connector in range(1, connectors + 1):
                for hour in (8, 17):
                    begin = midnight + timedelta(hours=hour, minutes=7 * index + connector)
                    steps.append((begin, ("session", station, connector)))
        steps.sort(key=lambda step: step[0])
        for at, step in steps:
            clock.now = at
            if step[0] == "reconnect":
                station = step[1]
                station.disconnect(reason="Reboot", occurred_at=at)
                station.connect(node="bench", ocpp_version="ocpp1.6", occurred_at=at)
                for connector in range(1, connectors + 1):
                    station.notify_status(
                        connector_id=connector,
                        ocpp_status="Available",
                        error_code="NoError",
                        info=None,
                        vendor_error_code=None,
                        occurred_at=at,
                    )
                yield from station.collect_events()
                continue
            _, station, connector = step
            transactions += 1
            yield from _charge(station, connector, records, at, transactions, register, card)
            register += 14_000.0


def _charge(
    station: Any,
    connector: int,
    records: dict[tuple[str, int], Any],
    at: datetime,
    transaction: int,
    register: float,
    card: dict[str, Any],
) -> Iterator[Any]:
    """One two-hour session on a connector, with its statuses and readings."""
    clock = SimulatedClock

    def status(value: str, moment: datetime) -> Iterator[Any]:
        clock.now = moment
        station.notify_status(
            connector_id=connector,
            ocpp_status=value,
            error_code="NoError",
            info=None,
            vendor_error_code=None,
            occurred_at=moment,
        )
        yield from station.collect_events()

    yield from status("Preparing", at)
    started = at + timedelta(seconds=20)
    clock.now = started
    session = ChargingSession.start(
        ocpp_id=station.ocpp_id,
        transaction_id=str(transaction),
        organization_id=station.organization_id,
        site_id=station.site_id,
        connector_id=connector,
        evse_id=None,
        meter_start_wh=register,
        started_at=started,
        authorization=card,
    )
    record = records[station.ocpp_id, connector]
    record.begin(session, None)
    yield from session.collect_events()
    yield from record.collect_events()
    yield from status("Charging", started + timedelta(seconds=5))
    for n in range(1, 5):
        read = started + timedelta(minutes=30 * n)
        clock.now = read
        session.record_readings([sample(read, "Energy.Active.Import.Register", register + 3_500 * n, "Wh")])
        yield from session.collect_events()
    ended = started + timedelta(hours=2)
    clock.now = ended
    session.end(meter_stop_wh=register + 14_000, ended_at=ended, stop_reason="EVDisconnected", token=None)
    yield from session.collect_events()
    yield from status("Finishing", ended + timedelta(seconds=2))
    yield from status("Available", ended + timedelta(minutes=3))


def append(database_url: str, events: Iterator[Any]) -> tuple[int, str]:
    """Append the events to the server's log in batches; how many, and the site's id."""
    store = open_event_store(Database.from_url(database_url))
    count, site_id, batch = 0, "", []
    for event in events:
        site_id = site_id or str(event.originator_id)
        batch.append(store.mapper.to_stored_event(event))
        if len(batch) == BATCH:
            store.recorder.insert_events(batch)
            count, batch = count + len(batch), []
    if batch:
        store.recorder.insert_events(batch)
        count += len(batch)
    store.close()
    return count, site_id


def caught_up(client: httpx.Client, timeout: float = 3_600) -> None:
    deadline = time.monotonic() + timeout
    while True:
        projections = client.get("/api/v1/projections").json()["items"]
        if all(p["lag"] == 0 for p in projections):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(projections)
        time.sleep(1)


def snapshots_kept(database_url: str, site_id: str, timeout: float = 3_600) -> None:
    """Wait until the server's projector has snapshots of the site's past view up to the last
    `SNAPSHOT_EVERY` events (it takes them in its background)."""
    views = open_view_store(Database.from_url(database_url))
    deadline = time.monotonic() + timeout
    try:
        while True:
            with views.read() as tx:
                if site_history.unsnapshotted(tx, site_id, CODE) < SNAPSHOT_EVERY:
                    return
            if time.monotonic() > deadline:
                raise TimeoutError("no snapshots")
            time.sleep(1)
    finally:
        views.close()


def run(args: argparse.Namespace) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with served(args.backend) as server:
        headers = {"Authorization": f"Bearer {server.api_key}"}
        original = CanCreateTimestamp.create_timestamp
        CanCreateTimestamp.create_timestamp = staticmethod(SimulatedClock.timestamp)  # type: ignore[method-assign]
        try:
            began = time.monotonic()
            events = year_of_a_site(
                server.organization_id,
                start,
                days=args.days,
                stations=args.stations,
                connectors=args.connectors,
            )
            count, site_id = append(server.database_url, events)
        finally:
            CanCreateTimestamp.create_timestamp = original  # type: ignore[method-assign]
        print(f"appended {count:,} events of one site in {time.monotonic() - began:.0f} s", flush=True)
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=600) as client:
            began = time.monotonic()
            caught_up(client)
            print(f"projections folded them in {time.monotonic() - began:.0f} s", flush=True)
            began = time.monotonic()
            snapshots_kept(server.database_url, site_id)
            print(
                f"the projector took the snapshots of its history in {time.monotonic() - began:.0f} s",
                flush=True,
            )
            print(
                f"backend={args.backend} days={args.days} stations={args.stations}"
                f" connectors={args.connectors} cores={os.cpu_count()}",
                flush=True,
            )
            print(f"{'until':<26} {'events':>8} {'first s':>8} {'again s':>8}", flush=True)
            for fraction in (1 / 12, 0.5, 1.0):
                until = start + timedelta(days=args.days * fraction) - timedelta(hours=1)
                params = {"until": to_iso(until), "limit": "50"}
                timings = []
                for _ in range(2):
                    began = time.perf_counter()
                    response = client.get(f"/api/v1/sites/{site_id}/history", params=params)
                    timings.append(time.perf_counter() - began)
                    assert response.status_code == 200, response.text
                as_of = response.json()["as_of"]
                assert as_of["site"] is not None
                assert len(as_of["charge_points"]) == args.stations * args.connectors
                print(
                    f"{to_iso(until):<26} {as_of['events']:>8,} {timings[0]:>8.2f} {timings[1]:>8.2f}",
                    flush=True,
                )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--stations", type=int, default=10)
    parser.add_argument("--connectors", type=int, default=2)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
