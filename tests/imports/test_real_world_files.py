"""Files as other tools make them (Google My Maps, ArcGIS, QGIS, GDAL): issue 12, in-process through main(argv)."""

from __future__ import annotations

import json
import sqlite3
import warnings
import zipfile

import geopandas as gpd
import pytest
from shapely.geometry import Point

from geo.cli import main
from tests.helpers import store_digest


def _import(store, path, *extra: str, capsys) -> tuple[int, dict | None, str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(
            ["import", str(path), "--layer", "assets", "--data", str(store.path), "--actor", "test", "--json", *extra]
        )
    out, err = capsys.readouterr()
    assert not [str(w.message) for w in caught], "library warnings escaped"
    return code, (json.loads(out) if code == 0 else None), err


def _columns(store, table: str = "assets") -> set[str]:
    con = sqlite3.connect(store.path)
    try:
        return {r[1] for r in con.execute(f'PRAGMA table_info("{table}")')}
    finally:
        con.close()


def _z_m(store) -> tuple[int, int]:
    con = sqlite3.connect(store.path)
    try:
        return con.execute("SELECT z, m FROM gpkg_geometry_columns WHERE table_name = 'assets'").fetchone()
    finally:
        con.close()


PLACEMARK = """<Placemark><name>{name}</name><description>{desc}</description>
<Point><coordinates>{lon},{lat},0</coordinates></Point></Placemark>"""


def my_maps_kml(path):
    """Three folders, as Google My Maps exports a map's layers (with 3D coordinates)."""
    folders = {
        "Food banks": [("Burngreave Food Bank", -1.4581, 53.3945), ("Firth Park Pantry", -1.4512, 53.4123)],
        "Libraries": [("Walkley Library", -1.4923, 53.3901)],
        "Parks": [
            ("Weston Park", -1.4895, 53.3827),
            ("Crookes Valley Park", -1.4941, 53.3846),
            ("Meersbrook Park", -1.4742, 53.3534),
        ],
    }
    body = "".join(
        f"<Folder><name>{folder}</name>"
        + "".join(PLACEMARK.format(name=n, desc="", lon=x, lat=y) for n, x, y in rows)
        + "</Folder>"
        for folder, rows in folders.items()
    )
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
                    f"<name>Community map</name>{body}</Document></kml>", encoding="utf-8")  # fmt: skip
    return path, folders


def test_a_my_maps_kml_with_three_folders_imports_every_placemark(gpkg_copy, tmp_path, capsys):
    path, folders = my_maps_kml(tmp_path / "community map.kml")
    before = len(gpkg_copy.read("assets"))
    code, doc, err = _import(gpkg_copy, path, capsys=capsys)
    assert code == 2 and "Food banks" in err and "--map-type" in err  # folder names are the types: map them
    code, doc, err = _import(gpkg_copy, path, "--map-type", "Food banks=food_bank", "--map-type", "Libraries=library",
                             "--map-type", "Parks=park", capsys=capsys)  # fmt: skip
    assert code == 0, err
    assert doc["imported"] == 6 and doc["report"]["rows_read"] == 6
    assets = gpkg_copy.read("assets")
    assert len(assets) == before + 6
    new = assets[assets["id"].isin(doc["ids"])].set_index("name")
    for folder, rows in folders.items():
        for name, _, _ in rows:
            assert new.loc[name, "source_layer"] == folder
    assert new.loc["Walkley Library", "type"] == "library" and new.loc["Weston Park", "type"] == "park"
    notes = " ".join(doc["report"]["notes"])
    assert "3 layers read" in notes and "heights (Z) were dropped" in notes


def test_3d_kml_and_geojson_keep_the_store_2d_without_kml_housekeeping_columns(gpkg_copy, tmp_path, capsys):
    kml = tmp_path / "hall.kml"
    kml.write_text('<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>KML Hall</name>'
                   "<visibility>1</visibility><Point><extrude>1</extrude><altitudeMode>absolute</altitudeMode>"
                   "<coordinates>-1.47,53.38,120</coordinates></Point></Placemark></Document></kml>")  # fmt: skip
    gj = tmp_path / "hall.geojson"
    gj.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "GJ Hall", "type": "community_centre"},
         "geometry": {"type": "Point", "coordinates": [-1.471, 53.381, 95.5]}}]}))  # fmt: skip
    for path, extra in ((kml, ["--type", "community_centre"]), (gj, [])):
        code, doc, err = _import(gpkg_copy, path, *extra, capsys=capsys)
        assert code == 0, err
        assert any("heights (Z) were dropped" in n for n in doc["report"]["notes"]), doc["report"]
    assert _z_m(gpkg_copy) == (0, 0)
    cols = _columns(gpkg_copy)
    assert not cols & {
        "tessellate",
        "extrude",
        "visibility",
        "altitudeMode",
        "altitudemode",
        "drawOrder",
        "begin",
        "end",
        "icon",
    }
    assets = gpkg_copy.read("assets")
    assert not assets.geometry.has_z.any()
    assert {"KML Hall", "GJ Hall"} <= set(assets["name"])


