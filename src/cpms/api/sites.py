"""Sites and their charge-point sheet."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from cpms.api.context import caught_up, organization, read, services
from cpms.api.errors import not_found
from cpms.api.requests import json_object, page_params, uuid_param
from cpms.api.responses import json_response
from cpms.projections import charge_points, sites

SITE_FIELDS = {"name", "address", "provider"}
# A site's answer: the site, and its state and counts derived from the sheet.
SITE_READS = (sites.SitesProjection, charge_points.ChargePointsProjection)


async def create_site(request: Request) -> Response:
    org = await organization(request)
    body = await json_object(request, SITE_FIELDS)
    written = await services(request).network.create_site(
        org, name=body.get("name"), address=body.get("address"), provider=body.get("provider")
    )
    await caught_up(request, written, SITE_READS)
    return json_response(await existing_site(request, org, written.id), 201)


async def list_sites(request: Request) -> Response:
    org = await organization(request)
    limit, cursor = page_params(request)
    items, next_cursor = await read(request, sites.list_sites, org, limit=limit, cursor=cursor)
    return json_response({"items": items, "next_cursor": next_cursor})


async def get_site(request: Request) -> Response:
    org = await organization(request)
    site_id = uuid_param(request.path_params["site_id"], "site")
    return json_response(await existing_site(request, org, site_id))


async def update_site(request: Request) -> Response:
    org = await organization(request)
    site_id = uuid_param(request.path_params["site_id"], "site")
    body = await json_object(request, SITE_FIELDS)
    written = await services(request).network.update_site(org, site_id, body)
    await caught_up(request, written, SITE_READS)
    return json_response(await existing_site(request, org, site_id))


async def charge_point_sheet(request: Request) -> Response:
    org = await organization(request)
    site_id = uuid_param(request.path_params["site_id"], "site")
    limit, cursor = page_params(request)
    await existing_site(request, org, site_id)
    items, next_cursor = await read(request, charge_points.sheet, org, site_id, limit=limit, cursor=cursor)
    return json_response({"items": items, "next_cursor": next_cursor})


async def existing_site(request: Request, org: str, site_id: str) -> dict[str, object]:
    site = await read(request, sites.get_site, org, site_id)
    if site is None:
        raise not_found(f"site {site_id!r} not found")
    return site


ROUTES = [
    ("POST", "/sites", create_site),
    ("GET", "/sites", list_sites),
    ("GET", "/sites/{site_id}", get_site),
    ("PATCH", "/sites/{site_id}", update_site),
    ("GET", "/sites/{site_id}/charge-points", charge_point_sheet),
]
