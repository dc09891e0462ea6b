"""The simulator's own rules: its latency figures, its cards, the identities it commissions, the API
URLs it accepts and a help that says every default."""

from __future__ import annotations

import argparse
import re

import pytest

from cpms.aggregates import station
from cpms.client import ApiError, api_base
from cpms.simulation import cli
from cpms.simulation.charger import Cards
from cpms.simulation.commissioning import card_uids, evse_ids
from cpms.simulation.stats import Latencies, Stats


def test_latency_percentiles_are_within_one_percent() -> None:
    latencies = Latencies()
    for ms in range(1, 1001):
        latencies.record(ms / 1000)
    assert latencies.quantile(0.5) == pytest.approx(0.500, rel=0.01)
    assert latencies.quantile(0.99) == pytest.approx(0.990, rel=0.01)
    assert Latencies().quantile(0.5) == 0.0


def test_a_progress_line_counts_only_its_window() -> None:
    stats = Stats(chargers=2, connected=2)
    for _ in range(100):
        stats.acknowledged(0.200)
    before = stats.snapshot()
    for _ in range(50):
        stats.acknowledged(0.010)
    line = stats.progress(20.0, before, window=10.0)
    assert "2/2 connected; 5 msg/s acked, latency p50 10.0 ms, p99 10.0 ms" in line
    summary = stats.summary(20.0)
    assert "150 messages acked in 20.0 s = 8 msg/s" in summary and "p99 200." in summary


def test_failures_are_named_in_the_summary() -> None:
    stats = Stats(chargers=3, ever_connected=1, failed=2, lost=1)
    stats.not_connected["HTTP 404"] += 2
    assert stats.summary(1.0).endswith(
        "2 calls failed, 2 chargers not connected (2 HTTP 404), 1 connections lost"
    )


def test_commands_answered_are_named_in_the_summary_when_there_were_some() -> None:
    stats = Stats(chargers=1, ever_connected=1)
    assert "commands" not in stats.summary(1.0)  # a load test's line stays as it was
    stats.commands.update({"unlock": 1, "remote start": 2})
    assert "refused; commands answered: 3 (remote start 2, unlock 1); 0 calls failed" in stats.summary(1.0)


def test_cards_are_known_or_unknown_by_the_share_asked() -> None:
    known = card_uids(3)
    assert {Cards(known, 0.0).pick() for _ in range(200)} <= set(known)
    unknown = {Cards(known, 1.0).pick() for _ in range(200)}
    assert not unknown & set(known)
    assert all(re.fullmatch(r"[0-9A-F]{8}", uid) for uid in unknown)


def test_generated_card_uids_are_the_same_on_every_run_and_distinct() -> None:
    assert card_uids(50) == card_uids(50)
    assert len(set(card_uids(50))) == 50
    assert card_uids(2) == card_uids(5)[:2]


def test_evse_ids_follow_the_emi3_form_within_the_stations_limits() -> None:
    assert evse_ids("SIM-0001", 2) == ["FR*SIM*ESIM0001*1", "FR*SIM*ESIM0001*2"]
    longest = evse_ids("x" * 48, station.MAX_CONNECTORS)
    assert max(len(evse_id) for evse_id in longest) <= station.MAX_EVSE_ID_LENGTH
    assert len(set(longest)) == station.MAX_CONNECTORS


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000",
        "http://127.0.0.1:8000/",
        "http://127.0.0.1:8000/api/v1",
        "http://127.0.0.1:8000/api/v1/",
    ],
)
def test_the_api_url_is_the_base_or_the_api_itself(url: str) -> None:
    assert api_base(url) == "http://127.0.0.1:8000/api/v1"


def test_an_api_behind_a_path_keeps_it() -> None:
    assert api_base("https://example.com/cpms/api/v1") == "https://example.com/cpms/api/v1"


@pytest.mark.parametrize(
    "url", ["127.0.0.1:8000", "ws://127.0.0.1:9000", "http://127.0.0.1:8000/sites", "http://h/api/v1?x=1"]
)
def test_another_url_is_refused_saying_what_is_expected(url: str) -> None:
    with pytest.raises(ApiError, match="expected http://HOST:PORT or http://HOST:PORT/api/v1"):
        api_base(url)


def test_every_flag_has_help_showing_its_default() -> None:
    commands = argparse.ArgumentParser(prog="cpms").add_subparsers()
    cli.add_parser(commands)
    simulate = commands.choices["simulate"]
    text = simulate.format_help()
    # Each flag's entry: its line and the help lines indented under it, on one line.
    entries = [" ".join(entry.split()) for entry in re.split(r"\n(?=  -)|\n\n", text)]
    flags = [a for a in simulate._actions if a.option_strings and a.dest != "help"]
    assert len(flags) >= 20
    for action in flags:
        [entry] = [e for e in entries if e.startswith(action.option_strings[0] + " ")]
        assert action.help, action.option_strings
        assert entry.endswith(f"(default: {action.default})"), entry
    assert "progress line" in text and "summary" in text
