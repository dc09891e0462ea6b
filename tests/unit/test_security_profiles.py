"""Security profiles: what commissioning accepts, and which transport and proof each profile needs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cpms.aggregates.errors import InvalidValue
from cpms.aggregates.station import Station
from cpms.gateway.security import common_name, needs_password, transport_refusal

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
PASSWORD = "correct-horse-battery"


def commission(**overrides: Any) -> Station:
    values: dict[str, Any] = {
        "ocpp_id": "CP-1",
        "organization_id": "org-1",
        "site_id": "site-1",
        "serial_number": "SN-1",
        "occurred_at": NOW,
    }
    return Station.commission(**{**values, **overrides})


def refusal(profile: int, *, over_tls: bool, client_cn: str | None = None) -> str | None:
    return transport_refusal(
        profile, ocpp_id="CP-1", serial_number="SN-1", over_tls=over_tls, client_cn=client_cn
    )


# -- commissioning ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "profile"),
    [({}, 0), ({"password": PASSWORD}, 1), ({"password": PASSWORD, "security_profile": 2}, 2)],
    ids=["no-password", "password", "explicit"],
)
def test_the_profile_defaults_from_the_password_and_is_recorded(fields: dict[str, Any], profile: int) -> None:
    station = commission(**fields)
    (event,) = station.collect_events()
    assert station.security_profile == event.security_profile == profile


def test_a_client_certificate_station_is_commissioned_without_a_password() -> None:
    station = commission(security_profile=3)
    assert (station.security_profile, station.password_hash) == (3, None)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"security_profile": 4}, "one of the integers"),
        ({"security_profile": -1}, "one of the integers"),
        ({"security_profile": 1}, "needs a password"),
        ({"security_profile": 2}, "needs a password"),
        ({"security_profile": 3, "password": PASSWORD}, "client certificate and takes no password"),
        ({"security_profile": 0, "password": PASSWORD}, "no authentication and takes no password"),
    ],
)
def test_a_profile_that_does_not_fit_the_password_is_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        commission(**fields)


@pytest.mark.parametrize(("password", "profile"), [(PASSWORD, 1), (None, 0)])
def test_a_station_commissioned_before_profiles_existed_keeps_what_its_password_implied(
    password: str | None, profile: int
) -> None:
    (event,) = commission(password=password).collect_events()
    del event.__dict__["security_profile"]  # as stored before the field existed
    assert event.mutate(None).security_profile == profile  # type: ignore[union-attr]
    snapshot_state = object.__new__(Station)
    snapshot_state.__dict__["password_hash"] = event.password_hash  # type: ignore[attr-defined]
    assert snapshot_state.security_profile == profile


# -- the handshake rule ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("profile", "over_tls", "client_cn", "refused"),
    [
        (0, False, None, None),
        (1, False, None, None),
        (2, True, None, None),
        (3, True, "SN-1", None),
        (0, True, None, "must connect over plain ws"),
        (1, True, None, "must connect over plain ws"),
        (2, False, None, "must connect over wss"),
        (3, False, "SN-1", "must connect over wss"),
        (3, True, None, "presented no client certificate"),
        (3, True, "SN-2", "CN 'SN-2', not its serial number 'SN-1'"),
    ],
)
def test_each_profile_admits_only_its_own_transport_and_proof(
    profile: int, over_tls: bool, client_cn: str | None, refused: str | None
) -> None:
    reason = refusal(profile, over_tls=over_tls, client_cn=client_cn)
    if refused is None:
        assert reason is None
    else:
        assert reason is not None and refused in reason
        assert f"station 'CP-1' uses security profile {profile}" in reason


def test_a_client_certificate_does_not_matter_to_a_basic_auth_station() -> None:
    assert refusal(2, over_tls=True, client_cn="anything") is None


def test_only_the_basic_auth_profiles_need_a_password() -> None:
    assert [needs_password(profile) for profile in range(4)] == [False, True, True, False]


def test_the_common_name_is_read_from_the_certificate_subject() -> None:
    cert = {"subject": ((("countryName", "FR"),), (("organizationName", "Acme"),), (("commonName", "SN-1"),))}
    assert common_name(cert) == "SN-1"


@pytest.mark.parametrize(
    "cert",
    [
        None,
        {},
        {"subject": ((("organizationName", "Acme"),),)},
        {"subject": ((("commonName", "SN-1"),), (("commonName", "SN-2"),))},
    ],
    ids=["none", "unverified", "no-cn", "two-cns"],
)
def test_no_single_common_name_is_none(cert: dict[str, Any] | None) -> None:
    assert common_name(cert) is None
