"""The shipped demo GeoPackage holds the real Sheffield data the issue describes, and the committed
build script rebuilds it from data/sources/ alone."""

from __future__ import annotations

import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest

from geo import schema
from geo.store import Store, open_store

EXPECTED_TYPES = {
    "gp_practice": 74,
    "dental_practice": 83,
    "pharmacy": 122,
    "library": 30,
    "food_bank": 8,
    "recycling_centre": 5,
    "museum": 14,
}


def test_boundary_layers(demo_store: Store):
    wards = demo_store.read("wards")
    lsoas = demo_store.read("lsoas")
    nbhd = demo_store.read("neighbourhoods")
    assert len(wards) == 28 and len(lsoas) == 345 and len(nbhd) == 147
    assert wards["population"].sum() == 589_214  # ONS mid-2020, per SOURCES.md
    assert not wards["population_is_estimate"].any()
    assert lsoas["imd_decile"].between(1, 10).all()
    assert lsoas["imd_rank"].between(1, 32_844).all()
    assert lsoas["population"].sum() == 589_214
    assert nbhd["population_is_estimate"].all()
    assert nbhd["population_note"].str.contains("Estimate").all()
    # The 147 neighbourhoods cover most of the city's people but not the rural west.
    assert 0.8 * 589_214 < nbhd["population"].sum() < 589_214
    for layer in (wards, lsoas, nbhd):
        assert layer.crs.to_epsg() == 4326
        assert layer["id"].is_unique
        assert layer.geometry.is_valid.all()
        assert layer["source"].str.len().gt(0).all() and layer["licence"].str.len().gt(0).all()


def test_area_weighted_population_matches_lsoa_total_where_covered(demo_store: Store):
    """Interpolation conserves people: the estimate equals the LSOA population inside the union."""
    lsoas = demo_store.read("lsoas").to_crs(schema.METRIC_CRS)
    nbhd = demo_store.read("neighbourhoods").to_crs(schema.METRIC_CRS)
    union = nbhd.union_all()
    share = lsoas.geometry.intersection(union).area / lsoas.geometry.area
    expected = float((lsoas["population"] * share).sum())
    assert abs(nbhd["population"].sum() - expected) < 147  # rounding to whole people per area


def test_assets(demo_store: Store, taxonomy: schema.Taxonomy):
    assets = demo_store.read("assets")
    assert len(assets) == sum(EXPECTED_TYPES.values()) == 336
    assert assets["type"].value_counts().to_dict() == EXPECTED_TYPES
    assert assets["id"].is_unique
    assert (assets.geom_type == "Point").all()
    for t, c in zip(assets["type"], assets["category"], strict=True):
        assert taxonomy.type(t).category == c
    assert assets["source"].str.len().gt(0).all() and assets["licence"].str.len().gt(0).all()
    assert assets["address"].str.len().gt(0).all()
    city = demo_store.read("wards").union_all()
    assert assets.within(city).all()
    # useful source columns are kept
    gp = assets[assets["type"] == "gp_practice"]
    assert gp["list_size"].gt(0).all()
    libs = assets[assets["type"] == "library"]
    assert set(libs["delivery_model"]) == {"Council", "Co-delivered", "Associate"}
    assert assets[assets["type"] == "pharmacy"]["opening_hours"].str.contains("Mon").all()


