"""Accessibility in a real browser (issue 11): axe-core on every page, the map from the keyboard
alone, visible focus, and every page on a 375 px phone.

* **axe**: ``axe-playwright-python`` (which ships axe-core) runs on each of the ten pages, in the page
  and inside each map frame, with the WCAG 2.0, 2.1 and 2.2 A and AA rules; any serious or critical
  violation fails, listed with its elements.
* **Keyboard only**: from the Explore page, Tab until the focus is in the map, Tab to a cluster or
  point, Enter into clusters until a point has the focus, Enter to open its details, read the name,
  Escape back to the point. No mouse event and no script reaches into the map to help.
* **Phone**: every page at 375 x 812: nothing scrolls the page sideways, tables and maps fit, maps
  are a usable height, and axe again. Screenshots of each page, screen by screen, are saved in the
  server's log folder (its path is printed in a failure) for a person to look at.
"""

from __future__ import annotations

import json
import re

import pytest

from geo.store import open_store
from pages._registry import HEADINGS
from tests.e2e.conftest import MAP_IFRAME, TIMEOUT_MS, AppPage, settle, visit
from tests.helpers import DEMO_ASSETS, wait_until

pytestmark = pytest.mark.e2e

PAGES = HEADINGS  # url path -> the page's title (its h1), from the app's one list
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
FAILING_IMPACTS = ("serious", "critical")
PHONE = {"width": 375, "height": 812}
MAP_PAGES = ("", "neighbourhood", "near_me", "gaps")  # the pages that always show a map
MAX_TABS_TO_MAP = 150
MAX_TABS_IN_MAP = 60
MIN_MAP_HEIGHT_PX = 250


@pytest.fixture(scope="module")
def axe():
    sync_axe = pytest.importorskip("axe_playwright_python.sync_playwright")
    return sync_axe.Axe()


def _name(path: str) -> str:
    return path or "explore"


def open_app_page(app: AppPage, path: str) -> None:
    """Go to ``/path`` (:func:`~tests.e2e.conftest.visit`) and wait until its script has run to the end,
    nothing is in flight, and every map on it has drawn."""
    page = app.page
    visit(app, path)
    try:
        page.get_by_role("heading", name=PAGES[path], exact=True).wait_for()
        if path in MAP_PAGES:  # its frame can be created after the script has finished
            page.locator(MAP_IFRAME).first.wait_for(state="attached")
        _wait_quiet(app)
        for i in range(page.locator(MAP_IFRAME).count()):
            page.frame_locator(MAP_IFRAME).nth(i).locator(".leaflet-container").wait_for(state="visible")
            frame = page.locator(MAP_IFRAME).nth(i).element_handle().content_frame()
            frame.wait_for_function("() => document.title.startsWith('Map')")  # MapAccess has run
            frame.wait_for_function(QUIET_MAP_JS)
        _wait_quiet(app)  # a map's first value can rerun the page once
        # ... and a rerun can put a new frame in place of a drawn one: wait until every map frame on the
        # page has its size and has been named by its map (a frame that never is fails here, loudly)
        page.wait_for_function(MAPS_SETTLED_JS)
    except Exception as exc:  # playwright's TimeoutError, with the page's and server's story
        pytest.fail(app.fail_message(f"/{path} did not finish loading: {exc}"), pytrace=False)


# Every map frame on the page is at least the given height (px).
MAPS_TALL_JS = """(min) => [...document.querySelectorAll("iframe[src*='streamlit_folium']")]
    .every(f => f.getBoundingClientRect().height >= min)"""

# Every map frame on the page is laid out and named by the map inside it (MapAccess sets its title).
MAPS_SETTLED_JS = """() => [...document.querySelectorAll("iframe[src*='streamlit_folium']")]
    .every(f => f.getBoundingClientRect().height > 0 && (f.title || '').startsWith('Map'))"""

# The script has run to the end and nothing on the page is stale or still fading in: Streamlit greys
# out the elements of a run that is being replaced and fades them back in, and axe measures contrast
# with the opacity of the moment.
QUIET_PAGE_JS = """() => {
    const app = document.querySelector('[data-testid=stApp]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (document.querySelector('[data-stale=true]')) return false;
    return [...document.querySelectorAll('[data-testid=stElementContainer], [data-testid=stMarkdown]')]
        .every(e => getComputedStyle(e).opacity === '1');
}"""

