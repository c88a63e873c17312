"""Edit speed and concurrency of each store backend, side by side in one run (figures, never pass/fail).

For each backend (GeoPackage always; PostGIS when a server is given by ``--pg URL`` or
``$COMMON_GROUND_TEST_PG``, a URL where ``CREATE DATABASE`` works):

* the median single edit (``geo.editing.update_asset`` with ``if_version``, in-process) in a copy of
  the 322-asset demo and in a store holding 100,000 more assets;
* 8 processes × 100 edits at once on the 100,000-asset store, each edit made from the version it
  read (optimistic concurrency: a refused stale edit is re-read and retried, as a person would),
  drawn from a pool of 400 assets so that editors collide: throughput, failures (an edit that did
  not land after retries), retries, and lost updates, counted by reading every feature back
  (the sum of version increments and the audit entries must both equal the edits that landed).

Prints a table, then as its last line::

    gpkg_edit_ms_100k=… gpkg_edits_per_s_8w=… postgis_edit_ms_100k=… postgis_edits_per_s_8w=… lost=0 failed=0

Run: ``.venv/bin/python benchmarks/edits.py [--pg postgresql://postgres@127.0.0.1:54329/postgres]``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo import editing, schema  # noqa: E402
from geo.errors import VersionConflictError  # noqa: E402
from geo.store import open_store  # noqa: E402
from geo.store.copy import copy_store  # noqa: E402

N_BIG = 100_000
WORKERS = 8
EDITS_PER_WORKER = 100
POOL = 400
SINGLE_EDITS = 60
MAX_RETRIES = 50


def synthetic_assets(n: int, *, seed: int = 7) -> gpd.GeoDataFrame:
    """``n`` assets of the demo's types scattered over the demo's area."""
    rng = np.random.default_rng(seed)
    types = ["gp_practice", "pharmacy", "library", "food_bank", "community_centre", "park"]
    tax = schema.load_taxonomy()
    t = rng.choice(types, n)
    lon = rng.uniform(-1.75, -1.35, n)
    lat = rng.uniform(53.32, 53.48, n)
    return gpd.GeoDataFrame(
        {
            "id": [f"bench-{seed}-{i:07d}" for i in range(n)],
            "name": [f"Synthetic asset {i}" for i in range(n)],
            "type": t,
            "category": [tax.type(x).category for x in t],
            "status": "active",
            "source": "benchmark",
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )


def time_single_edits(location: str, ids: list[str], n: int) -> float:
    store = open_store(location)
    times = []
    for i in range(n):
        aid = ids[i % len(ids)]
        version = int(store.get("assets", aid)["version"])
        t0 = time.perf_counter()
        editing.update_asset(store, aid, actor="benchmark", if_version=version, opening_hours=f"edit {i}")
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def _worker(location: str, pool: list[str], worker: int, n: int, out: multiprocessing.Queue, ready, go) -> None:
    store = open_store(location)
    store.get("assets", pool[0])  # connected and warm before the clock starts
    rng = random.Random(worker)
    ready.put(worker)
    go.wait()
    landed, failed, retries, latencies = 0, 0, 0, []
    for i in range(n):
        aid = rng.choice(pool)
        t0 = time.perf_counter()
        for _attempt in range(MAX_RETRIES):
            version = int(store.get("assets", aid)["version"])  # what the editor loaded
            try:
                editing.update_asset(store, aid, actor=f"worker-{worker}", if_version=version,
                                     access_notes=f"w{worker}-{i}")  # fmt: skip
                landed += 1
                break
            except VersionConflictError:
                retries += 1
            except Exception as exc:  # counted, reported once
                print(f"worker {worker}: {type(exc).__name__}: {exc}", file=sys.stderr)
                failed += 1
                break
        else:
            failed += 1
        latencies.append(time.perf_counter() - t0)
    out.put((landed, failed, retries, latencies))


def concurrent_edits(location: str, pool: list[str]) -> dict:
    store = open_store(location)
    before = store.read("assets", ids=pool).set_index("id")["version"].astype(int)
    audit_before = len(store.read_audit())
    ctx = multiprocessing.get_context("spawn")
    q: multiprocessing.Queue = ctx.Queue()
    ready: multiprocessing.Queue = ctx.Queue()
    go = ctx.Event()
    procs = [
        ctx.Process(target=_worker, args=(location, pool, w, EDITS_PER_WORKER, q, ready, go)) for w in range(WORKERS)
    ]
    for p in procs:
        p.start()
    for _ in procs:  # the clock starts when every writer has started Python and opened the store
        ready.get()
    t0 = time.perf_counter()
    go.set()
    results = [q.get() for _ in procs]
    for p in procs:
        p.join()
    wall = time.perf_counter() - t0
    landed = sum(r[0] for r in results)
    failed = sum(r[1] for r in results)
    retries = sum(r[2] for r in results)
    lat = sorted(x for r in results for x in r[3])
    after = store.read("assets", ids=pool).set_index("id")["version"].astype(int)
    increments = int((after - before.reindex(after.index)).sum())
    audit_new = len(store.read_audit()) - audit_before
    lost = max(landed - increments, 0) + max(landed - audit_new, 0)
    return {
        "edits_per_s": landed / wall,
        "landed": landed,
        "failed": failed,
        "retries": retries,
        "lost": lost,
        "p50_ms": lat[len(lat) // 2] * 1000,
        "p99_ms": lat[int(len(lat) * 0.99)] * 1000,
        "max_ms": lat[-1] * 1000,
        "problems": store.check(),
    }


def run_backend(name: str, location: str) -> dict:
    store = open_store(location)
    demo_ids = list(store.read("assets", columns=["id"])["id"])
    out = {"edit_ms_demo": time_single_edits(location, demo_ids, SINGLE_EDITS)}
    t0 = time.perf_counter()
    with store.transaction(actor="benchmark") as tx:
        tx.insert("assets", synthetic_assets(N_BIG))
    out["bulk_insert_s"] = time.perf_counter() - t0
    ids = list(store.read("assets", columns=["id"])["id"])
    rng = random.Random(1)
    out["edit_ms_100k"] = time_single_edits(location, rng.sample(ids, SINGLE_EDITS), SINGLE_EDITS)
    out.update(concurrent_edits(location, rng.sample(ids, POOL)))
    print(f"  {name}: done", file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("COMMON_GROUND_TEST_PG"),
                        help="a PostgreSQL server URL where CREATE DATABASE works (default $COMMON_GROUND_TEST_PG)")  # fmt: skip
    args = parser.parse_args(argv)
    results: dict[str, dict] = {}
    work = Path(tempfile.mkdtemp(prefix="cg-bench-edits-"))
    try:
        gpkg = work / "store.gpkg"
        shutil.copyfile(schema.DEMO_GPKG, gpkg)
        results["gpkg"] = run_backend("gpkg", str(gpkg))
        if args.pg:
            from tests.pg import fresh_database  # the same throwaway databases the tests use

            with fresh_database("cg_bench", admin_url=args.pg) as url:
                copy_store(schema.DEMO_GPKG, url)
                results["postgis"] = run_backend("postgis", url)
                open_store(url).close()
        else:
            print("PostGIS skipped: give --pg URL or set COMMON_GROUND_TEST_PG (./run postgis starts a cluster).")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows = [
        ("median edit, 322-asset demo (ms)", "edit_ms_demo", "{:.1f}"),
        (f"bulk insert of {N_BIG:,} assets (s)", "bulk_insert_s", "{:.1f}"),
        (f"median edit, {N_BIG:,}+ assets (ms)", "edit_ms_100k", "{:.1f}"),
        (f"{WORKERS} writers: edits landed per second", "edits_per_s", "{:.0f}"),
        (f"{WORKERS} writers: edits landed", "landed", "{}"),
        (f"{WORKERS} writers: failed", "failed", "{}"),
        (f"{WORKERS} writers: stale edits retried", "retries", "{}"),
        (f"{WORKERS} writers: lost updates", "lost", "{}"),
        (f"{WORKERS} writers: latency p50 (ms)", "p50_ms", "{:.0f}"),
        (f"{WORKERS} writers: latency p99 (ms)", "p99_ms", "{:.0f}"),
        (f"{WORKERS} writers: latency max (ms)", "max_ms", "{:.0f}"),
        ("store check after the run", "problems", "{}"),
    ]
    names = list(results)
    print(f"{'':44s}" + "".join(f"{n:>14s}" for n in names))
    for label, key, fmt in rows:
        cells = []
        for n in names:
            v = results[n][key]
            cells.append(("ok" if not v else "; ".join(v)[:14]) if key == "problems" else fmt.format(v))
        print(f"{label:44s}" + "".join(f"{c:>14s}" for c in cells))
    g, p = results.get("gpkg", {}), results.get("postgis", {})

    def fig(d: dict, key: str) -> str:
        return f"{d[key]:.1f}" if key in d else "n/a"

    lost = sum(r["lost"] for r in results.values())
    failed = sum(r["failed"] for r in results.values())
    print(
        f"gpkg_edit_ms_100k={fig(g, 'edit_ms_100k')} gpkg_edits_per_s_8w={fig(g, 'edits_per_s')} "
        f"postgis_edit_ms_100k={fig(p, 'edit_ms_100k')} postgis_edits_per_s_8w={fig(p, 'edits_per_s')} "
        f"lost={lost} failed={failed}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
