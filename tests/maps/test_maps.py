"""Folium maps rendered to HTML and checked: every asset present, hostile text shown as text,
no CDN, and a lean payload."""

from __future__ import annotations

import itertools
import json
import re
import uuid

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

from geo import schema
from geo.errors import CRSError, SchemaError
from geo.web import maps, webassets
from tests.helpers import DEMO_ASSETS, DEMO_TYPES

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "${alert(1)}",
    "</script><script>alert(1)</script>",
    "Bob`s Café",
    "\\\\`+alert(4)+`",
    "{{ 7*7 }}",
    "{{ this.__init__.__globals__['__builtins__']['len']('abc') }}",
    "{% raw %}x{% endraw %}",
    '{{constructor.constructor("alert(1)")()}}',
    "\u2028line\u2029sep",
]
CDN = re.compile(r"cdn\.jsdelivr|cdnjs|code\.jquery|bootstrapcdn|d3js\.org|unpkg|fontawesome", re.I)


def _render(m) -> str:
    return m.get_root().render()


def _own_js() -> str:
    """The maps' own scripts (geo/web/js), which every map links or inlines and its script calls."""
    return "\n".join(webassets.JS_FILES[n][1].read_text(encoding="utf-8") for n in ("cg_map", "cg_points"))


@pytest.fixture(scope="module")
def demo_html(demo_assets, demo_wards, taxonomy):
    m = maps.explorer_map(
        demo_assets,
        taxonomy=taxonomy,
        boundaries=demo_wards,
        choropleth=maps.Choropleth("Population", demo_wards["population"], fmt="{:,.0f}"),
        assets_base_url="/app/static/vendor",
        details_url="/app/static/details/x.json",
    )
    return _render(m)


def test_every_demo_asset_is_on_the_map(demo_html, demo_assets):
    payloads = maps.payload_points(demo_html)
    assert len(payloads) == 1
    lon, lat, names = maps.decode_points(payloads[0])
    assert sorted(names) == sorted(demo_assets["name"])
    assert sum(payloads[0]["c"]) == DEMO_ASSETS and len(payloads[0]["c"]) == DEMO_TYPES
    # every asset's coordinates survive the compact encoding to within 1e-5 degrees
    got = sorted(zip(np.round(lon, 5), np.round(lat, 5), names, strict=True))
    want = sorted(
        zip(np.round(demo_assets.geometry.x, 5), np.round(demo_assets.geometry.y, 5), demo_assets["name"], strict=True)
    )
    for (x1, y1, n1), (x2, y2, n2) in zip(got, want, strict=True):
        assert n1 == n2 and abs(x1 - x2) <= 1.1e-5 and abs(y1 - y2) <= 1.1e-5


def test_map_uses_only_local_scripts(demo_html):
    srcs = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', demo_html)
    assert srcs and all(s.startswith("/app/static/vendor/") for s in srcs), srcs
    assert not CDN.search(demo_html)
    assert "/app/static/vendor/cg-bundle.js?v=" in demo_html  # Leaflet, Supercluster and the own scripts in one


def test_boundaries_and_legend(demo_html, demo_wards):
    assert demo_html.count('"type":"Feature"') + demo_html.count('"type": "Feature"') >= 28
    assert "Legend" in demo_html and "GP practice (74)" in demo_html


def test_details_table_matches_map_order(demo_assets, taxonomy):
    ordered = maps.order_for_map(demo_assets, taxonomy=taxonomy)
    doc = json.loads(maps.asset_details_json(ordered))
    assert len(doc["rows"]) == DEMO_ASSETS and doc["fields"][0] == "address"
    assert [r[0] for r in doc["rows"]] == ordered["address"].tolist()


@pytest.mark.parametrize("text", HOSTILE)
def test_safe_text_neutralises(text):
    out = maps.safe_text(text)
    for ch in "<>`${}\\":
        assert ch not in out


