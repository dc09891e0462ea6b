"""The HTTP API over real HTTP: sites and stations, read-your-writes, errors, tenants, paging."""

from __future__ import annotations

import httpx
import orjson
import pytest

from cpms.node import all_projections
from tests import openapi_check
from tests.support import ADDRESS, OPERATOR_KEY, api_client, commission, create_site, operator_client


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]["message"]


async def test_a_created_site_is_returned_and_listed_at_once(api):
    created = await create_site(api, "Lyon Part-Dieu")
    assert created["name"] == "Lyon Part-Dieu"
    assert created["address"] == ADDRESS
    assert created["provider"] == "EDF"
    assert created["state"] == "Unknown"
    assert created["created_at"] == created["updated_at"]
    listed = (await api.get("/sites")).json()
    assert [s["id"] for s in listed["items"]] == [created["id"]]
    assert listed["next_cursor"] is None


async def test_patch_changes_name_provider_and_single_address_fields(api):
    site = await create_site(api)
    response = await api.patch(
        f"/sites/{site['id']}",
        json={"name": "Depot North", "address": {"city": "Lille"}, "provider": "Engie"},
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["name"] == "Depot North"
    assert changed["provider"] == "Engie"
    assert changed["address"] == {**ADDRESS, "city": "Lille"}
    assert changed["updated_at"] >= site["updated_at"]
    assert (await api.get(f"/sites/{site['id']}")).json() == changed


async def test_commissioning_updates_the_site_and_lists_the_station(api):
    site = await create_site(api)
    station = await commission(api, site["id"], "CP-1", plan="Business", connectors=3)
    assert station["connection"] == "Disconnected"
    assert station["plan"] == "Business"
    assert station["evse_ids"] == [None, None, None]
    assert (await api.get("/stations/CP-1")).json() == station
    overview = (await api.get(f"/sites/{site['id']}")).json()
    assert overview["charge_points"] == {"Unknown": 3}
    assert overview["updated_at"] >= site["updated_at"]
    sheet = (await api.get(f"/sites/{site['id']}/charge-points")).json()["items"]
    assert [(r["connector_id"], r["status"], r["last_ocpp_status"]) for r in sheet] == [
        (1, "Unknown", None),
        (2, "Unknown", None),
        (3, "Unknown", None),
    ]


async def test_commissioning_with_an_inline_site_creates_that_site(api):
    response = await api.post(
        "/stations",
        json={"ocpp_id": "CP-NEW", "serial_number": "SN1", "site": {"name": "New site", "address": ADDRESS}},
    )
    assert response.status_code == 201, response.text
    site_id = response.json()["site_id"]
    assert (await api.get(f"/sites/{site_id}")).json()["name"] == "New site"


async def test_a_duplicate_ocpp_id_is_a_conflict_even_across_organizations(node, api):
    site = await create_site(api)
    await commission(api, site["id"], "CP-DUP")
    _error(
        await api.post("/stations", json={"ocpp_id": "CP-DUP", "serial_number": "x", "site_id": site["id"]}),
        409,
        "conflict",
    )
    async with await api_client(node, "Other Org") as other:
        their_site = await create_site(other)
        _error(
            await other.post(
                "/stations", json={"ocpp_id": "CP-DUP", "serial_number": "y", "site_id": their_site["id"]}
            ),
            409,
            "conflict",
        )


async def test_another_organizations_resources_are_not_found(node, api):
    site = await create_site(api)
    await commission(api, site["id"], "CP-MINE")
    async with await api_client(node, "Intruder") as other:
        _error(await other.get(f"/sites/{site['id']}"), 404, "not_found")
        _error(await other.patch(f"/sites/{site['id']}", json={"name": "pwned"}), 404, "not_found")
        _error(await other.get(f"/sites/{site['id']}/charge-points"), 404, "not_found")
        _error(await other.get("/stations/CP-MINE"), 404, "not_found")
        _error(
            await other.post(
                "/stations", json={"ocpp_id": "CP-X", "serial_number": "x", "site_id": site["id"]}
            ),
            422,  # an id in a body names nothing of the caller's: a broken rule, not a missing resource
            "invalid_value",
        )
        _error(await other.get("/stations", params={"site_id": site["id"]}), 422, "invalid_value")
        assert (await other.get("/sites")).json()["items"] == []
        assert (await other.get("/stations")).json()["items"] == []
    assert (await api.get(f"/sites/{site['id']}")).json()["name"] == "Depot"


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer cpms_unknown", "Basic abc"])
async def test_requests_without_a_valid_api_key_are_unauthorized(node, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{node.http_port}/api/v1") as anon:
        response = await anon.get("/sites", headers=headers)
    _error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "bad_request"),
        (b"[1, 2]", 400, "bad_request"),
        (b'{"name": "x", "address": {}, "colour": "red"}', 400, "bad_request"),
        (
            b'{"name": "", "address": {"street": "a", "postal_code": "1", "city": "c", "country": "FR"}}',
            422,
            "invalid_value",
        ),
        # Wrong types and missing fields are malformed input, refused at the door: 400 since issue
        # 8 (422 before, when the domain checked types), as PRODUCT.md section 4 says.
        (
            b'{"name": 7, "address": {"street": "a", "postal_code": "1", "city": "c", "country": "FR"}}',
            400,
            "bad_request",
        ),
        (b'{"name": "x", "address": {"street": "a"}}', 400, "bad_request"),
        (b'{"name": "x", "address": "Paris"}', 400, "bad_request"),
    ],
)
async def test_bad_site_input_gets_a_clear_error_and_stores_nothing(api, body, status, code):
    response = await api.post("/sites", content=body, headers={"Content-Type": "application/json"})
    _error(response, status, code)
    assert (await api.get("/sites")).json()["items"] == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"ocpp_id": "has/slash", "serial_number": "x"}, 422),
        ({"ocpp_id": "X" * 49, "serial_number": "x"}, 422),
        ({"ocpp_id": "CP-1", "serial_number": "x", "connectors": 0}, 422),
        ({"ocpp_id": "CP-1", "serial_number": "x", "connectors": "2"}, 400),  # 422 before issue 8
        ({"ocpp_id": "CP-1", "serial_number": "x", "evse_ids": ["only-one"]}, 422),
        ({"ocpp_id": "CP-1", "serial_number": "x", "password": "short"}, 422),
        ({"ocpp_id": "CP-1", "serial_number": "x", "site_id": "not-a-uuid"}, 400),  # 404 before issue 9
        ({"ocpp_id": "CP-1", "serial_number": "x", "site_id": "00000000-0000-0000-0000-000000000000"}, 422),
        ({"ocpp_id": "CP-1"}, 400),
    ],
)
async def test_bad_station_input_gets_a_clear_error_and_stores_nothing(api, body, status):
    site = await create_site(api)
    body = {"site_id": site["id"], **body}
    response = await api.post("/stations", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"]
    assert (await api.get("/stations")).json()["items"] == []


async def test_giving_both_site_id_and_site_is_rejected(api):
    site = await create_site(api)
    response = await api.post(
        "/stations",
        json={
            "ocpp_id": "CP-1",
            "serial_number": "x",
            "site_id": site["id"],
            "site": {"name": "n", "address": ADDRESS},
        },
    )
    _error(response, 422, "invalid_value")


async def test_lists_page_with_limit_and_an_opaque_cursor(api):
    ids = [(await create_site(api, f"Site {n}"))["id"] for n in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await api.get("/sites", params=params)).json()
        assert len(page["items"]) <= 2
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=abc", "cursor=%%%garbage", "cursor=WzFd"])
async def test_bad_paging_parameters_are_bad_requests(api, query):
    _error(await api.get(f"/sites?{query}"), 400, "bad_request")


async def test_unknown_routes_and_methods_answer_in_the_error_format(api):
    _error(await api.get("/nothing-here"), 404, "not_found")
    _error(await api.delete("/sites"), 405, "method_not_allowed")


async def test_the_openapi_document_describes_the_endpoints(api):
    document = (await api.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    for path in [
        "/api/v1/sites",
        "/api/v1/sites/{site_id}",
        "/api/v1/sites/{site_id}/charge-points",
        "/api/v1/stations",
        "/api/v1/stations/{ocpp_id}",
        "/api/v1/sites/{site_id}/sessions",
        "/api/v1/sites/{site_id}/sessions.csv",
        "/api/v1/sessions/{session_id}",
    ]:
        assert path in document["paths"]


async def test_the_served_document_is_the_one_every_answer_is_checked_against(api):
    assert (await api.get("/openapi.json")).json() == openapi_check.checker().openapi
    assert openapi_check.checker() in api.event_hooks["response"]


async def test_health_answers_as_documented(api, node):
    response = await api.get(f"http://127.0.0.1:{node.http_port}/health")  # checked like every answer
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("/sites?colour=red", "colour"),
        ("/sites?limit=abc", "limit"),
        ("/stations?site_id=not-a-uuid", "site_id"),  # 404 before issue 8: a parameter is no path
        ("/access-groups?page=2", "page"),
        ("/projections?verbose=1", "verbose"),  # (the operator's key: see below)
    ],
)
async def test_an_unknown_or_malformed_query_parameter_is_a_bad_request_naming_it(api, path, named):
    headers = {"Authorization": f"Bearer {OPERATOR_KEY}"} if path.startswith("/projections") else None
    assert named in _error(await api.get(path, headers=headers), 400, "bad_request")


