"""Reading a 100,000-point layer from PostGIS: the store's COPY + Arrow reader against read_postgis.

Run on demand from the project root (this is not a test)::

    ./run postgis                                   # or any server where CREATE DATABASE works
    .venv/bin/python benchmarks/postgis_read.py [--url postgresql://postgres@127.0.0.1:5433/postgres] [--rows 100000]

The server is ``--url``, else ``$COMMON_GROUND_TEST_PG``, else the local cluster of ``./run postgis``.
A throwaway database is created, filled with an ``assets`` layer of ``--rows`` points carrying every
schema column (text of realistic length, some empty), and dropped at the end. Timed, best of 3, each
producing the same GeoDataFrame (EPSG:4326, schema dtypes, fid order):

* ``copy_csv_arrow``: :meth:`geo.store.postgis.PostGISStore.read` (``COPY ... TO STDOUT (FORMAT CSV)``
  parsed by Arrow's multithreaded CSV reader; points as x and y, other geometries as hex EWKB);
* ``copy_binary``: binary ``COPY`` parsed row by row by psycopg's C loaders, geometry as EWKB;
* ``read_postgis``: ``geopandas.read_postgis`` on a psycopg connection (pandas' DBAPI path).

The last line is machine-readable: ``copy_csv_arrow_s=A copy_binary_s=B read_postgis_s=C rows=N``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo import schema  # noqa: E402
from geo.store.postgis import PostGISStore, redact_url  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5433/postgres"


def make_assets(n: int, seed: int = 42) -> gpd.GeoDataFrame:
    """``n`` synthetic assets around Sheffield with every schema column filled like real data."""
    rng = np.random.default_rng(seed)
    types = np.array(["library", "park", "food_bank", "gp_practice", "school", "community_centre"])
    i = np.arange(n)
    frame = pd.DataFrame(
        {
            "id": [f"asset-{k:07d}" for k in i],
            "name": [f"Community place number {k}" for k in i],
            "category": "physical_spaces",
            "type": types[rng.integers(0, len(types), n)],
            "description": np.where(i % 3 == 0, "A friendly place with a cafe, rooms to hire and free wifi.", None),
            "address": [f"{k % 300 + 1} Example Road, Sheffield" for k in i],
            "postcode": "S1 2BX",
            "url": np.where(i % 2 == 0, "https://example.org/place", None),
            "status": np.where(i % 10 == 0, "closed", "active"),
            "source": "synthetic",
            "licence": "OGL-UK-3.0",
            "verified_on": "2025-01-01",
            "created_at": "2025-01-01T00:00:00Z",
            "created_by": "benchmark",
            "updated_at": "2025-01-01T00:00:00Z",
            "updated_by": "benchmark",
            "version": 1,
        }
    )
    geom = gpd.points_from_xy(rng.uniform(-1.60, -1.30, n), rng.uniform(53.30, 53.50, n))
    return gpd.GeoDataFrame(frame, geometry=geom, crs=schema.STORAGE_CRS)


def read_copy_binary(url: str, columns: list[str]) -> gpd.GeoDataFrame:
    """Binary COPY, rows parsed by psycopg, then columns into pandas and EWKB into shapely."""
    query = sql.SQL("COPY (SELECT {}, geom FROM assets ORDER BY fid) TO STDOUT (FORMAT BINARY)").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    types = ["int8" if c == "version" else "text" for c in columns] + ["bytea"]
    with psycopg.connect(url) as conn, conn.cursor() as cur, cur.copy(query) as copy:
        copy.set_types(types)
        rows = list(copy.rows())
    data = list(zip(*rows, strict=True)) if rows else [[] for _ in types]
    frame = pd.DataFrame({c: pd.Series(data[k], dtype=object) for k, c in enumerate(columns)})
    geoms = shapely.from_wkb(np.array(data[-1], dtype=object))
    out = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=schema.STORAGE_CRS))
    return schema.conform(out, "assets")


def read_with_read_postgis(url: str, columns: list[str]) -> gpd.GeoDataFrame:
    """geopandas.read_postgis on a plain psycopg connection."""
    query = sql.SQL("SELECT {}, geom FROM assets ORDER BY fid").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    with psycopg.connect(url) as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pandas: "only supports SQLAlchemy connectable"
        frame = gpd.read_postgis(query.as_string(conn), conn, geom_col="geom", crs=schema.STORAGE_CRS)
    frame = frame.rename_geometry("geometry")
    return schema.conform(frame, "assets")


def best_of(n: int, fn: Callable[[], gpd.GeoDataFrame]) -> tuple[float, gpd.GeoDataFrame]:
    times, out = [], None
    for _ in range(n):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=os.environ.get("COMMON_GROUND_TEST_PG") or DEFAULT_URL)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    name = f"cg_bench_read_{os.getpid()}"
    try:
        admin = psycopg.connect(args.url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        print(f"Cannot connect to {redact_url(args.url)} ({exc}); start one with ./run postgis.", file=sys.stderr)
        return 2
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            url = args.url.rsplit("/", 1)[0] + "/" + name
            assets = make_assets(args.rows)
            with PostGISStore(url) as store:
                t = time.perf_counter()
                store.replace_layer("assets", assets, actor="benchmark")
                write_s = time.perf_counter() - t
                columns = store.columns("assets")
                results = {
                    "copy_csv_arrow": best_of(args.repeat, lambda: store.read("assets")),
                    "copy_binary": best_of(args.repeat, lambda: read_copy_binary(url, columns)),
                    "read_postgis": best_of(args.repeat, lambda: read_with_read_postgis(url, columns)),
                }
            reference = results["copy_csv_arrow"][1]
            for key, (_, frame) in results.items():
                pd.testing.assert_frame_equal(
                    pd.DataFrame(frame.drop(columns="geometry")),
                    pd.DataFrame(reference.drop(columns="geometry")),
                    check_dtype=False,
                    obj=key,
                )
                assert frame.geometry.geom_equals_exact(reference.geometry, tolerance=0).all(), key
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    base = results["read_postgis"][0]
    print(f"Reading {args.rows:,} points ({len(columns)} columns) from {redact_url(args.url)}, best of {args.repeat}:")
    print(f"  {'method':<16}{'seconds':>10}{'rows/s':>14}{'vs read_postgis':>18}")
    for key, (secs, _) in results.items():
        print(f"  {key:<16}{secs:>10.3f}{args.rows / secs:>14,.0f}{base / secs:>17.1f}x")
    print(f"  (bulk write with replace_layer, CSV COPY, indexes built after: {write_s:.3f} s)")
    print(" ".join(f"{k}_s={v[0]:.3f}" for k, v in results.items()) + f" rows={args.rows}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
