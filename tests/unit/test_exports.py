"""Exports: every format reads back to the same features; QGIS styles in the GeoPackage; filters;
hostile text stays text; writes are atomic."""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import fiona
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point

from geo import schema
from geo.errors import AreaNotFoundError, CommonGroundError, LayerNotFoundError, TaxonomyError
from geo.io import exports
from geo.io.exports import ExportError
from geo.web import maps
from tests.helpers import DEMO_ASSETS

HOSTILE_IMG = "<img src=x onerror=alert(1)>"
HOSTILE_JINJA = "{{ 7*7 }}"
HOSTILE_FORMULA = '=HYPERLINK("http://x.invalid","click")'
HOSTILE_DESCRIPTION = "<b>bold</b> & $[name] </description><script>alert(2)</script>"
FIRTH_PARK_ASSETS = 17
TOLERANCE_DEG = 1e-6


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _read_back(fmt: str, path: Path, layer: str, engine: str = "pyogrio") -> gpd.GeoDataFrame:
    """Read an export the way a user's tool would (per engine), with the documented undo steps."""
    if fmt == "gpkg":
        return gpd.read_file(path, layer=layer, engine=engine)
    if fmt == "geojson":
        return gpd.read_file(path, engine=engine)
    if fmt == "shp":
        frame = gpd.read_file(f"zip://{path}", engine=engine)
        with zipfile.ZipFile(path) as zf:
            rows = list(csv.DictReader(io.StringIO(zf.read("fields.csv").decode("utf-8"))))
        return frame.rename(columns={r["shapefile_field"]: r["column"] for r in rows})
    if fmt == "csv":
        return exports.read_csv_export(path)
    if fmt == "kml":
        return exports.read_kml_export(path)
    raise AssertionError(fmt)


def _assert_same_features(got: gpd.GeoDataFrame, want: gpd.GeoDataFrame, *, points: bool = True) -> None:
    assert len(got) == len(want)
    got = got.set_index(got["id"].astype(str))
    want = want.set_index(want["id"].astype(str))
    assert set(got.index) == set(want.index)
    got = got.loc[want.index]
    assert got["name"].astype(str).tolist() == want["name"].astype(str).tolist()
    if points:
        located = want.geometry.notna().to_numpy()
        assert np.allclose(
            got.geometry.x.to_numpy()[located], want.geometry.x.to_numpy()[located], atol=TOLERANCE_DEG, rtol=0
        )
        assert np.allclose(
            got.geometry.y.to_numpy()[located], want.geometry.y.to_numpy()[located], atol=TOLERANCE_DEG, rtol=0
        )
    else:
        for g, w in zip(got.geometry, want.geometry, strict=True):
            assert g.symmetric_difference(w).area < 1e-9


def _hostile_store(store):
    """Put hostile names and descriptions on the first assets of a private store copy."""
    ids = store.read("assets")["id"]
    with store.transaction(actor="tests") as tx:
        tx.update("assets", ids[0], {"name": HOSTILE_IMG, "description": HOSTILE_DESCRIPTION})
        tx.update("assets", ids[1], {"name": HOSTILE_JINJA})
        tx.update("assets", ids[2], {"name": HOSTILE_FORMULA})
    return store.read("assets")


def _no_partials(folder: Path) -> None:
    leftovers = [p.name for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".partial")]
    assert leftovers == []


# --------------------------------------------------------------------------------------------
# every format reads back to the same features
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp", "csv", "kml"])
def test_every_format_reimports_to_the_same_assets(fmt, demo_store, demo_assets, tmp_path):
    out = tmp_path / f"assets{exports.EXTENSIONS[fmt]}"
    result = exports.export_layer(demo_store, "assets", fmt=fmt, out_path=out)
    assert result.path == out and out.is_file() and result.features == len(demo_assets) == result.layers["assets"]
    _assert_same_features(_read_back(fmt, out, "assets"), demo_assets)
    _no_partials(tmp_path)


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp"])
def test_fiona_engine_reads_the_same(fmt, demo_store, demo_assets, tmp_path):
    out = tmp_path / f"assets{exports.EXTENSIONS[fmt]}"
    exports.export_layer(demo_store, "assets", fmt=fmt, out_path=out)
    _assert_same_features(_read_back(fmt, out, "assets", engine="fiona"), demo_assets)


