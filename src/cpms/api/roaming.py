"""Roaming as the operator manages it: the organization's CPO party and its eMSP partners."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from cpms.api.context import Tx, caught_up, organization, read, services
from cpms.api.models.common import NoQuery, PageQuery
from cpms.api.models.roaming import (
    ActivityQuery,
    NewPartner,
    PartnerPage,
    RegisteredPartner,
    RoamingActivity,
    RoamingParty,
)
from cpms.api.responses import reply
from cpms.api.routing import Operation
from cpms.projections import roaming, roaming_outbox, roaming_partners

PARTNER_READS = (roaming_partners.RoamingPartnersProjection,)


async def set_party(request: Request, body: RoamingParty, query: NoQuery) -> Response:
    party = await services(request).network.set_roaming_party(
        organization(request), country_code=body.country_code, party_id=body.party_id, name=body.name
    )
    return reply(RoamingParty, RoamingParty(party.country_code, party.party_id, party.name))


async def add_partner(request: Request, body: NewPartner, query: NoQuery) -> Response:
    """Register an eMSP: its token A and cpms's versions URL are what the eMSP needs to connect."""
    new = await services(request).network.add_roaming_partner(
        organization(request), country_code=body.country_code, party_id=body.party_id, name=body.name
    )
    await caught_up(request, new.written, PARTNER_READS)
    answer = RegisteredPartner(
        new.id, new.country_code, new.party_id, new.name, new.state, new.token_a, versions_url(request)
    )
    return reply(RegisteredPartner, answer, 201)


async def list_partners(request: Request, body: None, query: PageQuery) -> Response:
    items, next_cursor = await read(request, _partners, organization(request), query.limit, query.cursor)
    return reply(PartnerPage, {"items": items, "next_cursor": next_cursor})


def _partners(
    tx: Tx, organization_id: str, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The partners with their push deliveries, in one read."""
    items, next_cursor = roaming_partners.list_partners(tx, organization_id, limit=limit, cursor=cursor)
    pushed = roaming_outbox.partner_state(tx, organization_id)
    nothing = {"pending": 0, "failed": 0, "last_failure": None}
    return [{**item, "push": pushed.get(item["id"], nothing)} for item in items], next_cursor


async def activity(request: Request, body: None, query: ActivityQuery) -> Response:
    since = activity_since(query.days)
    found = await read(request, roaming.activity, organization(request), since=since)
    return reply(RoamingActivity, {"since": since.date().isoformat(), **found})


def activity_since(days: int) -> datetime:
    """The start of the last `days` UTC days, today included (the portal's page shows 30)."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days - 1)


def versions_url(request: Request) -> str:
    return f"{services(request).ocpi_url}/versions"


ROUTES = (
    Operation(
        "PUT",
        "/api/v1/roaming/party",
        set_party,
        "Set the organization's own CPO party (country code, party id, name), needed before partners",
        body=RoamingParty,
        query=NoQuery,
        responses={200: RoamingParty},
        errors=frozenset({422}),
    ),
    Operation(
        "POST",
        "/api/v1/roaming/partners",
        add_partner,
        "Register an eMSP partner: its one-time token A and the versions URL to hand to it",
        body=NewPartner,
        query=NoQuery,
        responses={201: RegisteredPartner},
        errors=frozenset({409, 422}),
    ),
    Operation(
        "GET",
        "/api/v1/roaming/partners",
        list_partners,
        "Roaming partners, oldest first (never their tokens), with their Sessions and CDRs push state",
        query=PageQuery,
        responses={200: PartnerPage},
    ),
    Operation(
        "GET",
        "/api/v1/roaming/activity",
        activity,
        "Roaming of the last `days` UTC days (1-90): per partner and day, sessions, energy and"
        " authorization outcomes; and the roaming sessions that started in the window",
        query=ActivityQuery,
        responses={200: RoamingActivity},
    ),
)
