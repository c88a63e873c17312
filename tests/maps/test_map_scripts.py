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
    # the scripts are one file, linked once: Leaflet, the map's own, Supercluster, the points (no jQuery)
    scripts = re.findall(r'src="([^"]+)"', html)
    assert len([u for u in scripts if u.startswith("/app/static/vendor/cg-bundle.js?v=")]) == 1, scripts
    assert not [u for u in scripts if "cg-bundle.js" not in u], scripts
    css = re.findall(r'href="([^"]+\.css[^"]*)"', html)
    assert len([u for u in css if u.startswith("/app/static/vendor/cg-map.css?v=")]) == 1, css
    bundle = webassets.bundle_text()
    starts = [bundle.index(f"/* {webassets.JS_FILES[n][0]} */") for n in webassets.BUNDLE_JS]
    assert starts == sorted(starts) and webassets.BUNDLE_JS.index("leaflet") == 0
    assert webassets.BUNDLE_JS.index("supercluster") < webassets.BUNDLE_JS.index("cg_points")
    assert "jquery" not in webassets.JS_FILES and "jQuery" not in bundle  # no map here calls it
    for name in ("cg_map", "cg_points"):  # the own files, whole, inside it
        assert _own_text(name).rstrip() in bundle, name


def test_a_map_whose_points_are_a_file_asks_for_them_before_its_other_scripts(demo_assets, taxonomy):
    """streamlit-folium's frame loads the js_links in order, one after another: cg-prefetch.js first
    starts the points' fetch, so it runs while the bundle arrives (see geo/web/js/cg-prefetch.js)."""
    from urllib.parse import parse_qs, urlsplit

    from pages import _mapview

    points = "/app/static/details/s1_g2-3 4&x.json"  # any name: quoted into the script's URL
    m = maps.explorer_map(demo_assets, taxonomy=taxonomy, assets_base_url="/app/static/vendor", points_url=points)
    order = _mapview.component_parts(m, key="explore_map")["js_links"]  # as st_folium sends them
    assert order[0].startswith("/app/static/vendor/cg-prefetch.js?v=") and "cg-bundle.js" in order[1], order
    assert parse_qs(urlsplit(order[0]).query)["u"] == [points]
    assert sum("cg-prefetch.js" in u for u in order) == 1
    # A map with its points inline asks for nothing early, and a standalone file links nothing.
    inline = maps.explorer_map(demo_assets, taxonomy=taxonomy, assets_base_url="/app/static/vendor")
    assert not [u for u in _mapview.component_parts(inline, key="m")["js_links"] if "cg-prefetch" in u]
    standalone = maps.standalone_html(maps.explorer_map(demo_assets.iloc[:5], taxonomy=taxonomy, tiles="none"))
    assert "cg-prefetch.js?" not in standalone


def test_the_bundle_runs_each_file_in_order_and_cleanly_apart():
    bundle = webassets.bundle_text()
    for name in webassets.BUNDLE_JS:
        text = webassets.JS_FILES[name][1].read_text(encoding="utf-8")
        body = "\n".join(line for line in text.splitlines() if not line.startswith("//# sourceMappingURL="))
        assert f"/* {webassets.JS_FILES[name][0]} */\n{body.rstrip()}\n;\n" in bundle, name
    assert "sourceMappingURL" not in bundle  # no request for a map that is not served


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
    assert (dest / webassets.BUNDLE_FILE).read_text(encoding="utf-8") == webassets.bundle_text()
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