def test_kml_reads_with_fiona_and_has_names_and_descriptions(demo_store, demo_assets, tmp_path, monkeypatch):
    out = tmp_path / "assets.kml"
    exports.export_layer(demo_store, "assets", fmt="kml", out_path=out)
    monkeypatch.setitem(fiona.drvsupport.supported_drivers, "KML", "r")
    with fiona.open(out, driver="KML") as src:
        feats = list(src)
    assert len(feats) == DEMO_ASSETS
    # fiona's own GDAL reads KML names and descriptions only (not ExtendedData): match on those
    got = sorted((f.properties["Name"], f.properties["Description"], *f.geometry.coordinates[:2]) for f in feats)
    want = sorted(
        zip(
            demo_assets["name"], demo_assets["description"], demo_assets.geometry.x, demo_assets.geometry.y, strict=True
        )
    )
    for (gn, gd, gx, gy), (wn, wd, wx, wy) in zip(got, want, strict=True):
        # names and descriptions are HTML in a KML (viewers render them): the text is their unescaped value
        assert html.unescape(gn) == wn and html.unescape(gd) == wd
        assert abs(gx - wx) <= TOLERANCE_DEG and abs(gy - wy) <= TOLERANCE_DEG
    root = ET.parse(out).getroot()  # well-formed XML
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    assert len(root.findall(".//k:Placemark/k:name", ns)) == DEMO_ASSETS
    assert len(root.findall(".//k:Placemark/k:description", ns)) == DEMO_ASSETS


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp", "kml"])
def test_boundary_layer_reimports(fmt, demo_store, demo_wards, tmp_path):
    out = tmp_path / f"wards{exports.EXTENSIONS[fmt]}"
    result = exports.export_layer(demo_store, "wards", fmt=fmt, out_path=out)
    assert result.features == 28
    _assert_same_features(_read_back(fmt, out, "wards"), demo_wards, points=False)


def test_csv_of_polygons_holds_attributes_only(demo_store, tmp_path):
    out = tmp_path / "wards.csv"
    result = exports.export_layer(demo_store, "wards", fmt="csv", out_path=out)
    back = exports.read_csv_export(out)
    assert isinstance(back, pd.DataFrame) and not isinstance(back, gpd.GeoDataFrame)
    assert len(back) == 28 and "lon" not in back.columns
    assert any("attributes only" in n for n in result.notes)


def test_points_without_a_location_export_with_empty_coordinates(demo_store, tmp_path):
    orgs = demo_store.read("organisations")
    missing = int(orgs.geometry.isna().sum())
    assert missing > 0
    out = tmp_path / "orgs.csv"
    exports.export_layer(demo_store, "organisations", fmt="csv", out_path=out)
    back = exports.read_csv_export(out)
    assert len(back) == len(orgs) and int(back.geometry.isna().sum()) == missing
    _assert_same_features(back, orgs)
    gj = tmp_path / "orgs.geojson"
    exports.export_layer(demo_store, "organisations", fmt="geojson", out_path=gj)
    assert len(gpd.read_file(gj)) == len(orgs)


# --------------------------------------------------------------------------------------------
# GeoPackage: several layers and QGIS styles
# --------------------------------------------------------------------------------------------


def _styles(path: Path) -> pd.DataFrame:
    with sqlite3.connect(path) as con:
        return pd.read_sql("SELECT * FROM layer_styles", con)


def _qml(text: str) -> ET.Element:
    assert text.startswith("<!DOCTYPE qgis")
    return ET.fromstring(text)


