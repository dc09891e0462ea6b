"""The portal in a real browser (Debian's Chromium, headless, driven by Playwright): signing in,
every page against what the API answers, a status arriving on the sheet without a reload, the
CSV export, the configuration forms, French, a phone-sized screen and the keyboard. Each page
is saved as a screenshot under test-artifacts/screenshots/."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from cpms.api.app import OPERATIONS
from tests.browser.conftest import CARDS, Server, World

pytestmark = pytest.mark.xdist_group("browser")  # one server and one browser for the module

Page = Any


@pytest.fixture(scope="module")
def signed_in(server: tuple[Server, World], browser: Any) -> Iterator[Any]:
    """A browser context signed in with the organization's key, in English, in Paris."""
    running, world = server
    context = browser.new_context(base_url=running.url, locale="en-GB", timezone_id="Europe/Paris")
    page = context.new_page()
    sign_in(page, world.api_key)
    page.close()
    yield context
    context.close()


@pytest.fixture
def page(signed_in: Any) -> Iterator[Page]:
    opened = signed_in.new_page()
    yield opened
    opened.close()


@pytest.fixture
def api(server: tuple[Server, World]) -> Iterator[Any]:
    running, world = server
    with running.api(world.api_key) as client:
        yield client


def sign_in(page: Page, key: str) -> None:
    page.goto("/")
    page.get_by_label("Organization API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/$"))


