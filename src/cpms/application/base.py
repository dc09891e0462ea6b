"""What every group of commands shares: the writer, the clock, loading and guarding aggregates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from cpms.aggregates.errors import NotFound
from cpms.aggregates.site import Site
from cpms.aggregates.station import Station, station_id
from cpms.infra.writer import Stored, UnitOfWork, Writer

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Written:
    """What a write returns: the id it concerns and where its events stand in the log (None when
    it recorded nothing), so that the caller can wait for the read models that fold them."""

    id: str
    stored: Stored | None = None

    @property
    def position(self) -> int | None:
        return None if self.stored is None else self.stored.position


class Commands:
    def __init__(self, writer: Writer, clock: Clock = utc_now) -> None:
        self._writer = writer
        self._store = writer.store
        self._clock = clock

    def writer_stats(self) -> dict[str, int]:
        """How many commands were stored in how many transactions (the group-commit factor)."""
        return {"batches": self._writer.batches, "commands": self._writer.commands}

    async def _on_station(self, ocpp_id: str, change: Callable[[Station], None]) -> Written:
        def command(uow: UnitOfWork) -> None:
            change(uow.get(Station, station_id(ocpp_id), f"unknown station {ocpp_id!r}"))

        _, stored = await self._writer(command)
        return Written(ocpp_id, stored)

    @staticmethod
    def _site(uow: UnitOfWork, organization_id: str, site_id: str) -> Site:
        return owned(uow, Site, parse_uuid(site_id), organization_id, f"site {site_id!r} not found")

    async def _load(self, aggregate_id: UUID) -> Any:
        return await self._writer.load(aggregate_id)


A = TypeVar("A", bound=Aggregate)


def owned(uow: UnitOfWork, kind: type[A], aggregate_id: UUID | None, organization_id: str, missing: str) -> A:
    """The organization's aggregate of that kind and id. Another organization's is not found
    either, so that no answer tells one tenant what another has; `None` (an id that cannot name
    one) is not found."""
    if aggregate_id is None:
        raise NotFound(missing)
    aggregate = uow.get(kind, aggregate_id, missing)
    if getattr(aggregate, "organization_id", None) != organization_id:
        raise NotFound(missing)
    return aggregate


def parse_uuid(value: str) -> UUID | None:
    """An id as clients send it: a UUID string, or None for anything else."""
    try:
        return UUID(value)
    except ValueError:
        return None
