"""The Explore and About pages in a real browser, with no internet: the map must draw from the
app's own scripts, its popups must show an asset's details, and hostile names must stay text."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from geo import schema
from geo.store import open_store
from tests.e2e.conftest import (
    MAP_IFRAME,
    TIMEOUT_MS,
    VIEWPORT,
    AppPage,
    AppServer,
    _app_page,
    in_map,
    map_frame,
    new_context,
    private_store,
    settle,
    start_server,
    wait_for_asset_points,
)
from tests.helpers import demo_count

pytestmark = pytest.mark.e2e

DEMO_ASSETS = demo_count("assets")
WARDS = 28
HOSTILE_NAME = "<img src=x onerror=alert(1)>{{ 7*7 }}${alert(2)}" + "`" + "\\`"
TILE_HOSTS = ("tile.openstreetmap.org", "basemaps.cartocdn.com")

# Open the popup exactly as a click on a point does: the click handler lives on the type's cluster
# group and reads ``e.layer``. ``arg`` is ``{exact: name}`` or ``{contains: text}``.
OPEN_POPUP_JS = in_map(
    """
    const wanted = name => arg.exact !== undefined ? name === arg.exact : name.includes(arg.contains);
    let found = null;
    map.eachLayer(l => {
        if (found || !(l instanceof CgClusterLayer)) return;
        const m = l.getLayers().find(p => wanted(p.cgName));
        if (m) found = [l, m];
    });
    if (!found) return null;
    const [group, m] = found;
    group.fire('click', {layer: m, latlng: m.getLatLng()});
    return {name: m.cgName, type: m.cgType};
    """
)


def _open_explore(app: AppPage):
    app.page.goto(app.server.url + "/", wait_until="domcontentloaded")
    return map_frame(app)


def _popup_text(app: AppPage, frame, *, contains: str | None = None, timeout_ms: int = TIMEOUT_MS) -> str:
    """The popup's text once its address has loaded."""
    popup = app.page.frame_locator(MAP_IFRAME).locator(".leaflet-popup-content")
    try:
        popup.wait_for(state="visible", timeout=timeout_ms)
        frame.wait_for_function(
            "() => { const a = document.querySelector('.leaflet-popup-content .cg-address');"
            " return a && !a.textContent.startsWith('Loading address'); }",
            timeout=timeout_ms,
        )
    except Exception as exc:
        pytest.fail(app.fail_message(f"the popup did not open or its address never loaded: {exc}"), pytrace=False)
    return popup.text_content()


@pytest.mark.fresh_browser  # a first visit: every script and style is fetched, none comes from the cache
def test_explore_map_renders_offline(app_page: AppPage) -> None:
    app = app_page
    frame = _open_explore(app)

    height = (
        app.page.frame_locator(MAP_IFRAME)
        .locator(".leaflet-container")
        .evaluate("el => el.getBoundingClientRect().height")
    )
    assert height > 100, app.fail_message(f"the map container is {height}px high")

    points = wait_for_asset_points(frame, DEMO_ASSETS)
    assert points == DEMO_ASSETS, app.fail_message(f"the map loaded {points} asset points, expected {DEMO_ASSETS}")

    drawn = frame.evaluate(
        in_map(
            "const out = {clusters: 0, singles: 0, polygons: 0};"
            "map.eachLayer(l => {"
            "  if (l instanceof L.Polygon && l.feature && l._path && l._path.isConnected) out.polygons++;"
            "  if (l instanceof CgClusterLayer) {"
            "    l.eachLayer(c => { if (c instanceof CgCluster) out.clusters += c.getChildCount();"
            "                                        else out.singles++; });"
            "  }"
            "});"
            "return out;"
        )
    )
    # At the opening zoom every point is either inside a drawn cluster or drawn on its own.
    assert drawn["clusters"] + drawn["singles"] == DEMO_ASSETS, app.fail_message(f"drawn on the map: {drawn}")
    assert drawn["polygons"] == WARDS, app.fail_message(f"expected {WARDS} ward polygons drawn: {drawn}")
    paths = app.page.frame_locator(MAP_IFRAME).locator("path.leaflet-interactive").count()
    assert paths >= WARDS, app.fail_message(f"only {paths} interactive paths in the map")
    labels = app.page.frame_locator(MAP_IFRAME).locator("div.marker-cluster span").all_text_contents()
    assert labels and all(t.strip().isdigit() for t in labels), f"cluster labels: {labels}"

    settle(app, frame)  # late errors from the map's scripts: every request done, two frames drawn
    problems = app.watch.problems()
    assert not problems, app.fail_message("the page reported problems:\n" + "\n".join(problems))
    # Nothing but tiles may come from outside, and no script, style or font was even requested.
    not_tiles = [u for u in app.watch.aborted if not any(h in u for h in TILE_HOSTS)]
    assert not not_tiles, f"the page asked the internet for more than tiles: {not_tiles}"
    assets = [u for u in app.watch.aborted if re.search(r"\.(js|mjs|css|woff2?|ttf)(\?|$)", u)]
    assert not assets, f"scripts/styles/fonts requested from a CDN: {assets}"
    local_scripts = [u for u in app.watch.requests if "/app/static/vendor/" in u]
    assert any("/cg-bundle.js?v=" in u for u in local_scripts), (
        f"the map's scripts not loaded from the app: {local_scripts}"
    )


