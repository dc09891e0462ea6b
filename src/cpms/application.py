"""The commands of cpms: load, call one aggregate method, save, behind a facade of plain types.

Transports (the OCPP gateway, the HTTP API, the CLI) call these with strings, numbers and
datetimes. Every write returns the notification position of its events so a caller can wait for
the projections to catch up with its own write.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from cpms.aggregates.credentials import api_key_digest, new_api_key
from cpms.aggregates.errors import Conflict, InvalidValue, NotFound
from cpms.aggregates.organization import ApiKey, Organization, api_key_id
from cpms.aggregates.site import Site
from cpms.aggregates.station import Station, parse_ocpp_id, station_id
from cpms.infra.writer import UnitOfWork, Writer

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Written:
    """What a write returns: the id it concerns and where its events stand in the log."""

    id: str
    position: int | None


@dataclass(frozen=True)
class StationAccess:
    """What the gateway needs at the handshake."""

    ocpp_id: str
    organization_id: str
    password_hash: str | None


class ChargingNetwork:
    def __init__(self, writer: Writer, clock: Clock = utc_now) -> None:
        self._writer = writer
        self._store = writer.store
        self._clock = clock
        self._api_keys: dict[str, str] = {}

    def writer_stats(self) -> dict[str, int]:
        """How many commands were stored in how many transactions (the group-commit factor)."""
        return {"batches": self._writer.batches, "commands": self._writer.commands}

    # -- organizations -----------------------------------------------------------------------

    async def create_organization(self, name: str) -> tuple[str, str]:
        """A new tenant and its first API key (returned once, stored only as a digest)."""
        api_key = new_api_key()

        def command(uow: UnitOfWork) -> str:
            organization = Organization.create(name)
            uow.add(organization)
            uow.add(ApiKey(key_digest=api_key_digest(api_key), organization_id=str(organization.id)))
            return str(organization.id)

        organization_id, _ = await self._writer(command)
        return organization_id, api_key

    async def authenticate(self, api_key: str) -> str | None:
        """The organization an API key acts for, or None."""
        digest = api_key_digest(api_key)
        organization_id = self._api_keys.get(digest)
        if organization_id is None:
            key = await self._load(api_key_id(digest))
            if not isinstance(key, ApiKey):
                return None
            organization_id = self._api_keys[digest] = key.organization_id
        return organization_id

    # -- sites -------------------------------------------------------------------------------

    async def create_site(
        self, organization_id: str, *, name: Any, address: Any, provider: Any = None
    ) -> Written:
        def command(uow: UnitOfWork) -> str:
            site = Site.create(
                organization_id=organization_id,
                name=name,
                address=address,
                provider=provider,
                occurred_at=self._clock(),
            )
            uow.add(site)
            return str(site.id)

        site_id, position = await self._writer(command)
        return Written(site_id, position)

    async def update_site(self, organization_id: str, site_id: str, changes: dict[str, Any]) -> Written:
        def command(uow: UnitOfWork) -> None:
            site = self._site(uow, organization_id, site_id)
            site.update(occurred_at=self._clock(), **changes)

        _, position = await self._writer(command)
        return Written(site_id, position)

    # -- stations ----------------------------------------------------------------------------

    async def commission_station(
        self,
        organization_id: str,
        *,
        ocpp_id: Any,
        serial_number: Any,
        site_id: Any = None,
        site: Any = None,
        plan: Any = None,
        connectors: Any = 2,
        evse_ids: Any = None,
        password: Any = None,
    ) -> Written:
        """Commission a station on an existing site, or on a new one created with it."""
        if (site_id is None) == (site is None):
            raise InvalidValue("give either site_id or site (to create one), not both")
        ocpp_id = parse_ocpp_id(ocpp_id)

        def command(uow: UnitOfWork) -> str:
            now = self._clock()
            if uow.find(Station, station_id(ocpp_id)) is not None:
                raise Conflict(f"a station with ocpp_id {ocpp_id!r} is already commissioned")
            if site is not None:
                if not isinstance(site, dict):
                    raise InvalidValue("site must be an object with name, address and provider")
                new_site = Site.create(
                    organization_id=organization_id,
                    name=site.get("name"),
                    address=site.get("address"),
                    provider=site.get("provider"),
                    occurred_at=now,
                )
                uow.add(new_site)
                target_site_id = str(new_site.id)
            else:
                target_site_id = str(self._site(uow, organization_id, site_id).id)
            station = Station.commission(
                ocpp_id=ocpp_id,
                organization_id=organization_id,
                site_id=target_site_id,
                serial_number=serial_number,
                plan=plan,
                connectors=connectors,
                evse_ids=evse_ids,
                password=password,
                occurred_at=now,
            )
            uow.add(station)
            return ocpp_id

        _, position = await self._writer(command)
        return Written(ocpp_id, position)

    async def station_access(self, ocpp_id: str) -> StationAccess | None:
        try:
            ocpp_id = parse_ocpp_id(ocpp_id)
        except InvalidValue:
            return None
        station = await self._load(station_id(ocpp_id))
        if not isinstance(station, Station):
            return None
        return StationAccess(station.ocpp_id, station.organization_id, station.password_hash)

    # -- what chargers report ----------------------------------------------------------------

    async def station_connected(self, ocpp_id: str, *, node: str, ocpp_version: str) -> Written:
        return await self._on_station(
            ocpp_id, lambda s: s.connect(node=node, ocpp_version=ocpp_version, occurred_at=self._clock())
        )

    async def station_disconnected(
        self, ocpp_id: str, *, reason: str, only_via_node: str | None = None
    ) -> Written:
        """The station's websocket closed; with `only_via_node`, only if that node held it."""

        def change(station: Station) -> None:
            if only_via_node is None or station.connection_node == only_via_node:
                station.disconnect(reason=reason, occurred_at=self._clock())

        return await self._on_station(ocpp_id, change)

    async def station_booted(
        self,
        ocpp_id: str,
        *,
        vendor: str,
        model: str,
        serial_number: str | None,
        firmware_version: str | None,
    ) -> Written:
        return await self._on_station(
            ocpp_id,
            lambda s: s.boot(
                vendor=vendor,
                model=model,
                serial_number=serial_number,
                firmware_version=firmware_version,
                occurred_at=self._clock(),
            ),
        )

    async def status_notified(
        self,
        ocpp_id: str,
        *,
        connector_id: int,
        ocpp_status: str,
        error_code: str | None,
        info: str | None,
        vendor_error_code: str | None,
        occurred_at: datetime | None,
    ) -> Written:
        return await self._on_station(
            ocpp_id,
            lambda s: s.notify_status(
                connector_id=connector_id,
                ocpp_status=ocpp_status,
                error_code=error_code,
                info=info,
                vendor_error_code=vendor_error_code,
                occurred_at=occurred_at or self._clock(),
            ),
        )

    # -- helpers -----------------------------------------------------------------------------

    async def _on_station(self, ocpp_id: str, change: Callable[[Station], None]) -> Written:
        def command(uow: UnitOfWork) -> None:
            change(uow.get(Station, station_id(ocpp_id), f"unknown station {ocpp_id!r}"))

        _, position = await self._writer(command)
        return Written(ocpp_id, position)

    @staticmethod
    def _site(uow: UnitOfWork, organization_id: str, site_id: Any) -> Site:
        missing = f"site {site_id!r} not found"
        try:
            uuid = UUID(site_id) if isinstance(site_id, str) else None
        except ValueError:
            uuid = None
        if uuid is None:
            raise NotFound(missing)
        site = uow.get(Site, uuid, missing)
        if site.organization_id != organization_id:
            raise NotFound(missing)
        return site

    async def _load(self, aggregate_id: UUID) -> Any:
        try:
            return await asyncio.to_thread(self._store.repository.get, aggregate_id)
        except AggregateNotFoundError:
            return None
