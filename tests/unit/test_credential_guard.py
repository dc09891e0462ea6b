"""The credential guard on a fake clock: free failures, back-off growth and cap, what resets it,
per-identity and per-address limits, remembered verifications, and memory that stays bounded."""

from __future__ import annotations

import logging

import pytest

from cpms.gateway.guard import Attempt, CredentialGuard, GuardPolicy, Limited, Undecided, source_key

PASSWORD = "correct-horse-battery"
HASH = "scrypt$00ff$abcd"  # the guard only binds to it; scrypt is the verifier's business


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def guard(clock: Clock, **policy: float) -> CredentialGuard:
    values: dict[str, float] = {"max_failures": 3, "lockout_max": 60, "remember": 600, **policy}
    return CredentialGuard(GuardPolicy(**values), clock=clock)  # type: ignore[arg-type]


def fail(guard: CredentialGuard, ocpp_id: str = "CP-1", source: str = "192.0.2.7") -> None:
    attempt = guard.admit(ocpp_id, source)
    assert isinstance(attempt, Attempt), attempt
    guard.failed(attempt)


def succeed(guard: CredentialGuard, ocpp_id: str = "CP-1", source: str = "192.0.2.7") -> None:
    attempt = guard.admit(ocpp_id, source)
    assert isinstance(attempt, Attempt), attempt
    guard.succeeded(attempt, PASSWORD, HASH)


def test_the_first_failures_are_free_and_the_next_attempt_waits(clock: Clock) -> None:
    g = guard(clock)
    fail(g)
    fail(g)
    assert isinstance(g.admit("CP-1", "192.0.2.7"), Attempt)  # the third try is still free...
    g.abandoned(Attempt("CP-1", "192.0.2.7"))
    fail(g)
    assert g.admit("CP-1", "192.0.2.7") == Limited(retry_after=1)  # ...its failure starts back-off
    assert (g.counters.failed, g.counters.limited) == (3, 1)


def test_each_further_failure_doubles_the_wait_up_to_the_cap(clock: Clock) -> None:
    g = guard(clock, lockout_max=60)
    for _ in range(3):
        fail(g)
    waits = []
    for _ in range(9):
        limited = g.admit("CP-1", "192.0.2.7")
        assert isinstance(limited, Limited)
        waits.append(limited.retry_after)
        clock.advance(limited.retry_after)
        fail(g)
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_refused_attempts_do_not_lengthen_the_wait(clock: Clock) -> None:
    g = guard(clock)
    for _ in range(3):
        fail(g)
    clock.advance(1)
    fail(g)
    assert g.admit("CP-1", "192.0.2.7") == Limited(retry_after=2)
    for _ in range(100):
        g.admit("CP-1", "192.0.2.7")
    clock.advance(2)
    assert isinstance(g.admit("CP-1", "192.0.2.7"), Attempt)


def test_the_policy_backoff_never_overflows() -> None:
    policy = GuardPolicy(max_failures=5, lockout_max=300)
    assert [policy.backoff(n) for n in (1, 4, 5, 6, 7)] == [0, 0, 1, 2, 4]
    assert policy.backoff(10**6) == 300


def test_guesses_under_way_count_before_their_outcome_lands(clock: Clock) -> None:
    g = guard(clock)
    attempts = [g.admit("CP-1", "192.0.2.7") for _ in range(3)]
    assert all(isinstance(a, Attempt) for a in attempts)
    # 50 concurrent guesses must not all reach scrypt before the first failure is recorded.
    assert g.admit("CP-1", "192.0.2.7") == Undecided()
    assert g.admit("CP-1", "198.51.100.1") == Undecided()  # the identity is saturated
    assert g.admit("CP-2", "192.0.2.7") == Undecided()  # and the address
    for attempt in attempts:
        assert isinstance(attempt, Attempt)
        g.failed(attempt)
    assert g.admit("CP-1", "192.0.2.7") == Limited(retry_after=1)
    assert g.counters.admitted == 3


def test_once_limited_only_one_guess_at_a_time_is_admitted(clock: Clock) -> None:
    g = guard(clock)
    for _ in range(3):
        fail(g)
    clock.advance(1)
    assert isinstance(g.admit("CP-1", "192.0.2.7"), Attempt)
    assert g.admit("CP-1", "192.0.2.7") == Undecided()


