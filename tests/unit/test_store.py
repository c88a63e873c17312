"""The store: where it is, reading, and writes that land whole or not at all."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sqlite3
import stat

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from geo import schema
from geo import store as store_mod
from geo.errors import (
    FeatureNotFoundError,
    LayerNotFoundError,
    SchemaError,
    StoreError,
    StoreNotFoundError,
    VersionConflictError,
)
from geo.store import Store, open_store
from tests.helpers import DEMO_ASSETS, content_digest, store_digest


def _digest(path) -> str:
    return store_digest(path)


def test_ensure_working_copy(tmp_path, demo_path):
    target = tmp_path / "instance" / "common_ground.gpkg"
    assert not target.exists()
    p = store_mod.ensure_working_copy(target, demo_path)
    assert p == target and content_digest(p) == content_digest(demo_path)
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
        open_store(bad)


def test_read_and_unknown_layer(demo_store: Store):
    assets = demo_store.read("assets")
    assert len(assets) == DEMO_ASSETS and assets.crs.to_epsg() == 4326
    with pytest.raises(LayerNotFoundError, match="has no layer 'nope'.*assets"):
        demo_store.read("nope")
    some = demo_store.read("assets", bbox=(-1.48, 53.37, -1.46, 53.39))
    assert 0 < len(some) < DEMO_ASSETS


def test_info_reports_every_layer(demo_store: Store):
    info = {i.name: i for i in demo_store.info()}
    assert info["assets"].features == DEMO_ASSETS and info["assets"].geometry_type == "Point"
    assert info["wards"].crs == "EPSG:4326"
    minx, miny, maxx, maxy = info["wards"].bounds
    assert -1.81 < minx < maxx < -1.32 and 53.30 < miny < maxy < 53.51
    assert info["postcodes"].geometry_type is None and info["postcodes"].bounds is None
    assert demo_store.check() == []


def test_transaction_commits_changes_with_audit(store_copy: Store):
    first = store_copy.read("assets").iloc[0]
    with store_copy.transaction(actor="officer@example.org") as tx:
        before, after = tx.update("assets", first["id"], {"name": "Renamed Library"}, if_version=1)
        tx.audit("update", "assets", first["id"], {"name": before["name"]}, {"name": after["name"]})
    assert before["version"] == 1 and after["version"] == 2
    assert after["updated_by"] == "officer@example.org" and after["created_by"] == before["created_by"]
    assets = store_copy.read("assets")
    assert len(assets) == DEMO_ASSETS and assets.iloc[0]["name"] == "Renamed Library"
    log = store_copy.read("audit_log")
    row = log.iloc[-1]
    assert row["by"] == "officer@example.org" and row["action"] == "update"
    assert '"Renamed Library"' in row["after"]
    assert store_copy.check() == []


def test_failed_transaction_leaves_store_unchanged(store_copy: Store):
    digest = _digest(store_copy)
    ids = store_copy.read("assets")["id"]
    with pytest.raises(RuntimeError):
        with store_copy.transaction(actor="t") as tx:
            for aid in ids[:10]:
                tx.remove("assets", aid)
            tx.insert("assets", [{"id": "x-1", "name": "New", "type": "library", "status": "active"}])
            raise RuntimeError("boom")
    assert _digest(store_copy) == digest
    assert store_copy.check() == []


def test_duplicate_id_is_refused_and_loses_nothing(store_copy: Store):
    digest = _digest(store_copy)
    first = store_copy.read("assets").iloc[[0]]
    with pytest.raises(StoreError, match="already in the layer"):
        with store_copy.transaction(actor="t") as tx:
            tx.insert("assets", [{"id": "fresh", "name": "Fine", "type": "library", "status": "active"}])
            tx.insert("assets", first)
    assert _digest(store_copy) == digest


def test_every_write_needs_an_actor(store_copy: Store):
    with pytest.raises(StoreError, match="actor"):
        with store_copy.transaction(actor="  "):
            pass


def test_check_detects_stale_feature_count(gpkg_copy: Store):
    store_copy = gpkg_copy
    with sqlite3.connect(store_copy.path) as con:
        con.execute("UPDATE gpkg_ogr_contents SET feature_count = 10 WHERE table_name = 'assets'")
    problems = store_copy.check()
    assert problems and "assets" in problems[0] and str(DEMO_ASSETS) in problems[0]


def test_a_write_puts_stale_counts_right_and_keeps_the_spatial_index_true(gpkg_copy: Store):
    store_copy = gpkg_copy
    with sqlite3.connect(store_copy.path) as con:  # another tool dropped GDAL's count triggers
        con.execute("DROP TRIGGER trigger_insert_feature_count_assets")
    with store_copy.transaction(actor="t") as tx:
        tx.insert("assets", [{"id": "n1", "name": "N", "type": "library", "status": "active",
                              "geometry": Point(-1.47, 53.38)}])  # fmt: skip
        tx.update("assets", store_copy.read("assets")["id"][0], {"geometry": Point(-1.45, 53.40)})
    assert store_copy.check() == []
    assert "n1" in set(store_copy.read("assets", bbox=(-1.471, 53.379, -1.469, 53.381))["id"])
    assert len(store_copy.read("assets")) == DEMO_ASSETS + 1


def test_write_keeps_the_file_mode(gpkg_copy: Store):
    store_copy = gpkg_copy
    os.chmod(store_copy.path, 0o644)
    with store_copy.transaction(actor="t") as tx:
        tx.update("assets", store_copy.read("assets")["id"][0], {"name": "Renamed"})
    assert stat.S_IMODE(os.stat(store_copy.path).st_mode) == 0o644


def test_stale_version_is_refused_naming_who_when_and_what(store_copy: Store):
    aid = store_copy.read("assets")["id"][0]
    with store_copy.transaction(actor="Ana") as tx:
        before, after = tx.update("assets", aid, {"opening_hours": "Mon 9-5"}, if_version=1)
        tx.audit("update", "assets", aid, before, after)
    digest = _digest(store_copy)
    with pytest.raises(VersionConflictError) as err:
        with store_copy.transaction(actor="Ben") as tx:
            tx.update("assets", aid, {"name": "Ben's name"}, if_version=1)
    assert "Ana" in str(err.value) and "opening_hours" in str(err.value) and "Reload" in str(err.value)
    assert err.value.expected == 1 and err.value.current == 2 and err.value.fields == ("opening_hours",)
    assert _digest(store_copy) == digest


def test_a_transaction_stamps_its_rows_and_audit_with_one_time(store_copy: Store, monkeypatch):
    """A write crossing a second's boundary once named a time in the conflict message (the audit's)
    that was not the row's ``updated_at``. Every call to the clock now gives a later second, so any
    stamp taken outside the transaction's one time shows up as a mismatch."""
    from geo.store import base, gpkg, postgis

    ticks = iter(f"2026-11-30T18:39:{s:02d}Z" for s in range(10, 60))
    for module in (base, gpkg, postgis):
        if hasattr(module, "now_iso"):
            monkeypatch.setattr(module, "now_iso", lambda: next(ticks))
    aid = store_copy.read("assets")["id"][0]
    with store_copy.transaction(actor="Ana") as tx:
        before, after = tx.update("assets", aid, {"opening_hours": "Mon 9-5"}, if_version=1)
        tx.audit("update", "assets", aid, before, after)
        added = tx.insert("assets", [{"id": "one-time-1", "name": "New hall", "type": "community_centre"}])
        tx.audit("insert", "assets", "one-time-1", None, added[0] if added else None)
        stamp = tx.now
    row = store_copy.read("assets", ids=[aid]).iloc[0]
    new = store_copy.read("assets", ids=["one-time-1"]).iloc[0]
    audit = store_copy.read("audit_log")
    mine = audit[audit["by"] == "Ana"]
    assert len(mine) == 2
    assert row["updated_at"] == stamp and new["created_at"] == stamp and new["updated_at"] == stamp
    assert set(mine["at"]) == {stamp}
    with pytest.raises(VersionConflictError) as err:
        with store_copy.transaction(actor="Ben") as tx:
            tx.update("assets", aid, {"name": "Ben's name"}, if_version=1)
    assert err.value.changed_at == stamp and stamp in str(err.value)