async def test_a_patch_changes_only_what_it_gives_and_a_null_provider_clears_it(api):
    site = await create_site(api)
    response = await api.patch(f"/sites/{site['id']}", json={"provider": None})
    assert response.status_code == 200, response.text
    assert {k: v for k, v in response.json().items() if k != "updated_at"} == {
        **{k: v for k, v in site.items() if k != "updated_at"},
        "provider": "",
        "charge_points": {},
    }


@pytest.mark.parametrize(
    ("body", "status", "named"),
    [
        ({"name": None}, 400, "name"),
        ({"address": {"floor": "2"}}, 400, "address.floor"),
        ({"address": {"city": 75}}, 400, "address.city"),
        ({"colour": "red"}, 400, "colour"),
        ({"address": {"city": "  "}}, 422, "address.city"),
    ],
)
async def test_a_bad_patch_is_refused_and_changes_nothing(api, body, status, named):
    site = await create_site(api)
    response = await api.patch(f"/sites/{site['id']}", json=body)
    assert named in _error(response, status, "bad_request" if status == 400 else "invalid_value")
    assert (await api.get(f"/sites/{site['id']}")).json()["address"] == ADDRESS


async def test_a_body_that_is_not_utf8_or_too_large_is_refused(api):
    headers = {"Content-Type": "application/json"}
    not_utf8 = await api.post("/access-groups", content=b'{"name": "\xff"}', headers=headers)
    _error(not_utf8, 400, "bad_request")
    huge = b'{"name": "' + b"x" * (256 * 1024) + b'"}'
    _error(await api.post("/access-groups", content=huge, headers=headers), 413, "payload_too_large")
    assert (await api.get("/access-groups")).json()["items"] == []