@pytest.mark.parametrize("value", [HOSTILE, {"a": HOSTILE[0], "b": [1, 2.5, None]}, "plain"])
def test_js_json_round_trips_without_dangerous_characters(value):
    out = maps.js_json(value)
    assert json.loads(out) == value
    assert not re.search(r"[<>&\u2028\u2029]", out)
    for jinja in ("{{", "{%", "{#"):  # JSON never puts two braces together, and strings hold none
        assert jinja not in out


def _hostile_assets() -> gpd.GeoDataFrame:
    n = len(HOSTILE)
    return gpd.GeoDataFrame(
        {
            "id": [str(uuid.uuid4()) for _ in range(n)],
            "name": HOSTILE,
            "type": ["library"] * n,
            "category": ["institutions"] * n,
            "address": HOSTILE[::-1],
        },
        geometry=[Point(-1.47 + i * 0.001, 53.38) for i in range(n)],
        crs="EPSG:4326",
    )


def test_hostile_asset_text_is_shown_as_text_and_never_templated(taxonomy):
    assets = _hostile_assets()
    html = _render(maps.explorer_map(assets, taxonomy=taxonomy))
    for raw in ["<img src=x", "</script><script>alert", "{{ 7*7 }}", "{{ this.", "{% raw", "${alert"]:
        assert raw not in html, raw
    assert ">49<" not in html and "abc') }}" not in html
    _, _, names = maps.decode_points(maps.payload_points(html)[0])
    assert sorted(names) == sorted(HOSTILE)  # exactly the user's text, shown literally by textContent
    # the inline details table carries the addresses just as safely
    details = re.search(r"cgSetup\(\{[^{}]*\}, (\{.*?\})\);\n", html).group(1)
    assert sorted(r[0] for r in json.loads(details)["rows"]) == sorted(HOSTILE)


def test_hostile_boundary_names_and_type_labels_are_escaped(taxonomy, demo_wards):
    wards = demo_wards.copy()
    wards["name"] = [HOSTILE[i % len(HOSTILE)] for i in range(len(wards))]
    doc = json.loads(schema.TAXONOMY_FILE.read_text())
    doc["types"][0]["label"] = "<b onmouseover=alert(1)>GP {{ 7*7 }}</b>"
    tax = schema.parse_taxonomy(doc)
    assets = _hostile_assets()
    assets["type"] = doc["types"][0]["id"]
    html = _render(
        maps.explorer_map(
            assets, taxonomy=tax, boundaries=wards, choropleth=maps.Choropleth("<i>x</i>", wards["population"])
        )
    )
    for raw in ["<img src=x", "<b onmouseover", "{{ 7*7 }}", "<i>x</i>", "${alert"]:
        assert raw not in html, raw
    assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in html  # ward name, HTML-escaped for the tooltip


def test_no_tiles_still_maps_with_a_max_zoom(demo_assets, taxonomy):
    m = maps.explorer_map(demo_assets, taxonomy=taxonomy, tiles="none")
    html = _render(m)
    assert "tile.openstreetmap.org" not in html
    assert m.options["maxZoom"] == maps.MAX_ZOOM  # the clusters are indexed up to it
    with pytest.raises(SchemaError, match="Unknown tile source 'google'.*none"):
        maps.explorer_map(demo_assets, taxonomy=taxonomy, tiles="google")


def test_missing_crs_is_an_error(demo_assets, taxonomy):
    with pytest.raises(CRSError, match="no CRS"):
        maps.explorer_map(demo_assets.set_crs(None, allow_override=True), taxonomy=taxonomy)


def test_empty_assets_map(demo_wards, taxonomy):
    html = _render(maps.explorer_map(schema.empty_layer("assets"), taxonomy=taxonomy, boundaries=demo_wards))
    assert maps.payload_points(html)[0]["x"] == []


