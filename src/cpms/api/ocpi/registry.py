"""The OCPI modules cpms offers: each adds its routes and its entry in the 2.2.1 version details.

A module is a `Module(identifier, role, path, routes)`; `MODULES` lists them. Locations,
Sessions and CDRs sender modules add themselves to `MODULES` the same way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from starlette.routing import Route

VERSION = "2.2.1"


@dataclass(frozen=True)
class Module:
    identifier: str  # the OCPI ModuleID: credentials, locations, tokens...
    role: str | None  # SENDER or RECEIVER as the spec's InterfaceRole; None for credentials
    path: str  # under /ocpi/2.2.1, e.g. "/tokens"
    routes: Sequence[Route]


def version_details(base_url: str, modules: Sequence[Module]) -> dict[str, object]:
    return {
        "version": VERSION,
        "endpoints": [
            {"identifier": m.identifier, "role": m.role or "SENDER", "url": f"{base_url}/{VERSION}{m.path}"}
            for m in modules
        ],
    }
