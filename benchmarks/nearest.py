"""Speed and memory of nearest-asset-of-every-type at England scale, against two baselines.

Run on demand from the project root (this is not a test)::

    .venv/bin/python benchmarks/nearest.py [--areas 32844] [--assets 1000000] [--polygons 10000] [--types 20] [--loop 500] [--seed 42]

The issue asks that the nearest asset of each of 20 types for all 32,844 LSOAs of England against a
million assets take at most twice the time of bare shapely, at least 20 times less than a per-area
loop, and under 2 GB. Data are built directly in EPSG:27700 (no reprojection is timed): the real
LSOA points of ``/work/shared/data/england/england_lsoa.gpkg`` as origins when present (else uniform
points over England's bounding box), assets with 1.5 km Gaussian noise around random origins, types
of unequal frequencies. Timed in one process: the engine (:func:`geo.analysis.access.nearest_of_each_type`)
and the floor (one ``shapely.STRtree`` per type, split and tree building included as in the engine),
best of 3; and once, a per-area geopandas loop over the first ``--loop`` areas, extrapolated to all.
Distances must agree within 1e-6 m, or the script exits with status 1. Memory is the peak RSS.

Assets with shapes (issue 12): ``--polygons`` more assets (default 10,000) are parks: irregular
polygons 30 to 300 m across around random origins, with the same type frequencies. The engine gets
each one's representative point as the asset and its outline through ``outlines=`` (measured to the
edge, 0 inside, through the densified-vertex k-d tree); the STRtree floor and the loop measure the
polygons themselves, exactly. Where a polygon is the nearest asset the engine may overstate the
distance by at most :data:`geo.analysis.access.OUTLINE_ERROR_M` (12.5 m): the check allows that and no more,
and prints how many (area, type) distances are not exact and the largest difference.

The last line is machine-readable: ``ratio_vs_strtree=R speedup_vs_loop=S peak_mb=P``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo.analysis.access import OUTLINE_ERROR_M, clear_index_cache, nearest_of_each_type  # noqa: E402
from geo.schema import METRIC_CRS  # noqa: E402

LSOA = Path("/work/shared/data/england/england_lsoa.gpkg")
ENGLAND_BOX = (85_000.0, 10_000.0, 655_000.0, 657_000.0)  # xmin, ymin, xmax, ymax in EPSG:27700


def make_data(n_areas: int, n_assets: int, n_types: int, seed: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, str]:
    """Synthetic origins and typed assets in EPSG:27700.

    Parameters
    ----------
    n_areas, n_assets, n_types
        Numbers of origins, assets and asset types.
    seed
        Seed of the random generator, so runs are repeatable.

    Returns
    -------
    tuple
        The origins (points), the assets (points, ``type`` column) and where the locations came from.
    """
    rng = np.random.default_rng(seed)
    if LSOA.exists():
        layer = pyogrio.list_layers(LSOA)[0][0]
        pts = gpd.read_file(LSOA, layer=layer, columns=[]).geometry.to_crs(METRIC_CRS)
        xy = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
        if n_areas != len(xy):  # a sample of the LSOAs (with repeats if more are asked for)
            xy = xy[np.sort(rng.choice(len(xy), n_areas, replace=n_areas > len(xy)))]
        axy = xy[rng.integers(0, len(xy), n_assets)] + rng.normal(0, 1500.0, (n_assets, 2))
        source = f"real LSOA points ({LSOA.name}, layer {layer}); assets within ~1.5 km of them"
    else:
        xmin, ymin, xmax, ymax = ENGLAND_BOX
        xy = rng.uniform((xmin, ymin), (xmax, ymax), (n_areas, 2))
        axy = rng.uniform((xmin, ymin), (xmax, ymax), (n_assets, 2))
        source = "uniform random points over England's bounding box (no LSOA file)"
    weights = 1.0 / np.arange(1, n_types + 1)  # Zipf-like: the commonest type is n_types times the rarest
    names = np.array([f"type_{k:02d}" for k in range(n_types)], dtype=object)
    types = names[rng.choice(n_types, n_assets, p=weights / weights.sum())]
    origins = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=METRIC_CRS)
    assets = gpd.GeoDataFrame({"type": types}, geometry=gpd.points_from_xy(axy[:, 0], axy[:, 1]), crs=METRIC_CRS)
    return origins, assets, source


def make_parks(
    origins: gpd.GeoDataFrame, n_parks: int, n_types: int, seed: int
) -> tuple[gpd.GeoDataFrame, gpd.GeoSeries]:
    """``n_parks`` polygon assets near random origins: their points (representative points, with
    ``id`` and ``type``) and their outlines (indexed by ``id``), in EPSG:27700.

    Each is an irregular 16-gon of radius 15 to 150 m (every vertex at 60-100% of it).
    """
    rng = np.random.default_rng(seed + 1)
    xy = np.column_stack([origins.geometry.x.to_numpy(), origins.geometry.y.to_numpy()])
    centre = xy[rng.integers(0, len(xy), n_parks)] + rng.normal(0, 1500.0, (n_parks, 2))
    k = 16
    angles = np.sort(rng.uniform(0, 2 * np.pi, (n_parks, k)), axis=1)
    radius = rng.uniform(15.0, 150.0, (n_parks, 1)) * rng.uniform(0.6, 1.0, (n_parks, k))
    ring = np.stack([centre[:, :1] + radius * np.cos(angles), centre[:, 1:] + radius * np.sin(angles)], axis=2)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    polygons = shapely.make_valid(shapely.polygons(ring))
    weights = 1.0 / np.arange(1, n_types + 1)
    names = np.array([f"type_{k:02d}" for k in range(n_types)], dtype=object)
    types = names[rng.choice(n_types, n_parks, p=weights / weights.sum())]
    ids = np.array([f"park-{i}" for i in range(n_parks)], dtype=object)
    points = gpd.GeoDataFrame({"id": ids, "type": types}, geometry=shapely.point_on_surface(polygons), crs=METRIC_CRS)
    outlines = gpd.GeoSeries(polygons, index=pd.Index(ids, name="id"), crs=METRIC_CRS)
    return points, outlines


def strtree_floor(origin_geoms: np.ndarray, asset_geoms: np.ndarray, asset_types: np.ndarray) -> np.ndarray:
    """Nearest distance of every type for every origin with bare shapely: one STRtree per type.

    Returns
    -------
    numpy.ndarray
        Distances in the engine's long order: all origins for the first (sorted) type, then the next.
    """
    codes, uniques = pd.factorize(asset_types, sort=True)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(1, len(uniques)))
    n = len(origin_geoms)
    dist = np.empty(n * len(uniques))
    for k, part in enumerate(np.split(asset_geoms[order], bounds)):
        idx, d = shapely.STRtree(part).query_nearest(origin_geoms, return_distance=True, all_matches=False)
        dist[k * n + idx[0]] = d
    return dist


def per_area_loop(origins: gpd.GeoDataFrame, by_type: dict[str, gpd.GeoSeries], n: int) -> np.ndarray:
    """Nearest distance of every type for the first ``n`` origins, one area at a time (geopandas).

    Returns
    -------
    numpy.ndarray
        Shape ``(n_types, n)``, types in the order of ``by_type``.
    """
    out = np.empty((len(by_type), n))
    for i, point in enumerate(origins.geometry.iloc[:n]):
        for k, geoms in enumerate(by_type.values()):
            out[k, i] = geoms.distance(point).min()
    return out


def best_of(fn: Callable[[], object], repeat: int = 3) -> tuple[float, object]:
    """Best wall time in seconds of ``repeat`` calls of ``fn``, and the last call's result."""
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main(argv: list[str] | None = None) -> int:
    """Build the data, time the three methods, verify them and print the figures.

    Returns
    -------
    int
        0 when every method agrees, 1 otherwise.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areas", type=int, default=32_844)
    parser.add_argument("--assets", type=int, default=1_000_000)
    parser.add_argument("--polygons", type=int, default=10_000, help="polygon assets (parks) added to the points")
    parser.add_argument("--types", type=int, default=20)
    parser.add_argument("--loop", type=int, default=500, help="areas timed in the per-area loop")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    origins, assets, source = make_data(args.areas, args.assets, args.types, args.seed)
    parks, outlines = make_parks(origins, args.polygons, args.types, args.seed)
    assets = pd.concat(
        [assets.assign(id=np.char.add("a", np.arange(len(assets)).astype(str)).astype(object)), parks],
        ignore_index=True,
    )
    true_geoms = assets.geometry.to_numpy().copy()  # what the floor and the loop measure: parks as polygons
    true_geoms[len(assets) - len(parks) :] = outlines.to_numpy()
    n = len(origins)
    n_loop = min(args.loop, n)
    geoms = origins.geometry.to_numpy(), true_geoms, assets["type"].to_numpy()

    def engine():  # cold every time: the engine reuses a frame's trees (access._type_index), not timed here
        clear_index_cache()
        return nearest_of_each_type(origins, assets, outlines=outlines)

    t_engine, table = best_of(engine)
    t_floor, floor = best_of(lambda: strtree_floor(*geoms))
    by_type = {t: g for t, g in gpd.GeoSeries(true_geoms, crs=METRIC_CRS).groupby(assets["type"], sort=True)}
    start = time.perf_counter()
    loop = per_area_loop(origins, by_type, n_loop)
    t_loop = (time.perf_counter() - start) * n / n_loop
    tracemalloc.start()
    engine()
    traced_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    engine_d = table.distance_m
    tol = OUTLINE_ERROR_M + 1e-6  # the stated bound; points alone must agree within 1e-6 m
    over = engine_d - floor if len(engine_d) == len(floor) else np.array([np.inf])
    ok_floor = len(engine_d) == len(floor) and bool((over >= -1e-6).all() and (over <= tol).all())
    inexact, worst = int((np.abs(over) > 1e-6).sum()), float(np.abs(over).max())
    over_loop = engine_d.reshape(len(table.types), n)[:, :n_loop] - loop
    ok_loop = bool((over_loop >= -1e-6).all() and (over_loop <= tol).all())
    ratio, speedup = t_engine / t_floor, t_loop / t_engine
    print(f"data: {source}")
    rows = [
        ("areas", f"{n:,}"),
        ("assets (points + polygons)", f"{len(assets) - len(parks):,} + {len(parks):,}"),
        ("types", f"{len(table.types)}"),
        ("engine (s, best of 3)", f"{t_engine:.3f}"),
        ("STRtree floor (s, best of 3)", f"{t_floor:.3f}"),
        (f"per-area loop (s, {n_loop} areas x{n / n_loop:.1f})", f"{t_loop:.1f}"),
        ("engine / floor (target <= 2)", f"{ratio:.2f}"),
        ("loop / engine (target >= 20)", f"{speedup:.1f}"),
        ("peak RSS, process (MB, < 2048)", f"{peak_mb:.0f}"),
        ("engine call, tracemalloc peak (MB)", f"{traced_mb:.0f}"),
    ]
    for label, value in rows:
        print(f"{label:<38}{value:>12}")
    print(
        f"verify: engine = STRtree floor for all {len(engine_d):,} (area, type), within {OUTLINE_ERROR_M:g} m "
        f"where a polygon is nearest: {'OK' if ok_floor else 'FAILED'} ({inexact:,} not exact, largest "
        f"difference {worst:.3f} m)"
    )
    print(f"verify: engine = loop minima for the first {n_loop} areas (same bound): {'OK' if ok_loop else 'FAILED'}")
    print(f"ratio_vs_strtree={ratio:.2f} speedup_vs_loop={speedup:.1f} peak_mb={peak_mb:.0f}")
    return 0 if ok_floor and ok_loop else 1


if __name__ == "__main__":
    sys.exit(main())
