"""Commissioning simulated stations through the public HTTP API, as an operator would: one site
and one access group reused from run to run, a station per charger with a plan and EVSE
identities, and the group's cards granted at every station.

Blocking (urllib): the command runs it in a thread before the chargers start.
"""

from __future__ import annotations

import hashlib
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cpms.client import Api

SITE_NAME = "Simulation site"
GROUP_NAME = "Simulation cards"
SITE_ADDRESS = {"street": "1 Test Street", "postal_code": "00000", "city": "Simcity", "country": "FR"}


@dataclass
class Commissioned:
    site_id: str
    site_name: str
    site_created: bool
    created: list[str] = field(default_factory=list)  # stations commissioned by this run
    existing: list[str] = field(default_factory=list)  # stations of the organization already
    group_id: str | None = None
    warnings: list[str] = field(default_factory=list)


def evse_ids(ocpp_id: str, connectors: int) -> list[str]:
    """EVSE identities in the eMI3 form (country*operator*E id*connector), from the OCPP identity."""
    outlet = re.sub(r"[^A-Z0-9]", "", ocpp_id.upper())[:30]
    return [f"FR*SIM*E{outlet}*{connector}" for connector in range(1, connectors + 1)]


def card_uids(count: int) -> list[str]:
    """`count` card uids like MIFARE ones (8 hex digits), the same on every run."""
    return [
        hashlib.sha256(f"cpms-sim-card-{n}".encode()).hexdigest()[:8].upper() for n in range(1, count + 1)
    ]


def commission(
    api: Api,
    ocpp_ids: Sequence[str],
    *,
    connectors: int,
    plan: str = "Business",
    site_id: str | None = None,
    site_name: str = SITE_NAME,
    password: str | None = None,
    security_profile: int | None = None,
    id_tags: Sequence[str] = (),
) -> Commissioned:
    """Make every station of `ocpp_ids` ready to connect and charge with `id_tags`: reuse the site
    (`site_id`, or the one named `site_name`) and the "Simulation cards" group, creating them
    the first time; commission the stations the organization does not have yet; grant the group
    at every station. Stations commissioned before are kept as they are (warned when they differ)."""
    done = _site(api, site_id, site_name)
    known = {station["ocpp_id"]: station for station in api.pages("/stations")}
    for ocpp_id in ocpp_ids:
        if ocpp_id in known:
            done.existing.append(ocpp_id)
            done.warnings += _differences(known[ocpp_id], done.site_id, connectors, security_profile)
            continue
        body: dict[str, Any] = {
            "ocpp_id": ocpp_id,
            "serial_number": f"SN-{ocpp_id}",
            "site_id": done.site_id,
            "plan": plan,
            "connectors": connectors,
            "evse_ids": evse_ids(ocpp_id, connectors),
        }
        if password is not None:
            body["password"] = password
        if security_profile is not None:
            body["security_profile"] = security_profile
        if api.request("POST", "/stations", body, conflict_ok=True) is None:
            done.warnings.append(f"{ocpp_id} belongs to another organization: it will not be let in")
        else:
            done.created.append(ocpp_id)
    if id_tags:
        done.group_id = _group_with(api, id_tags)
        for ocpp_id in done.created:
            _grant(api, ocpp_id, done.group_id, {"access_group_ids": []})
        for ocpp_id in done.existing:
            _grant(api, ocpp_id, done.group_id, api.get(f"/stations/{_quoted(ocpp_id)}/configuration"))
    return done


def _site(api: Api, site_id: str | None, name: str) -> Commissioned:
    if site_id is not None:
        site = api.get(f"/sites/{_quoted(site_id)}")
        return Commissioned(site["id"], site["name"], site_created=False)
    for site in api.pages("/sites"):
        if site["name"] == name:
            return Commissioned(site["id"], name, site_created=False)
    site = api.request(
        "POST", "/sites", {"name": name, "address": SITE_ADDRESS, "provider": "Simulated Energy"}
    )
    return Commissioned(site["id"], name, site_created=True)


def _group_with(api: Api, uids: Sequence[str]) -> str:
    """The "Simulation cards" group (created the first time), holding every card of `uids`."""
    group = next((g for g in api.pages("/access-groups") if g["name"] == GROUP_NAME), None)
    if group is None:
        group = api.request("POST", "/access-groups", {"name": GROUP_NAME})
    group_id: str = group["id"]
    held = {card["uid"].upper() for card in api.get(f"/access-groups/{group_id}")["cards"]}
    for n, uid in enumerate(uids, start=1):
        if uid.upper() not in held:
            card = {"uid": uid, "label": f"Simulated card {n}"}
            api.request("POST", f"/access-groups/{group_id}/cards", card)
    return group_id


def _grant(api: Api, ocpp_id: str, group_id: str, configuration: dict[str, Any]) -> None:
    """Add the group to the station's configuration, keeping the rest of it."""
    if group_id in configuration["access_group_ids"]:
        return
    api.request(
        "PUT",
        f"/stations/{_quoted(ocpp_id)}/configuration",
        {
            "access_group_ids": [*configuration["access_group_ids"], group_id],
            "roaming_enabled": configuration.get("roaming_enabled", False),
            "scan2pay_enabled": configuration.get("scan2pay_enabled", False),
        },
    )


def _differences(
    station: dict[str, Any], site_id: str, connectors: int, security_profile: int | None
) -> list[str]:
    ocpp_id = station["ocpp_id"]
    differences = []
    if station["site_id"] != site_id:
        differences.append(f"{ocpp_id} is on another site ({station['site_id']}); it stays there")
    if station["connectors"] < connectors:
        differences.append(
            f"{ocpp_id} was commissioned with {station['connectors']} connectors, not {connectors}:"
            " the others will be refused"
        )
    if station["security_profile"] != (security_profile or 0):
        differences.append(
            f"{ocpp_id} was commissioned with security profile {station['security_profile']},"
            f" not {security_profile or 0}: it may be refused at the handshake"
        )
    return differences


def _quoted(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")
