"""How a charge point reads to a roaming partner: its OCPI EVSE status, uid and time zone."""

from __future__ import annotations

import pytest

from cpms.aggregates.charge_point import ChargePointStatus
from cpms.api.ocpi_models.locations import Status
from cpms.projections.roaming_locations import evse_status, evse_uid, time_zone

EXPECTED = {
    ChargePointStatus.AVAILABLE: Status.AVAILABLE,
    ChargePointStatus.PREPARING: Status.CHARGING,
    ChargePointStatus.CHARGING: Status.CHARGING,
    ChargePointStatus.SUSPENDED_EV: Status.CHARGING,
    ChargePointStatus.SUSPENDED_EVSE: Status.CHARGING,
    ChargePointStatus.FINISHING: Status.CHARGING,
    ChargePointStatus.RESERVED: Status.RESERVED,
    ChargePointStatus.FAILED: Status.OUTOFORDER,
    ChargePointStatus.NOT_AVAILABLE: Status.INOPERATIVE,
    ChargePointStatus.UNKNOWN: Status.UNKNOWN,
}


def test_every_portal_status_has_its_expectation() -> None:
    assert set(EXPECTED) == set(ChargePointStatus)


@pytest.mark.parametrize("status", list(ChargePointStatus))
def test_a_connected_stations_charge_point_maps_to_an_ocpi_status(status: ChargePointStatus) -> None:
    assert evse_status(status, connected=True) == EXPECTED[status]


@pytest.mark.parametrize("status", list(ChargePointStatus))
def test_an_offline_station_reads_unknown_whatever_it_said_last(status: ChargePointStatus) -> None:
    assert evse_status(status, connected=False) == Status.UNKNOWN


def test_evse_uids_are_stable_distinct_and_fit_ocpi() -> None:
    assert evse_uid("CP-1", 2) == "CP-1*2"
    long_id = "X" * 48
    assert len(evse_uid(long_id, 1)) == 36
    assert evse_uid(long_id, 1) == evse_uid(long_id, 1)
    assert evse_uid(long_id, 1) != evse_uid(long_id, 2)


def test_time_zone_follows_the_country() -> None:
    assert time_zone("FR") == "Europe/Paris"
    assert time_zone("de") == "Europe/Berlin"
    assert time_zone("ZZ") == "UTC"