def test_honest_stations_reconnecting_together_from_one_address_all_get_in(clock: Clock) -> None:
    """A site's chargers behind one NAT after a restart: admitted as outcomes land, none refused."""
    g = guard(clock)
    waiting = [f"CP-{n}" for n in range(20)]
    under_way: list[Attempt] = []
    while waiting or under_way:
        while waiting and isinstance(attempt := g.admit(waiting[0], "192.0.2.7"), Attempt):
            under_way.append(attempt)
            waiting.pop(0)
        assert waiting == [] or g.admit(waiting[0], "192.0.2.7") == Undecided()
        g.succeeded(under_way.pop(0), PASSWORD, HASH)
    assert (g.counters.succeeded, g.counters.limited) == (20, 0)
    assert g.remembers("CP-19", PASSWORD, HASH)


def test_an_abandoned_attempt_frees_its_place_and_counts_no_failure(clock: Clock) -> None:
    g = guard(clock)
    attempts = [g.admit("CP-1", "192.0.2.7") for _ in range(3)]
    for attempt in attempts:
        assert isinstance(attempt, Attempt)
        g.abandoned(attempt)
    fail(g)
    fail(g)
    assert isinstance(g.admit("CP-1", "192.0.2.7"), Attempt)
    assert g.tracked() == 2  # the identity and the address, two failures each


def test_a_success_starts_the_station_count_again(clock: Clock) -> None:
    g = guard(clock)
    fail(g)
    fail(g)
    succeed(g, source="198.51.100.1")
    fail(g, source="198.51.100.2")
    fail(g, source="198.51.100.3")
    assert isinstance(g.admit("CP-1", "198.51.100.4"), Attempt)


def test_a_success_does_not_wash_the_source_address_clean(clock: Clock) -> None:
    """An attacker owning one station must not reset its address between guesses at others."""
    g = guard(clock)
    fail(g, "CP-1")
    fail(g, "CP-2")
    succeed(g, "CP-OWN")
    fail(g, "CP-3")
    assert g.admit("CP-4", "192.0.2.7") == Limited(retry_after=1)


def test_failures_are_forgotten_after_a_quiet_period(clock: Clock) -> None:
    g = guard(clock, lockout_max=60)
    for _ in range(3):
        fail(g)
    clock.advance(1 + 59.5)  # the window ends, then not quite a quiet period
    assert isinstance(g.admit("CP-1", "192.0.2.7"), Attempt)
    g.abandoned(Attempt("CP-1", "192.0.2.7"))
    fail(g)  # the fourth failure in a row: 2 s
    clock.advance(2 + 60)
    fail(g)
    fail(g)
    assert isinstance(g.admit("CP-1", "192.0.2.7"), Attempt)  # counting from zero again
    assert g.tracked() == 2


def test_failures_below_the_limit_are_forgotten_after_a_quiet_period(clock: Clock) -> None:
    g = guard(clock, lockout_max=60)
    fail(g)
    fail(g)
    clock.advance(59)
    fail(g)
    assert isinstance(g.admit("CP-1", "192.0.2.7"), Limited)  # not quiet for long enough
    clock.advance(1 + 60)
    fail(g)
    fail(g)
    assert isinstance(g.admit("CP-1", "192.0.2.7"), Attempt)


def test_one_address_guessing_at_many_stations_is_limited(clock: Clock) -> None:
    g = guard(clock)
    for n in range(3):
        fail(g, f"CP-{n}", "192.0.2.7")
    assert g.admit("CP-99", "192.0.2.7") == Limited(retry_after=1)
    assert isinstance(g.admit("CP-0", "203.0.113.5"), Attempt)  # each station failed only once


def test_many_addresses_guessing_at_one_station_are_limited(clock: Clock) -> None:
    g = guard(clock)
    for n in range(3):
        fail(g, "CP-1", f"198.51.100.{n}")
    assert g.admit("CP-1", "203.0.113.5") == Limited(retry_after=1)
    assert isinstance(g.admit("CP-2", "198.51.100.0"), Attempt)


def test_a_remembered_password_gets_in_while_its_station_is_limited(clock: Clock) -> None:
    g = guard(clock)
    succeed(g, "CP-1", "192.0.2.7")
    for n in range(3):
        fail(g, "CP-1", f"198.51.100.{n}")
    assert isinstance(g.admit("CP-1", "192.0.2.7"), Limited)
    assert g.remembers("CP-1", PASSWORD, HASH)
    assert g.counters.remembered == 1
    # Letting the honest station in resets nothing: the attacker's guesses stay limited.
    assert isinstance(g.admit("CP-1", "198.51.100.0"), Limited)


