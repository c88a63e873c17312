"""The command line: ``geo.cli.main`` in this process (the ``run`` fixture, see ``tests/cli/conftest.py``),
and, as users run it, a real ``python -m geo`` subprocess for a few smoke tests (``run_cli_subprocess``)."""

from __future__ import annotations

import json

from tests.helpers import DEMO_ASSETS, run_cli_subprocess


def test_info_json(store_copy):
    run = run_cli_subprocess  # smoke test: a real `python -m geo` process (info --json)
    proc = run("info", "--json", "--data", store_copy.location)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # exactly one JSON document
    layers = {layer["name"]: layer for layer in doc["layers"]}
    assert layers["assets"]["features"] == DEMO_ASSETS and layers["assets"]["geometry_type"] == "Point"
    assert layers["wards"]["features"] == 28 and layers["lsoas"]["features"] == 345
    assert layers["neighbourhoods"]["features"] == 147
    assert layers["wards"]["crs"] == "EPSG:4326"
    minx, miny, maxx, maxy = layers["assets"]["bounds"]
    assert -1.7 < minx < maxx < -1.3 and 53.3 < miny < maxy < 53.5
    assert layers["postcodes"]["geometry_type"] is None and layers["postcodes"]["features"] == 14_875
    for name in ("aspirations", "success_measures", "stories", "audit_log"):
        assert layers[name]["features"] == 0


def test_info_text_and_environment_variable(run, store_copy):
    proc = run("info", env={"COMMON_GROUND_DATA": store_copy.location})
    assert proc.returncode == 0, proc.stderr
    assert store_copy.location in proc.stdout and "assets" in proc.stdout and str(DEMO_ASSETS) in proc.stdout


def test_missing_store_is_one_sentence_and_nonzero(run, tmp_path):
    proc = run("info", "--json", "--data", str(tmp_path / "nope.gpkg"))
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "does not exist" in lines[0] and "Traceback" not in proc.stderr


def test_not_a_geopackage(run, tmp_path):
    bad = tmp_path / "x.gpkg"
    bad.write_text("name,lat\n")
    proc = run("info", "--data", str(bad))
    assert proc.returncode == 2 and "not a GeoPackage" in proc.stderr


def test_usage_errors(run, store_copy):
    assert run().returncode == 2
    proc = run("frobnicate")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr and "Traceback" not in proc.stderr


