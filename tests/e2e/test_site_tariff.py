"""A site's tariff over HTTP: set, shown with the site, replaced and removed, in exact decimals;
bad tariffs are refused and change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import api_client

TARIFF = {"currency": "EUR", "price_per_kwh": "0.3500", "vat_percent": 20}


async def test_a_tariff_is_set_shown_replaced_and_removed(node, api, site):
    assert site["tariff"] is None
    response = await api.put(f"/sites/{site['id']}/tariff", json=TARIFF)
    assert response.status_code == 200, response.text
    kept = {"currency": "EUR", "price_per_kwh": "0.35", "vat_percent": "20"}
    assert response.json()["tariff"] == kept
    assert (await api.get(f"/sites/{site['id']}")).json()["tariff"] == kept

    # JSON numbers are taken too; the decimals stay exact.
    replaced = {"currency": "CHF", "price_per_kwh": 0.1234, "vat_percent": "8.1"}
    response = await api.put(f"/sites/{site['id']}/tariff", json=replaced)
    assert response.json()["tariff"] == {"currency": "CHF", "price_per_kwh": "0.1234", "vat_percent": "8.1"}

    response = await api.delete(f"/sites/{site['id']}/tariff")
    assert response.status_code == 200, response.text
    assert response.json()["tariff"] is None
    assert (await api.delete(f"/sites/{site['id']}/tariff")).status_code == 200  # none: still fine
    assert (await api.get(f"/sites/{site['id']}")).json()["tariff"] is None


@pytest.mark.parametrize(
    ("change", "status", "named"),
    [
        ({"currency": "eur"}, 422, "currency"),
        ({"currency": "XYZ"}, 422, "currency"),  # three capitals, but no ISO 4217 code
        ({"price_per_kwh": "-0.10"}, 422, "price_per_kwh"),
        ({"price_per_kwh": "0.12345"}, 422, "price_per_kwh"),
        ({"vat_percent": 100.5}, 422, "vat_percent"),
        ({"vat_percent": -1}, 422, "vat_percent"),
        ({"price_per_kwh": "cheap"}, 400, "price_per_kwh"),
        ({"currency": 978}, 400, "currency"),
        ({"vat_percent": None}, 400, "vat_percent"),
        ({"discount": "10"}, 400, "discount"),
    ],
)
async def test_a_bad_tariff_is_refused_and_the_one_set_is_kept(
    api, site, change: dict[str, Any], status, named
):
    await api.put(f"/sites/{site['id']}/tariff", json=TARIFF)
    response = await api.put(f"/sites/{site['id']}/tariff", json={**TARIFF, **change})
    assert response.status_code == status, response.text
    assert named in response.json()["error"]["message"]
    assert (await api.get(f"/sites/{site['id']}")).json()["tariff"]["price_per_kwh"] == "0.35"


async def test_another_organizations_site_has_no_tariff_to_set(node, site):
    async with await api_client(node, "Other") as other:
        response = await other.put(f"/sites/{site['id']}/tariff", json=TARIFF)
        assert response.status_code == 404
        assert (await other.delete(f"/sites/{site['id']}/tariff")).status_code == 404
