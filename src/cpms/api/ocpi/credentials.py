"""OCPI 2.2.1 versions and credentials: how an eMSP registers with token A, rotates its
credentials and unregisters; cpms fetches the eMSP's endpoints with its token B."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct
from starlette.requests import Request
from starlette.responses import Response

from cpms.api.context import services
from cpms.api.ocpi.client import partner_endpoints
from cpms.api.ocpi.envelope import OcpiError, envelope, invalid, json_body, ocpi_route
from cpms.api.ocpi.registry import VERSION, Module, version_details
from cpms.application.roaming import EmspCredentials, OcpiCaller


class BusinessDetails(Struct):
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    website: str | None = None


class CredentialsRole(Struct):
    role: Literal["CPO", "EMSP", "HUB", "NAP", "NSP", "OTHER", "SCSP"]
    business_details: BusinessDetails
    party_id: Annotated[str, Meta(pattern="^[A-Za-z0-9]{3}$")]
    country_code: Annotated[str, Meta(pattern="^[A-Za-z]{2}$")]


class Credentials(Struct):
    token: Annotated[str, Meta(min_length=1, max_length=64, pattern="^[!-~]+$")]
    url: Annotated[str, Meta(pattern="^https?://")]
    roles: Annotated[list[CredentialsRole], Meta(min_length=1)]


def modules() -> list[Module]:
    from cpms.api.ocpi import MODULES  # the registry, complete once every module has registered

    return MODULES


async def versions(request: Request, caller: OcpiCaller) -> Response:
    base = services(request).ocpi_url
    return envelope([{"version": VERSION, "url": f"{base}/{VERSION}"}])


async def details(request: Request, caller: OcpiCaller) -> Response:
    return envelope(version_details(services(request).ocpi_url, modules()))


async def get_credentials(request: Request, caller: OcpiCaller) -> Response:
    # The token that opens cpms to the caller now is the one it presented (C is kept as a digest).
    return envelope(_ours(request, caller, token=_token(request)))


async def post_credentials(request: Request, caller: OcpiCaller) -> Response:
    if caller.credentials_token != "A":
        raise OcpiError(405, 2000, "registered already: PUT to update credentials, DELETE to unregister")
    credentials = await _emsp_credentials(request, caller)
    token_c = await services(request).network.exchange_partner_credentials(
        caller.partner_id, _token(request), credentials
    )
    return envelope(_ours(request, caller, token=token_c))


async def put_credentials(request: Request, caller: OcpiCaller) -> Response:
    if caller.credentials_token != "C":
        raise OcpiError(405, 2000, "not registered: POST your credentials first")
    credentials = await _emsp_credentials(request, caller)
    token_c = await services(request).network.update_partner_credentials(caller.partner_id, credentials)
    return envelope(_ours(request, caller, token=token_c))


async def delete_credentials(request: Request, caller: OcpiCaller) -> Response:
    if caller.credentials_token != "C":
        raise OcpiError(405, 2000, "not registered")
    await services(request).network.unregister_partner(caller.partner_id)
    return envelope(None)


async def _emsp_credentials(request: Request, caller: OcpiCaller) -> EmspCredentials:
    """The body checked, the eMSP role matching the registered party, then the eMSP's endpoints
    fetched with its token B: nothing is stored unless all of it succeeds."""
    body: Credentials = await json_body(request, Credentials)
    role = next(
        (
            r
            for r in body.roles
            if r.role == "EMSP"
            and (r.country_code.upper(), r.party_id.upper()) == (caller.country_code, caller.party_id)
        ),
        None,
    )
    if role is None:
        raise invalid(
            f"roles: no EMSP role for {caller.country_code}/{caller.party_id}, the party registered"
        )
    endpoints = await partner_endpoints(body.url, body.token)
    return EmspCredentials(body.token, body.url, role.country_code, role.party_id, endpoints)


def _ours(request: Request, caller: OcpiCaller, token: str) -> dict[str, object]:
    party = caller.party
    return {
        "token": token,
        "url": f"{services(request).ocpi_url}/versions",
        "roles": [
            {
                "role": "CPO",
                "business_details": {"name": party.name},
                "party_id": party.party_id,
                "country_code": party.country_code,
            }
        ],
    }


def _token(request: Request) -> str:
    return str(request.state.credentials_token)


VERSION_ROUTES = [
    ocpi_route("/versions", versions, ["GET"], token_a=True),
    ocpi_route(f"/{VERSION}", details, ["GET"], token_a=True),
]


async def credentials(request: Request, caller: OcpiCaller) -> Response:
    handler = {
        "GET": get_credentials,
        "POST": post_credentials,
        "PUT": put_credentials,
        "DELETE": delete_credentials,
    }[request.method]
    return await handler(request, caller)


CREDENTIALS = Module(
    "credentials",
    None,
    "/credentials",
    [ocpi_route(f"/{VERSION}/credentials", credentials, ["GET", "POST", "PUT", "DELETE"], token_a=True)],
)
