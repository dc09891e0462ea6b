"""Who may charge where: the outcome of authorizing a token (an RFID card's uid, say) at a station.

The rules run in order (PRODUCT.md section 2): a card in an access group authorized for the
station; then, where roaming is enabled, the tokens eMSP partners pushed or a partner's real-time
answer (`RoamingDecision`); else the token is invalid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, Protocol

ACCEPTED = "Accepted"
INVALID = "Invalid"
PENDING = "Pending"  # a transaction began before any token was presented


class CardHolder(Protocol):
    """What the authorizer needs of an access group."""

    @property
    def id(self) -> Any: ...

    organization_id: str
    name: str

    def find_card(self, uid: str) -> dict[str, str] | None: ...


@dataclass(frozen=True)
class Authorization:
    token: str  # as the station presented it
    status: str
    method: str | None = None  # rfid, roaming or scan2pay when accepted
    card_uid: str | None = None
    card_label: str | None = None
    access_group_id: str | None = None
    access_group_name: str | None = None
    emsp: dict[str, str] | None = None
    payment_reference: str | None = None
    # Roaming only (method "roaming"): the eMSP partner, its reference and the token as OCPI says it.
    partner_id: str | None = None
    authorization_reference: str | None = None
    token_type: str | None = None
    contract_id: str | None = None
    # The remote start (or Scan2Pay start) command this transaction answered, if one did.
    command_id: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status == ACCEPTED

    def started_by(self, command_id: str) -> Authorization:
        return replace(self, command_id=command_id)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Authorization:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def authorize_card(token: str, groups: Iterable[CardHolder]) -> Authorization:
    """Step 1: the card is in one of the access groups authorized at the station."""
    for group in groups:
        card = group.find_card(token)
        if card is not None:
            return Authorization(
                token=token,
                status=ACCEPTED,
                method="rfid",
                card_uid=card["uid"],
                card_label=card["label"],
                access_group_id=str(group.id),
                access_group_name=group.name,
            )
    return Authorization(token=token, status=INVALID)


def authorize_scan2pay(token: str, *, command_id: str, payment_reference: str) -> Authorization:
    """A Scan2Pay start's own token, on its charge point and in its window: paid for."""
    return Authorization(
        token=token,
        status=ACCEPTED,
        method="scan2pay",
        payment_reference=payment_reference,
        command_id=command_id,
    )


# What a roaming decision can be, and where it came from.
ROAMING_ACCEPTED, ROAMING_REJECTED, ROAMING_TIMEOUT, ROAMING_ERROR = (
    "accepted",
    "rejected",
    "timeout",
    "error",
)
WHITELIST, REALTIME = "whitelist", "realtime"


@dataclass(frozen=True)
class RoamingDecision:
    """One partner's say on a token at a station: from the tokens it pushed (`whitelist`) or its
    real-time answer (`realtime`). Recorded as `Station.RoamingAuthorizationDecided`."""

    partner_id: str
    country_code: str
    party_id: str
    uid: str
    token_type: str
    source: str
    outcome: str
    authorization_reference: str | None = None
    contract_id: str | None = None

    @property
    def accepted(self) -> bool:
        return self.outcome == ROAMING_ACCEPTED

    def authorization(self, token: str) -> Authorization:
        if not self.accepted:
            return Authorization(token=token, status=INVALID)
        return Authorization(
            token=token,
            status=ACCEPTED,
            method="roaming",
            card_uid=self.uid,
            emsp={"country_code": self.country_code, "party_id": self.party_id},
            partner_id=self.partner_id,
            authorization_reference=self.authorization_reference,
            token_type=self.token_type,
            contract_id=self.contract_id,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RoamingDecision:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def is_recent(decided_at: datetime, now: datetime, window_s: float) -> bool:
    return 0 <= (now - decided_at).total_seconds() <= window_s


# A transaction that began before any token was presented (2.0.1: plugged in, then badged).
NOT_YET_AUTHORIZED = Authorization(token="", status=PENDING)


def is_listed(authorization: dict[str, Any]) -> bool:
    """Session visibility: listed when authorized by a card of the organization's access groups,
    by roaming or by Scan2Pay, at the time the session started. Others are still recorded."""
    return authorization.get("status") == ACCEPTED and authorization.get("method") in {
        "rfid",
        "roaming",
        "scan2pay",
    }
