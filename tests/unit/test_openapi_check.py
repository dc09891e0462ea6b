"""The check every API answer of the e2e suite goes through: it passes what the document says the
API answers, and fails what it does not."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.openapi_check import checker

SITE_ID = "0b7a5a4e-3c1f-4d6e-9a8b-2f1e0d9c8b7a"
SITE = {
    "id": SITE_ID,
    "name": "Depot",
    "address": {"street": "12 Quai de Valmy", "postal_code": "75010", "city": "Paris", "country": "FR"},
    "provider": "EDF",
    "coordinates": {"latitude": "48.872090", "longitude": "2.364680"},
    "tariff": None,
    "state": "Unknown",
    "created_at": "2026-11-23T08:10:00.000Z",
    "updated_at": "2026-11-23T08:10:00.000Z",
}
NOT_FOUND = {"error": {"code": "not_found", "message": "site not found"}}


def answer(method: str, path: str, status: int, body: Any = None, **headers: str) -> httpx.Response:
    request = httpx.Request(method, f"http://127.0.0.1:8000{path}")
    if isinstance(body, str):
        return httpx.Response(status, text=body, headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


def refused(response: httpx.Response) -> str:
    with pytest.raises(AssertionError) as failure:
        checker().check(response)
    return str(failure.value)


def test_a_documented_answer_passes() -> None:
    checker().check(answer("GET", f"/api/v1/sites/{SITE_ID}", 200, {**SITE, "charge_points": {"Unknown": 2}}))
    checker().check(answer("GET", "/api/v1/sites?limit=2", 200, {"items": [SITE], "next_cursor": None}))
    checker().check(answer("GET", f"/api/v1/sites/{SITE_ID}", 404, NOT_FOUND))


def test_a_body_missing_a_field_or_of_another_type_fails() -> None:
    assert "'state' is a required property" in refused(
        answer("GET", f"/api/v1/sites/{SITE_ID}", 200, {k: v for k, v in SITE.items() if k != "state"})
    )
    assert "body['items'][0]['state']" in refused(
        answer("GET", "/api/v1/sites", 200, {"items": [{**SITE, "state": "Busy"}], "next_cursor": None})
    )
    assert "is not a 'date-time'" in refused(
        answer("GET", f"/api/v1/sites/{SITE_ID}", 200, {**SITE, "created_at": "yesterday"})
    )


def test_an_error_must_have_the_error_shape() -> None:
    assert "does not match" in refused(
        answer("GET", f"/api/v1/sites/{SITE_ID}", 404, {"detail": "Not Found"})
    )


def test_a_status_the_operation_does_not_document_fails() -> None:
    assert "status not documented" in refused(answer("GET", f"/api/v1/sites/{SITE_ID}", 409, NOT_FOUND))
    assert "status not documented" in refused(answer("GET", "/api/v1/sites", 500, NOT_FOUND))


def test_a_documented_header_must_be_sent() -> None:
    lagging = {"error": {"code": "read_models_lagging", "message": "retry"}}
    checker().check(answer("GET", "/api/v1/sites", 503, lagging, **{"Retry-After": "1"}))
    assert "Retry-After missing" in refused(answer("GET", "/api/v1/sites", 503, lagging))


def test_the_content_type_must_be_the_documented_one() -> None:
    csv = f"/api/v1/sites/{SITE_ID}/sessions.csv"
    checker().check(answer("GET", csv, 200, "session_id\r\n", **{"Content-Type": "text/csv; charset=utf-8"}))
    assert "application/json not documented" in refused(answer("GET", csv, 200, []))


def test_a_route_the_document_does_not_know_may_only_be_not_found_or_a_wrong_method() -> None:
    checker().check(answer("GET", "/api/v1/nothing-here", 404, NOT_FOUND))
    checker().check(
        answer("DELETE", "/api/v1/sites", 405, {"error": {"code": "method_not_allowed", "message": "x"}})
    )
    assert "undocumented" in refused(answer("GET", "/api/v1/nothing-here", 200, {}))


def test_a_path_parameter_may_hold_an_encoded_slash_where_it_is_a_path() -> None:
    group = {
        "id": SITE_ID,
        "name": "Staff",
        "created_at": SITE["created_at"],
        "updated_at": SITE["updated_at"],
        "card_count": 0,
        "cards": [],
    }
    checker().check(answer("DELETE", f"/api/v1/access-groups/{SITE_ID}/cards/ab%2Fcd", 200, group))
