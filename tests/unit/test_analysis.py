"""Counting and filtering assets."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo.analysis import areas as analysis
from geo.errors import CRSError, SchemaError


@pytest.fixture
def squares():
    # two 1 km squares side by side in British National Grid
    return gpd.GeoDataFrame(
        {"id": ["a", "b"], "name": ["A", "B"], "population": [2000, 0]},
        geometry=[box(430000, 380000, 431000, 381000), box(431000, 380000, 432000, 381000)],
        crs="EPSG:27700",
    )


@pytest.fixture
def points():
    return gpd.GeoDataFrame(
        {
            "id": ["1", "2", "3", "4"],
            "name": ["Alpha Library", "Beta (Surgery)", "Gamma", "Outside"],
            "type": ["library", "gp_practice", "library", "library"],
            "category": ["institutions"] * 4,
            "status": ["active", "active", "closed", "active"],
            "address": ["1 Road", "2 Road", "3 Road", "4 Road"],
        },
        geometry=[Point(430500, 380500), Point(431000, 380500), Point(431500, 380500), Point(440000, 380000)],
        crs="EPSG:27700",
    ).to_crs(4326)


def test_count_in_areas_counts_edge_points_once(points, squares):
    counts = analysis.count_in_areas(points, squares)
    assert counts.tolist() == [2, 1] or counts.tolist() == [1, 2]
    assert counts.sum() == 3  # the point outside is in no area
    by_type = analysis.count_in_areas(points, squares, by="type")
    assert by_type.sum().sum() == 3 and list(by_type.index) == list(squares.index)


def test_per_1000_and_summary(points, squares):
    s = analysis.summarise_areas(points, squares)
    assert s.loc[0, "per_1000"] == pytest.approx(s.loc[0, "assets"] / 2)
    assert np.isnan(s.loc[1, "per_1000"])  # no residents: no rate, not infinity
    assert s["per_km2"].tolist() == pytest.approx(s["assets"].tolist(), rel=1e-6)


def test_filter_assets(points):
    before = points.copy()
    assert len(analysis.filter_assets(points)) == 3  # closed is hidden by default
    assert len(analysis.filter_assets(points, types=["library"])) == 2
    assert analysis.filter_assets(points, query="(surg").iloc[0]["id"] == "2"  # literal, not a regex
    assert analysis.filter_assets(points, query="BETA")["id"].tolist() == ["2"]
    assert len(analysis.filter_assets(points, categories=[])) == 0
    assert len(analysis.filter_assets(points, statuses=("active", "closed"))) == 4
    pd.testing.assert_frame_equal(points, before)  # input untouched


def test_inputs_are_checked(points, squares):
    with pytest.raises(CRSError, match="no CRS"):
        analysis.count_in_areas(points.set_crs(None, allow_override=True), squares)
    with pytest.raises(SchemaError, match="needs the column"):
        analysis.count_in_areas(points, squares.drop(columns="id"))


def test_demo_ward_counts_add_up(demo_assets, demo_wards):
    counts = analysis.count_in_areas(demo_assets, demo_wards)
    assert counts.sum() == len(demo_assets)