def test_unknown_feature_and_unfiltered_delete_are_refused(store_copy: Store):
    with pytest.raises(FeatureNotFoundError, match="no assets feature"):
        with store_copy.transaction(actor="t") as tx:
            tx.update("assets", "nope", {"name": "x"})
    with pytest.raises(StoreError, match="needs a filter"):
        with store_copy.transaction(actor="t") as tx:
            tx.delete("organisation_areas", {})


def test_structured_where_never_runs_text_as_sql(store_copy: Store):
    hostile = "x' OR '1'='1"
    assert store_copy.read("assets", where={"name": hostile}).empty
    assert len(store_copy.read("assets", where={"type": ["library", "food_bank"]})) == 38
    with pytest.raises(StoreError, match="no column"):
        store_copy.read("assets", where={"nope; DROP TABLE assets": 1})


def test_an_old_store_is_migrated_on_first_write(tmp_path):
    old = tmp_path / "old.gpkg"
    import geopandas as gpd
    import pyogrio

    pts = gpd.GeoDataFrame({"id": ["a"], "name": ["A"], "type": ["library"], "status": ["active"]},
                           geometry=[Point(-1.47, 53.38)], crs="EPSG:4326")  # fmt: skip
    pyogrio.write_dataframe(pts, old, layer="assets", driver="GPKG")  # before versions and the taxonomy layer
    s = open_store(old)
    assert s.read("assets")["version"].isna().all() and not s.has_layer("taxonomy")
    with s.transaction(actor="t") as tx:
        tx.update("assets", "a", {"name": "B"}, if_version=1)
    assert s.read("assets")["version"].tolist() == [2]
    assert len(s.read("taxonomy")) > 10 and s.check() == []
    assert s.read_audit()["action"].tolist() == ["seed"]


