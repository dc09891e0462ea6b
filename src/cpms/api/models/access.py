"""Who may charge where: access groups with their RFID cards, and each station's configuration."""

from __future__ import annotations

from typing import Annotated

from msgspec import UNSET, Struct, UnsetType

from cpms.aggregates import access_group
from cpms.api.models.common import Instant, Uuid, UuidIn, documented
from cpms.application.access import MAX_GROUPS_PER_STATION

UID_PATTERN = f"^[!-~]{{1,{access_group.MAX_UID_LENGTH}}}$"


class NewAccessGroup(Struct, forbid_unknown_fields=True):
    name: Annotated[str, documented(minLength=1, maxLength=access_group.MAX_NAME_LENGTH)]


class NewCard(Struct, forbid_unknown_fields=True):
    """Uids match whatever their case; adding a card the group has changes its label."""

    uid: Annotated[
        str, documented("printable ASCII without spaces (surrounding ones are trimmed)", pattern=UID_PATTERN)
    ]
    label: Annotated[str | None, documented(maxLength=access_group.MAX_LABEL_LENGTH)] = None


class Card(Struct):
    uid: str
    label: str
    added_at: Instant


class AccessGroup(Struct):
    id: Uuid
    name: str
    created_at: Instant
    updated_at: Instant
    card_count: int
    cards: Annotated[list[Card], documented("one group only: its cards sorted by uid")] | UnsetType = UNSET


class AccessGroupPage(Struct):
    items: list[AccessGroup]
    next_cursor: str | None


class StationConfiguration(Struct, forbid_unknown_fields=True):
    """Who may charge at a station; a change gives every field."""

    access_group_ids: Annotated[
        list[UuidIn],
        documented(
            "groups of this organization whose cards may charge at the station",
            maxItems=MAX_GROUPS_PER_STATION,
        ),
    ]
    roaming_enabled: bool
    scan2pay_enabled: bool
