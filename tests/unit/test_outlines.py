"""Assets with shapes (issue 12, item 4): parks as polygons, routes as lines.

A GeoJSON of park polygons imports as parks (a point inside each, its outline in ``asset_outlines``,
in one transaction, on both backends); ``near`` reports the distance to the nearest park's *edge*
(0 inside), checked against brute-force shapely distances; gaps and 2SFCA use the same measure;
removed assets' outlines are ignored and come back with an undo; exports carry the outlines.
"""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from geo import editing, outlines, schema
from geo.analysis import access
from geo.analysis import areas as analysis
from geo.cli import main
from geo.errors import ExportError, ImportFileError
from geo.io import exports, imports, reading
from geo.store import open_store, store_taxonomy

BNG = schema.METRIC_CRS
CENTRE = (435_500.0, 387_500.0)  # Sheffield city centre, EPSG:27700


def _parks_27700() -> list[tuple[str, object]]:
    """(name, geometry in EPSG:27700): parks of several shapes, one with a pond (a hole), one in two
    parts, a trail (a line), and a hostile name."""
    x, y = CENTRE
    square = Polygon([(x, y), (x + 400, y), (x + 400, y + 300), (x, y + 300)])
    pond = Polygon(
        [(x + 1500, y), (x + 2100, y), (x + 2100, y + 600), (x + 1500, y + 600)],
        holes=[[(x + 1700, y + 200), (x + 1900, y + 200), (x + 1900, y + 400), (x + 1700, y + 400)]],
    )
    two_parts = MultiPolygon(
        [Point(x - 2000, y + 1500).buffer(120, quad_segs=3), Point(x - 1200, y + 1700).buffer(250, quad_segs=5)]
    )
    thin = Polygon([(x + 600, y - 1800), (x + 3600, y - 1750), (x + 3600, y - 1730), (x + 600, y - 1780)])
    trail = LineString([(x - 500, y - 2500), (x + 500, y - 2200), (x + 1500, y - 2600)])
    star = shapely.Polygon(
        [(x + 800 + r * np.cos(a), y + 2500 + r * np.sin(a)) for a, r in zip(np.linspace(0, 2 * np.pi, 14)[:-1], [300, 90] * 6 + [300], strict=True)]
    )  # fmt: skip
    return [
        ("Square Park", square),
        ("Pond Park", pond),
        ("Two Part Park", two_parts),
        ("Thin Strip Park", thin),
        ("River Trail", trail),
        ("Star {{7*7}} <img src=x onerror=alert(1)> Park", star),
    ]


def _write_parks(tmp_path, *, extra: list | None = None) -> tuple[object, gpd.GeoDataFrame]:
    parks = _parks_27700() + (extra or [])
    frame = gpd.GeoDataFrame(
        {"name": [n for n, _ in parks], "type": ["park"] * len(parks)}, geometry=[g for _, g in parks], crs=BNG
    ).to_crs(4326)
    path = tmp_path / "parks.geojson"
    path.write_text(frame.to_json(), encoding="utf-8")
    return path, frame


def _import(store, path, **options):
    return imports.import_file(path, layer="assets", store=store, actor="outline-test", **options)


@pytest.fixture
def parks_store(store_copy, tmp_path):
    path, _ = _write_parks(tmp_path)
    result = _import(store_copy, path)
    return store_copy, result


# --------------------------------------------------------------------------------------------
# The store: schema, import, one transaction, both backends
# --------------------------------------------------------------------------------------------


def test_the_outline_layer_is_declared_in_the_schema():
    spec = schema.layer_spec(schema.OUTLINES_LAYER)
    assert spec.geometry == "Geometry" and "id" in spec.columns and not spec.editable
    empty = schema.empty_layer(schema.OUTLINES_LAYER)
    assert isinstance(empty, gpd.GeoDataFrame) and list(empty.columns) == ["id", "geometry"]


def test_a_store_without_outlines_reads_as_empty(demo_store):
    assert not demo_store.has_layer(schema.OUTLINES_LAYER)  # the shipped demo is as it was
    got = outlines.read_outlines(demo_store)
    assert got.empty and str(got.crs) == schema.STORAGE_CRS
    active = analysis.filter_assets(demo_store.read("assets"))
    plain = access.near(-1.47, 53.38, active, taxonomy=store_taxonomy(demo_store))
    with_none = access.near(-1.47, 53.38, active, taxonomy=store_taxonomy(demo_store), outlines=got)
    pd.testing.assert_frame_equal(plain.nearest, with_none.nearest)


