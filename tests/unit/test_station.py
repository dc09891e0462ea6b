"""Stations: what commissioning accepts, how passwords are kept, and connection events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import pytest

from cpms.aggregates.credentials import verify_password
from cpms.aggregates.errors import InvalidValue
from cpms.aggregates.station import MAX_CONNECTORS_PER_EVSE, Station, station_id

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
LATER = datetime(2024, 5, 1, 12, 5, tzinfo=UTC)


def commission(**overrides: Any) -> Station:
    values: dict[str, Any] = {
        "ocpp_id": "CP-0001",
        "organization_id": "org-1",
        "site_id": "site-1",
        "serial_number": "SN-1",
        "occurred_at": NOW,
    }
    values.update(overrides)
    return Station.commission(**values)


def connected_station() -> Station:
    station = commission()
    station.connect(node="node-a", ocpp_version="ocpp1.6", occurred_at=NOW)
    station.collect_events()
    return station


def test_commissioning_records_station_commissioned_with_defaults() -> None:
    station = commission()
    (event,) = station.collect_events()
    assert type(event).__name__ == "StationCommissioned"
    assert (station.connectors, station.evse_ids, station.plan) == (2, [None, None], "")
    assert station.connected is False
    assert station.password_hash is None


@pytest.mark.parametrize(
    "ocpp_id", ["CP-01", "a", "x" * 48, "Acme.CP_1:A*B+C|D@E-F"], ids=["plain", "1", "48", "symbols"]
)
def test_an_ocpp_id_of_allowed_characters_is_accepted(ocpp_id: str) -> None:
    assert commission(ocpp_id=ocpp_id).ocpp_id == ocpp_id


@pytest.mark.parametrize(
    "ocpp_id",
    ["", "CP/1", "x" * 49, "CP 1", "CP1\n", "CP#1", "ÉCP"],
    ids=["empty", "slash", "49", "space", "newline", "hash", "accent"],
)
def test_an_ocpp_id_outside_the_pattern_is_refused(ocpp_id: str) -> None:
    with pytest.raises(InvalidValue, match="ocpp_id"):
        commission(ocpp_id=ocpp_id)


@pytest.mark.parametrize("connectors", [0, 65, -1])
def test_a_connector_count_outside_1_to_64_is_refused(connectors: int) -> None:
    with pytest.raises(InvalidValue, match="connectors"):
        commission(connectors=connectors)


@pytest.mark.parametrize("connectors", [1, 64])
def test_connector_counts_at_the_bounds_are_accepted(connectors: int) -> None:
    station = commission(connectors=connectors)
    assert station.connectors == connectors
    assert station.evse_ids == [None] * connectors


def test_one_evse_id_per_connector_is_stored() -> None:
    station = commission(connectors=2, evse_ids=["FR*SMA*E1234567*1", "FR*SMA*E1234567*2"])
    assert station.evse_ids == ["FR*SMA*E1234567*1", "FR*SMA*E1234567*2"]


@pytest.mark.parametrize("evse_ids", [["FR*SMA*E1*1"], ["A", "B", "C"], []])
def test_evse_ids_not_matching_the_connector_count_are_refused(evse_ids: list[str]) -> None:
    with pytest.raises(InvalidValue, match="evse_ids"):
        commission(connectors=2, evse_ids=evse_ids)


@pytest.mark.parametrize(
    ("field", "value"),
    [("serial_number", " "), ("serial_number", "x" * 65), ("plan", ""), ("plan", "x" * 101)],
    ids=["blank-serial", "long-serial", "blank-plan", "long-plan"],
)
def test_a_blank_or_overlong_serial_number_or_plan_is_refused(field: str, value: str) -> None:
    with pytest.raises(InvalidValue, match=field):
        commission(**{field: value})


@pytest.mark.parametrize("evse_ids", [["FR*SMA*E1*1", " "], ["FR*SMA*E1*1", "x" * 49]], ids=["blank", "49"])
def test_each_evse_id_is_non_empty_and_at_most_48_characters(evse_ids: list[str]) -> None:
    with pytest.raises(InvalidValue, match="evse_ids"):
        commission(connectors=2, evse_ids=evse_ids)


def test_duplicate_evse_ids_are_refused() -> None:
    with pytest.raises(InvalidValue, match="distinct"):
        commission(connectors=2, evse_ids=["FR*SMA*E1*1", " FR*SMA*E1*1 "])


@pytest.mark.parametrize("length", [15, 41])
def test_a_password_outside_16_to_40_characters_is_refused(length: int) -> None:
    with pytest.raises(InvalidValue, match="password"):
        commission(password="p" * length)


@pytest.mark.parametrize("length", [16, 40])
def test_a_password_is_stored_only_as_a_verifiable_hash(length: int) -> None:
    password = "s3cret-" + "p" * (length - 7)
    station = commission(password=password)
    (event,) = station.collect_events()
    assert station.password_hash is not None
    assert verify_password(password, station.password_hash)
    assert not verify_password(password + "x", station.password_hash)
    assert password not in repr(vars(station))
    assert password not in repr(vars(event))


def test_two_stations_with_the_same_password_get_different_hashes() -> None:
    password = "correct-horse-battery"
    first = commission(ocpp_id="CP-1", password=password)
    second = commission(ocpp_id="CP-2", password=password)
    assert first.password_hash != second.password_hash


def test_a_station_is_addressed_by_the_uuid5_of_its_ocpp_id() -> None:
    namespace = uuid5(NAMESPACE_URL, "cpms:station")
    station = commission(ocpp_id="CP-0001")
    assert station.id == uuid5(namespace, "CP-0001") == station_id("CP-0001")


def test_commissioning_the_same_ocpp_id_twice_yields_the_same_id() -> None:
    assert commission(site_id="site-1").id == commission(site_id="site-2").id
    assert commission(ocpp_id="CP-1").id != commission(ocpp_id="CP-2").id


def test_connecting_records_station_connected_and_the_node() -> None:
    station = commission()
    station.collect_events()
    station.connect(node="node-a", ocpp_version="ocpp1.6", occurred_at=NOW)
    (event,) = station.collect_events()
    assert type(event).__name__ == "StationConnected"
    assert (station.connected, station.connection_node) == (True, "node-a")


def test_connecting_while_connected_records_a_disconnection_first() -> None:
    station = connected_station()
    station.connect(node="node-b", ocpp_version="ocpp1.6", occurred_at=LATER)
    events = station.collect_events()
    assert [type(e).__name__ for e in events] == ["StationDisconnected", "StationConnected"]
    assert events[0].reason == "Replaced by a new connection"
    assert (station.connected, station.connection_node) == (True, "node-b")


def test_disconnecting_a_connected_station_records_station_disconnected() -> None:
    station = connected_station()
    station.disconnect(reason="Connection closed", occurred_at=LATER)
    (event,) = station.collect_events()
    assert type(event).__name__ == "StationDisconnected"
    assert (station.connected, station.connection_node) == (False, None)


def test_disconnecting_a_station_that_is_not_connected_records_nothing() -> None:
    station = commission()
    station.collect_events()
    station.disconnect(reason="Connection closed", occurred_at=LATER)
    assert station.collect_events() == []


def _notify(station: Station, connector_id: int, ocpp_connector_id: int | None = None) -> None:
    station.notify_status(
        connector_id=connector_id,
        ocpp_status="Available",
        error_code="NoError",
        info=None,
        vendor_error_code=None,
        occurred_at=LATER,
        ocpp_connector_id=ocpp_connector_id,
    )


@pytest.mark.parametrize("connector_id", [-1, 3, 7, 2**31, 2**63 - 1])
def test_a_status_notification_beyond_the_commissioned_connectors_is_refused(connector_id: int) -> None:
    station = connected_station()
    with pytest.raises(InvalidValue, match=r"connector .* not commissioned .* \(connectors 0\.\.2, 0 being"):
        _notify(station, connector_id)
    assert station.collect_events() == []


@pytest.mark.parametrize("connector_id", [0, 1, 2])
def test_a_status_notification_of_the_station_or_a_commissioned_connector_is_recorded(
    connector_id: int,
) -> None:
    station = connected_station()
    _notify(station, connector_id)
    (event,) = station.collect_events()
    assert event.connector_id == connector_id


@pytest.mark.parametrize(
    ("within", "accepted"), [(1, True), (MAX_CONNECTORS_PER_EVSE, True), (0, False), (9, False)]
)
def test_a_201_connector_within_an_evse_is_bounded(within: int, accepted: bool) -> None:
    station = connected_station()
    if accepted:
        _notify(station, 1, ocpp_connector_id=within)
        assert len(station.collect_events()) == 1
    else:
        with pytest.raises(InvalidValue, match=f"1..{MAX_CONNECTORS_PER_EVSE} within an EVSE"):
            _notify(station, 1, ocpp_connector_id=within)
        assert station.collect_events() == []


def test_a_transaction_runs_only_on_a_commissioned_connector() -> None:
    station = commission(connectors=2)
    assert [n for n in range(-1, 4) if station.is_commissioned(n)] == [1, 2]
    station.require_connector(2)
    with pytest.raises(InvalidValue, match=r"\(connectors 1\.\.2\)"):
        station.require_connector(0)
    with pytest.raises(InvalidValue, match="connector 3 is not commissioned at station CP-0001"):
        station.require_connector(3)
