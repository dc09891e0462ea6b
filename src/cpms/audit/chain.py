"""The event log's hash chain: every stored event is linked to its predecessor by SHA-256, in the
transaction that stores it, and the chain can be verified and checkpointed with Ed25519.

The encoding of a link, and the tables the links are kept in, are `cpms.infra.chain`'s: the
recorders write them in the transaction that stores the events.

The chain starts at a declared genesis (table `cpms_chain_genesis`): the highest position in the
log when the chain was created, 0 for a new store. Records at or below it are not covered.

A checkpoint is a JSON document {type, version, store, genesis, position, hash, signed_at,
public_key, signature}: `signature` is Ed25519 (hex) over the UTF-8 bytes of the document without
`signature`, serialized with sorted keys and no whitespace (`json.dumps(d, sort_keys=True,
separators=(",", ":"))`); `public_key` is the raw 32-byte key in hex, `hash` the link hash at
`position` in hex. Checkpoints are kept in `cpms_chain_checkpoints` and by the auditor.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cpms.infra.chain import ZERO, ChainSQL, link_hash

CHECKPOINT_TYPE = "cpms-chain-checkpoint"
PAGE = 2000


class ChainedRecorder(Protocol):
    """What the event store's recorder offers the chain's readers (both backends)."""

    chain: ChainSQL

    def chain_query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def chain_execute(self, statement: str, params: Sequence[Any] = ()) -> None: ...

    def canonical_originator_id(self, stored: Any) -> str: ...


@dataclass(frozen=True)
class Genesis:
    position: int
    events_before: int
    declared_at: str
    store_id: str


@dataclass(frozen=True)
class Break:
    """The first broken link: where, which record, and what is wrong."""

    position: int
    problem: str
    originator_id: str | None = None
    originator_version: int | None = None
    topic: str | None = None

    def describe(self) -> str:
        record = ""
        if self.originator_id is not None:
            record = f" ({self.topic} of {self.originator_id} version {self.originator_version})"
        return f"position {self.position}{record}: {self.problem}"


@dataclass
class Report:
    genesis: Genesis | None
    head: int = 0
    links: int = 0
    last: tuple[int, bytes] = (0, ZERO)  # the last verified link: what a checkpoint signs
    breaks: list[Break] = field(default_factory=list)
    checkpoints: list[str] = field(default_factory=list)  # one line per checkpoint that holds
    site_records: list[tuple[int, str]] = field(default_factory=list)  # position, originator

    @property
    def ok(self) -> bool:
        return not self.breaks


def genesis(recorder: ChainedRecorder) -> Genesis | None:
    rows = recorder.chain_query(recorder.chain.select_genesis)
    return Genesis(int(rows[0][0]), int(rows[0][1]), str(rows[0][2]), str(rows[0][3])) if rows else None


def verify(
    recorder: ChainedRecorder,
    checkpoints: Sequence[Checkpoint] = (),
    public_key: Ed25519PublicKey | None = None,
    site_id: str | None = None,
) -> Report:
    """Walk the whole log against the chain; then hold each checkpoint against it."""
    start = genesis(recorder)
    report = Report(start, last=(0 if start is None else start.position, ZERO))
    if start is None:
        report.breaks.append(
            Break(0, "the chain has no genesis (its row was removed, or the store predates it)")
        )
        return report
    wanted = {checkpoint.position for checkpoint in checkpoints}
    hashes: dict[int, bytes] = {start.position: ZERO}
    site = _SiteRecords(site_id) if site_id is not None else None
    upto = int(recorder.chain_query(recorder.chain.select_max_position)[0][0] or 0)
    report.head = upto
    previous = ZERO
    for position, event, link in _merged(recorder, upto):
        if site is None and report.breaks:
            break
        if site is not None and event is not None:
            site.see(position, event)
        if report.breaks:
            continue  # only reading on for the site's records
        if position <= start.position:
            if link is not None:
                report.breaks.append(
                    _break(position, event, "a link at or before the genesis (was it moved?)")
                )
            continue
        if event is None:
            report.breaks.append(
                Break(position, "the record is missing: the chain has a link for it (deleted)")
            )
            continue
        oid, version, topic, state = event
        if link is None:
            report.breaks.append(
                _break(position, event, "the record has no link: it was inserted outside cpms's writer")
            )
            continue
        expected = link_hash(position, oid, version, topic, state, previous)
        if expected != link:
            report.breaks.append(
                _break(
                    position,
                    event,
                    "the record does not match its link: it was changed, moved, or a record before it"
                    " was removed or inserted since the previous link",
                )
            )
            continue
        previous = link
        report.links += 1
        report.last = (position, link)
        if position in wanted:
            hashes[position] = link
    if report.ok:
        for checkpoint in checkpoints:
            problem = checkpoint.problem(start, hashes.get(checkpoint.position), public_key)
            if problem is not None:
                report.breaks.append(
                    Break(checkpoint.position, f"checkpoint of {checkpoint.signed_at}: {problem}")
                )
                break
            report.checkpoints.append(
                f"checkpoint of {checkpoint.signed_at} at position {checkpoint.position} holds"
            )
    if site is not None:
        report.site_records = site.records()
    return report


def _break(position: int, event: tuple[str, int, str, bytes] | None, problem: str) -> Break:
    if event is None:
        return Break(position, problem)
    return Break(position, problem, event[0], event[1], event[2])


def _merged(
    recorder: ChainedRecorder, upto: int
) -> Iterator[tuple[int, tuple[str, int, str, bytes] | None, bytes | None]]:
    """Events and links side by side, by position, from the start of the log (records before the
    genesis are read too, for --site and to notice links there), page by page."""
    sql = recorder.chain
    low = 0
    while low < upto:
        rows = recorder.chain_query(sql.select_events, (low, upto, PAGE))
        high = int(rows[-1][0]) if len(rows) == PAGE else upto
        events = {
            int(row[0]): (recorder.canonical_originator_id(row[1]), int(row[2]), str(row[3]), _bytes(row[4]))
            for row in rows
        }
        links = {int(row[0]): bytes(row[1]) for row in recorder.chain_query(sql.select_links, (low, high))}
        for position in sorted(events.keys() | links.keys()):
            yield position, events.get(position), links.get(position)
        low = high


def _bytes(state: Any) -> bytes:
    # SQLite lets a tampered state become TEXT; its bytes are hashed all the same.
    return state.encode() if isinstance(state, str) else bytes(state)


class _SiteRecords:
    """A site's records: its own aggregate's, and those of every aggregate whose events name it
    (its stations, its sessions)."""

    def __init__(self, site_id: str) -> None:
        self.site_id = site_id
        self.marker = b'"site_id":' + json.dumps(site_id).encode()
        self.members: set[str] = {site_id}
        self.seen: list[tuple[int, str]] = []

    def see(self, position: int, event: tuple[str, int, str, bytes]) -> None:
        if self.marker in event[3]:
            self.members.add(event[0])
        self.seen.append((position, event[0]))

    def records(self) -> list[tuple[int, str]]:
        return [(position, oid) for position, oid in self.seen if oid in self.members]


# Checkpoints


@dataclass(frozen=True)
class Checkpoint:
    store: str
    genesis: int
    position: int
    hash: str
    signed_at: str
    public_key: str
    signature: str

    def unsigned(self) -> dict[str, Any]:
        return {
            "type": CHECKPOINT_TYPE,
            "version": 1,
            "store": self.store,
            "genesis": self.genesis,
            "position": self.position,
            "hash": self.hash,
            "signed_at": self.signed_at,
            "public_key": self.public_key,
        }

    def document(self) -> str:
        return json.dumps(
            {**self.unsigned(), "signature": self.signature}, sort_keys=True, separators=(",", ":")
        )

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        try:
            data = json.loads(text)
            if data.get("type") != CHECKPOINT_TYPE or data.get("version") != 1:
                raise ValueError("not a cpms chain checkpoint (version 1)")
            return cls(
                store=str(data["store"]),
                genesis=int(data["genesis"]),
                position=int(data["position"]),
                hash=str(data["hash"]),
                signed_at=str(data["signed_at"]),
                public_key=str(data["public_key"]),
                signature=str(data["signature"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"not a checkpoint: {error}") from None

    def signature_problem(self, public_key: Ed25519PublicKey | None) -> str | None:
        try:
            embedded = Ed25519PublicKey.from_public_bytes(bytes.fromhex(self.public_key))
            if public_key is not None and _raw(public_key) != _raw(embedded):
                return "signed with another key than the operator's public key"
            embedded.verify(bytes.fromhex(self.signature), _message(self.unsigned()))
        except (ValueError, InvalidSignature):
            return "the signature does not match the checkpoint (altered, or not signed by this key)"
        return None

    def problem(self, start: Genesis, link: bytes | None, public_key: Ed25519PublicKey | None) -> str | None:
        signature = self.signature_problem(public_key)
        if signature is not None:
            return signature
        if self.store != start.store_id:
            return f"it is of another store ({self.store}, this one is {start.store_id})"
        if self.genesis != start.position:
            return (
                f"it was signed with the genesis at {self.genesis}; the store now declares {start.position}"
            )
        if link is None:
            return "the log no longer has a record at this position: it was truncated or rewritten"
        if link.hex() != self.hash:
            return "the log's hash here differs from the signed one: the log was rewritten up to here"
        return None


def _message(unsigned: dict[str, Any]) -> bytes:
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode()


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sign_checkpoint(recorder: ChainedRecorder, verified: Report, key: Ed25519PrivateKey) -> Checkpoint:
    """Sign the last link `verified` vouched for, and keep the checkpoint in the store."""
    start = verified.genesis
    if start is None or not verified.ok:
        raise ValueError("only a verified chain is signed")
    position, link = verified.last
    signed_at = datetime.now(UTC).isoformat()
    public_key = _raw(key.public_key()).hex()
    draft = Checkpoint(start.store_id, start.position, position, link.hex(), signed_at, public_key, "")
    signed = Checkpoint(**{**draft.__dict__, "signature": key.sign(_message(draft.unsigned())).hex()})
    recorder.chain_execute(recorder.chain.insert_checkpoint, (position, signed_at, signed.document()))
    return signed


def stored_checkpoints(recorder: ChainedRecorder) -> list[Checkpoint]:
    return [Checkpoint.parse(str(row[0])) for row in recorder.chain_query(recorder.chain.select_checkpoints)]


# Keys


def generate_key(path: Path) -> Path:
    """A new Ed25519 key: the private key in `path` (PKCS#8 PEM, mode 0600), the public one beside
    it in `path.pub`; nothing is overwritten."""
    public = path.with_name(path.name + ".pub")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write_new(path, private_pem, 0o600)
    _write_new(public, public_pem, 0o644)
    return public


def _write_new(path: Path, data: bytes, mode: int) -> None:
    import os

    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    data = path.read_bytes()
    key: Any
    if b"PRIVATE KEY" in data:
        key = load_private_key(path).public_key()
    else:
        key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    return key


def lines(report: Report, site_id: str | None) -> Iterable[str]:
    """The report as an auditor reads it."""
    start = report.genesis
    if start is not None:
        covered = "the whole log" if start.position == 0 else f"records after position {start.position}"
        yield (
            f"store {start.store_id}: chain from genesis at position {start.position}"
            f" (declared {start.declared_at}, {start.events_before} records before it not covered):"
            f" covers {covered}"
        )
    yield f"head of the log: position {report.head}; {report.links} links verified"
    yield from report.checkpoints
    if site_id is not None:
        first_break = report.breaks[0].position if report.breaks else None
        records = report.site_records
        vouched = [r for r in records if (start is None or r[0] > start.position)]
        if first_break is not None:
            vouched = [r for r in vouched if r[0] < first_break]
        yield f"site {site_id}: {len(records)} records, {len(vouched)} of them vouched for by the chain"
        if first_break is not None:
            after = [r for r in records if r[0] >= first_break]
            if after:
                yield f"site {site_id}: its records from position {after[0][0]} on are not vouched for"
    if report.breaks:
        yield f"BROKEN at {report.breaks[0].describe()}"
    else:
        yield "chain OK"
