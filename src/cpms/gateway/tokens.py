"""OCPP 2.0.1 IdTokens: which of them a card of an access group can be."""

from __future__ import annotations

from typing import Any

# Token kinds an RFID card or key code can be; the others are for roaming or the central system.
CARD_TOKENS = frozenset({"ISO14443", "ISO15693", "KeyCode", "Local"})


def card_token(id_token: dict[str, Any]) -> str | None:
    """The card uid an IdToken carries, or None when it is another kind of token."""
    return id_token["id_token"] if id_token.get("type") in CARD_TOKENS else None
