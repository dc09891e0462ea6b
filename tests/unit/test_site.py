"""Sites: what creating and updating one accepts, and which events it records."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from cpms.aggregates.errors import InvalidValue
from cpms.aggregates.site import Address, AddressChange, Site

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
LATER = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
ADDRESS = Address(street="12 Quai de Valmy", postal_code="75010", city="Paris", country="FR")


def create_site(**overrides: Any) -> Site:
    values: dict[str, Any] = {
        "organization_id": "org-1",
        "name": "Depot",
        "address": ADDRESS,
        "provider": "EDF",
        "occurred_at": NOW,
    }
    values.update(overrides)
    return Site.create(**values)


def event_names(site: Site) -> list[str]:
    return [type(event).__name__ for event in site.collect_events()]


def test_creating_a_site_records_site_created_with_trimmed_values() -> None:
    site = create_site(name="  Depot  ", provider=" EDF ", address=replace(ADDRESS, city=" Paris "))
    assert event_names(site) == ["SiteCreated"]
    assert (site.name, site.provider, site.address) == ("Depot", "EDF", ADDRESS.as_dict())


def test_a_site_without_provider_gets_an_empty_provider() -> None:
    assert create_site(provider=None).provider == ""


@pytest.mark.parametrize("name", ["", "   "])
def test_a_site_needs_a_non_empty_name(name: str) -> None:
    with pytest.raises(InvalidValue, match="name"):
        create_site(name=name)


def test_a_site_name_longer_than_200_characters_is_refused() -> None:
    with pytest.raises(InvalidValue, match="200"):
        create_site(name="x" * 201)


@pytest.mark.parametrize("field", ["street", "postal_code", "city", "country"])
def test_every_field_of_a_site_address_must_be_filled_in(field: str) -> None:
    with pytest.raises(InvalidValue, match=f"address.{field}"):
        create_site(address=replace(ADDRESS, **{field: "  "}))


def test_a_site_address_field_longer_than_200_characters_is_refused() -> None:
    with pytest.raises(InvalidValue, match=r"address\.street must be at most 200"):
        create_site(address=replace(ADDRESS, street="x" * 201))


def test_a_site_provider_longer_than_200_characters_is_refused() -> None:
    with pytest.raises(InvalidValue, match="provider"):
        create_site(provider="x" * 201)


def test_updating_a_site_name_records_site_updated_with_the_change() -> None:
    site = create_site()
    site.collect_events()
    site.update(name="North Depot", occurred_at=LATER)
    events = site.collect_events()
    assert [type(e).__name__ for e in events] == ["SiteUpdated"]
    assert events[0].changes == {"name": "North Depot"}
    assert site.name == "North Depot"


def test_updating_a_site_with_the_same_values_records_nothing() -> None:
    site = create_site()
    site.collect_events()
    site.update(name=" Depot ", provider="EDF", address=AddressChange(city="Paris"), occurred_at=LATER)
    assert site.collect_events() == []


def test_updating_part_of_the_address_keeps_the_other_fields() -> None:
    site = create_site()
    site.collect_events()
    site.update(address=AddressChange(city="Lyon", postal_code="69001"), occurred_at=LATER)
    (event,) = site.collect_events()
    expected = {**ADDRESS.as_dict(), "city": "Lyon", "postal_code": "69001"}
    assert event.changes == {"address": expected}
    assert site.address == expected


def test_a_site_update_records_only_the_fields_that_changed() -> None:
    site = create_site()
    site.collect_events()
    site.update(name="Depot", provider="Engie", occurred_at=LATER)
    (event,) = site.collect_events()
    assert event.changes == {"provider": "Engie"}


def test_an_empty_provider_clears_it() -> None:
    site = create_site()
    site.collect_events()
    site.update(provider="", occurred_at=LATER)
    (event,) = site.collect_events()
    assert event.changes == {"provider": ""}


def test_an_update_breaking_a_rule_records_nothing() -> None:
    site = create_site()
    site.collect_events()
    with pytest.raises(InvalidValue, match=r"address\.city"):
        site.update(name="North Depot", address=AddressChange(city=" "), occurred_at=LATER)
    assert site.collect_events() == []
    assert site.name == "Depot"