def test_gpkg_has_a_qgis_default_style_for_each_layer(demo_store, taxonomy, tmp_path):
    out = tmp_path / "firth-park.gpkg"
    result = exports.export_layer(demo_store, "assets", fmt="gpkg", out_path=out, area="Firth Park", boundaries="wards")
    assert result.layers == {"assets": FIRTH_PARK_ASSETS, "wards": 1}
    assert {str(n) for n, _ in pyogrio.list_layers(out)} == {"assets", "wards", "layer_styles"}
    with sqlite3.connect(out) as con:
        contents = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
        declared = con.execute("SELECT sql FROM sqlite_master WHERE name = 'layer_styles'").fetchone()[0]
    assert contents == {"assets": "features", "wards": "features", "layer_styles": "attributes"}
    for column in ("f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName", "styleQML",
                   "styleSLD", "useAsDefault", "description", "owner", "ui", "update_time"):  # fmt: skip
        assert f'"{column}"' in declared
    assert '"useAsDefault" BOOLEAN' in declared and '"update_time" DATETIME' in declared
    styles = _styles(out).set_index("f_table_name")
    assert set(styles.index) == {"assets", "wards"}
    for layer, row in styles.iterrows():
        # what QGIS matches when it loads a GeoPackage layer's default style
        assert row["f_table_schema"] == "" and row["f_table_catalog"] == ""
        assert row["f_geometry_column"] == pyogrio.read_info(out, layer=layer)["geometry_name"]
        assert row["useAsDefault"] == 1 and row["styleName"] == layer
        ET.fromstring(row["styleSLD"].split("?>", 1)[1])  # the SLD parses too

    assets_qml = _qml(styles.loc["assets", "styleQML"])
    renderer = assets_qml.find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == "type"
    assert assets_qml.findtext("layerGeometryType") == "0"
    symbols = {s.get("name"): s for s in renderer.find("symbols").findall("symbol")}
    categories = renderer.find("categories").findall("category")
    by_value = {c.get("value"): c for c in categories}
    assert list(by_value) == list(taxonomy.types)  # every type, in taxonomy order
    for t in taxonomy.types.values():
        cat = by_value[t.id]
        assert cat.get("label") == t.label and cat.get("render") == "true"
        symbol = symbols[cat.get("symbol")]
        assert symbol.get("type") == "marker"
        layer_el = symbol.find("layer")
        assert layer_el.get("class") == "SimpleMarker"
        rgb = ",".join(str(int(t.colour[i : i + 2], 16)) for i in (1, 3, 5))
        props = {o.get("name"): o.get("value") for o in layer_el.find("Option").findall("Option")}
        assert props["color"] == f"{rgb},255"
        assert {p.get("k"): p.get("v") for p in layer_el.findall("prop")} == props

    wards_qml = _qml(styles.loc["wards", "styleQML"])
    renderer = wards_qml.find("renderer-v2")
    assert renderer.get("type") == "singleSymbol" and wards_qml.findtext("layerGeometryType") == "2"
    layer_el = renderer.find("symbols/symbol/layer")
    assert layer_el.get("class") == "SimpleFill"
    props = {o.get("name"): o.get("value") for o in layer_el.find("Option").findall("Option")}
    assert props["outline_style"] == "solid" and props["outline_color"] == "68,68,68,255"
    assert props["style"] == "solid" and float(props["outline_width"]) > 0


def test_gpkg_packages_the_whole_boundary_layer_without_an_area(demo_store, tmp_path):
    out = tmp_path / "all.gpkg"
    result = exports.export_layer(demo_store, "assets", fmt="gpkg", out_path=out, boundaries="neighbourhoods")
    assert result.layers == {"assets": DEMO_ASSETS, "neighbourhoods": 147}
    assert set(_styles(out)["f_table_name"]) == {"assets", "neighbourhoods"}


def test_gpkg_style_greys_types_missing_from_the_taxonomy(demo_assets, taxonomy):
    odd = demo_assets.iloc[:3].copy()
    odd["type"] = ["warm_space", "warm_space", "library"]
    style = exports.style_for_layer("assets", odd, taxonomy=taxonomy)
    assert style.classes[-1] == ("warm_space", "warm_space", exports.UNKNOWN_TYPE_COLOUR)
    assert len(style.classes) == len(taxonomy.types) + 1


def test_gpkg_labels_are_escaped_in_the_qml(taxonomy):
    style = exports.LayerStyle(layer="assets", geometry="point", column="type",
                               classes=(('a"<&>', "Fish & <Chips> \"shop\"", "#123456"),))  # fmt: skip
    root = _qml(style.qml())
    cat = root.find("renderer-v2/categories/category")
    assert cat.get("value") == 'a"<&>' and cat.get("label") == 'Fish & <Chips> "shop"'