def test_organisations_are_derived_honestly(demo_store: Store):
    assets = demo_store.read("assets")
    orgs = demo_store.read("organisations")
    assert orgs["id"].is_unique
    linked = assets["organisation_id"].dropna()
    assert linked.isin(orgs["id"]).all()
    by_id = orgs.set_index("id")
    scc = orgs[orgs["name"] == "Sheffield City Council"]
    assert len(scc) == 1 and scc.iloc[0]["kind"] == "council"
    # Council hub libraries and recycling centres are SCC's; volunteer libraries are not.
    libs = assets[assets["type"] == "library"]
    council = libs[libs["delivery_model"] == "Council"]
    assert (council["organisation_id"] == scc.iloc[0]["id"]).all()
    assert libs[libs["delivery_model"] != "Council"]["organisation_id"].isna().all()
    hw = assets[assets["type"] == "recycling_centre"]
    assert (hw["organisation_id"] == scc.iloc[0]["id"]).all()
    # Each food bank is a voluntary organisation with its charity number where Give Food has one.
    fb = assets[assets["type"] == "food_bank"]
    fb_orgs = by_id.loc[fb["organisation_id"]]
    assert (fb_orgs["kind"] == "voluntary").all()
    assert fb_orgs["charity_number"].fillna("").str.fullmatch(r"\d{6,8}|").all()
    assert fb_orgs["charity_number"].fillna("").ne("").sum() >= 6
    # GP practices are NHS providers; pharmacies link only to companies, never to a person.
    gp_orgs = by_id.loc[assets.loc[assets["type"] == "gp_practice", "organisation_id"]]
    assert (gp_orgs["kind"] == "NHS").all()
    ph = assets[assets["type"] == "pharmacy"]
    ph_orgs = by_id.loc[ph["organisation_id"].dropna()]
    assert (ph_orgs["kind"] == "business").all()
    assert ph_orgs["name"].str.contains(r"(?i)\b(?:ltd|limited|plc|llp|cic|stores|supermarkets)\b").all()
    assert ph["organisation_id"].isna().sum() == 5  # the five pharmacies run by private individuals


def test_organisation_areas_follow_the_assets(demo_store: Store):
    oa = demo_store.read("organisation_areas")
    assets = demo_store.read("assets")
    assert set(oa["boundary_layer"]) == {"wards", "lsoas", "neighbourhoods"}
    wards = demo_store.read("wards")
    ward_ids = wards[["id", "geometry"]].rename(columns={"id": "ward_id"})
    joined = gpd.sjoin(assets.dropna(subset=["organisation_id"]), ward_ids, predicate="within")
    expected = set(zip(joined["organisation_id"], joined["ward_id"], strict=True))
    got = set(
        oa.loc[oa["boundary_layer"] == "wards", ["organisation_id", "area_id"]].itertuples(index=False, name=None)
    )
    assert got == expected
    assert oa["themes"].str.len().gt(0).all()


@pytest.mark.parametrize("name", ["aspirations", "success_measures", "measure_updates", "stories", "audit_log"])
def test_knowledge_layers_are_empty_with_full_schema(demo_store: Store, name: str):
    frame = demo_store.read(name)
    assert len(frame) == 0
    for col in schema.layer_spec(name).columns:
        assert col in frame.columns


def test_postcodes_and_sources(demo_store: Store):
    pc = demo_store.read("postcodes")
    assert len(pc) == 14_875 and pc["postcode"].is_unique
    sources = demo_store.read("sources")
    assert {"wards", "lsoas", "neighbourhoods", "assets", "postcodes"} <= set(sources["layer"])
    text = " ".join(sources["attribution"])
    for credit in ("Give Food", "Sheffield City Council", "Data For Action", "Royal Mail", "NHS", "Mapping Museums"):
        assert credit in text


def test_build_script_rebuilds_the_demo(tmp_path, demo_store: Store):
    out = tmp_path / "rebuilt.gpkg"
    proc = subprocess.run(
        [sys.executable, "data/build_demo.py", "--out", str(out)],
        cwd=schema.PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    rebuilt = open_store(out)
    for name in demo_store.layer_names():
        a, b = demo_store.read(name), rebuilt.read(name)
        if isinstance(a, gpd.GeoDataFrame):
            both = a.geometry.notna() & b.geometry.notna()
            assert (a.geometry.isna() == b.geometry.isna()).all(), name
            assert a[both].geom_equals_exact(b[both], tolerance=1e-9).all(), name
            a, b = pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry"))
        pd.testing.assert_frame_equal(a, b, check_dtype=False, obj=name)