def _a_known_asset(store_path: Path) -> pd.Series:
    """An asset whose name is unique and whose address is recorded (so the popup can be checked)."""
    assets = open_store(store_path).read("assets")
    names = assets["name"].astype("string")
    ok = assets[~names.duplicated(keep=False) & assets["address"].fillna("").str.strip().ne("") & names.notna()]
    assert len(ok), "the demo has no asset with a unique name and an address"
    return ok.sort_values("name").iloc[0]


# What the map's frame asked for: every resource entry's URL and when its request began.
RESOURCES_JS = "() => performance.getEntriesByType('resource').map(e => [e.name, e.startTime])"


def test_the_points_are_asked_for_once_and_before_the_maps_scripts(app_page: AppPage) -> None:
    """cg-prefetch.js, linked first, asks for the points' file while the bundle is on its way, and the
    map's cgFillFrom takes that answer: one request, begun before the bundle's (issue 14)."""
    app = app_page
    frame = _open_explore(app)
    wait_for_asset_points(frame, DEMO_ASSETS)
    entries = frame.evaluate(RESOURCES_JS)
    prefetch = [u for u, _ in entries if "/app/static/vendor/cg-prefetch.js?" in u]
    assert len(prefetch) == 1, app.fail_message(f"the map's frame loaded {entries}")
    points = parse_qs(urlsplit(prefetch[0]).query)["u"][0]
    asked = [t for u, t in entries if urlsplit(u).path == points]
    bundle = [t for u, t in entries if "/app/static/vendor/cg-bundle.js?" in u]
    assert len(asked) == 1, f"the points file {points} was asked for {len(asked)} times: {entries}"
    assert len(bundle) == 1 and asked[0] < bundle[0], f"points asked at {asked}, the bundle at {bundle}"
    assert frame.evaluate("() => Object.keys(window.cgEarly || {}).length") == 0  # its answer was taken


def test_popup_shows_name_type_and_address(app_page: AppPage) -> None:
    app = app_page
    asset = _a_known_asset(app.server.store_path)
    label = schema.load_taxonomy().label(asset["type"])
    frame = _open_explore(app)
    wait_for_asset_points(frame, DEMO_ASSETS)

    opened = frame.evaluate(OPEN_POPUP_JS, {"exact": asset["name"]})
    assert opened is not None, app.fail_message(f"no point on the map is named {asset['name']!r}")
    assert opened == {"name": asset["name"], "type": label}

    text = _popup_text(app, frame)
    assert text.startswith(asset["name"] + label), f"popup text: {text!r}"
    assert asset["address"] in text, f"expected the address {asset['address']!r} in the popup: {text!r}"
    assert re.search(r"Sheffield|\bS\d{1,2} ?\d[A-Z]{2}\b", text), f"no Sheffield address in the popup: {text!r}"
    assert "Loading address" not in text
    problems = app.watch.problems()
    assert not problems, app.fail_message("the page reported problems:\n" + "\n".join(problems))


