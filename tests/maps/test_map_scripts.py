"""The maps' JavaScript and CSS are real files (geo/web/js), served and inlined like the vendored
scripts; a map's own script only gives them data and calls them (issue 13)."""

from __future__ import annotations

import re

from geo.web import maps, webassets

OWN = ("cg_map", "cg_points", "cg_map_css")


def _own_text(name: str) -> str:
    table = {**webassets.JS_FILES, **webassets.CSS_FILES}
    return table[name][1].read_text(encoding="utf-8")


def test_the_own_files_are_plain_javascript_and_css_with_no_template_syntax():
    for name in OWN:
        text = _own_text(name)
        assert "{{" not in text and "{%" not in text, name
    assert "window.cgFill = function" in _own_text("cg_points")
    assert "window.cgApplyView = function" in _own_text("cg_map")
    assert ".cg-legend {" in _own_text("cg_map_css")


def test_a_map_links_the_own_files_and_its_script_only_calls_them(demo_assets, demo_wards, taxonomy):
    m = maps.explorer_map(demo_assets, taxonomy=taxonomy, boundaries=demo_wards, assets_base_url="/app/static/vendor")
    html = m.get_root().render()
    for definition in ("window.cgFill = function", "window.CgPoint =", "window.cgMapAccess =", ".cg-legend {"):
        assert definition not in html, definition
    for call in ("cgSetup(", "cgFill(", "cgMapAccess(", "cgFitToContent(", "cgFocusWithoutScroll(", "cgLegend("):
        assert call in html, call
    links = re.findall(r'src="([^"]+)"', html) + re.findall(r'href="([^"]+\.css[^"]*)"', html)
    for name in OWN:
        file_name = {**webassets.JS_FILES, **webassets.CSS_FILES}[name][0]
        hits = [u for u in links if u.startswith(f"/app/static/vendor/{file_name}?v=")]
        assert len(hits) == 1, (name, links)
    # the scripts come in the order they need: Leaflet, then markercluster, then the points
    order = [u.split("?")[0].rsplit("/", 1)[1] for u in re.findall(r'src="([^"]+)"', html)]
    assert order.index("leaflet.js") < order.index("cg-map.js")
    assert order.index("leaflet.markercluster.js") < order.index("cg-points.js")


def test_a_standalone_map_inlines_the_own_files(demo_assets, taxonomy):
    html = maps.standalone_html(maps.explorer_map(demo_assets.iloc[:5], taxonomy=taxonomy, tiles="none"))
    assert "window.cgFill = function" in html and "window.cgMapAccess = function" in html
    assert ".cg-legend {" in html
    assert "/app/static/vendor" not in html


def test_install_serves_the_own_files_and_replaces_a_changed_copy(tmp_path):
    dest = webassets.install(tmp_path)
    for name in OWN:
        file_name, src = {**webassets.JS_FILES, **webassets.CSS_FILES}[name]
        assert (dest / file_name).read_bytes() == src.read_bytes()
    stale = dest / "cg-map.js"
    stale.write_bytes(b"x" * stale.stat().st_size)  # same size, other text: still replaced
    webassets.install(tmp_path)
    assert stale.read_bytes() == webassets.JS_FILES["cg_map"][1].read_bytes()


def test_js_json_escapes_inside_strings_only_and_round_trips():
    import json

    cases = [
        [1, 2],
        {},
        "",
        [""],
        ["{", "}", "<script>", "x\u2028y\x00z", 'q"{"', "\\{", "{{ 7*7 }}"],
        {"a{": ["}"], "nested": [{"k": "{{ 7*7 }}"}, None, True, 1.5]},
    ]
    for obj in cases:
        text = maps.js_json(obj)
        assert json.loads(text) == obj  # valid JSON, the same value
        assert not any(char in text for char in "<>&\u2028\u2029")
        if isinstance(obj, list):  # no dict: every brace was inside a string
            assert "{" not in text and "}" not in text
    assert maps.js_json({"a": "{"}) == '{"a":"\\u007b"}'  # the structural braces stay, the string's go
