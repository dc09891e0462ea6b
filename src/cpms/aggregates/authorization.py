"""Who may charge where: the outcome of authorizing a token (an RFID card's uid, say) at a station.

The rules run in order (PRODUCT.md section 2): a card in an access group authorized for the
station; then roaming partners (a later step plugs in here); else the token is invalid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
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

    @property
    def accepted(self) -> bool:
        return self.status == ACCEPTED

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