def test_about_page_lists_sources(app_page: AppPage) -> None:
    app = app_page
    page = app.page
    page.goto(app.server.url + "/", wait_until="domcontentloaded")
    link = page.get_by_role("link", name="About")
    link.wait_for(state="visible", timeout=TIMEOUT_MS)
    link.click()
    page.wait_for_url(re.compile(r"/about/?(\?[^#]*)?$"), timeout=TIMEOUT_MS)  # shared sidebar settings may ride along
    page.get_by_role("heading", name="About Common Ground").wait_for(timeout=TIMEOUT_MS)
    for text in ("Open Government Licence", "Give Food"):
        found = page.get_by_text(text).first
        try:
            found.wait_for(state="visible", timeout=TIMEOUT_MS)
        except Exception as exc:
            pytest.fail(app.fail_message(f"{text!r} is not shown on the About page: {exc}"), pytrace=False)
    # Leaving Explore by its link may cut short a request of the map Explore was still loading (the
    # browser reports ERR_ABORTED, as in the other modules' checks); anything else is a real problem.
    problems = [p for p in app.watch.problems() if "net::ERR_ABORTED" not in p]
    assert not problems, app.fail_message("the page reported problems:\n" + "\n".join(problems))


# --------------------------------------------------------------------------------------------
# A store holding a hostile name, on its own server (no basemap, so no request may leave at all)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    work = tmp_path_factory.mktemp("e2e-hostile")
    path = private_store(work)
    with open_store(path).transaction(actor="e2e-test") as tx:
        row = tx.read("assets").iloc[[0]].copy()
        row["id"] = str(uuid.uuid4())
        row["name"] = HOSTILE_NAME
        tx.insert("assets", row)
    server = start_server(path, work, extra_env={"COMMON_GROUND_TILES": "none"})
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def hostile_page(browser_context, hostile_server: AppServer) -> Iterator[AppPage]:
    yield from _app_page(browser_context, hostile_server)


