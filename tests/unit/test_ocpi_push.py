"""The push outbox's state machine and the delivery worker's back-off and verdicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from cpms.api.ocpi.push import Backoff, Refused, Retry, _judge
from cpms.projections import roaming_outbox as outbox
from cpms.projections.store import SqliteViewStore

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_the_back_off_doubles_per_partner_up_to_its_cap_and_a_success_clears_it():
    backoff = Backoff(first=1.0, maximum=5.0)
    assert [backoff.failed("a", 100.0) for _ in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert not backoff.due("a", 104.0) and backoff.due("a", 105.0)
    assert backoff.due("b", 100.0)  # another partner is not held back
    assert backoff.next_due(102.0) == 3.0
    backoff.succeeded("a")
    assert backoff.due("a", 100.0) and backoff.next_due(100.0) is None
    assert backoff.failed("a", 0.0) == 1.0


@pytest.fixture
def views(tmp_path):
    store = SqliteViewStore(tmp_path / "views.sqlite")
    with store.transaction() as tx:
        outbox.create_tables(tx)
    yield store
    store.close()


def _enqueue(views, kind: str, version: int, partner: str = "p1") -> None:
    with views.transaction() as tx:
        outbox.enqueue(tx, "org", partner, kind, "s1", version, f"2026-03-02T08:00:0{version}.000Z")


def _claim(views, partner: str = "p1", now: datetime = NOW) -> outbox.Delivery | None:
    with views.transaction() as tx:
        return outbox.claim(tx, partner, now, 30.0)


def test_a_row_is_owed_until_its_latest_version_is_delivered_and_folding_again_owes_nothing(views):
    _enqueue(views, outbox.SESSION, 2)
    _enqueue(views, outbox.SESSION, 1)  # an older change never replaces a newer one
    delivery = _claim(views)
    assert delivery is not None and delivery.version == 2
    assert _claim(views) is None  # leased: another worker does not send it too
    _enqueue(views, outbox.SESSION, 3)  # a change while it was being sent
    with views.transaction() as tx:
        outbox.settle(tx, delivery, "delivered")
        assert outbox.owing_partners(tx) == ["p1"]
    again = _claim(views)
    assert again is not None and again.version == 3
    with views.transaction() as tx:
        outbox.settle(tx, again, "delivered")
    for version in (1, 2, 3):  # a rebuilt projection folds the same changes again
        _enqueue(views, outbox.SESSION, version)
    with views.read() as tx:
        assert outbox.owing_partners(tx) == []
        assert outbox.partner_state(tx, "org") == {"p1": {"pending": 0, "failed": 0, "last_failure": None}}


def test_a_retried_row_counts_its_attempts_and_a_refused_one_is_failed_for_good(views):
    _enqueue(views, outbox.SESSION, 1)
    _enqueue(views, outbox.CDR, 1)
    first = _claim(views)
    assert first is not None and first.kind == outbox.SESSION  # the Session before its CDR
    with views.transaction() as tx:
        outbox.retry_later(tx, first, "HTTP 503")
    retried = _claim(views)
    assert retried is not None and (retried.kind, retried.attempts) == (outbox.SESSION, 1)
    with views.transaction() as tx:
        outbox.settle(tx, retried, "delivered")
    cdr = _claim(views)
    assert cdr is not None and cdr.kind == outbox.CDR
    with views.transaction() as tx:
        outbox.settle(tx, cdr, "failed", error="HTTP 400, OCPI 2001: bad")
    with views.read() as tx:
        state = outbox.partner_state(tx, "org")["p1"]
    assert (state["pending"], state["failed"], state["last_failure"]["message"]) == (
        0,
        1,
        "HTTP 400, OCPI 2001: bad",
    )
    assert _claim(views) is None


def test_a_lease_a_crashed_worker_left_runs_out(views):
    _enqueue(views, outbox.SESSION, 1)
    assert _claim(views) is not None
    assert _claim(views, now=NOW + timedelta(seconds=10)) is None
    assert _claim(views, now=NOW + timedelta(seconds=31)) is not None


def _answer(status: int, body: object) -> httpx.Response:
    return httpx.Response(status, json=body)


@pytest.mark.parametrize(
    ("status", "body", "verdict"),
    [
        (200, {"status_code": 1000}, None),
        (201, {"status_code": 1000}, None),
        (503, {"status_code": 3000}, Retry),
        (502, "not OCPI", Retry),
        (429, {"status_code": 2000}, Retry),
        (200, {"status_code": 3001, "status_message": "busy"}, Retry),
        (400, {"status_code": 2001, "status_message": "bad"}, Refused),
        (200, {"status_code": 2000}, Refused),
        (404, "nothing here", Refused),
    ],
)
def test_an_emsp_answer_is_taken_retried_or_refused(status, body, verdict):
    if verdict is None:
        _judge(_answer(status, body))
    else:
        with pytest.raises(verdict):
            _judge(_answer(status, body))
