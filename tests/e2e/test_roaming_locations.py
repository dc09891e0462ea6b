"""The OCPI Locations read side follows real stations: only roaming-enabled ones are published, and
an EVSE's status follows its OCPP 1.6 charger, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import msgspec
import pytest

from cpms.api.ocpi_models.locations import Location
from cpms.projections import roaming_locations
from cpms.timestamps import parse_iso
from tests.support import COORDINATES, api_client, commission, configure, connected, settled
from tests.support import create_site as create_any_site

PARTY = {"country_code": "FR", "party_id": "CPM"}


async def create_site(api: Any, name: str = "Depot") -> dict[str, Any]:
    """A site that can be published: it has coordinates."""
    return await create_any_site(api, name, COORDINATES)


@pytest.fixture
async def site(api: Any) -> dict[str, Any]:
    return await create_site(api)


def _read(node: Any, organization_id: str, **query: Any) -> tuple[list[dict[str, Any]], int]:
    with node.views.read() as tx:
        return roaming_locations.locations(tx, organization_id, **PARTY, **{"limit": 50, **query})


def _organization(site: dict[str, Any], node: Any) -> str:
    with node.views.read() as tx:
        return str(tx.execute("SELECT organization_id FROM sites_v2 WHERE id = ?", (site["id"],))[0][0])


async def test_only_roaming_enabled_stations_are_published_and_follow_the_charger(node, api, site):
    await commission(api, site["id"], "CP-ROAM", connectors=2, evse_ids=["FR*CPM*E1*1", "FR*CPM*E1*2"])
    await commission(api, site["id"], "CP-PRIVATE", connectors=1)
    await settled(node)
    organization_id = _organization(site, node)
    assert _read(node, organization_id) == ([], 0)  # nothing opened to roaming yet

    await configure(api, "CP-ROAM", roaming_enabled=True)
    await configure(api, "CP-PRIVATE", roaming_enabled=False)
    await settled(node)
    [published], total = _read(node, organization_id)
    assert total == 1
    location = msgspec.convert(published, Location)  # every field as OCPI 2.2.1 has it
    assert location.id == site["id"]
    assert (location.country, location.time_zone, location.city) == ("FRA", "Europe/Paris", "Paris")
    assert [e.uid for e in location.evses] == ["CP-ROAM*1", "CP-ROAM*2"]
    assert [e.evse_id for e in location.evses] == ["FR*CPM*E1*1", "FR*CPM*E1*2"]
    assert {e.status for e in location.evses} == {"UNKNOWN"}  # never connected
    assert location.last_updated >= max(e.last_updated for e in location.evses)

    async with connected(node, "CP-ROAM") as charger:
        await charger.boot()
        await charger.status(1, "Available")
        await charger.status(2, "Available")
        await settled(node)
        with node.views.read() as tx:
            evse = roaming_locations.evse(tx, organization_id, site["id"], "CP-ROAM*1", **PARTY)
        assert evse is not None and evse["status"] == "AVAILABLE"
        before = evse["last_updated"]

        await asyncio.sleep(0.01)  # so the next change has a later time than the last
        await charger.status(1, "Charging")
        await settled(node)
        with node.views.read() as tx:
            evse = roaming_locations.evse(tx, organization_id, site["id"], "CP-ROAM*1", **PARTY)
            other = roaming_locations.evse(tx, organization_id, site["id"], "CP-ROAM*2", **PARTY)
            plug = roaming_locations.connector(tx, organization_id, site["id"], "CP-ROAM*1", "1", **PARTY)
            private = roaming_locations.evse(tx, organization_id, site["id"], "CP-PRIVATE*1", **PARTY)
        assert evse is not None and evse["status"] == "CHARGING"
        assert evse["last_updated"] > before
        assert other is not None and other["status"] == "AVAILABLE"
        assert plug is not None and plug["standard"] == "IEC_62196_T2"
        assert private is None  # roaming disabled: not an EVSE of any Location

        # A delta pull from just after the first change still sees the Location; one ending before does not.
        [changed], _ = _read(node, organization_id, date_from=parse_iso(before) + timedelta(milliseconds=1))
        assert changed["id"] == site["id"]
        assert _read(node, organization_id, date_to=parse_iso(before) - timedelta(days=1)) == ([], 0)


async def test_date_range_offset_limit_and_total(node, api):
    sites = [await create_site(api, name=f"Site {n}") for n in range(3)]
    for n, site in enumerate(sites):
        await commission(api, site["id"], f"CP-{n}", connectors=1)
        await configure(api, f"CP-{n}", roaming_enabled=True)
    await settled(node)
    organization_id = _organization(sites[0], node)
    every, total = _read(node, organization_id)
    assert total == 3 and [loc["id"] for loc in every] == sorted(s["id"] for s in sites)

    first, total = _read(node, organization_id, offset=0, limit=2)
    rest, total_again = _read(node, organization_id, offset=2, limit=2)
    assert (total, total_again) == (3, 3)
    assert [loc["id"] for loc in first + rest] == [loc["id"] for loc in every]
    assert _read(node, organization_id, offset=5, limit=2) == ([], 3)

    times = sorted(parse_iso(loc["last_updated"]) for loc in every)
    middle = times[1]
    since, since_total = _read(node, organization_id, date_from=middle)  # inclusive
    assert since_total == sum(t >= middle for t in times)
    until, until_total = _read(node, organization_id, date_to=middle)  # exclusive
    assert until_total == sum(t < middle for t in times)
    assert {loc["id"] for loc in since} | {loc["id"] for loc in until} == {loc["id"] for loc in every}
    assert not {loc["id"] for loc in since} & {loc["id"] for loc in until}


async def test_another_organizations_sites_never_appear(node, api, site):
    await commission(api, site["id"], "CP-OURS", connectors=1)
    await configure(api, "CP-OURS", roaming_enabled=True)
    async with await api_client(node, "Rival Charging") as rival:
        theirs = await create_site(rival, name="Rival depot")
        await commission(rival, theirs["id"], "CP-THEIRS", connectors=1)
        await configure(rival, "CP-THEIRS", roaming_enabled=True)
    await settled(node)
    ours, rival_organization = _organization(site, node), _organization(theirs, node)
    locations, total = _read(node, ours)
    assert total == 1 and [loc["id"] for loc in locations] == [site["id"]]
    with node.views.read() as tx:
        assert roaming_locations.location(tx, ours, theirs["id"], **PARTY) is None
        assert roaming_locations.evse(tx, ours, theirs["id"], "CP-THEIRS*1", **PARTY) is None
        assert roaming_locations.location(tx, rival_organization, theirs["id"], **PARTY) is not None