def test_xss_names_are_shown_as_text(hostile_page: AppPage) -> None:
    app = hostile_page
    frame = _open_explore(app)
    points = wait_for_asset_points(frame, DEMO_ASSETS + 1)
    assert points == DEMO_ASSETS + 1, app.fail_message(f"the map loaded {points} points, expected {DEMO_ASSETS + 1}")

    opened = frame.evaluate(OPEN_POPUP_JS, {"contains": "onerror"})
    assert opened is not None, app.fail_message("the hostile asset is not on the map")
    assert opened["name"] == HOSTILE_NAME, f"the name was altered on its way to the map: {opened['name']!r}"

    text = _popup_text(app, frame)
    assert HOSTILE_NAME in text, f"popup text: {text!r}"
    assert "<img src=x onerror=alert(1)>" in text and "{{ 7*7 }}" in text and "${alert(2)}" in text
    popup = app.page.frame_locator(MAP_IFRAME).locator(".leaflet-popup-content")
    shown_name = popup.locator("strong").text_content()
    assert shown_name == HOSTILE_NAME, f"the popup shows the name as {shown_name!r} (49 would mean Jinja ran it)"
    assert popup.locator("img").count() == 0, "the name became markup inside the popup"

    # The hover tooltip is built from the name too: bring the point out of its cluster (it shares
    # its spot with the asset it was copied from, so this zooms in and spiderfies) and hover it.
    frame.evaluate(in_map("map.closePopup();"))
    popup.wait_for(state="detached", timeout=TIMEOUT_MS)
    path = frame.evaluate_handle(
        in_map(
            """
            let group = null, m = null;
            map.eachLayer(l => {
                if (!m && l instanceof CgClusterLayer) {
                    m = l.getLayers().find(p => p.cgName.includes('onerror')) || null;
                    if (m) group = l;
                }
            });
            return new Promise((resolve, reject) => {
                setTimeout(() => reject(new Error('zoomToShowLayer never finished')), 30000);
                // once shown, resolve when its path is drawn and no zoom or spiderfy is moving it
                const drawn = () => (m._path && m._path.isConnected && !map._animatingZoom
                                     ? resolve(m._path) : requestAnimationFrame(drawn));
                group.zoomToShowLayer(m, () => requestAnimationFrame(drawn));
            });
            """
        )
    ).as_element()
    assert path is not None, "the hostile point has no SVG path after zoomToShowLayer"
    box = app.page.locator(MAP_IFRAME).bounding_box()
    view = app.page.viewport_size
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= view["height"], (
        f"the map {box} is not wholly on screen {view}; a real click would scroll the page (see test_first_click_on_a_partly_hidden_map_keeps_the_page_still)"
    )
    # The pointer event goes to the point itself: with every type in one cluster group, a neighbouring
    # cluster's icon may sit over the spiderfied point at this zoom and take a real hover.
    path.dispatch_event("mouseover")
    tooltip = app.page.frame_locator(MAP_IFRAME).locator(".leaflet-tooltip")
    try:
        tooltip.first.wait_for(state="visible", timeout=TIMEOUT_MS)
    except Exception as exc:
        pytest.fail(app.fail_message(f"no tooltip when hovering the hostile point: {exc}"), pytrace=False)
    tip = tooltip.first.text_content()
    assert tip == HOSTILE_NAME + " (" + opened["type"] + ")", f"tooltip text: {tip!r}"
    assert tooltip.locator("img").count() == 0, "the name became markup inside the tooltip"

    # And a click on it opens the same, safe popup (sent to the point itself, for the reason above).
    assert popup.count() == 0
    path.dispatch_event("click")
    text = _popup_text(app, frame)
    assert text.startswith(HOSTILE_NAME + opened["type"]), f"popup text after a real click: {text!r}"
    assert path.evaluate("p => p.isConnected"), "the click closed the spread-out points it was made on"
    assert popup.locator("img").count() == 0

    settle(app, frame)  # an injected <img src=x> would have been requested and its onerror run
    assert app.page.locator("img[src='x']").count() == 0
    assert app.page.frame_locator(MAP_IFRAME).locator("img[src='x']").count() == 0
    assert not app.watch.dialogs, f"a hostile name ran script: {app.watch.dialogs}"
    requested_x = [u for u in app.watch.requests if u.rstrip("/").endswith("/x")]
    assert not requested_x, f"an injected <img src=x> was loaded: {requested_x}"
    assert not app.watch.aborted, f"with no basemap nothing may leave the app: {app.watch.aborted}"
    problems = app.watch.problems()
    assert not problems, app.fail_message("the page reported problems:\n" + "\n".join(problems))