def test_park_polygons_import_as_parks_with_outlines(parks_store):
    store, result = parks_store
    assert result.imported == 6
    assert any("outlines" in n for n in result.report.notes)
    assets = store.read("assets", ids=result.ids).set_index("id")
    shapes = outlines.read_outlines(store)
    assert sorted(shapes.index) == sorted(result.ids)  # one outline per asset, tied by id
    assert set(assets.geometry.geom_type) == {"Point"} and not assets.geometry.has_z.any()
    assert (assets["type"] == "park").all()
    for asset_id, row in assets.iterrows():
        outline = shapes[asset_id]
        assert outline.geom_type in schema.OUTLINE_GEOMETRIES and not outline.has_z
        # the point is the shape's representative point: inside a polygon, on a line
        assert outline.buffer(1e-9).contains(row.geometry), row["name"]
    info = {i.name: i for i in store.info()}[schema.OUTLINES_LAYER]
    assert info.features == 6 and info.crs == "EPSG:4326"
    assert store.check() == []
    log = store.read_audit()
    assert (log["layer"] == schema.OUTLINES_LAYER).sum() == 6  # audited with their assets


def test_assets_and_outlines_land_in_one_transaction(store_copy, tmp_path):
    """A failure after the assets are written leaves neither assets nor outlines (nor the layer)."""
    path, _ = _write_parks(tmp_path)
    up = reading.read_upload(path)
    plan = imports.plan_import(up, layer="assets", store=store_copy, actor="t")
    assert plan.report.ok and plan.outlines is not None and len(plan.outlines) == 6
    before = len(store_copy.read("assets"))
    broken = plan.outlines.copy()
    broken["id"] = broken["id"].iloc[0]  # a repeated id: the outline insert fails after the assets
    plan.outlines = broken
    with pytest.raises(Exception):  # noqa: B017 (either backend's refusal of a repeated id)
        imports.apply_import(store_copy, plan, actor="t")
    assert len(store_copy.read("assets")) == before
    assert outlines.read_outlines(store_copy).empty


def test_import_refusals_stay_one_plain_sentence(store_copy, tmp_path):
    path, _ = _write_parks(tmp_path)
    with pytest.raises(ImportFileError, match="Outlines come with their assets"):
        imports.import_file(path, layer=schema.OUTLINES_LAYER, store=store_copy, actor="t")
    coll = tmp_path / "collection.geojson"
    coll.write_text(
        json.dumps(
            {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "Odd", "type": "park"},
             "geometry": {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [-1.47, 53.38]}]}}]}
        )
    )  # fmt: skip
    with pytest.raises(ImportFileError, match="geometry collections"):
        _import(store_copy, coll)
    assert outlines.read_outlines(store_copy).empty


def test_a_shape_with_no_area_or_length_in_2d_is_a_point_without_outline(gpkg_copy, tmp_path):
    """A pylon drawn as a vertical line (GDAL's pylon.json) is where it stands: a point, no outline."""
    pylon = {"type": "LineString", "coordinates": [[-1.4701, 53.3811, 2.0], [-1.4701, 53.3811, 8.0]]}
    park = {"type": "Polygon", "coordinates": [[[-1.47, 53.38], [-1.46, 53.38], [-1.46, 53.385], [-1.47, 53.38]]]}
    features = [{"type": "Feature", "properties": {"name": n, "type": "park"}, "geometry": g}
                for n, g in (("Pylon", pylon), ("Park", park))]  # fmt: skip
    path = tmp_path / "pylon.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    result = _import(gpkg_copy, path)
    assert any("1 shape(s) had no area or length" in n for n in result.report.notes), result.report.notes
    assets = gpkg_copy.read("assets", ids=result.ids).set_index("name")
    shapes = outlines.read_outlines(gpkg_copy)
    assert list(shapes.index) == [assets.loc["Park", "id"]]
    assert assets.loc["Pylon", "geometry"].equals(Point(-1.4701, 53.3811))


