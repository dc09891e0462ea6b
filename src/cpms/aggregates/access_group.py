"""Access groups: named sets of RFID cards whose holders may charge at the stations granting them.

Chargers report the same card in different cases, so cards are matched by a normalized uid.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate, event

from cpms.aggregates.errors import InvalidValue, NotFound

MAX_NAME_LENGTH = 100
# An OCPP 2.0.1 IdToken is at most 36 characters (a 1.6 one at most 20): room for both.
MAX_UID_LENGTH = 36
MAX_LABEL_LENGTH = 100


def normalize_uid(uid: str) -> str:
    """The key a card is matched by: trimmed and upper-cased printable ASCII without spaces."""
    if not uid.strip():
        raise InvalidValue("uid must be a non-empty string")
    uid = uid.strip()
    if len(uid) > MAX_UID_LENGTH:
        raise InvalidValue(f"uid must be at most {MAX_UID_LENGTH} characters")
    if not all("!" <= char <= "~" for char in uid):
        raise InvalidValue("uid must be printable ASCII without spaces")
    return uid.upper()


class AccessGroup(Aggregate):
    if TYPE_CHECKING:  # classes that eventsourcing's @event creates at runtime; projections match on them
        AccessGroupCreated: type[Any]
        CardAddedToGroup: type[Any]
        CardRemovedFromGroup: type[Any]

    @classmethod
    def create(cls, organization_id: str, name: str, occurred_at: datetime) -> AccessGroup:
        return cls(organization_id=organization_id, name=_name(name), occurred_at=occurred_at)

    @event("AccessGroupCreated")
    def __init__(self, organization_id: str, name: str, occurred_at: datetime) -> None:
        self.organization_id = organization_id
        self.name = name
        self.cards: dict[str, dict[str, str]] = {}

    def add_card(self, uid: str, label: str | None, occurred_at: datetime) -> None:
        """Add a card, or relabel the card already there (in whatever case it is spelled).

        Adding a card again with the same label records nothing, so a retried request is
        harmless; with another label it records the card again, which changes the label.
        """
        normalized_uid = normalize_uid(uid)
        label = _label(label)
        known = self.cards.get(normalized_uid)
        if known is not None and known["label"] == label:
            return
        self._card_added(uid=uid.strip(), normalized_uid=normalized_uid, label=label, occurred_at=occurred_at)

    @event("CardAddedToGroup")
    def _card_added(self, uid: str, normalized_uid: str, label: str, occurred_at: datetime) -> None:
        # The event carries the key it was matched by: replaying never re-runs validation.
        self.cards[normalized_uid] = {"uid": uid, "label": label}

    def remove_card(self, uid: str, occurred_at: datetime) -> None:
        normalized_uid = normalize_uid(uid)
        card = self.cards.get(normalized_uid)
        if card is None:
            raise NotFound(f"card {uid.strip()!r} is not in access group {self.name!r}")
        self._card_removed(uid=card["uid"], normalized_uid=normalized_uid, occurred_at=occurred_at)

    @event("CardRemovedFromGroup")
    def _card_removed(self, uid: str, normalized_uid: str, occurred_at: datetime) -> None:
        del self.cards[normalized_uid]

    def find_card(self, uid: str) -> dict[str, str] | None:
        """The card {"uid", "label"} a presented token names, whatever its case; None if absent."""
        try:
            card = self.cards.get(normalize_uid(uid))
        except InvalidValue:
            return None
        return None if card is None else dict(card)


def _name(value: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidValue("name must be a non-empty string")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidValue(f"name must be at most {MAX_NAME_LENGTH} characters")
    return value


def _label(value: str | None) -> str:
    if value is None:
        return ""
    value = value.strip()
    if len(value) > MAX_LABEL_LENGTH:
        raise InvalidValue(f"label must be at most {MAX_LABEL_LENGTH} characters")
    return value
