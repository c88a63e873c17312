"""Asset outlines on the maps (issue 12, item 4): parks drawn as shapes from close zooms, names as text."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, MultiPolygon, Polygon

from geo import outlines
from geo.errors import SchemaError
from geo.web import maps, webassets

HOSTILE = "Park {{ 7*7 }} <img src=x onerror=alert(1)> `${x}` \\ </script>"


@pytest.fixture
def parks(taxonomy) -> tuple[gpd.GeoDataFrame, gpd.GeoSeries]:
    ids = ["p1", "p2", "p3", "p4"]
    shapes = [
        Polygon([(-1.470, 53.380), (-1.465, 53.380), (-1.465, 53.383), (-1.470, 53.383)]),
        MultiPolygon([Polygon([(-1.48, 53.37), (-1.479, 53.37), (-1.479, 53.371)])]),
        LineString([(-1.49, 53.36), (-1.48, 53.365)]),
        Polygon([(-1.50, 53.35), (-1.499, 53.35), (-1.499, 53.351)]),
    ]
    assets = gpd.GeoDataFrame(
        {"id": ids, "name": [HOSTILE, "Two", "Trail", "Hidden"], "type": ["park", "park", "park", "park"]},
        geometry=[s.representative_point() for s in shapes],
        crs=4326,
    )
    return assets, gpd.GeoSeries(shapes, index=pd.Index(ids, name="id"), crs=4326)


def _data(html: str) -> dict:
    m = re.search(r"cgOutlines\(map_\w+, (\{.*?\}), \d+, \"outline_layer_\w+\"\);\n", html)
    assert m, "the outline layer's data is in the page"
    return json.loads(m.group(1))


def test_outlines_show_from_close_zooms_only(parks, taxonomy):
    assets, shapes = parks
    m = maps.explorer_map(assets, taxonomy=taxonomy, tiles="none")
    layer = maps.outline_layer(assets, shapes, taxonomy=taxonomy)
    layer.add_to(m)
    html = m.get_root().render()
    assert layer.count == 4
    assert re.search(rf"cgOutlines\(map_\w+, \{{.*\}}, {maps.OUTLINE_MIN_ZOOM}, ", html)  # from this zoom in
    own = webassets.JS_FILES["cg_map"][1].read_text(encoding="utf-8")
    assert "map.getZoom() >= minZoom" in own and 'map.on("zoomend", show)' in own
    assert maps.OUTLINE_MIN_ZOOM == 14
    data = _data(html)
    kinds = sorted(f["geometry"]["type"] for f in data["features"])
    assert kinds == ["LineString", "Polygon", "Polygon", "Polygon"]
    park = taxonomy.types["park"].colour
    assert {f["properties"]["colour"] for f in data["features"]} == {park}


def test_outline_names_are_text_not_html_or_jinja(parks, taxonomy):
    assets, shapes = parks
    m = maps.explorer_map(assets.iloc[0:0], taxonomy=taxonomy, tiles="none")
    maps.outline_layer(assets, shapes, taxonomy=taxonomy).add_to(m)
    html = m.get_root().render()
    script = html[html.index("cgOutlines(") :]
    script = script[: script.index(");\n")]
    assert "<img" not in script and "</script>" not in script and "{{" not in script
    own = webassets.JS_FILES["cg_map"][1].read_text(encoding="utf-8")
    drawing = own[own.index("window.cgOutlines") : own.index("window.cgApplyView")]
    assert "textContent = f.properties.name" in drawing and "innerHTML" not in drawing
    names = [f["properties"]["name"] for f in _data(html)["features"]]
    assert HOSTILE in names  # exactly as typed (not evaluated by Jinja), shown as text in the browser


def test_only_the_shown_assets_outlines_are_drawn(parks, taxonomy):
    assets, shapes = parks
    shown = assets[assets["id"] != "p4"]  # e.g. p4 was removed, or filtered out
    layer = maps.outline_layer(shown, shapes, taxonomy=taxonomy)
    assert layer.count == 3
    m = maps.explorer_map(shown, taxonomy=taxonomy, tiles="none")
    layer.add_to(m)
    assert "Hidden" not in m.get_root().render()
    assert maps.outline_layer(shown, outlines.empty_outlines(), taxonomy=taxonomy).count == 0
    assert maps.outline_layer(shown, None, taxonomy=taxonomy).count == 0


def test_a_frame_without_crs_is_refused(parks, taxonomy):
    assets, shapes = parks
    with pytest.raises(SchemaError):
        maps.outline_layer(pd.DataFrame(assets), shapes, taxonomy=taxonomy)


def test_a_geojson_of_parks_shows_as_shapes_on_the_app_map(gpkg_copy, tmp_path, taxonomy):
    """Done when: a GeoJSON of park polygons imports as parks that show as shapes on the maps."""
    from geo.analysis import areas as analysis
    from geo.io import imports
    from geo.store import store_taxonomy

    frame = gpd.GeoDataFrame(
        {"name": ["Endcliffe-ish Park", "Valley Trail"], "type": ["park", "park"]},
        geometry=[
            Polygon([(-1.50, 53.370), (-1.495, 53.370), (-1.495, 53.373), (-1.50, 53.373)]),
            LineString([(-1.49, 53.36), (-1.48, 53.365)]),
        ],
        crs=4326,
    )
    path = tmp_path / "parks.geojson"
    path.write_text(frame.to_json(), encoding="utf-8")
    result = imports.import_file(path, layer="assets", store=gpkg_copy, actor="t")
    active = analysis.filter_assets(gpkg_copy.read("assets"))
    tax = store_taxonomy(gpkg_copy)
    m = maps.explorer_map(active, taxonomy=tax, tiles="none")
    maps.outline_layer(active, outlines.read_outlines(gpkg_copy), taxonomy=tax).add_to(m)
    features = _data(m.get_root().render())["features"]
    assert sorted(f["properties"]["name"] for f in features) == ["Endcliffe-ish Park", "Valley Trail"]
    assert len(result.ids) == 2
