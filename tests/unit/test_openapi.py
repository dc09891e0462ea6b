"""The OpenAPI document describes every route the API serves."""

from __future__ import annotations

import re

import pytest

from cpms.api.app import OPERATIONS
from cpms.api.openapi import OPENAPI

ROUTES = [
    (operation.method, operation.path)
    for operation in OPERATIONS
    if operation.path not in ("/health", "/api/v1/openapi.json")
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_is_documented(method, path):
    assert path in OPENAPI["paths"], path
    assert method.lower() in OPENAPI["paths"][path]


def test_every_reference_resolves():
    text = repr(OPENAPI)
    for kind, name in re.findall(r"#/components/(\w+)/(\w+)", text):
        assert name in OPENAPI["components"][kind], name
