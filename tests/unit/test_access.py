"""Nearest, gaps and 2SFCA, checked against independent brute-force computations."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod, Transformer
from shapely.geometry import Point

from geo.analysis import access
from geo.errors import OutsideAreaError, SchemaError, TaxonomyError
from geo.geocode import PostcodeIndex
from tests.helpers import DEMO_TYPES

TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


@pytest.fixture(scope="module")
def postcodes(demo_store):
    return demo_store.read("postcodes")


@pytest.fixture(scope="module")
def active(demo_assets):
    return demo_assets[demo_assets["status"] == "active"].reset_index(drop=True)


def _brute_force(lon, lat, assets):
    """Independent: every (origin, asset) grid distance with pyproj + numpy, no trees."""
    ox, oy = TO_BNG.transform(np.asarray(lon), np.asarray(lat))
    ax, ay = TO_BNG.transform(assets.geometry.x.to_numpy(), assets.geometry.y.to_numpy())
    return np.hypot(ox[:, None] - ax[None, :], oy[:, None] - ay[None, :])


def test_nearest_of_each_type_matches_brute_force_for_every_postcode(postcodes, active):
    origins = gpd.GeoSeries(gpd.points_from_xy(postcodes["lon"], postcodes["lat"]), crs="EPSG:4326")
    table = access.nearest_of_each_type(origins, active)
    d = _brute_force(postcodes["lon"], postcodes["lat"], active)
    for k, t in enumerate(table.types):
        cols = np.flatnonzero(active["type"].to_numpy() == t)
        expected = d[:, cols].min(axis=1)
        got = table.distance_m[table.type_code == k]
        assert np.abs(got - expected).max() < 1.0, t  # within a metre (in fact within a millimetre)
        chosen = table.asset[table.type_code == k]
        assert (active["type"].to_numpy()[chosen] == t).all()
        # missing within 800 m agrees exactly
        assert ((got > 800) == (expected > 800)).all()


@pytest.mark.slow  # about 10 s: out of the inner loop, in the full suite
def test_grid_distances_are_close_to_the_ground(postcodes, active):
    """BNG grid distance is ~0.04% short of the ellipsoidal distance in Sheffield; documented."""
    sample = postcodes.sample(200, random_state=3)
    res = [access.near(r.lon, r.lat, active, taxonomy=_tax(), within_m=800) for r in sample.itertuples()]
    geod = Geod(ellps="WGS84")
    for r in res:
        for row in r.nearest.itertuples():
            a = active[active["id"] == row.id].iloc[0]
            _, _, true = geod.inv(r.lon, r.lat, a.geometry.x, a.geometry.y)
            assert abs(row.distance_m - true) <= 0.001 * true + 0.5


def _tax():
    from geo.schema import load_taxonomy

    return load_taxonomy()


def test_near_a_postcode(demo_store, active):
    pt = PostcodeIndex(demo_store.read("postcodes")).lookup("S5 8NJ")
    r = access.near(pt.lon, pt.lat, active, taxonomy=_tax(), within_m=800, postcode=pt.postcode)
    assert r.nearest.iloc[0]["name"] == "Parson Cross Food Bank"  # it is at that postcode
    assert r.nearest["distance_m"].is_monotonic_increasing
    assert len(r.nearest) == DEMO_TYPES and set(r.nearest["type"]) == set(active["type"])
    d = _brute_force([pt.lon], [pt.lat], active)[0]
    for t in r.missing:
        assert d[active["type"].to_numpy() == t].min() > 800
    for t in set(active["type"]) - set(r.missing):
        assert d[active["type"].to_numpy() == t].min() <= 800
    assert "park" in r.not_mapped and "gp_practice" not in r.not_mapped
    doc = r.as_dict()
    assert set(doc) >= {"origin", "within_m", "nearest", "missing"}
    assert doc["origin"] == {"lon": pt.lon, "lat": pt.lat, "postcode": "S5 8NJ"}
    assert set(doc["nearest"][0]) == {"type", "category", "id", "name", "distance_m", "walk_minutes_estimate"}
    first = doc["nearest"][0]
    assert first["walk_minutes_estimate"] == round(first["distance_m"] * 1.3 / 80, 1)


def test_walk_estimate_is_stated():
    assert access.walk_minutes_estimate(800) == pytest.approx(13.0)
    assert access.walk_radius_m(13.0) == pytest.approx(800)
    assert "1.3" in access.WALK_ESTIMATE_NOTE and "4.8 km/h" in access.WALK_ESTIMATE_NOTE


def test_near_rejects_swapped_or_bad_input(active):
    with pytest.raises(OutsideAreaError, match="longitude first"):
        access.near(53.38, -1.47, active, taxonomy=_tax())
    with pytest.raises(SchemaError, match="positive number of metres"):
        access.near(-1.47, 53.38, active, taxonomy=_tax(), within_m=0)


def test_gaps_agree_with_brute_force(demo_store, active):
    lsoas = demo_store.read("lsoas")
    for type_id in ("gp_practice", "library", "food_bank"):
        table = access.gaps(lsoas, active, type_id=type_id, within_m=800)
        polys = lsoas.geometry.to_crs(27700)
        pts = [c if c.within(p) else p.representative_point() for c, p in zip(polys.centroid, polys, strict=True)]
        supply = active[active["type"] == type_id].to_crs(27700)
        sx, sy = supply.geometry.x.to_numpy(), supply.geometry.y.to_numpy()
        expected = np.array([np.hypot(sx - p.x, sy - p.y).min() for p in pts])
        assert np.abs(table["distance_m"].to_numpy() - expected).max() < 1e-6
        assert (table["beyond"].to_numpy() == (expected > 800)).all()
        summary = access.gap_summary(table)
        assert summary["population_total"] == 589_214
        assert summary["population_affected"] == int(lsoas["population"][expected > 800].sum())


def test_gaps_unknown_type(demo_store, active):
    with pytest.raises(TaxonomyError, match="no assets of type 'park'.*gp_practice"):
        access.gaps(demo_store.read("wards"), active, type_id="park")


def _pts(xy):
    return gpd.GeoSeries([Point(x, y) for x, y in xy], crs="EPSG:27700")


def test_two_step_fca_hand_worked_example():
    """Areas A (0,0) 1,000 people, B (1000,0) 3,000, C (5000,0) 500; sites S1 (500,0) capacity 1,
    S2 (5000,100) capacity 2, S3 (3000,0) capacity 1 with nobody in reach; catchment 800 m.
    Step 1: R1 = 1 / (1000 + 3000) = 0.00025; R2 = 2 / 500 = 0.004; R3 = 0 (no demand).
    Step 2: A = R1, B = R1, C = R2; per 1,000 people: 0.25, 0.25, 4.0."""
    demand = _pts([(0, 0), (1000, 0), (5000, 0)])
    supply = gpd.GeoDataFrame({"cap": [1, 2, 1]}, geometry=_pts([(500, 0), (5000, 100), (3000, 0)]))
    score = access.two_step_fca(demand, pd.Series([1000, 3000, 500]), supply, catchment_m=800, capacity=supply["cap"])
    assert score.tolist() == pytest.approx([0.25, 0.25, 4.0])
    # One site per asset when no capacity is given, and a site exactly at the catchment edge counts:
    # with 500 m, S1 is exactly 500 m from A and from B (R1 = 1/4000) and S2 reaches C (R2 = 1/500).
    score = access.two_step_fca(demand, pd.Series([1000, 3000, 500]), supply, catchment_m=500)
    assert score.tolist() == pytest.approx([0.25, 0.25, 2.0])
    # just short of 500 m, S1 reaches nobody
    score = access.two_step_fca(demand, pd.Series([1000, 3000, 500]), supply, catchment_m=499.9)
    assert score.tolist() == pytest.approx([0.0, 0.0, 2.0])


def test_two_step_fca_shows_overloaded_services():
    """Two areas each 300 m from a site: the one sharing its site with many people scores lower."""
    demand = _pts([(0, 0), (10_000, 0), (10_600, 0)])
    supply = gpd.GeoDataFrame(geometry=_pts([(300, 0), (10_300, 0)]))
    score = access.two_step_fca(demand, pd.Series([1000, 1000, 9000]), supply, catchment_m=800)
    assert score[0] == pytest.approx(1.0) and score[1] == pytest.approx(0.1) and score[1] == score[2]


def test_gaps_use_capacity_where_the_type_has_one(demo_store, active):
    wards = demo_store.read("wards")
    by_list = access.gaps(wards, active, type_id="gp_practice", within_m=2000, capacity_column="list_size")
    by_site = access.gaps(wards, active, type_id="gp_practice", within_m=2000)
    assert by_list["score_2sfca"].max() > 100 * by_site["score_2sfca"].max()  # patients, not sites


def test_nearest_handles_types_without_assets_and_empty_origins(active):
    t = access.nearest_of_each_type(active.iloc[:3], active, types=["library", "park"])
    park = t.type_code == 1
    assert np.isinf(t.distance_m[park]).all() and (t.asset[park] == -1).all()
    empty = access.nearest_of_each_type(active.iloc[:0], active)
    assert len(empty.distance_m) == 0


def test_assets_within_and_bounds(active):
    r = access.assets_within(-1.4701, 53.3811, active, within_m=500)
    assert r["distance_m"].le(500).all() and r["distance_m"].is_monotonic_increasing
    minx, miny, maxx, maxy = access.bounds_around(-1.4701, 53.3811, 1000)
    assert minx < -1.4701 < maxx and miny < 53.3811 < maxy
