"""Analytics from real OCPP transactions, on SQLite and PostgreSQL: buckets of a time zone across
the daylight-saving changes of Europe/Paris and month ends, the visibility rule, the filters and
what is refused."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import access_group, api_client, commission, configure, connected, create_site, settled
from tests.support201 import connected201

HISTOGRAM = [0, 900, 1800, 3600, 7200, 14400, 28800, 43200, 86400]


@pytest.fixture
async def world(start_node):
    """Site Depot with CP-1 (1.6) and CS-2 (2.0.1), site Annex with CP-3; the Staff group's card
    charges at all three."""
    node = await start_node()
    api = await api_client(node)
    depot, annex = await create_site(api, "Depot"), await create_site(api, "Annex")
    await commission(api, depot["id"], "CP-1")
    await commission(api, depot["id"], "CS-2")
    await commission(api, annex["id"], "CP-3")
    staff = await access_group(api, "Staff", {"04A1B2C3": "Alice's badge"})
    for station in ("CP-1", "CS-2", "CP-3"):
        await configure(api, station, staff)
    yield node, api, depot["id"], annex["id"]
    await api.aclose()


async def charge(
    cp: Any, start: str, end: str, wh: int, *, card: str = "04A1B2C3", connector: int = 1
) -> None:
    started = await cp.start_transaction(connector, card, meter_start=1_000, timestamp=start)
    await cp.stop(started.transaction_id, 1_000 + wh, end)


async def analytics(api: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    response = await api.get("/analytics", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def figures(bucket: dict[str, Any]) -> tuple[Any, ...]:
    return (bucket["sessions"], bucket["completed"], bucket["energy_wh"], bucket["duration_s"]["total"])


async def test_paris_days_across_the_march_change_count_sessions_where_they_started(world):
    node, api, depot, _ = world
    async with connected(node, "CP-1") as cp:
        await charge(cp, "2026-03-28T22:30:00Z", "2026-03-28T22:45:00Z", 1_000)  # Sat 23:30 in Paris
        await charge(cp, "2026-03-28T23:10:00Z", "2026-03-29T00:10:00Z", 2_000)  # Sun 00:10 in Paris
        await charge(cp, "2026-03-29T21:50:00Z", "2026-03-29T23:50:00Z", 4_000)  # Sun 23:50 (+02:00)
        await charge(cp, "2026-03-29T22:05:00Z", "2026-03-29T22:35:00Z", 8_000)  # Mon 00:05 (+02:00)
        await charge(cp, "2026-03-29T10:00:00Z", "2026-03-29T11:00:00Z", 500, card="FFFF0000")  # refused
        await cp.start_transaction(1, "04A1B2C3", meter_start=0, timestamp="2026-03-30T08:00:00Z")
        await settled(node)
    found = await analytics(api, **{"from": "2026-03-28", "to": "2026-03-31", "tz": "Europe/Paris"})
    assert (found["from"], found["to"], found["bucket"], found["tz"]) == (
        "2026-03-28T00:00:00+01:00",
        "2026-03-31T00:00:00+02:00",
        "day",
        "Europe/Paris",
    )
    days = found["buckets"]
    assert [(d["start"], d["end"], d["hours"]) for d in days] == [
        ("2026-03-28T00:00:00+01:00", "2026-03-29T00:00:00+01:00", 24),
        ("2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 23),
        ("2026-03-30T00:00:00+02:00", "2026-03-31T00:00:00+02:00", 24),
    ]
    assert [figures(d) for d in days] == [
        (1, 1, 1_000, 900),
        (2, 2, 6_000, 3_600 + 7_200),
        (2, 1, 8_000, 1_800),  # the open session counts as a session, not yet as completed
    ]
    assert [d["duration_s"]["mean"] for d in days] == [900, 5_400, 1_800]
    assert found["totals"] == {
        "sessions": 5,
        "completed": 4,
        "energy_wh": 15_000,
        "duration_s": {"total": 900 + 10_800 + 1_800, "mean": 13_500 / 4},
    }
    assert [(b["from_s"], b["to_s"]) for b in found["duration_histogram"]] == list(
        zip(HISTOGRAM, [*HISTOGRAM[1:], None], strict=True)
    )
    assert [b["sessions"] for b in found["duration_histogram"]] == [0, 1, 1, 1, 1, 0, 0, 0, 0]
    by_utc_day = await analytics(api, **{"from": "2026-03-28", "to": "2026-03-31"})
    assert [d["sessions"] for d in by_utc_day["buckets"]] == [2, 2, 1]
    # The same sessions as the list shows them.
    listed = (await api.get(f"/sites/{depot}/sessions", params={"state": "Completed"})).json()["items"]
    assert sum(s["energy_wh"] for s in listed) == found["totals"]["energy_wh"]
    assert sum(s["duration_s"] for s in listed) == found["totals"]["duration_s"]["total"]


async def test_the_october_day_has_25_hours_and_months_and_weeks_end_in_paris(world):
    node, api, _, _ = world
    async with connected(node, "CP-1") as cp:
        await charge(cp, "2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z", 100)  # 02:30 (+02:00)
        await charge(cp, "2026-10-25T01:30:00Z", "2026-10-25T02:00:00Z", 200)  # 02:30 again (+01:00)
        await charge(cp, "2026-10-31T23:30:00Z", "2026-11-01T00:00:00Z", 400)  # Nov 1st, 00:30 in Paris
        await charge(cp, "2026-09-30T21:59:00Z", "2026-09-30T22:30:00Z", 800)  # Sep 30, 23:59 in Paris
        await charge(cp, "2026-09-30T22:00:00Z", "2026-09-30T22:30:00Z", 1_600)  # Oct 1st, 00:00
        await settled(node)
    days = (await analytics(api, **{"from": "2026-10-24", "to": "2026-10-27", "tz": "Europe/Paris"}))[
        "buckets"
    ]
    assert [(d["hours"], d["sessions"], d["energy_wh"]) for d in days] == [
        (24, 0, 0),
        (25, 2, 300),
        (24, 0, 0),
    ]
    assert days[0]["duration_s"] == {"total": 0, "mean": None}  # an empty bucket
    months = await analytics(
        api, **{"from": "2026-09-15", "to": "2026-11-15", "bucket": "month", "tz": "Europe/Paris"}
    )
    assert [(m["start"], m["hours"], m["energy_wh"]) for m in months["buckets"]] == [
        ("2026-09-01T00:00:00+02:00", 720, 800),
        ("2026-10-01T00:00:00+02:00", 745, 1_900),
        ("2026-11-01T00:00:00+01:00", 720, 400),
    ]
    utc_months = await analytics(api, **{"from": "2026-09-01", "to": "2026-12-01", "bucket": "month"})
    assert [m["energy_wh"] for m in utc_months["buckets"]] == [2_400, 700, 0]
    weeks = await analytics(
        api, **{"from": "2026-10-19", "to": "2026-11-02", "bucket": "week", "tz": "Europe/Paris"}
    )
    assert [(w["start"], w["hours"], w["sessions"]) for w in weeks["buckets"]] == [
        ("2026-10-19T00:00:00+02:00", 169, 2),
        ("2026-10-26T00:00:00+01:00", 168, 1),  # Sat Oct 31, 23:30 UTC is Sunday in Paris
    ]


async def test_a_201_session_counts_once_its_late_token_lists_it(world):
    node, api, _, _ = world
    async with connected201(node, "CS-2") as cs:
        await cs.transaction(
            "Started", "tx-1", "2026-06-01T08:00:00Z", "CablePluggedIn", evse_id=1, meter_wh=100
        )
        await settled(node)
        assert (await analytics(api, **{"from": "2026-06-01", "to": "2026-06-02"}))["totals"]["sessions"] == 0
        await cs.transaction("Updated", "tx-1", "2026-06-01T08:02:00Z", "Authorized", token="04A1B2C3")
        await cs.transaction(
            "Ended", "tx-1", "2026-06-01T10:00:00Z", "EVDeparted", stopped_reason="Local", meter_wh=5_100
        )
        await settled(node)
    [day] = (await analytics(api, **{"from": "2026-06-01", "to": "2026-06-02"}))["buckets"]
    assert figures(day) == (1, 1, 5_000, 7_200)


async def test_a_site_or_a_station_reads_its_own_sessions(world):
    node, api, depot, annex = world
    async with connected(node, "CP-1") as one, connected(node, "CP-3") as three:
        await charge(one, "2026-06-01T08:00:00Z", "2026-06-01T09:00:00Z", 1_000)
        await charge(three, "2026-06-01T08:00:00Z", "2026-06-01T09:00:00Z", 3_000)
        await settled(node)
    window = {"from": "2026-06-01", "to": "2026-06-02"}
    assert (await analytics(api, **window))["totals"]["energy_wh"] == 4_000
    assert (await analytics(api, **window, site_id=depot))["totals"]["energy_wh"] == 1_000
    assert (await analytics(api, **window, site_id=annex))["totals"]["energy_wh"] == 3_000
    assert (await analytics(api, **window, station="CP-3"))["totals"]["energy_wh"] == 3_000
    assert (await analytics(api, **window, site_id=annex, station="CP-3"))["totals"]["energy_wh"] == 3_000
    assert (await analytics(api, **window, station="CS-2"))["totals"]["sessions"] == 0
    # Another organization sees none of it, and cannot name this one's site or station.
    async with await api_client(node, "Other") as other:
        assert (await analytics(other, **window))["totals"]["sessions"] == 0
        assert (await other.get("/analytics", params={"site_id": depot})).status_code == 422
        assert (await other.get("/analytics", params={"station": "CP-1"})).status_code == 422


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"tz": "Mars/Olympus"}, 400, "tz: 'Mars/Olympus' is not an IANA time zone name"),
        ({"bucket": "year"}, 400, "bucket: invalid enum value 'year'"),
        ({"from": "2025-01-01", "to": "2026-02-06"}, 400, "from and to are 401 days apart; at most 400 days"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, 400, "from must be before to"),
        (
            {"from": "2026-03-01T00:00:00"},
            400,
            "from must be a date (2026-03-29) or a date-time with its offset",
        ),
        ({"station": "CP-1", "sort": "energy"}, 400, "unknown parameter(s): sort"),
        ({"site_id": "depot"}, 400, "site_id: invalid UUID"),
        ({"site_id": "0b0e7a4e-0f5a-4a86-9e5c-2a4f5e6d7c8b"}, 422, "site_id: no site"),
        ({"station": "CP-404"}, 422, "station: no station 'CP-404' in this organization"),
        ({"station": "CP-3", "site_id": "{depot}"}, 422, "is not a station of site"),
    ],
)
async def test_what_is_refused_is_told(world, params, status, message):
    _, api, depot, _ = world
    params = {name: value.format(depot=depot) for name, value in params.items()}
    response = await api.get("/analytics", params=params)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]["message"]
    assert response.json()["error"]["code"] == ("bad_request" if status == 400 else "invalid_value")


async def test_by_default_the_last_30_utc_days_today_included(world):
    _, api, _, _ = world
    found = await analytics(api)
    assert (found["bucket"], found["tz"], len(found["buckets"])) == ("day", "UTC", 30)
    assert all(d["hours"] == 24 and d["sessions"] == 0 for d in found["buckets"])