# Leaflet has finished zooming, every cluster layer has indexed and drawn its points, and no marker
# is fading in or out.
QUIET_MAP_JS = """() => {
    const keys = Object.keys(window).filter(k => k.startsWith('map_') && window[k] instanceof L.Map);
    const indexed = map => { let ok = true; map.eachLayer(l => { if (l instanceof CgClusterLayer && l.cgBusy()) ok = false; }); return ok; };
    return keys.length > 0 && keys.every(k => !window[k]._animatingZoom && indexed(window[k]))
        && !document.querySelector('.leaflet-zoom-anim, .leaflet-cluster-anim')
        && [...document.querySelectorAll('.leaflet-marker-icon')].every(e => getComputedStyle(e).opacity === '1');
}"""


def _wait_quiet(app: AppPage) -> None:
    """Wait until the page is quiet (:data:`QUIET_PAGE_JS`) with no request in flight, twice over."""
    for _ in range(2):
        app.page.wait_for_function(QUIET_PAGE_JS)
        settle(app)
    app.page.wait_for_function(QUIET_PAGE_JS)


def _map_frames(app: AppPage) -> list:
    return [h.content_frame() for h in app.page.locator(MAP_IFRAME).element_handles()]


def axe_violations(app: AppPage, axe) -> list[str]:
    """Serious and critical WCAG violations in the page and in each map frame, one line each."""
    found = []
    for where, target in [("page", app.page)] + [(f"map frame {i + 1}", f) for i, f in enumerate(_map_frames(app))]:
        target.evaluate(axe.axe_script)
        result = target.evaluate(f"axe.run(document, {json.dumps(AXE_OPTIONS)})")
        for v in result["violations"]:
            if v["impact"] in FAILING_IMPACTS:
                nodes = "; ".join(
                    f"{n['target']} {n.get('failureSummary', '').splitlines()[-1].strip()}"
                    + "".join(f" (near {r['target']})" for c in n.get("any", []) for r in c.get("relatedNodes", [])[:2])
                    for n in v["nodes"][:5]
                )
                found.append(f"{where}: {v['id']} ({v['impact']}, {len(v['nodes'])} elements): {v['help']}: {nodes}")
    return found


def _problems(app: AppPage) -> list[str]:
    """The page's errors, less Streamlit's probes of ``/<page>/_stcore/`` (404 on a direct link) and
    a popup details table that is gone: every app started from this work tree shares its ``static/``
    folder, and one publishing another store's details table deletes the others' (the popup then
    says where else to look; the tests in test_explore_browser.py are about those tables)."""
    probe = re.compile(r"/[\w-]+/_stcore/(health|host-config)\b|/app/static/details/\S+\.json")
    return [p for p in app.watch.problems() if not probe.search(p) and "ERR_ABORTED" not in p]


# --------------------------------------------------------------------------------------------
# axe on every page
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", list(PAGES), ids=[_name(p) for p in PAGES])
def test_no_serious_or_critical_axe_violations(app_page: AppPage, axe, path: str) -> None:
    app = app_page
    open_app_page(app, path)
    assert app.page.evaluate("document.documentElement.lang") == "en", "the page does not declare its language"
    violations = axe_violations(app, axe)
    assert not violations, f"axe on /{path}:\n" + "\n".join(violations)
    assert not _problems(app), app.fail_message("\n".join(_problems(app)))


def test_every_map_frame_is_named_for_what_it_shows(app_page: AppPage) -> None:
    """Screen readers announce a frame by its accessible name: the map's own title, not
    streamlit-folium's "streamlit_folium.st_folium"."""
    app = app_page
    open_app_page(app, "")
    cdp = app.page.context.new_cdp_session(app.page)

    def frame_names() -> list[str]:
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
        return [n.get("name", {}).get("value", "") for n in nodes if n.get("role", {}).get("value") == "Iframe"]

    def named_frames() -> list[str] | None:
        names = frame_names()
        return names if names and all(n.startswith("Map") for n in names) else None

    try:  # what Chromium's accessibility tree, which screen readers read, calls each frame. The tree
        # follows the page as the browser gets to it: a frame the page has already named can be
        # missing from it or still carry its old name (CI saw both once). Wait until every frame in
        # it is named for a map; a frame that never is fails here, with the names it has.
        cdp.send("Accessibility.enable")
        try:
            frames = wait_until(named_frames, 30, "every map frame named in Chromium's accessibility tree")
        except pytest.fail.Exception:
            pytest.fail(f"the map frames are not named for their maps: {frame_names()}", pytrace=False)
    finally:
        cdp.detach()
    assert frames and all(name.startswith(f"Map of {DEMO_ASSETS} assets") for name in frames), frames
    inner = _map_frames(app)[0]
    assert inner.evaluate("document.title").startswith(f"Map of {DEMO_ASSETS} assets")
    region = inner.locator(".leaflet-container")
    assert region.get_attribute("role") == "region"
    assert region.get_attribute("aria-label").startswith(f"Map of {DEMO_ASSETS} assets")
    assert "Enter" in inner.locator(".cg-keys").text_content()


