"""The event log's hash chain as it is stored: the encoding of a link, and the statements that
keep the links beside the events (written by the recorders in `eventstore.py`, in the transaction
that stores the events; read by `cpms.audit.chain`, which verifies and checkpoints them).

The chain is one sequence across the whole log, in notification order (the `position`, which is the
SQLite rowid or the PostgreSQL notification_id of the record). Link i is

    hash_i = SHA-256( "cpms-chain-v1" 0x00
                      || u64(position) || str(originator_id) || u64(originator_version)
                      || str(topic) || bytes(state) || hash_{i-1} )

where u64 is 8 bytes big-endian unsigned, str(x) is u32(len) || UTF-8 bytes and bytes(x) is
u32(len) || x (u32: 4 bytes big-endian unsigned), originator_id is written in its canonical text
form (a UUID lowercase with hyphens, 36 characters), state is the stored bytes exactly as in the
events table, and hash_{i-1} is the 32-byte hash of the previous link, or 32 zero bytes for the
first link after the genesis. Links are stored in table `cpms_chain (position, hash)`.
"""

from __future__ import annotations

import functools
import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import StoredEvent

DOMAIN = b"cpms-chain-v1\x00"
ZERO = bytes(32)

_U64 = struct.Struct(">Q")
_U32 = struct.Struct(">I")


def link_hash(
    position: int, originator_id: str, originator_version: int, topic: str, state: bytes, previous: bytes
) -> bytes:
    """The link of one stored record: see the module docstring for the encoding."""
    return hashlib.sha256(
        b"".join(
            (
                DOMAIN,
                _U64.pack(position),
                _text(originator_id),
                _U64.pack(originator_version),
                _text(topic),
                _U32.pack(len(state)),
                state,
                previous,
            )
        )
    ).digest()


@functools.lru_cache(maxsize=65536)
def _text(value: str) -> bytes:
    # Aggregate ids and topics recur from one event to the next: encoded once each.
    encoded = value.encode()
    return _U32.pack(len(encoded)) + encoded


@functools.lru_cache(maxsize=65536)
def canonical_id(originator_id: UUID | str) -> str:
    return str(originator_id)


def new_links(
    records: Sequence[StoredEvent], positions: Sequence[int], previous: bytes
) -> list[tuple[int, bytes]]:
    """The links of records just inserted at `positions`, after the link hash `previous`."""
    links = []
    for record, position in zip(records, positions, strict=True):
        previous = link_hash(
            position,
            canonical_id(record.originator_id),
            record.originator_version,
            record.topic,
            record.state,
            previous,
        )
        links.append((position, previous))
    return links


@dataclass(frozen=True)
class ChainSQL:
    """The chain's statements for one backend (SQLite `?` or PostgreSQL `%s` parameters)."""

    create: tuple[str, ...]
    declare_genesis: str  # params: declared_at, store_id
    select_head: str
    insert_links: str  # one row per call on SQLite (executemany); all rows at once on PostgreSQL
    select_genesis: str
    select_links: str  # params: after, upto
    select_events: str  # params: after, upto, limit
    select_max_position: str
    insert_checkpoint: str  # params: position, signed_at, document
    select_checkpoints: str

    @classmethod
    def build(cls, *, kind: str, events: str, position: str, prefix: str) -> ChainSQL:
        p = "?" if kind == "sqlite" else "%s"
        key = "INTEGER PRIMARY KEY" if kind == "sqlite" else "bigint PRIMARY KEY"
        blob = "BLOB" if kind == "sqlite" else "bytea"
        chain, genesis, checkpoints = (f"{prefix}{name}" for name in ("", "_genesis", "_checkpoints"))
        return cls(
            create=(
                f"CREATE TABLE IF NOT EXISTS {chain} (position {key}, hash {blob} NOT NULL)",
                f"CREATE TABLE IF NOT EXISTS {genesis} (id INTEGER PRIMARY KEY CHECK (id = 1),"
                " position BIGINT NOT NULL, events_before BIGINT NOT NULL,"
                " declared_at TEXT NOT NULL, store_id TEXT NOT NULL)",
                f"CREATE TABLE IF NOT EXISTS {checkpoints} (position BIGINT NOT NULL,"
                " signed_at TEXT NOT NULL, document TEXT NOT NULL, PRIMARY KEY (position, signed_at))",
            ),
            # Only a store without a chain declares one: a chain whose genesis row went missing
            # is reported by verify, not silently restarted.
            declare_genesis=f"INSERT INTO {genesis} (id, position, events_before, declared_at, store_id)"
            f" SELECT 1, COALESCE(MAX({position}), 0), COUNT(*), {p}, {p} FROM {events}"
            f" WHERE NOT EXISTS (SELECT 1 FROM {genesis}) AND NOT EXISTS (SELECT 1 FROM {chain})"
            " ON CONFLICT (id) DO NOTHING",
            select_head=f"SELECT position, hash FROM {chain} ORDER BY position DESC LIMIT 1",
            insert_links=f"INSERT INTO {chain} (position, hash) VALUES (?, ?)"
            if kind == "sqlite"
            # The batch's hashes as one bytea and its positions as one array literal: cheap to
            # send, where psycopg dumps a bytea[] element by element in Python.
            else f"INSERT INTO {chain} (position, hash)"
            " SELECT p, substring(%s::bytea FROM (i::int - 1) * 32 + 1 FOR 32)"
            " FROM unnest(%s::bigint[]) WITH ORDINALITY AS batch(p, i)",
            select_genesis=f"SELECT position, events_before, declared_at, store_id FROM {genesis}",
            select_links=f"SELECT position, hash FROM {chain} WHERE position > {p} AND position <= {p}"
            " ORDER BY position",
            select_events=f"SELECT {position}, originator_id, originator_version, topic, state FROM {events}"
            f" WHERE {position} > {p} AND {position} <= {p} ORDER BY {position} LIMIT {p}",
            select_max_position=f"SELECT MAX(m) FROM (SELECT MAX({position}) AS m FROM {events}"
            f" UNION ALL SELECT MAX(position) FROM {chain}) AS heads",
            insert_checkpoint=f"INSERT INTO {checkpoints} (position, signed_at, document)"
            f" VALUES ({p}, {p}, {p})",
            select_checkpoints=f"SELECT document FROM {checkpoints} ORDER BY position, signed_at",
        )
