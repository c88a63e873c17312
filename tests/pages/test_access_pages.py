"""The Neighbourhood, Near me and Gaps pages under AppTest."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from geo.schema import PROJECT_ROOT
from geo.web import tables
from tests.helpers import DEMO_TYPES, html_tables, view_links

TIMEOUT = 120
PAGES = PROJECT_ROOT / "pages"


def _page(name: str, **state) -> AppTest:
    at = AppTest.from_file(str(PAGES / name), default_timeout=TIMEOUT)
    for k, v in state.items():
        at.session_state[k] = v
    return _ok(at.run())


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _map_component(at: AppTest):
    """The page's st_folium map (other components, such as "Use my location", carry no script)."""
    return next(c for c in at.get("component_instance") if "script" in json.loads(c.proto.json_args))


def _script(at: AppTest) -> str:
    return json.loads(_map_component(at).proto.json_args)["script"]


def test_neighbourhood_profile_of_a_ward():
    at = _page("neighbourhood.py", boundary_layer="wards")
    at.selectbox(key="profile_area_wards").set_value("Firth Park").run()
    _ok(at)
    values = {m.label: m.value for m in at.metric}
    assert values["Residents"] == "22,347" and values["Assets here"] == "17"
    assert any("No aspirations are recorded for Firth Park yet" in i.value for i in at.info)
    assert "Firth Park Library" in _script(at)
    [chart] = [t for t in html_tables(at) if list(t.columns) == ["Type", "Firth Park", "All areas together"]]
    assert len(chart) and chart["Firth Park"].ne(tables.NO_DATA).any()  # the rates, as text beside the bars
    assert not at.get("arrow_vega_lite_chart") and not at.get("vega_lite_chart")  # no Vega for the browser to load


def test_neighbourhood_click_on_the_map_selects_the_area():
    at = _page("neighbourhood.py", boundary_layer="wards")
    comp = _map_component(at)
    at.session_state[comp.key] = {"last_clicked": {"lat": 53.3811, "lng": -1.4701}}  # the city centre
    at.run()
    _ok(at)
    assert at.selectbox(key="profile_area_wards").value == "City"


def test_neighbourhood_estimates_labelled():
    at = _page("neighbourhood.py", boundary_layer="neighbourhoods")
    assert any("(estimate)" in m.label for m in at.metric)


def test_near_me_empty_state_then_postcode():
    at = _page("near_me.py")
    assert any("Start by typing a postcode" in i.value for i in at.info)
    at.text_input(key="near_postcode").input("s5 8nj")
    at.button[0].click().run()
    _ok(at)
    table = html_tables(at)[0]
    assert table.iloc[0]["Nearest"] == "Parson Cross Food Bank"
    assert len(table) == DEMO_TYPES
    assert any("Nothing within reach for" in w.value for w in at.warning)
    script = _script(at)
    assert "S5 8NJ" in script and "L.circle" in script  # the origin and the walking radius


def test_near_me_bad_postcodes_are_explained():
    at = _page("near_me.py")
    at.text_input(key="near_postcode").input("banana")
    at.button[0].click().run()
    _ok(at)
    assert any("not a UK postcode" in e.value for e in at.error)
    at.text_input(key="near_postcode").input("ZZ9 9ZZ")
    at.button[0].click().run()
    assert any("not in the postcode table" in e.value for e in at.error)


def test_near_me_bad_postcode_clears_the_previous_results():
    at = _page("near_me.py")
    at.text_input(key="near_postcode").input("S5 8NJ")
    at.button[0].click().run()
    assert len(html_tables(at)) == 1
    at.text_input(key="near_postcode").input("banana")
    at.button[0].click().run()
    _ok(at)
    assert any("not a UK postcode" in e.value for e in at.error)
    assert not html_tables(at) and any("Start by typing a postcode" in i.value for i in at.info)


def test_near_me_link_restores_the_view_and_the_page_keeps_its_link():
    at = AppTest.from_file(str(PROJECT_ROOT / "pages" / "near_me.py"), default_timeout=120)
    at.query_params["postcode"] = "S5 8NJ"
    at.query_params["minutes"] = "15"
    _ok(at.run())
    assert at.slider(key="near_minutes").value == 15 and at.text_input(key="near_postcode").value == "S5 8NJ"
    assert html_tables(at)[0].iloc[0]["Nearest"] == "Parson Cross Food Bank"
    assert any("postcode=S5+8NJ&minutes=15" in link for link in view_links(at))
    at.slider(key="near_minutes").set_value(20).run()
    assert at.query_params["minutes"] == "20"  # the URL follows the page