def _edit_many(path: str, worker: int, n: int, ids: list[str]) -> None:
    s = open_store(path)
    for i in range(n):
        aid = ids[(worker * n + i) % len(ids)]
        with s.transaction(actor=f"worker-{worker}") as tx:
            before, after = tx.update("assets", aid, {"description": f"w{worker}-{i}"})
            tx.audit(
                "update", "assets", aid, {"description": before["description"]}, {"description": after["description"]}
            )


def test_concurrent_writers_lose_nothing(store_copy: Store):
    """Four processes editing at once: every edit lands, versions count them, counts stay true."""
    ids = list(store_copy.read("assets")["id"][:7])
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_edit_many, args=(store_copy.location, w, 10, ids)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    log = store_copy.read("audit_log")
    assert len(log) == 40
    versions = store_copy.read("assets", ids=ids).set_index("id")["version"]
    edits = log["feature_id"].value_counts()
    assert all(versions[aid] == 1 + edits.get(aid, 0) for aid in ids)
    assert store_copy.check() == []


def test_adding_a_type_is_an_audited_row_in_the_store(store_copy: Store):
    from geo import editing
    from geo.store import store_taxonomy
    from geo.validation import ValidationError

    seed = schema.TAXONOMY_FILE.read_bytes()
    new = editing.add_asset_type(store_copy, actor="Firth Park Forum", type_id="repair_cafe", label="Repair café",
                                 category="associations", traits=["active_citizens"], themes=["environment"])  # fmt: skip
    assert new == "repair_cafe"
    tax = store_taxonomy(store_copy)
    assert tax.type("repair_cafe").category == "associations" and tax.type("repair_cafe").traits == ("active_citizens",)
    entry = store_copy.read_audit().iloc[-1]
    assert (entry["action"], entry["layer"], entry["feature_id"], entry["by"]) == (
        "create",
        "taxonomy",
        "repair_cafe",
        "Firth Park Forum",
    )
    # the new type is usable at once, and the seed file is untouched
    aid = editing.add_asset(
        store_copy, actor="ed", name="Hillsborough Repair Café", type_id="repair_cafe", lon=-1.50, lat=53.404
    )
    assert store_copy.get("assets", aid)["category"] == "associations"
    assert schema.TAXONOMY_FILE.read_bytes() == seed
    digest = _digest(store_copy)
    with pytest.raises(ValidationError):
        editing.add_asset_type(store_copy, actor="ed", type_id="repair_cafe", label="Again", category="associations")
    with pytest.raises(ValidationError, match="trait"):
        editing.add_asset_type(
            store_copy, actor="ed", type_id="x_y", label="X", category="associations", traits=["nope"]
        )
    assert _digest(store_copy) == digest


def test_a_read_gives_each_declared_type_as_pyogrio_does_and_missing_stays_missing(tmp_path, tiny_path):
    """The GeoPackage read builds its frame from SQLite's rows itself (quicker than pyogrio for a
    store's small layers); its values must be pyogrio's, and a NULL yes/no must read as missing:
    the read once turned it into True."""
    import sqlite3

    import pyogrio

    from geo.store.gpkg import GeoPackageStore, _register_functions

    path = tmp_path / "types.gpkg"
    shutil.copyfile(tiny_path, path)
    os.chmod(path, 0o644)
    con = sqlite3.connect(path)
    _register_functions(con)  # the R-tree's triggers call them
    with con:
        for column, kind in [("flag", "BOOLEAN"), ("count", "INTEGER"), ("share", "REAL"), ("note", "TEXT")]:
            con.execute(f"ALTER TABLE assets ADD COLUMN {column} {kind}")
        fids = [r[0] for r in con.execute("SELECT fid FROM assets ORDER BY fid")]
        con.execute("UPDATE assets SET flag = 1, count = 7, share = 0.5, note = 'yes' WHERE fid = ?", (fids[0],))
        con.execute("UPDATE assets SET flag = 0, count = 0, share = 2, note = 'no' WHERE fid = ?", (fids[1],))
    con.close()

    ours = GeoPackageStore(path).read("assets")
    theirs = schema.conform(pyogrio.read_dataframe(path, layer="assets", fid_as_index=False), "assets")
    assert list(ours.columns) == list(theirs.columns)
    assert ours["flag"].dtype == "boolean" and ours["flag"].tolist()[:3] == [True, False, pd.NA]
    assert ours["flag"].isna().sum() == len(ours) - 2
    assert ours["count"].dtype == "Int64" and ours["count"].tolist()[:3] == [7, 0, pd.NA]
    assert ours["share"].tolist()[:2] == [0.5, 2.0] and ours["share"].isna().sum() == len(ours) - 2
    assert ours["note"].tolist()[:2] == ["yes", "no"] and ours["note"].isna().sum() == len(ours) - 2
    for column in schema.layer_spec("assets").all_columns:  # the data model's columns: same dtype, same values
        assert str(ours[column].dtype) == str(theirs[column].dtype), column
        assert (
            ours[column].astype(object).where(ours[column].notna(), None).tolist()
            == theirs[column].astype(object).where(theirs[column].notna(), None).tolist()
        ), column
    assert ours.geometry.geom_equals_exact(theirs.geometry, tolerance=0).all()
    assert ours.crs == theirs.crs


