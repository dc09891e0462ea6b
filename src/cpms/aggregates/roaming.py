"""Roaming as a CPO (OCPI 2.2.1): the organization's own party, its eMSP partners and the
credentials tokens they exchange, and the tables that find them by key inside a unit of work.

Credentials tokens A and C (those partners send us) are kept as SHA-256 digests. Token B (the one
we send a partner) is kept as it is: we must present it on every call to the partner.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event
from iso3166 import countries_by_alpha2

from cpms.aggregates.errors import Conflict, InvalidValue

ROAMING_NAMESPACE = uuid5(NAMESPACE_URL, "cpms:roaming")
PARTY_ID = re.compile(r"^[A-Z0-9]{3}$")
MAX_NAME_LENGTH = 100
MAX_PARTNERS = 1000  # per organization: the index aggregate lists them all

PENDING, REGISTERED, UNREGISTERED = "pending", "registered", "unregistered"
SENDER, RECEIVER = "SENDER", "RECEIVER"


def party(country_code: str, party_id: str) -> tuple[str, str]:
    """An OCPI party's identity, upper-cased (CiString): ISO 3166 alpha-2 and 3 of [A-Z0-9]."""
    country = country_code.strip().upper()
    if country not in countries_by_alpha2:
        raise InvalidValue(f"country_code: {country_code!r} is no ISO 3166-1 alpha-2 code")
    pid = party_id.strip().upper()
    if not PARTY_ID.match(pid):
        raise InvalidValue(f"party_id: {party_id!r} must be 3 letters or digits")
    return country, pid


def _name(value: str) -> str:
    value = value.strip()
    if not value or len(value) > MAX_NAME_LENGTH:
        raise InvalidValue(f"name must be 1 to {MAX_NAME_LENGTH} characters")
    return value


class RoamingParty(Aggregate):
    """The organization's own CPO party, as it introduces itself to eMSPs."""

    @staticmethod
    def create_id(organization_id: str) -> UUID:
        return uuid5(ROAMING_NAMESPACE, f"party|{organization_id}")

    @event("RoamingPartyCreated")
    def __init__(self, organization_id: str) -> None:
        self.organization_id = organization_id
        self.country_code = ""
        self.party_id = ""
        self.name = ""

    def set(self, country_code: str, party_id: str, name: str) -> None:
        country, pid = party(country_code, party_id)
        self._set(country_code=country, party_id=pid, name=_name(name))

    @event("RoamingPartySet")
    def _set(self, country_code: str, party_id: str, name: str) -> None:
        self.country_code, self.party_id, self.name = country_code, party_id, name