def items(api: Any, path: str, **params: Any) -> list[dict[str, Any]]:
    response = api.get(path, params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


def site_id(world: World, name: str = "Quai de Valmy") -> str:
    return world.sites[name]


def test_signing_in_with_the_organizations_key_opens_my_sites_with_their_states(
    server, browser, api, screenshots
):
    running, world = server
    context = browser.new_context(base_url=running.url, locale="en-GB")
    page = context.new_page()
    page.goto("/")
    assert page.url.endswith("/sign-in?next=%2F")
    screenshots(page, "en-01-sign-in")
    page.get_by_label("Organization API key").fill("cpms_not-a-key")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "This API key is not known."

    page.get_by_label("Organization API key").fill(world.api_key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/$"))
    [cookie] = [c for c in context.cookies() if c["name"] == "cpms_session"]
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Strict", "/")

    shown = {
        card.get_attribute("data-site-id"): card.locator("[data-site-state]").get_attribute("data-site-state")
        for card in page.locator(".site-card").all()
    }
    assert shown == {site["id"]: site["state"] for site in items(api, "/sites")}
    assert set(shown.values()) == {"Available", "Load", "Unknown"}
    assert page.locator(".site-card .badge").all_inner_texts() == [
        {"Available": "Available", "Load": "Load", "Unknown": "Unknown"}[state] for state in shown.values()
    ]
    screenshots(page, "en-02-my-sites")
    context.close()


def test_a_sites_overview_shows_its_address_dates_and_provider(server, page, api, screenshots):
    _, world = server
    site = api.get(f"/sites/{site_id(world)}").json()
    page.goto(f"/sites/{site['id']}")
    assert page.locator("h1").inner_text() == "Quai de Valmy"
    address = page.locator('[data-field="address"]').inner_text()
    assert address.split("\n") == ["12 Quai de Valmy", "75010 Paris", "FR"]
    assert page.locator('[data-field="provider"]').inner_text() == site["provider"] == "EDF"
    for name in ("created_at", "updated_at"):
        assert page.locator(f'[data-field="{name}"] time').get_attribute("datetime") == site[name]
    counts = {
        li.get_attribute("data-status"): int(li.locator("strong").inner_text())
        for li in page.locator(".counts li").all()
    }
    assert counts == site["charge_points"]
    screenshots(page, "en-03-overview")


def sheet_on(page: Page) -> dict[str, str]:
    return {
        tile.get_attribute("data-charge-point"): tile.get_attribute("data-status")
        for tile in page.locator(".charge-point").all()
    }


def sheet_of(api: Any, site: str) -> dict[str, str]:
    return {
        f"{cp['ocpp_id']}/{cp['connector_id']}": cp["status"]
        for cp in items(api, f"/sites/{site}/charge-points")
    }


def test_the_sheet_shows_each_charge_point_in_its_status_colour_and_word(server, page, api, screenshots):
    _, world = server
    site = site_id(world)
    page.goto(f"/sites/{site}/sheet")
    expect(page.locator("body")).to_have_attribute("data-live", "connected")
    assert sheet_on(page) == sheet_of(api, site)
    assert sheet_on(page) == {
        "VALMY-01/1": "Available",
        "VALMY-01/2": "Charging",
        "VALMY-02/1": "SuspendedEV",
        "VALMY-02/2": "Failed",
    }
    failed = page.locator('[data-charge-point="VALMY-02/2"]')
    assert failed.locator(".cp-status").inner_text() == "Failed"  # the word, not the colour alone
    assert failed.locator(".cp-error").inner_text() == "Error: GroundFailure"
    colours = {
        tile.get_attribute("data-status"): tile.evaluate("e => getComputedStyle(e).backgroundColor")
        for tile in page.locator(".charge-point").all()
    }
    assert len(set(colours.values())) == len(colours)  # a colour per status
    screenshots(page, "en-04-sheet")


def test_a_status_change_arrives_on_the_sheet_without_reload(server, page, api, screenshots):
    running, world = server
    site = site_id(world)
    page.goto(f"/sites/{site}/sheet")
    expect(page.locator("body")).to_have_attribute("data-live", "connected")
    page.evaluate("window.notReloaded = true")
    tile = page.locator('[data-charge-point="VALMY-01/1"]')
    assert tile.get_attribute("data-status") == "Available"

    running.run(world.chargers["VALMY-01"].status(1, "Preparing"))

    expect(tile).to_have_attribute("data-status", "Preparing", timeout=10_000)
    assert page.evaluate("window.notReloaded") is True
    assert tile.locator(".cp-status").inner_text() == "Preparing"
    assert "status-Preparing" in (tile.get_attribute("class") or "")
    assert page.locator("[data-announcer]").inner_text() == "VALMY-01, charge point 1: Preparing"
    assert sheet_on(page) == sheet_of(api, site)
    screenshots(page, "en-05-sheet-live-change")

    running.run(world.chargers["VALMY-01"].status(1, "Available"))  # as the other tests expect it
    expect(tile).to_have_attribute("data-status", "Available", timeout=10_000)


def test_the_sessions_table_lists_what_the_api_lists_and_a_row_opens_its_card(server, page, api, screenshots):
    _, world = server
    site = site_id(world)
    listed = items(api, f"/sites/{site}/sessions", limit=50)
    page.goto(f"/sites/{site}/sessions")
    rows = page.locator("tr[data-session]")
    assert [row.get_attribute("data-session") for row in rows.all()] == [s["id"] for s in listed]
    first = rows.first
    assert first.locator("td").nth(0).locator("time").get_attribute("datetime") == listed[0]["started_at"]
    completed = [s for s in listed if s["state"] == "Completed"]
    assert completed and all(
        s["authorization"]["card_label"] in CARDS.values() or s["authorization"]["method"] == "roaming"
        for s in listed
    )
    for session in completed[:5]:
        row = page.locator(f'tr[data-session="{session["id"]}"]')
        assert float(row.locator("[data-energy-wh]").get_attribute("data-energy-wh")) == session["energy_wh"]
        assert int(row.locator("[data-duration-s]").get_attribute("data-duration-s")) == session["duration_s"]
    screenshots(page, "en-07-sessions")

    page.get_by_label("State").select_option("Active")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"state=Active"))
    active = items(api, f"/sites/{site}/sessions", state="Active")
    assert [r.get_attribute("data-session") for r in page.locator("tr[data-session]").all()] == [
        s["id"] for s in active
    ]
    [charging] = active
    page.locator(f'tr[data-session="{charging["id"]}"] a').click()
    page.wait_for_url(re.compile(rf"/sessions/{charging['id']}$"))
    assert page.locator('[data-field="card_uid"]').inner_text() == "C0FFEE01"
    assert page.locator('[data-field="card_label"]').inner_text() == "Alice Martin"
    assert page.locator('[data-field="access_group_name"]').inner_text() == "Chauffeurs"
    screenshots(page, "en-08-session-card")


def test_export_csv_downloads_the_api_export_of_the_filtered_sessions(server, page, api):
    _, world = server
    site = site_id(world)
    page.goto(f"/sites/{site}/sessions?state=Completed")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    with open(download.value.path(), encoding="utf-8", newline="") as downloaded:
        text = downloaded.read()
    rows = list(csv.DictReader(io.StringIO(text)))
    expected = api.get(f"/sites/{site}/sessions.csv", params={"state": "Completed"}).text
    assert text == expected
    assert download.value.suggested_filename == f"sessions-{site}.csv"
    assert {row["session_id"] for row in rows} == {
        s["id"] for s in items(api, f"/sites/{site}/sessions", state="Completed")
    }
    assert rows and {row["state"] for row in rows} == {"Completed"}


