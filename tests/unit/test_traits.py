"""The four traits of a resilient community, area by area (issue 15).

Expected counts are worked out here from the taxonomy file and the store's rows with plain
shapely and Python, not with the engine's helpers, so a mistake in either shows.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
import shapely

from geo import community, editing, schema
from geo.analysis import areas as analysis
from geo.analysis import profiles, traits
from geo.auth import Principal, Role
from geo.errors import TaxonomyError
from geo.io import imports
from geo.store import store_taxonomy
from geo.store.copy import create_geopackage

EXAMPLES = schema.PROJECT_ROOT / "data" / "examples"
EXAMPLE_LAYERS = [
    "organisations",
    "organisation_areas",
    "aspirations",
    "success_measures",
    "measure_updates",
    "stories",
]
FIRTH_PARK = "E05010868"
TRAITS = ["sense_of_place", "active_citizens", "organisations_resources", "local_leadership"]


@pytest.fixture(scope="module")
def seed() -> dict:
    return json.loads(schema.TAXONOMY_FILE.read_text(encoding="utf-8"))


def _profile(store, layer="wards", area="Firth Park"):
    areas = store.read(layer)
    row = profiles.find_area(areas, area, layer=layer)
    return profiles.area_profile(
        row,
        layer=layer,
        areas=areas,
        assets=analysis.filter_assets(store.read("assets")),
        taxonomy=store_taxonomy(store),
        organisations=store.read("organisations"),
        organisation_areas=store.read("organisation_areas"),
        aspirations=store.read("aspirations"),
        success_measures=store.read("success_measures"),
        stories=store.read("stories"),
    )


def _import_examples(store) -> None:
    for layer in EXAMPLE_LAYERS:
        imports.import_file(EXAMPLES / f"{layer}.csv", layer=layer, store=store, actor="tester")


def _by_trait(profile) -> dict[str, traits.TraitStrength]:
    return {t.trait: t for t in profile.traits.traits}


def _themes(text) -> set[str]:
    return {" ".join(p.split()).casefold() for p in re.split(r"[,;]", "" if pd.isna(text) else str(text)) if p.strip()}


# --------------------------------------------------------------------------------------------
# The rules are data in the taxonomy file
# --------------------------------------------------------------------------------------------


def test_the_seed_file_maps_kinds_themes_and_methods_to_every_trait(seed):
    rules = seed["trait_rules"]
    assert list(rules) == list(seed["traits"]) == TRAITS
    for rule in rules.values():
        assert set(rule) == {"organisation_kinds", "themes", "story_methods"}
    # the issue's example: residents' groups support active citizens and leadership
    holding = {t for t, r in rules.items() if "residents' group" in r["organisation_kinds"]}
    assert holding == {"active_citizens", "local_leadership"}
    tax = schema.parse_taxonomy(seed)
    assert tax.trait_rules["local_leadership"].organisation_kinds == ("residents' group",)
    assert "nhs" in tax.trait_rules["organisations_resources"].organisation_kinds  # kept case-folded


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda r: r.update(bravery={"themes": ["x"]}), "unknown trait 'bravery'"),
        (lambda r: r["active_citizens"].update(organisation_kinds=["guild"]), "organisation kind 'guild'"),
        (lambda r: r["active_citizens"].update(colours=["red"]), "unknown field"),
        (lambda r: r["active_citizens"].update(themes="community"), "must be a list"),
        (lambda r: r["active_citizens"].update(themes=["food, health"]), "without commas"),
        (lambda r: r["active_citizens"].update(story_methods=["kind:council"]), "colons"),
    ],
)
def test_bad_trait_rules_are_explained(seed, mutate, message):
    doc = json.loads(json.dumps(seed))
    mutate(doc["trait_rules"])
    with pytest.raises(TaxonomyError, match=message):
        schema.parse_taxonomy(doc)


def test_rules_travel_in_the_taxonomy_layer_and_back(seed):
    rows = schema.taxonomy_rows(seed)
    trait_rows = rows[rows["kind"] == "trait"].set_index("id")
    assert list(trait_rows.index) == TRAITS
    assert "kind:residents' group" in trait_rows.loc["local_leadership", "themes"]
    assert "method:volunteer" in trait_rows.loc["active_citizens", "themes"]
    back = schema.parse_taxonomy(schema.taxonomy_doc(rows))
    assert back.trait_rules == schema.parse_taxonomy(seed).trait_rules
    # a store's trait rows without rules give no rules (not empty ones)
    bare = rows.assign(themes=rows["themes"].where(rows["kind"] != "trait", None))
    assert "trait_rules" not in schema.taxonomy_doc(bare)


def _strip_rules(store) -> None:
    """Empty every trait row's rules, as in a store made before the rules existed."""
    rows = store.read("taxonomy", where={"kind": "trait"})
    with store.transaction(actor="tests") as tx:
        for _, r in rows.iterrows():
            tx.update("taxonomy", r["id"], {"themes": None}, if_version=int(r["version"]))


