"""Explore at national scale, in a real browser (issue 14, item 5): the clusters' index is built in steps,
every point ends up in it and on the map; a change of shading recolours the drawn map in place."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import (
    MAP_IFRAME,
    TIMEOUT_MS,
    AppPage,
    in_map,
    map_frame,
    wait_for_asset_points,
)
from tests.helpers import demo_count

pytestmark = pytest.mark.e2e

DEMO_ASSETS = demo_count("assets")

# What the clusters and single points on the map add up to (every point is inside the map's frame).
ON_MAP_JS = in_map(
    """
    let clusters = 0, inClusters = 0, single = 0, group = null;
    map.eachLayer(l => { if (l instanceof CgClusterLayer) group = l; });
    group.eachLayer(l => {
        if (l instanceof CgCluster) { clusters++; inClusters += l.getChildCount(); } else { single++; }
    });
    const filling = group.cgBusy();
    return {clusters, inClusters, single, total: inClusters + single, filling};
    """
)

AREAS_JS = in_map(
    """
    const out = [];
    map.eachLayer(l => {
        if (l.feature && l.feature.properties && l.feature.properties._i !== undefined && l.options) {
            out.push([l.options.fillColor, l.options.fillOpacity]);
        }
    });
    return out;
    """
)

TOOLTIP_JS = in_map(
    """
    let area = null;
    map.eachLayer(l => { if (!area && l.feature && l.feature.properties && l.feature.properties._i === 0) area = l; });
    let group = null;
    for (const id in area._eventParents) group = area._eventParents[id];
    const div = group.getTooltip()._content(area);
    return [...div.querySelectorAll('tr')].map(r => r.textContent.replace(/\\s+/g, ' ').trim());
    """
)


def test_every_point_is_on_the_map_after_the_stepped_indexing(app_page: AppPage) -> None:
    app = app_page
    app.page.goto(app.server.url + "/", wait_until="domcontentloaded")
    frame = map_frame(app)
    assert wait_for_asset_points(frame, DEMO_ASSETS) == DEMO_ASSETS
    frame.wait_for_function(f"() => {{ const s = ({ON_MAP_JS})(); return !s.filling && s.total === {DEMO_ASSETS}; }}")
    state = frame.evaluate(ON_MAP_JS)
    assert state["total"] == DEMO_ASSETS and state["clusters"] > 0, state  # the clusters' counts add up
    problems = app.watch.problems()
    assert not problems, app.fail_message("\n".join(problems))


def test_a_new_shading_recolours_the_drawn_map_in_place(app_page: AppPage) -> None:
    app = app_page
    page = app.page
    page.goto(app.server.url + "/", wait_until="domcontentloaded")
    frame = map_frame(app)
    assert wait_for_asset_points(frame, DEMO_ASSETS) == DEMO_ASSETS
    frame.wait_for_function("() => document.title.includes('shaded by Assets per 1,000')")
    before = frame.evaluate(AREAS_JS)
    assert {o for _, o in before} == {0.6}
    frame.evaluate("() => { window.cgSentinel = 'kept'; }")  # gone if the map's frame is drawn again
    shading = page.get_by_role("radiogroup", name="Shade areas by")
    shading.get_by_text("Deprivation (IMD 2019 decile)", exact=True).click()
    frame.wait_for_function("() => document.title.includes('shaded by Deprivation')", timeout=TIMEOUT_MS)
    assert frame.evaluate("() => window.cgSentinel") == "kept", "the map was drawn again"
    after = frame.evaluate(AREAS_JS)
    assert after != before and len(after) == len(before)
    assert any("Deprivation (IMD 2019 decile)" in row for row in frame.evaluate(TOOLTIP_JS))
    legend = page.frame_locator(MAP_IFRAME).locator(".cg-legend-body").text_content()
    assert "most deprived" in legend, legend
    shading.get_by_text("No shading", exact=True).click()
    frame.wait_for_function(f"() => ({AREAS_JS})().every(a => a[1] === 0.05)", timeout=TIMEOUT_MS)
    assert frame.evaluate("() => window.cgSentinel") == "kept"
    rows = frame.evaluate(TOOLTIP_JS)
    assert len(rows) == 1 and rows[0].startswith("Area"), rows  # no value to name without a shading
    assert wait_for_asset_points(frame, DEMO_ASSETS) == DEMO_ASSETS
    problems = app.watch.problems()
    assert not problems, app.fail_message("\n".join(problems))


# The cluster layer's state: its index's count, what it has drawn (clusters' counts and single
# points), and whether all of that lies in and around the view.
DRAWN_JS = in_map(
    """
    let group = null;
    map.eachLayer(l => { if (l instanceof CgClusterLayer) group = l; });
    const around = map.getBounds().pad(0.6);
    let clusters = 0, inClusters = 0, single = 0, outside = 0;
    group.eachLayer(l => {
        if (l instanceof CgCluster) { clusters++; inClusters += l.getChildCount(); } else { single++; }
        if (!around.contains(l.getLatLng())) outside++;
    });
    return {indexed: group.cgCount(), busy: group.cgBusy(), clusters, inClusters, single, outside,
            drawn: clusters + single, zoom: map.getZoom()};
    """
)


def test_the_map_draws_what_is_in_view_and_a_type_switched_off_leaves_the_index(app_page: AppPage) -> None:
    app = app_page
    page = app.page
    page.goto(app.server.url + "/", wait_until="domcontentloaded")
    frame = map_frame(app)
    assert wait_for_asset_points(frame, DEMO_ASSETS) == DEMO_ASSETS
    frame.wait_for_function(
        f"() => {{ const s = ({DRAWN_JS})(); return !s.busy && s.inClusters + s.single === {DEMO_ASSETS}; }}"
    )

    # The page's first view shows every point: the same as no mask, so the points were indexed once.
    builds = frame.evaluate(
        in_map("let n = null; map.eachLayer(l => { if (l instanceof CgClusterLayer) n = l.cgBuilds; }); return n;")
    )
    assert builds == 1, f"the clusters' index was built {builds} times for one view"
    # The page's view again, unchanged: the points' masks are the same, so nothing is indexed again.
    busy = frame.evaluate(
        in_map(
            "cgApplyView(map, map.cgView); let b = null; map.eachLayer(l => { if (l instanceof CgClusterLayer) b = l.cgBusy(); }); return b;"
        )
    )
    assert busy is False, "applying the same view again rebuilt the clusters' index"

    # Close in on one point: only what is in and around the view is drawn, all of it near the view.
    frame.evaluate(
        in_map(
            "let g = null; map.eachLayer(l => { if (l instanceof CgClusterLayer) g = l; });"
            "const p = g.getLayers()[0].getLatLng(); window.cgDrawn = 0; g.on('cgdrawn', () => window.cgDrawn++);"
            "map.setView(p, 16, {animate: false});"
        )
    )
    frame.wait_for_function("() => window.cgDrawn > 0", timeout=TIMEOUT_MS)
    near = frame.evaluate(DRAWN_JS)
    assert near["zoom"] == 16 and 0 < near["drawn"] and near["inClusters"] + near["single"] < DEMO_ASSETS, near
    assert near["outside"] == 0, f"drawn far outside the view: {near}"
    assert near["indexed"] == DEMO_ASSETS, near  # the rest are indexed, only not drawn

    # Switch one type off in the layer list, as a person does: its points leave the index; back on, they return.
    frame.evaluate(in_map("map.setView(map.cgHome[0], map.cgHome[1], {animate: false});"))
    first = frame.evaluate(
        in_map(
            "const e = cgLayerControls.flatMap(c => c._layers).find(e => e.layer instanceof CgTypeLayer);"
            "return {name: e.name, count: e.layer.count()};"
        )
    )
    label = page.frame_locator(MAP_IFRAME).locator(".leaflet-control-layers-overlays label", has_text=first["name"])
    page.frame_locator(MAP_IFRAME).locator(".leaflet-control-layers").hover()
    label.locator("input").uncheck()
    frame.wait_for_function(
        f"() => {{ const s = ({DRAWN_JS})(); return !s.busy && s.indexed < {DEMO_ASSETS}; }}", timeout=TIMEOUT_MS
    )
    off = frame.evaluate(DRAWN_JS)
    assert DEMO_ASSETS - off["indexed"] == first["count"] > 0, (first, off)
    assert off["inClusters"] + off["single"] == off["indexed"], off  # at the home view every point shown is drawn
    label.locator("input").check()
    frame.wait_for_function(
        f"() => {{ const s = ({DRAWN_JS})(); return !s.busy && s.indexed === {DEMO_ASSETS}; }}", timeout=TIMEOUT_MS
    )
    problems = app.watch.problems()
    assert not problems, app.fail_message("\n".join(problems))