def test_standalone_html_has_no_network_dependencies_but_tiles(demo_assets, demo_wards, taxonomy):
    html = maps.standalone_html(maps.explorer_map(demo_assets, taxonomy=taxonomy, boundaries=demo_wards, tiles="none"))
    assert not re.search(r'<script[^>]+src="http', html)
    assert not re.search(r'<link[^>]+href="http', html)
    assert "Supercluster" in html and "CgClusterLayer" in html and "Leaflet" in html  # the libraries are inlined
    assert len(maps.decode_points(maps.payload_points(html)[0])[2]) == DEMO_ASSETS


def test_payload_is_lean(taxonomy):
    """At most 60 bytes per asset, names and types included (the issue's budget)."""
    rng = np.random.default_rng(1)
    n = 5000
    names = [f"Community Centre Number {i}"[: 18 + i % 8] for i in range(n)]
    types = list(taxonomy.types)
    assets = gpd.GeoDataFrame(
        {"id": [str(i) for i in range(n)], "name": names, "type": [types[i % len(types)] for i in range(n)]},
        geometry=gpd.points_from_xy(rng.uniform(-1.80, -1.32, n), rng.uniform(53.30, 53.50, n)),
        crs="EPSG:4326",
    )
    kwargs = dict(taxonomy=taxonomy, assets_base_url="/v", details_url="/d.json")
    full = len(_render(maps.explorer_map(assets, **kwargs)).encode())
    empty = len(_render(maps.explorer_map(assets.iloc[:0], **kwargs)).encode())
    per_asset = (full - empty) / n
    mean_name = np.mean([len(s) for s in names])
    assert per_asset <= 60, f"{per_asset:.1f} bytes per asset with {mean_name:.1f}-character names"


def test_zoom_for_bounds_frames_sheffield():
    assert maps.zoom_for_bounds((-1.80, 53.30, -1.32, 53.50), width_px=800, height_px=600) in (10, 11)
    assert maps.zoom_for_bounds((-1.47, 53.38, -1.469, 53.381)) >= 16


def test_details_files_are_published_once_and_pruned(tmp_path):
    from geo.web import webassets

    a = webassets.publish_details(tmp_path, '{"rows": [["1 Road"]]}', keep=2)
    assert webassets.publish_details(tmp_path, '{"rows": [["1 Road"]]}', keep=2) == a  # same content, same file
    for i in range(4):
        webassets.publish_details(tmp_path, f'{{"rows": [["{i} Street"]]}}', keep=2)
    files = list((tmp_path / "details").glob("*.json"))
    assert len(files) == 2 and not list((tmp_path / "details").glob(".*.tmp"))


# --------------------------------------------------------------------------------------------
# Accessibility (issue 11): colour-blind-safe colours, shapes as well as colours, a title,
# the keyboard
# --------------------------------------------------------------------------------------------

#: How different two colours must be, as the CAM02-UCS colour difference (about 1 is the smallest
#: difference people notice side by side), in normal vision and simulated full deuteranopia,
#: protanopia and tritanopia (Machado et al. 2009, severity 100): 10 between asset types that can
#: share a map, 7 between neighbouring classes of an ordered choropleth (whose order and legend carry
#: the meaning too), and between "no data" and every class.
TYPE_DELTA_E = 10.0
CLASS_DELTA_E = 7.0
VISIONS = (None, "deuteranomaly", "protanomaly", "tritanomaly")

#: Colour-blind-safe type colours (Okabe and Ito's palette first, then Paul Tol's muted), proposed
#: for data/taxonomy.json (and the demo store's taxonomy rows). The demo's six types are the first six.


def _delta_e(a: str, b: str) -> float:
    """The smallest difference between two hex colours over normal and the three simulated visions."""
    cs = pytest.importorskip("colorspacious")

    def rgb(h: str) -> np.ndarray:
        return np.array([int(h[i : i + 2], 16) for i in (1, 3, 5)]) / 255

    out = []
    for kind in VISIONS:
        x, y = rgb(a), rgb(b)
        if kind is not None:
            space = {"name": "sRGB1+CVD", "cvd_type": kind, "severity": 100}
            x = np.clip(cs.cspace_convert(x, space, "sRGB1"), 0, 1)
            y = np.clip(cs.cspace_convert(y, space, "sRGB1"), 0, 1)
        out.append(float(cs.deltaE(x, y, input_space="sRGB1", uniform_space="CAM02-UCS")))
    return min(out)