def test_a_new_store_holds_the_rules_and_an_older_store_uses_the_seed_files(tmp_path, demo_store, seed):
    expected = schema.parse_taxonomy(seed).trait_rules
    fresh = create_geopackage(tmp_path / "new.gpkg")
    held = store_taxonomy(fresh)
    assert held.trait_rules == expected
    assert traits.trait_rules(held) == (expected, "the store's taxonomy")
    older = create_geopackage(tmp_path / "older.gpkg")  # a store made before the rules: trait rows without them
    _strip_rules(older)
    old = store_taxonomy(older)
    assert old.trait_rules == {}
    assert store_taxonomy(demo_store).trait_rules == expected  # the shipped demo holds them
    rules, source = traits.trait_rules(old)
    assert rules == expected and "taxonomy.json" in source and "none of its own" in source


def test_a_council_changes_the_mapping_in_its_store(store_copy):
    """Rules in the store's trait rows replace the seed file's: one rule, nothing else counts."""
    _import_examples(store_copy)
    _strip_rules(store_copy)
    row = store_copy.read("taxonomy", where={"kind": "trait", "id": "local_leadership"})
    with store_copy.transaction(actor="council admin") as tx:
        tx.update("taxonomy", "local_leadership", {"themes": "kind:voluntary"}, if_version=int(row["version"].iloc[0]))
    tax = store_taxonomy(store_copy)
    assert set(tax.trait_rules) == {"local_leadership"}
    by = _by_trait(_profile(store_copy))
    assert set(by["local_leadership"].organisations["kind"]) == {"voluntary"}
    voluntary_here = _organisations_here(store_copy)
    assert len(by["local_leadership"].organisations) == int((voluntary_here["kind"] == "voluntary").sum()) >= 3
    assert by["sense_of_place"].organisations.empty and by["local_leadership"].stories.empty
    assert "the store's taxonomy" in _profile(store_copy).traits.rules_from


# --------------------------------------------------------------------------------------------
# Assets: active ones, through the type's traits
# --------------------------------------------------------------------------------------------


def _expected_asset_counts(store, seed, area_id=FIRTH_PARK, layer="wards") -> dict[str, int]:
    areas = store.read(layer)
    polygon = areas.loc[areas["id"] == area_id].geometry.iloc[0]
    assets = store.read("assets")
    active = assets[assets["status"].fillna("active") == "active"]
    inside = active[shapely.intersects(polygon, active.geometry.to_numpy())]
    supports = {t["id"]: set(t["traits"]) for t in seed["types"]}
    return {trait: sum(trait in supports.get(ty, set()) for ty in inside["type"]) for trait in TRAITS}


def test_firth_park_asset_counts_follow_the_taxonomy(demo_store, seed):
    expected = _expected_asset_counts(demo_store, seed)
    assert expected["organisations_resources"] == 17  # every demo asset supports it (the demo's 6 types)
    by = _by_trait(_profile(demo_store))
    assert list(by) == TRAITS
    for trait in TRAITS:
        assert len(by[trait].assets) == expected[trait], trait
    libraries = set(by["sense_of_place"].assets["name"])
    assert libraries == {"Firth Park Library", "Southey Library"}


def test_only_active_assets_count(store_copy, seed):
    lib = store_copy.read("assets", where={"name": "Firth Park Library"})
    editing.close_asset(store_copy, str(lib["id"].iloc[0]), actor="tester")
    expected = _expected_asset_counts(store_copy, seed)
    by = _by_trait(_profile(store_copy))
    assert len(by["sense_of_place"].assets) == expected["sense_of_place"] == 1
    assert "Firth Park Library" not in set(by["active_citizens"].assets["name"])