def test_write_gpkg_keeps_tables_and_layer_names(demo_store, tmp_path, taxonomy):
    table = demo_store.read("organisation_areas")
    out = tmp_path / "x.gpkg"
    counts = exports.write_gpkg({"organisation_areas": table}, out, taxonomy=taxonomy)
    assert counts == {"organisation_areas": len(table)}
    assert len(pyogrio.read_dataframe(out, layer="organisation_areas")) == len(table)
    assert "layer_styles" not in {str(n) for n, _ in pyogrio.list_layers(out)}  # no style for a table
    with pytest.raises(ExportError, match="layer_styles"):
        exports.write_gpkg({"layer_styles": table}, tmp_path / "y.gpkg")


# --------------------------------------------------------------------------------------------
# Shapefile
# --------------------------------------------------------------------------------------------


def test_shapefile_field_names_rule():
    cols = ["id", "description", "description_long", "descript_1", "Name", "NAME", "naïve col", "", "pct_over_65"]
    names = exports.shapefile_field_names(cols)
    assert names == exports.shapefile_field_names(cols)  # deterministic
    assert list(names) == cols
    assert all(len(v) <= 10 and re.fullmatch(r"[0-9A-Za-z_]+", v) for v in names.values())
    assert len({v.lower() for v in names.values()}) == len(cols)  # unique, ignoring case
    assert names["id"] == "id" and names["Name"] == "Name"
    assert names["descript_1"] == "descript_1"  # a name that fits is never moved by a long one
    assert names["description"] == "descriptio"
    assert names["description_long"] == "descript_2"
    assert names["NAME"] == "NAME_1"
    assert names["naïve col"] == "na_ve_col" and names[""] == "field"
    assert names["pct_over_65"] == "pct_over_6"


def test_shapefile_zip_parts_mapping_and_readme(demo_store, demo_assets, tmp_path):
    out = tmp_path / "assets.zip"
    result = exports.export_layer(demo_store, "assets", fmt="shp", out_path=out)
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        assert {
            "assets.shp",
            "assets.shx",
            "assets.dbf",
            "assets.prj",
            "assets.cpg",
            "fields.csv",
            "README.txt",
        } == names
        assert zf.read("assets.cpg") == b"UTF-8"
        assert b"WGS_1984" in zf.read("assets.prj")
        rows = list(csv.DictReader(io.StringIO(zf.read("fields.csv").decode("utf-8"))))
        readme = zf.read("README.txt").decode("utf-8")
    mapping = {r["column"]: r["shapefile_field"] for r in rows}
    assert mapping == result.field_names
    assert mapping["opening_hours"] == "opening_ho" and mapping["description"] == "descriptio"
    assert "opening_hours       ->  opening_ho" in readme and "UTF-8" in readme
    back = exports.read_shapefile_zip(out)
    assert {"opening_hours", "description", "organisation_id"} <= set(back.columns)
    _assert_same_features(back, demo_assets)


def test_shapefile_cuts_long_text_at_a_character_boundary(tmp_path):
    frame = gpd.GeoDataFrame(
        {"id": ["a", "b"], "name": ["x", "y"], "description": ["é" * 200, "short"]},
        geometry=[Point(-1.5, 53.4), Point(-1.4, 53.3)],
        crs="EPSG:4326",
    )
    out = tmp_path / "x.zip"
    exports.write_shapefile_zip(frame, out, layer_name="things")
    back = exports.read_shapefile_zip(out)
    cut = back.loc[back["id"] == "a", "description"].iloc[0]
    assert cut == "é" * 127 and len(cut.encode("utf-8")) <= 254
    with zipfile.ZipFile(out) as zf:
        assert "cut in: description" in zf.read("README.txt").decode("utf-8")


def test_shapefile_zip_is_byte_for_byte_repeatable(demo_assets, tmp_path):
    a = exports.shapefile_zip_bytes(demo_assets, layer_name="assets")
    b = exports.shapefile_zip_bytes(demo_assets, layer_name="assets")
    assert a == b


