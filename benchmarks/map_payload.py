"""Payload size and speed of the explorer map against naive folium markers.

Run on demand from the project root (this is not a test)::

    .venv/bin/python benchmarks/map_payload.py [--n 100000] [--seed 42]

It builds ``n`` synthetic assets over Sheffield (names sampled from the demo store, all 18
taxonomy types, an address each) and renders two maps in one process: first the project's engine
(:func:`geo.web.maps.explorer_map`, called as the Explore page calls it), then the naive approach of
one ``folium.Marker`` with a tooltip and popup per asset. For each it reports the rendered HTML
size, the bytes per asset (HTML of ``n`` assets minus HTML of an empty map, divided by ``n``, so
fixed page overhead is excluded) and the build + render time. The issue asks the explorer map to
cost at most 60 bytes per asset including name and type. The popup details (address, hours, ...)
are not in the page: the app serves them as a separate file fetched on the first click, and its
size per asset is reported too so the saving is not overstated.

The last line is machine-readable: ``bytes_per_asset=B speedup_vs_markers=S``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo import schema  # noqa: E402
from geo.web import maps  # noqa: E402

STORE = ROOT / "data" / "sheffield.gpkg"


def make_assets(n: int, seed: int = 42) -> gpd.GeoDataFrame:
    """Synthetic assets spread uniformly over the bounding box of Sheffield's wards.

    Parameters
    ----------
    n
        Number of assets.
    seed
        Seed of the random generator, so runs are repeatable.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``id``, ``name``, ``type``, ``category``, ``address`` and point geometry, EPSG:4326.
    """
    rng = np.random.default_rng(seed)
    real_names = gpd.read_file(STORE, layer="assets")["name"].dropna().astype(str).to_numpy()
    xmin, ymin, xmax, ymax = gpd.read_file(STORE, layer="wards").to_crs(schema.STORAGE_CRS).total_bounds
    types = schema.load_taxonomy().types
    type_ids = rng.choice(list(types), size=n)
    picked = rng.choice(real_names, size=n)
    return gpd.GeoDataFrame(
        {
            "id": [str(uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in range(n)],
            "name": [f"{name} {i % 1000}" for i, name in enumerate(picked)],
            "type": type_ids,
            "category": [types[t].category for t in type_ids],
            "address": [f"{i} Some Street, Sheffield, S1 2AB" for i in range(n)],
        },
        geometry=gpd.points_from_xy(rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n)),
        crs=schema.STORAGE_CRS,
    )


def engine_map(assets: gpd.GeoDataFrame) -> folium.Map:
    """The explorer map exactly as the Explore page builds it (scripts and details served by the app)."""
    return maps.explorer_map(
        assets,
        taxonomy=schema.load_taxonomy(),
        boundaries=None,
        assets_base_url="/app/static/vendor",
        details_url="/app/static/details/bench.json",
    )


def marker_map(assets: gpd.GeoDataFrame) -> folium.Map:
    """The naive baseline: one ``folium.Marker`` with tooltip and popup per asset."""
    m = folium.Map(location=[53.38, -1.47], zoom_start=11)
    for lon, lat, name in zip(assets.geometry.x, assets.geometry.y, assets["name"], strict=True):
        folium.Marker([lat, lon], tooltip=name, popup=name).add_to(m)
    return m


def measure(build: Callable[[gpd.GeoDataFrame], folium.Map], assets: gpd.GeoDataFrame) -> tuple[int, float, float]:
    """Build and render a map of ``assets`` and of no assets.

    Returns
    -------
    tuple of (int, float, float)
        HTML bytes with the assets, bytes per asset beyond the empty map, build + render seconds.
    """
    empty = len(build(assets.iloc[:0]).get_root().render().encode())
    start = time.perf_counter()
    size = len(build(assets).get_root().render().encode())
    seconds = time.perf_counter() - start
    return size, (size - empty) / max(len(assets), 1), seconds


def peak_mb() -> float:
    """Peak resident memory of this process so far, in MB (``ru_maxrss`` is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table, then the summary line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="number of synthetic assets (default 100000)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    args = parser.parse_args(argv)

    assets = make_assets(args.n, args.seed)
    mean_name = assets["name"].str.len().mean()
    print(f"assets: {args.n:,}  types: {assets['type'].nunique()}  mean name length: {mean_name:.1f} chars")
    tax = schema.load_taxonomy()
    details = len(maps.asset_details_json(maps.order_for_map(assets, taxonomy=tax)).encode()) / args.n

    e_size, e_per, e_sec = measure(engine_map, assets)
    e_mem = peak_mb()
    m_size, m_per, m_sec = measure(marker_map, assets)
    m_mem = peak_mb()

    print(f"\n{'method':<22}{'bytes/asset':>12}{'seconds':>10}{'HTML MB':>10}{'peak RSS MB':>13}")
    print(f"{'explorer_map':<22}{e_per:>12.1f}{e_sec:>10.2f}{e_size / 1e6:>10.2f}{e_mem:>13.0f}")
    print(f"{'folium.Marker each':<22}{m_per:>12.1f}{m_sec:>10.2f}{m_size / 1e6:>10.2f}{m_mem:>13.0f}")
    print(f"\npopup details file (separate, fetched on first click): {details:.1f} bytes/asset")
    print("peak RSS is cumulative for the process (engine runs first)")
    print(f"bytes_per_asset={e_per:.1f} speedup_vs_markers={m_sec / e_sec:.1f}")


if __name__ == "__main__":
    main()
