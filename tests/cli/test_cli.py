"""The command line: ``geo.cli.main`` in this process (the ``run`` fixture, see ``tests/cli/conftest.py``),
and, as users run it, a real ``python -m geo`` subprocess for a few smoke tests (``run_cli_subprocess``)."""

from __future__ import annotations

import json

from tests.helpers import run_cli_subprocess


def test_info_json(store_copy):
    run = run_cli_subprocess  # smoke test: a real `python -m geo` process (info --json)
    proc = run("info", "--json", "--data", store_copy.location)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # exactly one JSON document
    layers = {layer["name"]: layer for layer in doc["layers"]}
    assert layers["assets"]["features"] == 322 and layers["assets"]["geometry_type"] == "Point"
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
    assert store_copy.location in proc.stdout and "assets" in proc.stdout and "322" in proc.stdout


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
        (["--postcode", "SW1A 1AA"], "not in the postcode table"),
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
    assert set(doc) == {"area", "assets", "organisations", "aspirations", "success_measures", "stories"}
    assert set(doc["area"]) >= {"id", "name", "layer", "population", "imd_decile"}
    assert doc["area"]["id"] == "E05010868"
    assert set(doc["assets"]) >= {"total", "by_type", "by_category", "per_1000", "per_km2", "city_per_1000"}
    assert doc["organisations"] and {"id", "name", "kind"} <= set(doc["organisations"][0])
    lsoa = _json(run, "profile", "--area", "E01007823", "--data", str(demo_path))  # default --boundaries lsoas
    assert lsoa["area"]["layer"] == "lsoas" and lsoa["area"]["imd_decile"] is not None


def test_gaps_json(run, demo_path):
    doc = _json(run, "gaps", "--type", "food_bank", "--within", "1500", "--boundaries", "wards", "--data", str(demo_path))
    assert doc["type"] == "food_bank" and doc["within_m"] == 1500 and doc["boundaries"] == "wards"
    assert all(a["distance_m"] > 1500 for a in doc["areas"])
    assert set(doc["areas"][0]) >= {"id", "name", "population", "distance_m", "score_2sfca"}
    assert doc["population_affected"] == sum(a["population"] for a in doc["areas"])
    assert doc["population_total"] == 589_214
    default = _json(run, "gaps", "--type", "gp_practice", "--data", str(demo_path))
    assert default["boundaries"] == "lsoas" and default["within_m"] == 800


def test_unknown_area_type_or_layer_names_the_choices(run, demo_path):
    proc = run("profile", "--area", "Atlantis", "--boundaries", "wards", "--data", str(demo_path))
    assert proc.returncode == 2 and "No area of wards is called 'Atlantis'" in proc.stderr
    proc = run("gaps", "--type", "castle", "--data", str(demo_path))
    assert proc.returncode == 2 and "Unknown asset type 'castle'" in proc.stderr and "gp_practice" in proc.stderr
    proc = run("gaps", "--type", "gp_practice", "--boundaries", "zones", "--data", str(demo_path))
    assert proc.returncode == 2 and "wards, lsoas, neighbourhoods" in proc.stderr
