"""The OpenAPI 3.1 document, generated from the operations and their models; served as built."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from http import HTTPStatus
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from cpms.api.context import SAFE_METHODS, SESSION_COOKIE
from cpms.api.models.common import Error, NoQuery
from cpms.api.models.operations import OpenApiDocument
from cpms.api.requests import MAX_BODY_BYTES
from cpms.api.responses import raw_json
from cpms.api.routing import PATH_PARAMETERS, Answer, Csv, Operation

REF = "#/components/schemas/{name}"
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
# Each error status, answered as an Error: its name among the document's responses, and when.
ERRORS = {
    400: (
        "BadRequest",
        "malformed input: a body that is not a JSON object, or a field or query parameter that is"
        " missing, unknown or of the wrong type",
    ),
    401: ("Unauthorized", "missing or unknown API key"),
    403: ("Forbidden", "an operator endpoint asked with an organization's key, not the operator's"),
    404: ("NotFound", "no such resource in this organization"),
    409: (
        "Conflict",
        "contradicts what is recorded; for a command, also a station that is not connected (code offline)",
    ),
    413: ("PayloadTooLarge", f"a request body over {MAX_BODY_BYTES} bytes"),
    415: ("UnsupportedMediaType", "a body sent with a Content-Type other than application/json"),
    422: ("Unprocessable", "well-formed but breaks a rule"),
    504: (
        "StationTimeout",
        "a command the station did not answer in time (code timeout); it is recorded, at the Location given",
    ),
    503: (
        "Unavailable",
        "a store is down (`unavailable`), or a read model the answer shows lags"
        " (`read_models_lagging`) or is stopped at a failing event (`read_model_failing`; a write"
        " is stored all the same); retry after the `Retry-After` seconds",
    ),
}
HEADERS = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}}},
    503: RETRY_AFTER,
}


def document(operations: Sequence[Operation[Any, Any]]) -> dict[str, Any]:
    models = _models(operations)
    refs, schemas = msgspec.json.schema_components(models, ref_template=REF)
    ref_of = dict(zip(models, refs, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        methods = paths.setdefault(operation.path, {})
        assert operation.method.lower() not in methods, f"{operation.method} {operation.path} twice"
        methods[operation.method.lower()] = _operation(operation, ref_of)
    ids = [op["operationId"] for methods in paths.values() for op in methods.values()]
    assert len(ids) == len(set(ids)), "endpoint names are operation ids: make them unique"
    return {
        "openapi": "3.1.0",
        "info": {"title": "cpms", "version": "1", "description": "Charge point management read/write API"},
        "security": [{"apiKey": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer"},
                "portalSession": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": SESSION_COOKIE,
                    "description": "the web portal's sign-in (the same API key); GET only",
                },
            },
            "schemas": schemas,
            "responses": {
                name: {
                    "description": description,
                    "content": {"application/json": {"schema": ref_of[Error]}},
                    **({"headers": HEADERS[status]} if status in HEADERS else {}),
                }
                for status, (name, description) in ERRORS.items()
            },
        },
    }


async def openapi(request: Request, body: None, query: NoQuery) -> Response:
    return raw_json(request.app.state.openapi)


def _models(operations: Iterable[Operation[Any, Any]]) -> list[type[Any]]:
    """Every model a body or an answer is described by, in a stable order."""
    found: set[type[Any]] = {Error}
    for operation in operations:
        found.update(answer for answer in operation.responses.values() if not isinstance(answer, Csv))
        if operation.body is not None:
            found.add(operation.body)
    return sorted(found, key=lambda model: (model.__module__, model.__qualname__))


def _operation(operation: Operation[Any, Any], ref_of: dict[type[Any], Any]) -> dict[str, Any]:
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "description": parameter.description,
            "schema": dict(parameter.schema),
        }
        for name in operation.path_parameters
        for parameter in [PATH_PARAMETERS[name]]
    ]
    parameters += _query_parameters(operation.query)
    responses = {
        str(status): _answer(status, answer, ref_of) for status, answer in operation.responses.items()
    }
    responses |= {
        str(status): {"$ref": f"#/components/responses/{ERRORS[status][0]}"}
        for status in operation.error_statuses
    }
    described: dict[str, Any] = {"operationId": operation.endpoint.__name__, "summary": operation.summary}
    if parameters:
        described["parameters"] = parameters
    if operation.body is not None:
        described["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref_of[operation.body]}},
        }
    described["responses"] = dict(sorted(responses.items()))
    if operation.public:
        described["security"] = []
    elif operation.operator:
        described["security"] = [{"apiKey": []}]
        described["description"] = "Operator scope: the operator's key (CPMS_OPERATOR_API_KEY)."
    elif operation.method in SAFE_METHODS:
        described["security"] = [{"apiKey": []}, {"portalSession": []}]
    return described


def _answer(status: int, answer: Answer, ref_of: dict[type[Any], Any]) -> dict[str, Any]:
    described: dict[str, Any] = {"description": HTTPStatus(status).phrase}
    if isinstance(answer, Csv):
        described["description"] = answer.description
        described["content"] = {"text/csv": {"schema": {"type": "string"}}}
    else:
        described["content"] = {"application/json": {"schema": ref_of[answer]}}
    if status in HEADERS:
        described["headers"] = HEADERS[status]
    return described


def _query_parameters(model: type[Any]) -> list[dict[str, Any]]:
    """A query model's fields as parameters. A parameter is optional by being absent, so the
    `null` its field may hold is left out of its schema."""
    (ref,), definitions = msgspec.json.schema_components([model], ref_template=REF)
    schema = definitions[ref["$ref"].rpartition("/")[2]]
    assert len(definitions) == 1, f"{model.__name__}: a query parameter is a scalar, not a model"
    parameters = []
    for name, field_schema in schema["properties"].items():
        field_schema = dict(field_schema)
        options = [option for option in field_schema.pop("anyOf", []) if option != {"type": "null"}]
        if len(options) == 1:
            field_schema |= options[0]
        elif options:
            field_schema["anyOf"] = options
        if field_schema.get("default", ...) is None:
            del field_schema["default"]
        parameter = {"name": name, "in": "query", "required": name in schema.get("required", ())}
        if "description" in field_schema:
            parameter["description"] = field_schema.pop("description")
        parameters.append({**parameter, "schema": field_schema})
    return parameters


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
