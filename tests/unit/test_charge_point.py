"""The portal's charge point vocabulary and the site state derived from connected stations."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpms.aggregates.charge_point import (
    IN_USE,
    OCPP16_STATUSES,
    ChargePointStatus,
    SiteState,
    charge_point_status,
    from_ocpp16,
    site_state,
)

S = ChargePointStatus


@pytest.mark.parametrize(
    ("ocpp_status", "portal_status"),
    [
        ("Available", S.AVAILABLE),
        ("Preparing", S.PREPARING),
        ("Charging", S.CHARGING),
        ("SuspendedEV", S.SUSPENDED_EV),
        ("SuspendedEVSE", S.SUSPENDED_EVSE),
        ("Finishing", S.FINISHING),
        ("Reserved", S.RESERVED),
        ("Unavailable", S.NOT_AVAILABLE),
        ("Faulted", S.FAILED),
    ],
)
def test_every_ocpp16_status_maps_to_the_portal_vocabulary(
    ocpp_status: str, portal_status: ChargePointStatus
) -> None:
    assert from_ocpp16(ocpp_status) is portal_status


def test_the_mapping_covers_exactly_the_nine_ocpp16_statuses() -> None:
    assert set(OCPP16_STATUSES) == {
        "Available",
        "Preparing",
        "Charging",
        "SuspendedEV",
        "SuspendedEVSE",
        "Finishing",
        "Reserved",
        "Unavailable",
        "Faulted",
    }


def test_unavailable_reads_as_not_available_and_faulted_as_failed() -> None:
    assert str(from_ocpp16("Unavailable")) == "NotAvailable"
    assert str(from_ocpp16("Faulted")) == "Failed"


@given(st.text().filter(lambda text: text not in OCPP16_STATUSES))
def test_a_status_outside_ocpp16_reads_as_unknown(ocpp_status: str) -> None:
    assert from_ocpp16(ocpp_status) is S.UNKNOWN


def test_a_never_connected_station_shows_unknown_charge_points() -> None:
    status = charge_point_status(ever_connected=False, connected=False, last_ocpp_status=None)
    assert status is S.UNKNOWN


def test_a_never_connected_station_shows_unknown_even_with_a_stale_status() -> None:
    status = charge_point_status(ever_connected=False, connected=False, last_ocpp_status="Charging")
    assert status is S.UNKNOWN


def test_a_station_disconnected_after_being_connected_shows_not_available() -> None:
    status = charge_point_status(ever_connected=True, connected=False, last_ocpp_status="Charging")
    assert status is S.NOT_AVAILABLE


def test_a_disconnected_station_without_any_status_shows_not_available() -> None:
    status = charge_point_status(ever_connected=True, connected=False, last_ocpp_status=None)
    assert status is S.NOT_AVAILABLE


def test_a_connected_station_without_a_status_yet_shows_unknown() -> None:
    status = charge_point_status(ever_connected=True, connected=True, last_ocpp_status=None)
    assert status is S.UNKNOWN


def test_a_connected_station_shows_the_mapped_ocpp_status() -> None:
    status = charge_point_status(ever_connected=True, connected=True, last_ocpp_status="Faulted")
    assert status is S.FAILED


def test_a_site_without_connected_stations_is_unknown() -> None:
    assert site_state([]) is SiteState.UNKNOWN


def test_a_site_whose_charge_points_are_all_in_use_is_under_load() -> None:
    stations = [[S.CHARGING, S.PREPARING], [S.SUSPENDED_EV, S.SUSPENDED_EVSE, S.FINISHING]]
    assert site_state(stations) is SiteState.LOAD


def test_one_available_charge_point_makes_the_site_available() -> None:
    stations = [[S.CHARGING, S.CHARGING], [S.CHARGING, S.AVAILABLE]]
    assert site_state(stations) is SiteState.AVAILABLE


def test_a_site_whose_connected_stations_have_no_status_yet_is_unknown() -> None:
    """Right after boot: connected, but nothing known to be free or in use."""
    assert site_state([[S.UNKNOWN, S.UNKNOWN]]) is SiteState.UNKNOWN
    assert site_state([[S.UNKNOWN], [S.UNKNOWN, S.UNKNOWN]]) is SiteState.UNKNOWN


def test_one_known_status_is_enough_for_the_site_to_be_known() -> None:
    assert site_state([[S.UNKNOWN, S.AVAILABLE]]) is SiteState.AVAILABLE
    assert site_state([[S.UNKNOWN], [S.FAILED]]) is SiteState.AVAILABLE


def test_an_unknown_charge_point_on_a_connected_station_makes_the_site_available() -> None:
    """Not every charge point is known to be in use, so the site is not under load."""
    stations = [[S.CHARGING, S.UNKNOWN]]
    assert site_state(stations) is SiteState.AVAILABLE


def test_reserved_is_not_in_use() -> None:
    assert site_state([[S.RESERVED, S.CHARGING]]) is SiteState.AVAILABLE


stations_strategy = st.lists(st.lists(st.sampled_from(list(S)), min_size=1, max_size=6), max_size=5)


@given(stations_strategy)
def test_a_site_is_under_load_iff_it_has_a_connected_station_and_every_charge_point_is_in_use(
    stations: list[list[ChargePointStatus]],
) -> None:
    every_in_use = all(status in IN_USE for station in stations for status in station)
    assert (site_state(stations) is SiteState.LOAD) == (bool(stations) and every_in_use)


@given(stations_strategy)
def test_a_site_is_unknown_iff_no_connected_station_has_a_charge_point_of_known_status(
    stations: list[list[ChargePointStatus]],
) -> None:
    known = [status for station in stations for status in station if status is not S.UNKNOWN]
    assert (site_state(stations) is SiteState.UNKNOWN) == (not known)
