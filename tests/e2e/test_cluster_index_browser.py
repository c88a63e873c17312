"""The clusters' index built in steps (``cgIndexInSteps`` in ``geo/web/js/cg-points.js``) in Chromium,
without an app: it makes exactly the index Supercluster's own ``load()`` makes, at every zoom.

The map builds its index one zoom per task so that England's 29,000 points never hold the page for
long (one ``load()`` held it 300-490 ms); it uses Supercluster's own internals to do so, so this
checks the result against the library's, on the demo's real asset points, for every point and for a
filtered share of them.
"""

from __future__ import annotations

import pytest

from geo import schema
from geo.store import open_store
from geo.web import maps, webassets

pytestmark = pytest.mark.e2e

# Both indexes over the same points; every zoom's clusters (and every cluster's leaves and
# expansion zoom) as JSON, side by side, and whether the stepped build ever ran in one task.
COMPARE_JS = """async ([pts, every]) => {
    const lng = Float64Array.from(pts.map(p => p[0])), lat = Float64Array.from(pts.map(p => p[1]));
    const ids = Int32Array.from(pts.map((p, i) => i).filter(i => i % every === 0));
    const opts = {radius: 50, extent: 256, minZoom: 0, maxZoom: 19};
    const whole = new Supercluster(opts).load(Array.from(ids, i => (
        {type: 'Feature', id: i, properties: null, geometry: {type: 'Point', coordinates: [lng[i], lat[i]]}})));
    const stepped = new Supercluster(opts);
    let steps = 0;
    await new Promise(done => {
        const tick = () => { steps++; };
        const t = setInterval(tick, 0);
        cgIndexInSteps(stepped, lng, lat, ids, () => { clearInterval(t); done(); }, () => true);
    });
    const out = {zooms: 0, differ: [], clusters: 0, steps};
    for (let z = 0; z <= 20; z++) {
        const a = whole.getClusters([-180, -85, 180, 85], z), b = stepped.getClusters([-180, -85, 180, 85], z);
        out.zooms++;
        if (JSON.stringify(a) !== JSON.stringify(b)) { out.differ.push(z); continue; }
        for (const f of a) {
            if (!f.properties || !f.properties.cluster) continue;
            out.clusters++;
            const id = f.properties.cluster_id;
            const la = whole.getLeaves(id, Infinity).map(l => l.id), lb = stepped.getLeaves(id, Infinity).map(l => l.id);
            if (JSON.stringify(la) !== JSON.stringify(lb) ||
                whole.getClusterExpansionZoom(id) !== stepped.getClusterExpansionZoom(id)) { out.differ.push(z + ':' + id); break; }
        }
    }
    out.points = stepped.getClusters([-180, -85, 180, 85], 20).length;
    return out;
}"""


@pytest.fixture(scope="module")
def demo_points() -> list[list[float]]:
    assets = open_store(schema.DEMO_GPKG).read("assets")
    return [[round(g.x, 6), round(g.y, 6)] for g in assets.geometry]


@pytest.fixture(scope="module")
def demo_types() -> list[int]:
    """Each demo asset's type as a number (the order of demo_points)."""
    kinds = open_store(schema.DEMO_GPKG).read("assets")["type"].astype(str)
    order = {t: i for i, t in enumerate(dict.fromkeys(kinds))}
    return [order[t] for t in kinds]


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_content("<html><body></body></html>")
    page.add_script_tag(content=webassets.bundle_text())
    yield page
    context.close()


@pytest.mark.parametrize("every", [1, 3])
def test_the_stepped_index_is_the_one_supercluster_makes(page, demo_points, every) -> None:
    out = page.evaluate(COMPARE_JS, [demo_points, every])
    shown = len(range(0, len(demo_points), every))
    assert out["differ"] == [], out
    assert out["zooms"] == 21 and out["clusters"] > 0, out
    assert out["steps"] >= 1, out  # other tasks ran while it was being built
    assert out["points"] == shown, out  # past the deepest zoom, every point on its own


# Every cluster's places by type from cgClusterCounts, against counting its leaves' types, at every
# zoom, for an index built by load() and one built in steps (types: the demo's asset types, in order).
COUNTS_JS = """async ([pts, types, every]) => {
    const lng = Float64Array.from(pts.map(p => p[0])), lat = Float64Array.from(pts.map(p => p[1]));
    const ids = Int32Array.from(pts.map((p, i) => i).filter(i => i % every === 0));
    const nTypes = Math.max(...types) + 1, opts = {radius: 50, extent: 256, minZoom: 0, maxZoom: 19};
    const whole = new Supercluster(opts).load(Array.from(ids, i => (
        {type: 'Feature', id: i, properties: null, geometry: {type: 'Point', coordinates: [lng[i], lat[i]]}})));
    const stepped = new Supercluster(opts);
    await new Promise(done => cgIndexInSteps(stepped, lng, lat, ids, done, () => true));
    const out = {clusters: 0, differ: [], mixed: 0};
    for (const index of [whole, stepped]) {
        // a leaf's feature id is its point; the k-th point indexed is ids[k]
        const counts = cgClusterCounts(index, k => types[ids[k]], nTypes);
        if (counts === null) { out.differ.push('no counts'); continue; }
        for (let z = 0; z <= 19; z++) {
            for (const f of index.getClusters([-180, -85, 180, 85], z)) {
                if (!f.properties || !f.properties.cluster) continue;
                out.clusters++;
                const want = new Array(nTypes).fill(0);
                for (const leaf of index.getLeaves(f.properties.cluster_id, Infinity)) want[types[leaf.id]]++;
                const got = Array.from(counts.get(f.properties.cluster_id) || []);
                if (JSON.stringify(got) !== JSON.stringify(want)) { out.differ.push(z + ':' + f.properties.cluster_id); }
                if (want.filter(n => n > 0).length > 1) out.mixed++;
            }
        }
    }
    return out;
}"""