async def test_projections_report_their_position_and_lag(api, node):
    assert (await api.get("/projections")).status_code == 403  # every organization's: the operator's
    await create_site(api)
    async with operator_client(node) as operator:
        items = (await operator.get("/projections")).json()["items"]
    assert {p["name"] for p in items} == {p.name for p in all_projections()}
    assert {"sites", "charge_points", "stations", "sessions"} <= {p["name"] for p in items}
    assert all(p["lag"] == 0 and p["position"] > 0 for p in items)


async def test_an_unknown_site_in_a_filter_is_unprocessable_not_an_empty_list(api):
    response = await api.get("/stations", params={"site_id": "00000000-0000-0000-0000-000000000000"})
    assert "site_id" in _error(response, 422, "invalid_value")
    site = await create_site(api)
    assert (await api.get("/stations", params={"site_id": site["id"]})).json()["items"] == []


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
async def test_a_body_declared_as_anything_but_json_is_refused_and_stores_nothing(api, content_type):
    body = orjson.dumps({"name": "Depot", "address": ADDRESS})
    response = await api.post("/sites", content=body, headers={"Content-Type": content_type})
    assert content_type in _error(response, 415, "unsupported_media_type")
    assert (await api.get("/sites")).json()["items"] == []


@pytest.mark.parametrize(
    "content_type", [None, "application/json; charset=utf-8", "application/merge-patch+json"]
)
async def test_json_is_taken_with_or_without_its_content_type(api, content_type):
    headers = {} if content_type is None else {"Content-Type": content_type}
    body = orjson.dumps({"name": "Depot", "address": ADDRESS})
    response = await api.post("/sites", content=body, headers=headers)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("country", ["Germany", "XX", "F", "FRA", "12"])
