"""Sites: created at onboarding or while commissioning, renamed and moved later."""

from __future__ import annotations

from typing import Any

from cpms.aggregates.site import Site
from cpms.application.base import Commands, Written
from cpms.infra.writer import UnitOfWork


class SiteCommands(Commands):
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

        site_id, stored = await self._writer(command)
        return Written(site_id, stored)

    async def update_site(self, organization_id: str, site_id: str, changes: dict[str, Any]) -> Written:
        def command(uow: UnitOfWork) -> None:
            site = self._site(uow, organization_id, site_id)
            site.update(occurred_at=self._clock(), **changes)

        _, stored = await self._writer(command)
        return Written(site_id, stored)
