"""The OpenAPI document describes every route the API serves."""

from __future__ import annotations

import re

import pytest

from cpms.api import access_groups, operations, sessions, sites, stations
from cpms.api.app import PREFIX
from cpms.api.openapi import OPENAPI

ROUTES = [
    (method, PREFIX + re.sub(r"\{(\w+):\w+\}", r"{\1}", path))
    for module in (operations, sites, stations, sessions, access_groups)
    for method, path, _ in module.ROUTES
    if path != "/openapi.json"
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_is_documented(method, path):
    assert path in OPENAPI["paths"], path
    assert method.lower() in OPENAPI["paths"][path]


def test_every_reference_resolves():
    text = repr(OPENAPI)
    for kind, name in re.findall(r"#/components/(\w+)/(\w+)", text):
        assert name in OPENAPI["components"][kind], name