def _json(run, *args: str) -> dict:
    proc = run(*args, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_near_postcode_json(demo_path):
    run = run_cli_subprocess  # smoke test: a real `python -m geo` process (near --json)
    doc = _json(run, "near", "--postcode", "s5 8nj", "--data", str(demo_path))
    assert doc["origin"]["postcode"] == "S5 8NJ" and doc["within_m"] == 800
    assert set(doc["origin"]) == {"lon", "lat", "postcode"}
    first = doc["nearest"][0]
    assert set(first) == {"type", "category", "id", "name", "distance_m", "walk_minutes_estimate"}
    assert first["name"] == "Parson Cross Food Bank"
    assert [r["distance_m"] for r in doc["nearest"]] == sorted(r["distance_m"] for r in doc["nearest"])
    beyond = {r["type"] for r in doc["nearest"] if r["distance_m"] > 800}
    assert set(doc["missing"]) == beyond


def test_near_lonlat_and_within(run, demo_path):
    doc = _json(run, "near", "--lonlat", "-1.4701,53.3811", "--within", "300", "--data", str(demo_path))
    assert doc["origin"]["postcode"] is None and doc["within_m"] == 300
    assert set(doc["missing"]) == {r["type"] for r in doc["nearest"] if r["distance_m"] > 300}


def test_near_errors(run, demo_path):
    for args, text in [
        (["--postcode", "ZZ9 9ZZ"], "not in the postcode table"),
        (["--postcode", "banana"], "not a UK postcode"),
        (["--lonlat", "53.38,-1.47"], "longitude first"),
        (["--lonlat", "x,y"], "LON,LAT"),
        (["--postcode", "S1 2HE", "--within", "-1"], "positive number of metres"),
    ]:
        proc = run("near", *args, "--data", str(demo_path))
        assert proc.returncode == 2, args
        assert text in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    proc = run("near", "--data", str(demo_path))
    assert proc.returncode == 2 and "one of the arguments --postcode --lonlat is required" in proc.stderr


def test_profile_json(run, demo_path):
    doc = _json(run, "profile", "--area", "Firth Park", "--boundaries", "wards", "--data", str(demo_path))
    assert set(doc) == {
        "area", "assets", "traits", "traits_rules_from", "organisations", "aspirations", "success_measures", "stories"
    }  # fmt: skip
    assert set(doc["area"]) >= {"id", "name", "layer", "population", "imd_decile"}
    assert doc["area"]["id"] == "E05010868"
    assert set(doc["assets"]) >= {"total", "by_type", "by_category", "per_1000", "per_km2", "city_per_1000"}
    assert doc["organisations"] and {"id", "name", "kind"} <= set(doc["organisations"][0])
    lsoa = _json(run, "profile", "--area", "E01007823", "--data", str(demo_path))  # default --boundaries lsoas
    assert lsoa["area"]["layer"] == "lsoas" and lsoa["area"]["imd_decile"] is not None


TRAIT_KEYS = {"trait", "label", "assets", "organisations", "stories", "per_1000", "city_per_1000"}


def test_profile_lists_the_four_traits(run, demo_path):
    """Each trait's asset count is the active assets in the area whose type supports it (issue 15)."""
    import shapely

    from geo.schema import TAXONOMY_FILE
    from geo.store import open_store

    doc = _json(run, "profile", "--area", "Firth Park", "--boundaries", "wards", "--data", str(demo_path))
    seed = json.loads(TAXONOMY_FILE.read_text(encoding="utf-8"))
    assert [t["trait"] for t in doc["traits"]] == list(seed["traits"])
    assert [t["label"] for t in doc["traits"]] == list(seed["traits"].values())
    store = open_store(demo_path)
    wards = store.read("wards")
    ward = wards.loc[wards["id"] == "E05010868"].iloc[0]
    assets = store.read("assets")
    inside = shapely.intersects(ward.geometry, assets.geometry.to_numpy())
    active = assets[(assets["status"] == "active").to_numpy() & inside]
    supports = {t["id"]: t["traits"] for t in seed["types"]}
    for entry in doc["traits"]:
        assert set(entry) >= TRAIT_KEYS
        assert entry["assets"] == sum(entry["trait"] in supports[t] for t in active["type"]), entry["trait"]
        assert entry["per_1000"] == round(entry["assets"] * 1000 / ward["population"], 4)
        assert isinstance(entry["city_per_1000"], float) and entry["in_words"]
        assert not any("score" in k for k in entry)
    assert doc["traits"][0]["assets"] == 2 and doc["traits"][2]["assets"] == 17  # two libraries; every demo type
    assert doc["traits_rules_from"] == "the store's taxonomy"  # the demo store holds the rules
    text = run("profile", "--area", "Firth Park", "--boundaries", "wards", "--data", str(demo_path)).stdout
    assert "what is good about this place" in text and "More than most wards" in text


def test_profile_traits_after_importing_the_examples(run, store_copy):
    for layer in ("organisations", "organisation_areas", "aspirations", "success_measures", "measure_updates"):
        proc = run("import", f"data/examples/{layer}.csv", "--layer", layer, "--data", store_copy.location, "--json")
        assert proc.returncode == 0, (layer, proc.stderr)
    proc = run("import", "data/examples/stories.csv", "--layer", "stories", "--data", store_copy.location)
    assert proc.returncode == 0, proc.stderr
    doc = _json(run, "profile", "--area", "Firth Park", "--boundaries", "wards", "--data", store_copy.location)
    by = {t["trait"]: t for t in doc["traits"]}
    # organisations: the 14 demo ones here support organisations and resources by their kinds (NHS,
    # business, council), and Sheffield City Council (its libraries) sense of place by its culture theme;
    # the four examples by their kinds and themes (see trait_rules in data/taxonomy.json)
    assert {t: by[t]["organisations"] for t in by} == {
        "sense_of_place": 3, "active_citizens": 4, "organisations_resources": 17, "local_leadership": 1
    }  # fmt: skip
    assert {t: by[t]["stories"] for t in by} == {
        "sense_of_place": 1, "active_citizens": 1, "organisations_resources": 1, "local_leadership": 1
    }  # fmt: skip
    assert by["local_leadership"]["assets"] == 0 and by["local_leadership"]["organisations"] == 1


def test_gaps_json(run, demo_path):
    doc = _json(
        run, "gaps", "--type", "food_bank", "--within", "1500", "--boundaries", "wards", "--data", str(demo_path)
    )
    assert doc["type"] == "food_bank" and doc["within_m"] == 1500 and doc["boundaries"] == "wards"
    assert all(a["distance_m"] > 1500 for a in doc["areas"])
    assert set(doc["areas"][0]) >= {"id", "name", "population", "distance_m", "score_2sfca"}
    assert doc["population_affected"] == sum(a["population_beyond"] for a in doc["areas"])
    assert doc["population_basis"] == "population points"  # the demo's 345 LSOA centroids, mid-2015
    assert doc["population_total"] == 569_177
    default = _json(run, "gaps", "--type", "gp_practice", "--data", str(demo_path))
    assert default["boundaries"] == "lsoas" and default["within_m"] == 800


def test_unknown_area_type_or_layer_names_the_choices(run, demo_path):
    proc = run("profile", "--area", "Atlantis", "--boundaries", "wards", "--data", str(demo_path))
    assert proc.returncode == 2 and "No area of wards is called 'Atlantis'" in proc.stderr
    proc = run("gaps", "--type", "castle", "--data", str(demo_path))
    assert proc.returncode == 2 and "Unknown asset type 'castle'" in proc.stderr and "gp_practice" in proc.stderr
    proc = run("gaps", "--type", "gp_practice", "--boundaries", "zones", "--data", str(demo_path))
    assert proc.returncode == 2 and "wards, lsoas, neighbourhoods" in proc.stderr
