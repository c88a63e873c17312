"""Community knowledge: aspirations, success measures and their history, organisations, join-up, stories."""

from __future__ import annotations

import datetime as dt
import json
import re

import geopandas as gpd
import pandas as pd
import pytest

from geo import community as k
from geo.errors import AreaNotFoundError, CommonGroundError
from geo.store import Store
from geo.textsafe import markdown_literal
from tests.helpers import store_digest

FIRTH_PARK = "E05010868"
SOUTHEY = "E05010879"
ACTOR = "officer@example.org"


def _digest(store: Store) -> str:
    return store_digest(store)


def _audit(store: Store) -> pd.DataFrame:
    return store.read("audit_log")


def _aspiration(store: Store, **over) -> str:
    kw = dict(
        actor=ACTOR,
        boundary_layer="wards",
        area_id=FIRTH_PARK,
        text="A warm place to eat together in winter",
        theme="Food",
        raised_by="Firth Park Residents' Forum",
        raised_on="2025-01-15",
    )
    kw.update(over)
    return k.add_aspiration(store, **kw)


def _measure(store: Store, asp: str, **over) -> str:
    kw = dict(
        actor=ACTOR,
        aspiration_id=asp,
        measure="people sharing a meal each week",
        horizon="short",
        baseline=0,
        target=60,
        current=None,
        unit="people",
        agreed_by="Firth Park partnership",
        agreed_on="2025-02-10",
    )
    kw.update(over)
    return k.add_success_measure(store, **kw)


# ----------------------------------------------------------------------------- helpers


def test_themes_are_normalised():
    assert k.split_themes(" Health ,food;  Mental   HEALTH, health,") == ["health", "food", "mental health"]
    assert k.join_themes(["Food ", "food", "Green  Space"]) == "food, green space"
    assert k.split_themes(None) == [] and k.split_themes(float("nan")) == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("jo.bloggs@example.com", "an email address"),
        ("Call Jo on 07700 900123", "a phone number"),
        ("+44 (0)114 496 0000", "a phone number"),
        ("Firth Park Residents' Association", None),
        ("Friends of Firth Park 2024", None),
    ],
)
def test_private_details_detected(text, found):
    assert k.private_details_in(text) == found


def test_errors_are_common_ground_errors():
    for exc in (k.KnowledgeValidationError, k.PrivateDetailsError, k.UnknownReferenceError, k.UnknownAreaError):
        assert issubclass(exc, CommonGroundError)
    assert issubclass(k.UnknownAreaError, AreaNotFoundError)


# ----------------------------------------------------------------------------- aspirations


def test_add_aspiration_writes_row_and_audit(store_copy):
    aid = _aspiration(store_copy, asset_ids=[store_copy.read("assets")["id"].iloc[0]])
    rows = store_copy.read("aspirations")
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["id"] == aid and row["area_id"] == FIRTH_PARK and row["boundary_layer"] == "wards"
    assert row["theme"] == "food" and row["status"] == "open" and row["raised_on"] == "2025-01-15"
    assert row["created_by"] == ACTOR and row["updated_by"] == ACTOR and row["created_at"]
    audit = _audit(store_copy)
    assert len(audit) == 1
    entry = audit.iloc[0]
    assert (entry["by"], entry["action"], entry["layer"], entry["feature_id"]) == (ACTOR, "create", "aspirations", aid)
    assert json.loads(entry["after"])["text"] == "A warm place to eat together in winter"


@pytest.mark.parametrize(
    ("change", "exc", "words"),
    [
        ({"raised_by": "jo.bloggs@example.com"}, k.PrivateDetailsError, "email address"),
        ({"raised_by": "Jo, 0114 496 0123"}, k.PrivateDetailsError, "phone number"),
        ({"raised_by": ""}, k.KnowledgeValidationError, "name the group"),
        ({"text": "  "}, k.KnowledgeValidationError, "text is empty"),
        ({"theme": " , "}, k.KnowledgeValidationError, "theme is empty"),
        ({"raised_on": "15/01/2025"}, k.KnowledgeValidationError, "YYYY-MM-DD"),
        ({"raised_on": dt.date.today() + dt.timedelta(days=3)}, k.KnowledgeValidationError, "in the future"),
        ({"status": "done"}, k.KnowledgeValidationError, "open, in progress"),
        ({"area_id": "E99999999"}, k.UnknownAreaError, "'E99999999' is not an area of wards"),
        ({"boundary_layer": "parishes"}, k.UnknownAreaError, "wards, lsoas, neighbourhoods"),
        ({"asset_ids": ["not-an-asset"]}, k.UnknownReferenceError, "unknown assets id 'not-an-asset'"),
        ({"actor": " "}, k.KnowledgeValidationError, "name or email"),
    ],
)
def test_invalid_aspiration_leaves_store_byte_identical(store_copy, change, exc, words):
    before = _digest(store_copy)
    with pytest.raises(exc, match=words) as info:
        _aspiration(store_copy, **change)
    message = str(info.value)
    assert message.endswith(".") and not re.search(r"\.\s+[A-Z]", message.replace("e.g.", ""))  # one sentence
    assert _digest(store_copy) == before


