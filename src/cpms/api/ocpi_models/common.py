"""OCPI 2.2.1 types shared by the modules (the specification's "Types" chapter).

Lengths are the specification's `string(n)` / `CiString(n)`; msgspec enforces them on decode, so
an object that decodes is one the specification accepts (as far as a schema can say).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from msgspec import Meta, Struct


def String(length: int) -> Meta:
    """`string(n)`: case sensitive, at most n characters."""
    return Meta(max_length=length)


def CiString(length: int) -> Meta:
    """`CiString(n)`: case insensitive, printable ASCII, at most n characters."""
    return Meta(max_length=length, pattern=r"^[\x20-\x7e]*$")


# DateTime: string(25), ISO 8601 in UTC, e.g. 2015-06-29T20:39:09Z; no designator means UTC. Kept a
# string so what goes on the wire is exactly what the read side made (cpms writes milliseconds).
DateTime = Annotated[
    str,
    Meta(max_length=25, pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z?$"),
]
CountryCode = Annotated[str, CiString(2)]  # ISO 3166 alpha-2 of a party
PartyId = Annotated[str, CiString(3)]
Currency = Annotated[str, String(3)]  # ISO 4217
URL = Annotated[str, String(255)]
Number = float  # JSON number


class Struct_(Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=False):
    """Optional fields left unset are absent from the JSON, as the specification's `?` and `*`."""


class DisplayText(Struct_):
    language: Annotated[str, String(2)]  # ISO 639-1
    text: Annotated[str, String(512)]


class Price(Struct_):
    excl_vat: Number
    incl_vat: Number | None = None


class Role(StrEnum):
    CPO = "CPO"
    EMSP = "EMSP"
    HUB = "HUB"
    NAP = "NAP"
    NSP = "NSP"
    OTHER = "OTHER"
    SCSP = "SCSP"


class TokenType(StrEnum):
    """mod_tokens TokenType (needed by the CDR's CdrToken)."""

    AD_HOC_USER = "AD_HOC_USER"
    APP_USER = "APP_USER"
    OTHER = "OTHER"
    RFID = "RFID"
