"""Imports through the command line, as users run them: every broken or hostile file is refused with
one clear sentence, a non-zero exit and the store's bytes unchanged; good files land whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import geopandas as gpd
import pytest
from shapely.geometry import Point, Polygon

from geo.schema import PROJECT_ROOT
from geo.store import Store
from tests.helpers import store_digest
from tests.imports import corpus


def run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COMMON_GROUND_ACTOR": "import-test"}
    return subprocess.run([sys.executable, "-m", "geo", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=180, env=env)


def digest(path) -> str:
    return store_digest(path)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, demo_path):
    return corpus.build(tmp_path_factory.mktemp("corpus"), demo_path)


CASES = [
    "too big", "too many rows", "empty", "header only", "binary named csv", "zip named gpkg", "text named gpkg",
    "truncated gpkg", "csv named geojson", "unknown extension", "bad encoding", "xy without crs", "swapped lat lon",
    "outside area", "unknown type", "not numbers", "bad postcode", "no name", "zip slip", "absolute path", "symlink",
    "nested zip", "encrypted", "too many members", "zip bomb", "no shp", "no dbf", "no prj", "damaged zip",
    "several layers", "truncated geojson",
]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_hostile_and_broken_files_are_refused(case, hostile, store_copy, tmp_path):
    path, extra, expected = hostile[case]
    before = digest(store_copy.location)
    proc = run("import", str(path), "--layer", "assets", "--data", store_copy.location, *extra)
    assert proc.returncode == 2, (case, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert expected in proc.stderr, (case, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert digest(store_copy.location) == before
    assert not (tmp_path.parent / "evil.shp").exists()


def _count(store: Store, layer: str = "assets") -> int:
    return len(store.read(layer))


def _import_ok(store: Store, path, *extra: str) -> dict:
    proc = run("import", str(path), "--layer", extra[0] if extra and not extra[0].startswith("-") else "assets",
               "--data", str(store.path), "--json", *[e for e in extra if e.startswith("-") or "=" in e or extra.index(e) > 0])
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_csv_lat_lon_with_mapping_and_audit(store_copy, tmp_path):
    p = tmp_path / "venues.csv"
    p.write_text("Venue,Kind,lat,lon,Website\nHillsborough Community Hall,community_centre,53.4047,-1.5009,https://example.org\n"
                 "Walkley Allotments,allotment,53.3940,-1.5020,\n", encoding="utf-8")
    before = _count(store_copy)
    proc = run("import", str(p), "--layer", "assets", "--map", "name=Venue", "--map", "type=Kind", "--data", store_copy.location, "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["imported"] == 2 and len(doc["ids"]) == 2
    assets = store_copy.read("assets")
    assert len(assets) == before + 2
    new = assets[assets["id"].isin(doc["ids"])]
    assert set(new["name"]) == {"Hillsborough Community Hall", "Walkley Allotments"}
    assert set(new["category"]) == {"physical"} and set(new["status"]) == {"active"}
    assert new["created_by"].eq("import-test").all()
    log = store_copy.read("audit_log")
    assert (log["action"] == "import").sum() == 2 and set(log["feature_id"]) >= set(doc["ids"])
    assert store_copy.check() == []


def test_csv_easting_northing_postcode_only_and_cp1252(store_copy, tmp_path):
    en = tmp_path / "en.csv"
    en.write_text("name,type,easting,northing\nBNG Hall,community_centre,435732,387312\n")
    pc = tmp_path / "pc.csv"
    pc.write_text("name,type,postcode\nPostcode Hall,community_centre,s5 8nj\n")
    cp = tmp_path / "cp.csv"
    cp.write_bytes("name,type,lat,lon\nCafé Hall,community_centre,53.39,-1.48\n".encode("cp1252"))
    before = _count(store_copy)
    for p in (en, pc, cp):
        proc = run("import", str(p), "--layer", "assets", "--data", store_copy.location, "--json")
        assert proc.returncode == 0, (p.name, proc.stderr)
    assets = store_copy.read("assets")
    assert len(assets) == before + 3
    hall = assets[assets["name"] == "BNG Hall"].iloc[0]
    assert abs(hall.geometry.x - -1.4643) < 1e-3 and abs(hall.geometry.y - 53.3815) < 1e-3  # S1 1AA's centroid
    assert "Café Hall" in set(assets["name"])  # accents read right from Windows-1252
    proc = run("import", str(cp), "--layer", "assets", "--data", store_copy.location, "--encoding", "nonsense-enc")
    assert proc.returncode == 2 and "cannot be read as nonsense-enc" in proc.stderr


def test_geojson_shapefile_geopackage_and_kml(store_copy, tmp_path):
    g = gpd.GeoDataFrame({"name": ["GJ Hall"], "type": ["community_centre"]}, geometry=[Point(-1.47, 53.38)], crs=4326)
    gj = tmp_path / "a.geojson"
    g.to_file(gj, driver="GeoJSON", engine="pyogrio")
    shp_zip = tmp_path / "b.zip"
    with zipfile.ZipFile(shp_zip, "w") as zf:
        for name, data in corpus.shapefile_members(tmp_path).items():
            zf.writestr(name, data)
    gpkg = tmp_path / "c.gpkg"
    g.assign(name=["GPKG Hall"]).to_crs(27700).to_file(gpkg, layer="venues", engine="pyogrio")
    g.assign(name=["Other"]).to_file(gpkg, layer="other", engine="pyogrio")
    kml = tmp_path / "d.kml"
    g.assign(name=["KML Hall"]).to_file(kml, driver="KML", engine="pyogrio")
    before = _count(store_copy)
    for args in ([str(gj)], [str(shp_zip)], [str(gpkg), "--source-layer", "venues"], [str(kml), "--type", "community_centre"]):
        proc = run("import", *args, "--layer", "assets", "--data", store_copy.location)
        assert proc.returncode == 0, (args, proc.stderr)
    names = set(store_copy.read("assets")["name"])
    assert {"GJ Hall", "Zip Hall", "GPKG Hall", "KML Hall"} <= names
    assert _count(store_copy) == before + 4
    hall = store_copy.read("assets").set_index("name").loc["GPKG Hall"]
    assert abs(hall.geometry.x - -1.47) < 1e-6 and abs(hall.geometry.y - 53.38) < 1e-6  # reprojected from 27700


def test_duplicates_are_skipped_unless_forced(store_copy, tmp_path):
    p = tmp_path / "dup.csv"
    p.write_text("name,type,postcode\nParson Cross Food Bank,food_bank,S5 8NJ\nNew Pantry,food_bank,S5 8NJ\n")
    proc = run("import", str(p), "--layer", "assets", "--data", store_copy.location, "--json")
    doc = json.loads(proc.stdout)
    assert doc["imported"] == 1 and doc["report"]["duplicates_skipped"] == ["Parson Cross Food Bank"]
    p2 = tmp_path / "dup2.csv"
    p2.write_text("name,type,postcode\nParson Cross Food Bank,food_bank,S5 8NJ\n")
    assert run("import", str(p2), "--layer", "assets", "--data", store_copy.location).returncode == 2  # nothing left
    proc = run("import", str(p2), "--layer", "assets", "--data", store_copy.location, "--force", "--json")
    assert json.loads(proc.stdout)["imported"] == 1


def test_unknown_types_mapped_or_added(store_copy, tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("name,type,lat,lon\nRepair Cafe One,Repair Cafe,53.38,-1.47\n")
    proc = run("import", str(p), "--layer", "assets", "--data", store_copy.location, "--map-type", "Repair Cafe=community_group", "--json")
    assert proc.returncode == 0, proc.stderr
    row = store_copy.read("assets").set_index("name").loc["Repair Cafe One"]
    assert row["type"] == "community_group" and row["category"] == "associations"


def test_dry_run_writes_nothing(store_copy, tmp_path):
    p = tmp_path / "a.csv"
    p.write_text(corpus.GOOD_ROWS)
    before = digest(store_copy.location)
    proc = run("import", str(p), "--layer", "assets", "--data", store_copy.location, "--dry-run", "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["report"]["rows_to_import"] == 1
    assert digest(store_copy.location) == before


def test_boundary_import_repairs_invalid_geometry(store_copy, tmp_path):
    bowtie = Polygon([(-1.50, 53.38), (-1.49, 53.39), (-1.49, 53.38), (-1.50, 53.39), (-1.50, 53.38)])
    g = gpd.GeoDataFrame({"id": ["nbhd-test-bowtie"], "name": ["Bow Tie"], "population": [100]}, geometry=[bowtie], crs=4326)
    p = tmp_path / "nb.geojson"
    g.to_file(p, driver="GeoJSON", engine="pyogrio")
    proc = run("import", str(p), "--layer", "neighbourhoods", "--data", store_copy.location, "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["report"]["repaired_geometries"] == 1
    nb = store_copy.read("neighbourhoods").set_index("id").loc["nbhd-test-bowtie"]
    assert nb.geometry.is_valid


def test_table_layers_import_without_locations(store_copy, tmp_path):
    p = tmp_path / "asp.csv"
    p.write_text("boundary_layer,area_id,text,theme,raised_by,raised_on,status\n"
                 "wards,E05010868,A warm space open every weekday,community,Firth Park Residents' Group,2026-10-01,open\n")
    proc = run("import", str(p), "--layer", "aspirations", "--data", store_copy.location, "--json")
    assert proc.returncode == 0, proc.stderr
    assert len(store_copy.read("aspirations")) == 1


def test_system_layers_cannot_be_imported_into(store_copy, tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("at,by\n1,2\n")
    proc = run("import", str(p), "--layer", "audit_log", "--data", store_copy.location)
    assert proc.returncode == 2 and "cannot be imported into" in proc.stderr


def test_knowledge_imports_check_their_links_and_privacy(store_copy, tmp_path):
    before = digest(store_copy.location)
    cases = [
        ("aspirations", "boundary_layer,area_id,text,theme,raised_by\nwards,E99999999,More benches,place,Bench Group\n",
         "is not an area of wards"),
        ("aspirations", "boundary_layer,area_id,text,theme,raised_by\nwards,E05010868,More benches,place,jo.bloggs@example.com\n",
         "holds an email address"),
        ("aspirations", "boundary_layer,area_id,text,theme,raised_by\nzones,E05010868,More benches,place,Bench Group\n",
         "'zones' is not one of"),
        ("success_measures", "aspiration_id,measure,horizon,baseline,target\nno-such-aspiration,Benches,short,0,10\n",
         "unknown aspirations id"),
        ("measure_updates", "measure_id,value,recorded_on\nno-such-measure,3,2026-01-01\n", "unknown success_measures id"),
        ("organisation_areas", "organisation_id,boundary_layer,area_id,themes\nno-such-org,wards,E05010868,food\n",
         "unknown organisations id"),
    ]
    for layer, text, expected in cases:
        p = tmp_path / f"{layer}.csv"
        p.write_text(text)
        proc = run("import", str(p), "--layer", layer, "--data", store_copy.location)
        assert proc.returncode == 2 and expected in proc.stderr, (layer, proc.stderr)
    assert digest(store_copy.location) == before


def test_importing_measure_values_updates_the_current_value(store_copy, tmp_path):
    a = tmp_path / "a.csv"
    a.write_text("id,boundary_layer,area_id,text,theme,raised_by\nasp-1,wards,E05010868,More benches,place,Bench Group\n")
    m = tmp_path / "m.csv"
    m.write_text("id,aspiration_id,measure,horizon,baseline,target,current\nm-1,asp-1,Benches installed,short,0,10,0\n")
    u = tmp_path / "u.csv"
    u.write_text("measure_id,value,recorded_on\nm-1,4,2026-03-01\nm-1,2,2026-01-01\n")
    for layer, p in (("aspirations", a), ("success_measures", m), ("measure_updates", u)):
        proc = run("import", str(p), "--layer", layer, "--data", store_copy.location)
        assert proc.returncode == 0, (layer, proc.stderr)
    measure = store_copy.read("success_measures").set_index("id").loc["m-1"]
    assert measure["current"] == 4  # the latest recorded value, not the last row of the file


def test_semicolon_and_tab_separated_csv(store_copy, tmp_path):
    semi = tmp_path / "semi.csv"
    semi.write_text("name;type;postcode\nSemi Hall;community_centre;S1 2HE\n")
    tab = tmp_path / "tab.csv"
    tab.write_text("name\ttype\tpostcode\nTab Hall\tcommunity_centre\tS1 2HE\n")
    for p in (semi, tab):
        proc = run("import", str(p), "--layer", "assets", "--data", store_copy.location)
        assert proc.returncode == 0, proc.stderr
    assert {"Semi Hall", "Tab Hall"} <= set(store_copy.read("assets")["name"])


def test_unknown_types_added_to_the_taxonomy_on_request(store_copy, tmp_path):
    from geo.schema import TAXONOMY_FILE, load_taxonomy
    from geo.store import store_taxonomy

    seed = TAXONOMY_FILE.read_bytes()
    p = tmp_path / "t.csv"
    p.write_text("name,type,lat,lon\nHillsborough Repair Cafe,Repair Cafe,53.404,-1.50\n")
    proc = run("import", str(p), "--layer", "assets", "--data", store_copy.location, "--add-types", "associations",
               "--actor", "Hillsborough Forum", "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["report"]["new_types"] == ["repair_cafe"]
    tax = store_taxonomy(store_copy)  # the type lives in the store, with the rest of the data
    assert tax.type("repair_cafe").category == "associations"
    row = store_copy.read("assets").set_index("name").loc["Hillsborough Repair Cafe"]
    assert row["type"] == "repair_cafe" and row["category"] == "associations"
    added = store_copy.read_audit().query("layer == 'taxonomy' and action == 'create'")
    assert added["feature_id"].tolist() == ["repair_cafe"] and set(added["by"]) == {"Hillsborough Forum"}
    assert TAXONOMY_FILE.read_bytes() == seed  # the seed file is untouched
    assert "repair_cafe" not in load_taxonomy(TAXONOMY_FILE).types  # the shipped file is untouched