def _confusable(colours: dict[str, str], pairs, threshold: float) -> list[str]:
    return [
        f"{a} {colours[a]} / {b} {colours[b]}: {d:.1f}"
        for a, b in pairs
        if (d := _delta_e(colours[a], colours[b])) < threshold
    ]


@pytest.mark.parametrize("palette", ["SEQUENTIAL", "IMD_COLOURS", "FLAG_COLOURS"])
def test_choropleth_classes_stay_apart_in_colour_blind_vision(palette):
    colours = list(getattr(maps, palette))
    named = {f"{palette}[{i}]": c for i, c in enumerate(colours)} | {"no data": maps.NO_DATA_COLOUR}
    keys = list(named)[:-1]
    neighbours = list(zip(keys, keys[1:], strict=False)) + [(k, "no data") for k in keys]
    assert not _confusable(named, neighbours, CLASS_DELTA_E)


def test_type_colours_stay_apart_in_colour_blind_vision(demo_assets, taxonomy):
    """The taxonomy's type colours (Okabe-Ito and Tol's palettes): the demo's types pairwise, and every
    two types that share a marker shape, stay apart under normal vision and the three simulated
    colour-vision deficiencies."""
    colours = {t: taxonomy.types[t].colour for t in taxonomy.types}
    order = list(taxonomy.types)
    shown = list(dict.fromkeys(t for t in order if t in set(demo_assets["type"])))
    same_shape = [
        (a, b)
        for a, b in itertools.combinations(order, 2)
        if maps.type_shape(a, taxonomy) == maps.type_shape(b, taxonomy)
    ]
    assert not _confusable(colours, itertools.combinations(shown, 2), TYPE_DELTA_E)
    assert not _confusable(colours, same_shape, TYPE_DELTA_E)


def test_asset_types_differ_by_shape_as_well_as_colour(demo_assets, taxonomy, demo_html):
    shapes = {t: maps.type_shape(t, taxonomy) for t in set(demo_assets["type"])}
    assert len(set(shapes.values())) == len(shapes) == DEMO_TYPES, shapes
    first = list(taxonomy.types)[: len(maps.MARKER_SHAPES)]
    assert len({maps.type_shape(t, taxonomy) for t in first}) == len(first)  # no repeat before all are used
    assert maps.type_shape("not-a-type", taxonomy) == "circle"
    payload = maps.payload_points(demo_html)[0]
    assert payload["h"] == [shapes[t] for t in list(dict.fromkeys(t for t in taxonomy.types if t in shapes))]
    assert set(payload["s"]) == set(shapes.values())
    for vertices in maps.MARKER_SHAPES.values():  # every shape is as big as the circle: 24 px across
        if vertices is not None:
            xs, ys = [v[0] for v in vertices], [v[1] for v in vertices]
            assert max(max(xs) - min(xs), max(ys) - min(ys)) >= 1.8
    assert 2 * maps.POINT_RADIUS >= 24
    # the legend shows each type's shape beside its label
    legend = json.loads(re.search(r"cgLegend\(map_\w+, (\".*?\")\);", demo_html).group(1))
    assert legend.count("class='cg-shape'") == DEMO_TYPES and "GP practice (74)" in legend


