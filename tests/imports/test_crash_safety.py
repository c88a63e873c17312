"""A process killed at any moment during an import or an edit leaves a store that opens, passes
SQLite's integrity check, and holds either the state before or the state after."""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import signal
import time

import pytest

from geo.store import open_store

KILLS = 20


def _csv(path, n: int) -> None:
    rng = random.Random(7)
    lines = ["name,type,lat,lon"]
    for i in range(n):
        lines.append(
            f"Crash Test Hall {i},community_centre,{53.33 + rng.random() * 0.12:.6f},{-1.55 + rng.random() * 0.2:.6f}"
        )
    path.write_text("\n".join(lines) + "\n")


# The writers run in processes forked from a forkserver that has already imported the engine, so each
# costs the write itself, not a new interpreter's 1-2 s of imports (and every kill lands in the write).
_CTX = multiprocessing.get_context("forkserver")
_CTX.set_forkserver_preload(["geo.cli", "geo.store", __name__])


def _quiet() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)


def _import_writer(csv: str, store_path: str) -> None:
    _quiet()
    from geo.cli import main

    os._exit(main(["import", csv, "--layer", "assets", "--data", store_path, "--actor", "crash-test"]))


def _edit_writer(store_path: str) -> None:
    _quiet()
    from geo.store import open_store

    s = open_store(store_path)
    with s.transaction(actor="crash-test") as tx:
        a = tx.read("assets")
        for aid, name in zip(a["id"], a["name"], strict=True):  # many row updates in one transaction
            tx.update("assets", aid, {"name": name + " (edited)"})
            tx.audit("update", "assets", aid, {"name": name}, {"name": name + " (edited)"})
    os._exit(0)


def _start_import(csv, store_path):
    proc = _CTX.Process(target=_import_writer, args=(str(csv), str(store_path)))
    proc.start()
    return proc


def _start_edit(store_path):
    proc = _CTX.Process(target=_edit_writer, args=(str(store_path),))
    proc.start()
    return proc


def _noop() -> None:
    os._exit(0)


def _timed(start, store_path) -> float:
    warm = _CTX.Process(target=_noop)  # the forkserver starts (and imports the engine) outside the timing
    warm.start()
    warm.join(300)
    t0 = time.monotonic()
    proc = start(store_path)
    proc.join(300)
    assert proc.exitcode == 0
    return time.monotonic() - t0


def _kill_at(proc, delay: float) -> bool:
    """SIGKILL the process after ``delay`` seconds; True if it was still running."""
    proc.join(delay)
    if proc.exitcode is not None:
        return False
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(30)
    return True


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["import", "edit"])
def test_killing_a_writer_never_breaks_the_store(kind, gpkg_copy, tmp_path):
    csv = tmp_path / "many.csv"
    _csv(csv, 3000)
    start = (lambda p: _start_import(csv, p)) if kind == "import" else _start_edit

    # how long one uninterrupted write takes, on a scratch copy, so kills fall across all of it (the
    # window narrows below whenever a writer ends before its kill: the machine's load moves, and kill
    # times past a quicker write's end once left only 7 of 20 writers to kill)
    scratch = tmp_path / "scratch.gpkg"
    shutil.copyfile(gpkg_copy.path, scratch)
    duration = _timed(start, scratch)
    after_assets = open_store(scratch).read("assets")
    after_state = (len(after_assets), sorted(after_assets["name"])[:3])

    before_assets = gpkg_copy.read("assets")
    before_state = (len(before_assets), sorted(before_assets["name"])[:3])
    rng = random.Random(2026)
    killed = runs = 0
    window = duration  # kill times fall in (0.05 s, window): across the whole write, commit included
    while killed < KILLS:  # until KILLS writers were killed mid-write, however the machine's load moves
        runs += 1
        assert runs <= 3 * KILLS, f"only {killed} of {runs - 1} runs were still running when killed"
        target = tmp_path / f"victim-{runs}.gpkg"  # a fresh file each time: a killed writer's WAL stays with its own
        shutil.copyfile(gpkg_copy.path, target)
        started = time.monotonic()
        proc = start(target)
        if _kill_at(proc, rng.uniform(0.05, window)):
            killed += 1
        else:  # it finished before the kill: writes are quicker now, so aim within this one's length
            window = max(0.1, min(window, time.monotonic() - started))
        store = open_store(target)  # opens
        assert store.check() == [], "integrity check failed after a kill"
        assets = store.read("assets")
        state = (len(assets), sorted(assets["name"])[:3])
        assert state in (before_state, after_state), state
        # a later write still works, and cleans up whatever the killed writer left behind
        with store.transaction(actor="after-crash") as tx:
            tx.audit("note", "assets", None, None, {"ok": True})
        assert store.check() == []
        store.close()
