"""Sites: where stations are installed, with the address and provider the portal shows."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate, event

from cpms.aggregates.errors import InvalidValue

ADDRESS_FIELDS = ("street", "postal_code", "city", "country")


@dataclass(frozen=True)
class Address:
    street: str
    postal_code: str
    city: str
    country: str

    @classmethod
    def parse(cls, value: Any) -> Address:
        if not isinstance(value, dict):
            raise InvalidValue("address must be an object with " + ", ".join(ADDRESS_FIELDS))
        unknown = set(value) - set(ADDRESS_FIELDS)
        if unknown:
            raise InvalidValue(f"address has unknown fields: {', '.join(sorted(unknown))}")
        fields = {}
        for name in ADDRESS_FIELDS:
            fields[name] = _text(value.get(name), f"address.{name}", max_length=200)
        return cls(**fields)

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class Site(Aggregate):
    if TYPE_CHECKING:  # classes that eventsourcing's @event creates at runtime; projections match on them
        SiteCreated: type[Any]
        SiteUpdated: type[Any]

    @classmethod
    def create(
        cls,
        *,
        organization_id: str,
        name: Any,
        address: Any,
        provider: Any,
        occurred_at: datetime,
    ) -> Site:
        return cls(
            organization_id=organization_id,
            name=_text(name, "name", max_length=200),
            address=Address.parse(address).as_dict(),
            provider=_optional_text(provider, "provider"),
            occurred_at=occurred_at,
        )

    @event("SiteCreated")
    def __init__(
        self,
        organization_id: str,
        name: str,
        address: dict[str, str],
        provider: str,
        occurred_at: datetime,
    ) -> None:
        self.organization_id = organization_id
        self.name = name
        self.address = address
        self.provider = provider

    def update(self, *, occurred_at: datetime, **changes: Any) -> None:
        """Change name, provider and/or address fields; recording nothing when nothing changes."""
        unknown = set(changes) - {"name", "address", "provider"}
        if unknown:
            raise InvalidValue(f"cannot change {', '.join(sorted(unknown))} of a site")
        new: dict[str, Any] = {}
        if "name" in changes:
            new["name"] = _text(changes["name"], "name", max_length=200)
        if "address" in changes:
            patch = changes["address"]
            if not isinstance(patch, dict):
                raise InvalidValue("address must be an object")
            new["address"] = Address.parse({**self.address, **patch}).as_dict()
        if "provider" in changes:
            new["provider"] = _optional_text(changes["provider"], "provider")
        new = {k: v for k, v in new.items() if getattr(self, k) != v}
        if new:
            self._updated(changes=new, occurred_at=occurred_at)

    @event("SiteUpdated")
    def _updated(self, changes: dict[str, Any], occurred_at: datetime) -> None:
        for name, value in changes.items():
            setattr(self, name, value)


def _text(value: Any, field: str, *, max_length: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(f"{field} must be a non-empty string")
    value = value.strip()
    if len(value) > max_length:
        raise InvalidValue(f"{field} must be at most {max_length} characters")
    return value


def _optional_text(value: Any, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidValue(f"{field} must be a string")
    if len(value) > 200:
        raise InvalidValue(f"{field} must be at most 200 characters")
    return value.strip()