def test_map_title_says_what_the_map_shows(demo_assets, demo_wards, taxonomy, demo_html):
    assert f"Map of {DEMO_ASSETS} assets (GP practice, Dental practice, Pharmacy, Library, Food bank" in demo_html
    title = maps.map_title(demo_assets.iloc[:1], taxonomy=taxonomy, origin_label="S5 8NJ")
    assert re.fullmatch(r"Map of 1 asset \([^)]+\) near S5 8NJ", title), title
    html = _render(maps.explorer_map(demo_assets, taxonomy=taxonomy, title="<b>{{ 7*7 }}</b>"))
    assert "<b>{{" not in html and "\\u003cb\\u003e" in html  # a given title is data, never markup
    assert re.search(r'cgMapAccess\(map_\w+, "\\u003cb\\u003e', html)  # given to the map's script as data
    assert 'frameElement.setAttribute("aria-label", title)' in _own_js()
    assert "document.title = title" in _own_js()


def test_points_and_clusters_are_keyboard_targets(demo_html):
    # one cluster group for every type (clusters of different types never pile up on each other)
    assert demo_html.count("cgClusters().addTo(") == 1 and demo_html.count("new CgTypeLayer(") == DEMO_TYPES
    for needle in (
        'el.setAttribute("tabindex", "0")',
        'el.setAttribute("role", "button")',
        'this.on("keypress"',
        "keyboard: true",  # clusters are focusable buttons
        "this._focusPlace(i)",  # after Enter on a cluster, the focus goes to what shows its first place
        'e.key === "Escape"',
        'l._path.setAttribute("tabindex", "-1")',  # areas stay out of the Tab order
        "window.cgUnobscure(map, e.target)",  # a focused place is never left under the legend
        "window.cgUnobscure(map, popup.getElement())",
        'm.setAttribute("content", "width=device-width, initial-scale=1.0")',  # pinch-zoom allowed
    ):
        assert needle in demo_html + _own_js(), needle


def test_display_polygons_are_kept_by_content_and_answer_as_when_first_made():
    """Areas simplified for display are made once per content (each page run is a new thread, where
    pyproj makes its transformers again) and then served as made, under the caller's own index; a
    changed boundary is simplified afresh."""
    import threading

    from shapely.geometry import box

    squares = gpd.GeoDataFrame(
        {"name": ["a", "b"]},
        geometry=[box(-1.50, 53.30, -1.45, 53.35), box(-1.45, 53.30, -1.40, 53.35)],
        crs=schema.STORAGE_CRS,
    )
    maps._DISPLAY.clear()
    first = maps._display_polygons(squares, tolerance_m=10)
    assert len(maps._DISPLAY) == 1
    answers = []
    thread = threading.Thread(
        target=lambda: answers.append(maps._display_polygons(squares.set_index("name"), tolerance_m=10))
    )
    thread.start()
    thread.join()
    again = answers[0]
    assert len(maps._DISPLAY) == 1, "the same boundaries were simplified again"
    assert list(again.index) == ["a", "b"] and again.crs == first.crs
    assert all(g1.equals(g2) for g1, g2 in zip(first, again, strict=True))
    assert first.geometry.iloc[1].intersection(first.geometry.iloc[0]).length > 0.04  # the shared edge stays shared

    moved = squares.copy()
    moved.geometry = [box(-1.50, 53.30, -1.45, 53.36), squares.geometry.iloc[1]]
    changed = maps._display_polygons(moved, tolerance_m=10)
    assert len(maps._DISPLAY) == 2
    assert changed.iloc[0].bounds[3] == pytest.approx(53.36, abs=1e-6)
    assert maps._display_polygons(squares, tolerance_m=50) is not None and len(maps._DISPLAY) == 3  # by tolerance too


def _counted_ids(monkeypatch) -> None:
    """Element ids from a counter (branca draws them at random), so two renders can be compared."""
    import branca.element

    counter = itertools.count()
    monkeypatch.setattr(branca.element.Element, "_generate_id", classmethod(lambda cls: f"{next(counter):032x}"))