@pytest.mark.parametrize("every", [1, 3])
def test_every_clusters_places_by_type_are_its_leaves_types(page, demo_points, demo_types, every) -> None:
    """The clusters' rings of type colours and their names ("12 places: Pharmacy 5, ...") come from
    cgClusterCounts, one pass down the built index, not from each cluster's leaves."""
    out = page.evaluate(COUNTS_JS, [demo_points, demo_types, every])
    assert out["differ"] == [], out
    assert out["clusters"] > 100 and out["mixed"] > 10, out  # real clusters, many of several types


def test_no_points_make_an_empty_index(page) -> None:
    out = page.evaluate(
        """() => new Promise(done => {
            const index = new Supercluster({radius: 50, extent: 256, minZoom: 0, maxZoom: 19});
            cgIndexInSteps(index, new Float64Array(0), new Float64Array(0), new Int32Array(0),
                           () => done(index.getClusters([-180, -85, 180, 85], 5).length), () => true);
        })"""
    )
    assert out == 0


def test_a_stopped_build_never_finishes(page, demo_points) -> None:
    finished = page.evaluate(
        """async (pts) => {
            const lng = Float64Array.from(pts.map(p => p[0])), lat = Float64Array.from(pts.map(p => p[1]));
            const index = new Supercluster({radius: 50, extent: 256, minZoom: 0, maxZoom: 19});
            let live = true, finished = false;
            cgIndexInSteps(index, lng, lat, Int32Array.from(pts.map((p, i) => i)), () => { finished = true; }, () => live);
            live = false;  // a later change began another build
            await new Promise(r => setTimeout(r, 300));
            return finished;
        }""",
        demo_points,
    )
    assert finished is False  # its first task ends with the first tree: the zooms come in tasks of their own


# The map's cluster layer, once it is no longer busy (its points in, its index built).
READY_JS = """() => {
    let layer = null;
    for (const k of Object.keys(window)) {
        if (k.startsWith('map_') && window[k] instanceof L.Map) window[k].eachLayer(l => { if (l instanceof CgClusterLayer) layer = l; });
    }
    return layer !== null && !layer.cgBusy() && !!layer._index;
}"""


@pytest.mark.parametrize("count", [0, 5])
def test_a_map_with_or_without_points_finishes_loading_and_takes_a_view(browser, demo_assets, taxonomy, count):
    """A map of no assets (a search or an area with none) still builds its (empty) index, so the page's
    views reach it; before, its cluster layer waited for points forever and every view with it."""
    html = maps.standalone_html(maps.explorer_map(demo_assets.iloc[:count], taxonomy=taxonomy, tiles="none"))
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content(html)
        page.wait_for_function(READY_JS, timeout=15_000)
        shown = page.evaluate(
            """() => { let n = null; for (const k of Object.keys(window)) { if (k.startsWith('map_') && window[k] instanceof L.Map)
                window[k].eachLayer(l => { if (l instanceof CgClusterLayer) { n = l.cgCount(); cgApplyView(window[k], {t: 'Map of what was found', n: []}); } }); }
                return n; }"""
        )
        assert shown == count
        page.wait_for_function("() => document.title === 'Map of what was found'", timeout=15_000)
    finally:
        context.close()


# Records every "places are loading" note the map shows, from the document's start.
NOTE_WATCH_JS = """
window.cgNotes = [];
new MutationObserver(records => {
    for (const r of records) for (const n of r.addedNodes) {
        if (n.nodeType === 1 && n.classList.contains('cg-loading')) {
            window.cgNotes.push({text: n.textContent, role: n.getAttribute('role')});
        }
    }
}).observe(document, {childList: true, subtree: true});
"""


def test_the_map_says_its_places_are_loading_until_they_are_drawn(browser, demo_assets, taxonomy, tmp_path):
    html = maps.standalone_html(maps.explorer_map(demo_assets, taxonomy=taxonomy, tiles="none"))
    path = tmp_path / "map.html"
    path.write_text(html, encoding="utf-8")
    context = browser.new_context()
    try:
        context.add_init_script(NOTE_WATCH_JS)
        page = context.new_page()
        page.goto(path.as_uri())
        page.wait_for_function(READY_JS, timeout=15_000)
        notes = page.evaluate("() => window.cgNotes")
        assert notes == [{"text": "Loading the map's places\u2026", "role": "status"}], notes
        assert page.locator(".cg-loading").count() == 0, "the note stayed after the places were drawn"
    finally:
        context.close()
