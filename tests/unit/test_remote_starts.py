"""A station's remote starts: which transaction answers one, for how long, and Scan2Pay's rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cpms.aggregates.errors import Conflict, InvalidValue
from cpms.aggregates.station import Scan2PayPayment, Station

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
WINDOW = timedelta(seconds=180)


def station(scan2pay: bool = False) -> Station:
    built = Station.commission(
        ocpp_id="CP-1", organization_id="org-1", site_id="site-1", serial_number="SN-1", occurred_at=NOW
    )
    built.configure(access_group_ids=[], roaming_enabled=False, scan2pay_enabled=scan2pay, occurred_at=NOW)
    return built


def start(built: Station, command_id: str = "c-1", connector_id: int = 1, **extra: Any) -> int:
    return built.request_remote_start(
        command_id=command_id,
        connector_id=connector_id,
        id_tag=extra.pop("id_tag", "04A1B2C3"),
        requested_by="org-1",
        client="curl/8",
        expires_at=NOW + WINDOW,
        occurred_at=NOW,
        **extra,
    )


def test_a_transaction_on_the_same_charge_point_with_the_token_answers_the_remote_start() -> None:
    built = station()
    assert start(built) == 1
    pending = built.remote_start_for(1, "04a1b2c3", None, NOW + timedelta(seconds=30))
    assert pending is not None and pending.command_id == "c-1"
    assert built.remote_start_for(2, "04A1B2C3", None, NOW) is None  # another charge point
    assert built.remote_start_for(1, "0BADCAFE", None, NOW) is None  # another token
    assert built.remote_start_for(1, None, 1, NOW) is not None  # 2.0.1 names it by remoteStartId
    assert built.remote_start_for(1, "04A1B2C3", None, NOW + WINDOW + timedelta(seconds=1)) is None


def test_a_remote_start_is_used_once_and_each_gets_its_own_remote_start_id() -> None:
    built = station()
    start(built)
    pending = built.remote_start_for(1, "04A1B2C3", None, NOW)
    assert pending is not None
    built.take_remote_start(pending, transaction_id="7", occurred_at=NOW)
    assert built.remote_start_for(1, "04A1B2C3", None, NOW) is None
    assert start(built, command_id="c-2") == 2


def test_a_refused_or_undelivered_start_begins_nothing_but_one_timed_out_may() -> None:
    built = station()
    start(built, command_id="c-1", connector_id=1)
    start(built, command_id="c-2", connector_id=2)
    built.record_answer(
        command_id="c-1", outcome="rejected", charger_status="Rejected", detail=None, occurred_at=NOW
    )
    built.record_answer(
        command_id="c-2", outcome="timeout", charger_status=None, detail="late", occurred_at=NOW
    )
    assert built.remote_start_for(1, "04A1B2C3", None, NOW) is None
    assert built.remote_start_for(2, "04A1B2C3", None, NOW) is not None
    with pytest.raises(InvalidValue, match="unknown command outcome"):
        built.record_answer(
            command_id="c-2", outcome="maybe", charger_status=None, detail=None, occurred_at=NOW
        )


def test_scan2pay_needs_it_enabled_and_its_token_is_awaited_without_naming_a_charge_point() -> None:
    payment = Scan2PayPayment("pi_1", "12.50", "EUR")
    with pytest.raises(Conflict, match="Scan2Pay is not enabled"):
        start(station(scan2pay=False), id_tag="S2P0123456789ABCDEF", scan2pay=payment)
    built = station(scan2pay=True)
    start(built, id_tag="S2P0123456789ABCDEF", scan2pay=payment)
    (*_, requested) = built.collect_events()
    assert (requested.payment_reference, requested.amount, requested.currency) == ("pi_1", "12.5", "EUR")
    awaited = built.awaited_scan2pay("s2p0123456789abcdef", NOW)
    assert awaited is not None and awaited.scan2pay == {
        "payment_reference": "pi_1",
        "amount": "12.5",
        "currency": "EUR",
    }
    assert built.awaited_scan2pay("S2P0123456789ABCDEF", NOW + WINDOW * 2) is None


@pytest.mark.parametrize(
    ("payment", "error"),
    [
        (Scan2PayPayment(" "), "payment_reference must be a non-empty string"),
        (Scan2PayPayment("pi", "10"), "amount and currency go together"),
        (Scan2PayPayment("pi", "-1", "EUR"), "amount must be 0 or more"),
        (Scan2PayPayment("pi", "1.00001", "EUR"), "at most 4 decimals"),
        (Scan2PayPayment("pi", "ten", "EUR"), "amount must be a decimal number"),
        (Scan2PayPayment("pi", "10", "EURO"), "ISO 4217"),
    ],
)
def test_a_scan2pay_payment_is_checked(payment: Scan2PayPayment, error: str) -> None:
    with pytest.raises(InvalidValue, match=error):
        start(station(scan2pay=True), id_tag="S2P0123456789ABCDEF", scan2pay=payment)


def test_a_remote_start_needs_a_commissioned_charge_point_and_a_token_chargers_accept() -> None:
    with pytest.raises(InvalidValue, match="connector 3 is not commissioned"):
        start(station(), connector_id=3)
    with pytest.raises(InvalidValue, match="id_tag must be 1 to 20"):
        start(station(), id_tag="X" * 21)
