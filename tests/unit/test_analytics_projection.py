"""The analytics read model on SQLite and PostgreSQL: listed sessions folded into quarter-hour
slots, then summed into a zone's days, weeks and months; sessions whose start, visibility or end
change after they were counted; and a rebuild from the log alone."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest

from cpms import buckets
from cpms.aggregates.authorization import Authorization
from cpms.aggregates.charging_session import ChargingSession, Stage, TransactionReport
from cpms.infra.settings import Database
from cpms.infra.startup import prepare_database
from cpms.projections.analytics import (
    HISTOGRAM_S,
    ORGANIZATION,
    QUARTER,
    SITE,
    STATION,
    SUMMED,
    AnalyticsProjection,
    Sums,
    bucket_sums,
    histogram_bin,
    slot_of,
    total,
)
from cpms.projections.store import ViewStore, open_view_store

CARD = {"token": "CAFE01", "status": "Accepted", "method": "rfid", "card_uid": "CAFE01", "card_label": "A"}
UNKNOWN = {"token": "0BAD", "status": "Invalid"}
SITE_A, SITE_B = "site-a", "site-b"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture
def views(database_url: str) -> Iterator[ViewStore]:
    database = Database.from_url(database_url)
    prepare_database(database)
    store = open_view_store(database)
    with store.transaction() as tx:
        AnalyticsProjection().create_tables(tx)
    yield store
    store.close()


class World:
    """Sessions of organization `org` at two sites (CP-1 at site A, CP-2 at site B), each
    change folded as the runner would, and kept as the log."""

    def __init__(self, views: ViewStore) -> None:
        self.views = views
        self.log: list[Any] = []
        self.count = 0

    def fold(self, *sessions: ChargingSession) -> None:
        events = [e for s in sessions for e in s.collect_events()]
        self.log += events
        self.fold_events(events, self.views)

    @staticmethod
    def fold_events(events: list[Any], views: ViewStore) -> None:
        projection = AnalyticsProjection()
        with views.transaction() as tx:
            for event in events:
                if isinstance(event, projection.handles):
                    projection.apply(event, tx)

    def start(
        self,
        at: str,
        auth: dict[str, Any] = CARD,
        *,
        ocpp_id: str = "CP-1",
        meter_wh: float = 1000,
        organization: str = "org",
    ) -> ChargingSession:
        self.count += 1
        return ChargingSession.start(
            ocpp_id=ocpp_id,
            transaction_id=str(self.count),
            organization_id=organization,
            site_id=SITE_A if ocpp_id == "CP-1" else SITE_B,
            connector_id=1,
            evse_id=None,
            meter_start_wh=meter_wh,
            started_at=utc(at),
            authorization=auth,
        )

    def charge(self, at: str, minutes: float, wh: float, **start: Any) -> ChargingSession:
        """A completed session of `minutes` and `wh`, folded."""
        session = self.start(at, **start)
        session.end(
            meter_stop_wh=session.meter_start_wh + wh,
            ended_at=utc(at) + timedelta(minutes=minutes),
            stop_reason="Local",
            token=None,
        )
        self.fold(session)
        return session

    def sums(
        self, bucket: str, tz: str, start: str, end: str, scope: str = ORGANIZATION, key: str = ""
    ) -> tuple[buckets.Period, list[Sums]]:
        zone = buckets.zone(tz)
        found = buckets.period(
            bucket,  # type: ignore[arg-type]
            zone,
            buckets.parse_bound(start, zone, "from"),
            buckets.parse_bound(end, zone, "to"),
            datetime.now(UTC),
        )
        bounds = [int(b.timestamp()) for b in found.bounds]
        with self.views.read() as tx:
            return found, bucket_sums(tx, "org", scope, key, bounds)


@pytest.fixture
def world(views: ViewStore) -> World:
    return World(views)


def sessions(found: list[Sums]) -> list[int]:
    return [s.sessions for s in found]


def test_a_paris_day_is_counted_from_paris_midnight_through_the_23_hour_day_of_march(world):
    world.charge("2026-03-28T23:30:00+01:00", 30, 1000)  # Saturday night
    world.charge("2026-03-29T00:10:00+01:00", 30, 2000)  # 23:10 UTC on the 28th: Sunday in Paris
    world.charge("2026-03-29T23:50:00+02:00", 30, 4000)  # after the change: still Sunday
    world.charge("2026-03-30T00:05:00+02:00", 30, 8000)  # 22:05 UTC on the 29th: Monday in Paris
    _, found = world.sums("day", "Europe/Paris", "2026-03-28", "2026-03-31")
    assert sessions(found) == [1, 2, 1]
    assert [s.energy_wh for s in found] == [1000, 6000, 8000]
    _, utc_days = world.sums("day", "UTC", "2026-03-28", "2026-03-31")
    assert sessions(utc_days) == [2, 2, 0]  # the same sessions by UTC days


def test_the_25_hour_day_of_october_holds_both_passes_of_the_repeated_hour(world):
    world.charge("2026-10-25T02:30:00+02:00", 10, 100)  # 00:30 UTC
    world.charge("2026-10-25T02:30:00+01:00", 10, 100)  # 01:30 UTC: the same wall time, an hour later
    world.charge("2026-10-25T23:59:00+01:00", 10, 100)
    world.charge("2026-10-24T23:59:00+02:00", 10, 100)
    _, found = world.sums("day", "Europe/Paris", "2026-10-24", "2026-10-27")
    assert sessions(found) == [1, 3, 0]


def test_sessions_at_month_ends_fall_in_the_month_of_the_zone(world):
    world.charge("2026-01-31T23:30:00+01:00", 60, 1)
    world.charge("2026-02-28T23:30:00+01:00", 60, 2)
    world.charge("2026-03-31T23:30:00+02:00", 60, 4)
    world.charge("2026-04-01T00:30:00+02:00", 60, 8)  # 22:30 UTC on March 31
    _, paris = world.sums("month", "Europe/Paris", "2026-01-01", "2026-05-01")
    assert [s.energy_wh for s in paris] == [1, 2, 4, 8]
    _, london = world.sums("month", "UTC", "2026-01-01", "2026-05-01")
    assert [s.energy_wh for s in london] == [1, 2, 12, 0]


def test_iso_weeks_across_the_years_end(world):
    world.charge("2026-12-27T12:00:00+01:00", 60, 1)  # Sunday: ISO week 52
    world.charge("2026-12-28T00:00:00+01:00", 60, 2)  # Monday: week 53 begins
    world.charge("2027-01-03T23:59:00+01:00", 60, 4)  # Sunday: still week 53
    world.charge("2027-01-04T00:00:00+01:00", 60, 8)  # Monday: week 1 of 2027
    _, found = world.sums("week", "Europe/Paris", "2026-12-21", "2027-01-11")
    assert [s.energy_wh for s in found] == [1, 6, 8]


def test_a_half_hour_zone_folds_the_quarter_hours_exactly(world):
    world.charge("2026-03-01T18:15:00Z", 5, 1)  # 23:45 in Kolkata, March 1
    world.charge("2026-03-01T18:30:00Z", 5, 2)  # 00:00 in Kolkata, March 2
    _, found = world.sums("day", "Asia/Kolkata", "2026-03-01", "2026-03-03")
    assert [s.energy_wh for s in found] == [1, 2]
    world.charge("2026-03-01T18:14:59Z", 5, 4)  # 23:59:59 in Kathmandu (+05:45), March 1
    _, nepal = world.sums("day", "Asia/Kathmandu", "2026-03-01", "2026-03-03")
    assert [s.energy_wh for s in nepal] == [4, 3]


def test_empty_buckets_are_answered_with_zeros(world):
    world.charge("2026-05-02T10:00:00Z", 60, 1)
    _, found = world.sums("day", "UTC", "2026-05-01", "2026-05-04")
    assert found[0] == found[2] == Sums(0, 0, 0.0, 0, (0,) * len(HISTOGRAM_S))


@pytest.mark.parametrize(
    ("seconds", "index"),
    [
        (0, 0),
        (899, 0),
        (900, 1),
        (1800, 2),
        (3599, 2),
        (3600, 3),
        (43200, 7),
        (86399, 7),
        (86400, 8),
        (10**7, 8),
    ],
)
def test_histogram_bins_hold_their_lower_bound_and_not_their_upper(seconds, index):
    assert histogram_bin(seconds) == index


def test_completed_sessions_add_energy_durations_and_histogram_active_ones_only_count(world):
    world.charge("2026-06-01T08:00:00Z", 10, 500)
    world.charge("2026-06-01T09:00:00Z", 90, 1500)
    world.charge("2026-06-01T10:00:00Z", 25 * 60, 30000)
    active = world.start("2026-06-01T11:00:00Z")
    active.record_readings([_reading("2026-06-01T11:30:00Z", 9000)])
    world.fold(active)
    _, found = world.sums("day", "UTC", "2026-06-01", "2026-06-02")
    [day] = found
    assert (day.sessions, day.completed, day.energy_wh) == (4, 3, 32000)
    assert day.duration_s == (10 + 90 + 25 * 60) * 60
    assert day.histogram == (1, 0, 0, 1, 0, 0, 0, 0, 1)


def test_an_unlisted_session_is_not_counted(world):
    world.charge("2026-06-01T08:00:00Z", 10, 500, auth=UNKNOWN)
    world.charge("2026-06-01T09:00:00Z", 10, 500)
    _, [day] = world.sums("day", "UTC", "2026-06-01", "2026-06-02")
    assert (day.sessions, day.energy_wh) == (1, 500)


def test_a_session_whose_token_came_late_counts_once_listed_with_its_first_reading_as_start(world):
    report = TransactionReport("tx-201", 0, Stage.STARTED, utc("2026-06-01T08:00:00Z"), connector_id=1)
    session = ChargingSession.open(
        report, ocpp_id="CP-1", organization_id="org", site_id=SITE_A, evse_id=None,
        authorization=None, ocpp_version="ocpp2.0.1",
    )  # fmt: skip
    world.fold(session)
    assert sessions(world.sums("day", "UTC", "2026-06-01", "2026-06-02")[1]) == [0]
    badge = Authorization(**CARD)  # type: ignore[arg-type]
    later = report._replace(
        seq_no=1, stage=Stage.ONGOING, occurred_at=utc("2026-06-01T08:05:00Z"), token="CAFE01"
    )
    session.follow(later._replace(samples=(_reading("2026-06-01T08:05:00Z", 2000),)), badge)
    world.fold(session)
    end = report._replace(seq_no=2, stage=Stage.ENDED, occurred_at=utc("2026-06-01T09:00:00Z"))
    session.follow(end._replace(samples=(_reading("2026-06-01T09:00:00Z", 5000),)), None)
    world.fold(session)
    _, [day] = world.sums("day", "UTC", "2026-06-01", "2026-06-02")
    assert (day.sessions, day.completed, day.energy_wh, day.duration_s) == (1, 1, 3000, 3600)


def test_a_late_started_report_moves_the_session_to_the_bucket_it_really_started_in(world):
    opened = utc("2026-06-02T00:30:00Z")
    report = TransactionReport("tx-late", 1, Stage.ONGOING, opened, connector_id=1, token="CAFE01")
    session = ChargingSession.open(
        report, ocpp_id="CP-1", organization_id="org", site_id=SITE_A, evse_id=None,
        authorization=Authorization(**CARD), ocpp_version="ocpp2.0.1",  # type: ignore[arg-type]
    )  # fmt: skip
    world.fold(session)
    assert sessions(world.sums("day", "UTC", "2026-06-01", "2026-06-03")[1]) == [0, 1]
    session.follow(
        report._replace(seq_no=0, stage=Stage.STARTED, occurred_at=utc("2026-06-01T23:50:00Z")), None
    )
    world.fold(session)
    assert sessions(world.sums("day", "UTC", "2026-06-01", "2026-06-03")[1]) == [1, 0]


def test_a_superseded_session_counts_as_completed_at_its_last_reading(world):
    lost = world.start("2026-06-01T08:00:00Z", meter_wh=1000)
    lost.record_readings([_reading("2026-06-01T08:30:00Z", 1700)])
    world.fold(lost)
    newer = world.start("2026-06-01T10:00:00Z", meter_wh=1700)
    lost.supersede(newer)
    world.fold(lost, newer)
    _, [day] = world.sums("day", "UTC", "2026-06-01", "2026-06-02")
    assert (day.sessions, day.completed, day.energy_wh, day.duration_s) == (2, 1, 700, 7200)


def test_the_organization_a_site_and_a_station_each_read_their_own_slots(world):
    world.charge("2026-06-01T08:00:00Z", 10, 1, ocpp_id="CP-1")
    world.charge("2026-06-01T08:05:00Z", 10, 2, ocpp_id="CP-2")
    world.charge("2026-06-01T08:10:00Z", 10, 4, ocpp_id="CP-2")
    world.charge("2026-06-01T08:10:00Z", 10, 8, organization="another org")
    reads = {
        (ORGANIZATION, ""): 7,
        (SITE, SITE_A): 1,
        (SITE, SITE_B): 6,
        (STATION, "CP-2"): 6,
        (STATION, "CP-9"): 0,
    }
    for (scope, key), energy in reads.items():
        _, [day] = world.sums("day", "UTC", "2026-06-01", "2026-06-02", scope, key)
        assert day.energy_wh == energy, (scope, key)


def test_totals_and_histogram_of_a_range_add_its_buckets(world):
    world.charge("2026-06-01T08:00:00Z", 20, 1)
    world.charge("2026-06-03T08:00:00Z", 200, 2)
    _, found = world.sums("day", "UTC", "2026-06-01", "2026-06-04")
    assert total(found) == Sums(2, 2, 3.0, 220 * 60, (0, 1, 0, 0, 1, 0, 0, 0, 0))  # 20 min, 3 h 20


def test_the_log_folded_again_from_scratch_gives_the_same_slots(world, tmp_path):
    world.charge("2026-03-29T01:00:00+01:00", 45, 1234.5)
    session = world.start("2026-03-29T03:30:00+02:00")
    world.fold(session)
    session.record_readings([_reading("2026-03-29T04:00:00+02:00", 2000)])
    world.fold(session)
    session.end(meter_stop_wh=2500, ended_at=utc("2026-03-29T05:00:00+02:00"), stop_reason=None, token=None)
    world.fold(session)
    world.charge("2026-03-30T12:00:00+02:00", 10, 99, auth=UNKNOWN)
    rebuilt = open_view_store(Database.from_url(f"sqlite:///{tmp_path}/rebuilt.sqlite"))
    with rebuilt.transaction() as tx:
        AnalyticsProjection().create_tables(tx)
    World.fold_events(world.log, rebuilt)
    query = "SELECT * FROM analytics_slots_v1 WHERE sessions <> 0 ORDER BY scope, scope_id, span, slot"
    with world.views.read() as tx, rebuilt.read() as again:
        assert [tuple(r) for r in tx.execute(query)] == [tuple(r) for r in again.execute(query)]
        # Two quarter-hours, two hours, one 6-hour slot and one day, in the organization, site and station.
        assert len(tx.execute(query)) == 3 * (2 + 2 + 1 + 1)
    rebuilt.close()


def test_any_bounds_sum_what_their_quarter_hours_hold(world):
    """Buckets are read from UTC days and the hours and quarter-hours between each bound and its
    nearest midnight, either side: whatever the bounds, that is what the quarter-hours add up to."""
    rng = random.Random(12)
    start = int(utc("2026-03-01T00:00:00Z").timestamp())
    for n in range(60):
        at = datetime.fromtimestamp(start + rng.randrange(20 * 86400), UTC)
        world.charge(
            at.isoformat(), rng.randrange(1, 600), rng.randrange(1, 10**5), ocpp_id=f"CP-{n % 2 + 1}"
        )
    quarters = ", ".join(f"SUM({column})" for column in SUMMED)
    for _ in range(40):
        bounds = sorted({start + QUARTER * rng.randrange(-96, 22 * 96) for _ in range(rng.randrange(2, 8))})
        if len(bounds) < 2:
            continue
        with world.views.read() as tx:
            found = bucket_sums(tx, "org", ORGANIZATION, "", bounds)
            for (low, high), sums in zip(pairwise(bounds), found, strict=True):
                [expected] = tx.execute(
                    f"SELECT {quarters} FROM analytics_slots_v1 WHERE organization_id = 'org'"
                    " AND scope = ? AND span = ? AND slot >= ? AND slot < ?",
                    (ORGANIZATION, QUARTER, low, high),
                )
                assert Sums.of([value or 0 for value in expected]) == sums, (low, high)


def test_a_slot_starts_at_its_quarter_hour():
    assert slot_of(utc("2026-06-01T08:14:59.999Z")) == int(utc("2026-06-01T08:00:00Z").timestamp())
    assert slot_of(utc("2026-06-01T08:15:00Z")) == int(utc("2026-06-01T08:15:00Z").timestamp())
    assert slot_of(utc("1969-12-31T23:59:00Z")) == -900


def _reading(at: str, wh: float) -> dict[str, Any]:
    return {
        "timestamp": utc(at),
        "measurand": "Energy.Active.Import.Register",
        "value": wh,
        "unit": "Wh",
        "phase": None,
        "location": None,
        "context": None,
    }