def test_evse_controllers_list_serial_identities_connection_and_plan(server, page, api, screenshots):
    _, world = server
    site = site_id(world)
    page.goto(f"/sites/{site}/stations")
    for station in items(api, "/stations", site_id=site):
        row = page.locator(f'tr[data-station="{station["ocpp_id"]}"]')
        assert row.locator('[data-field="serial_number"]').inner_text() == station["serial_number"]
        assert row.locator('[data-field="ocpp_id"]').inner_text() == station["ocpp_id"]
        assert row.locator('[data-field="evse_ids"] .evse').all_inner_texts() == station["evse_ids"]
        assert row.locator('[data-field="site"]').inner_text() == "Quai de Valmy"
        assert row.locator('[data-field="connection"]').inner_text() == station["connection"] == "Connected"
        assert row.locator('[data-field="plan"]').inner_text() == station["plan"] == "Business"
    screenshots(page, "en-09-evse-controllers")


def test_the_configuration_page_changes_what_the_api_answers(server, page, api, screenshots):
    _, world = server
    site = site_id(world)
    page.goto(f"/sites/{site}/configuration")
    station = page.locator('form[data-station="VALMY-01"]')
    configuration = api.get("/stations/VALMY-01/configuration").json()
    assert station.get_by_label("Chauffeurs").is_checked() == (
        world.group_id in configuration["access_group_ids"]
    )
    assert station.get_by_label("Roaming enabled").is_checked() is configuration["roaming_enabled"] is False
    screenshots(page, "en-06-configuration")

    station.get_by_label("Roaming enabled").check()
    station.get_by_label("Scan2Pay enabled").check()
    station.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"saved=VALMY-01"))
    assert page.locator('form[data-station="VALMY-01"] .saved').inner_text() == "Saved."
    assert api.get("/stations/VALMY-01/configuration").json() == {
        "access_group_ids": [world.group_id],
        "roaming_enabled": True,
        "scan2pay_enabled": True,
    }

    group = page.locator(f'[data-group="{world.group_id}"]')
    group.get_by_label("Card UID").fill("C0FFEE99")
    group.get_by_label("Label").fill("Dominique Petit")
    group.get_by_role("button", name="Add").click()
    page.wait_for_url(re.compile(rf"saved={world.group_id}"))
    cards = {c["uid"]: c["label"] for c in api.get(f"/access-groups/{world.group_id}").json()["cards"]}
    assert cards == {**CARDS, "C0FFEE99": "Dominique Petit"}
    page.get_by_role("button", name="Remove card C0FFEE99").click()
    page.wait_for_url(re.compile(rf"saved={world.group_id}"))
    assert "C0FFEE99" not in {c["uid"] for c in api.get(f"/access-groups/{world.group_id}").json()["cards"]}

    group.get_by_label("Card UID").fill("has space")
    group.get_by_role("button", name="Add").click()
    assert page.get_by_role("alert").inner_text().startswith("Could not save: ")

    # A form posted without the session's token (another site's, say) changes nothing.
    forged = page.request.post(
        f"/sites/{site}/configuration/stations/VALMY-01",
        form={"csrf": "forged", "roaming_enabled": "off"},
    )
    assert forged.status == 403
    assert api.get("/stations/VALMY-01/configuration").json()["roaming_enabled"] is True

    station = page.locator('form[data-station="VALMY-01"]')  # as the other tests expect it
    station.get_by_label("Roaming enabled").uncheck()
    station.get_by_label("Scan2Pay enabled").uncheck()
    station.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"saved=VALMY-01"))


def test_roaming_activity_shows_the_apis_30_days(server, page, api, screenshots):
    activity = api.get("/roaming/activity", params={"days": 30}).json()
    page.goto("/roaming")
    assert page.locator("h1").inner_text() == "Roaming activity (30 days)"
    days = page.locator("table.roaming-days tbody tr")
    assert [(r.get_attribute("data-day"), r.get_attribute("data-partner")) for r in days.all()] == [
        (d["day"], d["partner_id"]) for d in activity["days"]
    ]
    for row, day in zip(days.all(), activity["days"], strict=True):
        for name in ("sessions", "accepted", "rejected", "timed_out", "error"):
            assert int(row.locator(f'[data-field="{name}"]').inner_text()) == day[name]
        assert float(row.locator("[data-energy-wh]").get_attribute("data-energy-wh")) == day["energy_wh"]
    assert (
        sum(d["sessions"] for d in activity["days"]) == 1
        and sum(d["rejected"] for d in activity["days"]) == 1
    )
    sessions = page.locator("tr[data-roaming-session]")
    assert [r.get_attribute("data-roaming-session") for r in sessions.all()] == [
        s["id"] for s in activity["sessions"]
    ]
    assert "Roam (FR*ABC)" in page.locator("table.roaming-totals").inner_text()
    screenshots(page, "en-11-roaming")


