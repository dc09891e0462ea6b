"""Who may charge where: access groups with their RFID cards, and each station's configuration."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from cpms.api.context import caught_up, organization, read, read_one, services
from cpms.api.models.access import AccessGroup, AccessGroupPage, NewAccessGroup, NewCard, StationConfiguration
from cpms.api.models.common import NoQuery, PageQuery
from cpms.api.requests import uuid_param
from cpms.api.responses import reply
from cpms.api.routing import Operation
from cpms.projections import access_groups, station_configuration

# The read models each kind of answer is built from (read-your-writes waits for these).
GROUP_READS = (access_groups.AccessGroupsProjection,)
CONFIGURATION_READS = (station_configuration.StationConfigurationProjection,)


async def create_group(request: Request, body: NewAccessGroup, query: NoQuery) -> Response:
    org = organization(request)
    written = await services(request).network.create_access_group(org, name=body.name)
    await caught_up(request, written, GROUP_READS)
    return reply(AccessGroup, await _group(request, org, written.id), 201)


async def list_groups(request: Request, body: None, query: PageQuery) -> Response:
    items, next_cursor = await read(
        request, access_groups.list_groups, organization(request), limit=query.limit, cursor=query.cursor
    )
    return reply(AccessGroupPage, {"items": items, "next_cursor": next_cursor})


async def get_group(request: Request, body: None, query: NoQuery) -> Response:
    return reply(AccessGroup, await _group(request, organization(request), _group_id(request)))


async def add_card(request: Request, body: NewCard, query: NoQuery) -> Response:
    """Add a card, or relabel it if the group has it already (uids match whatever their case)."""
    org = organization(request)
    group_id = _group_id(request)
    written = await services(request).network.add_card(org, group_id, uid=body.uid, label=body.label)
    await caught_up(request, written, GROUP_READS)
    return reply(AccessGroup, await _group(request, org, group_id), 201)


async def remove_card(request: Request, body: None, query: NoQuery) -> Response:
    org = organization(request)
    group_id = _group_id(request)
    written = await services(request).network.remove_card(org, group_id, request.path_params["uid"])
    await caught_up(request, written, GROUP_READS)
    return reply(AccessGroup, await _group(request, org, group_id))


async def get_configuration(request: Request, body: None, query: NoQuery) -> Response:
    configuration = await _configuration(request, organization(request), request.path_params["ocpp_id"])
    return reply(StationConfiguration, configuration)


async def put_configuration(request: Request, body: StationConfiguration, query: NoQuery) -> Response:
    org = organization(request)
    ocpp_id = request.path_params["ocpp_id"]
    written = await services(request).network.configure_station(
        org,
        ocpp_id,
        access_group_ids=[str(group_id) for group_id in body.access_group_ids],
        roaming_enabled=body.roaming_enabled,
        scan2pay_enabled=body.scan2pay_enabled,
    )
    await caught_up(request, written, CONFIGURATION_READS)
    return reply(StationConfiguration, await _configuration(request, org, ocpp_id))


def _group_id(request: Request) -> str:
    return uuid_param(request.path_params["group_id"], "access group")


async def _group(request: Request, org: str, group_id: str) -> dict[str, Any]:
    missing = f"access group {group_id!r} not found"
    return await read_one(request, access_groups.get_group, org, group_id, missing=missing)


async def _configuration(request: Request, org: str, ocpp_id: str) -> dict[str, Any]:
    missing = f"station {ocpp_id!r} not found"
    return await read_one(request, station_configuration.get_configuration, org, ocpp_id, missing=missing)


ROUTES = (
    Operation(
        "POST",
        "/api/v1/access-groups",
        create_group,
        "Create an access group",
        body=NewAccessGroup,
        query=NoQuery,
        responses={201: AccessGroup},
        errors=frozenset({422}),
    ),
    Operation(
        "GET",
        "/api/v1/access-groups",
        list_groups,
        "Access groups, with their number of cards",
        query=PageQuery,
        responses={200: AccessGroupPage},
    ),
    Operation(
        "GET",
        "/api/v1/access-groups/{group_id}",
        get_group,
        "One access group with its cards",
        query=NoQuery,
        responses={200: AccessGroup},
        errors=frozenset({404}),
    ),
    Operation(
        "POST",
        "/api/v1/access-groups/{group_id}/cards",
        add_card,
        "Add a card to a group, or change its label",
        body=NewCard,
        query=NoQuery,
        responses={201: AccessGroup},
        errors=frozenset({404, 422}),
    ),
    Operation(
        "DELETE",
        "/api/v1/access-groups/{group_id}/cards/{uid}",
        remove_card,
        "Remove a card from a group",
        query=NoQuery,
        responses={200: AccessGroup},
        errors=frozenset({404, 422}),
    ),
    Operation(
        "GET",
        "/api/v1/stations/{ocpp_id}/configuration",
        get_configuration,
        "Who may charge at a station",
        query=NoQuery,
        responses={200: StationConfiguration},
        errors=frozenset({404}),
    ),
    Operation(
        "PUT",
        "/api/v1/stations/{ocpp_id}/configuration",
        put_configuration,
        "Set who may charge at a station: the groups whose cards may, and whether roaming and Scan2Pay may",
        body=StationConfiguration,
        query=NoQuery,
        responses={200: StationConfiguration},
        errors=frozenset({404, 422}),
    ),
)
