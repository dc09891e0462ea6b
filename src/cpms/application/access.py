"""Who may charge where: access groups and their cards, and each station's configuration."""

from __future__ import annotations

from collections.abc import Sequence

from cpms.aggregates.access_group import AccessGroup
from cpms.aggregates.errors import InvalidValue, NotFound
from cpms.aggregates.station import Station, station_id
from cpms.application.base import Commands, Written, owned, parse_uuid
from cpms.infra.writer import UnitOfWork

# Each granted group is loaded to check it: keep one request's work bounded.
MAX_GROUPS_PER_STATION = 100


class AccessCommands(Commands):
    async def create_access_group(self, organization_id: str, *, name: str) -> Written:
        def command(uow: UnitOfWork) -> str:
            group = AccessGroup.create(organization_id, name, self._clock())
            uow.add(group)
            return str(group.id)

        group_id, stored = await self._writer(command)
        return Written(group_id, stored)

    async def add_card(
        self, organization_id: str, group_id: str, *, uid: str, label: str | None = None
    ) -> Written:
        def command(uow: UnitOfWork) -> None:
            group = _group(uow, organization_id, group_id)
            group.add_card(uid, label, self._clock())

        _, stored = await self._writer(command)
        return Written(group_id, stored)

    async def remove_card(self, organization_id: str, group_id: str, uid: str) -> Written:
        def command(uow: UnitOfWork) -> None:
            group = _group(uow, organization_id, group_id)
            group.remove_card(uid, self._clock())

        _, stored = await self._writer(command)
        return Written(group_id, stored)

    async def configure_station(
        self,
        organization_id: str,
        ocpp_id: str,
        *,
        access_group_ids: Sequence[str],
        roaming_enabled: bool,
        scan2pay_enabled: bool,
    ) -> Written:
        """Set the groups whose cards may charge at a station, and whether roaming and Scan2Pay may."""

        def command(uow: UnitOfWork) -> None:
            station = _station(uow, organization_id, ocpp_id)
            granted = [_granted_group(uow, organization_id, g) for g in _group_ids(access_group_ids)]
            station.configure(
                access_group_ids=granted,
                roaming_enabled=roaming_enabled,
                scan2pay_enabled=scan2pay_enabled,
                occurred_at=self._clock(),
            )

        _, stored = await self._writer(command)
        return Written(ocpp_id, stored)


def _group(uow: UnitOfWork, organization_id: str, group_id: str) -> AccessGroup:
    missing = f"access group {group_id!r} not found"
    return owned(uow, AccessGroup, parse_uuid(group_id), organization_id, missing)


def _granted_group(uow: UnitOfWork, organization_id: str, group_id: str) -> str:
    """A group named in a station's configuration: its canonical id, or a 422 naming the bad one."""
    try:
        return str(_group(uow, organization_id, group_id).id)
    except NotFound:
        raise InvalidValue(f"access_group_ids: access group {group_id!r} not found") from None


def _station(uow: UnitOfWork, organization_id: str, ocpp_id: str) -> Station:
    return owned(uow, Station, station_id(ocpp_id), organization_id, f"station {ocpp_id!r} not found")


def _group_ids(value: Sequence[str]) -> list[str]:
    """The ids as given, each once (whatever the case of a UUID), in the order given."""
    unique = list(dict.fromkeys(str(parse_uuid(v) or v) for v in value))
    if len(unique) > MAX_GROUPS_PER_STATION:
        raise InvalidValue(f"access_group_ids may name at most {MAX_GROUPS_PER_STATION} groups")
    return unique