# ----------------------------------------------------------------------------- success measures


def test_measure_copies_area_and_keeps_history(store_copy):
    asp = _aspiration(store_copy, boundary_layer="wards", area_id=SOUTHEY)
    mid = _measure(store_copy, asp, horizon="Medium")
    m = store_copy.read("success_measures").set_index("id").loc[mid]
    assert (m["area_id"], m["boundary_layer"], m["horizon"], m["current"]) == (SOUTHEY, "wards", "medium", 0.0)
    assert store_copy.read("measure_updates").empty  # current == baseline: nothing to explain yet

    k.record_measure_value(store_copy, mid, actor=ACTOR, value=12, recorded_on="2025-03-31", note="first month")
    k.record_measure_value(store_copy, mid, actor="someone else", value=38, recorded_on="2025-08-31")
    k.record_measure_value(store_copy, mid, actor=ACTOR, value=25, recorded_on="2025-05-31", note="back-filled")
    history = store_copy.read("measure_updates")
    assert sorted(history["value"]) == [12.0, 25.0, 38.0]  # nothing overwritten
    assert set(history["recorded_by"]) == {ACTOR, "someone else"}
    assert store_copy.read("success_measures").set_index("id").loc[mid, "current"] == 38.0  # the latest date wins

    audit = _audit(store_copy)
    assert (audit["layer"] == "measure_updates").sum() == 3
    updates = audit[(audit["layer"] == "success_measures") & (audit["action"] == "update")]
    assert [json.loads(a)["current"] for a in updates["after"]] == [12.0, 38.0, 38.0]
    assert json.loads(updates["before"].iloc[1])["current"] == 12.0


def test_measure_with_current_records_it_in_history(store_copy):
    mid = _measure(store_copy, _aspiration(store_copy), baseline=10, target=80, current=30)
    history = store_copy.read("measure_updates")
    assert list(history["value"]) == [30.0] and history["measure_id"].iloc[0] == mid
    assert history["recorded_on"].iloc[0] == "2025-02-10"


def test_measure_progress_for_charts(store_copy):
    mid = _measure(store_copy, _aspiration(store_copy), baseline=10, target=60)
    k.record_measure_value(store_copy, mid, actor=ACTOR, value=35, recorded_on="2025-06-01")
    k.record_measure_value(store_copy, mid, actor=ACTOR, value=20, recorded_on="2025-03-01")
    prog = k.measure_progress(store_copy.read("success_measures"), store_copy.read("measure_updates"))
    assert list(prog["kind"]) == ["baseline", "update", "update"]
    assert list(prog["value"]) == [10.0, 20.0, 35.0]
    assert list(prog["progress"]) == pytest.approx([0.0, 0.2, 0.5])
    assert pd.api.types.is_datetime64_any_dtype(prog["date"]) and prog["date"].is_monotonic_increasing
    assert (prog["target"] == 60).all() and (prog["unit"] == "people").all()
    empty = k.measure_progress(store_copy.read("success_measures").iloc[0:0], store_copy.read("measure_updates"))
    assert empty.empty and "value" in empty.columns


@pytest.mark.parametrize(
    ("change", "exc", "words"),
    [
        ({"aspiration_id": "nope"}, k.UnknownReferenceError, "unknown aspirations id 'nope'"),
        ({"horizon": "soon"}, k.KnowledgeValidationError, "short, medium, long"),
        ({"target": "lots"}, k.KnowledgeValidationError, "not a number"),
        ({"target": None}, k.KnowledgeValidationError, "target is empty"),
        ({"agreed_by": "ring 07700 900123"}, k.PrivateDetailsError, "phone number"),
    ],
)
def test_invalid_measure_leaves_store_byte_identical(store_copy, change, exc, words):
    asp = _aspiration(store_copy)
    before = _digest(store_copy)
    with pytest.raises(exc, match=words):
        _measure(store_copy, asp, **change)
    assert _digest(store_copy) == before


