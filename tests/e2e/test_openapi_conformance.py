"""Every operation of the API answers one real request, and every answer is the document's: the
generated OpenAPI document is fetched from the server, each answer is checked against it, and
the test fails if an operation (a route added later, say) was left out of the walk."""

from __future__ import annotations

import httpx

from cpms.api.app import OPERATIONS
from tests.commanded import Commanded16
from tests.openapi_check import ResponseChecker
from tests.support import OPERATOR_KEY, access_group, configure, connected, peer_connected, settled

ADDRESS = {"street": "12 Quai de Valmy", "postal_code": "75010", "city": "Paris", "country": "FR"}
NOW = "2026-03-02T08:00:00Z"


async def test_every_operation_answers_a_real_request_as_its_document_says(start_node):
    node = await start_node()
    _, key = await node.network.create_organization("Conformance")
    base = f"http://127.0.0.1:{node.http_port}"
    async with httpx.AsyncClient(base_url=base, timeout=15) as anonymous:
        served = await anonymous.get("/api/v1/openapi.json")
    assert served.status_code == 200
    checker = ResponseChecker(served.json())  # the document as served, not as imported
    async with (
        httpx.AsyncClient(base_url=base, timeout=15, event_hooks={"response": [checker]}) as root,
        httpx.AsyncClient(
            base_url=f"{base}/api/v1",
            headers={"Authorization": f"Bearer {key}"},
            timeout=15,
            event_hooks={"response": [checker]},
        ) as api,
    ):
        assert (await root.get("/health")).status_code == 200
        assert (await api.get("/openapi.json")).status_code == 200
        located = {"latitude": 48.87209, "longitude": 2.36468}
        site = (
            await api.post("/sites", json={"name": "Depot", "address": ADDRESS, "coordinates": located})
        ).json()
        await api.get("/sites")
        await api.get(f"/sites/{site['id']}")
        await api.patch(f"/sites/{site['id']}", json={"provider": "EDF"})
        tariff = {"currency": "EUR", "price_per_kwh": "0.35", "vat_percent": "20"}
        await api.put(f"/sites/{site['id']}/tariff", json=tariff)
        await api.delete(f"/sites/{site['id']}/tariff")
        await api.post("/stations", json={"ocpp_id": "CP-DOC", "serial_number": "SN", "site_id": site["id"]})
        await api.get("/stations", params={"site_id": site["id"]})
        await api.get("/stations/CP-DOC")
        group = await access_group(api, "Staff", {"CAFE01": "Alice", "CAFE02": "Bob"})
        await api.get("/access-groups")
        await api.get(f"/access-groups/{group}")
        await api.delete(f"/access-groups/{group}/cards/CAFE02")
        await configure(api, "CP-DOC", group)
        await api.get("/stations/CP-DOC/configuration")
        async with connected(node, "CP-DOC") as charger:
            started = await charger.start_transaction(1, "CAFE01", 1000, NOW)
            await charger.stop(started.transaction_id, 2500, "2026-03-02T09:00:00Z")
        await settled(node)  # a charger's messages are not an API write: nothing waited for them
        await api.get(f"/sites/{site['id']}/charge-points")
        sessions = (await api.get(f"/sites/{site['id']}/sessions")).json()["items"]
        await api.get(f"/sessions/{sessions[0]['id']}")
        await api.get(f"/sites/{site['id']}/sessions.csv")
        await api.get(f"/sites/{site['id']}/history", params={"limit": 5})
        by_week = {"from": "2026-02-23", "to": "2026-03-09", "bucket": "week", "tz": "Europe/Paris"}
        await api.get("/analytics", params={**by_week, "site_id": site["id"]})
        await api.get("/analytics", params={"tz": "Nowhere/Atlantis"})
        assert (await api.get("/projections")).status_code == 403  # an organization's key
        operator = {"Authorization": f"Bearer {OPERATOR_KEY}"}
        assert (await api.get("/projections", headers=operator)).status_code == 200
        await api.put("/roaming/party", json={"country_code": "FR", "party_id": "CPO", "name": "Acme"})
        await api.post("/roaming/partners", json={"country_code": "FR", "party_id": "ABC", "name": "Roam"})
        await api.get("/roaming/partners")
        await api.get("/roaming/activity", params={"days": 7})
        await api.get("/roaming/activity", params={"days": 91})
        await configure(api, "CP-DOC", group, scan2pay_enabled=True)
        offline = await api.post("/stations/CP-DOC/reset", json={"type": "soft"})
        assert offline.status_code == 409  # checked against the document like any answer
        async with peer_connected(node, "CP-DOC", Commanded16, "ocpp1.6") as commanded:
            start = (await api.post("/stations/CP-DOC/connectors/1/start", json={"id_tag": "CAFE01"})).json()
            await commanded.settle()
            await settled(node)
            await api.get(f"/commands/{start['id']}")
            session_id = (await api.get(f"/commands/{start['id']}")).json()["session_id"]
            await api.post(f"/sessions/{session_id}/stop")
            await api.post("/stations/CP-DOC/connectors/2/scan2pay", json={"payment_reference": "pi_1"})
            await api.post("/stations/CP-DOC/availability", json={"operative": False, "connector_id": 2})
            await api.post("/stations/CP-DOC/connectors/2/unlock")
            await api.post("/stations/CP-DOC/reset", json={"type": "hard"})
            await commanded.settle()
        await api.get("/stations/CP-DOC/commands", params={"limit": 3})

    succeeded = {(method, path) for method, path, status in checker.answered if status < 300}
    missing = sorted(
        f"{operation.method} {operation.path}"
        for operation in OPERATIONS
        if (operation.method, operation.path) not in succeeded
    )
    assert not missing, f"operations this walk left out: {missing}"
