"""Exports for planners: British National Grid (EPSG:27700) as well as EPSG:4326, and file names that
say what a file holds (``geo.io.naming``)."""

from __future__ import annotations

import datetime as dt
import json
import zipfile

import geopandas as gpd
import numpy as np
import pyogrio
import pytest

from geo.errors import ExportError
from geo.io import exports, naming
from tests.helpers import InProcessCLI

DAY = dt.date(2026, 11, 29)
FIRTH_PARK = {"area": "Firth Park", "boundaries": "wards"}


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Firth Park", "firth-park"),
        ("Beauchief & Greenhill", "beauchief-and-greenhill"),
        ("Bürngreave  (East)", "burngreave-east"),
        ("../../etc/passwd", "etc-passwd"),
        ("C:\\Windows\\con", "c-windows-con"),
        ("con", "con-area"),
        ("😀 ///", "area"),
        (None, "area"),
        (".hidden", "hidden"),
        ("Sheffield 008C (Stannington)", "sheffield-008c-stannington"),
    ],
)
def test_slugify_is_safe_on_every_file_system(text, slug):
    assert naming.slugify(text) == slug


def test_long_names_are_cut_at_a_hyphen():
    slug = naming.slugify("Upper " + "very " * 40 + "long ward")
    assert len(slug) <= naming.MAX_SLUG and not slug.endswith("-") and slug.startswith("upper-very")


def test_file_names_say_what_the_file_holds():
    name = naming.export_filename
    assert name("Firth Park", layer="wards", what="assets", ext=".gpkg", today=DAY) == (
        "firth-park_ward_assets_2026-11-29.gpkg"
    )
    assert name(None, layer="wards", what="assets", ext="csv", today=DAY) == "assets_2026-11-29.csv"
    assert name("Burngreave", layer="neighbourhoods", what="assets", ext=".zip", crs="EPSG:27700",
                type_id="gp_practice", today=DAY) == "burngreave_neighbourhood_assets_gp-practice_epsg27700_2026-11-29.zip"  # fmt: skip
    assert name("City", layer="wards", what="report", ext=".pdf", crs="EPSG:4326", today=DAY) == (
        "city_ward_report_2026-11-29.pdf"
    )


def test_export_bytes_names_the_download_after_its_content(demo_store):
    _, name = exports.export_bytes(demo_store, "assets", fmt="shp", crs="27700", today=DAY, **FIRTH_PARK)
    assert name == "firth-park_ward_assets_epsg27700_2026-11-29.zip"
    _, name = exports.export_bytes(demo_store, "assets", fmt="csv", type_id="library", today=DAY)
    assert name == "assets_library_2026-11-29.csv"


@pytest.mark.parametrize("given", ["EPSG:27700", "epsg:27700", "27700", " EPSG: 27700 "])
def test_crs_is_read_as_people_write_it(given):
    assert exports.check_crs(given) == "EPSG:27700"


def test_other_crs_and_formats_fixed_to_degrees_are_refused(demo_store, tmp_path):
    with pytest.raises(ExportError, match="Unknown export CRS 'EPSG:3857'; choose one of: EPSG:4326, EPSG:27700"):
        exports.export_layer(demo_store, "assets", fmt="gpkg", out_path=tmp_path / "a.gpkg", crs="EPSG:3857")
    for fmt in ("geojson", "kml", "html"):
        out = tmp_path / f"a{exports.EXTENSIONS[fmt]}"
        with pytest.raises(ExportError, match="always in EPSG:4326; for EPSG:27700 choose one of: gpkg, shp, csv"):
            exports.export_layer(demo_store, "assets", fmt=fmt, out_path=out, crs="EPSG:27700")
        assert not out.exists()


def _same_points(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame, *, tolerance_m: float = 0.01) -> None:
    a, b = a.sort_values("id").reset_index(drop=True), b.sort_values("id").reset_index(drop=True)
    assert list(a["id"]) == list(b["id"])
    assert np.allclose(a.geometry.x, b.geometry.x, atol=tolerance_m)
    assert np.allclose(a.geometry.y, b.geometry.y, atol=tolerance_m)


def test_gpkg_in_british_national_grid(demo_store, tmp_path):
    out = tmp_path / "bng.gpkg"
    result = exports.export_layer(demo_store, "assets", fmt="gpkg", out_path=out, crs="EPSG:27700", **FIRTH_PARK)
    assert result.crs == "EPSG:27700" and result.as_dict()["crs"] == "EPSG:27700"
    assert any("EPSG:27700" in n for n in result.notes)
    for layer in ("assets", "wards"):  # the area packaged with its assets is in the same CRS
        assert pyogrio.read_info(out, layer=layer)["crs"] == "EPSG:27700"
    back = gpd.read_file(out, layer="assets")
    want = exports.select_features(demo_store, "assets", **FIRTH_PARK).frame.to_crs(27700)
    _same_points(back, want)
    assert 400_000 < back.geometry.x.min() < 460_000  # metres east of the grid's origin, Sheffield


def test_shapefile_in_british_national_grid(demo_store, tmp_path):
    out = tmp_path / "bng.zip"
    exports.export_layer(demo_store, "assets", fmt="shp", out_path=out, crs="EPSG:27700", **FIRTH_PARK)
    with zipfile.ZipFile(out) as zf:
        prj = zf.read("assets.prj").decode()
    assert "British_National_Grid" in prj or "OSGB" in prj
    back = exports.read_shapefile_zip(out)
    assert back.crs.to_epsg() == 27700
    _same_points(back, exports.select_features(demo_store, "assets", **FIRTH_PARK).frame.to_crs(27700))


def test_csv_in_british_national_grid_has_eastings_and_northings(demo_store, tmp_path):
    out = tmp_path / "bng.csv"
    exports.export_layer(demo_store, "assets", fmt="csv", out_path=out, crs="27700", **FIRTH_PARK)
    header = out.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert "easting" in header and "northing" in header and "lon" not in header
    back = exports.read_csv_export(out)
    assert back.crs.to_epsg() == 27700
    _same_points(back, exports.select_features(demo_store, "assets", **FIRTH_PARK).frame.to_crs(27700))


def test_cli_export_crs(capfd, monkeypatch, demo_path, tmp_path):
    run = InProcessCLI(capfd, monkeypatch)
    out = tmp_path / "fp.gpkg"
    proc = run("export", "--layer", "assets", "--format", "gpkg", "--area", "Firth Park", "--boundaries", "wards",
               "--crs", "EPSG:27700", "--out", str(out), "--data", str(demo_path), "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["crs"] == "EPSG:27700"
    assert pyogrio.read_info(out, layer="assets")["crs"] == "EPSG:27700"
    proc = run("export", "--layer", "assets", "--format", "kml", "--crs", "EPSG:27700", "--out",
               str(tmp_path / "a.kml"), "--data", str(demo_path))  # fmt: skip
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and "always in EPSG:4326" in proc.stderr
    assert not (tmp_path / "a.kml").exists()