def test_plain_text_templates_render_maps_byte_for_byte_as_jinja(monkeypatch, demo_assets, demo_wards, taxonomy):
    """The map text branca wraps again is not compiled as Jinja when it has nothing to substitute
    (geo.web.plain_templates): the rendered map is the same, hostile names included."""
    from geo.web import plain_templates

    assets = gpd.GeoDataFrame(
        {**{c: list(demo_assets[c].iloc[:40]) for c in ("id", "type", "name")}},
        geometry=list(demo_assets.geometry.iloc[:40]),
        crs=demo_assets.crs,
    )
    assets.loc[: len(HOSTILE) - 1, "name"] = HOSTILE

    def render() -> str:
        _counted_ids(monkeypatch)
        choropleth = maps.Choropleth("Population", demo_wards["population"], fmt="{:,.0f}")
        return _render(maps.explorer_map(assets, taxonomy=taxonomy, boundaries=demo_wards, choropleth=choropleth))

    try:
        plain_templates.uninstall()
        with_jinja = render()
        plain_templates.install()
        with_plain = render()
    finally:
        plain_templates.install()
    assert with_plain == with_jinja
    assert "{{ 7*7 }}" not in with_plain and ">49<" not in with_plain


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n",
        "plain",
        "plain\n",
        "two\n\n",
        "a {b} c",
        "{ {x} }",
        "a\r\nb",
        "{{ 6*7 }}",
        "{% if 1 %}y{% endif %}",
        "{# c #}z",
    ],
)
def test_plain_text_template_renders_as_jinja_does(text):
    from jinja2 import Template as JinjaTemplate

    from geo.web import plain_templates

    made = plain_templates.template(text)
    assert made.render(this=None, kwargs={}) == JinjaTemplate(text).render(this=None, kwargs={})
    assert isinstance(made, plain_templates.PlainText) == (
        "\r" not in text and not any(m in text for m in ("{{", "{%", "{#"))
    )


def test_points_served_apart_are_the_payload_an_inline_map_carries(demo_assets, demo_wards, taxonomy):
    """Explore's map fetches its points (``points_url``); the file it is given must be exactly what
    the same map would carry inline, and the map's layers (one per type, in order) must match it."""
    inline = _render(maps.explorer_map(demo_assets, taxonomy=taxonomy, boundaries=demo_wards))
    served = maps.points_json(maps.order_for_map(demo_assets, taxonomy=taxonomy), taxonomy=taxonomy)
    assert maps.payload_points(inline) == [json.loads(served)]
    url = "/app/static/details/g1-abc.json"
    fetched = _render(maps.explorer_map(demo_assets, taxonomy=taxonomy, boundaries=demo_wards, points_url=url))
    assert maps.payload_points(fetched) == []  # nothing inline
    found = re.search(r"cgFillFrom\(\"([^\"]+)\", \[([^\]]*)\], null, (\w+)\);", fetched)
    assert found and found.group(1) == url
    assert len(found.group(2).split(", ")) == len(json.loads(served)["c"]) == DEMO_TYPES  # a layer per type
    assert f"var {found.group(3)} = cgClusters()" in fetched  # and the cluster layer they fill
    assert "Parson Cross Food Bank" not in fetched.split("cg_bundle")[0]  # the names are in the file only


def test_a_points_url_is_json_escaped_in_the_script(demo_assets, taxonomy):
    hostile = '/app/static/details/x.json");alert(1);("</script>'
    html = _render(maps.explorer_map(demo_assets.iloc[:3], taxonomy=taxonomy, points_url=hostile))
    assert '</script>"' not in html and 'alert(1);("' not in html
    found = re.search(r'cgFillFrom\(("(?:[^"\\]|\\.)*"),', html)
    assert found and json.loads(found.group(1)) == hostile


def test_asset_points_need_the_payload_or_its_url_not_both():
    with pytest.raises(ValueError, match="either the payload or its URL"):
        maps.AssetPoints([], payload_json="{}", url="/x.json")
    with pytest.raises(ValueError, match="either the payload or its URL"):
        maps.AssetPoints([])
