"""Sites and their charge-point sheet."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET
from starlette.requests import Request
from starlette.responses import Response

from cpms.api.context import caught_up, organization, read, read_one, services
from cpms.api.models.common import NoQuery, PageQuery
from cpms.api.models.sites import ChargePointPage, NewSite, NewTariff, Site, SitePage, SitePatch
from cpms.api.requests import uuid_param
from cpms.api.responses import reply
from cpms.api.routing import Operation
from cpms.projections import charge_points, sites

# A site's answer: the site, and its state and counts derived from the sheet.
SITE_READS = (sites.SitesProjection, charge_points.ChargePointsProjection)


async def create_site(request: Request, body: NewSite, query: NoQuery) -> Response:
    org = organization(request)
    new = body.value()
    written = await services(request).network.create_site(
        org, name=new.name, address=new.address, provider=new.provider, coordinates=new.coordinates
    )
    await caught_up(request, written, SITE_READS)
    return reply(Site, await existing_site(request, org, written.id), 201)


async def list_sites(request: Request, body: None, query: PageQuery) -> Response:
    page = await read(
        request, sites.list_sites, organization(request), limit=query.limit, cursor=query.cursor
    )
    return reply(SitePage, _page(*page))


async def get_site(request: Request, body: None, query: NoQuery) -> Response:
    site_id = uuid_param(request.path_params["site_id"], "site")
    return reply(Site, await existing_site(request, organization(request), site_id))


async def update_site(request: Request, body: SitePatch, query: NoQuery) -> Response:
    org = organization(request)
    site_id = uuid_param(request.path_params["site_id"], "site")
    written = await services(request).network.update_site(
        org,
        site_id,
        name=None if body.name is UNSET else body.name,
        address=None if body.address is UNSET else body.address.value(),
        # null clears the provider, as an empty one does
        provider=None if body.provider is UNSET else body.provider or "",
        coordinates=None
        if body.coordinates is UNSET or body.coordinates is None
        else body.coordinates.value(),
        clear_coordinates=body.coordinates is None,
    )
    await caught_up(request, written, SITE_READS)
    return reply(Site, await existing_site(request, org, site_id))


async def set_tariff(request: Request, body: NewTariff, query: NoQuery) -> Response:
    org = organization(request)
    site_id = uuid_param(request.path_params["site_id"], "site")
    written = await services(request).network.set_site_tariff(org, site_id, body.value())
    await caught_up(request, written, SITE_READS)
    return reply(Site, await existing_site(request, org, site_id))


async def remove_tariff(request: Request, body: None, query: NoQuery) -> Response:
    org = organization(request)
    site_id = uuid_param(request.path_params["site_id"], "site")
    written = await services(request).network.remove_site_tariff(org, site_id)
    await caught_up(request, written, SITE_READS)
    return reply(Site, await existing_site(request, org, site_id))


async def charge_point_sheet(request: Request, body: None, query: PageQuery) -> Response:
    org = organization(request)
    site_id = uuid_param(request.path_params["site_id"], "site")
    await existing_site(request, org, site_id)
    page = await read(request, charge_points.sheet, org, site_id, limit=query.limit, cursor=query.cursor)
    return reply(ChargePointPage, _page(*page))


async def existing_site(request: Request, org: str, site_id: str) -> dict[str, Any]:
    return await read_one(request, sites.get_site, org, site_id, missing=f"site {site_id!r} not found")


def _page(items: list[dict[str, Any]], next_cursor: str | None) -> dict[str, Any]:
    return {"items": items, "next_cursor": next_cursor}


# A tuple, not an annotated list: mypy then checks each endpoint against the models declared.
ROUTES = (
    Operation(
        "POST",
        "/api/v1/sites",
        create_site,
        "Create a site",
        body=NewSite,
        query=NoQuery,
        responses={201: Site},
        errors=frozenset({422}),
    ),
    Operation(
        "GET",
        "/api/v1/sites",
        list_sites,
        "Sites with their state",
        query=PageQuery,
        responses={200: SitePage},
    ),
    Operation(
        "GET",
        "/api/v1/sites/{site_id}",
        get_site,
        "A site's overview, with its charge points counted by status",
        query=NoQuery,
        responses={200: Site},
        errors=frozenset({404}),
    ),
    Operation(
        "PATCH",
        "/api/v1/sites/{site_id}",
        update_site,
        "Change a site's name, address fields, provider or coordinates",
        body=SitePatch,
        query=NoQuery,
        responses={200: Site},
        errors=frozenset({404, 422}),
    ),
    Operation(
        "PUT",
        "/api/v1/sites/{site_id}/tariff",
        set_tariff,
        "Set the site's tariff (price per kWh excluding VAT, VAT rate), replacing any it had",
        body=NewTariff,
        query=NoQuery,
        responses={200: Site},
        errors=frozenset({404, 422}),
    ),
    Operation(
        "DELETE",
        "/api/v1/sites/{site_id}/tariff",
        remove_tariff,
        "Remove the site's tariff: roaming charges there then cost zero",
        query=NoQuery,
        responses={200: Site},
        errors=frozenset({404}),
    ),
    Operation(
        "GET",
        "/api/v1/sites/{site_id}/charge-points",
        charge_point_sheet,
        "The sheet: each charge point of the site with its status",
        query=PageQuery,
        responses={200: ChargePointPage},
        errors=frozenset({404}),
    ),
)