def test_extra_columns_are_left_out_unless_mapped_or_kept(gpkg_copy, tmp_path, capsys):
    p = tmp_path / "extra.csv"
    p.write_text("name,type,lat,lon,Ward Code,Capacity\nExtra Hall,community_centre,53.38,-1.47,E05010862,120\n")
    code, doc, err = _import(gpkg_copy, p, capsys=capsys)
    assert code == 0, err
    assert not _columns(gpkg_copy) & {"ward_code", "capacity"}
    assert any("Ward Code, Capacity" in n and "--keep-extra" in n for n in doc["report"]["notes"])
    p2 = tmp_path / "extra2.csv"
    p2.write_text("name,type,lat,lon,Capacity\nKept Hall,community_centre,53.385,-1.475,80\n")
    code, doc, err = _import(gpkg_copy, p2, "--keep-extra", capsys=capsys)
    assert code == 0, err
    assert "capacity" in _columns(gpkg_copy)


def test_csv_with_a_wkt_column_imports_with_its_crs_stated(gpkg_copy, tmp_path, capsys):
    p = tmp_path / "wkt.csv"
    p.write_text(
        'name,type,WKT\nWKT Hall,community_centre,"POINT (435732 387312)"\nWKT Hub,community_centre,"POINT Z (435800 387400 12)"\n'
    )
    before = store_digest(gpkg_copy)
    code, _, err = _import(gpkg_copy, p, capsys=capsys)
    assert code == 2 and "WKT" in err and "--crs" in err and len(err.strip().splitlines()) == 1
    assert store_digest(gpkg_copy) == before
    code, doc, err = _import(gpkg_copy, p, "--crs", "EPSG:27700", capsys=capsys)
    assert code == 0, err
    assert doc["imported"] == 2
    hall = gpkg_copy.read("assets").set_index("name").loc["WKT Hall"]
    assert abs(hall.geometry.x - -1.4643) < 1e-3 and abs(hall.geometry.y - 53.3815) < 1e-3
    for name in ("geometry", "geom", "the_geom"):
        q = tmp_path / f"{name}.csv"
        q.write_text(f'name,type,{name}\n{name} Hall,community_centre,"POINT (-1.46 53.39)"\n')
        code, doc, err = _import(gpkg_copy, q, "--crs", "EPSG:4326", capsys=capsys)
        assert code == 0, (name, err)


def test_integer_ids_and_fields_keep_their_type(gpkg_copy, tmp_path, capsys):
    g = gpd.GeoDataFrame(
        {
            "Id": [101, 102],
            "name": ["Int Hall", "Int Hub"],
            "type": ["community_centre"] * 2,
            "seats": [40, 1234567890123],
        },
        geometry=[Point(-1.47, 53.38), Point(-1.48, 53.39)],
        crs=4326,
    )
    folder = tmp_path / "shp"
    folder.mkdir()
    g.to_file(folder / "halls.shp", engine="pyogrio")
    z = tmp_path / "halls.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f.name)
    code, doc, err = _import(gpkg_copy, z, "--keep-extra", capsys=capsys)
    assert code == 0, err
    assert sorted(doc["ids"]) == ["101", "102"]
    con = sqlite3.connect(gpkg_copy.path)
    try:
        rows = dict(con.execute("SELECT id, seats FROM assets WHERE id IN ('101', '102')").fetchall())
        kinds = {r[1]: r[2] for r in con.execute('PRAGMA table_info("assets")')}
    finally:
        con.close()
    assert rows == {"101": 40, "102": 1234567890123}
    assert kinds["seats"].upper().startswith("INT")


def test_list_and_object_properties_are_stored_as_json_text(gpkg_copy, tmp_path, capsys):
    p = tmp_path / "tags.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Tag Hall", "type": "community_centre", "tags": ["a", "b"], "meta": {"k": 1}},
         "geometry": {"type": "Point", "coordinates": [-1.47, 53.38]}}]}))  # fmt: skip
    code, doc, err = _import(gpkg_copy, p, "--keep-extra", capsys=capsys)
    assert code == 0, err
    row = gpkg_copy.read("assets").set_index("name").loc["Tag Hall"]
    assert json.loads(row["tags"]) == ["a", "b"] and json.loads(row["meta"]) == {"k": 1}