def test_shapefile_needs_a_zip_name(demo_store, tmp_path):
    with pytest.raises(ExportError, match=r"assets\.zip"):
        exports.export_layer(demo_store, "assets", fmt="shp", out_path=tmp_path / "assets.shp")
    assert not (tmp_path / "assets.shp").exists()


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------


def test_csv_defuses_formulas_in_every_text_column_and_read_back_restores_them(demo_assets):
    frame = demo_assets.iloc[:2].copy()
    frame.loc[frame.index[0], "name"] = HOSTILE_FORMULA
    frame.loc[frame.index[0], "public_contact"] = "=cmd|' /C calc'!A0"  # an extra column (pandas 'str' dtype)
    frame.loc[frame.index[1], "name"] = "'=already quoted"
    raw = exports.csv_bytes(frame).decode("utf-8-sig")
    cells = list(csv.reader(io.StringIO(raw)))
    header, first, second = cells[0], cells[1], cells[2]
    assert first[header.index("name")] == "'" + HOSTILE_FORMULA
    assert first[header.index("public_contact")] == "'=cmd|' /C calc'!A0"
    assert second[header.index("name")] == "''=already quoted"  # quoted again, so reading back can undo it
    assert not any(c[:1] in "=+-@" for row in cells[1:] for c in row if c and not re.fullmatch(r"-?[\d.]+", c))
    back = exports.read_csv_export(raw.encode("utf-8-sig"))
    assert back["name"].tolist() == [HOSTILE_FORMULA, "'=already quoted"]
    assert back["public_contact"].iloc[0] == "=cmd|' /C calc'!A0"


# --------------------------------------------------------------------------------------------
# filters
# --------------------------------------------------------------------------------------------


def test_area_filter_matches_the_area_profile(demo_store, demo_wards, tmp_path):
    out = tmp_path / "fp.geojson"
    result = exports.export_layer(
        demo_store, "assets", fmt="geojson", out_path=out, area="firth park", boundaries="wards"
    )
    assert result.features == FIRTH_PARK_ASSETS
    assert result.area == {"layer": "wards", "id": "E05010868", "name": "Firth Park"}
    back = gpd.read_file(out)
    ward = demo_wards.loc[demo_wards["name"] == "Firth Park"].geometry.iloc[0]
    assert len(back) == FIRTH_PARK_ASSETS and back.intersects(ward).all()
    # the same area by id
    by_id = exports.export_layer(
        demo_store, "assets", fmt="csv", out_path=tmp_path / "fp.csv", area="E05010868", boundaries="wards"
    )
    assert by_id.features == FIRTH_PARK_ASSETS


def test_type_filter(demo_store, demo_assets, tmp_path):
    out = tmp_path / "food.geojson"
    result = exports.export_layer(demo_store, "assets", fmt="geojson", out_path=out, type_id="food_bank")
    want = int((demo_assets["type"] == "food_bank").sum())
    assert result.features == want == 8 and result.type_id == "food_bank"
    assert set(gpd.read_file(out)["type"]) == {"food_bank"}


def test_area_and_type_together(demo_store, demo_assets, demo_wards, tmp_path):
    result = exports.export_layer(
        demo_store,
        "assets",
        fmt="csv",
        out_path=tmp_path / "x.csv",
        area="Firth Park",
        boundaries="wards",
        type_id="pharmacy",
    )
    ward = demo_wards.loc[demo_wards["name"] == "Firth Park"].geometry.iloc[0]
    want = demo_assets[(demo_assets["type"] == "pharmacy") & demo_assets.intersects(ward)]
    assert result.features == len(want) > 0


def test_polygons_filtered_by_area_use_a_point_inside_each(demo_store, tmp_path):
    result = exports.export_layer(
        demo_store, "lsoas", fmt="geojson", out_path=tmp_path / "l.geojson", area="Firth Park", boundaries="wards"
    )
    lsoas = gpd.read_file(tmp_path / "l.geojson")
    assert 5 <= result.features == len(lsoas) < 30