def test_a_3d_polygon_is_stored_2d_and_a_broken_one_is_repaired(gpkg_copy, tmp_path):
    x, y = CENTRE
    bowtie = Polygon([(x, y), (x + 200, y + 200), (x + 200, y), (x, y + 200)])  # self-crossing
    raised = shapely.force_3d(Polygon([(x + 500, y), (x + 700, y), (x + 700, y + 200)]), 120.0)
    path, _ = _write_parks(tmp_path, extra=[("Bow Tie Park", bowtie), ("Hill Park", raised)])
    result = _import(gpkg_copy, path)
    shapes = outlines.read_outlines(gpkg_copy)
    assert len(shapes) == 8 and not shapes.has_z.any() and shapes.is_valid.all()
    import sqlite3

    con = sqlite3.connect(gpkg_copy.path)
    z = con.execute("SELECT z FROM gpkg_geometry_columns WHERE table_name = ?", (schema.OUTLINES_LAYER,)).fetchone()
    con.close()
    assert z == (0,)
    assert len(result.ids) == 8


# --------------------------------------------------------------------------------------------
# Distances to the edge, against brute force
# --------------------------------------------------------------------------------------------


def _brute_force(origins_27700: np.ndarray, assets: gpd.GeoDataFrame, shapes: gpd.GeoSeries) -> np.ndarray:
    """Exact distance from each origin to the nearest asset (its outline where it has one)."""
    geoms = assets.geometry.to_crs(BNG).to_numpy().copy()
    metric = shapes.to_crs(BNG)
    ids = assets["id"].astype(str).to_numpy()
    for i, asset_id in enumerate(ids):
        if asset_id in metric.index:
            geoms[i] = metric[asset_id]
    return shapely.distance(shapely.points(origins_27700)[:, None], geoms[None, :]).min(axis=1)


def _origins(shapes_27700: list, n_random: int = 150) -> np.ndarray:
    rng = np.random.default_rng(7)
    x, y = CENTRE
    pts = [(x + dx, y + dy) for dx, dy in rng.uniform(-4000, 4000, (n_random, 2))]
    for g in shapes_27700:  # inside each shape, on its edge, just outside it
        c = shapely.point_on_surface(g)
        pts.append((c.x, c.y))
        b = g.boundary if g.geom_type != "LineString" else g
        p = b.interpolate(0.37, normalized=True)
        pts += [(p.x, p.y), (p.x + 7.0, p.y - 3.0), (p.x + 40.0, p.y + 25.0)]
    pts.append((CENTRE[0] + 1800, CENTRE[1] + 300))  # in the pond: outside the park, 100 m from its edge
    return np.array(pts)


def test_near_reports_the_distance_to_the_nearest_park_edge(parks_store):
    store, result = parks_store
    active = analysis.filter_assets(store.read("assets"))
    shapes = outlines.read_outlines(store)
    parks = active[active["type"] == "park"]
    lonlat = gpd.GeoSeries(shapely.points(_origins([g for _, g in _parks_27700()])), crs=BNG).to_crs(4326)
    origins = shapely.get_coordinates(lonlat.to_crs(BNG).to_numpy())  # as near() sees them (via lon/lat)
    expected = _brute_force(origins, parks, shapes)
    tax = store_taxonomy(store)
    got = []
    for p in lonlat:
        r = access.near(p.x, p.y, active, taxonomy=tax, within_m=800, outlines=shapes)
        got.append(float(r.nearest.loc[r.nearest["type"] == "park", "distance_m"].iloc[0]))
    got = np.array(got)
    # the docstring's bound; the reported distance is never below the true nearest
    assert (got >= expected - 1e-6).all() and (got <= expected + access.OUTLINE_ERROR_M).all()
    assert np.isclose(got, expected, atol=1e-6).mean() > 0.95
    inside = expected == 0
    assert inside.sum() >= 5 and (got[inside] == 0).all()  # 0 inside a park
    pond = got[-1]
    assert pond == pytest.approx(100.0, abs=0.01)  # the pond is not the park (stored in lon/lat: mm apart)
    # the nearest park is named too: the square park from inside it
    x, y = CENTRE
    inside_square = gpd.GeoSeries([Point(x + 200, y + 150)], crs=BNG).to_crs(4326).iloc[0]
    r = access.near(inside_square.x, inside_square.y, active, taxonomy=tax, outlines=shapes)
    row = r.nearest[r.nearest["type"] == "park"].iloc[0]
    assert row["name"] == "Square Park" and row["distance_m"] == 0


