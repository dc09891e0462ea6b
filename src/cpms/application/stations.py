"""Stations: commissioning, and what chargers report about themselves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cpms.aggregates.errors import Conflict, InvalidValue, NotFound
from cpms.aggregates.site import Site
from cpms.aggregates.station import Station, parse_ocpp_id, station_id
from cpms.application.base import Commands, Written
from cpms.application.sites import NewSite
from cpms.infra.writer import UnitOfWork


@dataclass(frozen=True)
class StationAccess:
    """What the gateway needs at the handshake: which security profile the station is held to,
    and what proves its identity (the password's hash; the serial number a certificate names)."""

    ocpp_id: str
    organization_id: str
    password_hash: str | None
    serial_number: str
    security_profile: int


class StationCommands(Commands):
    async def commission_station(
        self,
        organization_id: str,
        *,
        ocpp_id: str,
        serial_number: str,
        site_id: str | None = None,
        site: NewSite | None = None,
        plan: str | None = None,
        connectors: int = 2,
        evse_ids: Sequence[str] | None = None,
        password: str | None = None,
        security_profile: int | None = None,
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
                new_site = Site.create(
                    organization_id=organization_id,
                    name=site.name,
                    address=site.address,
                    provider=site.provider,
                    coordinates=site.coordinates,
                    occurred_at=now,
                )
                uow.add(new_site)
                target_site_id = str(new_site.id)
            else:
                assert site_id is not None  # exactly one of the two, checked above
                try:
                    target_site_id = str(self._site(uow, organization_id, site_id).id)
                except NotFound:  # an id in a body breaks a rule; only one in a path is not found
                    raise InvalidValue(f"site_id: site {site_id!r} not found") from None
            station = Station.commission(
                ocpp_id=ocpp_id,
                organization_id=organization_id,
                site_id=target_site_id,
                serial_number=serial_number,
                plan=plan,
                connectors=connectors,
                evse_ids=evse_ids,
                password=password,
                security_profile=security_profile,
                occurred_at=now,
            )
            uow.add(station)
            return ocpp_id

        _, stored = await self._writer(command)
        return Written(ocpp_id, stored)

    async def station_access(self, ocpp_id: str) -> StationAccess | None:
        try:
            ocpp_id = parse_ocpp_id(ocpp_id)
        except InvalidValue:
            return None
        station = await self._load(station_id(ocpp_id))
        if not isinstance(station, Station):
            return None
        return StationAccess(
            ocpp_id=station.ocpp_id,
            organization_id=station.organization_id,
            password_hash=station.password_hash,
            serial_number=station.serial_number,
            security_profile=station.security_profile,
        )

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
        occurred_at: datetime | None,
        error_code: str | None = None,
        info: str | None = None,
        vendor_error_code: str | None = None,
        vendor_id: str | None = None,
        ocpp_connector_id: int | None = None,
    ) -> Written:
        """A charge point's status as the station reports it (`occurred_at` None: now). The
        error details are 1.6's (the vendor's code with the vendor's identity); 2.0.1 reports them
        apart, in NotifyEvent."""
        return await self._on_station(
            ocpp_id,
            lambda s: s.notify_status(
                connector_id=connector_id,
                ocpp_status=ocpp_status,
                error_code=error_code,
                info=info,
                vendor_error_code=vendor_error_code,
                vendor_id=vendor_id,
                occurred_at=occurred_at or self._clock(),
                ocpp_connector_id=ocpp_connector_id,
            ),
        )
