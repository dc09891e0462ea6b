"""Step 2 of authorizing a token (PRODUCT.md section 2): roaming partners, where roaming is enabled.

What can be decided from what is stored (the tokens partners pushed, a recent decision at the
station) is decided inside a unit of work; what needs a partner's real-time answer is returned as
a `NeedsRealtime` request instead, writing nothing, so that the network call is made outside any
unit of work (by a `RealtimeAuthorizer`, an adapter the composition root wires) and its answer
recorded by a second one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from cpms.aggregates.authorization import (
    ACCEPTED,
    REALTIME,
    ROAMING_ACCEPTED,
    ROAMING_ERROR,
    ROAMING_REJECTED,
    WHITELIST,
    Authorization,
    RoamingDecision,
)
from cpms.aggregates.charging_session import ChargingSession
from cpms.aggregates.roaming import REGISTERED, SENDER, RoamingPartner
from cpms.aggregates.station import Station
from cpms.application.roaming import partner_tokens, roaming_partners
from cpms.infra.writer import UnitOfWork

DEFAULT_TOKEN_TYPE = "RFID"  # what a charger's idTag is, as OCPI types tokens


@dataclass(frozen=True)
class RealtimePartner:
    """A partner to ask, with what calling it takes (plain values: no aggregate leaves the uow)."""

    partner_id: str
    country_code: str
    party_id: str
    tokens_url: str  # its Tokens sender interface
    token_b: str


@dataclass(frozen=True)
class RealtimeRequest:
    partners: tuple[RealtimePartner, ...]
    uid: str
    token_type: str
    location_id: str  # the site
    ocpp_id: str
    connector_id: int | None  # the charge point, when the message names it


@dataclass(frozen=True)
class NeedsRealtime:
    """No stored token decides: the partners must be asked (outside the unit of work)."""

    request: RealtimeRequest


@dataclass(frozen=True)
class Decided:
    """The authorization, and the roaming decisions to record with it (none for a card)."""

    authorization: Authorization
    decisions: tuple[RoamingDecision, ...] = ()

    @property
    def known(self) -> bool:
        """Refused by a partner that knows the token (2.0.1: Invalid rather than Unknown)."""
        return any(d.outcome == ROAMING_REJECTED for d in self.decisions)

    def record(self, station: Station, occurred_at: datetime) -> None:
        for decision in self.decisions:
            station.decide_roaming(decision, occurred_at=occurred_at)


RealtimeAuthorizer = Callable[[RealtimeRequest], Awaitable[tuple[RoamingDecision, ...]]]
"""Asks the request's partners, within a timeout; returns the accepting partner's decision, or
one decision per partner asked when none accepted (rejected, timeout or error)."""


async def no_realtime(request: RealtimeRequest) -> tuple[RoamingDecision, ...]:
    """Where no adapter is wired (a bare application): nobody can be asked."""
    return tuple(
        _decision(p, request.uid, request.token_type, REALTIME, ROAMING_ERROR) for p in request.partners
    )


def authorize_roaming(
    uow: UnitOfWork,
    station: Station,
    token: str,
    *,
    now: datetime,
    connector_id: int | None,
    session: ChargingSession | None = None,
    answer: tuple[RoamingDecision, ...] | None = None,
) -> Decided | NeedsRealtime:
    """The roaming step for a token no card matched, at a station with roaming enabled.

    `session`: the transaction the token comes with, whose own roaming token needs no new
    decision. `answer`: the partners' real-time answer, once asked.
    """
    refused = Decided(Authorization(token=token, status="Invalid"))
    if session is not None and _authorized_by_roaming(session, token):
        return Decided(Authorization.from_dict(session.authorization))
    recent = station.recent_roaming(token, now)
    if recent is not None:
        return Decided(recent.authorization(token))
    partners = {str(p.id): p for p in roaming_partners(uow, station.organization_id) if p.state == REGISTERED}
    known = [t for t in partner_tokens(uow, station.organization_id, token) if t.partner_id in partners]
    for stored in known:
        if stored.accepted_offline:
            partner = partners[stored.partner_id]
            decision = _decision(
                partner,
                stored.uid,
                stored.token_type,
                WHITELIST,
                ROAMING_ACCEPTED,
                contract_id=stored.token.get("contract_id"),
            )
            return Decided(decision.authorization(token), (decision,))
    # Whitelist NEVER (valid): only its partner's real-time answer may allow it.
    ask = [
        (partners[t.partner_id], t.uid, t.token_type)
        for t in known
        if t.token.get("valid") and partners[t.partner_id].realtime_authorization
    ]
    if not known:  # nobody pushed it: any partner offering real-time authorization may know it
        ask = [(p, token, DEFAULT_TOKEN_TYPE) for p in partners.values() if p.realtime_authorization]
    if not ask:
        rejected = tuple(
            _decision(partners[t.partner_id], t.uid, t.token_type, WHITELIST, ROAMING_REJECTED) for t in known
        )
        return Decided(refused.authorization, rejected)
    if answer is not None:
        accepted = next((d for d in answer if d.accepted), None)
        return Decided(accepted.authorization(token) if accepted else refused.authorization, answer)
    _, uid, token_type = ask[0]
    return NeedsRealtime(
        RealtimeRequest(
            partners=tuple(_realtime_partner(p) for p, _, _ in ask),
            uid=uid,
            token_type=token_type,
            location_id=station.site_id,
            ocpp_id=station.ocpp_id,
            connector_id=connector_id or None,
        )
    )


def _authorized_by_roaming(session: ChargingSession, token: str) -> bool:
    auth = session.authorization
    return (
        auth.get("status") == ACCEPTED
        and auth.get("method") == "roaming"
        and str(auth.get("card_uid", "")).upper() == token.upper()
    )


def _realtime_partner(partner: RoamingPartner) -> RealtimePartner:
    tokens_url = partner.endpoint("tokens", SENDER)
    assert tokens_url is not None and partner.token_b is not None  # realtime_authorization says so
    return RealtimePartner(
        str(partner.id), partner.country_code, partner.party_id, tokens_url.rstrip("/"), partner.token_b
    )


def _decision(
    partner: RoamingPartner | RealtimePartner,
    uid: str,
    token_type: str,
    source: str,
    outcome: str,
    *,
    contract_id: str | None = None,
) -> RoamingDecision:
    partner_id = partner.partner_id if isinstance(partner, RealtimePartner) else str(partner.id)
    return RoamingDecision(
        partner_id=partner_id,
        country_code=partner.country_code,
        party_id=partner.party_id,
        uid=uid,
        token_type=token_type,
        source=source,
        outcome=outcome,
        contract_id=contract_id,
    )


def realtime_decision(
    partner: RealtimePartner,
    request: RealtimeRequest,
    outcome: str,
    *,
    authorization_reference: str | None = None,
    contract_id: str | None = None,
    token_type: str | None = None,
) -> RoamingDecision:
    """A partner's real-time answer as a decision (for adapters)."""
    return RoamingDecision(
        partner_id=partner.partner_id,
        country_code=partner.country_code,
        party_id=partner.party_id,
        uid=request.uid,
        token_type=token_type or request.token_type,
        source=REALTIME,
        outcome=outcome,
        authorization_reference=authorization_reference,
        contract_id=contract_id,
    )