def test_nearest_of_each_type_matches_brute_force_for_many_shapes():
    """Hundreds of random polygons and lines mixed with points, several types."""
    rng = np.random.default_rng(3)
    n_shapes, n_points = 400, 600
    cx, cy = rng.uniform(0, 20_000, n_shapes) + 400_000, rng.uniform(0, 20_000, n_shapes) + 380_000
    shapes = [
        Point(a, b).buffer(rng.uniform(10, 400), quad_segs=int(rng.integers(1, 8)))
        if k % 4
        else LineString([(a, b), (a + rng.uniform(-800, 800), b + rng.uniform(-800, 800))])
        for k, (a, b) in enumerate(zip(cx, cy, strict=True))
    ]
    pts = list(shapely.points(np.column_stack([rng.uniform(0, 20_000, n_points) + 400_000, rng.uniform(0, 20_000, n_points) + 380_000])))  # fmt: skip
    ids = [f"s{i}" for i in range(n_shapes)] + [f"p{i}" for i in range(n_points)]
    types = rng.choice(["park", "school", "allotment"], len(ids))
    types[:3] = ["allotment", "park", "school"]
    assets = gpd.GeoDataFrame(
        {"id": ids, "type": types}, geometry=[shapely.point_on_surface(g) for g in shapes] + pts, crs=BNG
    )
    shape_series = gpd.GeoSeries(shapes, index=pd.Index(ids[:n_shapes]), crs=BNG)
    origins = gpd.GeoSeries(
        shapely.points(
            np.column_stack([rng.uniform(0, 20_000, 3000) + 400_000, rng.uniform(0, 20_000, 3000) + 380_000])
        ),
        crs=BNG,
    )
    table = access.nearest_of_each_type(origins, assets, outlines=shape_series)
    true = np.array(shapes + pts, dtype=object)
    n = len(origins)
    for k, t in enumerate(table.types):
        members = np.flatnonzero(types == t)
        bf = shapely.distance(origins.to_numpy()[:, None], true[members][None, :]).min(axis=1)
        got = table.distance_m[k * n : (k + 1) * n]
        chosen = table.asset[k * n : (k + 1) * n]
        assert (types[chosen] == t).all()
        # the distance reported is the exact distance to the asset reported
        assert np.allclose(shapely.distance(origins.to_numpy(), true[chosen]), got, atol=1e-6)
        assert (got >= bf - 1e-6).all() and (got <= bf + access.OUTLINE_ERROR_M).all()
        assert np.isclose(got, bf, atol=1e-6).mean() > 0.99
    # without outlines the same call is the plain point search
    plain = access.nearest_of_each_type(origins, assets)
    bf_points = shapely.distance(origins.to_numpy()[:, None], assets.geometry.to_numpy()[None, types == "park"]).min(axis=1)  # fmt: skip
    assert np.allclose(plain.distance_m[n * table.types.index("park") : n * (table.types.index("park") + 1)], bf_points)


def test_gaps_and_2sfca_measure_to_the_edge(parks_store):
    store, _ = parks_store
    active = analysis.filter_assets(store.read("assets"))
    shapes = outlines.read_outlines(store)
    lsoas = store.read("lsoas")
    table = access.gaps(lsoas, active, type_id="park", within_m=800, outlines=shapes)
    pts = access.area_points(lsoas)
    parks = active[active["type"] == "park"]
    expected = _brute_force(shapely.get_coordinates(pts.to_numpy()), parks, shapes)
    assert (table["distance_m"].to_numpy() >= expected - 1e-6).all()
    assert (table["distance_m"].to_numpy() <= expected + access.OUTLINE_ERROR_M).all()
    plain = access.gaps(lsoas, active, type_id="park", within_m=800)
    assert (table["distance_m"] <= plain["distance_m"] + 1e-6).all()  # an edge is never farther than its point
    assert (table["distance_m"] < plain["distance_m"] - 1).any()
    # 2SFCA: a demand point is in a park's catchment when within 800 m of its edge (brute force)
    geoms = parks.geometry.to_crs(BNG).to_numpy().copy()
    metric = shapes.to_crs(BNG)
    for i, asset_id in enumerate(parks["id"].astype(str)):
        if asset_id in metric.index:
            geoms[i] = metric[asset_id]
    near = shapely.distance(pts.to_numpy()[:, None], geoms[None, :]) <= 800
    pop = pd.to_numeric(lsoas["population"], errors="coerce").fillna(0).to_numpy()
    demand = (near * pop[:, None]).sum(axis=0)
    ratio = np.divide(1.0, demand, out=np.zeros(len(geoms)), where=demand > 0)
    score = (near * ratio[None, :]).sum(axis=1) * 1000
    assert np.allclose(table["score_2sfca"].to_numpy(), score)