# Regression: Leaflet 1.9's keyboard handler focused the map on the first mousedown without
# preventScroll; inside streamlit-folium's iframe that scrolled the page and the click was lost
# (Leaflet #1605, #5392). geo.web.maps.FocusWithoutScroll fixes it.
def test_first_click_on_a_partly_hidden_map_keeps_the_page_still(app_page: AppPage) -> None:
    app = app_page
    page = app.page
    frame = _open_explore(app)
    wait_for_asset_points(frame, DEMO_ASSETS)
    box = page.locator(MAP_IFRAME).bounding_box()
    visible_px = 300
    height = int(box["y"] + visible_px)
    page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
    page.wait_for_function("h => window.innerHeight === h", arg=height)
    settle(app, frame)  # the resize laid out and drawn
    box = page.locator(MAP_IFRAME).bounding_box()
    assert box["y"] + box["height"] > page.viewport_size["height"], "the map should be partly below the fold"

    # A cluster in the visible top of the map; a click on it should zoom the map to its bounds.
    target = frame.evaluate(
        f"""() => {{
            const c = Array.from(document.querySelectorAll('div.marker-cluster')).map(e => e.getBoundingClientRect())
                .filter(r => r.width > 0 && r.top > 40 && r.bottom < {visible_px - 40} && r.left > 60 && r.right < innerWidth - 60);
            return c.length ? {{x: c[0].left + c[0].width / 2, y: c[0].top + c[0].height / 2}} : null;
        }}"""
    )
    assert target is not None, "no cluster in the visible part of the map"
    zoom = frame.evaluate(in_map("return map.getZoom();"))
    page.mouse.click(box["x"] + target["x"], box["y"] + target["y"])
    try:  # the click zooms the map in; wait for the zoom to land (a lost click fails below)
        frame.wait_for_function(in_map(f"return map.getZoom() > {zoom} && !map._animatingZoom;"), timeout=15_000)
    except Exception:
        pass
    settle(app, frame)
    after = page.locator(MAP_IFRAME).bounding_box()
    new_zoom = frame.evaluate(in_map("return map.getZoom();"))
    assert after["y"] == box["y"], f"clicking the map scrolled the page by {box['y'] - after['y']:.0f}px"
    assert new_zoom > zoom, f"the click on a cluster was lost (zoom stayed {zoom})"


# --------------------------------------------------------------------------------------------
# Filters answered in place, search zooms, and the view in the URL (issues 10 and 11)
# --------------------------------------------------------------------------------------------

SHOWN_JS = """() => {
    for (const el of document.querySelectorAll('[data-testid=stMarkdownContainer] strong')) {
        const m = /^([\\d,]+) assets shown$/.exec(el.textContent.trim());
        if (m) return parseInt(m[1].replace(/,/g, ''), 10);
    }
    return null;
}"""
SCRIPT_DONE_JS = """() => {
    const app = document.querySelector('[data-testid=stApp]');
    return !!app && app.getAttribute('data-test-script-state') === 'notRunning' && !document.querySelector('[data-stale=true]');
}"""
IN_VIEW_JS = in_map(
    """
    const b = map.getBounds();
    let n = 0, out = 0;
    map.eachLayer(l => {
        if (l instanceof CgClusterLayer) l.getLayers().forEach(p => { n++; if (!b.contains(p.getLatLng())) out++; });
    });
    const legend = document.querySelector('.cg-legend-body');
    return {n, out, zoom: map.getZoom(), title: document.title, legend: legend ? legend.textContent : '',
            sentinel: window.cgSentinel || null};
    """
)


def _wait_shown(app: AppPage, frame, n: int) -> dict:
    """Wait until the table says ``n`` assets and the map holds exactly ``n`` points; the map's state."""
    page = app.page
    try:
        page.wait_for_function(f"() => ({SHOWN_JS})() === {n} && ({SCRIPT_DONE_JS})()", timeout=TIMEOUT_MS)
        frame.wait_for_function(f"() => (({IN_VIEW_JS})()).n === {n}", timeout=TIMEOUT_MS)
    except Exception as exc:
        state = frame.evaluate(IN_VIEW_JS)
        pytest.fail(app.fail_message(f"expected {n} assets in the table and on the map: {exc}; map: {state}"))
    return frame.evaluate(IN_VIEW_JS)


