"""Every page run with streamlit.testing.v1.AppTest, as users reach it (through app.py) and directly."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from geo.analysis import areas as analysis
from geo.schema import DEMO_GPKG, PROJECT_ROOT
from geo.store import open_store
from geo.web import maps
from tests.helpers import DEMO_ASSETS, html_tables, map_points, view_links

TIMEOUT = 120
APP = str(PROJECT_ROOT / "app.py")
EXPLORE = str(PROJECT_ROOT / "pages" / "explore.py")
ABOUT = str(PROJECT_ROOT / "pages" / "about.py")
CDN = re.compile(r"cdn\.jsdelivr|cdnjs|code\.jquery|bootstrapcdn|unpkg", re.I)


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _map_args(at: AppTest) -> dict:
    comps = at.get("component_instance")
    assert len(comps) == 1, "expected one map"
    return json.loads(comps[0].proto.json_args)


def _view(at: AppTest) -> str:
    """The view sent beside the drawn map (pages/_mapview.py): the legend, the areas' colours and
    their tooltip values, applied in the browser without drawing the map again."""
    return "".join(e.proto.body for e in at.get("html"))


def test_app_opens_on_explore_with_all_assets():
    at = _ok(AppTest.from_file(APP, default_timeout=TIMEOUT).run())
    assert at.title[0].value == "Explore community assets"
    assert at.metric[0].value == str(DEMO_ASSETS)
    args = _map_args(at)
    assert args["returned_objects"] == []  # panning and zooming never rerun the script
    assert all(link.startswith("/app/static/vendor/") for link in args["js_links"] + args["css_links"])
    assert not CDN.search(json.dumps(args["js_links"] + args["css_links"]))
    script = args["script"]
    assert "cgFillFrom" in script and "Parson Cross Food Bank" not in script  # the points are a file of their own
    _, _, names = maps.decode_points(map_points(script))
    assert len(names) == DEMO_ASSETS and "Parson Cross Food Bank" in names
    assets_table = html_tables(at)[0]  # the table beside the map lists what the map shows (a plain table)
    assert len(assets_table) == DEMO_ASSETS and list(assets_table.columns) == ["Name", "Type", "Address", "Postcode"]
    labels = [b.label for b in at.get("download_button")]
    assert {"CSV", "GeoJSON", "Map (HTML)"} <= set(labels)


def test_sidebar_offers_boundaries_and_basemap():
    at = _ok(AppTest.from_file(APP, default_timeout=TIMEOUT).run())
    store = open_store(DEMO_GPKG)
    assert at.selectbox(key="boundary_layer").options == [
        f"Wards ({len(store.read('wards', columns=[]))})",
        f"Neighbourhoods ({len(store.read('neighbourhoods', columns=[]))})",
        f"LSOAs ({len(store.read('lsoas', columns=[]))})",
    ]
    assert "none" in at.selectbox(key="tiles").options


def test_a_store_without_boundaries_says_how_to_add_them(tmp_path, monkeypatch):
    """A national store of points (like data/build_england.py's) has no boundary set to choose: the
    sidebar says so and how to add one, and every page still runs."""
    from geo.store.copy import create_geopackage

    path = tmp_path / "points_only.gpkg"
    create_geopackage(path).close()
    monkeypatch.setenv("COMMON_GROUND_DATA", str(path))
    at = _ok(AppTest.from_file(APP, default_timeout=TIMEOUT).run())
    for page in ("explore", "neighbourhood", "gaps", "near_me", "join_up", "community", "stories"):
        if page != "explore":
            _ok(at.switch_page(f"pages/{page}.py").run())
        assert not [s for s in at.sidebar.selectbox if s.key == "boundary_layer"], page
        assert any("no boundaries" in c.value and "Data" in c.value for c in at.sidebar.caption), page


def test_sidebar_choices_persist_across_reruns_of_the_app():
    """app.py stays the frame on every rerun (see pages._frame.ensure_frame), so the sidebar's choices hold."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.selectbox(key="boundary_layer").set_value("lsoas").run()
    _ok(at)
    at.radio(key="explore_shading").set_value("imd").run()
    _ok(at)
    assert at.selectbox(key="boundary_layer").value == "lsoas"
    assert "most deprived" in _view(at)  # the shading's legend, sent as the view of the drawn map


def test_every_page_through_the_app():
    at = _ok(AppTest.from_file(APP, default_timeout=TIMEOUT).run())
    for page, title in [
        ("pages/neighbourhood.py", "One neighbourhood at a time"),
        ("pages/near_me.py", "What is near me?"),
        ("pages/gaps.py", "Gaps"),
        ("pages/about.py", "About Common Ground"),
        ("pages/explore.py", "Explore community assets"),
    ]:
        at.switch_page(page).run()
        _ok(at)
        assert at.title[0].value == title
        assert at.selectbox(key="boundary_layer")  # the shared sidebar is there on every page


def test_deprivation_shading_on_lsoas():
    at = AppTest.from_file(EXPLORE, default_timeout=TIMEOUT)
    at.session_state["boundary_layer"] = "lsoas"
    at.run()
    _ok(at)
    at.radio(key="explore_shading").set_value("imd").run()
    _ok(at)
    assert "most deprived" in _view(at)  # the legend of the shading, applied in place
    assert "Sheffield 0" in _map_args(at)["script"]  # LSOA names in the areas' tooltip data
    assert len(html_tables(at)) == 3  # the assets table, the chart's and the areas table


def test_neighbourhood_estimates_are_labelled():
    at = AppTest.from_file(EXPLORE, default_timeout=TIMEOUT)
    at.session_state["boundary_layer"] = "neighbourhoods"
    at.run()
    _ok(at)
    assert any("estimates" in c.value for c in at.caption)


def test_filters_and_empty_state():
    at = AppTest.from_file(EXPLORE, default_timeout=TIMEOUT).run()
    _ok(at)
    at.text_input(key="explore_query").input("library").run()
    _ok(at)
    assert 20 <= int(at.metric[0].value) <= 30
    at.text_input(key="explore_query").input("no such place anywhere").run()
    _ok(at)
    assert at.metric[0].value == "0"
    assert any("No assets match" in i.value for i in at.info)
    assert "cgFill" in _map_args(at)["script"]  # the boundaries still show


def test_filter_by_category():
    at = AppTest.from_file(EXPLORE, default_timeout=TIMEOUT).run()
    at.multiselect(key="explore_categories").set_value(["associations"]).run()
    _ok(at)
    assert at.metric[0].value == "8"  # the eight food banks


def test_tiles_none_from_the_sidebar():
    at = AppTest.from_file(EXPLORE, default_timeout=TIMEOUT)
    at.session_state["tiles"] = "none"
    at.run()
    _ok(at)
    assert "tile.openstreetmap.org" not in _map_args(at)["script"]


def test_tiles_setting_from_environment(monkeypatch):
    monkeypatch.setenv("COMMON_GROUND_TILES", "none")
    at = _ok(AppTest.from_file(APP, default_timeout=TIMEOUT).run())
    assert "tile.openstreetmap.org" not in _map_args(at)["script"]


def test_about_page_gives_sources_and_licences():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/about.py").run()
    _ok(at)
    text = " ".join(m.value for m in at.markdown)
    assert "Start from the community's own aspirations" in text
    assert "Give Food" in text and "Open Government Licence" in text and "Mapping Museums" in text
    sources = at.dataframe[0].value
    assert "neighbourhoods" in set(sources["Layer"])


def test_about_directly():
    _ok(AppTest.from_file(ABOUT, default_timeout=TIMEOUT).run())


def test_missing_store_is_explained(monkeypatch, tmp_path):
    monkeypatch.setenv("COMMON_GROUND_DATA", str(tmp_path / "gone.gpkg"))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert any("does not exist" in e.value for e in at.error)


# --------------------------------------------------------------------------------------------
# The four traits (issue 15): the Neighbourhood page's order and Explore's shading by trait
# --------------------------------------------------------------------------------------------

NEIGHBOURHOOD = str(PROJECT_ROOT / "pages" / "neighbourhood.py")
EXAMPLES = PROJECT_ROOT / "data" / "examples"
EXAMPLE_LAYERS = ["organisations", "organisation_areas", "aspirations", "success_measures", "measure_updates"]
EXAMPLE_LAYERS += ["stories"]


def _in_order(node) -> list[tuple[str, str]]:
    """Every subheader, Markdown text and expander label of the page, in the order shown."""
    out: list[tuple[str, str]] = []
    kind = getattr(node, "type", "")
    if kind in ("subheader", "markdown"):
        out.append((kind, node.value))
    if kind == "expander":
        out.append(("expander", node.label))
    for child in getattr(node, "children", {}).values():
        out += _in_order(child)
    return out


def test_neighbourhood_reads_in_the_frameworks_order(private_store):
    from geo.io import imports

    for layer in EXAMPLE_LAYERS:
        imports.import_file(EXAMPLES / f"{layer}.csv", layer=layer, store=private_store, actor="t")
    at = AppTest.from_file(NEIGHBOURHOOD, default_timeout=TIMEOUT)
    at.session_state["boundary_layer"] = "wards"
    at.session_state["profile_area_wards"] = "Firth Park"
    _ok(at.run())
    heads = [h.value for h in at.subheader]
    framework = [
        "What the community wants",
        "What is good about this place",
        "What is here",
        "Gaps, within reach of what is already here",
        "Who works here",
        "Agreed success measures and stories",
    ]
    assert [h for h in heads if h in framework] == framework  # strengths before gaps, gaps before who works here
    shown = _in_order(at.main)
    good = shown.index(("subheader", "What is good about this place"))
    here = shown.index(("subheader", "What is here"))
    strengths = [v for kind, v in shown[good:here] if kind == "markdown" and v.startswith("**")]
    assert len(strengths) == 4  # the four traits, each in plain words relative to the other wards
    assert strengths[0].startswith("**Vibrant organisations and resources**") and "More than most wards" in strengths[0]
    assert strengths[-1].startswith("**Strong local leadership**")  # no ward has an asset supporting it: last
    assert not any("score" in s.casefold() for s in strengths)
    labels = [v for kind, v in shown[good:here] if kind == "expander"]
    assert labels[-1] == "Behind Strong local leadership: 0 assets, 1 organisation, 1 story, 0 measures"
    leadership = next(e for e in at.expander if e.label.startswith("Behind Strong local leadership"))
    tables = [t.value for t in leadership.dataframe]
    assert "EXAMPLE Friends of Firth Park Paths" in set(tables[0]["Name"])  # the groups behind it
    assert "kind: residents' group" in set(tables[0]["Why"])
    assert tables[1]["Title"].iloc[0] == "EXAMPLE: A winter supper club grew out of the pantry queue"
    # the gaps: each beside the strengths within reach
    gaps = next(t.value for t in at.dataframe if "Strengths within reach" in t.value.columns)
    food = gaps.set_index("Gap").loc["Food bank"]
    assert "Firth Park Library (Library, in the area)" in food["Strengths within reach"]
    pantry = "EXAMPLE Firth Park Community Pantry (works here on food, poverty)"
    assert pantry in food["Organisations here on its themes"]


def test_explore_shades_by_each_trait():
    at = AppTest.from_file(EXPLORE, default_timeout=TIMEOUT).run()
    _ok(at)
    shading = at.radio(key="explore_shading")
    traits = [o for o in shading.options if o.startswith("Assets supporting ")]
    assert len(traits) == 4 and "Assets per 1,000 residents" in shading.options
    expected_firth_park = {  # Firth Park (22,347 residents): 2 libraries, 6 GP, 5 dental, 4 pharmacies
        "trait:sense_of_place": 2,
        "trait:active_citizens": 2,
        "trait:organisations_resources": 17,
        "trait:local_leadership": 0,
    }
    for value, n in expected_firth_park.items():
        at.radio(key="explore_shading").set_value(value).run()
        _ok(at)
        title = at.radio(key="explore_shading").format_func(value)
        # the legend and tooltip name the trait: in the view handed to the drawn map (not drawn again)
        assert any(title in h.proto.body for h in at.get("html"))
        areas = html_tables(at)[2].set_index("Area")  # the assets, the chart, the areas (plain tables)
        assert float(areas.loc["Firth Park", title]) == pytest.approx(n * 1000 / 22_347, abs=0.005)  # 2 places
        assert (areas[title] != "no data").all() and len(areas) == 28


def test_explore_filters_by_a_service_theme_from_the_taxonomy():
    at = AppTest.from_file(EXPLORE, default_timeout=TIMEOUT).run()
    _ok(at)
    assets = analysis.filter_assets(open_store(DEMO_GPKG).read("assets"))
    assert "health" in at.multiselect(key="explore_themes").options
    at.multiselect(key="explore_themes").set_value(["health"]).run()
    _ok(at)
    health = assets[assets["type"].isin(["gp_practice", "dental_practice", "pharmacy"])]
    assert {m.label: m.value for m in at.metric}["Assets shown"] == f"{len(health):,}"
    assert "types=gp_practice%2Cdental_practice%2Cpharmacy" in view_links(at)[-1]  # the link keeps the view
    at.multiselect(key="explore_themes").set_value(["culture"]).run()  # libraries and museums
    _ok(at)
    culture = assets[assets["type"].isin(["library", "museum"])]
    assert {m.label: m.value for m in at.metric}["Assets shown"] == f"{len(culture):,}"


def test_explore_draws_parks_imported_as_shapes(private_store, tmp_path):
    from tests.unit.test_outlines import _import, _write_parks

    path, frame = _write_parks(tmp_path)
    _import(private_store, path)
    at = AppTest.from_file(EXPLORE, default_timeout=TIMEOUT).run()
    _ok(at)
    script = "".join(json.loads(c.proto.json_args).get("script", "") for c in at.get("component_instance"))
    # The outline layer's own data (geo.web.maps.OutlineLayer): one shape per park, named, not just points.
    found = re.search(r"cgOutlines\(map_\w+, (\{.*?\}), \d+, \"outline_layer_\w+\"\);", script, re.S)
    assert found, "Explore's map has no outline layer"
    features = json.loads(found.group(1))["features"]
    assert {f["properties"]["name"] for f in features} == set(frame["name"])
    kinds = {f["geometry"]["type"].removeprefix("Multi") for f in features}
    assert kinds == {"Polygon", "LineString"}  # the parks' areas and the trail's line


def test_no_map_on_any_page_calls_jquery():
    """The maps' bundle has no jQuery (geo.web.webassets): folium calls it only for ``keep_in_front``
    and HTML-element popups. Every page's map, as the browser gets it, must call neither."""
    at = _ok(AppTest.from_file(APP, default_timeout=TIMEOUT).run())
    at.session_state["near_origin"] = {"lon": -1.4701, "lat": 53.3811, "label": "Town Hall"}
    scripts: dict[str, str] = {}
    for page in ("explore", "neighbourhood", "near_me", "gaps", "community", "join_up", "stories", "edit"):
        if page != "explore":
            _ok(at.switch_page(f"pages/{page}.py").run())
        for comp in at.get("component_instance"):
            args = json.loads(comp.proto.json_args)
            if "script" in args:
                scripts[page] = args["script"] + args.get("header", "") + args.get("html", "")
                assert not [src for src in args["js_links"] if "jquery" in src.lower()], page
    assert {"explore", "neighbourhood", "near_me", "gaps", "join_up", "edit"} <= set(scripts), set(scripts)
    for page, text in scripts.items():
        assert not re.search(r"\$\(|\bjQuery\b", text), f"the map on {page} calls jQuery"
