"""The chain's canonical encoding, pinned by fixed vectors an auditor's own implementation can
check against, and written out here from the definition in cpms.audit.chain's docstring."""

from __future__ import annotations

import hashlib
import struct

from cpms.infra.chain import ZERO, link_hash

OID = "5f1c8e0a-3b1d-4c2e-9a57-0d6c1b2e3f40"
TOPIC = "cpms.aggregates.station:Station.StatusNotification"
STATE = b'{"connector_id":1,"status":"Charging"}'
FIRST = "5e188d62bbe8094fcb54de443ef1d581653c396b7357e610f72505a1f86eba16"
SECOND = "77fa6d8af211649e2bc75af9ba7d3f83c17b4d19321b6fdce0facf12ccef13c6"


def test_links_hash_to_the_fixed_vectors():
    first = link_hash(7, OID, 3, TOPIC, STATE, ZERO)
    assert first.hex() == FIRST
    assert link_hash(8, OID, 4, "t", b"", first).hex() == SECOND


def test_the_documented_encoding_gives_the_same_hash():
    def text(value: bytes) -> bytes:
        return struct.pack(">I", len(value)) + value

    encoded = (
        b"cpms-chain-v1\x00"
        + (7).to_bytes(8, "big")
        + text(OID.encode())
        + (3).to_bytes(8, "big")
        + text(TOPIC.encode())
        + text(STATE)
        + bytes(32)
    )
    assert hashlib.sha256(encoded).hexdigest() == FIRST


def test_every_field_and_the_predecessor_count():
    base = link_hash(7, OID, 3, TOPIC, STATE, ZERO)
    variants = [
        link_hash(8, OID, 3, TOPIC, STATE, ZERO),
        link_hash(7, OID.replace("5f", "6f", 1), 3, TOPIC, STATE, ZERO),
        link_hash(7, OID, 4, TOPIC, STATE, ZERO),
        link_hash(7, OID, 3, TOPIC + "x", STATE, ZERO),
        link_hash(7, OID, 3, TOPIC, STATE + b" ", ZERO),
        link_hash(7, OID, 3, TOPIC, STATE, b"\x01" * 32),
        # lengths are part of the encoding: moving a byte between fields changes the hash
        link_hash(7, OID, 3, TOPIC[:-1], TOPIC[-1:].encode() + STATE, ZERO),
    ]
    assert base not in variants and len(set(variants)) == len(variants)
