"""Commands to stations: remote start and stop, Scan2Pay, availability, reset, unlock, and the
commands as they are followed.

A command the charger answered is created (201, with `Location`), whatever it answered: its
`outcome` says. One that reached no charger is an error that still names the recorded command:
409 `offline`, 504 `timeout`; 503 where this process has no gateway to send it through.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from cpms.aggregates.station import OFFLINE_OUTCOME, TIMEOUT_OUTCOME, Scan2PayPayment
from cpms.api.context import caught_up, organization, read, read_one, services
from cpms.api.errors import ApiError
from cpms.api.models.commands import (
    AvailabilityBody,
    Command,
    CommandPage,
    CommandsQuery,
    RemoteStartBody,
    ResetBody,
    Scan2PayBody,
)
from cpms.api.models.common import NoQuery
from cpms.api.responses import reply
from cpms.api.routing import Operation
from cpms.application import CommandResult, Requester
from cpms.projections import station_commands, stations
from cpms.projections.station_commands import StationCommandsProjection

MAX_CLIENT_LENGTH = 200


async def remote_start(request: Request, body: RemoteStartBody, query: NoQuery) -> Response:
    result = await services(request).network.remote_start(
        _requester(request),
        request.path_params["ocpp_id"],
        connector_id=request.path_params["connector_id"],
        id_tag=body.id_tag,
    )
    return await _answer(request, result)


async def scan2pay(request: Request, body: Scan2PayBody, query: NoQuery) -> Response:
    payment = Scan2PayPayment(body.payment_reference, body.amount, body.currency)
    result = await services(request).network.scan2pay_start(
        _requester(request),
        request.path_params["ocpp_id"],
        connector_id=request.path_params["connector_id"],
        payment=payment,
    )
    return await _answer(request, result)


async def remote_stop(request: Request, body: None, query: NoQuery) -> Response:
    result = await services(request).network.remote_stop(
        _requester(request), request.path_params["session_id"]
    )
    return await _answer(request, result)


async def change_availability(request: Request, body: AvailabilityBody, query: NoQuery) -> Response:
    result = await services(request).network.change_availability(
        _requester(request),
        request.path_params["ocpp_id"],
        operative=body.operative,
        connector_id=body.connector_id,
    )
    return await _answer(request, result)


async def reset(request: Request, body: ResetBody, query: NoQuery) -> Response:
    result = await services(request).network.reset(
        _requester(request), request.path_params["ocpp_id"], hard=body.type == "hard"
    )
    return await _answer(request, result)


async def unlock(request: Request, body: None, query: NoQuery) -> Response:
    result = await services(request).network.unlock(
        _requester(request), request.path_params["ocpp_id"], connector_id=request.path_params["connector_id"]
    )
    return await _answer(request, result)


async def get_command(request: Request, body: None, query: NoQuery) -> Response:
    command_id = request.path_params["command_id"]
    found = await read_one(
        request,
        station_commands.get_command,
        organization(request),
        command_id,
        missing=f"command {command_id!r} not found",
    )
    return reply(Command, found)


async def list_commands(request: Request, body: None, query: CommandsQuery) -> Response:
    org, ocpp_id = organization(request), request.path_params["ocpp_id"]
    await read_one(request, stations.get_station, org, ocpp_id, missing=f"station {ocpp_id!r} not found")
    items, next_cursor = await read(
        request, station_commands.list_commands, org, ocpp_id, limit=query.limit, cursor=query.cursor
    )
    return reply(CommandPage, {"items": items, "next_cursor": next_cursor})


def _requester(request: Request) -> Requester:
    client = request.headers.get("user-agent")
    return Requester(organization(request), None if client is None else client[:MAX_CLIENT_LENGTH])


async def _answer(request: Request, result: CommandResult) -> Response:
    location = f"/api/v1/commands/{result.command_id}"
    outcome = result.delivery.outcome
    if outcome in (OFFLINE_OUTCOME, TIMEOUT_OUTCOME):
        status = 409 if outcome == OFFLINE_OUTCOME else 504
        detail = result.delivery.detail or outcome
        raise ApiError(
            status,
            outcome,
            f"station {result.ocpp_id}: {detail} (command {result.command_id})",
            {"Location": location},
        )
    await caught_up(request, result.written, (StationCommandsProjection,))
    found = await read(request, station_commands.get_command, organization(request), result.command_id)
    return reply(Command, found, 201, {"Location": location})


COMMAND_ERRORS = frozenset({404, 409, 422, 504})

ROUTES = (
    Operation(
        "POST",
        "/api/v1/stations/{ocpp_id}/connectors/{connector_id}/start",
        remote_start,
        "Remote start: the charger begins a transaction for id_tag (RemoteStartTransaction,"
        " RequestStartTransaction); follow it at the command's Location, whose session_id appears once"
        " the charger began it, and the session carries the command_id",
        body=RemoteStartBody,
        query=NoQuery,
        responses={201: Command},
        errors=COMMAND_ERRORS,
    ),
    Operation(
        "POST",
        "/api/v1/stations/{ocpp_id}/connectors/{connector_id}/scan2pay",
        scan2pay,
        "Scan2Pay: a remote start paid by payment_reference, where Scan2Pay is enabled (else 409); the"
        " session is listed with method scan2pay",
        body=Scan2PayBody,
        query=NoQuery,
        responses={201: Command},
        errors=COMMAND_ERRORS,
    ),
    Operation(
        "POST",
        "/api/v1/sessions/{session_id}/stop",
        remote_stop,
        "Remote stop of an active session (RemoteStopTransaction, RequestStopTransaction); 409 once ended",
        query=NoQuery,
        responses={201: Command},
        errors=COMMAND_ERRORS,
    ),
    Operation(
        "POST",
        "/api/v1/stations/{ocpp_id}/availability",
        change_availability,
        "Make the station, or one charge point, operative or not (ChangeAvailability)",
        body=AvailabilityBody,
        query=NoQuery,
        responses={201: Command},
        errors=COMMAND_ERRORS,
    ),
    Operation(
        "POST",
        "/api/v1/stations/{ocpp_id}/reset",
        reset,
        "Reset the station (Reset: soft or hard)",
        body=ResetBody,
        query=NoQuery,
        responses={201: Command},
        errors=COMMAND_ERRORS,
    ),
    Operation(
        "POST",
        "/api/v1/stations/{ocpp_id}/connectors/{connector_id}/unlock",
        unlock,
        "Unlock a charge point's connector (UnlockConnector)",
        query=NoQuery,
        responses={201: Command},
        errors=COMMAND_ERRORS,
    ),
    Operation(
        "GET",
        "/api/v1/commands/{command_id}",
        get_command,
        "A command sent to a station: what was asked, by whom, how it ended, the session it began",
        query=NoQuery,
        responses={200: Command},
        errors=frozenset({404}),
    ),
    Operation(
        "GET",
        "/api/v1/stations/{ocpp_id}/commands",
        list_commands,
        "The commands sent to a station, newest first",
        query=CommandsQuery,
        responses={200: CommandPage},
        errors=frozenset({404}),
    ),
)
