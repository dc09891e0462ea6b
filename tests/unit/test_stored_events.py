"""Events stored before the portal's words replaced OCPP's (the token was `id_tag`, the charging
phase `charging_state`, a stop request a `trigger_reason`) load into today's aggregates and fold
into today's read models. The stored states below are what the code of that time wrote."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from eventsourcing.persistence import StoredEvent

from cpms.aggregates.charging_session import Stage, TransactionReport, session_id
from cpms.aggregates.site import Coordinates
from cpms.aggregates.station import station_id
from cpms.infra.eventstore import EventStore, open_event_store
from cpms.infra.settings import Database
from cpms.projections.charge_points import ChargePointsProjection, sheet
from cpms.projections.runner import ProjectionRunner
from cpms.projections.sessions import SessionsProjection, get_session
from cpms.projections.sites import SitesProjection, get_site
from cpms.projections.store import SqliteViewStore

NOW = datetime(2026, 11, 29, tzinfo=UTC)
STATION = "cpms.aggregates.station:Station"
SESSION = "cpms.aggregates.charging_session:ChargingSession"


def at(minute: int) -> dict[str, str]:
    """A datetime as the transcoder stores it."""
    return {"_type_": "datetime_iso", "_data_": f"2026-11-20T08:{minute:02d}:00+00:00"}


def authorization(id_tag: str, status: str, **card: str) -> dict[str, str | None]:
    fields = ("method", "card_uid", "card_label", "access_group_id", "access_group_name")
    return {
        "id_tag": id_tag,
        "status": status,
        **{f: card.get(f) for f in fields},
        "emsp": None,
        "payment_reference": None,
    }


CARD = authorization(
    "A1B2C3D4",
    "Accepted",
    method="rfid",
    card_uid="A1B2C3D4",
    card_label="Bob's badge",
    access_group_id="group-1",
    access_group_name="Staff",
)
STATION_EVENTS = [
    (
        "StationCommissioned",
        {
            "originator_topic": STATION,
            "ocpp_id": "CS-OLD",
            "organization_id": "org",
            "site_id": "site",
            "serial_number": "SN-1",
            "plan": "",
            "connectors": 2,
            "evse_ids": ["FR*OLD*E1*1", "FR*OLD*E1*2"],
            "password_hash": None,
            "occurred_at": at(0),
            "security_profile": 0,
        },
    ),
    ("StationConnected", {"node": "n1", "ocpp_version": "ocpp2.0.1", "occurred_at": at(0)}),
    (
        "StatusNotification",
        {
            "connector_id": 1,
            "ocpp_status": "Occupied",
            "error_code": None,
            "info": None,
            "vendor_error_code": None,
            "occurred_at": at(0),
            "ocpp_connector_id": 1,
        },
    ),
    ("AuthorizationRequested", {"authorization": CARD, "occurred_at": at(0)}),
]
# A 2.0.1 transaction: plugged in, badged, charging, a stop requested, ended.
SESSION_EVENTS_201 = [
    (
        "TransactionStarted",
        {
            "originator_topic": SESSION,
            "ocpp_id": "CS-OLD",
            "transaction_id": "tx-old",
            "organization_id": "org",
            "site_id": "site",
            "connector_id": 1,
            "evse_id": "FR*OLD*E1*1",
            "meter_start_wh": 1000.0,
            "started_at": at(0),
            "authorization": authorization("", "Pending"),
            "ocpp_version": "ocpp2.0.1",
            "seq_no": 0,
            "charging_state": "EVConnected",
        },
    ),
    ("TransactionAuthorized", {"authorization": CARD, "seq_no": 1}),
    (
        "ChargingStateChanged",
        {
            "charging_state": "Charging",
            "trigger_reason": "ChargingStateChanged",
            "occurred_at": at(1),
            "seq_no": 2,
        },
    ),
    (
        "MeterValuesRecorded",
        {
            "samples": [
                {
                    "timestamp": at(30),
                    "measurand": "Energy.Active.Import.Register",
                    "value": 3500.0,
                    "unit": "Wh",
                    "phase": None,
                    "context": None,
                    "location": None,
                }
            ],
            "seq_no": 3,
        },
    ),
    (
        "ChargingStateChanged",
        {
            "charging_state": "Charging",
            "trigger_reason": "StopAuthorized",
            "occurred_at": at(40),
            "seq_no": 4,
        },
    ),
    (
        "TransactionEnded",
        {
            "meter_stop_wh": 4000.0,
            "ended_at": at(41),
            "stop_reason": "EVDisconnected",
            "id_tag": "A1B2C3D4",
            "seq_no": 5,
        },
    ),
]
# A 1.6 transaction as the first sessions were stored: no seq_no, protocol version nor phase.
SESSION_EVENTS_16 = [
    ("TransactionStarted", {"originator_topic": SESSION, "ocpp_id": "CS-OLD", "transaction_id": "7",
                            "organization_id": "org", "site_id": "site", "connector_id": 2,
                            "evse_id": "FR*OLD*E1*2", "meter_start_wh": 0.0, "started_at": at(2),
                            "authorization": CARD}),
    ("TransactionEnded", {"meter_stop_wh": 900.0, "ended_at": at(9), "stop_reason": "Local", "id_tag": None}),
]  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    event_store = open_event_store(Database.from_url(f"sqlite:///{tmp_path}/e.sqlite"))
    _insert(event_store, station_id("CS-OLD"), STATION, STATION_EVENTS)
    _insert(event_store, session_id("CS-OLD", "tx-old"), SESSION, SESSION_EVENTS_201)
    _insert(event_store, session_id("CS-OLD", "7"), SESSION, SESSION_EVENTS_16)
    yield event_store
    event_store.close()


def _insert(store: EventStore, originator_id: UUID, aggregate: str, events: list[tuple[str, Any]]) -> None:
    """Events as the code of that time stored them: no `class_version`, the old names."""
    received = at(0) | {"_data_": "2026-11-20T08:00:01+00:00"}
    store.recorder.insert_events(
        [
            StoredEvent(
                originator_id=originator_id,
                originator_version=version,
                topic=f"{aggregate}.{name}",
                state=orjson.dumps({"timestamp": received, **state}),
            )
            for version, (name, state) in enumerate(events, start=1)
        ]
    )


def test_a_201_session_stored_in_ocpp_words_loads_in_the_portals(store: EventStore) -> None:
    session = store.repository.get(session_id("CS-OLD", "tx-old"))
    assert session.ended and session.charging_phase == "Charging"
    assert session.authorization["token"] == "A1B2C3D4" and "id_tag" not in session.authorization
    events = list(store.events.get(session.id))
    assert events[0].charging_phase == "EVConnected"
    assert [e.stop_requested for e in events if type(e).__name__ == "ChargingStateChanged"] == [False, True]
    assert events[-1].token == "A1B2C3D4"


def test_a_16_session_stored_before_sequence_numbers_and_phases_loads(store: EventStore) -> None:
    session = store.repository.get(session_id("CS-OLD", "7"))
    assert session.ended and session.charging_phase is None and session.seq_nos == []
    assert session.authorization["token"] == "A1B2C3D4"
    assert list(store.events.get(session.id))[-1].token is None


def test_an_authorization_request_stored_with_the_ocpp_name_reads_its_token(store: EventStore) -> None:
    requested = list(store.events.get(station_id("CS-OLD")))[-1]
    assert requested.authorization["token"] == "A1B2C3D4"


def test_a_status_notification_stored_before_the_vendor_was_kept_reads_it_as_unknown(
    store: EventStore, tmp_path: Path
) -> None:
    """Version 2 of StatusNotification keeps whose vendor error code it is (OCPP 1.6 vendorId);
    version 1 (above, as stored then) did not, and upcasts to an unknown vendor."""
    old = next(e for e in store.events.get(station_id("CS-OLD")) if type(e).__name__ == "StatusNotification")
    assert (old.vendor_id, old.vendor_error_code, old.ocpp_status) == (None, None, "Occupied")
    station = store.repository.get(station_id("CS-OLD"))
    station.notify_status(
        connector_id=2,
        ocpp_status="Faulted",
        error_code="GroundFailure",
        info="RCD tripped",
        vendor_error_code="E42",
        vendor_id="Wallbox",
        occurred_at=NOW,
    )
    store.save(station)
    (stored,) = store.recorder.select_notifications(start=store.recorder.max_notification_id(), limit=1)
    assert orjson.loads(stored.state)["class_version"] == 2
    views = SqliteViewStore(tmp_path / "views.sqlite")
    runner = ProjectionRunner(store, views, [ChargePointsProjection()])
    runner.setup()
    runner.catch_up()
    with views.read() as tx:
        rows, _ = sheet(tx, "org", "site", limit=10, cursor=None)
    views.close()
    details = {
        r["connector_id"]: (r["error_code"], r["error_info"], r["vendor_id"], r["vendor_error_code"])
        for r in rows
    }
    assert details == {1: (None, None, None, None), 2: ("GroundFailure", "RCD tripped", "Wallbox", "E42")}


def test_a_retried_report_on_a_session_stored_in_ocpp_words_changes_nothing(store: EventStore) -> None:
    session = store.repository.get(session_id("CS-OLD", "tx-old"))
    session.follow(TransactionReport("tx-old", seq_no=5, stage=Stage.ENDED, occurred_at=NOW), None)
    assert session.collect_events() == []


def test_old_events_fold_into_the_sheet_and_the_sessions_list(store: EventStore, tmp_path: Path) -> None:
    views = SqliteViewStore(tmp_path / "views.sqlite")
    runner = ProjectionRunner(store, views, [ChargePointsProjection(), SessionsProjection()])
    runner.setup()
    runner.catch_up()
    with views.read() as tx:
        rows, _ = sheet(tx, "org", "site", limit=10, cursor=None)
        tx_old = get_session(tx, "org", str(session_id("CS-OLD", "tx-old")), NOW)
        token = tx.execute("SELECT token FROM sessions_v3 WHERE transaction_id = 'tx-old'")
    views.close()
    # Occupied, a stop requested and the transaction ended: Finishing until the cable is out.
    assert {row["connector_id"]: row["status"] for row in rows}[1] == "Finishing"
    assert tx_old is not None and tx_old["energy_wh"] == 3000.0
    assert tx_old["authorization"]["card_label"] == "Bob's badge"
    assert token == [("A1B2C3D4",)]


SITE = "cpms.aggregates.site:Site"
OLD_SITE_ID = UUID("7d3c1a52-0b6e-4f1f-9f8e-2f5a8f0d1c33")
# A site created before sites had coordinates (issue 10), then renamed.
SITE_EVENTS = [
    (
        "SiteCreated",
        {
            "originator_topic": SITE,
            "organization_id": "org",
            "name": "Old depot",
            "address": {"street": "1 rue A", "postal_code": "75010", "city": "Paris", "country": "FR"},
            "provider": "EDF",
            "occurred_at": at(0),
        },
    ),
    ("SiteUpdated", {"changes": {"name": "Depot"}, "occurred_at": at(1)}),
]


def test_a_site_stored_before_coordinates_loads_without_them_and_takes_them_later(
    store: EventStore, tmp_path: Path
) -> None:
    _insert(store, OLD_SITE_ID, SITE, SITE_EVENTS)
    site = store.repository.get(OLD_SITE_ID)
    assert (site.name, site.coordinates, site.tariff) == ("Depot", None, None)
    site.update(coordinates=Coordinates(48.87209, 2.36468), occurred_at=NOW)
    store.save(site)
    views = SqliteViewStore(tmp_path / "views.sqlite")
    runner = ProjectionRunner(store, views, [SitesProjection(), ChargePointsProjection()])
    runner.setup()
    runner.catch_up()
    with views.read() as tx:
        found = get_site(tx, "org", str(OLD_SITE_ID))
    views.close()
    assert found is not None and found["name"] == "Depot" and found["tariff"] is None
    assert found["coordinates"] == {"latitude": "48.872090", "longitude": "2.364680"}
