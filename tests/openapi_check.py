"""Every answer an API client of the tests receives is checked against the OpenAPI document: its
status must be documented for its operation, its content type too, its documented headers
present, and a JSON body must validate against the schema documented for that status. A route
the document does not know may only answer 404 or 405, as an Error."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

import httpx
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from cpms.api.app import OPERATIONS
from cpms.api.openapi import document
from cpms.api.routing import PATH_PARAMETERS


class ResponseChecker:
    def __init__(self, openapi: Mapping[str, Any]) -> None:
        self.openapi = openapi
        self.paths = [(path, _template(path), methods) for path, methods in openapi["paths"].items()]
        self.error = {"$ref": "#/components/schemas/Error"}
        self.validators: dict[str, Draft202012Validator] = {}
        self.answered: set[tuple[str, str, int]] = set()  # (method, documented path, status) checked

    async def __call__(self, response: httpx.Response) -> None:
        """An httpx response hook: the body is read only when it is JSON, so a streamed CSV
        export stays streamed."""
        if _media_type(response) == "application/json":
            await response.aread()
        self.check(response)

    def check(self, response: httpx.Response) -> None:
        method = response.request.method.lower()
        path = response.request.url.raw_path.decode().partition("?")[0]
        where = f"{method.upper()} {path} answered {response.status_code}"
        operations = [(name, methods) for name, template, methods in self.paths if template.fullmatch(path)]
        documented, operation = next(
            ((name, methods[method]) for name, methods in operations if method in methods), (None, None)
        )
        if operation is None:
            expected = 405 if operations else 404
            assert response.status_code == expected, f"{where}: undocumented, and not {expected}"
            self._validate(self.error, response.json(), where)
            return
        answers = operation["responses"]
        assert str(response.status_code) in answers, f"{where}: status not documented ({sorted(answers)})"
        answer = self._resolve(answers[str(response.status_code)])
        content = answer.get("content", {})
        media_type = _media_type(response)
        assert media_type in content, f"{where}: {media_type} not documented ({sorted(content)})"
        for header in answer.get("headers", {}):
            assert header in response.headers, f"{where}: documented header {header} missing"
        if media_type == "application/json":
            self._validate(content[media_type]["schema"], response.json(), where)
        self.answered.add((method.upper(), str(documented), response.status_code))

    def _resolve(self, item: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in item:
            node: Any = self.openapi
            for part in item["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            item = node
        return item

    def _validate(self, schema: Mapping[str, Any], body: Any, where: str) -> None:
        key = json.dumps(schema, sort_keys=True)
        if key not in self.validators:
            # The schema's references point into the document's components: carry them along.
            root = {**schema, "components": self.openapi["components"]}
            self.validators[key] = Draft202012Validator(
                root, format_checker=Draft202012Validator.FORMAT_CHECKER
            )
        try:
            self.validators[key].validate(body)
        except ValidationError as error:
            path = "".join(f"[{part!r}]" for part in error.absolute_path)
            raise AssertionError(
                f"{where}: body{path} does not match the document: {error.message}"
            ) from None


def _template(path: str) -> re.Pattern[str]:
    """A path of the document as a pattern of raw (still percent-encoded) request paths."""
    pattern, position = "", 0
    for match in re.finditer(r"\{(\w+)\}", path):
        pattern += re.escape(path[position : match.start()])
        pattern += ".+" if PATH_PARAMETERS[match[1]].convertor == "path" else "[^/]+"
        position = match.end()
    return re.compile(pattern + re.escape(path[position:]))


def _media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").partition(";")[0].strip()


@cache
def checker() -> ResponseChecker:
    """The checker of the document this code base generates (and serves)."""
    return ResponseChecker(document(OPERATIONS))
