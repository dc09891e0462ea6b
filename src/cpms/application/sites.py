"""Sites: created at onboarding or while commissioning, renamed and moved later."""

from __future__ import annotations

from dataclasses import dataclass

from cpms.aggregates.site import Address, AddressChange, Coordinates, Site, Tariff
from cpms.application.base import Commands, Written
from cpms.infra.writer import UnitOfWork


@dataclass(frozen=True)
class NewSite:
    """A site to create with a station it is commissioned with."""

    name: str
    address: Address
    provider: str | None = None
    coordinates: Coordinates | None = None


class SiteCommands(Commands):
    async def create_site(
        self,
        organization_id: str,
        *,
        name: str,
        address: Address,
        provider: str | None = None,
        coordinates: Coordinates | None = None,
    ) -> Written:
        def command(uow: UnitOfWork) -> str:
            site = Site.create(
                organization_id=organization_id,
                name=name,
                address=address,
                provider=provider,
                coordinates=coordinates,
                occurred_at=self._clock(),
            )
            uow.add(site)
            return str(site.id)

        site_id, stored = await self._writer(command)
        return Written(site_id, stored)

    async def update_site(
        self,
        organization_id: str,
        site_id: str,
        *,
        name: str | None = None,
        address: AddressChange | None = None,
        provider: str | None = None,
        coordinates: Coordinates | None = None,
        clear_coordinates: bool = False,
    ) -> Written:
        """Change what is given (None: keep; an empty provider clears it, `clear_coordinates` the
        coordinates)."""

        def command(uow: UnitOfWork) -> None:
            site = self._site(uow, organization_id, site_id)
            site.update(
                name=name,
                address=address,
                provider=provider,
                coordinates=coordinates,
                clear_coordinates=clear_coordinates,
                occurred_at=self._clock(),
            )

        _, stored = await self._writer(command)
        return Written(site_id, stored)

    async def set_site_tariff(self, organization_id: str, site_id: str, tariff: Tariff) -> Written:
        def command(uow: UnitOfWork) -> None:
            self._site(uow, organization_id, site_id).set_tariff(tariff, occurred_at=self._clock())

        _, stored = await self._writer(command)
        return Written(site_id, stored)

    async def remove_site_tariff(self, organization_id: str, site_id: str) -> Written:
        def command(uow: UnitOfWork) -> None:
            self._site(uow, organization_id, site_id).remove_tariff(occurred_at=self._clock())

        _, stored = await self._writer(command)
        return Written(site_id, stored)