def test_invalid_measure_value_leaves_store_byte_identical(store_copy):
    mid = _measure(store_copy, _aspiration(store_copy))
    before = _digest(store_copy)
    with pytest.raises(k.UnknownReferenceError, match="unknown success_measures id 'nope'"):
        k.record_measure_value(store_copy, "nope", actor=ACTOR, value=1, recorded_on="2025-03-01")
    with pytest.raises(k.KnowledgeValidationError, match="finite"):
        k.record_measure_value(store_copy, mid, actor=ACTOR, value=float("inf"), recorded_on="2025-03-01")
    assert _digest(store_copy) == before


# ----------------------------------------------------------------------------- organisations


def test_add_and_update_organisation(store_copy):
    oid = k.add_organisation(
        store_copy,
        actor=ACTOR,
        name="Firth Park Pantry",
        kind="Voluntary",
        themes="Food, Poverty ",
        lon=-1.455,
        lat=53.417,
        boundary_layer="wards",
        areas=[(FIRTH_PARK, "food")],
    )
    orgs = store_copy.read("organisations").set_index("id")
    assert len(orgs) == 219 and orgs.loc[oid, "kind"] == "voluntary" and orgs.loc[oid, "themes"] == "food, poverty"
    assert orgs.loc[oid, "geometry"].x == pytest.approx(-1.455)
    links = store_copy.read("organisation_areas")
    assert links[links["organisation_id"] == oid][["area_id", "themes"]].values.tolist() == [[FIRTH_PARK, "food"]]

    assert k.update_organisation(store_copy, oid, actor=ACTOR, themes="food,  poverty") == {}  # no change, no write
    changed = k.update_organisation(store_copy, oid, actor="editor", url="https://pantry.example.org", kind="NHS")
    assert changed == {"url": "https://pantry.example.org", "kind": "NHS"}
    orgs = store_copy.read("organisations").set_index("id")
    assert orgs.loc[oid, "url"] == "https://pantry.example.org" and orgs.loc[oid, "updated_by"] == "editor"
    audit = _audit(store_copy)
    assert list(audit["action"]) == ["create", "set_areas", "update"]
    assert json.loads(audit["before"].iloc[2]) == {"url": "", "kind": "voluntary"}


def test_invalid_organisations_rejected(store_copy):
    before = _digest(store_copy)
    with pytest.raises(k.KnowledgeValidationError, match="council, NHS"):
        k.add_organisation(store_copy, actor=ACTOR, name="X", kind="charity")
    with pytest.raises(k.KnowledgeValidationError, match="https://"):
        k.add_organisation(store_copy, actor=ACTOR, name="X", kind="voluntary", url="javascript:alert(1)")
    with pytest.raises(k.UnknownAreaError):
        k.add_organisation(
            store_copy, actor=ACTOR, name="X", kind="voluntary", boundary_layer="wards", areas=[("nope", "")]
        )
    with pytest.raises(k.UnknownReferenceError, match="no organisation"):
        k.update_organisation(store_copy, "nope", actor=ACTOR, name="Y")
    assert _digest(store_copy) == before


