"""Population points: gaps and 2SFCA with people placed at the store's population layer, checked on a
tiny synthetic store whose answers are worked out by hand (both backends), the area-centre basis
kept, and ``near``'s per-frame index never stale.

The synthetic place, in EPSG:27700 metres from (X0, Y0) = (435,000, 387,000), in Sheffield so that the
demo's area check lets it in (stored in EPSG:4326 like every layer)::

    area A: x 0-1,000       area B: x 1,000-2,000       (both y 0-1,000)
    GP1 (100, 500)                                      GP2 (1,900, 500)
    p1 (100, 900)   100 people, decile 1: 400 m from GP1 (over 1,800 m from GP2)
    p2 (950, 500)   200 people, decile 1: 850 m from GP1, 950 m from GP2
    p3 (1,050, 500) 300 people, decile 2: 850 m from GP2, 950 m from GP1
    p4 (1,900, 900) 400 people, decile 2: 400 m from GP2

Within 800 m: A has 300 people, 200 beyond (p2); B has 700, 300 beyond (p3); 500 of 1,000 in all;
decile 1: 200 beyond, 100 within; decile 2: 300 beyond, 400 within. Each area's farthest point is
850 m away; A's population-weighted mean distance is (100 x 400 + 200 x 850) / 300 = 700 m, B's
(300 x 850 + 400 x 400) / 700 = 592.857 m.
2SFCA (800 m, list sizes 1,000 and 2,000): GP1 reaches p1 only (R1 = 1,000 / 100 = 10), GP2 reaches
p4 only (R2 = 2,000 / 400 = 5); per 1,000 people p1 scores 10,000 and p4 5,000, p2 and p3 nothing;
A scores (100 x 10,000) / 300 = 3,333.33, B (400 x 5,000) / 700 = 2,857.14.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo import cli, schema
from geo.analysis import access
from geo.store import open_store
from geo.store.copy import create_geopackage

BNG = "EPSG:27700"
X0, Y0 = 435_000, 387_000
POINTS = {  # id: (x, y, population, decile, rank)
    "P1": (100, 900, 100, 1, 1_000),
    "P2": (950, 500, 200, 1, 2_000),
    "P3": (1_050, 500, 300, 2, 4_000),
    "P4": (1_900, 900, 400, 2, 5_000),
}


def _pt(x: float, y: float) -> Point:
    return Point(X0 + x, Y0 + y)


def _box(x0: float, x1: float) -> object:
    return box(X0 + x0, Y0, X0 + x1, Y0 + 1_000)


def _wgs(geom) -> object:
    return gpd.GeoSeries([geom], crs=BNG).to_crs(schema.STORAGE_CRS).iloc[0]


def _areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["A", "B"],
            "name": ["Area A", "Area B"],
            "population": [300.0, 700.0],
            "imd_decile": [1.0, 2.0],
        },
        geometry=[_box(0, 1_000), _box(1_000, 2_000)],
        crs=BNG,
    ).to_crs(schema.STORAGE_CRS)


def _assets() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["GP1", "GP2"],
            "name": ["Practice one", "Practice two"],
            "category": ["institutions", "institutions"],
            "type": ["gp_practice", "gp_practice"],
            "status": ["active", "active"],
            "list_size": [1000.0, 2000.0],
        },
        geometry=[_pt(100, 500), _pt(1_900, 500)],
        crs=BNG,
    ).to_crs(schema.STORAGE_CRS)


def _population() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": list(POINTS),
            "name": [f"LSOA {k}" for k in POINTS],
            "population": [v[2] for v in POINTS.values()],
            "imd_decile": [v[3] for v in POINTS.values()],
            "imd_rank": [v[4] for v in POINTS.values()],
            "source": "synthetic",
            "licence": "none",
        },
        geometry=[_pt(v[0], v[1]) for v in POINTS.values()],
        crs=BNG,
    ).to_crs(schema.STORAGE_CRS)


def test_gaps_at_population_points_per_area_and_decile():
    result = access.measure_gaps(
        _areas(), _assets(), type_id="gp_practice", within_m=800, capacity_column="list_size", population=_population()
    )
    assert result.basis == access.BASIS_POINTS
    t = result.areas.set_index("id")
    assert t.loc["A", "population"] == 300 and t.loc["B", "population"] == 700
    assert t.loc["A", "population_beyond"] == 200 and t.loc["B", "population_beyond"] == 300
    assert t.loc["A", "share_beyond"] == pytest.approx(2 / 3) and t.loc["B", "share_beyond"] == pytest.approx(3 / 7)
    assert t["beyond"].tolist() == [True, True]
    assert t["points"].tolist() == [2, 2]
    assert t["distance_m"].round(1).tolist() == [850.0, 850.0]  # the farthest point
    assert t.loc["A", "mean_distance_m"] == pytest.approx(700, abs=0.05)
    assert t.loc["B", "mean_distance_m"] == pytest.approx(4150 / 7, abs=0.05)
    assert t.loc["A", "nearest_id"] == "GP1" and t.loc["B", "nearest_id"] == "GP2"  # of the most populous point
    assert t.loc["A", "score_2sfca"] == pytest.approx(10_000 / 3, rel=1e-9)
    assert t.loc["B", "score_2sfca"] == pytest.approx(20_000 / 7, rel=1e-9)
    summary = access.gap_summary(result.areas)
    assert summary["population_affected"] == 500 and summary["population_total"] == 1000
    assert summary["population_basis"] == access.BASIS_POINTS

    p = result.points.set_index("id")
    assert p["area_id"].to_dict() == {"P1": "A", "P2": "A", "P3": "B", "P4": "B"}
    assert p["beyond"].to_dict() == {"P1": False, "P2": True, "P3": True, "P4": False}
    assert p["distance_m"].round(1).to_dict() == {"P1": 400.0, "P2": 850.0, "P3": 850.0, "P4": 400.0}
    assert p["score_2sfca"].round(6).to_dict() == {"P1": 10_000.0, "P2": 0.0, "P3": 0.0, "P4": 5_000.0}
    by = access.population_by_decile(result.points)
    assert by["People beyond"].tolist() == [200, 300] and by["People within"].tolist() == [100, 400]
    assert list(by.index) == ["1", "2"]


def test_each_point_is_an_area_without_boundaries_and_points_outside_are_not_counted():
    pop = _population()
    alone = access.measure_gaps(None, _assets(), type_id="gp_practice", within_m=800, population=pop)
    assert alone.areas["id"].tolist() == list(POINTS)
    assert alone.areas["population_beyond"].tolist() == [0, 200, 300, 0]
    assert access.gap_summary(alone.areas)["population_affected"] == 500

    outside = gpd.GeoDataFrame(
        {"id": ["P5"], "name": ["Far away"], "population": [1_000], "imd_decile": [3], "imd_rank": [9_000]},
        geometry=[_pt(20_000, 500)],
        crs=BNG,
    ).to_crs(schema.STORAGE_CRS)
    more = pd.concat([pop, outside], ignore_index=True)
    result = access.measure_gaps(_areas(), _assets(), type_id="gp_practice", within_m=800, population=more)
    assert result.points_outside == 1 and "1 points lie in none" in result.basis_note
    assert access.gap_summary(result.areas)["population_total"] == 1000


def test_an_area_without_points_has_no_people_and_its_centre_distance():
    empty = gpd.GeoDataFrame({"id": ["C"], "name": ["Empty"]}, geometry=[_wgs(_box(2_000, 3_000))], crs=4326)
    areas = pd.concat([_areas(), empty], ignore_index=True)
    t = access.gaps(areas, _assets(), type_id="gp_practice", within_m=800, population=_population()).set_index("id")
    assert t.loc["C", "population"] == 0 and t.loc["C", "population_beyond"] == 0 and not t.loc["C", "beyond"]
    assert t.loc["C", "distance_m"] == pytest.approx(600, abs=0.05)  # its centre (2,500, 500) to GP2
    assert t.loc["C", "nearest_id"] == "GP2"


def test_area_centres_are_used_without_population_points():
    for population in (None, _population().iloc[0:0]):
        result = access.measure_gaps(_areas(), _assets(), type_id="gp_practice", within_m=300, population=population)
        assert result.basis == access.BASIS_AREAS and result.points is None
        t = result.areas.set_index("id")
        # each centre is 400 m from its practice: beyond 300 m as a whole, its own population
        assert t["distance_m"].round(1).tolist() == [400.0, 400.0]
        assert t["population_beyond"].tolist() == [300, 700]
        assert access.gap_summary(result.areas)["population_affected"] == 1000
        assert "no population points" in result.basis_note
    within = access.gaps(_areas(), _assets(), type_id="gp_practice", within_m=800)
    assert not within["beyond"].any() and access.gap_summary(within)["population_affected"] == 0


def _synthetic(store) -> None:
    """Make the store hold the synthetic place: its wards, its two practices, its four points."""
    wards = schema.conform(_areas(), "wards")
    assets = schema.conform(_assets(), "assets")
    with store.transaction(actor="test") as tx:
        tx.replace("wards", wards)
        tx.replace("assets", assets)
        tx.replace(schema.POPULATION_LAYER, schema.conform(_population(), schema.POPULATION_LAYER))


def test_gaps_command_on_a_store_with_population_points(store_copy, capsys):
    _synthetic(store_copy)
    read = access.read_population(store_copy)
    assert read is not None and sorted(read["id"]) == list(POINTS)
    assert str(read["population"].dtype) == "Int64" and read["population"].sum() == 1000
    argv = ["gaps", "--type", "gp_practice", "--within", "800", "--boundaries", "wards", "--data"]
    assert cli.main([*argv, store_copy.location, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["population_basis"] == access.BASIS_POINTS
    assert doc["population_affected"] == 500 and doc["population_total"] == 1000
    assert doc["areas_beyond"] == 2
    assert {a["id"]: a["population_beyond"] for a in doc["areas"]} == {"A": 200, "B": 300}
    assert doc["population_beyond_by_imd_decile"] == [
        {"imd_decile": 1, "population_beyond": 200, "population_within": 100},
        {"imd_decile": 2, "population_beyond": 300, "population_within": 400},
    ]
    assert cli.main([*argv, store_copy.location]) == 0
    text = capsys.readouterr().out
    assert "500 of 1,000 people" in text and "population-weighted centroids" in text


def test_a_store_without_the_layer_reads_as_none(tmp_path):
    store = create_geopackage(tmp_path / "new.gpkg")
    assert not store.has_layer(schema.POPULATION_LAYER)  # reference data: created when first written
    assert access.read_population(store) is None
    with store.transaction(actor="test") as tx:
        tx.replace(schema.POPULATION_LAYER, schema.empty_layer(schema.POPULATION_LAYER))
    assert access.read_population(open_store(tmp_path / "new.gpkg")) is None


def test_population_points_import_with_the_command(store_copy, tmp_path, capsys):
    src = _population().rename(
        columns={"id": "lsoa11cd", "name": "lsoa11nm", "population": "pop_mid2015", "imd_decile": "imd19_decile"}
    )
    path = tmp_path / "points.gpkg"
    src.drop(columns=["imd_rank", "source", "licence"]).to_file(path, layer="lsoa_points")
    maps = ["id=lsoa11cd", "name=lsoa11nm", "population=pop_mid2015", "imd_decile=imd19_decile"]
    argv = ["import", str(path), "--layer", schema.POPULATION_LAYER, "--data", store_copy.location, "--json"]
    argv += [x for m in maps for x in ("--map", m)]
    with store_copy.transaction(actor="test") as tx:  # the demo's own points out of the way
        tx.replace(schema.POPULATION_LAYER, schema.empty_layer(schema.POPULATION_LAYER))
    assert cli.main(argv) == 0
    capsys.readouterr()
    got = open_store(store_copy.location).read(schema.POPULATION_LAYER).set_index("id").sort_index()
    assert got["population"].tolist() == [100, 200, 300, 400]
    assert got["imd_decile"].tolist() == [1, 1, 2, 2] and got["imd_rank"].isna().all()


def test_the_demo_has_sheffields_population_points(demo_store):
    pop = access.read_population(demo_store)
    assert len(pop) == 345 and pop["id"].str.startswith("E01").all()
    assert int(pop["population"].sum()) == 569_177  # ONS mid-2015, IoD 2019 denominators
    assert pop["imd_decile"].between(1, 10).all()
    wards = demo_store.read("wards")
    result = access.measure_gaps(wards, demo_store.read("assets"), type_id="library", within_m=1600, population=pop)
    assert result.points_outside == 0 and len(result.points) == 345


def test_near_index_is_reused_and_never_stale(taxonomy):
    assets = _assets()
    lon, lat = _wgs(_pt(100, 600)).coords[0]
    first = access.near(lon, lat, assets, taxonomy=taxonomy, within_m=800)
    assert first.nearest["id"].tolist() == ["GP1"] and first.nearest["distance_m"].iloc[0] == pytest.approx(100, 0.01)
    key = access._frame_key(assets, "type")
    assert key in access._INDEX_CACHE
    # the same frame changed in place: a new key, a fresh index, the new answer
    assets.loc[0, "geometry"] = _wgs(_pt(100, 1_600))
    moved = access.near(lon, lat, assets, taxonomy=taxonomy, within_m=800)
    assert access._frame_key(assets, "type") != key
    assert moved.nearest["distance_m"].iloc[0] == pytest.approx(1000, abs=0.05)
    assets.loc[0, "type"] = "library"
    retyped = access.near(lon, lat, assets, taxonomy=taxonomy, within_m=800)
    assert sorted(retyped.nearest["type"]) == ["gp_practice", "library"]
    assert retyped.missing == ["gp_practice", "library"]  # GP2 is 1,803 m away, the library 1,000 m
