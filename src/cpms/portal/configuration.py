"""A site's configuration: who may charge at each of its stations, and the organization's access
groups with their cards. Changes go through the application's commands, as the API's do, and
the page is shown again once the read models include them (read-your-writes)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from cpms.aggregates.errors import InvalidValue
from cpms.api.access_groups import CONFIGURATION_READS, GROUP_READS
from cpms.api.context import Tx, caught_up, organization, read, services
from cpms.api.models.common import MAX_LIMIT
from cpms.api.requests import uuid_param
from cpms.api.sites import existing_site
from cpms.application import Written
from cpms.portal.pages import site_id_of, station_on_site
from cpms.portal.rendering import redirect, render, translate
from cpms.portal.session import Form, action, field, page
from cpms.projections import access_groups, station_configuration, stations


def configuration_of(tx: Tx, organization_id: str, site_id: str) -> dict[str, Any]:
    """The site's stations with their configuration, and every group with its cards: one read."""
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        items, cursor = stations.list_stations(
            tx, organization_id, site_id=site_id, limit=MAX_LIMIT, cursor=cursor
        )
        found += items
        if cursor is None:
            break
    for station in found:
        station["configuration"] = station_configuration.get_configuration(
            tx, organization_id, station["ocpp_id"]
        )
    groups: list[dict[str, Any]] = []
    cursor = None
    while True:
        items, cursor = access_groups.list_groups(tx, organization_id, limit=MAX_LIMIT, cursor=cursor)
        groups += [access_groups.get_group(tx, organization_id, item["id"]) or item for item in items]
        if cursor is None:
            break
    return {"stations": found, "groups": groups}


async def _page(
    request: Request, *, error: str | None = None, status: int = 200, saved: str | None = None
) -> Response:
    org, site_id = organization(request), site_id_of(request)
    site = await existing_site(request, org, site_id)
    context = {
        "section": "sites",
        "tab": "configuration",
        "site": site,
        "error": error,
        "saved": saved if saved is not None else request.query_params.get("saved"),
        **await read(request, configuration_of, org, site_id),
    }
    return render(request, "site_configuration.html", context, status=status)


@page
async def configuration(request: Request) -> Response:
    return await _page(request)


async def _refused(request: Request, error: InvalidValue) -> Response:
    reason = translate(request, "Could not save: %(reason)s", reason=str(error))
    return await _page(request, error=reason, status=422, saved="")


async def _done(request: Request, written: Written, reads: tuple[Any, ...], saved: str) -> Response:
    await caught_up(request, written, reads)
    anchor = f"/sites/{site_id_of(request)}/configuration"
    return redirect(anchor, saved=saved)


@action
async def configure_station(request: Request, form: Form) -> Response:
    org, site_id = organization(request), site_id_of(request)
    ocpp_id = await station_on_site(request, org, site_id)
    group_ids = [uuid_param(value, "access group") for value in form.get("access_group_ids", [])]
    try:
        written = await services(request).network.configure_station(
            org,
            ocpp_id,
            access_group_ids=group_ids,
            roaming_enabled=field(form, "roaming_enabled") == "on",
            scan2pay_enabled=field(form, "scan2pay_enabled") == "on",
        )
    except InvalidValue as error:
        return await _refused(request, error)
    return await _done(request, written, CONFIGURATION_READS, ocpp_id)


@action
async def create_group(request: Request, form: Form) -> Response:
    await existing_site(request, organization(request), site_id_of(request))
    try:
        written = await services(request).network.create_access_group(
            organization(request), name=field(form, "name")
        )
    except InvalidValue as error:
        return await _refused(request, error)
    return await _done(request, written, GROUP_READS, written.id)


@action
async def add_card(request: Request, form: Form) -> Response:
    await existing_site(request, organization(request), site_id_of(request))
    group_id = uuid_param(request.path_params["group_id"], "access group")
    try:
        written = await services(request).network.add_card(
            organization(request), group_id, uid=field(form, "uid"), label=field(form, "label") or None
        )
    except InvalidValue as error:
        return await _refused(request, error)
    return await _done(request, written, GROUP_READS, group_id)


@action
async def remove_card(request: Request, form: Form) -> Response:
    await existing_site(request, organization(request), site_id_of(request))
    group_id = uuid_param(request.path_params["group_id"], "access group")
    try:
        written = await services(request).network.remove_card(
            organization(request), group_id, field(form, "uid")
        )
    except InvalidValue as error:
        return await _refused(request, error)
    return await _done(request, written, GROUP_READS, group_id)