def test_a_type_filter_change_updates_the_drawn_map_in_place(app_page: AppPage) -> None:
    app = app_page
    page = app.page
    frame = _open_explore(app)
    assert wait_for_asset_points(frame, DEMO_ASSETS) == DEMO_ASSETS
    frame.evaluate("() => { window.cgSentinel = 'kept'; }")  # gone if the map's frame is drawn again
    chip = (
        page.locator("[data-testid=stMultiSelect]").filter(has_text="Types").get_by_role("button", name="Remove ").last
    )
    label = chip.get_attribute("aria-label").removeprefix("Remove ")
    type_label, n_type = label.rsplit(" (", 1)[0], int(label.rsplit("(", 1)[1].rstrip(")"))
    chip.click()
    state = _wait_shown(app, frame, DEMO_ASSETS - n_type)
    assert state["sentinel"] == "kept", "the map was drawn again instead of being changed in place"
    assert state["title"].startswith(f"Map of {DEMO_ASSETS - n_type:,} assets"), state["title"]
    assert type_label not in state["legend"], state["legend"]  # the legend lists what is shown
    assert re.search(r"[?&]types=[^&]+", page.url) and type_label.split()[0].lower() not in page.url.lower()
    layers = page.frame_locator(MAP_IFRAME).locator(".leaflet-control-layers-overlays").text_content()
    assert f"{type_label} (0)" in layers, layers  # the layer list counts what is shown
    problems = app.watch.problems()
    assert not problems, app.fail_message("\n".join(problems))


def test_search_zooms_to_what_it_found_and_its_link_restores_the_view(app_page: AppPage, browser) -> None:
    app = app_page
    page = app.page
    frame = _open_explore(app)
    assert wait_for_asset_points(frame, DEMO_ASSETS) == DEMO_ASSETS
    before = frame.evaluate(IN_VIEW_JS)
    search = page.get_by_label("Search by name, address or postcode")
    search.fill("Firth Park")
    search.press("Enter")
    page.wait_for_function(f"() => ({SHOWN_JS})() !== {DEMO_ASSETS} && ({SCRIPT_DONE_JS})()", timeout=TIMEOUT_MS)
    found = page.evaluate(SHOWN_JS)
    assert 0 < found < DEMO_ASSETS
    frame.wait_for_function(
        f"() => {{ const s = ({IN_VIEW_JS})(); return s.n === {found} && s.zoom > {before['zoom']}; }}"
    )
    state = frame.evaluate(IN_VIEW_JS)
    assert state["out"] == 0, f"{state['out']} of the {found} places found are outside the map: {state}"
    assert "q=Firth+Park" in page.url, page.url
    # the same link in another browser (no session) opens the same view
    context = new_context(browser)
    try:
        other = context.new_page()
        other.goto(page.url, wait_until="domcontentloaded")
        other.wait_for_function(f"() => ({SHOWN_JS})() === {found} && ({SCRIPT_DONE_JS})()", timeout=TIMEOUT_MS)
        # the search box shows it too (its value can arrive a moment after the results)
        other.wait_for_function(
            "() => [...document.querySelectorAll('input')].some(i => i.getAttribute('aria-label')"
            " === 'Search by name, address or postcode' && i.value === 'Firth Park')",
            timeout=TIMEOUT_MS,
        )
        other.frame_locator(MAP_IFRAME).locator(".leaflet-container").wait_for()
        shared = other.locator(MAP_IFRAME).element_handle().content_frame()
        try:
            shared.wait_for_function(f"() => {{ const s = ({IN_VIEW_JS})(); return s.n === {found} && s.out === 0; }}")
        except Exception as exc:
            pytest.fail(
                app.fail_message(f"the link's map never showed the {found} places: {shared.evaluate(IN_VIEW_JS)} {exc}")
            )
        assert shared.evaluate(IN_VIEW_JS)["zoom"] > before["zoom"]
    finally:
        context.close()


def test_a_link_with_types_and_shading_opens_that_view(app_page: AppPage) -> None:
    app = app_page
    page = app.page
    libraries = demo_count("assets", type="library")
    page.goto(app.server.url + "/?types=library&shade=none&boundaries=wards", wait_until="domcontentloaded")
    page.wait_for_function(f"() => ({SHOWN_JS})() !== null && ({SCRIPT_DONE_JS})()", timeout=TIMEOUT_MS)
    shown = page.evaluate(SHOWN_JS)
    assert shown == libraries
    frame = map_frame(app)
    state = _wait_shown(app, frame, shown)
    assert "Library" in state["legend"] and "per 1,000" not in state["legend"], state["legend"]
    assert page.get_by_role("radio", name="No shading").is_checked()
    assert "types=library" in page.url and "shade=none" in page.url, page.url
