"""Sites: what creating and updating one accepts, and which events it records."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from cpms.aggregates.errors import InvalidValue
from cpms.aggregates.site import Address, AddressChange, Coordinates, Site, Tariff

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


# -- coordinates (issue 10) --------------------------------------------------------------------


def test_coordinates_are_kept_as_six_decimal_strings() -> None:
    site = create_site(coordinates=Coordinates(latitude=48.87209, longitude=2.3646812))
    assert site.coordinates == {"latitude": "48.872090", "longitude": "2.364681"}
    assert create_site().coordinates is None


@pytest.mark.parametrize(
    ("latitude", "longitude", "named"),
    [
        (90.000001, 0, "coordinates.latitude"),
        (-91, 0, "coordinates.latitude"),
        (0, 180.5, "coordinates.longitude"),
        (0, -181, "coordinates.longitude"),
        (float("nan"), 0, "coordinates.latitude"),
        (True, 0, "coordinates.latitude"),
    ],
)
def test_coordinates_out_of_range_are_refused(latitude: Any, longitude: Any, named: str) -> None:
    with pytest.raises(InvalidValue, match=named):
        create_site(coordinates=Coordinates(latitude, longitude))


def test_the_extremes_are_coordinates_and_negative_zero_is_zero() -> None:
    site = create_site(coordinates=Coordinates(-90, -0.0))
    assert site.coordinates == {"latitude": "-90.000000", "longitude": "0.000000"}


def test_coordinates_are_set_changed_and_cleared_by_update() -> None:
    site = create_site()
    site.collect_events()
    site.update(coordinates=Coordinates(45.5, 4.25), occurred_at=LATER)
    site.update(coordinates=Coordinates(45.5, 4.25), occurred_at=LATER)  # the same: nothing
    site.update(clear_coordinates=True, occurred_at=LATER)
    assert event_names(site) == ["SiteUpdated", "SiteUpdated"]
    assert site.coordinates is None


# -- tariff (issue 10) -------------------------------------------------------------------------


def tariff(currency: str = "EUR", price: str = "0.35", vat: str = "20") -> Tariff:
    return Tariff(currency, Decimal(price), Decimal(vat))


def test_a_tariff_is_kept_as_exact_decimal_strings() -> None:
    site = create_site()
    site.collect_events()
    site.set_tariff(tariff(price="0.3500", vat="5.5"), occurred_at=LATER)
    assert site.tariff == {"currency": "EUR", "price_per_kwh": "0.35", "vat_percent": "5.5"}
    site.set_tariff(tariff(price="0.35", vat="5.50"), occurred_at=LATER)  # the same tariff
    site.set_tariff(tariff("CHF", "0.1234", "8.1"), occurred_at=LATER)
    assert event_names(site) == ["SiteTariffSet", "SiteTariffSet"]
    assert site.tariff == {"currency": "CHF", "price_per_kwh": "0.1234", "vat_percent": "8.1"}


def test_removing_the_tariff_records_once() -> None:
    site = create_site()
    site.collect_events()
    site.remove_tariff(occurred_at=LATER)  # none yet: nothing
    site.set_tariff(tariff(price="0", vat="0"), occurred_at=LATER)
    site.remove_tariff(occurred_at=LATER)
    site.remove_tariff(occurred_at=LATER)
    assert event_names(site) == ["SiteTariffSet", "SiteTariffRemoved"]
    assert site.tariff is None


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        (tariff(currency="eur"), "currency"),
        (tariff(currency="EURO"), "currency"),
        (tariff(currency="ABC"), "currency"),  # three capitals, but no ISO 4217 code
        (tariff(price="-0.01"), "price_per_kwh"),
        (tariff(price="0.12345"), "price_per_kwh"),
        (Tariff("EUR", Decimal("Infinity"), Decimal(20)), "price_per_kwh"),
        (tariff(vat="100.01"), "vat_percent"),
        (tariff(vat="-1"), "vat_percent"),
        (tariff(vat="19.999"), "vat_percent"),
    ],
)
def test_a_bad_tariff_is_refused_and_records_nothing(bad: Tariff, named: str) -> None:
    site = create_site()
    site.collect_events()
    with pytest.raises(InvalidValue, match=named):
        site.set_tariff(bad, occurred_at=LATER)
    assert event_names(site) == [] and site.tariff is None
