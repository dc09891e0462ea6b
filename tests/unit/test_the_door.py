"""The API's door: bodies and query strings decoded into their models, or refused with a 400 that
names the field; the domain behind it sees only values of the right type."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from msgspec import UNSET
from starlette.requests import Request

from cpms.aggregates.site import AddressChange
from cpms.api.errors import ApiError
from cpms.api.models.access import NewCard, StationConfiguration
from cpms.api.models.common import NoQuery, PageQuery
from cpms.api.models.sessions import SessionFilters, SessionsQuery
from cpms.api.models.sites import NewSite, SitePatch
from cpms.api.models.stations import NewStation, StationsQuery
from cpms.api.requests import MAX_BODY_BYTES, body_of, query_of

ADDRESS = {"street": "12 Quai de Valmy", "postal_code": "75010", "city": "Paris", "country": "FR"}


def request(body: bytes = b"", query: dict[str, str] | None = None, length: int | None = None) -> Request:
    chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)] or [b""]

    async def receive() -> dict[str, Any]:
        chunk = chunks.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    headers = [] if length is None else [(b"content-length", str(length).encode())]
    scope = {
        "type": "http",
        "method": "POST",
        "query_string": urlencode(query or {}).encode(),
        "headers": headers,
    }
    return Request(scope, receive)


async def refusal(body: bytes, model: type[Any]) -> ApiError:
    with pytest.raises(ApiError) as refused:
        await body_of(request(body), model)
    return refused.value


# -- bodies ---------------------------------------------------------------------------------------


async def test_a_body_is_decoded_into_its_model() -> None:
    body = b'{"ocpp_id": "CP-1", "serial_number": "SN", "site": {"name": "Depot", "address": %s}}' % (
        str(ADDRESS).replace("'", '"').encode()
    )
    station = await body_of(request(body), NewStation)
    assert (station.ocpp_id, station.connectors, station.site_id, station.password) == ("CP-1", 2, None, None)
    assert station.site is not None and station.site.address.value().city == "Paris"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"ocpp_id": "CP-1"}', "missing field(s): serial_number"),
        (b'{"ocpp_id": "CP-1", "serial_number": "x", "colour": "red"}', "unknown field(s): colour"),
        (
            b'{"ocpp_id": "CP-1", "serial_number": "x", "site": {"name": "n", "address": {"street": "s"}}}',
            "missing field(s): site.address.postal_code",
        ),
        (
            b'{"ocpp_id": "CP-1", "serial_number": "x", "site": {"name": "n", "floor": 2}}',
            "unknown field(s): site.floor",
        ),
        (
            b'{"ocpp_id": "CP-1", "serial_number": "x", "connectors": "2"}',
            "connectors: expected `int`, got `str`",
        ),
        (
            b'{"ocpp_id": "CP-1", "serial_number": "x", "connectors": 2.0}',
            "connectors: expected `int`, got `float`",
        ),
        (
            b'{"ocpp_id": "CP-1", "serial_number": "x", "connectors": true}',
            "connectors: expected `int`, got `bool`",
        ),
        (b'{"ocpp_id": 7, "serial_number": "x"}', "ocpp_id: expected `str`, got `int`"),
        (b'{"ocpp_id": "CP-1", "serial_number": "x", "evse_ids": ["a", 2]}', "evse_ids[1]: expected `str`"),
        (b'{"ocpp_id": "CP-1", "serial_number": "x", "security_profile": "2"}', "security_profile: expected"),
    ],
)
async def test_a_missing_unknown_or_mistyped_field_is_a_bad_request_naming_it(
    body: bytes, message: str
) -> None:
    refused = await refusal(body, NewStation)
    assert (refused.status, refused.code) == (400, "bad_request")
    assert refused.message.startswith(message), refused.message


@pytest.mark.parametrize(
    "body",
    [
        b'{"access_group_ids": null, "roaming_enabled": true, "scan2pay_enabled": true}',
        b'{"access_group_ids": [], "roaming_enabled": 1, "scan2pay_enabled": true}',
        b'{"access_group_ids": [], "roaming_enabled": true, "scan2pay_enabled": null}',
        b'{"access_group_ids": [7], "roaming_enabled": true, "scan2pay_enabled": true}',
    ],
)
async def test_a_configuration_takes_a_list_of_ids_and_two_booleans(body: bytes) -> None:
    refused = await refusal(body, StationConfiguration)
    assert refused.status == 400
    assert refused.message.split(":")[0].split("[")[0] in StationConfiguration.__struct_fields__


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[1, 2]", "request body must be a JSON object"),
        (b'"ABCD12"', "request body must be a JSON object"),
        (b"{not json", "request body is not valid JSON"),
        (b"", "request body is not valid JSON"),
        (b'{"uid": "\xff"}', "request body is not valid JSON"),
        (b'{"uid": "\\ud800"}', "request body is not valid JSON"),
        (b'{"uid": "x"} trailing', "request body is not valid JSON"),
    ],
)
async def test_what_is_not_a_json_object_is_a_bad_request(body: bytes, message: str) -> None:
    refused = await refusal(body, NewCard)
    assert (refused.status, refused.code) == (400, "bad_request")
    assert refused.message.startswith(message), refused.message


async def test_a_body_over_the_limit_is_refused_by_its_length_or_while_read() -> None:
    big = b'{"uid": "' + b"A" * MAX_BODY_BYTES + b'"}'
    for sent in (request(big, length=len(big)), request(big)):
        with pytest.raises(ApiError) as refused:
            await body_of(sent, NewCard)
        assert (refused.value.status, refused.value.code) == (413, "payload_too_large")


async def test_rules_are_left_to_the_domain() -> None:
    """Lengths, patterns and ranges are documented in the schema but refused by the domain (422)."""
    card = await body_of(request(b'{"uid": "AB CD", "label": ""}'), NewCard)
    assert (card.uid, card.label) == ("AB CD", "")
    station = await body_of(
        request(b'{"ocpp_id": "has/slash", "serial_number": "", "connectors": 0}'), NewStation
    )
    assert (station.ocpp_id, station.connectors) == ("has/slash", 0)


async def test_a_site_patch_tells_a_null_provider_from_an_absent_one() -> None:
    patch = await body_of(request(b'{"provider": null, "address": {"city": "Lille"}}'), SitePatch)
    assert (patch.name, patch.provider) == (UNSET, None)
    assert patch.address is not UNSET and patch.address.value() == AddressChange(city="Lille")
    refused = await refusal(b'{"name": null}', SitePatch)
    assert refused.message == "name: expected `str`, got `null`"


async def test_a_new_site_may_leave_out_its_provider() -> None:
    site = await body_of(
        request(b'{"name": "Depot", "address": %s}' % str(ADDRESS).replace("'", '"').encode()), NewSite
    )
    assert site.provider is None


# -- query strings ----------------------------------------------------------------------------------


def test_paging_parameters_are_converted_from_text() -> None:
    page = query_of(request(query={"limit": "2", "cursor": "abc"}), PageQuery)
    assert (page.limit, page.cursor) == (2, "abc")
    assert query_of(request(query={"cursor": ""}), PageQuery).cursor is None
    assert query_of(request(), PageQuery).limit == 50


@pytest.mark.parametrize(
    ("model", "query", "message"),
    [
        (PageQuery, {"limit": "0"}, "limit: expected `int` >= 1"),
        (PageQuery, {"limit": "501"}, "limit: expected `int` <= 500"),
        (PageQuery, {"limit": "abc"}, "limit: expected `int`, got `str`"),
        (PageQuery, {"colour": "red"}, "unknown parameter(s): colour"),
        (NoQuery, {"limit": "5"}, "unknown parameter(s): limit"),
        (StationsQuery, {"site_id": "not-a-uuid"}, "site_id: invalid UUID"),
        (SessionFilters, {"state": "Charging"}, "state: invalid enum value 'Charging'"),
        (SessionFilters, {"from": "yesterday"}, "from must be an ISO 8601 instant"),
        (SessionFilters, {"to": "2026-13-01T00:00:00Z"}, "to must be an ISO 8601 instant"),
        (SessionFilters, {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01"}, "from must be before to"),
        (SessionsQuery, {"from": "2026-01-01", "limit": "0"}, "limit: expected `int` >= 1"),
    ],
)
def test_a_malformed_or_unknown_parameter_is_a_bad_request_naming_it(
    model: type[Any], query: dict[str, str], message: str
) -> None:
    with pytest.raises(ApiError) as refused:
        query_of(request(query=query), model)
    assert (refused.value.status, refused.value.code) == (400, "bad_request")
    assert refused.value.message.startswith(message), refused.value.message


def test_session_filters_read_instants_as_every_instant_is_read() -> None:
    query = query_of(
        request(query={"from": "2026-01-01", "to": "2026-01-02T01:00:00+01:00", "state": "Active"}),
        SessionsQuery,
    )
    assert query.started_from == datetime(2026, 1, 1, tzinfo=UTC)
    assert query.started_before == datetime(2026, 1, 2, tzinfo=UTC)
    assert query.state == "Active"
    empty = query_of(request(query={"from": "", "to": ""}), SessionFilters)
    assert (empty.started_from, empty.started_before) == (None, None)


def test_a_station_filter_is_a_canonical_uuid() -> None:
    query = query_of(request(query={"site_id": "0B7A5A4E-3C1F-4D6E-9A8B-2F1E0D9C8B7A"}), StationsQuery)
    assert str(query.site_id) == "0b7a5a4e-3c1f-4d6e-9a8b-2f1e0d9c8b7a"