ANALYTICS_SERVED = any(operation.path == "/api/v1/analytics" for operation in OPERATIONS)


def test_the_analytics_charts_draw_the_apis_answer(server, page, api, screenshots):
    page.goto("/analytics?bucket=day&tz=Europe/Paris")
    expect(page.locator("body")).to_have_attribute(
        "data-analytics", re.compile("drawn|failed"), timeout=15_000
    )
    if not ANALYTICS_SERVED:
        assert page.locator("[data-analytics-status]").inner_text() == (
            "Analytics are not available on this server yet."
        )
        screenshots(page, "en-10-analytics")
        pytest.skip("GET /api/v1/analytics is not served yet (it comes with the analytics branch)")
    assert page.evaluate("document.body.dataset.analytics") == "drawn"
    shown = page.evaluate("window.cpmsAnalytics")
    answer = api.get("/analytics", params={"bucket": "day", "tz": "Europe/Paris"}).json()
    assert shown["answer"] == answer  # what the page drew from is the API's answer
    charts = page.evaluate(
        """() => Object.fromEntries(['sessions', 'energy', 'duration', 'histogram'].map(
            name => [name, Chart.getChart('chart-' + name).data.datasets[0].data]))"""
    )
    buckets = answer["buckets"]
    assert charts["sessions"] == [b["sessions"] for b in buckets]
    assert charts["energy"] == pytest.approx([b["energy_wh"] / 1000 for b in buckets])
    assert charts["duration"] == pytest.approx([b["duration_s"]["total"] / 3600 for b in buckets])
    assert charts["histogram"] == [h["sessions"] for h in answer["duration_histogram"]]
    assert sum(charts["sessions"]) == answer["totals"]["sessions"] > 0
    screenshots(page, "en-10-analytics")


# An answer of the contract's shape (docs: analytics-contract), to draw before the API serves it.
CONTRACT_SAMPLE = {
    "from": "2026-03-28T00:00:00+01:00",
    "to": "2026-03-31T00:00:00+02:00",
    "bucket": "day",
    "tz": "Europe/Paris",
    "buckets": [
        {
            "start": "2026-03-28T00:00:00+01:00",
            "end": "2026-03-29T00:00:00+01:00",
            "hours": 24,
            "sessions": 4,
            "completed": 3,
            "energy_wh": 42500.0,
            "duration_s": {"total": 16200, "mean": 5400.0},
        },
        {
            "start": "2026-03-29T00:00:00+01:00",
            "end": "2026-03-30T00:00:00+02:00",
            "hours": 23,
            "sessions": 0,
            "completed": 0,
            "energy_wh": 0.0,
            "duration_s": {"total": 0, "mean": None},
        },
        {
            "start": "2026-03-30T00:00:00+02:00",
            "end": "2026-03-31T00:00:00+02:00",
            "hours": 24,
            "sessions": 2,
            "completed": 2,
            "energy_wh": 18250.0,
            "duration_s": {"total": 9000, "mean": 4500.0},
        },
    ],
    "totals": {
        "sessions": 6,
        "completed": 5,
        "energy_wh": 60750.0,
        "duration_s": {"total": 25200, "mean": 5040.0},
    },
    "duration_histogram": [
        {"from_s": a, "to_s": b, "sessions": n}
        for a, b, n in (
            (0, 900, 0),
            (900, 1800, 1),
            (1800, 3600, 1),
            (3600, 7200, 2),
            (7200, 14400, 1),
            (14400, 28800, 0),
            (28800, 43200, 0),
            (43200, 86400, 0),
            (86400, None, 0),
        )
    ],
}


