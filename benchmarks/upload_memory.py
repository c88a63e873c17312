"""Server memory and temporary files after big uploads on the Data page (a benchmark, not a test).

Run on demand from the project root::

    .venv/bin/python benchmarks/upload_memory.py [--mb 90] [--uploads 3]

It starts the real app (``streamlit run``, local mode, a private copy of the demo store, its own
TMPDIR), writes CSV files of about ``--mb`` MB each (synthetic assets with long descriptions and
lon/lat, under the import row limit), and in headless Chromium uploads them one after another on
the Data page, waiting each time for the preview, then changes an option twice (each change is a
rerun). After each step it reads the server's resident memory (``VmRSS``) and peak
(``VmHWM``) from ``/proc``, and counts what uploads left in the server's TMPDIR.

The issue's goal: server memory under 1 GB after three 90 MB uploads, and no upload left on disk.
The last line is machine-readable: ``rss_mb=R peak_mb=P temp_left=N``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, private_store, start_server  # noqa: E402


def write_csv(path: Path, mb: float, seed: int) -> int:
    """A CSV of synthetic assets of about ``mb`` megabytes; returns its row count."""
    rng = np.random.default_rng(seed)
    words = np.array(
        "community garden library pantry hall club walk repair cafe youth centre group meets weekly".split()
    )
    row_bytes = 620
    n = int(mb * 1024 * 1024 / row_bytes)
    lon = rng.uniform(-1.55, -1.38, n)
    lat = rng.uniform(53.33, 53.45, n)
    with path.open("w", encoding="utf-8") as fh:
        fh.write("name,type,lon,lat,description\n")
        for i in range(n):
            desc = " ".join(rng.choice(words, 80))
            fh.write(f"Asset {seed}-{i},community_centre,{lon[i]:.6f},{lat[i]:.6f},{desc}\n")
    return n


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=90.0)
    ap.add_argument("--uploads", type=int, default=3)
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="cg-bench-upload-"))
    tmp = work / "server-tmp"
    tmp.mkdir()
    files = []
    for k in range(args.uploads):
        path = work / f"register-{k + 1}.csv"
        rows = write_csv(path, args.mb * (1 - 0.01 * k), seed=k)  # row counts differ, so each preview is told apart
        files.append((path, rows))
        print(f"wrote {path.name}: {path.stat().st_size / 1e6:.1f} MB, {rows:,} rows")
    server = start_server(private_store(work), work, extra_env={"TMPDIR": str(tmp)})
    pid = server.proc.pid
    rows_out = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(f"{server.url}/data")
            page.get_by_text("Choose a file to start").wait_for(timeout=120_000)
            rss, peak = memory_mb(pid)
            rows_out.append(("page open", rss, peak, len(list(tmp.iterdir()))))
            for k, (path, rows) in enumerate(files):
                t0 = time.perf_counter()
                page.locator("input[type=file]").set_input_files(str(path))
                page.get_by_text(f"1. Preview: {rows:,} rows").wait_for(timeout=600_000)
                page.get_by_text("Rows read").wait_for(timeout=600_000)
                page.wait_for_function(
                    "() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=600_000
                )  # the rerun has finished
                took = time.perf_counter() - t0
                rss, peak = memory_mb(pid)
                rows_out.append((f"upload {k + 1} ({took:.0f} s)", rss, peak, len(list(tmp.iterdir()))))
            for label in ("Import likely duplicates", "Keep the file's other columns"):
                page.get_by_text(label).first.click()
                page.wait_for_timeout(500)
                page.wait_for_function(
                    "() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=600_000
                )  # the rerun has finished
                rss, peak = memory_mb(pid)
                rows_out.append((f"rerun: {label[:20]}…", rss, peak, len(list(tmp.iterdir()))))
            browser.close()
    finally:
        server.stop()
    print(f"\n{'step':<34} {'RSS MB':>8} {'peak MB':>8} {'temp entries':>13}")
    for step, rss, peak, left in rows_out:
        print(f"{step:<34} {rss:8.0f} {peak:8.0f} {left:13d}")
    last = rows_out[-1]
    print(f"rss_mb={last[1]:.0f} peak_mb={max(r[2] for r in rows_out):.0f} temp_left={last[3]}")


if __name__ == "__main__":
    main()