def test_assets_within_measures_to_the_edge(parks_store):
    store, _ = parks_store
    active = analysis.filter_assets(store.read("assets"))
    shapes = outlines.read_outlines(store)
    x, y = CENTRE
    origin = gpd.GeoSeries([Point(x + 200, y + 150)], crs=BNG).to_crs(4326).iloc[0]
    got = access.assets_within(origin.x, origin.y, active, within_m=300, outlines=shapes).set_index("name")
    assert got.loc["Square Park", "distance_m"] == 0


def test_cli_near_reports_the_edge_on_both_backends(parks_store, capsys):
    store, _ = parks_store
    data = store.url if store.backend == "postgis" else str(store.path)
    x, y = CENTRE
    checks = [(Point(x + 200, y + 150), "Square Park", 0.0), (Point(x + 1800, y + 300), "Pond Park", 100.0)]
    for pt, name, distance in checks:
        p = gpd.GeoSeries([pt], crs=BNG).to_crs(4326).iloc[0]
        assert main(["near", "--lonlat", f"{p.x:.9f},{p.y:.9f}", "--data", data, "--json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        park = next(r for r in doc["nearest"] if r["type"] == "park")
        assert park["name"] == name and park["distance_m"] == pytest.approx(distance, abs=0.2)


def test_postgis_near_candidates_include_the_nearest_outline(parks_store):
    store, _ = parks_store
    if store.backend != "postgis":
        pytest.skip("PostGIS only: the GeoPackage backend has no candidate search")
    x, y = CENTRE
    # 5 m from the thin strip's west end, 1.5 km from its point; the trail's point is 421 m away
    p = gpd.GeoSeries([Point(x + 595, y - 1790)], crs=BNG).to_crs(4326).iloc[0]
    found = store.near_candidates((p.x, p.y), types=["park"], k=1)
    assert {"Thin Strip Park", "River Trail"} <= set(found["name"])  # by outline, and by point
    active = analysis.filter_assets(found)
    r = access.near(p.x, p.y, active, taxonomy=store_taxonomy(store), outlines=outlines.read_outlines(store))
    row = r.nearest[r.nearest["type"] == "park"].iloc[0]
    assert row["name"] == "Thin Strip Park" and row["distance_m"] == pytest.approx(5.0, abs=0.01)


# --------------------------------------------------------------------------------------------
# Removed assets and undo
# --------------------------------------------------------------------------------------------


def test_a_removed_park_loses_its_outline_everywhere_and_undo_brings_it_back(parks_store):
    store, result = parks_store
    tax = store_taxonomy(store)
    square = store.read("assets", where={"name": "Square Park"}).iloc[0]
    x, y = CENTRE
    p = gpd.GeoSeries([Point(x + 200, y + 150)], crs=BNG).to_crs(4326).iloc[0]

    def nearest_park() -> tuple[str, float, int]:
        active = analysis.filter_assets(store.read("assets"))
        shapes = outlines.read_outlines(store)
        r = access.near(p.x, p.y, active, taxonomy=tax, outlines=shapes)
        row = r.nearest[r.nearest["type"] == "park"].iloc[0]
        from geo.web import maps

        layer = maps.outline_layer(active, shapes, taxonomy=tax)
        return row["name"], row["distance_m"], layer.count

    assert nearest_park() == ("Square Park", 0.0, 6)
    editing.remove_asset(store, square["id"], actor="editor")
    name, distance, drawn = nearest_park()
    assert name != "Square Park" and distance > 0 and drawn == 5
    assert square["id"] in outlines.read_outlines(store).index  # kept for undo
    changes = editing.history(store, feature_id=square["id"])
    removal = changes[changes["action"] == "remove"].iloc[0]
    editing.undo(store, removal["key"], actor="editor")
    assert nearest_park() == ("Square Park", 0.0, 6)


# --------------------------------------------------------------------------------------------
# Exports
# --------------------------------------------------------------------------------------------


def test_exports_carry_the_outlines(parks_store, tmp_path):
    store, result = parks_store
    gpkg = tmp_path / "parks.gpkg"
    res = exports.export_layer(store, "assets", fmt="gpkg", out_path=gpkg, type_id="park")
    assert res.layers[schema.OUTLINES_LAYER] == 6
    layers = {name for name, _ in pyogrio.list_layers(gpkg)}
    assert {"assets", schema.OUTLINES_LAYER} <= layers
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = gpd.read_file(gpkg, layer=schema.OUTLINES_LAYER)
        pts = gpd.read_file(gpkg, layer="assets")
    assert set(back["id"]) == set(result.ids) and set(back["id"]) <= set(pts["id"])
    assert set(back.geom_type) == {"MultiPolygon", "MultiLineString"}
    stored = outlines.read_outlines(store)
    for r in back.itertuples():
        assert r.geometry.equals_exact(stored[r.id], tolerance=1e-9)

    plain = tmp_path / "points.geojson"
    exports.export_layer(store, "assets", fmt="geojson", out_path=plain, type_id="park")
    assert set(gpd.read_file(plain).geom_type) == {"Point"}
    shaped = tmp_path / "outlines.geojson"
    assert main(["export", "--layer", "assets", "--format", "geojson", "--outlines",
                 "--out", str(shaped), "--data", store.url if store.backend == "postgis" else str(store.path)]) == 0  # fmt: skip
    got = gpd.read_file(shaped).set_index("id")
    for asset_id in result.ids:
        assert got.loc[asset_id, "geometry"].equals_exact(stored[asset_id], tolerance=1e-9)
    others = got.drop(index=result.ids)
    assert len(others) and set(others.geom_type) == {"Point"}  # the demo's assets keep their points

    page = tmp_path / "parks.html"
    exports.export_layer(store, "assets", fmt="html", out_path=page, type_id="park", tiles="none")
    html = page.read_text(encoding="utf-8")
    assert "L.geoJSON(data" in html and "Pond Park" in html
    assert "Star \\u007b\\u007b7*7\\u007d\\u007d" in html and "<img src=x" not in html  # text, not Jinja or HTML


def test_removed_assets_outlines_are_not_exported(parks_store, tmp_path):
    store, result = parks_store
    square = store.read("assets", where={"name": "Square Park"}).iloc[0]
    editing.remove_asset(store, square["id"], actor="editor")
    res = exports.export_layer(store, "assets", fmt="gpkg", out_path=tmp_path / "a.gpkg", type_id="park")
    assert res.layers[schema.OUTLINES_LAYER] == 5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = gpd.read_file(tmp_path / "a.gpkg", layer=schema.OUTLINES_LAYER)
    assert square["id"] not in set(back["id"])
    with pytest.raises(ExportError, match="exported with their assets"):
        exports.export_layer(store, schema.OUTLINES_LAYER, fmt="gpkg", out_path=tmp_path / "b.gpkg")
    with pytest.raises(ExportError, match="assets GeoJSON"):
        exports.export_layer(store, "assets", fmt="shp", out_path=tmp_path / "c.zip", geometry="outline")


def test_copying_a_store_keeps_its_outlines(parks_store, tmp_path):
    store, result = parks_store
    if store.backend != "gpkg":
        pytest.skip("one copy is enough: GeoPackage to GeoPackage")
    import shutil

    target = tmp_path / "copy.gpkg"
    shutil.copyfile(schema.DEMO_GPKG, target)
    assert main(["copy", str(store.path), str(target), "--replace"]) == 0
    copied = outlines.read_outlines(open_store(target))
    assert sorted(copied.index) == sorted(result.ids)