class RoamingPartner(Aggregate):
    """An eMSP connected (or being connected) over OCPI 2.2.1.

    `pending` from its registration by the operator until it registers with token A;
    `registered` once credentials are exchanged; `unregistered` once it said goodbye.
    """

    if TYPE_CHECKING:
        PartnerRegistered: type[Any]
        PartnerCredentialsExchanged: type[Any]
        PartnerCredentialsUpdated: type[Any]
        PartnerUnregistered: type[Any]

    @classmethod
    def register(
        cls,
        organization_id: str,
        country_code: str,
        party_id: str,
        name: str,
        token_a_digest: str,
        occurred_at: datetime,
    ) -> RoamingPartner:
        country, pid = party(country_code, party_id)
        return cls(
            organization_id=organization_id,
            country_code=country,
            party_id=pid,
            name=_name(name),
            token_a_digest=token_a_digest,
            occurred_at=occurred_at,
        )

    @event("PartnerRegistered")
    def __init__(
        self,
        organization_id: str,
        country_code: str,
        party_id: str,
        name: str,
        token_a_digest: str,
        occurred_at: datetime,
    ) -> None:
        self.organization_id = organization_id
        self.country_code = country_code
        self.party_id = party_id
        self.name = name
        self.state = PENDING
        self.token_a_digest: str | None = token_a_digest
        self.token_c_digest: str | None = None
        self.token_b: str | None = None
        self.versions_url: str | None = None
        self.endpoints: dict[str, str] = {}  # "module|ROLE" -> url
        self.registered_at = occurred_at

    def endpoint(self, module: str, role: str) -> str | None:
        """The partner's URL for a module's interface (`tokens`, `SENDER`), if it offers one."""
        return self.endpoints.get(f"{module}|{role}")

    @property
    def realtime_authorization(self) -> bool:
        """The eMSP's Tokens *sender* interface hosts `POST {url}/{uid}/authorize`."""
        return self.state == REGISTERED and self.endpoint("tokens", SENDER) is not None

    def accepts(self, token_digest: str) -> str | None:
        """Which credentials token this digest is for this partner now: "A", "C" or None."""
        if self.state == PENDING and token_digest == self.token_a_digest:
            return "A"
        if self.state == REGISTERED and token_digest == self.token_c_digest:
            return "C"
        return None

    def exchange_credentials(
        self,
        token_b: str,
        versions_url: str,
        endpoints: Mapping[str, str],
        token_c_digest: str,
        emsp_country_code: str,
        emsp_party_id: str,
        occurred_at: datetime,
    ) -> None:
        """Registration with token A: token A is spent, token C issued."""
        if self.state != PENDING:
            raise Conflict("the partner is registered already")
        self._require_party(emsp_country_code, emsp_party_id)
        self._exchanged(
            token_b=_token(token_b),
            versions_url=versions_url,
            endpoints=dict(endpoints),
            token_c_digest=token_c_digest,
            occurred_at=occurred_at,
        )

    @event("PartnerCredentialsExchanged")
    def _exchanged(
        self,
        token_b: str,
        versions_url: str,
        endpoints: dict[str, str],
        token_c_digest: str,
        occurred_at: datetime,
    ) -> None:
        self.state = REGISTERED
        self.token_a_digest = None
        self._credentials(token_b, versions_url, endpoints, token_c_digest)

    def update_credentials(
        self,
        token_b: str,
        versions_url: str,
        endpoints: Mapping[str, str],
        token_c_digest: str,
        emsp_country_code: str,
        emsp_party_id: str,
        occurred_at: datetime,
    ) -> None:
        """New token B, versions URL and endpoints from the partner; a new token C from us."""
        if self.state != REGISTERED:
            raise Conflict("the partner is not registered")
        self._require_party(emsp_country_code, emsp_party_id)
        self._updated(
            token_b=_token(token_b),
            versions_url=versions_url,
            endpoints=dict(endpoints),
            token_c_digest=token_c_digest,
            occurred_at=occurred_at,
        )

    @event("PartnerCredentialsUpdated")
    def _updated(
        self,
        token_b: str,
        versions_url: str,
        endpoints: dict[str, str],
        token_c_digest: str,
        occurred_at: datetime,
    ) -> None:
        self._credentials(token_b, versions_url, endpoints, token_c_digest)

    def unregister(self, occurred_at: datetime) -> None:
        if self.state != REGISTERED:
            raise Conflict("the partner is not registered")
        self._unregistered(occurred_at=occurred_at)

    @event("PartnerUnregistered")
    def _unregistered(self, occurred_at: datetime) -> None:
        self.state = UNREGISTERED
        self.token_c_digest = None
        self.token_b = None

    def _credentials(self, token_b: str, versions_url: str, endpoints: dict[str, str], digest: str) -> None:
        self.token_b, self.versions_url, self.endpoints, self.token_c_digest = (
            token_b,
            versions_url,
            endpoints,
            digest,
        )

    def _require_party(self, country_code: str, party_id: str) -> None:
        if (country_code.upper(), party_id.upper()) != (self.country_code, self.party_id):
            raise InvalidValue(
                f"roles: no EMSP role {self.country_code}/{self.party_id}, the party registered for this"
                f" token (got {country_code}/{party_id})"
            )


def _token(token: str) -> str:
    if not token or len(token) > 64 or not all("!" <= c <= "~" for c in token):
        raise InvalidValue("token: 1 to 64 printable ASCII characters without spaces")
    return token


class RoamingPartners(Aggregate):
    """The partners of one organization, by party: at most one per country_code/party_id."""

    @staticmethod
    def create_id(organization_id: str) -> UUID:
        return uuid5(ROAMING_NAMESPACE, f"partners|{organization_id}")

    def __init__(self, organization_id: str) -> None:
        self.organization_id = organization_id
        self.partners: dict[str, str] = {}  # "FR|ABC" -> partner id

    def add(self, partner: RoamingPartner) -> None:
        key = f"{partner.country_code}|{partner.party_id}"
        if key in self.partners:
            raise Conflict(f"a partner {partner.country_code}/{partner.party_id} exists already")
        if len(self.partners) >= MAX_PARTNERS:
            raise InvalidValue(f"an organization has at most {MAX_PARTNERS} roaming partners")
        self._added(key=key, partner_id=str(partner.id))

    @event("RoamingPartnerListed")
    def _added(self, key: str, partner_id: str) -> None:
        self.partners[key] = partner_id


class PartnerCredential(Aggregate):
    """A credentials token we issued (A or C), addressed by its digest: the door finds its
    partner in one read. Whether it still works is the partner's to say (`accepts`)."""

    @staticmethod
    def create_id(token_digest: str) -> UUID:
        return uuid5(ROAMING_NAMESPACE, f"credential|{token_digest}")

    @event("PartnerTokenIssued")
    def __init__(self, token_digest: str, partner_id: str) -> None:
        self.token_digest = token_digest
        self.partner_id = partner_id