def test_set_organisation_areas_replaces_one_layer_only(store_copy):
    council = "bc0de922-38b0-5b28-986c-b88bae06546f"  # Sheffield City Council in the demo
    links = store_copy.read("organisation_areas")
    mine = links[links["organisation_id"] == council]
    other_layers = mine[mine["boundary_layer"] != "wards"]
    kept = mine[(mine["boundary_layer"] == "wards") & (mine["area_id"] == FIRTH_PARK)].iloc[0]
    rows = k.set_organisation_areas(
        store_copy,
        council,
        actor=ACTOR,
        boundary_layer="wards",
        areas=[(FIRTH_PARK, "learning, Housing"), (SOUTHEY, "housing"), (SOUTHEY, "culture")],
    )
    assert sorted(zip(rows["area_id"], rows["themes"], strict=True)) == [
        (FIRTH_PARK, "learning, housing"),
        (SOUTHEY, "housing, culture"),
    ]
    after = store_copy.read("organisation_areas")
    now = after[after["organisation_id"] == council]
    assert len(now[now["boundary_layer"] == "wards"]) == 2
    assert len(now[now["boundary_layer"] != "wards"]) == len(other_layers)  # other layers untouched
    assert len(after) == len(links) - (len(mine) - len(other_layers)) + 2
    fp = now[(now["boundary_layer"] == "wards") & (now["area_id"] == FIRTH_PARK)].iloc[0]
    assert fp["basis"] == kept["basis"] and fp["updated_by"] == ACTOR  # kept its provenance
    entry = _audit(store_copy).iloc[-1]
    assert entry["action"] == "set_areas" and json.loads(entry["after"])["areas"][SOUTHEY] == "housing, culture"
    before = _digest(store_copy)
    with pytest.raises(k.UnknownAreaError, match="'E05099999'"):
        k.set_organisation_areas(store_copy, council, actor=ACTOR, boundary_layer="wards", areas=[("E05099999", "")])
    assert _digest(store_copy) == before


# ----------------------------------------------------------------------------- join-up


def _hand_built():
    orgs = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "name": ["Org A", "Org B", "Org C"],
            "kind": ["voluntary", "NHS", "faith"],
            "themes": ["health, food", "Health", "faith, food"],
        }
    )
    links = pd.DataFrame(
        {
            "organisation_id": ["a", "b", "c", "c"],
            "boundary_layer": ["wards", "wards", "wards", "lsoas"],
            "area_id": ["X", "X", "Y", "X"],
            "themes": ["Health, food", " health", "food", "food"],
        }
    )
    asps = pd.DataFrame(
        {
            "id": ["1", "2", "3", "4", "5"],
            "boundary_layer": ["wards"] * 5,
            "area_id": ["X", "X", "X", "X", "Y"],
            "theme": ["health", "Housing ", "housing", "transport", "parks"],
            "status": ["open", "open", "in progress", "achieved", "open"],
        }
    )
    return orgs, links, asps


def test_join_up_overlaps_and_gaps():
    orgs, links, asps = _hand_built()
    ju = k.join_up("X", boundary_layer="wards", organisations=orgs, organisation_areas=links, aspirations=asps)
    assert ju.overlaps == {"health": ["Org A", "Org B"]}
    assert ju.gaps == ["housing"]  # transport is achieved; parks is another area's
    assert ju.by_theme == {"food": ["Org A"], "health": ["Org A", "Org B"]}
    assert ju.aspiration_themes == {"health": 1, "housing": 2}
    assert list(ju.working["name"]) == ["Org A", "Org B"]  # org C works in X only as an LSOA id


def test_join_up_falls_back_to_profile_themes_and_empty_area():
    orgs, links, asps = _hand_built()
    links.loc[1, "themes"] = ""
    ju = k.join_up("X", boundary_layer="wards", organisations=orgs, organisation_areas=links, aspirations=asps)
    row = ju.working.set_index("name").loc["Org B"]
    assert (row["themes"], row["themes_from"]) == ("health", "its profile")
    none = k.join_up(
        "Z", boundary_layer="wards", organisations=orgs, organisation_areas=links, aspirations=asps.iloc[0:0]
    )
    assert none.working.empty and none.overlaps == {} and none.gaps == []


def test_join_up_on_the_demo_store(store_copy):
    _aspiration(store_copy, theme="housing")
    ju = k.join_up(
        FIRTH_PARK,
        boundary_layer="wards",
        organisations=store_copy.read("organisations"),
        organisation_areas=store_copy.read("organisation_areas"),
        aspirations=store_copy.read("aspirations"),
    )
    # Firth Park's GP practices and pharmacies share "health" only through the assets they run: no overlap.
    assert "health" not in ju.overlaps and len(ju.services["health"]) >= 2 and ju.gaps == ["housing"]
    assert ju.by_theme["health"] == ju.services["health"]


