"""Links that restore a view, opened in a fresh browser as someone sent the link would: each page shows
the answer for that state (issue 10's "done when")."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from geo.schema import PROJECT_ROOT
from tests.e2e.conftest import MAP_IFRAME, TIMEOUT_MS, AppPage, settle

pytestmark = pytest.mark.e2e

FIRTH_PARK = "E05010868"


def _metric(page, label: str) -> str:
    box = page.locator("[data-testid=stMetric]").filter(has_text=label).first
    box.wait_for(timeout=TIMEOUT_MS)
    return box.locator("[data-testid=stMetricValue]").inner_text().strip()


def test_a_near_me_link_shows_the_nearest_by_name(app_page: AppPage) -> None:
    page = app_page.page
    page.goto(f"{app_page.server.url}/near_me?postcode=S5+8NJ&minutes=15", wait_until="domcontentloaded")
    page.wait_for_function(
        "() => [...document.querySelectorAll('table.cg-table td')].some(td => td.textContent.includes('Parson Cross'))",
        timeout=TIMEOUT_MS,
    )
    # The table (plain HTML) can be drawn before Streamlit's text input has taken its value from the
    # run: wait for what a person sees, the postcode in its field (a clean-clone run read '' at once).
    expect = pytest.importorskip("playwright.sync_api").expect
    expect(page.get_by_label("Postcode")).to_have_value("S5 8NJ", timeout=TIMEOUT_MS)
    page.get_by_text("15 minutes ≈").wait_for(timeout=TIMEOUT_MS)  # the walking time came from the link

    # "Link to this view": the field holds this view's URL, and its button puts it on the clipboard.
    # First let the page settle: the map drawing above can move the page under a click, which then
    # lands on the map (a new origin, and the link is another one).
    page.frame_locator(MAP_IFRAME).first.locator(".leaflet-container").wait_for(state="visible", timeout=TIMEOUT_MS)
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for(state="attached")
    settle(app_page)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_page.server.url)
    page.get_by_text("Link to this view").click()
    field = page.get_by_role("textbox", name="Link to this view")
    field.wait_for(timeout=TIMEOUT_MS)
    link = field.input_value()
    assert link.startswith(f"{app_page.server.url}/near_me?") and "postcode=S5+8NJ" in link and "minutes=15" in link
    page.get_by_role("button", name="Copy link").click()
    page.get_by_role("status").filter(has_text="Copied").wait_for(timeout=TIMEOUT_MS)
    assert page.evaluate("navigator.clipboard.readText()") == link


def test_a_neighbourhood_link_shows_that_wards_profile(app_page: AppPage) -> None:
    page = app_page.page
    page.goto(f"{app_page.server.url}/neighbourhood?boundaries=wards&area={FIRTH_PARK}", wait_until="domcontentloaded")
    page.get_by_role("heading", name="One neighbourhood at a time").wait_for()
    assert _metric(page, "Residents") == "22,347"
    assert _metric(page, "Assets here") == "17"
    page.get_by_text("No aspirations are recorded for Firth Park yet").wait_for(timeout=TIMEOUT_MS)


def test_a_gaps_link_shows_the_same_count_as_the_command_line(app_page: AppPage) -> None:
    cli = subprocess.run(
        [sys.executable, "-m", "geo", "gaps", "--data", str(app_page.server.store_path), "--type", "gp_practice",
         "--within", "800", "--boundaries", "lsoas", "--json"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, check=True, timeout=300,
    )  # fmt: skip
    want = json.loads(cli.stdout)
    page = app_page.page
    page.goto(f"{app_page.server.url}/gaps?type=gp_practice&within=800&boundaries=lsoas", wait_until="domcontentloaded")
    got = _metric(page, "Areas beyond the distance")
    assert got == f"{want['areas_beyond']} of {want['areas_total']}", (got, want)