def test_only_the_same_password_against_the_same_stored_hash_is_remembered(clock: Clock) -> None:
    g = guard(clock)
    assert not g.remembers("CP-1", PASSWORD, HASH)
    succeed(g)
    assert not g.remembers("CP-1", PASSWORD + "x", HASH)
    assert not g.remembers("CP-1", PASSWORD, "scrypt$0100$abcd")  # the password was changed
    assert not g.remembers("CP-2", PASSWORD, HASH)
    assert g.remembers("CP-1", PASSWORD, HASH)


def test_a_verification_is_remembered_for_its_window_only(clock: Clock) -> None:
    g = guard(clock, remember=600)
    succeed(g)
    clock.advance(599)
    assert g.remembers("CP-1", PASSWORD, HASH)  # a hit does not extend the window
    clock.advance(1)
    assert not g.remembers("CP-1", PASSWORD, HASH)


def test_remembering_can_be_turned_off(clock: Clock) -> None:
    g = guard(clock, remember=0)
    succeed(g)
    assert not g.remembers("CP-1", PASSWORD, HASH)
    assert g.tracked() == 0


def test_no_password_is_kept_in_memory(clock: Clock) -> None:
    g = guard(clock)
    succeed(g)
    held = repr(vars(g))
    assert PASSWORD not in held and PASSWORD.encode().hex() not in held


def test_memory_stays_bounded_whatever_is_sent(clock: Clock) -> None:
    g = CredentialGuard(GuardPolicy(max_failures=3), clock=clock, capacity=100, remember_capacity=50)
    for n in range(5000):
        fail(g, f"CP-{n}", f"10.{n // 256 % 256}.{n % 256}.1")
    for n in range(500):
        succeed(g, f"OK-{n}", "192.0.2.200")
    assert g.tracked() <= 100 + 100 + 50


def test_a_key_under_attack_outlives_quiet_ones_when_the_table_is_full(clock: Clock) -> None:
    g = CredentialGuard(GuardPolicy(max_failures=3), clock=clock, capacity=100)
    for _ in range(3):
        fail(g, "CP-1", "192.0.2.7")
    for n in range(1000):
        fail(g, f"CP-{n + 2}", f"10.0.{n // 256}.{n % 256}")
        g.admit("CP-1", "192.0.2.7")  # still guessing: refused, and kept
    assert g.admit("CP-1", "192.0.2.7") == Limited(retry_after=1)


def test_a_key_becoming_limited_is_logged_once_per_window(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    g = guard(clock)
    with caplog.at_level(logging.INFO, logger="cpms.gateway.guard"):
        for _ in range(3):
            fail(g)
        for _ in range(50):
            g.admit("CP-1", "192.0.2.7")
        clock.advance(1)
        fail(g)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "basic-auth guessing: station 'CP-1' limited after 3 failed attempts; refused with 429"
        " for 1 s, doubling with each further failure up to 60 s",
        "basic-auth guessing: source address '192.0.2.7' limited after 3 failed attempts; refused"
        " with 429 for 1 s, doubling with each further failure up to 60 s",
    ]
    assert len([r for r in caplog.records if r.levelno == logging.INFO]) == 2  # the 2 s windows


@pytest.mark.parametrize(
    ("remote_address", "key"),
    [
        (("192.0.2.7", 51234), "192.0.2.7"),
        (("2001:db8:1:2:aaaa::1", 51234, 0, 0), "2001:db8:1:2::/64"),
        (("2001:db8:1:2:bbbb::9", 443, 0, 0), "2001:db8:1:2::/64"),
        (("fe80::1%eth0", 51234, 0, 2), "fe80::/64"),
        (("::ffff:192.0.2.7", 51234, 0, 0), "192.0.2.7"),
        (None, "unknown"),
        ("/run/cpms.sock", "/run/cpms.sock"),
    ],
    ids=["ipv4", "ipv6", "same-ipv6-64", "zone-id", "ipv4-mapped", "none", "unix-socket"],
)
def test_a_source_is_an_ipv4_address_or_an_ipv6_64(remote_address: object, key: str) -> None:
    assert source_key(remote_address) == key


@pytest.mark.parametrize("policy", [{"max_failures": 0}, {"lockout_max": 0}, {"remember": -1}])
def test_an_unusable_policy_is_refused(policy: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        GuardPolicy(**policy)  # type: ignore[arg-type]
