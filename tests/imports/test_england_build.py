"""data/build_england.py: the England store through the project's own import path, on a miniature of
the England data folder (the same files, layers and columns)."""

from __future__ import annotations

import pytest

from geo import schema
from geo.io import imports, reading
from geo.store.gpkg import GeoPackageStore
from tests.imports.england_data import load_build_england, write_source


@pytest.fixture(scope="module")
def build_england():
    return load_build_england()


@pytest.fixture(scope="module")
def built(build_england, tmp_path_factory):
    folder = write_source(tmp_path_factory.mktemp("england"))
    out = tmp_path_factory.mktemp("store") / "england.gpkg"
    summary = build_england.build(folder, out, log=lambda _m: None)
    return summary, out


def test_the_build_imports_every_located_row_and_lists_the_rest(built):
    summary, out = built
    layers = summary["layers"]
    assert {k: v["imported"] for k, v in layers.items()} == {
        "pharmacies_nhsbsa": 3,
        "gp_practices_nhs_ods": 2,
        "dental_practices_nhs_ods": 1,  # named like the GP practice in its building, but not a duplicate
        "libraries_ace": 1,
    }
    assert layers["pharmacies_nhsbsa"]["skipped_without_geometry"] == [{"row": 2, "reason": "no geometry"}]
    assert layers["libraries_ace"]["skipped_without_geometry"] == [{"row": 2, "reason": "no geometry"}]
    assert all(v["duplicates_skipped"] == [] for v in layers.values())
    assert layers["pharmacies_nhsbsa"]["new_types"] == ["dispensing_appliance_contractor"]
    store = GeoPackageStore(out)
    assets = store.read("assets")
    assert len(assets) == 7 and assets.geometry.notna().all()
    assert set(assets["type"]) == {
        "pharmacy",
        "dispensing_appliance_contractor",
        "gp_practice",
        "dental_practice",
        "library",
    }
    tax = store.read("taxonomy")
    added = tax[tax["id"] == "dispensing_appliance_contractor"].iloc[0]
    assert added["category"] == "institutions"
    assert len(store.read("audit_log")) == 7 + 1  # one entry per asset, one for the type added
    assert sorted(assets["list_size"].dropna().astype(int)) == [7000, 9000]  # kept for 2SFCA capacity
    assert "lsoas" not in store.layer_names() and "wards" not in store.layer_names()
    assert set(store.read("sources")["layer"]) >= {"assets"}


@pytest.mark.skipif(not hasattr(schema, "POPULATION_LAYER"), reason="the schema has no population layer yet")
def test_the_lsoa_points_become_the_population_layer(built):
    summary, out = built
    population = GeoPackageStore(out).read(schema.POPULATION_LAYER).set_index("id")
    assert summary["population"] == 3 and len(population) == 3
    row = population.loc["E01005062"]
    assert (row["name"], int(row["population"]), int(row["imd_decile"]), int(row["imd_rank"])) == (
        "Manchester 054C",
        1500,
        1,
        100,
    )


def test_a_store_without_boundaries_checks_no_area(built, monkeypatch):
    """Anywhere in England (or the world) goes into it: there is no area to be outside of."""
    monkeypatch.delenv("COMMON_GROUND_STUDY_AREA", raising=False)
    _summary, out = built
    store = GeoPackageStore(out)
    import geopandas as gpd
    from shapely.geometry import Point

    up = reading.Upload(
        frame=gpd.GeoDataFrame(
            {"name": ["Penzance Library"], "type": ["library"]}, geometry=[Point(-5.54, 50.12)], crs=4326
        ),
        kind="geojson",
        name="cornwall.geojson",
    )
    plan = imports.plan_import(up, layer="assets", store=store)
    assert plan.report.ok and plan.report.rows_to_import == 1


def test_rebuilding_gives_the_same_store_not_twice_the_rows(build_england, built, tmp_path):
    summary, out = built
    again = build_england.build(write_source(tmp_path / "england"), out, log=lambda _m: None)
    assert {k: v["imported"] for k, v in again["layers"].items()} == {
        k: v["imported"] for k, v in summary["layers"].items()
    }
    assert len(GeoPackageStore(out).read("assets")) == 7


def test_missing_files_are_named_with_how_to_get_them(build_england, tmp_path, capsys):
    code = build_england.main(
        ["--source", str(tmp_path / "nowhere"), "--out", str(tmp_path / "e.gpkg"), "--no-postcodes"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: england_assets.gpkg, england_lsoa.gpkg are not in ")
    assert "../shared/data/england/" in err and "--source" in err and err.count("\n") == 1
    assert not (tmp_path / "e.gpkg").exists()