def test_filter_that_matches_nothing_says_so_and_writes_nothing(demo_store, tmp_path):
    out = tmp_path / "none.gpkg"
    with pytest.raises(ExportError, match="matched nothing") as err:
        exports.export_layer(demo_store, "assets", fmt="gpkg", out_path=out, area="Firth Park", boundaries="wards",
                             type_id="recycling_centre")  # fmt: skip
    assert "Firth Park" in str(err.value) and "recycling_centre" in str(err.value)
    assert not out.exists()
    _no_partials(tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"fmt": "xlsx"}, ExportError, "gpkg, geojson, shp, csv, kml, html"),
        ({"fmt": "csv", "area": "Atlantis"}, AreaNotFoundError, "No area of lsoas is called 'Atlantis'"),
        ({"fmt": "csv", "type_id": "spaceport"}, TaxonomyError, "Unknown asset type 'spaceport'"),
        ({"fmt": "csv", "boundaries": "counties", "area": "x"}, LayerNotFoundError, "wards, lsoas, neighbourhoods"),
        ({"fmt": "csv", "statuses": ("secret",)}, ExportError, "active, closed, pending"),
        ({"fmt": "html", "tiles": "google"}, ExportError, "OpenStreetMap"),
    ],
)
def test_bad_arguments_are_one_clear_sentence(kwargs, error, words, demo_store, tmp_path):
    out = tmp_path / "out.file"
    with pytest.raises(error) as err:
        exports.export_layer(demo_store, "assets", out_path=out, **kwargs)
    message = str(err.value)
    assert words in message and message.endswith(".") and "\n" not in message
    assert isinstance(err.value, CommonGroundError)
    assert not out.exists()


def test_unknown_and_internal_layers(demo_store, tmp_path):
    with pytest.raises(LayerNotFoundError, match="choose one of: wards"):
        exports.export_layer(demo_store, "castles", fmt="csv", out_path=tmp_path / "x.csv")
    with pytest.raises(ExportError, match="internal"):
        exports.export_layer(demo_store, "audit_log", fmt="csv", out_path=tmp_path / "x.csv")


def test_tables_export_as_csv_or_gpkg_only(demo_store, tmp_path):
    result = exports.export_layer(demo_store, "organisation_areas", fmt="csv", out_path=tmp_path / "oa.csv")
    assert result.features == len(demo_store.read("organisation_areas")) > 0
    with pytest.raises(ExportError, match="csv or gpkg"):
        exports.export_layer(demo_store, "organisation_areas", fmt="kml", out_path=tmp_path / "oa.kml")
    with pytest.raises(ExportError, match="matched nothing"):
        exports.export_layer(demo_store, "aspirations", fmt="csv", out_path=tmp_path / "asp.csv")


def test_status_filter_and_people_columns(store_copy, tmp_path):
    ids = store_copy.read("assets")["id"]
    with store_copy.transaction(actor="tests") as tx:
        tx.remove("assets", ids[0])
        tx.update("assets", ids[1], {"contributed_by": "someone@example.org"})
    default = exports.export_layer(store_copy, "assets", fmt="csv", out_path=tmp_path / "a.csv")
    assert default.features == DEMO_ASSETS - 1 and default.statuses == ("active",)
    back = exports.read_csv_export(tmp_path / "a.csv")
    assert not set(exports.PEOPLE_COLUMNS) & set(back.columns)
    everything = exports.export_layer(
        store_copy, "assets", fmt="csv", out_path=tmp_path / "b.csv", statuses=None, include_contributors=True
    )
    assert everything.features == DEMO_ASSETS
    back = exports.read_csv_export(tmp_path / "b.csv")
    assert {c for c in exports.PEOPLE_COLUMNS if c != "recorded_by"} <= set(back.columns)  # (a measure values column)
    assert "someone@example.org" in set(back["contributed_by"].dropna())


# --------------------------------------------------------------------------------------------
# hostile text
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp", "csv", "kml"])
def test_hostile_names_round_trip_as_text(fmt, store_copy, tmp_path):
    assets = _hostile_store(store_copy)
    out = tmp_path / f"h{exports.EXTENSIONS[fmt]}"
    exports.export_layer(store_copy, "assets", fmt=fmt, out_path=out)
    back = _read_back(fmt, out, "assets")
    _assert_same_features(back, assets)
    names = set(back["name"])
    assert {HOSTILE_IMG, HOSTILE_JINJA, HOSTILE_FORMULA} <= names
    desc = back.set_index("id").loc[assets["id"].iloc[0], "description"]
    assert desc == HOSTILE_DESCRIPTION


