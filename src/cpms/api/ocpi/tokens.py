"""OCPI 2.2.1 Tokens, receiver interface: eMSPs push their drivers' tokens under their own
country_code/party_id; cpms keeps them for authorizing roaming charges."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType
from starlette.requests import Request
from starlette.responses import Response

from cpms.api.context import services
from cpms.api.ocpi.envelope import UNKNOWN_TOKEN, OcpiError, envelope, invalid, json_body, ocpi_route
from cpms.api.ocpi.registry import VERSION, Module
from cpms.application.roaming import OcpiCaller

TokenType = Literal["AD_HOC_USER", "APP_USER", "OTHER", "RFID"]
Whitelist = Literal["ALWAYS", "ALLOWED", "ALLOWED_OFFLINE", "NEVER"]
ProfileType = Literal["CHEAP", "FAST", "GREEN", "REGULAR"]
CountryCode = Annotated[str, Meta(pattern="^[A-Za-z]{2}$")]
PartyId = Annotated[str, Meta(pattern="^[A-Za-z0-9]{3}$")]
CiString36 = Annotated[str, Meta(min_length=1, max_length=36, pattern="^[ -~]+$")]


class EnergyContract(Struct, forbid_unknown_fields=True):
    supplier_name: Annotated[str, Meta(min_length=1, max_length=64)]
    contract_id: Annotated[str, Meta(max_length=64)] | None = None


class Token(Struct, forbid_unknown_fields=True):
    """The OCPI 2.2.1 Token object, with the spec's lengths and enumerations."""

    country_code: CountryCode
    party_id: PartyId
    uid: CiString36
    type: TokenType
    contract_id: CiString36
    issuer: Annotated[str, Meta(min_length=1, max_length=64)]
    valid: bool
    whitelist: Whitelist
    last_updated: datetime
    visual_number: Annotated[str, Meta(max_length=64)] | None = None
    group_id: CiString36 | None = None
    language: Annotated[str, Meta(pattern="^[a-z]{2}$")] | None = None
    default_profile_type: ProfileType | None = None
    energy_contract: EnergyContract | None = None


class TokenPatch(Struct, forbid_unknown_fields=True):
    """A PATCH: any fields of a Token, `last_updated` always."""

    last_updated: datetime
    country_code: CountryCode | UnsetType = UNSET
    party_id: PartyId | UnsetType = UNSET
    uid: CiString36 | UnsetType = UNSET
    type: TokenType | UnsetType = UNSET
    contract_id: CiString36 | UnsetType = UNSET
    issuer: Annotated[str, Meta(min_length=1, max_length=64)] | UnsetType = UNSET
    valid: bool | UnsetType = UNSET
    whitelist: Whitelist | UnsetType = UNSET
    visual_number: Annotated[str, Meta(max_length=64)] | UnsetType | None = UNSET
    group_id: CiString36 | UnsetType | None = UNSET
    language: Annotated[str, Meta(pattern="^[a-z]{2}$")] | UnsetType | None = UNSET
    default_profile_type: ProfileType | UnsetType | None = UNSET
    energy_contract: EnergyContract | UnsetType | None = UNSET


async def tokens(request: Request, caller: OcpiCaller) -> Response:
    country, party, uid = (request.path_params[k] for k in ("country_code", "party_id", "uid"))
    if (country.upper(), party.upper()) != (caller.country_code, caller.party_id):
        # The spec allows 404 for another party's objects: nothing of theirs is shown or changed.
        raise OcpiError(
            404, 2001, f"tokens/{country}/{party} is not your party ({caller.country_code}/{caller.party_id})"
        )
    token_type = request.query_params.get("type", "RFID")
    if token_type not in TokenType.__args__:  # type: ignore[attr-defined]
        raise invalid(f"type: {token_type!r} is no TokenType")
    network = services(request).network
    stored = await network.roaming_token(caller.partner_id, token_type, uid)
    if request.method == "GET":
        if stored is None:
            raise OcpiError(404, UNKNOWN_TOKEN, f"unknown token {uid} of type {token_type}")
        return envelope(stored)
    if request.method == "PUT":
        token = msgspec.to_builtins(await json_body(request, Token))
    else:
        if stored is None:
            raise OcpiError(404, UNKNOWN_TOKEN, f"unknown token {uid} of type {token_type}: PUT it first")
        patch = msgspec.to_builtins(await json_body(request, TokenPatch))
        token = {**stored, **patch}
    _require_path(token, caller, uid, token_type)
    created = await network.upsert_roaming_token(caller.partner_id, token)
    return envelope(None, http_status=201 if created else 200)


def _require_path(token: dict[str, Any], caller: OcpiCaller, uid: str, token_type: str) -> None:
    """The object must be the one its URL names."""
    named = {"country_code": caller.country_code, "party_id": caller.party_id, "uid": uid, "type": token_type}
    for field, expected in named.items():
        if str(token[field]).upper() != expected.upper():
            raise invalid(f"{field}: {token[field]!r} differs from the URL's {expected!r}")
    token["country_code"], token["party_id"] = caller.country_code, caller.party_id


TOKENS = Module(
    "tokens",
    "RECEIVER",
    "/tokens",
    [ocpi_route(f"/{VERSION}/tokens/{{country_code}}/{{party_id}}/{{uid}}", tokens, ["GET", "PUT", "PATCH"])],
)
