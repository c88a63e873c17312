"""Deprivation at every boundary level (geo.analysis.deprivation), on a small synthetic city with known answers."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from geo.analysis import deprivation
from geo.errors import LayerNotFoundError

# Four 1 km LSOA squares in a row (British National Grid), west to east.
LSOAS = gpd.GeoDataFrame(
    {
        "id": ["L1", "L2", "L3", "L4"],
        "name": ["Town 001A", "Town 001B", "Town 002A", "Town 002B"],
        "population": [1000, 3000, 2000, 2000],
        "imd_rank": [100, 6000, 20000, 32000],  # deciles 1, 2, 7, 10
        "imd_decile": [1, 2, 7, 10],
    },
    geometry=[box(x, 0, x + 1000, 1000) for x in (430000, 431000, 432000, 433000)],
    crs="EPSG:27700",
).to_crs("EPSG:4326")
LSOAS["geometry"] = [g for g in LSOAS.geometry]  # keep the squares as reprojected

# West ward: L1, L2 and the west half of L3. East ward: the east half of L3 and L4. A third area
# lies outside every LSOA.
WARDS = gpd.GeoDataFrame(
    {"id": ["W", "E", "X"], "name": ["West", "East", "Nowhere"], "population": [5000, 3000, 0]},
    geometry=[box(430000, 0, 432500, 1000), box(432500, 0, 434000, 1000), box(500000, 0, 501000, 1000)],
    crs="EPSG:27700",
).to_crs("EPSG:4326")


def test_population_weighted_summary_of_each_ward():
    got = deprivation.from_lsoas(WARDS, LSOAS)
    # West: 1000 at rank 100, 3000 at 6000, and half of L3 (1000 people) at 20000.
    west_rank = (1000 * 100 + 3000 * 6000 + 1000 * 20000) / 5000
    assert got.loc[0, "imd_avg_rank"] == pytest.approx(west_rank, rel=1e-3)
    assert got.loc[0, "imd_deprived_share"] == pytest.approx(4000 / 5000, rel=1e-3)
    assert got.loc[0, "imd_decile"] == math.ceil(west_rank / 32844 * 10)
    # East: 1000 at 20000 and 2000 at 32000; nobody in the 20% most deprived.
    east_rank = (1000 * 20000 + 2000 * 32000) / 3000
    assert got.loc[1, "imd_avg_rank"] == pytest.approx(east_rank, rel=1e-3)
    assert got.loc[1, "imd_deprived_share"] == pytest.approx(0.0, abs=1e-9)
    assert got.loc[1, "imd_decile"] == 9
    assert got.loc[2].isna().all()  # no LSOA overlaps it: no answer rather than a made-up one


def test_decile_of_rank_edges():
    got = deprivation.decile_of_rank(np.array([1, 3284, 3285, 32844, np.nan]))
    assert list(got[:4]) == [1, 1, 2, 10] and np.isnan(got[4])


def test_with_deprivation_keeps_published_lsoa_values_and_says_how():
    lsoas = deprivation.with_deprivation(LSOAS, LSOAS, layer="lsoas")
    assert list(lsoas["imd_decile"]) == [1, 2, 7, 10]
    assert list(lsoas["imd_deprived_share"]) == [1.0, 1.0, 0.0, 0.0]
    assert set(lsoas["imd_method"]) == {deprivation.LSOA_METHOD}
    wards = deprivation.with_deprivation(WARDS.assign(imd_decile=np.nan), LSOAS, layer="wards")
    assert list(wards["imd_decile"][:2]) == [3, 9]
    assert list(wards["imd_method"]) == [deprivation.METHOD, deprivation.METHOD, ""]
    assert "imd_method" not in WARDS and "imd_decile" not in WARDS  # the input is untouched


def test_lsoa_names_carry_their_ward():
    names = deprivation.place_names(LSOAS, WARDS)
    assert list(names) == ["Town 001A (West)", "Town 001B (West)", names[2], "Town 002B (East)"]
    assert names[2] in {"Town 002A (West)", "Town 002A (East)"}  # split in two: the representative point decides


def test_boundary_frame_reads_what_it_needs_and_does_without_missing_layers():
    layers = {"wards": WARDS, "lsoas": LSOAS}

    def read(name):
        if name not in layers:
            raise LayerNotFoundError(f"no layer {name}")
        return layers[name]

    assert deprivation.boundary_frame("lsoas", read)["name"].iloc[0] == "Town 001A (West)"
    assert deprivation.boundary_frame("wards", read)["imd_decile"].iloc[0] == 3
    del layers["lsoas"]
    wards = deprivation.boundary_frame("wards", read)
    assert wards["imd_decile"].isna().all() and set(wards["imd_method"]) == {""}


def test_a_kept_answer_is_only_given_back_for_the_same_inputs():
    first = deprivation.from_lsoas(WARDS, LSOAS)
    again = deprivation.from_lsoas(WARDS.copy(), LSOAS.copy())  # equal content, other objects
    assert again.equals(first) and again is not first
    again.iloc[0, again.columns.get_loc("imd_avg_rank")] = -1.0  # the caller's copy: the kept answer does not change
    assert deprivation.from_lsoas(WARDS, LSOAS).equals(first)

    poorer = LSOAS.copy()
    poorer["imd_rank"] = [100, 100, 100, 100]  # every LSOA in the most deprived decile
    assert (deprivation.from_lsoas(WARDS, poorer)["imd_decile"].dropna() == 1).all()
    moved = WARDS.copy()
    moved.geometry = moved.geometry.translate(0.02)  # the wards moved east: a new overlay
    assert not deprivation.from_lsoas(moved, LSOAS)["imd_avg_rank"].equals(first["imd_avg_rank"])
