"""The roaming partner's life: registered with token A, credentials exchanged for C, rotated, gone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cpms.aggregates.errors import Conflict, InvalidValue
from cpms.aggregates.roaming import REGISTERED, UNREGISTERED, RoamingPartner

NOW = datetime(2026, 3, 2, 8, tzinfo=UTC)
ENDPOINTS = {"tokens|SENDER": "https://emsp.example/ocpi/2.2.1/tokens"}


def partner() -> RoamingPartner:
    return RoamingPartner.register("org", "fr", "abc", " Roam ", "digest-a", NOW)


def test_token_a_works_until_the_credentials_are_exchanged_then_only_c_does():
    p = partner()
    assert (p.country_code, p.party_id, p.name, p.state) == ("FR", "ABC", "Roam", "pending")
    assert p.accepts("digest-a") == "A"
    p.exchange_credentials(
        "B-token", "https://emsp.example/versions", ENDPOINTS, "digest-c", "FR", "ABC", NOW
    )
    assert p.state == REGISTERED
    assert p.accepts("digest-a") is None
    assert p.accepts("digest-c") == "C"
    assert p.token_b == "B-token"
    assert p.endpoint("tokens", "SENDER") == ENDPOINTS["tokens|SENDER"]
    assert p.endpoint("tokens", "RECEIVER") is None
    assert p.realtime_authorization


def test_credentials_of_another_party_are_refused():
    p = partner()
    with pytest.raises(InvalidValue, match="EMSP role FR/ABC"):
        p.exchange_credentials("B", "https://e/versions", {}, "digest-c", "DE", "ABC", NOW)
    assert p.state == "pending"


def test_rotation_replaces_c_and_unregistering_revokes_it():
    p = partner()
    p.exchange_credentials("B", "https://e/versions", {}, "digest-c", "FR", "ABC", NOW)
    assert not p.realtime_authorization
    p.update_credentials("B2", "https://e/versions", ENDPOINTS, "digest-c2", "FR", "ABC", NOW)
    assert p.accepts("digest-c") is None and p.accepts("digest-c2") == "C"
    assert p.token_b == "B2"
    p.unregister(NOW)
    assert p.state == UNREGISTERED and p.accepts("digest-c2") is None
    with pytest.raises(Conflict):
        p.unregister(NOW)


@pytest.mark.parametrize(
    ("country", "party"), [("XX", "ABC"), ("FR", "AB"), ("FR", "AB-"), ("France", "ABC")]
)
def test_a_party_is_an_iso_country_and_three_letters_or_digits(country, party):
    with pytest.raises(InvalidValue):
        RoamingPartner.register("org", country, party, "Roam", "d", NOW)
