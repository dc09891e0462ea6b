"""Organizations (tenants) and the API keys that act on their behalf."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from cpms.aggregates.errors import InvalidValue

API_KEY_NAMESPACE = uuid5(NAMESPACE_URL, "cpms:api-key")


class Organization(Aggregate):
    @classmethod
    def create(cls, name: str) -> Organization:
        name = name.strip()
        if not name or len(name) > 200:
            raise InvalidValue("organization name must be 1 to 200 characters")
        return cls(name=name)

    @event("OrganizationCreated")
    def __init__(self, name: str) -> None:
        self.name = name


class ApiKey(Aggregate):
    """An API key, addressed by the digest of the key itself so a request finds it in one read."""

    @staticmethod
    def create_id(key_digest: str) -> UUID:
        return api_key_id(key_digest)

    @event("ApiKeyIssued")
    def __init__(self, key_digest: str, organization_id: str) -> None:
        self.key_digest = key_digest
        self.organization_id = organization_id


def api_key_id(key_digest: str) -> UUID:
    return uuid5(API_KEY_NAMESPACE, key_digest)