# --------------------------------------------------------------------------------------------
# The map from the keyboard alone
# --------------------------------------------------------------------------------------------

# What has the keyboard focus inside the map frame, as plain data.
FOCUSED_JS = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return {kind: 'none'};
    const cls = (el.getAttribute('class') || '');
    const kind = cls.includes('cg-pt') ? 'point' : cls.includes('cg-cluster') ? 'cluster'
        : el.classList.contains('leaflet-container') ? 'map' : el.closest('.leaflet-popup') ? 'popup' : 'other';
    return {kind, label: el.getAttribute('aria-label') || '', text: (el.textContent || '').trim()};
}"""

SETTLED_JS = """() => {
    const keys = Object.keys(window).filter(k => k.startsWith('map_') && window[k] instanceof L.Map);
    const map = window[keys[0]];
    return !map._animatingZoom && !document.querySelector('.leaflet-zoom-anim');
}"""


def test_keyboard_only_reaches_a_point_and_reads_its_details(app_page: AppPage) -> None:
    app = app_page
    page = app.page
    open_app_page(app, "")
    frame = _map_frames(app)[0]
    names = set(open_store(app.server.store_path).read("assets")["name"].astype(str))

    # 1. Tab from the top of the page until the focus is inside the map's frame.
    page.locator("body").focus()
    for _ in range(MAX_TABS_TO_MAP):
        page.keyboard.press("Tab")
        if page.evaluate("(sel) => !!document.activeElement && document.activeElement.matches(sel)", MAP_IFRAME):
            break
    else:
        pytest.fail(f"{MAX_TABS_TO_MAP} presses of Tab never reached the map", pytrace=False)

    # 2. Tab on inside the map until a cluster or a point has the focus.
    focused = frame.evaluate(FOCUSED_JS)
    for _ in range(MAX_TABS_IN_MAP):
        if focused["kind"] in ("cluster", "point"):
            break
        page.keyboard.press("Tab")
        focused = frame.evaluate(FOCUSED_JS)
    assert focused["kind"] in ("cluster", "point"), f"Tab never reached a place on the map: {focused}"
    assert focused["label"], f"the focused {focused['kind']} has no accessible name"

    # 3. Enter opens clusters (zooming in, the focus moving to what was inside) until a point has it.
    for _ in range(12):
        if focused["kind"] == "point":
            break
        assert re.match(r"\d+ places: ", focused["label"]), focused
        before = focused["label"]
        page.keyboard.press("Enter")
        frame.wait_for_function(
            f"() => ({SETTLED_JS})() && ({FOCUSED_JS})().label !== {json.dumps(before)}"
            f" && ['cluster', 'point'].includes(({FOCUSED_JS})().kind)",
            timeout=TIMEOUT_MS,
        )
        focused = frame.evaluate(FOCUSED_JS)
    assert focused["kind"] == "point", f"Enter on clusters never led to a point: {focused}"
    name, _, type_label = focused["label"].rpartition(", ")
    assert name in names and type_label, f"the point's accessible name is not 'asset, type': {focused['label']!r}"

    # 4. Enter opens its details; the focus moves into them; the name is there to read.
    page.keyboard.press("Enter")
    popup = page.frame_locator(MAP_IFRAME).locator(".leaflet-popup-content .cg-popup")
    popup.wait_for(state="visible")
    frame.wait_for_function(f"() => ({FOCUSED_JS})().kind === 'popup'")
    assert popup.locator("strong").text_content() == name
    assert type_label in popup.text_content()
    frame.wait_for_function("() => !document.querySelector('.cg-popup .cg-address').textContent.startsWith('Loading')")
    assert frame.evaluate(FOCUSED_JS)["kind"] == "popup", "the focus left the details when their address arrived"

    # 5. Escape closes them and gives the focus back to the point.
    page.keyboard.press("Escape")
    popup.wait_for(state="detached")
    frame.wait_for_function(f"() => ({FOCUSED_JS})().kind === 'point'")
    assert frame.evaluate(FOCUSED_JS)["label"] == focused["label"]
    assert not _problems(app), app.fail_message("\n".join(_problems(app)))


def test_focus_is_visible_on_every_stop_through_the_sidebar_and_filters(app_page: AppPage) -> None:
    """The first stops of the Tab order on Explore (sidebar, navigation, filters) each show a focus
    ring: an outline or a box shadow that is not there without the focus."""
    app = app_page
    page = app.page
    open_app_page(app, "")
    page.locator("body").focus()
    invisible = []
    for _ in range(25):
        page.keyboard.press("Tab")
        info = page.evaluate(
            """() => {
                const el = document.activeElement;
                if (!el || el === document.body || el.tagName === 'IFRAME') return null;
                const ring = e => { const s = getComputedStyle(e);
                    return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none'; };
                // Streamlit draws some rings on the widget's frame around the focused input
                let shown = false;
                for (let e = el, i = 0; e && i < 4; e = e.parentElement, i++) { if (ring(e)) { shown = true; break; } }
                return {shown, what: el.tagName + ' ' + (el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 40)};
            }"""
        )
        if info and not info["shown"]:
            invisible.append(info["what"])
    assert not invisible, f"no visible focus on: {invisible}"


# --------------------------------------------------------------------------------------------
# Every page on a phone
# --------------------------------------------------------------------------------------------

SCROLLER_JS = """() => {
    const all = [document.scrollingElement, ...document.querySelectorAll('[data-testid=stMain], [data-testid=stAppViewContainer], section, div')];
    return all.findIndex(e => e && e.scrollHeight > e.clientHeight + 4
        && (e === document.scrollingElement || /(auto|scroll)/.test(getComputedStyle(e).overflowY))
        && e.clientWidth >= innerWidth - 40);
}"""

LAYOUT_JS = """() => {
    const vw = window.innerWidth;
    const out = {doc: document.documentElement.scrollWidth, body: document.body.scrollWidth, vw, wide: [], maps: []};
    const main = document.querySelector('[data-testid=stMain]');
    if (main) out.main = [main.scrollWidth, main.clientWidth];
    for (const el of document.querySelectorAll('[data-testid=stDataFrame], [data-testid=stTable], table, iframe, [data-testid=stPlotlyChart], [data-testid=stVegaLiteChart], img')) {
        const r = el.getBoundingClientRect();
        if (r.width > 0 && (r.left < -1 || r.right > vw + 1)) out.wide.push(el.tagName + ' ' + (el.dataset.testid || '') + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
    }
    for (const el of document.querySelectorAll("iframe[src*='streamlit_folium']")) {  // a map titles its frame for what it shows
        out.maps.push(Math.round(el.getBoundingClientRect().height));
    }
    return out;
}"""


@pytest.mark.parametrize("path", list(PAGES), ids=[_name(p) for p in PAGES])
def test_every_page_fits_a_375px_phone(app_page: AppPage, axe, path: str) -> None:
    app = app_page
    page = app.page
    page.set_viewport_size(PHONE)
    open_app_page(app, path)
    try:  # a map frame resizes itself after the phone's width reaches it: measure it once it has
        page.wait_for_function(MAPS_TALL_JS, arg=MIN_MAP_HEIGHT_PX)
    except Exception:  # noqa: BLE001 (too short for good: the assertion below says how short)
        pass
    layout = page.evaluate(LAYOUT_JS)
    shots = _screenshots(app, path)
    where = f"(screenshots: {', '.join(str(s) for s in shots[:2])}, ...)"
    assert layout["doc"] <= layout["vw"] == PHONE["width"] and layout["body"] <= layout["vw"], (
        f"the page scrolls sideways: {layout} {where}"
    )
    if "main" in layout:
        assert layout["main"][0] <= layout["main"][1], f"the main area scrolls sideways: {layout} {where}"
    assert not layout["wide"], (
        f"wider than the phone (a table or map should fit or scroll inside itself): {layout['wide']} {where}"
    )
    assert all(h >= MIN_MAP_HEIGHT_PX for h in layout["maps"]), f"a map is too short to use: {layout['maps']}"
    if path in MAP_PAGES:
        assert layout["maps"], f"/{path} shows no map at 375 px {where}"
    violations = axe_violations(app, axe)
    assert not violations, f"axe on /{path} at 375 px:\n" + "\n".join(violations)


def _screenshots(app: AppPage, path: str, limit: int = 8) -> list:
    """The page screen by screen (Streamlit scrolls its own main area, not the document)."""
    page = app.page
    folder = app.server.log_path.parent / "phone"
    folder.mkdir(exist_ok=True)
    index = page.evaluate(SCROLLER_JS)
    shots = []
    for n in range(limit):
        moved = page.evaluate(
            f"""(i) => {{
                const all = [document.scrollingElement, ...document.querySelectorAll('[data-testid=stMain], [data-testid=stAppViewContainer], section, div')];
                const e = i >= 0 ? all[i] : document.scrollingElement;
                const before = e.scrollTop;
                e.scrollTop = {n} * e.clientHeight;
                return {n} === 0 || e.scrollTop > before;
            }}""",
            index,
        )
        if not moved:
            break
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))")
        shot = folder / f"{_name(path)}-{n + 1}.png"
        page.screenshot(path=str(shot))
        shots.append(shot)
    return shots