def test_the_analytics_page_draws_an_answer_of_the_contracts_shape(page, screenshots):
    """Whatever the server: the page's script draws every bucket and the histogram it is given."""
    asked = []

    def answer(route: Any) -> None:
        asked.append(route.request.url)
        route.fulfill(json=CONTRACT_SAMPLE)

    page.route("**/api/v1/analytics?*", answer)
    page.goto("/analytics?from=2026-03-28&to=2026-03-31&bucket=day&tz=Europe/Paris")
    expect(page.locator("body")).to_have_attribute("data-analytics", "drawn", timeout=15_000)
    [url] = asked
    assert url.endswith("/api/v1/analytics?from=2026-03-28&to=2026-03-31&bucket=day&tz=Europe%2FParis")
    charts = page.evaluate(
        """() => Object.fromEntries(['sessions', 'energy', 'duration', 'histogram'].map(
            name => [name, Chart.getChart('chart-' + name).data]))"""
    )
    assert charts["sessions"]["datasets"][0]["data"] == [4, 0, 2]
    assert charts["energy"]["datasets"][0]["data"] == [42.5, 0, 18.25]
    assert charts["duration"]["datasets"][0]["data"] == [4.5, 0, 2.5]
    assert charts["sessions"]["labels"] == ["Mar 28, 2026", "Mar 29, 2026", "Mar 30, 2026"]
    assert charts["histogram"]["datasets"][0]["data"] == [0, 1, 1, 2, 1, 0, 0, 0, 0]
    assert (
        charts["histogram"]["labels"][0] == "0\u201315 min" and charts["histogram"]["labels"][-1] == "≥ 24 h"
    )
    assert page.locator('[data-total="sessions"]').inner_text() == "6"
    assert page.locator("[data-analytics-rows] tr").count() == 3
    screenshots(page, "en-10-analytics-contract-sample")


def test_french_speakers_get_the_portal_in_french(server, browser, screenshots):
    running, world = server
    context = browser.new_context(base_url=running.url, locale="fr-FR", timezone_id="Europe/Paris")
    page = context.new_page()
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_label("Clé d'API de l'organisation").fill(world.api_key)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.locator("h1").inner_text() == "Mes sites"
    menu = page.get_by_role("navigation", name="Menu principal")
    assert menu.get_by_role("link").all_inner_texts() == [
        "Mes sites",
        "Analyses",
        "Activité roaming (30 jours)",
    ]
    assert "Disponible" in page.locator(".site-card .badge").all_inner_texts()
    screenshots(page, "fr-02-mes-sites")

    site = site_id(world)
    page.goto(f"/sites/{site}/sheet")
    tabs = page.get_by_role("navigation", name="Pages du site").get_by_role("link").all_inner_texts()
    assert tabs == ["Vue d'ensemble", "Points de charge", "Configuration", "Sessions", "Contrôleurs EVSE"]
    words = {
        t.get_attribute("data-status"): t.locator(".cp-status").inner_text()
        for t in page.locator(".charge-point").all()
    }
    assert words == {
        "Available": "Disponible",
        "Charging": "En charge",
        "SuspendedEV": "Suspendu par le véhicule",
        "Failed": "En défaut",
    }
    screenshots(page, "fr-04-points-de-charge")
    page.goto(f"/sites/{site}/sessions")
    assert page.get_by_role("link", name="Exporter en CSV").is_visible()
    screenshots(page, "fr-07-sessions")
    page.goto("/roaming")
    assert page.locator("h1").inner_text() == "Activité roaming (30 jours)"
    context.close()


def test_a_phone_sized_screen_scrolls_only_down(server, browser, screenshots):
    running, world = server
    context = browser.new_context(
        base_url=running.url, viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    sign_in(page, world.api_key)
    site = site_id(world)
    for path in (
        "/",
        f"/sites/{site}/sheet",
        f"/sites/{site}/sessions",
        f"/sites/{site}/configuration",
        "/roaming",
    ):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than the screen"
    page.goto(f"/sites/{site}/sheet")
    screenshots(page, "phone-04-sheet")
    context.close()


def test_the_keyboard_reaches_everything_and_every_field_has_a_label(server, page):
    _, world = server
    page.goto(f"/sites/{site_id(world)}/configuration")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")  # past the menu, in the page
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select')]
            .filter(e => e.labels.length === 0).map(e => e.outerHTML)"""
    )
    assert unlabelled == []


def test_signing_out_forgets_the_key(server, browser):
    running, world = server
    context = browser.new_context(base_url=running.url)
    page = context.new_page()
    sign_in(page, world.api_key)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/sign-in\?signed_out=1$"))
    assert page.get_by_role("status").inner_text() == "You have signed out."
    assert [c for c in context.cookies() if c["name"] == "cpms_session"] == []
    page.goto("/roaming")
    assert "/sign-in" in page.url
    context.close()
