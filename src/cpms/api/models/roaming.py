"""Roaming as the operator manages it: the organization's CPO party and its eMSP partners."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from cpms.aggregates import roaming
from cpms.api.models.common import Instant, Uuid, documented

CountryCode = Annotated[str, documented("ISO 3166-1 alpha-2 (any case)", pattern="^[A-Za-z]{2}$")]
PartyId = Annotated[str, documented("3 letters or digits (any case)", pattern="^[A-Za-z0-9]{3}$")]
Name = Annotated[str, documented(minLength=1, maxLength=roaming.MAX_NAME_LENGTH)]


class RoamingParty(Struct, forbid_unknown_fields=True):
    """The organization's own CPO party, as eMSPs see it in OCPI credentials."""

    country_code: CountryCode
    party_id: PartyId
    name: Name


class NewPartner(Struct, forbid_unknown_fields=True):
    country_code: CountryCode
    party_id: PartyId
    name: Name


class PushFailure(Struct):
    at: Instant
    message: str


class PushState(Struct):
    """Sessions and CDRs pushed to the partner's receivers: rows still owed (waiting, or retried
    with back-off), rows the eMSP refused for good (not retried), and the latest failure."""

    pending: int
    failed: int
    last_failure: PushFailure | None


class Partner(Struct):
    id: Uuid
    country_code: str
    party_id: str
    name: str
    state: Annotated[str, documented(enum=["pending", "registered", "unregistered"])]
    created_at: Instant
    updated_at: Instant
    push: PushState


class RegisteredPartner(Struct):
    """A partner just added, with what to hand to the eMSP, securely and once: token A is shown
    here only, and stops working once the eMSP has registered with it."""

    id: Uuid
    country_code: str
    party_id: str
    name: str
    state: str
    token_a: str
    versions_url: Annotated[str, documented("cpms's OCPI versions endpoint, for the eMSP", format="uri")]


class PartnerPage(Struct):
    items: list[Partner]
    next_cursor: str | None


class ActivityQuery(Struct, forbid_unknown_fields=True):
    days: Annotated[int, Meta(ge=1, le=90, description="UTC days back, today included")] = 30


class ActivityDay(Struct):
    """One partner's roaming on one UTC day: sessions by the day they started, their energy, and
    the authorization decisions made that day."""

    partner_id: Uuid
    day: Annotated[str, documented(format="date")]
    sessions: int
    energy_wh: float
    accepted: int
    rejected: int
    timed_out: int
    error: int


class Emsp(Struct):
    country_code: str
    party_id: str


class RoamingSession(Struct):
    id: Uuid
    partner_id: Uuid
    emsp: Emsp
    token_uid: str
    site_id: Uuid
    ocpp_id: str
    connector_id: int
    started_at: Instant
    ended_at: Instant | None
    energy_wh: float
    status: Annotated[str, documented(enum=["ACTIVE", "COMPLETED"])]


class RoamingActivity(Struct):
    """The window's roaming per partner and day (oldest first), and its sessions (newest first)."""

    since: Annotated[str, documented(format="date")]
    days: list[ActivityDay]
    sessions: list[RoamingSession]