async def test_a_country_that_is_no_iso_3166_alpha_2_code_is_refused(api, country):
    response = await api.post("/sites", json={"name": "Depot", "address": {**ADDRESS, "country": country}})
    assert "ISO 3166-1 alpha-2" in _error(response, 422, "invalid_value")
    assert (await api.get("/sites")).json()["items"] == []


async def test_a_country_code_is_kept_in_capitals(api):
    site = await create_site(api)
    response = await api.patch(f"/sites/{site['id']}", json={"address": {"country": "de"}})
    assert response.json()["address"]["country"] == "DE"


async def test_coordinates_are_kept_to_six_decimals_patched_and_cleared_by_null(api):
    body = {
        "name": "Depot",
        "address": ADDRESS,
        "coordinates": {"latitude": 48.87209, "longitude": 2.3646812},
    }
    created = (await api.post("/sites", json=body)).json()
    assert created["coordinates"] == {"latitude": "48.872090", "longitude": "2.364681"}
    assert (await create_site(api, "Elsewhere"))["coordinates"] is None
    moved = await api.patch(
        f"/sites/{created['id']}", json={"coordinates": {"latitude": -33.9, "longitude": 151.2}}
    )
    assert moved.json()["coordinates"] == {"latitude": "-33.900000", "longitude": "151.200000"}
    kept = await api.patch(f"/sites/{created['id']}", json={"name": "Renamed"})
    assert kept.json()["coordinates"] == moved.json()["coordinates"]
    cleared = await api.patch(f"/sites/{created['id']}", json={"coordinates": None})
    assert cleared.json()["coordinates"] is None


@pytest.mark.parametrize(
    ("coordinates", "status", "named"),
    [
        ({"latitude": 90.5, "longitude": 2.3}, 422, "coordinates.latitude"),
        ({"latitude": 48.8, "longitude": -180.01}, 422, "coordinates.longitude"),
        ({"latitude": "48.8", "longitude": 2.3}, 400, "coordinates.latitude"),
        ({"latitude": 48.8}, 400, "coordinates"),
    ],
)
async def test_bad_coordinates_are_refused_and_change_nothing(api, coordinates, status, named):
    site = await create_site(api)
    response = await api.patch(f"/sites/{site['id']}", json={"coordinates": coordinates})
    assert named in _error(response, status, "bad_request" if status == 400 else "invalid_value")
    assert (await api.get(f"/sites/{site['id']}")).json()["coordinates"] is None
    created = await api.post("/sites", json={"name": "x", "address": ADDRESS, "coordinates": coordinates})
    _error(created, status, "bad_request" if status == 400 else "invalid_value")
    assert len((await api.get("/sites")).json()["items"]) == 1
