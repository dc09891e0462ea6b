"""The OpenAPI 3.1 document served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from cpms.api.models.common import NoQuery
from cpms.api.models.operations import OpenApiDocument
from cpms.api.responses import raw_json
from cpms.api.routing import Operation
from cpms.api.sessions_csv import HEADER as CSV_HEADER


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _page(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": _ref(item)},
            "next_cursor": {"type": ["string", "null"]},
        },
    }


ERRORS = {
    str(status): {"$ref": f"#/components/responses/{name}"}
    for status, name in [(400, "BadRequest"), (401, "Unauthorized"), (404, "NotFound"), (503, "Unavailable")]
}
PAGING = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
]
SITE_ID = {"name": "site_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
OCPP_ID = {"name": "ocpp_id", "in": "path", "required": True, "schema": {"type": "string"}}
GROUP_ID = {
    "name": "group_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}
ISO = {"type": "string", "format": "date-time"}
SESSION_FILTERS = [
    {"name": "from", "in": "query", "description": "started at or after", "schema": ISO},
    {"name": "to", "in": "query", "description": "started before", "schema": ISO},
    {"name": "state", "in": "query", "schema": {"enum": ["Active", "Completed"]}},
]
NULLABLE_TEXT = {"type": ["string", "null"]}
SECURITY_PROFILE = {
    "enum": [0, 1, 2, 3],
    "description": (
        "OCPP security profile the gateway holds the station to: 0 no authentication (ws), 1 HTTP"
        " basic auth (ws), 2 basic auth over TLS (wss), 3 TLS client certificate whose subject CN"
        " is the serial number (wss). Default: 1 with a password, else 0"
    ),
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }
        },
    },
    "Address": {
        "type": "object",
        "required": ["street", "postal_code", "city", "country"],
        "properties": {k: {"type": "string"} for k in ("street", "postal_code", "city", "country")},
        "additionalProperties": False,
    },
    "NewSite": {
        "type": "object",
        "required": ["name", "address"],
        "properties": {
            "name": {"type": "string"},
            "address": _ref("Address"),
            "provider": {"type": "string"},
        },
        "additionalProperties": False,
    },
    "SitePatch": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "address": {"type": "object", "description": "fields to change; others are kept"},
            "provider": {"type": "string"},
        },
        "additionalProperties": False,
    },
    "Site": {
        "type": "object",
        "required": ["id", "name", "address", "provider", "state", "created_at", "updated_at"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "name": {"type": "string"},
            "address": _ref("Address"),
            "provider": {"type": "string"},
            "state": {"enum": ["Unknown", "Load", "Available"]},
            "created_at": ISO,
            "updated_at": ISO,
            "charge_points": {
                "type": "object",
                "description": "overview only: number of charge points per status",
                "additionalProperties": {"type": "integer"},
            },
        },
    },
    "NewStation": {
        "type": "object",
        "required": ["ocpp_id", "serial_number"],
        "description": "give site_id, or site to create the site with the station",
        "properties": {
            "ocpp_id": {"type": "string", "pattern": "^[A-Za-z0-9._:*+|@-]{1,48}$"},
            "serial_number": {"type": "string"},
            "site_id": {"type": "string", "format": "uuid"},
            "site": _ref("NewSite"),
            "plan": {"type": "string"},
            "connectors": {"type": "integer", "minimum": 1, "maximum": 64, "default": 2},
            "evse_ids": {"type": "array", "items": {"type": "string"}},
            "password": {
                "type": "string",
                "minLength": 16,
                "maxLength": 40,
                "description": "OCPP basic-auth password, required by security profiles 1 and 2 only",
            },
            "security_profile": SECURITY_PROFILE,
        },
        "additionalProperties": False,
    },
    "Station": {
        "type": "object",
        "properties": {
            "ocpp_id": {"type": "string"},
            "serial_number": {"type": "string"},
            "site_id": {"type": "string", "format": "uuid"},
            "plan": {"type": "string"},
            "connectors": {"type": "integer"},
            "evse_ids": {"type": "array", "items": NULLABLE_TEXT},
            "vendor": NULLABLE_TEXT,
            "model": NULLABLE_TEXT,
            "firmware_version": NULLABLE_TEXT,
            "connection": {"enum": ["Connected", "Disconnected"]},
            "ocpp_version": NULLABLE_TEXT,
            "security_profile": SECURITY_PROFILE,
            "commissioned_at": ISO,
            "last_seen": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "ChargePoint": {
        "type": "object",
        "properties": {
            "ocpp_id": {"type": "string"},
            "connector_id": {"type": "integer"},
            "evse_id": NULLABLE_TEXT,
            "status": {
                "enum": [
                    "Available",
                    "NotAvailable",
                    "Preparing",
                    "Unknown",
                    "Charging",
                    "Finishing",
                    "SuspendedEV",
                    "SuspendedEVSE",
                    "Reserved",
                    "Failed",
                ]
            },
            "since": ISO,
            "error_code": NULLABLE_TEXT,
            "last_ocpp_status": NULLABLE_TEXT,
        },
    },
    "NewAccessGroup": {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100}},
        "additionalProperties": False,
    },
    "AccessGroup": {
        "type": "object",
        "required": ["id", "name", "created_at", "updated_at", "card_count"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "name": {"type": "string"},
            "created_at": ISO,
            "updated_at": ISO,
            "card_count": {"type": "integer"},
            "cards": {
                "type": "array",
                "description": "one group only: its cards sorted by uid",
                "items": _ref("Card"),
            },
        },
    },
    "NewCard": {
        "type": "object",
        "required": ["uid"],
        "description": "uids match case-insensitively; adding a card the group has changes its label",
        "properties": {
            "uid": {"type": "string", "pattern": "^[!-~]{1,36}$"},
            "label": {"type": "string", "maxLength": 100},
        },
        "additionalProperties": False,
    },
    "Card": {
        "type": "object",
        "properties": {"uid": {"type": "string"}, "label": {"type": "string"}, "added_at": ISO},
    },
    "StationConfiguration": {
        "type": "object",
        "required": ["access_group_ids", "roaming_enabled", "scan2pay_enabled"],
        "properties": {
            "access_group_ids": {
                "type": "array",
                "description": "groups of this organization whose cards may charge at the station",
                "items": {"type": "string", "format": "uuid"},
                "maxItems": 100,
            },
            "roaming_enabled": {"type": "boolean"},
            "scan2pay_enabled": {"type": "boolean"},
        },
        "additionalProperties": False,
    },
    "Session": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "ocpp_id": {"type": "string"},
            "connector_id": {"type": "integer"},
            "evse_id": NULLABLE_TEXT,
            "site_id": {"type": "string", "format": "uuid"},
            "transaction_id": {"type": "string"},
            "started_at": ISO,
            "ended_at": {"type": ["string", "null"], "format": "date-time"},
            "state": {"enum": ["Active", "Completed"]},
            "meter_start_wh": {"type": "number"},
            "meter_stop_wh": {"type": ["number", "null"]},
            "energy_wh": {"type": "number", "description": "so far, while Active"},
            "duration_s": {"type": "integer", "description": "so far, while Active"},
            "stop_reason": NULLABLE_TEXT,
            "authorization": {
                "type": "object",
                "properties": {
                    "method": {"enum": ["rfid", "roaming", "scan2pay"]},
                    "card_uid": NULLABLE_TEXT,
                    "card_label": NULLABLE_TEXT,
                    "access_group_id": NULLABLE_TEXT,
                    "access_group_name": NULLABLE_TEXT,
                    "emsp": {
                        "type": ["object", "null"],
                        "properties": {"country_code": {"type": "string"}, "party_id": {"type": "string"}},
                    },
                    "payment_reference": NULLABLE_TEXT,
                },
            },
        },
    },
    "Projection": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "version": {"type": "integer"},
            "position": {"type": "integer", "description": "the last event of the log it has folded"},
            "head": {"type": ["integer", "null"], "description": "the log's last event (null: store down)"},
            "lag": {"type": ["integer", "null"]},
            "state": {"enum": ["ok", "failing"]},
            "failure": {
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "description": "the event it stopped at; the error itself is in the logs and"
                        " `cpms projections status`",
                        "properties": {
                            "position": {"type": "integer"},
                            "event_type": {"type": "string"},
                            "error_type": {"type": "string"},
                            "since": {"type": "string", "format": "date-time"},
                            "attempts": {"type": "integer"},
                        },
                    },
                ]
            },
        },
    },
}


def _op(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "responses": {**responses, **ERRORS}, **extra}


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "cpms", "version": "1", "description": "Charge point management read/write API"},
    "security": [{"apiKey": []}],
    "components": {
        "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
        "schemas": SCHEMAS,
        "responses": {
            name: _json(_ref("Error"), description)
            for name, description in [
                ("BadRequest", "malformed input"),
                ("Unauthorized", "missing or unknown API key"),
                ("NotFound", "no such resource in this organization"),
                ("Conflict", "contradicts what is recorded"),
                ("Unprocessable", "well-formed but breaks a rule"),
                (
                    "Unavailable",
                    "a store is down (`unavailable`), or a read model the answer shows lags"
                    " (`read_models_lagging`) or is stopped at a failing event (`read_model_failing`;"
                    " a write is stored all the same); retry after the `Retry-After` seconds",
                ),
            ]
        },
    },
    "paths": {
        "/api/v1/sites": {
            "post": _op(
                "Create a site",
                {
                    "201": _json(_ref("Site"), "the created site"),
                    "422": {"$ref": "#/components/responses/Unprocessable"},
                },
                requestBody=_body("NewSite"),
            ),
            "get": _op(
                "Sites with their state", {"200": _json(_page("Site"), "a page of sites")}, parameters=PAGING
            ),
        },
        "/api/v1/sites/{site_id}": {
            "get": _op("Site overview", {"200": _json(_ref("Site"), "the site")}, parameters=[SITE_ID]),
            "patch": _op(
                "Change name, address, provider",
                {
                    "200": _json(_ref("Site"), "the changed site"),
                    "422": {"$ref": "#/components/responses/Unprocessable"},
                },
                parameters=[SITE_ID],
                requestBody=_body("SitePatch"),
            ),
        },
        "/api/v1/sites/{site_id}/charge-points": {
            "get": _op(
                "The charge-point sheet",
                {"200": _json(_page("ChargePoint"), "charge points")},
                parameters=[SITE_ID, *PAGING],
            ),
        },
        "/api/v1/stations": {
            "post": _op(
                "Commission a station",
                {
                    "201": _json(_ref("Station"), "the commissioned station"),
                    "409": {"$ref": "#/components/responses/Conflict"},
                    "422": {"$ref": "#/components/responses/Unprocessable"},
                },
                requestBody=_body("NewStation"),
            ),
            "get": _op(
                "EVSE controllers",
                {"200": _json(_page("Station"), "a page of stations")},
                parameters=[{**SITE_ID, "in": "query", "required": False}, *PAGING],
            ),
        },
        "/api/v1/stations/{ocpp_id}": {
            "get": _op("One station", {"200": _json(_ref("Station"), "the station")}, parameters=[OCPP_ID]),
        },
        "/api/v1/access-groups": {
            "post": _op(
                "Create an access group",
                {
                    "201": _json(_ref("AccessGroup"), "the created group"),
                    "422": {"$ref": "#/components/responses/Unprocessable"},
                },
                requestBody=_body("NewAccessGroup"),
            ),
            "get": _op(
                "Access groups", {"200": _json(_page("AccessGroup"), "a page of groups")}, parameters=PAGING
            ),
        },
        "/api/v1/access-groups/{group_id}": {
            "get": _op(
                "One access group with its cards",
                {"200": _json(_ref("AccessGroup"), "the group")},
                parameters=[GROUP_ID],
            ),
        },
        "/api/v1/access-groups/{group_id}/cards": {
            "post": _op(
                "Add a card to a group (or change its label)",
                {
                    "201": _json(_ref("AccessGroup"), "the group with its cards"),
                    "422": {"$ref": "#/components/responses/Unprocessable"},
                },
                parameters=[GROUP_ID],
                requestBody=_body("NewCard"),
            ),
        },
        "/api/v1/access-groups/{group_id}/cards/{uid}": {
            "delete": _op(
                "Remove a card from a group (uid in any case)",
                {"200": _json(_ref("AccessGroup"), "the group with its remaining cards")},
                parameters=[
                    GROUP_ID,
                    {"name": "uid", "in": "path", "required": True, "schema": {"type": "string"}},
                ],
            ),
        },
        "/api/v1/stations/{ocpp_id}/configuration": {
            "get": _op(
                "A station's configuration",
                {"200": _json(_ref("StationConfiguration"), "the configuration")},
                parameters=[OCPP_ID],
            ),
            "put": _op(
                "Set who may charge at a station; every field is required",
                {
                    "200": _json(_ref("StationConfiguration"), "the configuration"),
                    "422": {"$ref": "#/components/responses/Unprocessable"},
                },
                parameters=[OCPP_ID],
                requestBody=_body("StationConfiguration"),
            ),
        },
        "/api/v1/sites/{site_id}/sessions": {
            "get": _op(
                "Listed sessions of a site, newest first",
                {"200": _json(_page("Session"), "a page of sessions")},
                parameters=[SITE_ID, *SESSION_FILTERS, *PAGING],
            ),
        },
        "/api/v1/sites/{site_id}/sessions.csv": {
            "get": _op(
                "CSV export of the same sessions, streamed. Header: " + ", ".join(CSV_HEADER),
                {
                    "200": {
                        "description": "RFC 4180, UTF-8",
                        "content": {"text/csv": {"schema": {"type": "string"}}},
                    }
                },
                parameters=[SITE_ID, *SESSION_FILTERS],
            ),
        },
        "/api/v1/sessions/{session_id}": {
            "get": _op(
                "One session with its card details",
                {"200": _json(_ref("Session"), "the session")},
                parameters=[
                    {
                        "name": "session_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "format": "uuid"},
                    }
                ],
            ),
        },
        "/api/v1/projections": {
            "get": _op(
                "Each projection's position, lag and state",
                {"200": _json(_page("Projection"), "projections")},
            ),
        },
    },
}


async def openapi(request: Request, body: None, query: NoQuery) -> Response:
    return raw_json(_ENCODED)


_ENCODED = msgspec.json.encode(OPENAPI)
ROUTES = (
    Operation(
        "GET",
        "/api/v1/openapi.json",
        openapi,
        "This document",
        query=NoQuery,
        responses={200: OpenApiDocument},
        public=True,
    ),
)
