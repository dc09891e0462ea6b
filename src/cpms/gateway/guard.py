"""Bounds on basic-auth guessing: failed attempts are limited per station identity and per source
address, and a recently verified password is let in again without running scrypt.

Pure logic on an injectable clock, so every rule is unit-tested; the gateway asks the guard
before it hands a password to the verifier (`verifier.py`) and tells it the outcome.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

FIRST_BACKOFF = 1.0  # seconds refused after the last free failure; doubles with each further one
FAILURE_CAPACITY = 10_000  # records per table (identities, addresses): ~2 MB each at worst
REMEMBER_CAPACITY = 50_000  # remembered verifications: at most one per station


@dataclass(frozen=True)
class GuardPolicy:
    """`max_failures` failed attempts of a key cost nothing; from then on each failure refuses the
    key for twice as long as the one before (1 s, 2 s, 4 s ...) up to `lockout_max` seconds.
    A key's failures are forgotten `lockout_max` seconds after its last refusal window ends, or
    (for a station identity) at its next successful verification. `remember` is how long a
    verified password is let in again without scrypt; 0 turns that off."""

    max_failures: int = 5
    lockout_max: float = 300.0
    remember: float = 600.0

    def __post_init__(self) -> None:
        if self.max_failures < 1 or self.lockout_max <= 0 or self.remember < 0:
            raise ValueError(f"unusable guard policy {self}")

    def backoff(self, failures: int) -> float:
        """Seconds a key is refused after its `failures`-th failure in a row."""
        if failures < self.max_failures:
            return 0.0
        doublings = min(failures - self.max_failures, 64)  # 2.0 ** 1100 would overflow
        return min(self.lockout_max, FIRST_BACKOFF * 2.0**doublings)


@dataclass(frozen=True)
class Attempt:
    """A verification the guard admitted; report its outcome exactly once."""

    ocpp_id: str
    source: str


@dataclass(frozen=True)
class Limited:
    """Refused before any verification; `retry_after` is whole seconds, for the HTTP header."""

    retry_after: int


@dataclass(frozen=True)
class Undecided:
    """Attempts of this key are under way and their outcomes decide whether another may be
    verified: ask again when one of them is reported. Refusing instead would turn away honest
    stations reconnecting together from behind one address (a site's NAT, after a restart)."""


@dataclass
class GuardCounters:
    remembered: int = 0  # let in on a remembered verification, no scrypt
    admitted: int = 0  # handed to the verifier
    limited: int = 0  # refused without scrypt
    failed: int = 0
    succeeded: int = 0


@dataclass
class _Record:
    failures: int = 0
    pending: int = 0  # admitted, outcome not known yet
    blocked_until: float = 0.0

    def wait(self, now: float) -> float:
        """Seconds this key is refused for (0: not refused)."""
        return max(0.0, self.blocked_until - now)

    def saturated(self, policy: GuardPolicy) -> bool:
        # Outcomes arrive a verification later than the attempts: without counting those under
        # way, 50 concurrent guesses would all pass the check before the first failure lands.
        # Once limited, one guess at a time.
        return self.pending >= max(1, policy.max_failures - self.failures)

    def forgotten(self, now: float, policy: GuardPolicy) -> bool:
        return self.pending == 0 and now >= self.blocked_until + policy.lockout_max


class _Failures:
    """Failure records of one kind of key, least recently touched first, at most `capacity`."""

    def __init__(self, kind: str, policy: GuardPolicy, capacity: int) -> None:
        self.kind = kind
        self._policy = policy
        self._capacity = capacity
        self._records: OrderedDict[str, _Record] = OrderedDict()

    def __len__(self) -> int:
        return len(self._records)

    def get(self, key: str, now: float) -> _Record | None:
        record = self._records.get(key)
        if record is None:
            return None
        if record.forgotten(now, self._policy):
            del self._records[key]
            return None
        self._records.move_to_end(key)  # a key under attack stays; the quiet ones go first
        return record

    def touch(self, key: str, now: float) -> _Record:
        record = self.get(key, now)
        if record is None:
            self._sweep(now)
            record = self._records[key] = _Record()
        return record

    def drop_if_clean(self, key: str) -> None:
        record = self._records.get(key)
        if record is not None and record.failures == 0 and record.pending == 0:
            del self._records[key]

    def _sweep(self, now: float) -> None:
        """Forget quiet records from the old end; beyond capacity, the least recently touched
        go even if limited: memory stays bounded whatever an attacker sends."""
        while self._records:
            key, oldest = next(iter(self._records.items()))
            if not oldest.forgotten(now, self._policy) and len(self._records) < self._capacity:
                return
            del self._records[key]


class CredentialGuard:
    """Ask `remembers`, then `admit` (again after the next outcome, while it is `Undecided`);
    report an admitted attempt's outcome with `succeeded`, `failed` or `abandoned` (no outcome:
    the verifier was busy or the handshake went away)."""

    def __init__(
        self,
        policy: GuardPolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        capacity: int = FAILURE_CAPACITY,
        remember_capacity: int = REMEMBER_CAPACITY,
    ) -> None:
        self.policy = policy or GuardPolicy()
        self.counters = GuardCounters()
        self._clock = clock
        self._identities = _Failures("station", self.policy, capacity)
        self._sources = _Failures("source address", self.policy, capacity)
        # Per process and never stored: a memory dump of the remembered MACs is no table of
        # password hashes anyone can use elsewhere, and a restart forgets them all.
        self._key = secrets.token_bytes(32)
        self._remembered: OrderedDict[str, tuple[bytes, float]] = OrderedDict()  # by expiry
        self._remember_capacity = remember_capacity

    def remembers(self, ocpp_id: str, password: str, password_hash: str) -> bool:
        """Whether this password was verified for this station within `policy.remember`. Asked
        before the limits, so an honest station whose identity is under attack from elsewhere
        still gets in; it resets no failure count, or the attacker's guesses would start free."""
        entry = self._remembered.get(ocpp_id)
        if entry is None:
            return False
        mac, expires = entry
        if self._clock() >= expires:
            del self._remembered[ocpp_id]
            return False
        if not hmac.compare_digest(mac, self._mac(password, password_hash)):
            return False
        self.counters.remembered += 1
        return True

    def admit(self, ocpp_id: str, source: str) -> Attempt | Limited | Undecided:
        """Whether a password for `ocpp_id` from `source` may be verified now."""
        now = self._clock()
        found = (table.get(key, now) for table, key in self._keys(ocpp_id, source))
        records = [record for record in found if record is not None]
        wait = max((record.wait(now) for record in records), default=0.0)
        if wait > 0:
            self.counters.limited += 1
            return Limited(retry_after=max(1, math.ceil(wait)))
        if any(record.saturated(self.policy) for record in records):
            return Undecided()
        for table, key in self._keys(ocpp_id, source):
            table.touch(key, now).pending += 1
        self.counters.admitted += 1
        return Attempt(ocpp_id, source)

    def succeeded(self, attempt: Attempt, password: str, password_hash: str) -> None:
        """The station's count starts again; the address's does not, or an attacker owning one
        station could wash its address clean between guesses at others."""
        self.counters.succeeded += 1
        now = self._clock()
        identity = self._identities.touch(attempt.ocpp_id, now)
        identity.pending = max(0, identity.pending - 1)
        identity.failures, identity.blocked_until = 0, 0.0
        self._identities.drop_if_clean(attempt.ocpp_id)
        self._release(self._sources, attempt.source, now)
        self._remember(attempt.ocpp_id, self._mac(password, password_hash), now)

    def failed(self, attempt: Attempt) -> None:
        self.counters.failed += 1
        now = self._clock()
        for table, key in self._keys(attempt.ocpp_id, attempt.source):
            record = table.touch(key, now)
            record.pending = max(0, record.pending - 1)
            record.failures += 1
            backoff = self.policy.backoff(record.failures)
            record.blocked_until = now + backoff  # the quiet period counts from here
            if backoff > 0:
                self._log_window(table.kind, key, record.failures, backoff)

    def abandoned(self, attempt: Attempt) -> None:
        now = self._clock()
        for table, key in self._keys(attempt.ocpp_id, attempt.source):
            self._release(table, key, now)

    def tracked(self) -> int:
        """Records held in memory, all tables together."""
        return len(self._identities) + len(self._sources) + len(self._remembered)

    # -- internals -----------------------------------------------------------------------------

    def _keys(self, ocpp_id: str, source: str) -> tuple[tuple[_Failures, str], ...]:
        return ((self._identities, ocpp_id), (self._sources, source))

    @staticmethod
    def _release(table: _Failures, key: str, now: float) -> None:
        record = table.touch(key, now)
        record.pending = max(0, record.pending - 1)
        table.drop_if_clean(key)

    def _mac(self, password: str, password_hash: str) -> bytes:
        # Bound to the stored hash (its salt included): a changed password forgets the old one.
        message = password_hash.encode() + b"\0" + password.encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def _remember(self, ocpp_id: str, mac: bytes, now: float) -> None:
        if self.policy.remember <= 0:
            return
        self._remembered.pop(ocpp_id, None)
        self._remembered[ocpp_id] = (mac, now + self.policy.remember)
        # Insertion order is expiry order (one fixed window), so the expired are all at the front.
        while self._remembered:
            oldest_id, (_, expires) = next(iter(self._remembered.items()))
            if expires > now and len(self._remembered) <= self._remember_capacity:
                break
            del self._remembered[oldest_id]

    def _log_window(self, kind: str, key: str, failures: int, backoff: float) -> None:
        """One line per refusal window, never one per attempt: refused attempts log nothing."""
        if failures == self.policy.max_failures:
            log.warning(
                "basic-auth guessing: %s %r limited after %d failed attempts; refused with 429 for"
                " %.0f s, doubling with each further failure up to %.0f s",
                kind,
                key,
                failures,
                backoff,
                self.policy.lockout_max,
            )
        else:
            log.info(
                "basic-auth guessing: %s %r still failing (%d failed attempts); refused for %.0f s",
                kind,
                key,
                failures,
                backoff,
            )


def source_key(remote_address: object) -> str:
    """What a source address is limited by: the IPv4 address, or the IPv6 /64 (one subscriber
    line gets a whole /64, so limiting single IPv6 addresses would hand an attacker 2^64 keys).
    Behind a reverse proxy this is the proxy's address."""
    host = remote_address[0] if isinstance(remote_address, tuple) and remote_address else remote_address
    if not isinstance(host, str):
        return "unknown"
    try:
        address = ipaddress.ip_address(host.partition("%")[0])  # without an IPv6 zone id
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # a dual-stack listener sees IPv4 clients this way
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
