"""Maps fit their subject, at a laptop's 1366×900 and a phone's 375×812: every asset marker or cluster
drawn is inside the visible map and not under the legend (the elements' bounding boxes, in Chromium)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import MAP_IFRAME, TIMEOUT_MS, AppPage, in_map, settle

pytestmark = pytest.mark.e2e

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 375, "height": 812}}
FIRTH_PARK = "E05010868"

# Rectangles inside the map's frame: the map, the legend (and the other controls that float over the
# map), and every point or cluster icon Leaflet has drawn. Icons Leaflet keeps off screen are left out
# by their rectangle (zero size), never by their position, so an icon outside the map is caught.
BOXES_JS = in_map(
    """
    const rect = e => { const r = e.getBoundingClientRect(); return {l: r.left, t: r.top, r: r.right, b: r.bottom}; };
    const box = rect(map.getContainer());
    const covers = [...map.getContainer().querySelectorAll('.cg-legend, .leaflet-control-layers')]
        .filter(e => e.getBoundingClientRect().width > 0).map(rect);
    const icons = [...map.getContainer().querySelectorAll('.leaflet-marker-icon, path.cg-pt')]
        .filter(e => e.getBoundingClientRect().width > 0 && getComputedStyle(e).display !== 'none')
        .map(e => Object.assign(rect(e), {cls: e.className.toString().slice(0, 40)}));
    return {box, covers, icons, zoom: map.getZoom()};
    """
)


def _overlap(a: dict, b: dict) -> float:
    w = max(0.0, min(a["r"], b["r"]) - max(a["l"], b["l"]))
    h = max(0.0, min(a["b"], b["b"]) - max(a["t"], b["t"]))
    return w * h


def _check(app: AppPage, what: str) -> int:
    page = app.page
    inner = page.frame_locator(MAP_IFRAME)
    try:  # through the locator, which follows the frame when Streamlit replaces it on a rerun
        inner.locator("div.marker-cluster, path.cg-pt").first.wait_for(state="visible", timeout=TIMEOUT_MS)
    except Exception as exc:
        pytest.fail(app.fail_message(f"{what}: no point or cluster was drawn: {exc}"), pytrace=False)
    frame = page.locator(MAP_IFRAME).element_handle().content_frame()
    frame.wait_for_function(in_map("return !map._animatingZoom;"), timeout=TIMEOUT_MS)
    settle(app, frame)
    got = frame.evaluate(BOXES_JS)
    box, icons = got["box"], got["icons"]
    assert icons, f"{what}: no marker or cluster on the map"
    outside = [
        i
        for i in icons
        if i["l"] < box["l"] - 1 or i["r"] > box["r"] + 1 or i["t"] < box["t"] - 1 or i["b"] > box["b"] + 1
    ]
    assert not outside, f"{what}: {len(outside)} of {len(icons)} markers are cut off by the map's edge: {outside[:3]}"
    under = [i for i in icons for c in got["covers"] if _overlap(i, c) > 0]
    assert not under, f"{what}: {len(under)} markers are under the legend {got['covers']}: {under[:3]}"
    return len(icons)


@pytest.mark.parametrize("size", list(SIZES))
def test_explore_map_fits_the_city_and_the_legend_hides_nothing(app_page: AppPage, size: str) -> None:
    page = app_page.page
    page.set_viewport_size(SIZES[size])
    page.goto(app_page.server.url + "/", wait_until="domcontentloaded")
    assert _check(app_page, f"Explore at {size}") >= 3


@pytest.mark.parametrize("size", list(SIZES))
def test_explore_shaded_by_deprivation_keeps_the_city_clear(app_page: AppPage, size: str) -> None:
    page = app_page.page
    page.set_viewport_size(SIZES[size])
    page.goto(app_page.server.url + "/?boundaries=lsoas&shade=imd", wait_until="domcontentloaded")
    assert _check(app_page, f"Explore shaded by deprivation at {size}") >= 3


@pytest.mark.parametrize("size", list(SIZES))
def test_a_ward_fits_its_neighbourhood_map(app_page: AppPage, size: str) -> None:
    page = app_page.page
    page.set_viewport_size(SIZES[size])
    page.goto(f"{app_page.server.url}/neighbourhood?boundaries=wards&area={FIRTH_PARK}", wait_until="domcontentloaded")
    page.get_by_role("heading", name="One neighbourhood at a time").wait_for()
    _check(app_page, f"Firth Park at {size}")
    frame = page.locator(MAP_IFRAME).element_handle().content_frame()
    # The whole ward is inside the map: the bounds the page framed it on (the ward's) are within the
    # map's visible bounds, and they are the ward's own.
    got = frame.evaluate(
        in_map("const h = map.cgHomeBounds; return {inside: map.getBounds().contains(h), home: h.toBBoxString()};")
    )
    assert got["inside"], f"Firth Park at {size}: the ward runs off the map ({got})"
    west, south, east, north = (float(v) for v in got["home"].split(","))
    assert -1.50 < west < east < -1.40 and 53.39 < south < north < 53.44, got  # Firth Park, in the north-east
