"""The roaming read model: roaming sessions as OCPI Sessions and CDRs, the activity per partner
and day, and the CDR's price in exact decimals."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from cpms.aggregates.authorization import RoamingDecision
from cpms.aggregates.charging_session import ChargingSession
from cpms.aggregates.site import Address, AddressChange, Coordinates, Site, Tariff
from cpms.aggregates.station import Station
from cpms.api.ocpi_models.cdrs import CDR
from cpms.api.ocpi_models.sessions import Session
from cpms.projections import roaming
from cpms.projections.roaming import RoamingProjection, energy_kwh, total_cost
from cpms.projections.sites import SitesProjection
from cpms.projections.store import SqliteViewStore

T0 = datetime(2024, 5, 1, 22, 30, tzinfo=UTC)
ADDRESS = Address(street="12 Quai de Valmy", postal_code="75010", city="Paris", country="FR")
PARTNER, OTHER = "partner-1", "partner-2"


def roaming_auth(uid: str, partner: str = PARTNER, reference: str | None = None) -> dict[str, Any]:
    return {
        "token": uid,
        "status": "Accepted",
        "method": "roaming",
        "card_uid": uid,
        "emsp": {"country_code": "DE", "party_id": "EMS"},
        "partner_id": partner,
        "authorization_reference": reference,
        "token_type": "RFID",
        "contract_id": f"DE-EMS-{uid}",
    }


def energy(at: datetime, wh: float) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": at,
            "measurand": "Energy.Active.Import.Register",
            "value": wh,
            "unit": "Wh",
            "phase": None,
            "location": None,
            "context": None,
        }
    ]


@pytest.fixture
def views(tmp_path: Path) -> Iterator[SqliteViewStore]:
    store = SqliteViewStore(tmp_path / "views.sqlite")
    with store.transaction() as tx:
        RoamingProjection().create_tables(tx)
        SitesProjection().create_tables(tx)
    yield store
    store.close()


class World:
    def __init__(self, views: SqliteViewStore) -> None:
        self.views = views
        self.log: list[Any] = []  # every event folded, in order: the event store's log
        self.site = Site.create(
            organization_id="org",
            name="Valmy",
            address=ADDRESS,
            provider="",
            coordinates=Coordinates(Decimal("48.87209"), Decimal("2.36468")),
            occurred_at=T0,
        )
        self.station = Station.commission(
            ocpp_id="CP-1",
            organization_id="org",
            site_id=str(self.site.id),
            serial_number="S1",
            occurred_at=T0,
        )
        self.fold(self.site, self.station)

    def fold(self, *aggregates: Any) -> None:
        projections = (SitesProjection(), RoamingProjection())
        events = [e for a in aggregates for e in a.collect_events()]
        self.log += events
        with self.views.transaction() as tx:
            for projection in projections:
                for event in events:
                    if isinstance(event, projection.handles):
                        projection.apply(event, tx)

    def start(
        self, tx_id: str, auth: dict[str, Any], at: datetime, meter_wh: float = 1000.0
    ) -> ChargingSession:
        return ChargingSession.start(
            ocpp_id="CP-1",
            transaction_id=tx_id,
            organization_id="org",
            site_id=str(self.site.id),
            connector_id=1,
            evse_id="FR*CPO*E1",
            meter_start_wh=meter_wh,
            started_at=at,
            authorization=auth,
        )

    def decided(self, outcome: str, at: datetime, partner: str = PARTNER) -> None:
        decision = RoamingDecision(partner, "DE", "EMS", "TOK", "RFID", "whitelist", outcome)
        self.station.decide_roaming(decision, occurred_at=at)

    def sessions(self, partner: str = PARTNER, **filters: Any) -> tuple[list[dict[str, Any]], int]:
        with self.views.read() as tx:
            return roaming.ocpi_sessions(tx, "org", partner, **self._paging(filters))

    def cdrs(self, partner: str = PARTNER, **filters: Any) -> tuple[list[dict[str, Any]], int]:
        with self.views.read() as tx:
            return roaming.ocpi_cdrs(tx, "org", partner, **self._paging(filters))

    @staticmethod
    def _paging(filters: dict[str, Any]) -> dict[str, Any]:
        return {
            "country_code": "FR",
            "party_id": "CPO",
            "currency": "EUR",
            "date_from": None,
            "date_to": None,
            "offset": 0,
            "limit": 10,
            **filters,
        }


@pytest.fixture
def world(views: SqliteViewStore) -> World:
    return World(views)


def test_a_roaming_session_is_active_then_completed_with_its_cdr(world: World) -> None:
    session = world.start("1", roaming_auth("TOK", reference="REF-1"), T0)
    world.fold(session)
    (active,), total = world.sessions()
    assert total == 1
    assert msgspec.convert(active, Session).status == "ACTIVE"
    assert active["cdr_token"] == {
        "country_code": "DE",
        "party_id": "EMS",
        "uid": "TOK",
        "type": "RFID",
        "contract_id": "DE-EMS-TOK",
    }
    assert (active["location_id"], active["evse_uid"], active["connector_id"]) == (
        str(world.site.id),
        "CP-1*1",
        "1",
    )
    assert active["auth_method"] == "AUTH_REQUEST" and active["authorization_reference"] == "REF-1"
    assert world.cdrs() == ([], 0)

    session.record_readings(energy(T0 + timedelta(minutes=30), 8500.0))
    world.fold(session)
    assert world.sessions()[0][0]["kwh"] == 7.5

    session.end(meter_stop_wh=13345.6, ended_at=T0 + timedelta(minutes=90), stop_reason="Local", token="TOK")
    world.fold(session)
    (completed,), _ = world.sessions()
    assert completed["status"] == "COMPLETED" and completed["end_date_time"] == "2024-05-02T00:00:00.000Z"
    assert completed["kwh"] == 12.346
    (cdr,), total = world.cdrs()
    msgspec.convert(cdr, CDR)  # the spec's object
    assert total == 1
    assert cdr["total_energy"] == 12.346 and cdr["total_time"] == 1.5 and cdr["total_parking_time"] == 0
    assert cdr["total_cost"] == {"excl_vat": 0.0, "incl_vat": 0.0} and cdr["currency"] == "EUR"
    assert cdr["charging_periods"] == [
        {"start_date_time": "2024-05-01T22:30:00.000Z", "dimensions": [{"type": "ENERGY", "volume": 12.346}]}
    ]
    assert cdr["cdr_location"]["country"] == "FRA"
    assert (cdr["cdr_location"]["address"], cdr["cdr_location"]["city"]) == ("12 Quai de Valmy", "Paris")
    assert cdr["cdr_location"]["evse_id"] == "FR*CPO*E1"


def test_the_tariff_at_the_end_prices_the_cdr_and_later_changes_do_not(world: World) -> None:
    world.site.set_tariff(Tariff("CHF", Decimal("0.35"), Decimal("8.1")), occurred_at=T0)
    session = world.start("1", roaming_auth("TOK"), T0, meter_wh=0)
    world.fold(world.site, session)
    session.end(meter_stop_wh=10_001, ended_at=T0 + timedelta(hours=1), stop_reason=None, token=None)
    world.fold(session)
    before = world.cdrs()[0][0]
    assert before["cdr_location"]["coordinates"] == {"latitude": "48.872090", "longitude": "2.364680"}
    # 10.001 kWh * 0.35 = 3.50035 -> 3.50; incl. 8.1 % VAT: 3.78387835 -> 3.78
    assert before["total_cost"] == {"excl_vat": 3.5, "incl_vat": 3.78} and before["currency"] == "CHF"
    assert before["auth_method"] == "WHITELIST"

    session.record_readings(energy(T0 + timedelta(hours=2), 99_999))  # a late reading
    world.site.set_tariff(Tariff("EUR", Decimal("9"), Decimal("20")), occurred_at=T0 + timedelta(hours=3))
    world.site.update(name="Renamed", address=AddressChange(city="Lyon"), occurred_at=T0 + timedelta(hours=3))
    world.fold(world.site, session)
    assert world.cdrs()[0][0] == before  # issued: a late reading, a new tariff or address move nothing
    msgspec.convert(before, CDR)


def test_a_rebuilt_projection_prices_every_cdr_as_it_was_issued(world: World, tmp_path: Path) -> None:
    """Rebuilt alone from the log (a new version, say), with the sites view long since showing a
    later tariff, each CDR still has the price of the tariff in force when its session ended."""
    world.site.set_tariff(Tariff("CHF", Decimal("0.35"), Decimal("8.1")), occurred_at=T0)
    session = world.start("1", roaming_auth("TOK"), T0, meter_wh=0)
    session.end(meter_stop_wh=10_001, ended_at=T0 + timedelta(hours=1), stop_reason=None, token=None)
    world.fold(world.site, session)
    world.site.set_tariff(Tariff("EUR", Decimal("9"), Decimal("20")), occurred_at=T0 + timedelta(hours=3))
    world.fold(world.site)
    issued = world.cdrs()

    rebuilt = SqliteViewStore(tmp_path / "rebuilt.sqlite")
    projection = RoamingProjection()
    with rebuilt.transaction() as tx:
        projection.create_tables(tx)
        for event in world.log:
            if isinstance(event, projection.handles):
                projection.apply(event, tx)
    with rebuilt.read() as tx:
        assert roaming.ocpi_cdrs(tx, "org", PARTNER, **World._paging({})) == issued
    rebuilt.close()
    assert issued[0][0]["total_cost"] == {"excl_vat": 3.5, "incl_vat": 3.78}


def test_cost_arithmetic_is_decimal_to_the_cent() -> None:
    assert energy_kwh(1000.0, 1000.1) == Decimal("0.000")
    assert energy_kwh(0.1, 0.3) == Decimal("0.000")  # float noise does not leak into kWh
    assert energy_kwh(5000, 4000) == Decimal(0)  # a meter that went back counts nothing
    assert energy_kwh(None, 4000) == Decimal(0)
    assert total_cost(Decimal("3.333"), "0.30", "20") == (Decimal("1.00"), Decimal("1.20"))
    assert total_cost(Decimal("1"), "0.005", "0") == (Decimal("0.01"), Decimal("0.01"))  # half up
    assert total_cost(Decimal("12.5"), "0.29", None) == (Decimal("3.63"), Decimal("3.63"))
    assert total_cost(Decimal("12.5"), None, None) == (Decimal(0), Decimal(0))


def test_only_roaming_sessions_of_the_partner_are_served_paged_by_last_updated(world: World) -> None:
    rfid = {"token": "CARD", "status": "Accepted", "method": "rfid", "card_uid": "CARD"}
    sessions = [world.start(str(i), roaming_auth(f"T{i}"), T0 + timedelta(minutes=i)) for i in range(3)]
    mine_later = world.start("late", {"token": "T9", "status": "Pending"}, T0)
    world.fold(*sessions, world.start("card", rfid, T0), world.start("other", roaming_auth("X", OTHER), T0))
    world.fold(mine_later)
    assert world.sessions()[1] == 3
    time.sleep(0.002)  # last_updated is when an event was recorded, to the millisecond: a later one
    mine_later.authorize(roaming_auth("T9"))  # 2.0.1: the token came after the transaction began
    world.fold(mine_later)

    everything, total = world.sessions()
    assert total == 4 and {s["cdr_token"]["uid"] for s in everything} == {"T0", "T1", "T2", "T9"}
    page, total = world.sessions(offset=1, limit=2)
    assert total == 4 and [s["id"] for s in page] == [s["id"] for s in everything[1:3]]
    assert [s["cdr_token"]["uid"] for s in world.sessions(OTHER)[0]] == ["X"]
    last = everything[-1]["last_updated"]
    assert [s["cdr_token"]["uid"] for s in world.sessions(date_from=datetime.fromisoformat(last))[0]] == [
        "T9"
    ]
    assert world.sessions(date_to=datetime.fromisoformat(everything[0]["last_updated"]))[1] == 0


def test_activity_counts_sessions_by_start_day_and_decisions_by_partner(world: World) -> None:
    late = world.start("1", roaming_auth("A"), T0, meter_wh=0)  # 22:30 UTC on May 1
    late.end(meter_stop_wh=2000, ended_at=T0 + timedelta(hours=3), stop_reason=None, token=None)
    next_day = world.start("2", roaming_auth("B"), T0 + timedelta(hours=2), meter_wh=0)
    other = world.start("3", roaming_auth("C", OTHER), T0, meter_wh=0)
    world.decided("accepted", T0)
    world.decided("rejected", T0)
    world.decided("rejected", T0)
    world.decided("timeout", T0 + timedelta(hours=2))
    world.decided("error", T0 + timedelta(hours=2))
    world.decided("accepted", T0, partner=OTHER)
    world.fold(late, next_day, other, world.station)
    with world.views.read() as tx:
        view = roaming.activity(tx, "org", since=T0 - timedelta(days=1))
        elsewhere = roaming.activity(tx, "another-org", since=T0 - timedelta(days=1))
        recent = roaming.activity(tx, "org", since=T0 + timedelta(hours=2))
    days = {(d["partner_id"], d["day"]): d for d in view["days"]}
    assert days[(PARTNER, "2024-05-01")] == {
        "partner_id": PARTNER,
        "day": "2024-05-01",
        "sessions": 1,
        "energy_wh": 2000.0,
        "accepted": 1,
        "rejected": 2,
        "timed_out": 0,
        "error": 0,
    }
    assert (days[(PARTNER, "2024-05-02")]["sessions"], days[(PARTNER, "2024-05-02")]["timed_out"]) == (1, 1)
    assert days[(PARTNER, "2024-05-02")]["error"] == 1
    assert (days[(OTHER, "2024-05-01")]["sessions"], days[(OTHER, "2024-05-01")]["accepted"]) == (1, 1)
    assert view["sessions"][0]["token_uid"] == "B"  # newest first
    assert {s["token_uid"] for s in view["sessions"]} == {"A", "B", "C"}
    assert view["sessions"][0]["status"] == "ACTIVE"
    assert elsewhere == {"days": [], "sessions": []}
    assert [d["day"] for d in recent["days"]] == ["2024-05-02"]