@pytest.mark.parametrize(
    "filename", ["!halls.geojson", "my halls.geojson", "salle café ünïcode.geojson", "a!b c/ß!.geojson"]
)
def test_paths_with_bangs_spaces_and_non_ascii_characters(filename, gpkg_copy, tmp_path, capsys):
    p = tmp_path / filename
    p.parent.mkdir(parents=True, exist_ok=True)
    frame = gpd.GeoDataFrame(
        {"name": ["Path Hall"], "type": ["community_centre"]}, geometry=[Point(-1.47, 53.38)], crs=4326
    )
    p.write_text(frame.to_json(), encoding="utf-8")  # not through GDAL, which cannot write to such a path either
    code, doc, err = _import(gpkg_copy, p, capsys=capsys)
    assert code == 0, err
    assert doc["imported"] == 1


def test_empty_files_tin_and_curves_are_refused_plainly_and_parks_import_with_outlines(gpkg_copy, tmp_path, capsys):
    empty = tmp_path / "empty.kml"
    empty.write_text('<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document></Document></kml>')
    tin = tmp_path / "tin.csv"
    tin.write_text('WKT,name\n"TIN (((0 0 0, 0 0 1, 0 1 0, 0 0 0)))",a\n')
    curve = tmp_path / "curve.csv"
    curve.write_text('WKT,name\n"CIRCULARSTRING (0 0, 1 1, 2 0)",a\n')
    park = tmp_path / "park.geojson"
    park.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Park", "type": "park"},
         "geometry": {"type": "Polygon", "coordinates": [[[-1.47, 53.38], [-1.46, 53.38], [-1.46, 53.39], [-1.47, 53.38]]]}}]}))  # fmt: skip
    before = store_digest(gpkg_copy)
    cases = ((empty, "holds no features"), (tin, "triangles (TIN)"), (curve, "curves"))
    for path, words in cases:
        code, _, err = _import(gpkg_copy, path, "--crs", "EPSG:4326", capsys=capsys)
        assert code == 2, (path.name, err)
        assert words in err and len(err.strip().splitlines()) == 1, err
        assert "out of bounds" not in err and "WKB" not in err and "Exception" not in err
    assert "Segmentize" in err  # what to do with curves
    assert store_digest(gpkg_copy) == before
    # a park as a polygon is an asset with an outline (issue 12, item 4), no longer a refusal
    code, doc, err = _import(gpkg_copy, park, capsys=capsys)
    assert code == 0, err
    assert any("outlines" in n for n in doc["report"]["notes"])
    asset = gpkg_copy.get("assets", doc["ids"][0])
    outline = gpkg_copy.get("asset_outlines", doc["ids"][0])
    assert asset["geometry"].geom_type == "Point" and outline["geometry"].geom_type == "MultiPolygon"
    assert outline["geometry"].contains(asset["geometry"])


def test_a_geopackage_without_an_application_id_is_read_with_a_note(gpkg_copy, tmp_path, capsys):
    p = tmp_path / "plain.gpkg"
    gpd.GeoDataFrame(
        {"name": ["Plain Hall"], "type": ["community_centre"]}, geometry=[Point(-1.47, 53.38)], crs=4326
    ).to_file(p, layer="halls", engine="pyogrio")
    con = sqlite3.connect(p)
    con.execute("PRAGMA application_id = 0")
    con.commit()
    con.close()
    code, doc, err = _import(gpkg_copy, p, capsys=capsys)
    assert code == 0, err
    assert any("application id" in n for n in doc["report"]["notes"]), doc["report"]


def test_several_geopackage_layers_all_at_once_keep_their_layer(gpkg_copy, tmp_path, capsys):
    p = tmp_path / "two.gpkg"
    g = gpd.GeoDataFrame({"name": ["One Hall"], "type": ["community_centre"]}, geometry=[Point(-1.47, 53.38)], crs=4326)
    g.to_file(p, layer="halls", engine="pyogrio")
    g.assign(name=["Two Park"], type=["park"]).to_file(p, layer="parks", engine="pyogrio")
    code, _, err = _import(gpkg_copy, p, capsys=capsys)
    assert code == 2 and "halls, parks" in err and "--source-layer" in err
    code, doc, err = _import(gpkg_copy, p, "--source-layer", "*", capsys=capsys)
    assert code == 0, err
    new = gpkg_copy.read("assets").set_index("name")
    assert new.loc["One Hall", "source_layer"] == "halls" and new.loc["Two Park", "source_layer"] == "parks"