def test_kml_escapes_names_and_descriptions_as_html(store_copy, tmp_path):
    _hostile_store(store_copy)
    out = tmp_path / "h.kml"
    exports.export_layer(store_copy, "assets", fmt="kml", out_path=out)
    raw = out.read_text(encoding="utf-8")
    assert "<img src=x" not in raw and "<script>" not in raw
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    placemarks = ET.parse(out).getroot().findall(".//k:Placemark", ns)
    # names are HTML in KML viewers too: the XML holds them escaped, and unescaping gives the text
    by_name = {html.unescape(p.findtext("k:name", namespaces=ns)): p for p in placemarks}
    assert HOSTILE_IMG in by_name and HOSTILE_JINJA in by_name
    assert by_name[HOSTILE_IMG].findtext("k:name", namespaces=ns) == "&lt;img src=x onerror=alert(1)&gt;"
    assert "{" not in by_name[HOSTILE_JINJA].findtext("k:name", namespaces=ns)
    description = by_name[HOSTILE_IMG].findtext("k:description", namespaces=ns)
    # a KML viewer renders the description as HTML: it must show, not run, the markup
    assert "<" not in description and ">" not in description and "$[" not in description
    assert description.startswith("&lt;b&gt;bold&lt;/b&gt; &amp; &#36;[name]")


def test_html_map_shows_hostile_names_as_text(store_copy, tmp_path):
    assets = _hostile_store(store_copy)
    out = tmp_path / "map.html"
    result = exports.export_layer(store_copy, "assets", fmt="html", out_path=out, tiles="none", area="Firth Park",
                                  boundaries="wards")  # fmt: skip
    page = out.read_text(encoding="utf-8")
    assert "<img src=x" not in page and HOSTILE_JINJA not in page and "<script>alert" not in page
    names = [n for p in maps.payload_points(page) for n in maps.decode_points(p)[2]]
    assert len(names) == result.features == FIRTH_PARK_ASSETS
    # the whole city: the hostile names are in the payload as data and decode back to the same text
    out_all = tmp_path / "all.html"
    exports.export_layer(store_copy, "assets", fmt="html", out_path=out_all, tiles="none")
    page = out_all.read_text(encoding="utf-8")
    assert "<img src=x" not in page and HOSTILE_JINJA not in page and "<script>alert" not in page
    names = [n for p in maps.payload_points(page) for n in maps.decode_points(p)[2]]
    assert len(names) == len(assets) == DEMO_ASSETS
    assert {HOSTILE_IMG, HOSTILE_JINJA, HOSTILE_FORMULA} <= set(names)
    assert "tile.openstreetmap.org" not in page  # tiles="none": the page needs no network


def test_html_map_of_a_boundary_layer(demo_store, tmp_path):
    out = tmp_path / "wards.html"
    exports.export_layer(demo_store, "wards", fmt="html", out_path=out, tiles="none")
    page = out.read_text(encoding="utf-8")
    assert "Firth Park" in page and page.lstrip().lower().startswith("<!doctype html>")


def test_html_map_frames_the_area(demo_store, tmp_path):
    out = tmp_path / "fp.html"
    exports.export_layer(
        demo_store, "assets", fmt="html", out_path=out, area="Firth Park", boundaries="wards", tiles="none"
    )
    page = out.read_text(encoding="utf-8")
    lon, lat, names = maps.decode_points(maps.payload_points(page)[0])
    assert len(names) == FIRTH_PARK_ASSETS
    assert "Firth Park" in page and "Burngreave" not in page  # only the chosen ward is drawn


# --------------------------------------------------------------------------------------------
# atomic writes and output paths
# --------------------------------------------------------------------------------------------


