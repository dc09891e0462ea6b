"""Roaming commands: the organization's party, its eMSP partners and their credentials, and the
tokens partners push. The outbound OCPI calls (fetching a partner's endpoints) are the
transport's: these commands receive what it fetched.

Inside a unit of work, `roaming_partners` and `partner_tokens` find by key what an authorizer needs.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from cpms.aggregates.errors import Conflict, InvalidValue
from cpms.aggregates.organization import Organization
from cpms.aggregates.roaming import (
    RECEIVER,
    REGISTERED,
    PartnerCredential,
    RoamingPartner,
    RoamingPartners,
    RoamingParty,
)
from cpms.aggregates.roaming_tokens import RoamingToken, RoamingTokenUids, roaming_token_id
from cpms.application.base import Commands, Written, parse_uuid
from cpms.infra.writer import UnitOfWork

_NO_ID = UUID(int=0)  # what an id that is no UUID names: nothing


def credentials_token() -> str:
    """A credentials token (A or C): 256 random bits, 43 URL-safe characters (OCPI allows 64)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Party:
    country_code: str
    party_id: str
    name: str


@dataclass(frozen=True)
class NewPartner:
    """A partner just registered by the operator, with the token A to hand to the eMSP (once)."""

    id: str
    country_code: str
    party_id: str
    name: str
    state: str
    token_a: str
    written: Written


@dataclass(frozen=True)
class OcpiCaller:
    """Who an OCPI request's credentials token names: a partner, and which token it used."""

    partner_id: str
    organization_id: str
    country_code: str
    party_id: str
    credentials_token: str  # "A" before registration, "C" after
    party: Party  # our own CPO party, which the partner talks to


@dataclass(frozen=True)
class EmspCredentials:
    """What a partner sent in a credentials POST/PUT, and the endpoints fetched with its token B."""

    token_b: str
    versions_url: str
    country_code: str
    party_id: str
    endpoints: Mapping[str, str]  # "module|ROLE" -> url


@dataclass(frozen=True)
class PushTarget:
    """Where and how a partner receives pushed Sessions and CDRs; a URL is None when the partner
    offers no such receiver, and `token_b` None once it unregistered."""

    partner_id: str
    country_code: str
    party_id: str
    registered: bool
    token_b: str | None
    sessions_url: str | None
    cdrs_url: str | None
    party: Party | None  # our own CPO party