def test_join_up_counts_overlaps_among_organisations_that_chose_the_theme():
    orgs, links, asps = _hand_built()
    links["basis"] = ["runs 2 asset(s) located in this area", "entered in Common Ground", "", ""]
    ju = k.join_up("X", boundary_layer="wards", organisations=orgs, organisation_areas=links, aspirations=asps)
    assert ju.overlaps == {}  # Org A's health is inherited from what it runs; only Org B chose it
    assert ju.services == {"food": ["Org A"], "health": ["Org A"]}
    assert ju.by_theme == {"food": ["Org A"], "health": ["Org A", "Org B"]}  # who works on what: everyone
    links.loc[0, "basis"] = "entered in Common Ground"
    ju = k.join_up("X", boundary_layer="wards", organisations=orgs, organisation_areas=links, aspirations=asps)
    assert ju.overlaps == {"health": ["Org A", "Org B"]} and ju.services == {}


def test_organisation_matrix():
    orgs, links, _ = _hand_built()
    areas = pd.DataFrame({"id": ["X", "Y"], "name": ["Xville", "Yton"]})
    mx = k.organisation_matrix(orgs, links, boundary_layer="wards", areas=areas)
    assert list(mx.columns) == ["organisation", "kind", "areas", "Xville", "Yton"]
    assert list(mx.index) == ["a", "b", "c"]
    assert mx.loc["a", "Xville"] == "health, food" and mx.loc["a", "Yton"] == "" and mx.loc["c", "Yton"] == "food"
    links.loc[0, "themes"] = None
    assert k.organisation_matrix(orgs, links, boundary_layer="wards").loc["a", "X"] == "✓"
    assert k.organisation_matrix(orgs, links, boundary_layer="neighbourhoods").empty


# ----------------------------------------------------------------------------- stories


def _story(store: Store, **over) -> str:
    orgs = store.read("organisations")
    assets = store.read("assets")
    kw = dict(
        actor=ACTOR,
        title="A supper club grew out of the pantry queue",
        summary="Thirty people a week now eat together.",
        body="People said winter was lonely.\nA church kitchen was borrowed.",
        boundary_layer="wards",
        area_id=FIRTH_PARK,
        asset_ids=[assets[assets["name"] == "Firth Park Library"]["id"].iloc[0]],
        organisation_ids=[orgs["id"].iloc[0]],
        themes="Food, Loneliness",
        method="Ask the people already queuing what they would add",
        outcome="30 people a week",
        date="2025-08-31",
        source="Firth Park Residents' Forum",
    )
    kw.update(over)
    return k.add_story(store, **kw)


def test_add_story_with_point_from_asset_or_given(store_copy):
    sid = _story(store_copy)
    placed = _story(
        store_copy, title="Paths", asset_ids=(), organisation_ids="", lon=-1.449, lat=53.42, themes="green space"
    )
    bare = _story(store_copy, title="No point", asset_ids=(), organisation_ids=())
    stories = store_copy.read("stories").set_index("id")
    assert isinstance(stories, gpd.GeoDataFrame) and len(stories) == 3
    library = store_copy.read("assets").set_index("name").loc["Firth Park Library", "geometry"]
    assert stories.loc[sid, "geometry"].equals(library)
    assert stories.loc[placed, "geometry"].y == pytest.approx(53.42)
    assert stories.loc[bare, "geometry"] is None or stories.loc[bare, "geometry"].is_empty
    assert stories.loc[sid, "themes"] == "food, loneliness"
    assert (_audit(store_copy)["layer"] == "stories").sum() == 3


@pytest.mark.parametrize(
    ("change", "exc", "words"),
    [
        ({"organisation_ids": ["nope"]}, k.UnknownReferenceError, "unknown organisations id 'nope'"),
        ({"asset_ids": "nope"}, k.UnknownReferenceError, "unknown assets id 'nope'"),
        ({"lon": -1.45}, k.KnowledgeValidationError, "give both lon and lat"),
        ({"lon": 53.4, "lat": -191}, k.KnowledgeValidationError, "outside this store's area"),
        ({"lon": 53.38, "lat": -1.47}, k.KnowledgeValidationError, "looks swapped"),
        ({"source": ""}, k.KnowledgeValidationError, "where the story comes from"),
        ({"title": ""}, k.KnowledgeValidationError, "title"),
        ({"area_id": "nope"}, k.UnknownAreaError, "'nope' is not an area of wards"),
    ],
)
def test_invalid_story_leaves_store_byte_identical(store_copy, change, exc, words):
    before = _digest(store_copy)
    with pytest.raises(exc, match=words):
        _story(store_copy, **change)
    assert _digest(store_copy) == before


