"""The store: where it is, reading, and writes that land whole or not at all."""

from __future__ import annotations

import hashlib
import multiprocessing
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from geo import store as store_mod
from geo.errors import LayerNotFoundError, SchemaError, StoreError, StoreIntegrityError, StoreNotFoundError
from geo.store import Store


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_ensure_working_copy(tmp_path, demo_path):
    target = tmp_path / "instance" / "common_ground.gpkg"
    assert not target.exists()
    p = store_mod.ensure_working_copy(target, demo_path)
    assert p == target and _digest(p) == _digest(demo_path)
    # a second call keeps the user's edits
    target.write_bytes(demo_path.read_bytes() + b"")
    before = target.stat().st_mtime_ns
    store_mod.ensure_working_copy(target, demo_path)
    assert target.stat().st_mtime_ns == before


def test_ensure_working_copy_without_demo_says_how_to_fix(tmp_path):
    with pytest.raises(StoreNotFoundError, match="build_demo.py"):
        store_mod.ensure_working_copy(tmp_path / "x.gpkg", tmp_path / "missing.gpkg")


def test_resolve_path_prefers_argument_then_environment(tmp_path, demo_path, monkeypatch):
    monkeypatch.setenv(store_mod.ENV_VAR, str(demo_path))
    assert store_mod.resolve_path(None) == demo_path
    monkeypatch.setenv(store_mod.ENV_VAR, str(tmp_path / "nope.gpkg"))
    with pytest.raises(StoreNotFoundError, match="COMMON_GROUND_DATA"):
        store_mod.resolve_path(None)
    assert store_mod.resolve_path(demo_path) == demo_path


def test_not_a_geopackage(tmp_path):
    bad = tmp_path / "bad.gpkg"
    bad.write_text("hello, I am a CSV\n")
    with pytest.raises(StoreError, match="not a GeoPackage"):
        Store(bad)


def test_read_and_unknown_layer(demo_store: Store):
    assets = demo_store.read("assets")
    assert len(assets) == 322 and assets.crs.to_epsg() == 4326
    with pytest.raises(LayerNotFoundError, match="has no layer 'nope'.*assets"):
        demo_store.read("nope")
    some = demo_store.read("assets", bbox=(-1.48, 53.37, -1.46, 53.39))
    assert 0 < len(some) < 322


def test_info_reports_every_layer(demo_store: Store):
    info = {i.name: i for i in demo_store.info()}
    assert info["assets"].features == 322 and info["assets"].geometry_type == "Point"
    assert info["wards"].crs == "EPSG:4326"
    minx, miny, maxx, maxy = info["wards"].bounds
    assert -1.81 < minx < maxx < -1.32 and 53.30 < miny < maxy < 53.51
    assert info["postcodes"].geometry_type is None and info["postcodes"].bounds is None
    assert demo_store.check() == []


def test_transaction_commits_changes_with_audit(store_copy: Store):
    with store_copy.transaction(actor="officer@example.org") as tx:
        assets = tx.read("assets")
        before = assets.iloc[0].drop("geometry").to_dict()
        assets.loc[assets.index[0], "name"] = "Renamed Library"
        tx.write_layer("assets", assets)
        tx.audit("update", "assets", before["id"], before, {"name": "Renamed Library"})
    assets = store_copy.read("assets")
    assert len(assets) == 322 and assets.iloc[0]["name"] == "Renamed Library"
    log = store_copy.read("audit_log")
    assert len(log) == 1
    row = log.iloc[0]
    assert row["by"] == "officer@example.org" and row["action"] == "update"
    assert '"Renamed Library"' in row["after"]
    assert store_copy.check() == []


def test_failed_transaction_leaves_store_byte_identical(store_copy: Store):
    digest = _digest(store_copy.path)
    with pytest.raises(RuntimeError):
        with store_copy.transaction(actor="t") as tx:
            assets = tx.read("assets")
            tx.write_layer("assets", assets.iloc[:10])
            raise RuntimeError("boom")
    assert _digest(store_copy.path) == digest
    assert not list(store_copy.path.parent.glob(".*txn-*"))


def test_invalid_write_is_rejected_and_loses_nothing(store_copy: Store):
    digest = _digest(store_copy.path)
    with pytest.raises(SchemaError, match="duplicate ids"):
        with store_copy.transaction(actor="t") as tx:
            assets = tx.read("assets")
            tx.write_layer("assets", pd.concat([assets, assets.iloc[:1]]))
    assert _digest(store_copy.path) == digest


def test_every_write_needs_an_actor(store_copy: Store):
    with pytest.raises(StoreError, match="actor"):
        with store_copy.transaction(actor="  "):
            pass


def test_check_detects_stale_feature_count(store_copy: Store):
    with sqlite3.connect(store_copy.path) as con:
        con.execute("UPDATE gpkg_ogr_contents SET feature_count = 10 WHERE table_name = 'assets'")
    problems = store_copy.check()
    assert problems and "assets" in problems[0] and "322" in problems[0]


def test_transaction_refuses_to_save_a_result_that_fails_checks(store_copy: Store, monkeypatch):
    digest = _digest(store_copy.path)

    def corrupt(self):
        with sqlite3.connect(self.path) as con:
            con.execute("UPDATE gpkg_ogr_contents SET feature_count = 1 WHERE table_name = 'wards'")

    monkeypatch.setattr(store_mod.Transaction, "_finish", corrupt)
    with pytest.raises(StoreIntegrityError, match="not saved"):
        with store_copy.transaction(actor="t"):
            pass
    assert _digest(store_copy.path) == digest


def _append_stories(path: str, worker: int, n: int) -> None:
    s = Store(path)
    for i in range(n):
        with s.transaction(actor=f"worker-{worker}") as tx:
            tx.audit("note", "stories", f"{worker}-{i}", None, {"i": i})


def test_concurrent_writers_are_serialised(store_copy: Store):
    """Four processes writing at once: no write lost, no stale cached count."""
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_append_stories, args=(str(store_copy.path), w, 5)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    log = store_copy.read("audit_log")
    assert len(log) == 20
    assert set(log["feature_id"]) == {f"{w}-{i}" for w in range(4) for i in range(5)}
    assert store_copy.check() == []