def test_a_failed_write_leaves_no_partial_file_and_keeps_the_old_one(demo_store, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    from geo.io.exports import gpkg

    monkeypatch.setattr(gpkg, "write_layer_styles", boom)  # fails after the layers are written
    fresh = tmp_path / "fresh.gpkg"
    with pytest.raises(RuntimeError, match="disk full"):
        exports.export_layer(demo_store, "assets", fmt="gpkg", out_path=fresh)
    assert not fresh.exists()
    old = tmp_path / "old.gpkg"
    old.write_bytes(b"previous export")
    with pytest.raises(RuntimeError):
        exports.export_layer(demo_store, "assets", fmt="gpkg", out_path=old)
    assert old.read_bytes() == b"previous export"
    _no_partials(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.gpkg"]


def test_export_replaces_an_existing_file(demo_store, tmp_path):
    out = tmp_path / "a.geojson"
    out.write_text("old")
    exports.export_layer(demo_store, "assets", fmt="geojson", out_path=out, type_id="library")
    assert len(json.loads(out.read_text())["features"]) == 30


def test_output_path_checks(gpkg_copy, tmp_path):
    store_copy = gpkg_copy
    with pytest.raises(ExportError, match="data store itself"):
        exports.export_layer(store_copy, "assets", fmt="gpkg", out_path=store_copy.path)
    with pytest.raises(ExportError, match="does not exist"):
        exports.export_layer(store_copy, "assets", fmt="csv", out_path=tmp_path / "nope" / "a.csv")
    with pytest.raises(ExportError, match="is a folder"):
        exports.export_layer(store_copy, "assets", fmt="csv", out_path=tmp_path)
    assert store_copy.check() == []


def test_bytes_helpers_match_the_files(demo_assets, taxonomy, tmp_path):
    data = exports.gpkg_bytes({"assets": demo_assets}, taxonomy=taxonomy)
    assert data[:16] == b"SQLite format 3\x00"
    kml = exports.kml_bytes(demo_assets.iloc[:3], layer_name="assets")
    assert kml.startswith(b"<?xml") and b"<Placemark" in kml


def test_the_shipped_demo_is_untouched(demo_path):
    assert schema.DEMO_GPKG == demo_path
    with sqlite3.connect(f"file:{demo_path}?mode=ro", uri=True) as con:
        names = {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}
    assert "layer_styles" not in names


_QGIS_SCRIPT = """
import json, sys
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
out = {}
for name in sys.argv[2:]:
    layer = QgsVectorLayer(sys.argv[1] + "|layername=" + name, name, "ogr")
    message, ok = layer.loadDefaultStyle()
    renderer = layer.renderer()
    info = {"valid": layer.isValid(), "loaded": ok, "message": message, "renderer": renderer.type()}
    if renderer.type() == "categorizedSymbol":
        info["attr"] = renderer.classAttribute()
        info["categories"] = [[c.value(), c.label(), c.symbol().color().name()] for c in renderer.categories()]
    else:
        info["colour"] = renderer.symbol().symbolLayer(0).properties().get("outline_color")
    out[name] = info
print(json.dumps(out), flush=True)
import os
os._exit(0)  # QGIS 3.22 can crash while tearing down a headless application; the answer is out
"""


def _system_python_with_qgis() -> str | None:
    python = shutil.which("python3", path="/usr/bin")
    if not python:
        return None
    probe = subprocess.run([python, "-c", "import qgis.core"], capture_output=True, timeout=60)
    return python if probe.returncode == 0 else None


def test_qgis_loads_the_default_styles(demo_store, taxonomy, tmp_path):
    """The real check, where QGIS is installed (Debian: apt-get install python3-qgis qgis-providers)."""
    python = _system_python_with_qgis()
    if python is None:
        pytest.skip("QGIS's Python bindings are not installed (apt-get install python3-qgis qgis-providers)")
    out = tmp_path / "styled.gpkg"
    exports.export_layer(demo_store, "assets", fmt="gpkg", out_path=out, area="Firth Park", boundaries="wards")
    proc = subprocess.run(
        [python, "-c", _QGIS_SCRIPT, str(out), "assets", "wards"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assets, wards = got["assets"], got["wards"]
    assert assets["valid"] and assets["loaded"] and assets["renderer"] == "categorizedSymbol"
    assert assets["attr"] == "type"
    assert assets["categories"] == [[t.id, t.label, t.colour] for t in taxonomy.types.values()]
    assert wards["valid"] and wards["loaded"] and wards["renderer"] == "singleSymbol"
    assert wards["colour"] == "68,68,68,255"