def test_near_me_link_with_a_point_or_a_bad_value():
    at = AppTest.from_file(str(PROJECT_ROOT / "pages" / "near_me.py"), default_timeout=120)
    at.query_params["lonlat"] = "-1.4701,53.3811"
    at.query_params["minutes"] = "999"
    _ok(at.run())
    assert len(html_tables(at)[0]) == DEMO_TYPES and at.slider(key="near_minutes").value == 10
    assert any("walking time '999'" in w.value for w in at.warning)


def test_gaps_link_restores_type_distance_and_boundaries():
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.query_params.update({"type": "gp_practice", "within": "1200", "boundaries": "lsoas", "view": "distance"})
    at.switch_page("pages/gaps.py")
    _ok(at.run())
    assert at.selectbox(key="gaps_type").value == "gp_practice" and at.slider(key="gaps_within").value == 1200
    assert at.selectbox(key="boundary_layer").value == "lsoas" and at.radio(key="gaps_view").value == "distance"


def test_neighbourhood_link_restores_the_area_and_the_page_keeps_its_link():
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    ward = "E05010868"  # Firth Park's ward code, as the link carries it
    at.query_params.update({"boundaries": "wards", "area": ward})
    at.switch_page("pages/neighbourhood.py")
    _ok(at.run())
    assert at.selectbox(key="profile_area_wards").value == "Firth Park"
    assert {m.label: m.value for m in at.metric}["Assets here"] == "17"
    assert any(f"boundaries=wards&area={ward}" in link for link in view_links(at))
    at.selectbox(key="profile_area_wards").set_value("City").run()
    assert at.query_params["area"] != ward  # the URL follows the page


def test_neighbourhood_link_by_name_or_unknown_area():
    at = AppTest.from_file(str(PROJECT_ROOT / "pages" / "neighbourhood.py"), default_timeout=120)
    at.session_state["boundary_layer"] = "wards"
    at.query_params["area"] = "firth park"
    _ok(at.run())
    assert at.selectbox(key="profile_area_wards").value == "Firth Park"
    at = AppTest.from_file(str(PROJECT_ROOT / "pages" / "neighbourhood.py"), default_timeout=120)
    at.session_state["boundary_layer"] = "wards"
    at.query_params["area"] = "Atlantis"
    _ok(at.run())
    assert any("Atlantis" in w.value and "first area is shown" in w.value for w in at.warning)


def test_near_me_click_on_the_map():
    at = _page("near_me.py")
    comp = _map_component(at)
    at.session_state[comp.key] = {"last_clicked": {"lat": 53.3811, "lng": -1.4701}}
    at.run()
    _ok(at)
    assert len(html_tables(at)[0]) == DEMO_TYPES


def test_near_me_radius_changes_what_is_missing():
    at = _page("near_me.py", near_origin={"lon": -1.4701, "lat": 53.3811, "label": "Town Hall"})
    near = len(at.warning)
    before = html_tables(at)[0]["Near?"].eq("yes").sum()
    at.slider(key="near_minutes").set_value(30).run()  # follows at once: no button to press again
    _ok(at)
    assert html_tables(at)[0]["Near?"].eq("yes").sum() > before
    assert len(at.warning) <= near
    assert any("30 minutes" in c.value for c in at.caption)


@pytest.mark.parametrize("view", ["beyond", "distance", "score"])
def test_gaps_views(view):
    at = _page("gaps.py", boundary_layer="lsoas")
    at.selectbox(key="gaps_type").set_value("food_bank").run()
    at.radio(key="gaps_view").set_value(view).run()
    _ok(at)
    values = {m.label: m.value for m in at.metric}
    beyond, total = values["Areas beyond the distance"].split(" of ")
    assert total == "345" and int(beyond) > 200
    assert len(at.dataframe[0].value) == int(beyond)
    [chart] = [t for t in html_tables(at) if t.columns[0] == "IMD decile (1 = most deprived)"]
    assert chart.iloc[:, 0].tolist() == [str(d) for d in range(1, 11)]  # deciles in order, as row headers
    assert list(chart.columns[1:]) == ["People beyond", "People within"]
    people = chart.iloc[:, 1:].map(lambda v: int(v.replace(",", "")))
    assert f"{people['People beyond'].sum():,}" == values["People beyond the distance"]  # the chart adds up
    share = people["People beyond"].sum() / people.to_numpy().sum()
    assert f"{share:.0%}" == values["Share of residents"]
    assert not at.get("arrow_vega_lite_chart") and not at.get("vega_lite_chart")


def test_gaps_on_wards_without_deprivation():
    at = _page("gaps.py", boundary_layer="wards")
    at.slider(key="gaps_within").set_value(5000).run()
    _ok(at)