def test_text_that_is_not_all_text_reads_as_pandas_converts_it(tmp_path, tiny_path):
    """Text columns of the data model are read through Arrow at once when every value is text or
    NULL; SQLite lets any value into a TEXT column, and then the read falls back to pandas' own
    conversion, with the same result as before the quick path."""
    import sqlite3

    from geo.store.gpkg import GeoPackageStore, _register_functions

    path = tmp_path / "mixed.gpkg"
    shutil.copyfile(tiny_path, path)
    os.chmod(path, 0o644)
    con = sqlite3.connect(path)
    _register_functions(con)
    fids = [r[0] for r in con.execute("SELECT fid FROM assets ORDER BY fid")]
    with con:
        con.execute("UPDATE assets SET address = 42 WHERE fid = ?", (fids[0],))  # a number, in TEXT
        con.execute("UPDATE assets SET address = NULL WHERE fid = ?", (fids[1],))
        con.execute("UPDATE assets SET postcode = 'S5 8NJ' WHERE fid = ?", (fids[0],))  # text or NULL only
        con.execute("UPDATE assets SET postcode = NULL WHERE fid = ?", (fids[1],))
    con.close()
    read = GeoPackageStore(path).read("assets")
    assert read["address"].dtype == "string" and read["postcode"].dtype == "string"
    assert read["address"].tolist()[:2] == ["42", pd.NA]
    assert read["postcode"].tolist()[:2] == ["S5 8NJ", pd.NA]
    expected = pd.Series([None if v is None else str(v) for v in read["name"].tolist()], dtype="string")
    pd.testing.assert_series_equal(read["name"], expected, check_names=False)  # the quick path: the same


def test_conform_keeps_a_repeated_index_and_never_changes_its_input():
    frame = gpd.GeoDataFrame(
        {"name": ["A", "B", "C"], "extra": ["x", None, "z"], "id": [1, 2, 3]},
        geometry=gpd.GeoSeries.from_xy([-1.5, -1.4, -1.3], [53.4, 53.4, 53.4], crs="EPSG:4326"),
        index=[4, 4, 9],
    ).rename_geometry("geom")
    before = frame.copy()
    out = schema.conform(frame, "assets")
    assert list(out.index) == [4, 4, 9]
    assert list(out.columns) == [*schema.layer_spec("assets").all_columns, "extra", "geom"]
    assert out.geometry.name == "geom" and out.crs == frame.crs
    assert out["id"].dtype == "string" and out["id"].tolist() == ["1", "2", "3"]
    assert out["extra"].dtype == frame["extra"].dtype and out["extra"].isna().tolist() == [False, True, False]
    assert out["address"].isna().all() and out["address"].dtype == "string"
    pd.testing.assert_frame_equal(frame, before)
    with pytest.raises(SchemaError, match="Column 'population' of layer 'wards' must hold"):
        schema.conform(pd.DataFrame({"population": ["many"]}), "wards")


def test_the_unchanged_check_sees_a_write_anywhere_but_not_a_new_page_layout(tmp_path, tiny_path):
    """``store_digest`` of a GeoPackage compares database images, then rows when the bytes differ."""
    path = tmp_path / "digest.gpkg"
    shutil.copyfile(tiny_path, path)
    os.chmod(path, 0o644)
    before = store_digest(path)
    assert store_digest(path) == before  # the same bytes

    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA wal_autocheckpoint=0")  # the next commits stay in the -wal file
    con.execute("CREATE TABLE scratch (x)")
    con.commit()
    con.execute("DROP TABLE scratch")
    con.commit()
    relaid = store_digest(path)
    assert relaid.image != before.image and relaid == before  # other bytes, the same rows

    con.execute("UPDATE gpkg_contents SET description = 'changed' WHERE rowid = (SELECT min(rowid) FROM gpkg_contents)")
    con.commit()  # in the -wal file only: the main file's bytes may not change at all
    assert store_digest(path) != before and store_digest(path) != relaid
    con.close()
