"""Near me in a real browser: type a postcode, see the nearest table and the map; deep links work."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import MAP_IFRAME, TIMEOUT_MS, AppPage, in_map

pytestmark = pytest.mark.e2e

COUNT_JS = in_map(
    """
    let points = 0, circles = 0, origin = 0;
    map.eachLayer(l => {
        if (l instanceof CgClusterLayer) points += l.cgCount();
        else if (l instanceof L.Circle) circles += 1;
        else if (l instanceof L.CircleMarker && !(l instanceof L.Circle) && l.options.fillColor === '#ffeb3b') origin += 1;
    });
    return {points, circles, origin};
    """
)


def test_near_me_by_postcode(app_page: AppPage) -> None:
    app = app_page
    page = app.page
    page.goto(app.server.url + "/near_me", wait_until="domcontentloaded")  # a direct link to the page
    page.get_by_role("heading", name="What is near me?").wait_for()
    # the direct link still runs inside app.py's frame: the shared sidebar is there
    page.get_by_text("Boundaries").first.wait_for()
    # let the empty-state map finish loading before it is replaced by the results map
    page.frame_locator(MAP_IFRAME).locator(".leaflet-container").wait_for()
    page.get_by_label("Postcode").fill("s5 8nj")
    page.get_by_role("button", name="Find what is near").click()
    page.get_by_text("Nothing within reach for").wait_for()
    body = page.inner_text("body")
    assert "Dental practice" in body and "Household waste recycling centre" in body
    # the table of nearest assets: a real <table>, named by its caption, as a screen reader finds it
    table = page.get_by_role("table", name="The nearest of each type to S5 8NJ")
    table.wait_for()
    page.wait_for_function(
        "() => [...document.querySelectorAll('table.cg-table td')].some(td => td.textContent.includes('Parson Cross'))",
        timeout=TIMEOUT_MS,
    )
    headers = table.get_by_role("columnheader").all_text_contents()
    assert headers == ["Type", "How far", "Near?", "Nearest"], headers
    texts = " | ".join(t or "" for t in table.get_by_role("cell").all_text_contents())
    assert "Parson Cross Food Bank" in texts, texts
    frame = page.locator(MAP_IFRAME).element_handle().content_frame()
    page.frame_locator(MAP_IFRAME).locator(".leaflet-container").wait_for()
    frame.wait_for_function(f"(({COUNT_JS})()).points >= 6", timeout=TIMEOUT_MS)
    counts = frame.evaluate(COUNT_JS)
    assert counts["circles"] == 1, counts  # the walking radius
    assert counts["origin"] == 1, counts  # the postcode itself
    assert counts["points"] >= 6, counts  # everything within reach plus the nearest of each type
    # On a deep link Streamlit's frontend first probes /near_me/_stcore/* for a base path (404s by
    # design) before using the root; anything else is a real problem.
    problems = [p for p in app.watch.problems() if "/near_me/_stcore/" not in p]
    assert not problems, app.fail_message("\n".join(problems))


def test_near_me_explains_an_unknown_postcode(app_page: AppPage) -> None:
    page = app_page.page
    page.goto(app_page.server.url + "/near_me", wait_until="domcontentloaded")
    page.get_by_label("Postcode").fill("ZZ9 9ZZ")
    page.get_by_role("button", name="Find what is near").click()
    page.get_by_text("is not in the postcode table").wait_for()


def test_near_me_use_my_location(app_page: AppPage) -> None:
    """On a device that shares its position (granted here, as a phone's user would), "Use my location"
    answers for where the browser is, and the link keeps that point."""
    app = app_page
    page = app.page
    page.context.grant_permissions(["geolocation"], origin=app.server.url)
    page.context.set_geolocation({"latitude": 53.3811, "longitude": -1.4701, "accuracy": 12})  # the Town Hall
    page.goto(app.server.url + "/near_me", wait_until="domcontentloaded")
    page.get_by_role("heading", name="What is near me?").wait_for()
    locate = page.frame_locator("iframe[src*='cg_locate']").get_by_role("button", name="Use my location")
    locate.click()
    page.frame_locator("iframe[src*='cg_locate']").get_by_text("Location found (to about 12 m).").wait_for()
    page.get_by_text("Measured from: Your location.").wait_for()
    page.wait_for_function("() => location.search.includes('lonlat=-1.47010%2C53.38110')", timeout=TIMEOUT_MS)
    page.wait_for_function(
        "() => [...document.querySelectorAll('table.cg-table td')].length > 0",
        timeout=TIMEOUT_MS,
    )
