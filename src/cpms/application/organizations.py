"""Organizations and the API keys that act for them."""

from __future__ import annotations

from cpms.aggregates.credentials import api_key_digest, new_api_key
from cpms.aggregates.organization import ApiKey, Organization, api_key_id
from cpms.application.base import Commands
from cpms.infra.writer import UnitOfWork


class OrganizationCommands(Commands):
    _api_keys: dict[str, str]

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
