"""Explore's filters applied to a drawn map (geo.web.mapview), its link (geo.web.explore), and the cached map
parts (pages/_mapview.py) that must stay exactly what streamlit-folium sends."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from geo.analysis import areas as analysis
from geo.web import explore, maps, mapview
from tests.helpers import DEMO_ASSETS


@pytest.fixture(scope="module")
def ordered(demo_assets, taxonomy):
    return maps.order_for_map(analysis.filter_assets(demo_assets), taxonomy=taxonomy)


def test_shown_ranges_are_compact_and_exact():
    ids = pd.Series(list("abcdefgh"))
    assert mapview.shown_ranges(ids, list("abcdefgh")) is None  # everything: no mask at all
    assert mapview.shown_ranges(ids, []) == []
    assert mapview.shown_ranges(ids, list("abcfg")) == [[0, 3], [5, 2]]
    assert mapview.shown_ranges(ids, ["h", "a"]) == [[0, 1], [7, 1]]


def test_a_type_filter_is_a_few_ranges_and_the_view_follows_it(demo_assets, demo_wards, taxonomy, ordered):
    library = analysis.filter_assets(demo_assets, types=["library"])
    _, choropleth = explore.shading("per_1000", library, demo_wards, taxonomy=taxonomy)
    view = mapview.map_view(
        ordered, library, taxonomy=taxonomy, areas=demo_wards, choropleth=choropleth, boundary_name="Wards"
    )
    assert len(view["r"]) == 1 and view["r"][0][1] == len(library)  # one type: one run of places
    start, n = view["r"][0]
    assert set(ordered["id"].iloc[start : start + n]) == set(library["id"])
    assert view["t"].startswith(f"Map of {len(library)} assets (Library)")
    assert any(name.startswith("Library (") for name in view["n"]) and "GP practice (0)" in view["n"]
    assert "Library" in view["l"] and "GP practice" not in view["l"]  # the legend lists what is shown
    assert len(view["f"]) == len(view["v"]) == len(demo_wards)
    json.loads(maps.js_json(view))  # what goes into the page is valid JSON


def test_search_zooms_to_what_it_found_and_classes_come_from_there(demo_assets, demo_wards, taxonomy, ordered):
    found = analysis.filter_assets(demo_assets, query="Firth Park")
    box = mapview.fit_bounds(found)
    (s, w), (n, e) = box
    assert s <= found.geometry.y.min() and n >= found.geometry.y.max() and w <= found.geometry.x.min()
    among = explore.areas_within(demo_wards, box)
    assert 0 < among.sum() < len(demo_wards)
    _, choropleth = explore.shading("per_1000", found, demo_wards, taxonomy=taxonomy)
    view = mapview.map_view(
        ordered, found, taxonomy=taxonomy, areas=demo_wards, choropleth=choropleth, among=among, zoom_to=box
    )
    assert view["b"] == box
    assert "0.00 to 0.00" not in view["l"]  # issue 10: the legend of a search said "0.00 to 0.00"
    assert mapview.fit_bounds(found.iloc[0:0]) is None


def test_hostile_names_in_a_view_stay_text(demo_assets, demo_wards, taxonomy):
    hostile = demo_assets.head(3).copy()
    hostile["name"] = ["<img src=x onerror=alert(1)>", "{{ 7*7 }}", "</script><script>alert(1)</script>"]
    hostile["type"] = "made_up_<b>type</b>"
    ordered = maps.order_for_map(hostile, taxonomy=taxonomy)
    view = mapview.map_view(ordered, hostile.head(2), taxonomy=taxonomy)
    text = mapview.relay_script(view, key="k")
    data = text.removesuffix(");</script>").rsplit("})(", 1)[1]  # the view, as the script receives it
    assert "<" not in data and ">" not in data and "{{" not in data and text.count("</script") == 1
    assert "&lt;b&gt;" in json.loads(maps.js_json(view["n"]))[0]  # layer names are HTML: neutralised


def test_links_round_trip_and_bad_values_are_explained(taxonomy, demo_assets):
    present = [t for t in taxonomy.types if t in set(demo_assets["type"])]
    shades = list(explore.shade_options(pd.DataFrame({"imd_decile": [1]}), taxonomy=taxonomy))
    params = explore.view_params(
        types=["library", "gp_practice"], present=present, query="Firth", boundaries="lsoas", shade="imd"
    )
    assert params == {"types": "gp_practice,library", "q": "Firth", "boundaries": "lsoas", "shade": "imd"}
    view = explore.parse_view(params, taxonomy=taxonomy, present=present, shades=shades)
    assert not view.problems
    categories = view.state["explore_categories"]
    assert view.state[explore.types_key(categories)] == ["gp_practice", "library"]
    assert view.state["explore_query"] == "Firth" and view.state["explore_shading"] == "imd"
    everything = explore.view_params(types=present, present=present, query="", boundaries="wards", shade="none")
    assert everything["types"] == ""  # all types: left out of the link
    bad = explore.parse_view(
        {"types": "library,<script>", "shade": "nonsense", "q": "x" * 500},
        taxonomy=taxonomy,
        present=present,
        shades=shades,
    )
    assert len(bad.problems) == 2 and len(bad.state["explore_query"]) == explore.QUERY_MAX
    assert bad.state[explore.types_key(bad.state["explore_categories"])] == ["library"]
    none = explore.parse_view({"types": "none"}, taxonomy=taxonomy, present=present, shades=shades)
    assert none.state == {"explore_categories": [], explore.types_key([]): []} and not none.problems


def test_summaries_with_the_areas_computed_once_match_the_plain_ones(demo_assets, demo_wards, taxonomy):
    published = analysis.filter_assets(demo_assets)
    ready = explore.prepare(published, demo_wards, taxonomy=taxonomy)
    assert len(ready.ordered) == DEMO_ASSETS and json.loads(ready.details_json)["ids"] == ready.ordered["id"].tolist()
    shown = analysis.filter_assets(demo_assets, types=["library", "pharmacy"])
    for shade in ("per_1000", "trait:sense_of_place"):
        fast, _ = explore.shading(shade, shown, demo_wards, taxonomy=taxonomy, where=ready.where, km2=ready.km2)
        plain, _ = explore.shading(shade, shown, demo_wards, taxonomy=taxonomy)
        pd.testing.assert_frame_equal(fast, plain)


def test_cached_map_parts_are_what_st_folium_sends(demo_assets, demo_wards, taxonomy, monkeypatch):
    """pages/_mapview.py builds streamlit-folium's component arguments itself (once per state) with
    the helpers st_folium uses; if streamlit-folium changes them, this fails rather than the maps."""
    import streamlit_folium as sf

    from pages import _mapview

    for name in ("_component_func", "_get_html", "_get_header", "_get_map_string", "get_full_id", "generate_js_hash"):
        assert hasattr(sf, name), f"streamlit_folium no longer has {name}: revisit pages/_mapview.py"
    sent = {}
    monkeypatch.setattr(sf, "_component_func", lambda **kwargs: sent.update(kwargs))

    def build():
        return maps.explorer_map(demo_assets, taxonomy=taxonomy, boundaries=demo_wards, assets_base_url="/v")

    sf.st_folium(build(), key="explore_map", height=560, use_container_width=True, returned_objects=[])
    parts = _mapview.component_parts(build(), key="explore_map")
    for arg in ("script", "header", "html", "id", "css_links", "js_links"):
        assert parts[arg] == sent[arg], arg
    assert parts["hash"] == sent["key"]
    ours = {"height", "width", "returned_objects", "default", "zoom", "center", "feature_group", "return_on_hover"}
    ours |= {"layer_control", "pixelated", "wrap_longitude", "on_change", "key"} | set(parts)
    assert set(sent) <= ours | {"id"}, set(sent) - ours
