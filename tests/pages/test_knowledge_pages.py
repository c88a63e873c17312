"""The community-knowledge pages under AppTest: Aspirations and success, Join up, Stories of success."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from streamlit.testing.v1 import AppTest

from geo import community as k
from geo.analysis import profiles
from geo.schema import PROJECT_ROOT, load_taxonomy
from geo.store import Store
from geo.textsafe import markdown_literal

TIMEOUT = 120
PAGES = PROJECT_ROOT / "pages"
FIRTH_PARK = "E05010868"
BATEMOOR = "nbhd-batemoor"  # a neighbourhood no demo organisation is linked to
ACTOR = "tester@example.org"


@pytest.fixture(autouse=True)
def no_basemap(monkeypatch):
    monkeypatch.setenv("COMMON_GROUND_TILES", "none")


def _page(name: str, **state) -> AppTest:
    at = AppTest.from_file(str(PAGES / name), default_timeout=TIMEOUT)
    for key, value in state.items():
        at.session_state[key] = value
    return _ok(at.run())


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def _button(at: AppTest, key: str):
    return next(b for b in at.button if b.key == key)


def _with_knowledge(store: Store) -> dict:
    """Firth Park with an aspiration, a measure and its history, an organisation and a story."""
    asp = k.add_aspiration(
        store,
        actor=ACTOR,
        boundary_layer="wards",
        area_id=FIRTH_PARK,
        text="A warm place to eat together",
        theme="food",
        raised_by="Firth Park Residents' Forum",
        raised_on="2025-01-15",
    )
    mid = k.add_success_measure(
        store,
        actor=ACTOR,
        aspiration_id=asp,
        measure="people sharing a meal each week",
        horizon="short",
        baseline=0,
        target=60,
        unit="people",
        agreed_by="Firth Park partnership",
        agreed_on="2025-02-10",
    )
    k.record_measure_value(store, mid, actor=ACTOR, value=12, recorded_on="2025-03-31", note="first month")
    k.record_measure_value(store, mid, actor=ACTOR, value=38, recorded_on="2025-08-31")
    org = k.add_organisation(
        store,
        actor=ACTOR,
        name="Firth Park Pantry",
        kind="voluntary",
        themes="food",
        boundary_layer="wards",
        areas=[(FIRTH_PARK, "food")],
    )
    story = k.add_story(
        store,
        actor=ACTOR,
        title="Supper club <script>alert(1)</script>",
        summary="Thirty-eight people a week eat together.",
        body="It began in the pantry queue.",
        boundary_layer="wards",
        area_id=FIRTH_PARK,
        organisation_ids=[org],
        themes="food",
        method="Ask the people already queuing",
        outcome="38 a week",
        date="2025-08-31",
        source="Firth Park Residents' Forum",
        lon=-1.455,
        lat=53.417,
    )
    k.add_story(
        store,
        actor=ACTOR,
        title="Path days",
        summary="Volunteers cleared the school route.",
        body="",
        boundary_layer="wards",
        area_id="E05010879",
        themes="green space",
        method="Walk the route",
        outcome="",
        date="2025-07-31",
        source="Southey group",
    )
    return {"aspiration": asp, "measure": mid, "organisation": org, "story": story}


# ----------------------------------------------------------------------------- empty states


@pytest.mark.parametrize(
    ("page", "says"),
    [
        ("community.py", "No aspirations are recorded for Firth Park yet. Add the first one below"),
        ("join_up.py", "No open aspirations are recorded for Firth Park: record them on"),
        ("stories.py", "No stories are recorded yet. Add the first one below"),
    ],
)
def test_pages_run_empty_and_say_what_to_do_next(page, says):
    at = _page(page, boundary_layer="wards", community_area_wards="Firth Park", joinup_area_wards="Firth Park")
    assert says in _texts(at.info)


@pytest.mark.parametrize("layer", ["wards", "lsoas", "neighbourhoods"])
def test_pages_run_on_every_boundary_set(layer):
    for page in ("community.py", "join_up.py", "stories.py"):
        _page(page, boundary_layer=layer)


# ----------------------------------------------------------------------------- aspirations and success


def test_adding_an_aspiration_through_the_form_reaches_the_profile(private_store):
    at = _page("community.py", boundary_layer="wards", community_area_wards="Firth Park")
    at.text_area(key="asp_text").input("Somewhere for young people on Friday nights")
    at.text_input(key="asp_theme").input("Young People")
    at.text_input(key="asp_raised_by").input("Firth Park Youth Council")
    at.date_input(key="asp_raised_on").set_value(dt.date(2025, 2, 3))
    _button(at, "asp_submit").click()
    _ok(at.run())
    assert "Aspiration added for Firth Park." in _texts(at.success)
    assert at.dataframe[0].value["Aspiration"].tolist() == ["Somewhere for young people on Friday nights"]

    rows = private_store.read("aspirations")
    assert len(rows) == 1 and rows["created_by"].iloc[0] == ACTOR and rows["theme"].iloc[0] == "young people"
    areas = private_store.read("wards")
    area = profiles.find_area(areas, "Firth Park", layer="wards")
    prof = profiles.area_profile(
        area,
        layer="wards",
        areas=areas,
        assets=private_store.read("assets"),
        taxonomy=load_taxonomy(),
        aspirations=rows,
    )
    assert prof.aspirations["text"].tolist() == ["Somewhere for young people on Friday nights"]
    assert prof.aspirations["raised_on"].tolist() == ["2025-02-03"]


def test_private_details_are_refused_and_nothing_is_written(private_store):
    at = _page("community.py", boundary_layer="wards", community_area_wards="Firth Park")
    at.text_area(key="asp_text").input("Better buses")
    at.text_input(key="asp_theme").input("transport")
    at.text_input(key="asp_raised_by").input("jo.bloggs@example.com")
    _button(at, "asp_submit").click()
    _ok(at.run())
    assert "looks like it holds an email address" in _texts(at.error)
    assert private_store.read("aspirations").empty and private_store.read("audit_log").empty


def test_community_page_with_measures_chart_and_recording(private_store):
    ids = _with_knowledge(private_store)
    at = _page("community.py", boundary_layer="wards", community_area_wards="Firth Park")
    values = {m.label: m.value for m in at.metric}
    assert values == {"Baseline": "0 people", "Now": "38 people", "Target": "60 people"}
    assert len(at.get("arrow_vega_lite_chart")) + len(at.get("vega_lite_chart")) == 1
    history = at.dataframe[2].value
    assert history["Value"].tolist() == [0.0, 12.0, 38.0] and history["Kind"].tolist() == [
        "baseline",
        "update",
        "update",
    ]
    at.number_input(key="v_value").set_value(45)
    at.date_input(key="v_recorded_on").set_value(dt.date(2025, 9, 30))
    at.text_input(key="v_note").input("autumn")
    _button(at, "v_submit").click()
    _ok(at.run())
    assert "Value recorded" in _texts(at.success)
    assert {m.label: m.value for m in at.metric}["Now"] == "45 people"
    assert private_store.read("success_measures").set_index("id").loc[ids["measure"], "current"] == 45.0
    assert len(private_store.read("measure_updates")) == 3


def test_adding_a_measure_through_the_form(private_store):
    asp = k.add_aspiration(
        private_store,
        actor=ACTOR,
        boundary_layer="wards",
        area_id=FIRTH_PARK,
        text="Lit paths",
        theme="green space",
        raised_by="Friends of Firth Park",
        raised_on="2025-01-15",
    )
    at = _page("community.py", boundary_layer="wards", community_area_wards="Firth Park")
    assert "No success measures are agreed for this aspiration yet" in _texts(at.info)
    at.text_input(key="m_measure").input("volunteer hours a month")
    at.selectbox(key="m_horizon").set_value("medium")
    at.number_input(key="m_baseline").set_value(10)
    at.number_input(key="m_target").set_value(80)
    at.text_input(key="m_unit").input("hours")
    at.text_input(key="m_agreed_by").input("Firth Park partnership")
    _button(at, "m_submit").click()
    _ok(at.run())
    measures = private_store.read("success_measures")
    assert measures[["aspiration_id", "horizon", "target", "area_id"]].values.tolist() == [
        [asp, "medium", 80.0, FIRTH_PARK]
    ]
    assert {m.label: m.value for m in at.metric}["Target"] == "80 hours"


# ----------------------------------------------------------------------------- join up


def test_join_up_names_overlaps_and_gaps(private_store):
    for name, themes in (("Alpha Health Trust", "health, food"), ("Beta Wellbeing", "health")):
        k.add_organisation(
            private_store,
            actor=ACTOR,
            name=name,
            kind="voluntary",
            themes=themes,
            boundary_layer="neighbourhoods",
            areas=[(BATEMOOR, themes)],
        )
    for theme in ("health", "housing"):
        k.add_aspiration(
            private_store,
            actor=ACTOR,
            boundary_layer="neighbourhoods",
            area_id=BATEMOOR,
            text=f"More {theme}",
            theme=theme,
            raised_by="Batemoor Tenants",
            raised_on="2025-01-01",
        )
    at = _page("join_up.py", boundary_layer="neighbourhoods", joinup_area_neighbourhoods="Batemoor")
    assert at.dataframe[0].value["Organisation"].tolist() == ["Alpha Health Trust", "Beta Wellbeing"]
    overlaps = [m.value for m in at.markdown if "talk to each other" in m.value and m.value.startswith("- ")]
    names = markdown_literal("Alpha Health Trust, Beta Wellbeing")  # shown literally: no Markdown, no links
    assert overlaps == [f"- **health** (2 organisations, talk to each other): {names}"]
    gaps = _texts(at.warning)
    assert "Gap: housing" in gaps and "Gap: health" not in gaps and "Gap: food" not in gaps
    assert at.selectbox(key="joinup_org").value in {o for o in private_store.read("organisations")["id"]}
    matrix = at.dataframe[1].value
    assert "Batemoor" in matrix.columns and set(matrix.loc[matrix["organisation"] == "Beta Wellbeing", "Batemoor"]) == {
        "health"
    }
    labels = [b.label for b in at.get("download_button")]
    assert "Organisations, services and areas (HSDS 3.0 JSON)" in labels


def test_join_up_with_data_map_and_adding_an_organisation(private_store):
    ids = _with_knowledge(private_store)
    at = _page("join_up.py", boundary_layer="wards", joinup_area_wards="Firth Park", joinup_org=ids["organisation"])
    assert "Every theme the community has raised here has at least one organisation" in _texts(at.success)
    script = json.loads(at.get("component_instance")[0].proto.json_args)["script"]
    assert "Works here" in script
    at.text_input(key="oa_name").input("Firth Park Tenants <b>")
    at.selectbox(key="oa_kind").set_value("residents' group")
    at.text_input(key="oa_themes").input("Housing")
    _button(at, "oa_submit").click()
    _ok(at.run())
    orgs = private_store.read("organisations")
    new = orgs[orgs["name"] == "Firth Park Tenants <b>"]
    assert len(new) == 1 and new["kind"].iloc[0] == "residents' group"
    links = private_store.read("organisation_areas")
    assert links[links["organisation_id"] == new["id"].iloc[0]][["area_id", "themes"]].values.tolist() == [
        [FIRTH_PARK, "housing"]
    ]
    assert at.selectbox(key="joinup_org").value == new["id"].iloc[0]
    assert "Firth Park Tenants <b>" in at.dataframe[0].value["Organisation"].tolist()


# ----------------------------------------------------------------------------- stories


def test_stories_browse_search_map_and_reports(private_store):
    _with_knowledge(private_store)
    at = _page("stories.py", boundary_layer="wards")
    assert len(at.expander) >= 2
    script = json.loads(at.get("component_instance")[0].proto.json_args)["script"]
    assert (
        "\\u003cscript\\u003e" in script and "<script>alert" not in script
    )  # the title on the map is data, not markup
    assert len(at.get("download_button")) == 4  # Markdown and HTML for each story

    at.text_input(key="stories_text").input("queuing")
    _ok(at.run())
    assert "1 of 2 stories match." in _texts(at.caption)
    at.text_input(key="stories_text").input("")
    at.selectbox(key="stories_theme").set_value("green space")
    _ok(at.run())
    assert "1 of 2 stories match." in _texts(at.caption)
    assert "1 of these stories have no point" in _texts(at.caption)
    at.text_input(key="stories_text").input("nothing like this")
    _ok(at.run())
    assert "No story matches these filters" in _texts(at.info)


def test_adding_a_story_through_the_form(private_store):
    at = _page("stories.py", boundary_layer="wards")
    at.text_input(key="s_title").input("Community fridge")
    at.text_area(key="s_summary").input("A fridge outside the library.")
    at.selectbox(key="s_area").set_value(FIRTH_PARK)
    library = private_store.read("assets").set_index("name").loc["Firth Park Library", "id"]
    at.multiselect(key="s_assets").set_value([library])
    at.text_input(key="s_source").input("Firth Park Residents' Forum")
    at.text_input(key="s_themes").input("Food")
    _button(at, "s_submit").click()
    _ok(at.run())
    assert "Story added" in _texts(at.success)
    stories = private_store.read("stories")
    assert stories["title"].tolist() == ["Community fridge"] and stories["area_id"].tolist() == [FIRTH_PARK]
    assert stories.geometry.iloc[0] is not None  # placed at the library
    assert len(at.get("download_button")) == 2


def test_an_aspiration_links_to_the_assets_that_could_help(private_store):
    at = _page("community.py", boundary_layer="wards", community_area_wards="Firth Park")
    at.text_area(key="asp_text").input("A homework club in the library")
    at.text_input(key="asp_theme").input("learning")
    at.text_input(key="asp_raised_by").input("Firth Park Parents' Group")
    library = private_store.read("assets").set_index("name").loc["Firth Park Library", "id"]
    at.multiselect(key="asp_assets").set_value([library])
    _button(at, "asp_submit").click()
    _ok(at.run())
    rows = private_store.read("aspirations")
    assert rows["asset_ids"].iloc[0] == library
    assert at.dataframe[0].value["Assets that could help"].tolist() == ["Firth Park Library"]