def test_search_stories(store_copy):
    _story(store_copy)
    _story(
        store_copy,
        title="Path days",
        summary="Volunteers cleared paths.",
        body="",
        themes="Green Space",
        method="Walk the route with the school",
        date="2025-07-31",
        area_id=SOUTHEY,
    )
    stories = store_copy.read("stories")
    titles = lambda f: list(f["title"])  # noqa: E731
    assert titles(k.search_stories(stories)) == [
        "A supper club grew out of the pantry queue",
        "Path days",
    ]  # newest first
    assert titles(k.search_stories(stories, text="KITCHEN winter")) == ["A supper club grew out of the pantry queue"]
    assert titles(k.search_stories(stories, text="kitchen paths")) == []  # every word must appear
    assert titles(k.search_stories(stories, theme=" green  SPACE")) == ["Path days"]
    assert titles(k.search_stories(stories, method="walk the")) == ["Path days"]
    assert titles(k.search_stories(stories, area_id=FIRTH_PARK)) == ["A supper club grew out of the pantry queue"]
    assert titles(k.search_stories(stories, text="(.*")) == []  # literal, never a pattern


def test_story_report_escapes_user_text(store_copy):
    sid = _story(
        store_copy,
        title="<script>alert(1)</script> Fridge",
        summary="It <b>worked</b> & more",
        body="Line one\n<img src=x onerror=alert(2)>",
        method="*bold* [link](javascript:alert(3))",
    )
    story = store_copy.read("stories").set_index("id").loc[sid]
    story["id"] = sid
    page = k.story_report(
        story,
        fmt="html",
        assets=store_copy.read("assets"),
        organisations=store_copy.read("organisations"),
        area_name="Firth Park",
    )
    assert "<script>" not in page and "<img" not in page and "<b>worked" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Fridge" in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "Firth Park Library" in page and "Sheffield City Council" in page and "Firth Park" in page
    assert page.startswith("<!DOCTYPE html>") and page.count("<script") == 0
    md = k.story_report(story, fmt="markdown", assets=store_copy.read("assets"), area_name="Firth Park")
    assert md.startswith("# " + markdown_literal("<script>alert(1)</script> Fridge"))
    assert "<img" not in md.replace("\\<img", "") and markdown_literal("*bold* [link](javascript:alert(3))") in md
    assert "](javascript" not in md and "javascript:alert" not in md  # no link survives
    assert "Firth Park Library" in md and "## How it was done (what others could reuse)" in md
    with pytest.raises(k.KnowledgeValidationError, match="markdown' or 'html"):
        k.story_report(story, fmt="pdf")


# ----------------------------------------------------------------------------- hidden rows (moderation)


def test_public_reads_leave_out_pending_rejected_and_withdrawn_rows():
    orgs, links, asps = _hand_built()
    hidden = pd.DataFrame({"id": ["6", "7", "8"], "boundary_layer": ["wards"] * 3, "area_id": ["X"] * 3,
                           "theme": ["parks", "transport", "libraries"], "status": ["pending", "rejected", "withdrawn"]})  # fmt: skip
    ju = k.join_up("X", boundary_layer="wards", organisations=orgs, organisation_areas=links,
                   aspirations=pd.concat([asps, hidden], ignore_index=True))  # fmt: skip
    assert ju.gaps == ["housing"] and ju.aspiration_themes == {"health": 1, "housing": 2}
    both = pd.concat([asps, hidden], ignore_index=True)
    assert sorted(k.for_area(both, boundary_layer="wards", area_id="X")["id"]) == ["1", "2", "3", "4"]
    assert len(k.for_area(both, boundary_layer="wards", area_id="X", include_hidden=True)) == 7
    stories = pd.DataFrame({"id": ["s1", "s2", "s3"], "title": ["Old", "New", "Proposed"], "themes": ["food"] * 3,
                            "method": [""] * 3, "area_id": ["X"] * 3, "date": ["2024-01-01", "2025-01-01", "2025-06-01"],
                            "status": [None, "published", "pending"]})  # fmt: skip
    assert list(k.search_stories(stories)["title"]) == ["New", "Old"]
    assert list(k.search_stories(stories, theme="food", include_hidden=True)["title"]) == ["Proposed", "New", "Old"]


def test_a_plain_name_is_a_trusted_local_admin(store_copy):
    sid = _story(store_copy)
    assert store_copy.read("stories").set_index("id").loc[sid, "status"] == "published"
    assert k.pending_items(store_copy).empty
