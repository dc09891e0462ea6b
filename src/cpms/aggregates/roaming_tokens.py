"""Tokens eMSP partners push to us (OCPI 2.2.1 Tokens receiver), and the index that finds, by
organization and uid, every partner token a charger's presented uid may be."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from cpms.aggregates.roaming import ROAMING_NAMESPACE

WHITELIST_ACCEPTED = frozenset({"ALWAYS", "ALLOWED", "ALLOWED_OFFLINE"})


class RoamingToken(Aggregate):
    """One partner's token of one type and uid, as the partner last pushed it (the OCPI Token
    object, whole: `token["valid"]`, `token["whitelist"]`, `token["contract_id"]`...)."""

    if TYPE_CHECKING:
        RoamingTokenUpserted: type[Any]

    @staticmethod
    def create_id(partner_id: str, token_type: str, uid: str) -> UUID:
        return roaming_token_id(partner_id, token_type, uid)

    def __init__(self, partner_id: str, organization_id: str, token_type: str, uid: str) -> None:
        self.partner_id = partner_id
        self.organization_id = organization_id
        self.token_type = token_type
        self.uid = uid
        self.token: dict[str, Any] = {}

    def upsert(self, token: Mapping[str, Any]) -> None:
        """Record the token as pushed; the same content again records nothing (a retried PUT)."""
        if dict(token) != self.token:
            self._upserted(token=dict(token))

    @event("RoamingTokenUpserted")
    def _upserted(self, token: dict[str, Any]) -> None:
        self.token = token

    @property
    def accepted_offline(self) -> bool:
        """Valid and whitelisted: may charge without asking the eMSP."""
        return bool(self.token.get("valid")) and self.token.get("whitelist") in WHITELIST_ACCEPTED


class RoamingTokenUids(Aggregate):
    """The partner tokens of an organization with one uid (uids are case-insensitive CiStrings)."""

    @staticmethod
    def create_id(organization_id: str, uid: str) -> UUID:
        return roaming_token_uids_id(organization_id, uid)

    def __init__(self, organization_id: str, uid: str) -> None:
        self.organization_id = organization_id
        self.uid = uid.upper()
        self.token_ids: list[str] = []

    def add(self, token: RoamingToken) -> None:
        if str(token.id) not in self.token_ids:
            self._added(token_id=str(token.id))

    @event("RoamingTokenIndexed")
    def _added(self, token_id: str) -> None:
        self.token_ids.append(token_id)


def roaming_token_id(partner_id: str, token_type: str, uid: str) -> UUID:
    return uuid5(ROAMING_NAMESPACE, f"token|{partner_id}|{token_type}|{uid.upper()}")


def roaming_token_uids_id(organization_id: str, uid: str) -> UUID:
    return uuid5(ROAMING_NAMESPACE, f"token-uid|{organization_id}|{uid.upper()}")