def test_rates_and_the_comparison_with_every_ward(demo_store, seed):
    wards = demo_store.read("wards")
    assets = demo_store.read("assets")
    supports = {t["id"]: set(t["traits"]) for t in seed["types"]}
    per_ward = {}
    for w in wards.itertuples():
        inside = assets[shapely.intersects(w.geometry, assets.geometry.to_numpy())]
        n = sum("sense_of_place" in supports[ty] for ty in inside["type"])
        per_ward[w.id] = (n, n * 1000 / w.population)
    here_n, here_rate = per_ward[FIRTH_PARK]
    others = [r for i, (_, r) in per_ward.items() if i != FIRTH_PARK]
    strength = _by_trait(_profile(demo_store))["sense_of_place"]
    assert strength.per_1000 == pytest.approx(here_rate, abs=1e-4)
    total = sum(n for n, _ in per_ward.values())
    assert strength.city_per_1000 == pytest.approx(total * 1000 / wards["population"].sum(), abs=1e-4)
    assert strength.areas_compared == 27
    assert strength.areas_with_fewer == sum(r < here_rate for r in others)
    assert strength.areas_with_more == sum(r > here_rate for r in others)
    assert strength.standing == (
        "more" if strength.areas_with_fewer >= 18 else "fewer" if strength.areas_with_more >= 18 else "about"
    )
    assert strength.in_words.startswith("More than most wards:") and "of the other 27" in strength.in_words


def test_plain_words_never_a_score():
    assert traits._compare(2.0, pd.Series([1.0, 1.0, 1.0, 3.0])) == ("more", 3, 1, 4)
    assert traits._compare(0.5, pd.Series([1.0, 1.0, 1.0, 0.1])) == ("fewer", 1, 3, 4)
    assert traits._compare(1.0, pd.Series([0.5, 2.0, 1.0])) == ("about", 1, 1, 3)
    assert traits._compare(None, pd.Series([1.0]))[0] == "unknown"
    words = traits._in_words(0, 0.0, 0.4, "fewer", 0, 20, 27, "wards")
    assert words.startswith("Fewer than most wards: no asset that supports it is mapped here")
    assert "no population is known" in traits._in_words(3, None, None, "unknown", 0, 0, 27, "wards")
    assert (
        traits._in_words(0, 0.0, 0.0, "none", 0, 0, 27, "wards")
        == "No asset that supports it is mapped in any of the 28 wards yet."
    )
    doc = traits.TraitStrength(
        "t", "T", pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), 1.0, 1.0, "about", 1, 1, 2, "x"
    ).as_dict()
    assert not any("score" in k or "resilien" in k for k in doc)


def test_strengths_come_first(demo_store):
    order = [t.standing for t in _profile(demo_store).traits.strengths_first()]
    rank = {"more": 0, "about": 1, "fewer": 2, "unknown": 3, "none": 4}
    assert [rank[s] for s in order] == sorted(rank[s] for s in order)
    assert order[-1] == "none"  # no demo asset supports local leadership


def test_trait_rates_for_the_explore_shading(demo_store, seed):
    lsoas = demo_store.read("lsoas")
    assets = demo_store.read("assets")
    rates = traits.trait_rates(assets, lsoas, taxonomy=store_taxonomy(demo_store))
    assert list(rates.index) == list(lsoas.index)
    for trait in TRAITS:
        assert rates[trait].sum() == sum(
            trait in {tr for t in seed["types"] if t["id"] == ty for tr in t["traits"]} for ty in assets["type"]
        )
    sample = lsoas.iloc[[0, 50, 200]]
    for idx, area in sample.iterrows():
        inside = assets[shapely.intersects(area.geometry, assets.geometry.to_numpy())]
        n = int(inside["type"].isin(["library", "food_bank"]).sum())  # the demo types supporting active citizens
        assert rates.loc[idx, "active_citizens"] == n
        assert rates.loc[idx, "active_citizens_per_1000"] == pytest.approx(n * 1000 / area["population"])


# --------------------------------------------------------------------------------------------
# Organisations, stories and measures: through the rules, published only
# --------------------------------------------------------------------------------------------


def _organisations_here(store) -> pd.DataFrame:
    links = store.read("organisation_areas")
    links = links[(links["area_id"] == FIRTH_PARK) & (links["boundary_layer"] == "wards")]
    orgs = pd.DataFrame(store.read("organisations").drop(columns="geometry"))
    merged = links[["organisation_id", "themes"]].merge(
        orgs, left_on="organisation_id", right_on="id", suffixes=("_here", "")
    )
    merged["use"] = [h if _themes(h) else o for h, o in zip(merged["themes_here"], merged["themes"], strict=True)]
    return merged.drop_duplicates("id")