class RoamingCommands(Commands):
    async def set_roaming_party(
        self, organization_id: str, *, country_code: str, party_id: str, name: str
    ) -> Party:
        def command(uow: UnitOfWork) -> Party:
            missing = f"organization {organization_id!r} not found"
            uow.get(Organization, parse_uuid(organization_id) or _NO_ID, missing)  # the CLI names it by hand
            party = uow.find(RoamingParty, RoamingParty.create_id(organization_id))
            if party is None:
                party = RoamingParty(organization_id=organization_id)
                uow.add(party)
            party.set(country_code, party_id, name)
            return Party(party.country_code, party.party_id, party.name)

        result, _ = await self._writer(command)
        return result

    async def roaming_party(self, organization_id: str) -> Party | None:
        party = await self._load(RoamingParty.create_id(organization_id))
        if not isinstance(party, RoamingParty) or not party.party_id:
            return None
        return Party(party.country_code, party.party_id, party.name)

    async def add_roaming_partner(
        self, organization_id: str, *, country_code: str, party_id: str, name: str
    ) -> NewPartner:
        """Register an eMSP; its one-time token A is returned once and stored as a digest."""
        token_a = credentials_token()

        def command(uow: UnitOfWork) -> RoamingPartner:
            if _party(uow, organization_id) is None:
                raise InvalidValue("set the organization's roaming party first (PUT /api/v1/roaming/party)")
            partner = RoamingPartner.register(
                organization_id, country_code, party_id, name, token_digest(token_a), self._clock()
            )
            index = uow.find(RoamingPartners, RoamingPartners.create_id(organization_id))
            if index is None:
                index = RoamingPartners(organization_id=organization_id)
                uow.add(index)
            index.add(partner)
            uow.add(partner)
            uow.add(PartnerCredential(token_digest=token_digest(token_a), partner_id=str(partner.id)))
            return partner

        partner, stored = await self._writer(command)
        return NewPartner(
            str(partner.id),
            partner.country_code,
            partner.party_id,
            partner.name,
            partner.state,
            token_a,
            Written(str(partner.id), stored),
        )

    async def ocpi_caller(self, token: str) -> OcpiCaller | None:
        """The partner a credentials token names while it still works (A until registration, C
        until the next rotation or unregistration), or None. Never cached: a spent or rotated
        token stops working at once."""
        digest = token_digest(token)
        credential = await self._load(PartnerCredential.create_id(digest))
        if not isinstance(credential, PartnerCredential):
            return None
        partner = await self._load(UUID(credential.partner_id))
        if not isinstance(partner, RoamingPartner):
            return None
        which = partner.accepts(digest)
        party = await self.roaming_party(partner.organization_id)
        if which is None or party is None:
            return None
        return OcpiCaller(
            str(partner.id), partner.organization_id, partner.country_code, partner.party_id, which, party
        )

    async def push_target(self, partner_id: str) -> PushTarget | None:
        """The partner's receivers as its latest credentials say; never cached, so a credentials
        update or an unregistration takes effect at the next delivery."""
        partner = await self._load(parse_uuid(partner_id) or _NO_ID)
        if not isinstance(partner, RoamingPartner):
            return None
        return PushTarget(
            str(partner.id),
            partner.country_code,
            partner.party_id,
            partner.state == REGISTERED,
            partner.token_b,
            partner.endpoint("sessions", RECEIVER),
            partner.endpoint("cdrs", RECEIVER),
            await self.roaming_party(partner.organization_id),
        )

    async def exchange_partner_credentials(
        self, partner_id: str, token_a: str, credentials: EmspCredentials
    ) -> str:
        """Registration: token A is spent, token C (returned) issued; 409 if registered already."""

        def exchange(partner: RoamingPartner, token_c_digest: str) -> None:
            if partner.accepts(token_digest(token_a)) != "A":
                raise Conflict("the partner is registered already")
            partner.exchange_credentials(
                credentials.token_b,
                credentials.versions_url,
                credentials.endpoints,
                token_c_digest,
                credentials.country_code,
                credentials.party_id,
                self._clock(),
            )

        return await self._issuing_token_c(partner_id, exchange)

    async def update_partner_credentials(self, partner_id: str, credentials: EmspCredentials) -> str:
        """New credentials from a registered partner; its new token C is returned."""

        def update(partner: RoamingPartner, token_c_digest: str) -> None:
            partner.update_credentials(
                credentials.token_b,
                credentials.versions_url,
                credentials.endpoints,
                token_c_digest,
                credentials.country_code,
                credentials.party_id,
                self._clock(),
            )

        return await self._issuing_token_c(partner_id, update)

    async def _issuing_token_c(self, partner_id: str, change: Callable[[RoamingPartner, str], None]) -> str:
        """`change` the partner with a new token C's digest, and index that digest; the token C
        itself is returned, once, for the partner."""
        token_c = credentials_token()

        def command(uow: UnitOfWork) -> None:
            change(_partner(uow, partner_id), token_digest(token_c))
            uow.add(PartnerCredential(token_digest=token_digest(token_c), partner_id=partner_id))

        await self._writer(command)
        return token_c

    async def unregister_partner(self, partner_id: str) -> None:
        def command(uow: UnitOfWork) -> None:
            _partner(uow, partner_id).unregister(self._clock())

        await self._writer(command)

    async def upsert_roaming_token(self, partner_id: str, token: Mapping[str, Any]) -> bool:
        """Store a partner's token as pushed (validated by the transport); True when it is new."""

        def command(uow: UnitOfWork) -> bool:
            partner = _partner(uow, partner_id)
            token_id = roaming_token_id(partner_id, token["type"], token["uid"])
            stored = uow.find(RoamingToken, token_id)
            created = stored is None
            if stored is None:
                stored = RoamingToken(
                    partner_id=partner_id,
                    organization_id=partner.organization_id,
                    token_type=token["type"],
                    uid=token["uid"],
                )
                uow.add(stored)
                uids = uow.find(
                    RoamingTokenUids, RoamingTokenUids.create_id(partner.organization_id, token["uid"])
                )
                if uids is None:
                    uids = RoamingTokenUids(organization_id=partner.organization_id, uid=token["uid"])
                    uow.add(uids)
                uids.add(stored)
            stored.upsert(token)
            return created

        created, _ = await self._writer(command)
        return created

    async def roaming_token(self, partner_id: str, token_type: str, uid: str) -> dict[str, Any] | None:
        token = await self._load(roaming_token_id(partner_id, token_type, uid))
        return dict(token.token) if isinstance(token, RoamingToken) else None


def roaming_partners(uow: UnitOfWork, organization_id: str) -> list[RoamingPartner]:
    """Every partner of an organization, whatever its state (filter on `state`)."""
    index = uow.find(RoamingPartners, RoamingPartners.create_id(organization_id))
    if index is None:
        return []
    return [_partner(uow, partner_id) for partner_id in index.partners.values()]


def partner_tokens(uow: UnitOfWork, organization_id: str, uid: str) -> list[RoamingToken]:
    """The tokens partners of the organization pushed with this uid (any case), any type."""
    uids = uow.find(RoamingTokenUids, RoamingTokenUids.create_id(organization_id, uid))
    if uids is None:
        return []
    return [uow.get(RoamingToken, UUID(t), "") for t in uids.token_ids]


def _partner(uow: UnitOfWork, partner_id: str) -> RoamingPartner:
    return uow.get(RoamingPartner, UUID(partner_id), f"partner {partner_id!r} not found")


def _party(uow: UnitOfWork, organization_id: str) -> RoamingParty | None:
    party = uow.find(RoamingParty, RoamingParty.create_id(organization_id))
    return party if party is not None and party.party_id else None


__all__ = [
    "EmspCredentials",
    "NewPartner",
    "OcpiCaller",
    "Party",
    "PushTarget",
    "partner_tokens",
    "roaming_partners",
]
