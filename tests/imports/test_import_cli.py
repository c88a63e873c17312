"""Imports through the command line, as users run them: every broken or hostile file is refused with
one clear sentence, a non-zero exit and the store's bytes unchanged; good files land whole."""

from __future__ import annotations

import json
import zipfile

import geopandas as gpd
import pytest
from shapely.geometry import Point, Polygon

from geo.store import Store
from tests.helpers import InProcessCLI, run_cli_subprocess, store_digest
from tests.imports import corpus

ENV = {"COMMON_GROUND_ACTOR": "import-test"}


@pytest.fixture
def run(capfd, monkeypatch) -> InProcessCLI:
    """``run(ARGS)``: ``python -m geo ARGS`` in this process, as actor ``import-test``."""
    return InProcessCLI(capfd, monkeypatch, env=ENV)


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


#: Cases whose rows are now refused by the layer's validator (geo.validation), in its words.
VALIDATOR_SAYS = {"no name": "row 1: name is empty; give the asset a name"}


@pytest.mark.parametrize("case", CASES)
def test_hostile_and_broken_files_are_refused(run, case, hostile, store_copy, tmp_path):
    path, extra, expected = hostile[case]
    expected = VALIDATOR_SAYS.get(case, expected)
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


def _import_ok(run, store: Store, path, *extra: str) -> dict:
    proc = run(
        "import",
        str(path),
        "--layer",
        extra[0] if extra and not extra[0].startswith("-") else "assets",
        "--data",
        str(store.path),
        "--json",
        *[e for e in extra if e.startswith("-") or "=" in e or extra.index(e) > 0],
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_csv_lat_lon_with_mapping_and_audit(run, store_copy, tmp_path):
    p = tmp_path / "venues.csv"
    p.write_text(
        "Venue,Kind,lat,lon,Website\nHillsborough Community Hall,community_centre,53.4047,-1.5009,https://example.org\n"
        "Walkley Allotments,allotment,53.3940,-1.5020,\n",
        encoding="utf-8",
    )
    before = _count(store_copy)
    proc = run(
        "import",
        str(p),
        "--layer",
        "assets",
        "--map",
        "name=Venue",
        "--map",
        "type=Kind",
        "--data",
        store_copy.location,
        "--json",
    )
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


def test_csv_easting_northing_postcode_only_and_cp1252(run, store_copy, tmp_path):
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


def test_geojson_shapefile_geopackage_and_kml(run, store_copy, tmp_path):
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
    for args in (
        [str(gj)],
        [str(shp_zip)],
        [str(gpkg), "--source-layer", "venues"],
        [str(kml), "--type", "community_centre"],
    ):
        proc = run("import", *args, "--layer", "assets", "--data", store_copy.location)
        assert proc.returncode == 0, (args, proc.stderr)
    names = set(store_copy.read("assets")["name"])
    assert {"GJ Hall", "Zip Hall", "GPKG Hall", "KML Hall"} <= names
    assert _count(store_copy) == before + 4
    hall = store_copy.read("assets").set_index("name").loc["GPKG Hall"]
    assert abs(hall.geometry.x - -1.47) < 1e-6 and abs(hall.geometry.y - 53.38) < 1e-6  # reprojected from 27700


def test_duplicates_are_skipped_unless_allowed(run, store_copy, tmp_path):
    p = tmp_path / "dup.csv"
    p.write_text("name,type,postcode\nParson Cross Food Bank,food_bank,S5 8NJ\nNew Pantry,food_bank,S5 8NJ\n")
    proc = run("import", str(p), "--layer", "assets", "--data", store_copy.location, "--json")
    doc = json.loads(proc.stdout)
    assert doc["imported"] == 1 and doc["report"]["duplicates_skipped"] == ["Parson Cross Food Bank"]
    p2 = tmp_path / "dup2.csv"
    p2.write_text("name,type,postcode\nParson Cross Food Bank,food_bank,S5 8NJ\n")
    assert run("import", str(p2), "--layer", "assets", "--data", store_copy.location).returncode == 2  # nothing left
    # --force (deprecated) now allows out-of-area points only: the duplicate is still skipped
    assert run("import", str(p2), "--layer", "assets", "--data", store_copy.location, "--force").returncode == 2
    proc = run("import", str(p2), "--layer", "assets", "--data", store_copy.location, "--allow-duplicates", "--json")
    assert json.loads(proc.stdout)["imported"] == 1


def test_unknown_types_mapped_or_added(run, store_copy, tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("name,type,lat,lon\nRepair Cafe One,Repair Cafe,53.38,-1.47\n")
    proc = run(
        "import",
        str(p),
        "--layer",
        "assets",
        "--data",
        store_copy.location,
        "--map-type",
        "Repair Cafe=community_group",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    row = store_copy.read("assets").set_index("name").loc["Repair Cafe One"]
    assert row["type"] == "community_group" and row["category"] == "associations"


def test_dry_run_writes_nothing(run, store_copy, tmp_path):
    p = tmp_path / "a.csv"
    p.write_text(corpus.GOOD_ROWS)
    before = digest(store_copy.location)
    proc = run("import", str(p), "--layer", "assets", "--data", store_copy.location, "--dry-run", "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["report"]["rows_to_import"] == 1
    assert digest(store_copy.location) == before


def test_boundary_import_repairs_invalid_geometry(run, store_copy, tmp_path):
    bowtie = Polygon([(-1.50, 53.38), (-1.49, 53.39), (-1.49, 53.38), (-1.50, 53.39), (-1.50, 53.38)])
    g = gpd.GeoDataFrame(
        {"id": ["nbhd-test-bowtie"], "name": ["Bow Tie"], "population": [100]}, geometry=[bowtie], crs=4326
    )
    p = tmp_path / "nb.geojson"
    g.to_file(p, driver="GeoJSON", engine="pyogrio")
    proc = run("import", str(p), "--layer", "neighbourhoods", "--data", store_copy.location, "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["report"]["repaired_geometries"] == 1
    nb = store_copy.read("neighbourhoods").set_index("id").loc["nbhd-test-bowtie"]
    assert nb.geometry.is_valid


def test_table_layers_import_without_locations(run, store_copy, tmp_path):
    p = tmp_path / "asp.csv"
    p.write_text(
        "boundary_layer,area_id,text,theme,raised_by,raised_on,status\n"
        "wards,E05010868,A warm space open every weekday,community,Firth Park Residents' Group,2025-10-01,open\n"
    )
    proc = run("import", str(p), "--layer", "aspirations", "--data", store_copy.location, "--json")
    assert proc.returncode == 0, proc.stderr
    assert len(store_copy.read("aspirations")) == 1


def test_system_layers_cannot_be_imported_into(run, store_copy, tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("at,by\n1,2\n")
    proc = run("import", str(p), "--layer", "audit_log", "--data", store_copy.location)
    assert proc.returncode == 2 and "cannot be imported into" in proc.stderr


def test_knowledge_imports_check_their_links_and_privacy(run, store_copy, tmp_path):
    before = digest(store_copy.location)
    asp = "boundary_layer,area_id,text,theme,raised_by,raised_on\n"
    cases = [
        ("aspirations", asp + "wards,E99999999,More benches,place,Bench Group,2025-01-15\n",
         "row 1: area_id 'E99999999' is not an area of wards"),
        ("aspirations", asp + "wards,E05010868,More benches,place,jo.bloggs@example.com,2025-01-15\n",
         "row 1: raised_by looks like it holds an email address"),
        ("aspirations", asp + "zones,E05010868,More benches,place,Bench Group,2025-01-15\n",
         "row 1: boundary_layer 'zones' is not one of"),
        ("success_measures", "aspiration_id,measure,horizon,baseline,target,agreed_by,agreed_on\n"
                             "no-such-aspiration,Benches,short,0,10,Bench partnership,2025-02-01\n",
         "row 1: aspiration_id names an unknown aspirations id 'no-such-aspiration'"),
        ("measure_updates", "measure_id,value,recorded_on\nno-such-measure,3,2026-01-01\n",
         "row 1: measure_id names an unknown success_measures id"),
        ("organisation_areas", "organisation_id,boundary_layer,area_id,themes\nno-such-org,wards,E05010868,food\n",
         "row 1: organisation_id names an unknown organisations id"),
        ("aspirations", "boundary_layer,area_id,text,theme,raised_by\nwards,E05010868,More benches,place,Bench Group\n",
         "every row needs raised_on, and there is no raised_on column"),
    ]  # fmt: skip
    for layer, text, expected in cases:
        p = tmp_path / f"{layer}.csv"
        p.write_text(text)
        proc = run("import", str(p), "--layer", layer, "--data", store_copy.location)
        assert proc.returncode == 2 and expected in proc.stderr, (layer, proc.stderr)
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert digest(store_copy.location) == before


def test_importing_measure_values_updates_the_current_value(run, store_copy, tmp_path):
    a = tmp_path / "a.csv"
    a.write_text(
        "id,boundary_layer,area_id,text,theme,raised_by,raised_on\n"
        "asp-1,wards,E05010868,More benches,place,Bench Group,2025-11-01\n"
    )
    m = tmp_path / "m.csv"
    m.write_text(
        "id,aspiration_id,measure,horizon,baseline,target,current,agreed_by,agreed_on\n"
        "m-1,asp-1,Benches installed,short,0,10,0,Bench partnership,2025-12-01\n"
    )
    u = tmp_path / "u.csv"
    u.write_text("measure_id,value,recorded_on\nm-1,4,2026-03-01\nm-1,2,2026-01-01\n")
    for layer, p in (("aspirations", a), ("success_measures", m), ("measure_updates", u)):
        proc = run("import", str(p), "--layer", layer, "--data", store_copy.location)
        assert proc.returncode == 0, (layer, proc.stderr)
    measure = store_copy.read("success_measures").set_index("id").loc["m-1"]
    assert measure["current"] == 4  # the latest recorded value, not the last row of the file


def test_semicolon_and_tab_separated_csv(run, store_copy, tmp_path):
    semi = tmp_path / "semi.csv"
    semi.write_text("name;type;postcode\nSemi Hall;community_centre;S1 2HE\n")
    tab = tmp_path / "tab.csv"
    tab.write_text("name\ttype\tpostcode\nTab Hall\tcommunity_centre\tS1 2HE\n")
    for p in (semi, tab):
        proc = run("import", str(p), "--layer", "assets", "--data", store_copy.location)
        assert proc.returncode == 0, proc.stderr
    assert {"Semi Hall", "Tab Hall"} <= set(store_copy.read("assets")["name"])


def test_unknown_types_added_to_the_taxonomy_on_request(run, store_copy, tmp_path):
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


# ----------------------------------------------------------------------------- one validator
# The editing and knowledge API (which the pages call) and imports check values with the same
# validator (geo.validation): the same value is refused by all of them, with the same sentence.

ASPIRATION = {
    "boundary_layer": "wards", "area_id": "E05010868", "text": "More benches by the shops", "theme": "place",
    "raised_by": "Bench Group", "raised_on": "2025-01-15", "status": "open",
}  # fmt: skip
NOT_A_DATE = "raised_on 'not-a-date' is not a date; write it as YYYY-MM-DD, e.g. 2025-03-14."
BANANA = (
    "status 'banana' is not allowed; choose one of: open, in progress, achieved, closed, pending, rejected, withdrawn."
)


def _cli(capsys, *argv: str) -> tuple[int, str]:
    """``python -m geo ...`` in this process: the exit code and what went to stderr."""
    from geo.cli import main

    capsys.readouterr()
    code = main(list(argv))
    return code, capsys.readouterr().err


def _csv(path, rows: list[dict]):
    import pandas as pd

    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_a_bad_aspiration_is_refused_by_the_api_and_by_imports_with_the_same_sentence(store_copy, tmp_path, capsys):
    from geo import community
    from geo.validation import InvalidValueError

    before = digest(store_copy.location)
    said = []
    for change, sentence in (({"raised_on": "not-a-date"}, NOT_A_DATE), ({"status": "banana"}, BANANA)):
        with pytest.raises(InvalidValueError) as api:
            community.add_aspiration(store_copy, actor="officer@example.org", **{**ASPIRATION, **change})
        assert str(api.value) == sentence
        said.append(str(api.value))
        p = _csv(tmp_path / "aspiration.csv", [{**ASPIRATION, **change}])
        code, err = _cli(capsys, "import", str(p), "--layer", "aspirations", "--data", store_copy.location)
        assert (code, err) == (2, f"error: aspiration.csv was not imported: row 1: {sentence}\n")
    # Both wrong at once: the API stops at the first, the import lists every problem of every row.
    both = {**ASPIRATION, "raised_on": "not-a-date", "status": "banana"}
    with pytest.raises(InvalidValueError, match=NOT_A_DATE):
        community.add_aspiration(store_copy, actor="officer@example.org", **both)
    p = _csv(tmp_path / "both.csv", [both, {**both, "text": "A second row"}])
    code, err = _cli(capsys, "import", str(p), "--layer", "aspirations", "--data", store_copy.location)
    listed = "; ".join(f"row {n}: {s.rstrip('.')}" for n in (1, 2) for s in said)
    assert (code, err) == (2, f"error: both.csv was not imported: {listed}.\n")
    assert digest(store_copy.location) == before


def test_the_same_aspiration_is_refused_by_the_command_in_a_subprocess(store_copy, tmp_path):
    def run(*args):  # smoke test: a real `python -m geo import` process, refused with exit 2
        return run_cli_subprocess(*args, env=ENV)

    p = _csv(tmp_path / "a.csv", [{**ASPIRATION, "raised_on": "not-a-date"}])
    proc = run("import", str(p), "--layer", "aspirations", "--data", store_copy.location)
    assert proc.returncode == 2 and proc.stderr == f"error: a.csv was not imported: row 1: {NOT_A_DATE}\n"


def test_one_margin_around_the_area_for_edits_and_imports(store_copy, tmp_path, capsys):
    from geo import editing
    from geo.store import store_extent
    from geo.validation import AREA_MARGIN_DEG, CoordinatesError

    minx, miny, maxx, maxy = store_extent(store_copy)
    lat = round((miny + maxy) / 2, 4)
    near, far = (
        round(maxx + AREA_MARGIN_DEG / 2, 4),
        round(maxx + AREA_MARGIN_DEG * 2, 4),
    )  # imports used to allow 0.25°
    before = digest(store_copy.location)
    with pytest.raises(CoordinatesError) as edit:
        editing.add_asset(store_copy, actor="ed", name="Far Hall", type_id="community_centre", lon=far, lat=lat)
    assert "is outside this store's area" in str(edit.value)
    p = _csv(tmp_path / "far.csv", [{"name": "Far Hall", "type": "community_centre", "lon": far, "lat": lat}])
    code, err = _cli(capsys, "import", str(p), "--layer", "assets", "--data", store_copy.location)
    assert code == 2 and f"row 1: {str(edit.value).rstrip('.')};" in err
    assert digest(store_copy.location) == before
    # Just inside the margin: both take it.
    editing.add_asset(store_copy, actor="ed", name="Near Hall", type_id="community_centre", lon=near, lat=lat)
    p = _csv(
        tmp_path / "near.csv",
        [{"name": "Near Hall Annexe", "type": "community_centre", "lon": near, "lat": lat + 0.01}],
    )
    code, err = _cli(capsys, "import", str(p), "--layer", "assets", "--data", store_copy.location)
    assert code == 0, err
    assert {"Near Hall", "Near Hall Annexe"} <= set(store_copy.read("assets")["name"])


@pytest.mark.parametrize("url", ["https://example.org/%3Cscript%3Ealert(1)", "https://example.org/a%2522b"])
def test_a_web_address_hiding_markup_is_refused_by_edits_knowledge_and_imports(url, store_copy, tmp_path, capsys):
    from geo import community, editing
    from geo.validation import InvalidValueError

    before = digest(store_copy.location)
    with pytest.raises(InvalidValueError) as edit:
        editing.add_asset(store_copy, actor="ed", name="Hub", type_id="community_centre", lon=-1.47, lat=53.38, url=url)
    sentence = str(edit.value)
    assert "behind percent-encoding" in sentence
    with pytest.raises(InvalidValueError) as org:
        community.add_organisation(store_copy, actor="ed", name="Hub Trust", kind="voluntary", url=url)
    assert str(org.value) == sentence
    for layer, row in (("assets", {"name": "Hub", "type": "community_centre", "lon": -1.47, "lat": 53.38, "url": url}),
                       ("organisations", {"name": "Hub Trust", "kind": "voluntary", "url": url})):  # fmt: skip
        p = _csv(tmp_path / f"{layer}.csv", [row])
        code, err = _cli(capsys, "import", str(p), "--layer", layer, "--data", store_copy.location)
        assert (code, err) == (2, f"error: {layer}.csv was not imported: row 1: {sentence}\n")
    assert digest(store_copy.location) == before


def test_allow_outside_area_takes_points_outside_the_area_but_never_swapped_ones(store_copy, tmp_path, capsys):
    london = _csv(
        tmp_path / "london.csv", [{"name": "Far Away Hall", "type": "community_centre", "lat": 51.5, "lon": -0.12}]
    )
    code, err = _cli(capsys, "import", str(london), "--layer", "assets", "--data", store_copy.location)
    assert code == 2 and "outside this store's area" in err and "--allow-outside-area" in err
    assert "Sheffield" not in err
    code, err = _cli(
        capsys, "import", str(london), "--layer", "assets", "--data", store_copy.location, "--allow-outside-area"
    )
    assert code == 0, err
    swapped = _csv(
        tmp_path / "swapped.csv", [{"name": "Swapped Hall", "type": "community_centre", "lat": -1.47, "lon": 53.38}]
    )
    code, err = _cli(
        capsys, "import", str(swapped), "--layer", "assets", "--data", store_copy.location, "--allow-outside-area"
    )
    assert code == 2 and "row 1: geometry (lon 53.38, lat -1.47) looks swapped" in err
    assert "Swapped Hall" not in set(store_copy.read("assets")["name"])
