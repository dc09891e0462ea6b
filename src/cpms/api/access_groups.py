"""Who may charge where: access groups with their RFID cards, and each station's configuration."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from cpms.api.context import caught_up, organization, read, services
from cpms.api.errors import not_found
from cpms.api.requests import json_object, page_params, uuid_param
from cpms.api.responses import json_response
from cpms.projections import access_groups, station_configuration

CONFIGURATION_FIELDS = frozenset({"access_group_ids", "roaming_enabled", "scan2pay_enabled"})
# The read models each kind of answer is built from (read-your-writes waits for these).
GROUP_READS = (access_groups.AccessGroupsProjection,)
CONFIGURATION_READS = (station_configuration.StationConfigurationProjection,)


async def create_group(request: Request) -> Response:
    org = await organization(request)
    body = await json_object(request, {"name"}, required=frozenset({"name"}))
    written = await services(request).network.create_access_group(org, name=body["name"])
    await caught_up(request, written, GROUP_READS)
    return json_response(await _group(request, org, written.id), 201)


async def list_groups(request: Request) -> Response:
    org = await organization(request)
    limit, cursor = page_params(request)
    items, next_cursor = await read(request, access_groups.list_groups, org, limit=limit, cursor=cursor)
    return json_response({"items": items, "next_cursor": next_cursor})


async def get_group(request: Request) -> Response:
    org = await organization(request)
    return json_response(await _group(request, org, _group_id(request)))


async def add_card(request: Request) -> Response:
    """Add a card, or relabel it if the group has it already (uids match whatever their case)."""
    org = await organization(request)
    group_id = _group_id(request)
    body = await json_object(request, {"uid", "label"}, required=frozenset({"uid"}))
    written = await services(request).network.add_card(
        org, group_id, uid=body["uid"], label=body.get("label")
    )
    await caught_up(request, written, GROUP_READS)
    return json_response(await _group(request, org, group_id), 201)


async def remove_card(request: Request) -> Response:
    org = await organization(request)
    group_id = _group_id(request)
    written = await services(request).network.remove_card(org, group_id, request.path_params["uid"])
    await caught_up(request, written, GROUP_READS)
    return json_response(await _group(request, org, group_id))


async def get_configuration(request: Request) -> Response:
    org = await organization(request)
    return json_response(await _configuration(request, org, request.path_params["ocpp_id"]))


async def put_configuration(request: Request) -> Response:
    org = await organization(request)
    ocpp_id = request.path_params["ocpp_id"]
    body = await json_object(request, CONFIGURATION_FIELDS, required=CONFIGURATION_FIELDS)
    written = await services(request).network.configure_station(org, ocpp_id, **body)
    await caught_up(request, written, CONFIGURATION_READS)
    return json_response(await _configuration(request, org, ocpp_id))


def _group_id(request: Request) -> str:
    return uuid_param(request.path_params["group_id"], "access group")


async def _group(request: Request, org: str, group_id: str) -> dict[str, Any]:
    group = await read(request, access_groups.get_group, org, group_id)
    if group is None:
        raise not_found(f"access group {group_id!r} not found")
    return group


async def _configuration(request: Request, org: str, ocpp_id: str) -> dict[str, Any]:
    configuration = await read(request, station_configuration.get_configuration, org, ocpp_id)
    if configuration is None:
        raise not_found(f"station {ocpp_id!r} not found")
    return configuration


ROUTES = [
    ("POST", "/access-groups", create_group),
    ("GET", "/access-groups", list_groups),
    ("GET", "/access-groups/{group_id}", get_group),
    ("POST", "/access-groups/{group_id}/cards", add_card),
    # `path`: an idTag may hold a slash (sent percent-encoded), which a plain segment would refuse.
    ("DELETE", "/access-groups/{group_id}/cards/{uid:path}", remove_card),
    ("GET", "/stations/{ocpp_id}/configuration", get_configuration),
    ("PUT", "/stations/{ocpp_id}/configuration", put_configuration),
]