def test_examples_appear_under_their_traits(store_copy, seed):
    _import_examples(store_copy)
    by = _by_trait(_profile(store_copy))
    rules = seed["trait_rules"]

    orgs = _organisations_here(store_copy)
    for trait in TRAITS:
        kinds = {k.casefold() for k in rules[trait]["organisation_kinds"]}
        want = {
            o.name
            for o in orgs.itertuples()
            if str(o.kind).casefold() in kinds or _themes(o.use) & set(rules[trait]["themes"])
        }
        assert set(by[trait].organisations["name"]) == want, trait
    names = {t: set(by[t].organisations["name"]) for t in TRAITS}
    paths = "EXAMPLE Friends of Firth Park Paths"  # a residents' group working on green space
    assert {t for t in TRAITS if paths in names[t]} == {"sense_of_place", "active_citizens", "local_leadership"}
    pantry = "EXAMPLE Firth Park Community Pantry"  # voluntary, food and poverty
    assert {t for t in TRAITS if pantry in names[t]} == {"active_citizens", "organisations_resources"}
    why = by["local_leadership"].organisations.set_index("name").loc[paths, "why"]
    assert "kind: residents' group" in why

    stories = store_copy.read("stories")
    for trait in TRAITS:
        want = set()
        for s in stories.itertuples():
            method = str(s.method or "").casefold()
            if _themes(s.themes) & set(rules[trait]["themes"]) or any(
                p in method for p in rules[trait]["story_methods"]
            ):
                want.add(s.title)
        assert set(by[trait].stories["title"]) == want, trait
    supper = "EXAMPLE: A winter supper club grew out of the pantry queue"
    path_days = "EXAMPLE: Path days made the school walk lighter"
    titles = {t: set(by[t].stories["title"]) for t in TRAITS}
    assert {t for t in TRAITS if supper in titles[t]} == {"organisations_resources", "local_leadership"}
    assert {t for t in TRAITS if path_days in titles[t]} == {"sense_of_place", "active_citizens"}
    assert "method: 'volunteer'" in by["active_citizens"].stories.set_index("title").loc[path_days, "why"]

    # measures through their aspiration's theme: food, green space and young people
    measures = {t: len(by[t].measures) for t in TRAITS}
    assert measures == {"sense_of_place": 1, "active_citizens": 1, "organisations_resources": 1, "local_leadership": 0}


def test_hidden_stories_do_not_count(store_copy):
    _import_examples(store_copy)
    before = {t: len(s.stories) for t, s in _by_trait(_profile(store_copy)).items()}
    cara = Principal(sub="cara", name="Cara", role=Role.CONTRIBUTOR)
    community.add_story(
        store_copy, actor=cara, title="Pending volunteers", summary="Not yet approved.", body="",
        boundary_layer="wards", area_id=FIRTH_PARK, themes="community, food, green space, leadership",
        method="volunteer together", date="2025-05-01", source="Cara's group",
    )  # fmt: skip
    assert (store_copy.read("stories")["status"] == "pending").sum() == 1
    after = {t: len(s.stories) for t, s in _by_trait(_profile(store_copy)).items()}
    assert after == before


# --------------------------------------------------------------------------------------------
# Gaps, within reach of what is already here
# --------------------------------------------------------------------------------------------


def test_gaps_list_the_strengths_within_reach(store_copy, seed):
    _import_examples(store_copy)
    prof = _profile(store_copy)
    areas = store_copy.read("wards")
    area = profiles.find_area(areas, "Firth Park")
    assets = analysis.filter_assets(store_copy.read("assets"))
    tax = store_taxonomy(store_copy)
    gaps = traits.gaps_within_reach(
        area,
        areas=areas,
        assets=assets,
        assets_in_area=prof.assets_in_area,
        taxonomy=tax,
        organisations=prof.organisations,
    )
    # independently: types with none inside and none within 800 m of the ward's centroid
    metric = areas.to_crs(schema.METRIC_CRS)
    centre = metric.loc[areas["id"] == FIRTH_PARK].geometry.iloc[0].centroid
    pts = assets.to_crs(schema.METRIC_CRS)
    inside = set(prof.assets_in_area["type"])
    nearest = pts.assign(d=pts.distance(centre)).groupby("type")["d"].min()
    want = [
        t["id"] for t in seed["types"] if t["id"] in nearest.index and t["id"] not in inside and nearest[t["id"]] > 800
    ]
    assert list(gaps["type"]) == want and "food_bank" in want
    food = gaps.set_index("type").loc["food_bank"]
    assert food["distance_m"] == pytest.approx(nearest["food_bank"], abs=1)
    assert food["strengths_nearby"] and all(
        "Library" in s or "GP practice" in s or "Pharmacy" in s or "Dental" in s for s in food["strengths_nearby"]
    )
    assert food["strengths_nearby"][0].startswith(("Firth Park Library", "Southey Library"))  # shares both its traits
    assert any(
        s.startswith("EXAMPLE Firth Park Community Pantry (works here on food") for s in food["organisations_here"]
    )
