"""The OpenAPI document is generated from the operations the app serves, and is a valid one."""

from __future__ import annotations

import re
from typing import Any, cast, get_type_hints

import pytest
from openapi_spec_validator import validate
from starlette.routing import Route

from cpms.api.app import OPERATIONS, create_app
from cpms.api.context import ApiServices
from cpms.api.openapi import document

DOCUMENT = document(OPERATIONS)


def test_the_generated_document_is_valid_openapi_3_1() -> None:
    validate(cast(Any, DOCUMENT))
    assert DOCUMENT["openapi"] == "3.1.0"


def test_the_document_describes_exactly_the_routes_the_app_serves() -> None:
    app = create_app(cast(ApiServices, None))
    served = {
        (method.lower(), re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path))
        for route in app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = {(method, path) for path, methods in DOCUMENT["paths"].items() for method in methods}
    assert served == documented
    assert ("get", "/api/v1/openapi.json") in documented


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: f"{op.method} {op.path}")
def test_each_endpoint_takes_the_models_its_operation_declares(operation: Any) -> None:
    """mypy checks this where it can infer; a route declared without a body model whose endpoint
    wants one would otherwise hand it None."""
    hints = get_type_hints(operation.endpoint)
    assert hints["body"] is (type(None) if operation.body is None else operation.body)
    assert hints["query"] is operation.query


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: f"{op.method} {op.path}")
def test_each_operation_documents_the_errors_of_its_kind(operation: Any) -> None:
    responses = DOCUMENT["paths"][operation.path][operation.method.lower()]["responses"]
    assert "400" in responses  # every query string is decoded, and refused when malformed
    assert ("401" in responses) is not operation.public
    assert ("503" in responses) is (not operation.public or 503 in operation.responses)
    assert ("413" in responses) is (operation.body is not None)
    for status, response in responses.items():
        if status >= "400" and operation.path != "/health":
            assert response["$ref"].startswith("#/components/responses/"), status


def test_query_parameters_are_described_without_a_null_alternative() -> None:
    parameters = DOCUMENT["paths"]["/api/v1/sites/{site_id}/sessions"]["get"]["parameters"]
    by_name = {p["name"]: p for p in parameters}
    assert list(by_name) == ["site_id", "from", "to", "state", "limit", "cursor"]
    assert by_name["site_id"]["in"] == "path" and by_name["site_id"]["required"]
    assert by_name["from"]["schema"] == {"type": "string", "format": "date-time"}
    assert by_name["state"]["schema"] == {"enum": ["Active", "Completed"]}
    assert by_name["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}
    assert not any(p["required"] for p in parameters if p["in"] == "query")


def test_request_bodies_refuse_unknown_fields_and_document_the_domains_rules() -> None:
    schemas = DOCUMENT["components"]["schemas"]
    for name in ("NewSite", "SitePatch", "Address", "NewStation", "NewAccessGroup", "NewCard"):
        assert schemas[name]["additionalProperties"] is False, name
    station = schemas["NewStation"]
    assert station["required"] == ["ocpp_id", "serial_number"]
    assert station["properties"]["connectors"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 64,
        "default": 2,
    }
    assert station["properties"]["ocpp_id"]["pattern"] == "^[A-Za-z0-9._:*+|@\\-]{1,48}$"
    assert schemas["NewCard"]["properties"]["uid"]["pattern"] == "^[!-~]{1,36}$"


def test_public_operations_need_no_key() -> None:
    for path in ("/health", "/api/v1/openapi.json"):
        assert DOCUMENT["paths"][path]["get"]["security"] == []
    assert "security" not in DOCUMENT["paths"]["/api/v1/sites"]["post"]  # the document's: Bearer


def test_reads_also_take_the_portals_session_cookie_and_writes_do_not() -> None:
    schemes = DOCUMENT["components"]["securitySchemes"]
    assert schemes["portalSession"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": "cpms_session",
        "description": "the web portal's sign-in (the same API key); GET only",
    }
    for path, methods in DOCUMENT["paths"].items():
        for method, described in methods.items():
            if path in ("/health", "/api/v1/openapi.json"):
                continue
            if path == "/api/v1/projections":  # the operator's: Bearer only, not the portal's cookie
                assert described["security"] == [{"apiKey": []}]
                assert "403" in described["responses"]
                continue
            if method == "get":
                assert described["security"] == [{"apiKey": []}, {"portalSession": []}], path
            else:
                assert "security" not in described, (method, path)
