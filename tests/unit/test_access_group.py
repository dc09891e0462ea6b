"""Access groups and station configuration: what they accept, how cards match, which events they record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cpms.aggregates.access_group import AccessGroup, normalize_uid
from cpms.aggregates.errors import InvalidValue, NotFound
from cpms.aggregates.station import Station

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
LATER = datetime(2024, 5, 1, 12, 5, tzinfo=UTC)


def new_group(name: Any = "Staff") -> AccessGroup:
    return AccessGroup.create("org-1", name, NOW)


def group_with_card(uid: str = "ABCD12", label: str = "Alice") -> AccessGroup:
    group = new_group()
    group.add_card(uid, label, NOW)
    group.collect_events()
    return group


def event_names(aggregate: Any) -> list[str]:
    return [type(event).__name__ for event in aggregate.collect_events()]


def replayed(aggregate: Any) -> Any:
    """The aggregate rebuilt from the events it recorded, as a repository would."""
    copy = None
    for event in aggregate.collect_events():
        copy = event.mutate(copy)
    return copy


# -- uids ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uid", "normalized"),
    [("abcd12", "ABCD12"), ("  AbCd12 ", "ABCD12"), ("04:a2:b3", "04:A2:B3"), ("x" * 36, "X" * 36)],
)
def test_uids_are_trimmed_and_upper_cased(uid: str, normalized: str) -> None:
    assert normalize_uid(uid) == normalized


@pytest.mark.parametrize("uid", ["", "   ", "x" * 37, "AB CD", "caf\u00e9", "tab\there", "nul\x00"])
def test_malformed_uids_are_refused(uid: str) -> None:
    with pytest.raises(InvalidValue, match="uid"):
        normalize_uid(uid)


# -- groups -------------------------------------------------------------------------------------


def test_creating_a_group_records_access_group_created_with_a_trimmed_name() -> None:
    group = new_group("  Staff  ")
    (event,) = group.collect_events()
    assert type(event).__name__ == "AccessGroupCreated"
    assert (event.organization_id, event.name, event.occurred_at) == ("org-1", "Staff", NOW)
    assert (group.organization_id, group.name, group.cards) == ("org-1", "Staff", {})


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_group_needs_a_name_of_1_to_100_characters(name: str) -> None:
    with pytest.raises(InvalidValue, match="name"):
        new_group(name)


def test_a_name_of_100_characters_is_accepted() -> None:
    assert new_group("x" * 100).name == "x" * 100


# -- cards --------------------------------------------------------------------------------------


def test_adding_a_card_records_it_under_its_normalized_uid() -> None:
    group = new_group()
    group.collect_events()
    group.add_card(" abcd12 ", " Alice ", LATER)
    (event,) = group.collect_events()
    assert type(event).__name__ == "CardAddedToGroup"
    assert (event.uid, event.normalized_uid, event.label, event.occurred_at) == (
        "abcd12",
        "ABCD12",
        "Alice",
        LATER,
    )
    assert group.cards == {"ABCD12": {"uid": "abcd12", "label": "Alice"}}


def test_a_card_without_label_gets_an_empty_label() -> None:
    group = new_group()
    group.add_card("ABCD12", None, NOW)
    assert group.find_card("ABCD12") == {"uid": "ABCD12", "label": ""}


def test_adding_the_same_card_again_in_another_case_records_nothing() -> None:
    group = group_with_card("ABCD12", "Alice")
    group.add_card("abcd12", "Alice", LATER)
    assert event_names(group) == []
    assert group.cards == {"ABCD12": {"uid": "ABCD12", "label": "Alice"}}


def test_adding_a_known_card_with_another_label_relabels_it() -> None:
    group = group_with_card("ABCD12", "Alice")
    group.add_card("abcd12", "Alice's van", LATER)
    assert event_names(group) == ["CardAddedToGroup"]
    assert group.cards == {"ABCD12": {"uid": "abcd12", "label": "Alice's van"}}


@pytest.mark.parametrize(("uid", "label"), [("", "x"), ("AB CD", "x"), ("ABCD12", "x" * 101)])
def test_a_malformed_card_is_refused_and_records_nothing(uid: str, label: str) -> None:
    group = new_group()
    group.collect_events()
    with pytest.raises(InvalidValue):
        group.add_card(uid, label, NOW)
    assert event_names(group) == []
    assert group.cards == {}


def test_a_card_is_found_whatever_the_case_the_charger_sends() -> None:
    group = group_with_card("ABCD12", "Alice")
    for id_tag in ("ABCD12", "abcd12", "AbCd12", " abcd12 "):
        assert group.find_card(id_tag) == {"uid": "ABCD12", "label": "Alice"}


@pytest.mark.parametrize("id_tag", ["ABCD13", "", "x" * 40, "AB CD12"])
def test_finding_an_unknown_or_malformed_id_tag_answers_none(id_tag: str) -> None:
    assert group_with_card().find_card(id_tag) is None


def test_a_found_card_is_a_copy_that_cannot_change_the_group() -> None:
    group = group_with_card()
    card = group.find_card("ABCD12")
    assert card is not None
    card["label"] = "changed"
    assert group.cards["ABCD12"]["label"] == "Alice"


def test_removing_a_card_in_another_case_records_card_removed_from_group() -> None:
    group = group_with_card("ABCD12")
    group.remove_card("AbCd12", LATER)
    (event,) = group.collect_events()
    assert type(event).__name__ == "CardRemovedFromGroup"
    assert (event.uid, event.normalized_uid, event.occurred_at) == ("ABCD12", "ABCD12", LATER)
    assert group.cards == {}
    assert group.find_card("ABCD12") is None


def test_removing_an_unknown_card_is_not_found_and_records_nothing() -> None:
    group = group_with_card("ABCD12")
    with pytest.raises(NotFound, match="ABCD13"):
        group.remove_card("ABCD13", LATER)
    assert event_names(group) == []


def test_a_group_replayed_from_its_events_has_the_same_cards() -> None:
    group = new_group()
    group.add_card("AAAA", "A", NOW)
    group.add_card("bbbb", "B", NOW)
    group.add_card("BBBB", "B2", LATER)
    group.remove_card("aaaa", LATER)
    expected = dict(group.cards)
    copy = replayed(group)
    assert (copy.name, copy.organization_id, copy.cards) == ("Staff", "org-1", expected)
    assert copy.cards == {"BBBB": {"uid": "BBBB", "label": "B2"}}


# -- station configuration ----------------------------------------------------------------------


def commissioned() -> Station:
    station = Station.commission(
        ocpp_id="CP-1", organization_id="org-1", site_id="site-1", serial_number="SN-1", occurred_at=NOW
    )
    station.collect_events()
    return station


def test_a_commissioned_station_has_no_groups_roaming_or_scan2pay() -> None:
    station = commissioned()
    assert (station.access_group_ids, station.roaming_enabled, station.scan2pay_enabled) == ([], False, False)


def test_configuring_a_station_records_station_configured_with_each_group_once() -> None:
    station = commissioned()
    station.configure(
        access_group_ids=["g1", "g2", "g1"], roaming_enabled=True, scan2pay_enabled=False, occurred_at=LATER
    )
    (event,) = station.collect_events()
    assert type(event).__name__ == "StationConfigured"
    assert (event.access_group_ids, event.roaming_enabled, event.scan2pay_enabled) == (
        ["g1", "g2"],
        True,
        False,
    )
    assert (station.access_group_ids, station.roaming_enabled, station.scan2pay_enabled) == (
        ["g1", "g2"],
        True,
        False,
    )


def test_configuring_a_station_as_it_is_records_nothing() -> None:
    station = commissioned()
    station.configure(access_group_ids=[], roaming_enabled=False, scan2pay_enabled=False, occurred_at=LATER)
    assert event_names(station) == []
