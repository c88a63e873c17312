"""The PostGIS backend on a tiny synthetic store (a few points and polygons built here, not the demo).

Needs a PostgreSQL server with PostGIS: ``COMMON_GROUND_TEST_PG`` (see ``tests/pg.py``); skipped
without one, failed under ``CI=true``.
"""

from __future__ import annotations

import multiprocessing
import re
import sys
import threading
import types
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon

from geo import schema
from geo.errors import (
    FeatureNotFoundError,
    LayerNotFoundError,
    StoreError,
    StoreNotFoundError,
    VersionConflictError,
)
from geo.store.base import Store, Transaction
from geo.store.postgis import PostGISStore, redact_url
from tests import pg
from tests.pg import fresh_database

ACTOR = "ann@example.org"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _assets() -> gpd.GeoDataFrame:
    rows = [
        ("lib-1", "Central Library", "library", "active", -1.4701234567, 53.3811234567),
        ("lib-2", "Firth Park Library", "library", "active", -1.4455, 53.4172),
        ("park-1", "Weston Park", "park", "active", -1.4897, 53.3831),
        ("park-2", "Old Park", "park", "closed", -1.5200, 53.3600),
        ("fb-1", "Food Bank", "food_bank", None, -1.4600, 53.3700),
        ("gp-1", "GP Practice", "gp_practice", "pending", -1.4000, 53.4000),
    ]
    frame = pd.DataFrame(rows, columns=["id", "name", "type", "status", "lon", "lat"])
    frame["category"] = "physical_spaces"
    geom = gpd.points_from_xy(frame.pop("lon"), frame.pop("lat"))
    return gpd.GeoDataFrame(frame, geometry=geom, crs=schema.STORAGE_CRS)


def _wards() -> gpd.GeoDataFrame:
    square = Polygon([(-1.50, 53.37), (-1.45, 53.37), (-1.45, 53.40), (-1.50, 53.40)])
    holed = Polygon(
        [(-1.44, 53.40), (-1.39, 53.40), (-1.39, 53.43), (-1.44, 53.43)],
        [[(-1.42, 53.41), (-1.41, 53.41), (-1.41, 53.42), (-1.42, 53.42)]],
    )
    two = MultiPolygon(
        [
            Polygon([(-1.5312345678, 53.3512345678), (-1.5212345678, 53.3512345678), (-1.5212345678, 53.3612345678)]),
            Polygon([(-1.5100, 53.3500), (-1.5000, 53.3500), (-1.5000, 53.3600)]),
        ]
    )
    return gpd.GeoDataFrame(
        {
            "id": ["W1", "W2", "W3"],
            "name": ["Central", "Firth Park", "Crookes"],
            "population": [20000.0, 18000.0, None],
        },
        geometry=[square, holed, two],
        crs=schema.STORAGE_CRS,
    )


@pytest.fixture
def store():
    with fresh_database("cg_unit") as url, PostGISStore(url) as s:
        yield s


@pytest.fixture
def seeded(store: PostGISStore) -> PostGISStore:
    with store.transaction(actor=ACTOR) as tx:
        tx.insert("assets", _assets())
        tx.insert(
            "organisation_areas",
            [
                {"organisation_id": "org-1", "boundary_layer": "wards", "area_id": "W1", "themes": "food"},
                {"organisation_id": "org-1", "boundary_layer": "wards", "area_id": "W2", "themes": "food"},
                {"organisation_id": "org-2", "boundary_layer": "wards", "area_id": "W1", "themes": None},
            ],
        )
    store.replace_layer("wards", _wards(), actor=ACTOR)
    return store


def _psql(store: PostGISStore, statement: str, params=None):
    with psycopg.connect(store.url, autocommit=True) as conn:
        cur = conn.execute(statement, params)
        return cur.fetchall() if cur.description else None


# ------------------------------------------------------------------------------------ the interface


def test_store_follows_the_protocol_and_hides_the_password(store: PostGISStore):
    assert isinstance(store, Store)
    assert store.backend == "postgis"
    with store.transaction(actor=ACTOR) as tx:
        assert isinstance(tx, Transaction)
        assert tx.actor == ACTOR
    url = "postgresql://cg:s3cret@db.example:6543/cg?sslmode=disable&password=s3cret"
    assert "s3cret" not in redact_url(url)
    assert redact_url(url).startswith("postgresql://cg@db.example:6543/cg")


def test_without_a_server_tests_skip_here_and_fail_under_ci(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(pg.ENV_VAR, raising=False)
    monkeypatch.setenv("CI", "false")
    assert pg.pg_admin_url() is None
    assert pg.skip_reason() == pg.SKIP_REASON and "./run postgis" in pg.SKIP_REASON
    with pytest.raises(pytest.skip.Exception, match="COMMON_GROUND_TEST_PG"):
        pg.require_pg()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="COMMON_GROUND_TEST_PG"):
        pg.require_pg()
    monkeypatch.setenv(pg.ENV_VAR, "postgresql://postgres@127.0.0.1:1/postgres")
    assert pg.pg_admin_url() is None and "unreachable" in pg.skip_reason()


def test_unreachable_server_says_how_to_start_one():
    with PostGISStore("postgresql://postgres@127.0.0.1:1/common_ground") as s:
        with pytest.raises(StoreNotFoundError, match=r"\./run postgis"):
            s.read("assets")


def test_missing_database_is_named(store: PostGISStore):
    url = store.url.rsplit("/", 1)[0] + "/cg_no_such_database_here"
    with PostGISStore(url) as s, pytest.raises(StoreNotFoundError, match="does not exist"):
        s.version()


def test_new_store_has_the_schema_layers_in_order(store: PostGISStore):
    names = store.layer_names()
    assert names == [n for n in schema.LAYERS if n in names]
    assert {"assets", "audit_log", "organisation_areas"} <= set(names)
    assert "wards" not in names  # reference layers arrive with data
    assert store.check() == []
    assert _psql(store, "SELECT max(version) FROM cg_schema_migrations")[0][0] >= 3
    kinds = dict(
        _psql(
            store,
            "SELECT name, format_type(atttypid, atttypmod) FROM cg_layers JOIN pg_attribute "
            "ON attrelid = to_regclass(name) AND attname = 'geom'",
        )
    )
    assert kinds["assets"] == "geometry(Point,4326)"


def test_unknown_layer_names_the_layers(store: PostGISStore):
    with pytest.raises(LayerNotFoundError, match="assets"):
        store.read("nope")
    with store.transaction(actor=ACTOR) as tx, pytest.raises(LayerNotFoundError):
        tx.update("nope", "x", {"name": "y"})


# ------------------------------------------------------------------------------------ reading


def test_read_is_conformed_in_insertion_order(seeded: PostGISStore):
    assets = seeded.read("assets")
    assert isinstance(assets, gpd.GeoDataFrame)
    assert assets.crs == schema.STORAGE_CRS and assets.geometry.name == "geometry"
    assert list(assets["id"]) == list(_assets()["id"])
    assert isinstance(assets.index, pd.RangeIndex) and assets.index[0] == 0
    expected = schema.conform(schema.empty_layer("assets"), "assets")
    for col in expected.columns:
        assert col in assets.columns
        if col != "geometry":
            assert assets[col].dtype == expected[col].dtype, col
    assert list(assets.columns[: len(expected.columns) - 1]) == list(expected.columns[:-1])
    assert assets.loc[0, "geometry"].x == pytest.approx(-1.4701234567, abs=1e-12)
    assert pd.isna(assets.loc[4, "status"])
    areas = seeded.read("organisation_areas")
    assert not isinstance(areas, gpd.GeoDataFrame) and len(areas) == 3
    assert pd.isna(areas.loc[2, "themes"])


def test_read_filters_ids_where_bbox_columns(seeded: PostGISStore):
    assert list(seeded.read("assets", ids=["park-1", "lib-1"])["id"]) == ["lib-1", "park-1"]
    assert list(seeded.read("assets", where={"type": ["library", "park"], "status": "active"})["id"]) == [
        "lib-1",
        "lib-2",
        "park-1",
    ]
    assert list(seeded.read("assets", where={"status": None})["id"]) == ["fb-1"]
    assert list(seeded.read("assets", where={"status": ["closed", None]})["id"]) == ["park-2", "fb-1"]
    assert seeded.read("assets", where={"type": []}).empty
    nasty = "x'); DROP TABLE assets; --"
    assert seeded.read("assets", where={"name": nasty}).empty
    assert seeded.has_layer("assets")
    box = seeded.read("assets", bbox=(-1.50, 53.37, -1.45, 53.39))
    assert sorted(box["id"]) == ["fb-1", "lib-1", "park-1"]
    wards = seeded.read("wards", bbox=(-1.415, 53.415, -1.414, 53.416))  # inside W2's hole: no intersection
    assert wards.empty
    assert list(seeded.read("wards", bbox=(-1.40, 53.39, -1.38, 53.41))["id"]) == ["W2"]
    some = seeded.read("assets", columns=["name", "id"])
    assert list(some.columns) == ["name", "id", "geometry"]
    with pytest.raises(StoreError, match="no column"):
        seeded.read("assets", where={"colour": "red"})
    with pytest.raises(StoreError, match="no column"):
        seeded.read("assets", columns=["colour"])


def test_empty_layer_reads_as_empty_frame_with_schema(store: PostGISStore):
    assets = store.read("assets")
    assert isinstance(assets, gpd.GeoDataFrame) and assets.empty and assets.crs == schema.STORAGE_CRS
    assert "version" in assets.columns


def test_info_and_check(seeded: PostGISStore):
    info = {i.name: i for i in seeded.info()}
    assert info["assets"].geometry_type == "Point" and info["assets"].features == 6
    assert info["wards"].geometry_type == "MultiPolygon" and info["wards"].crs == "EPSG:4326"
    assert info["organisation_areas"].geometry_type is None and info["organisation_areas"].bounds is None
    assert info["stories"].bounds is None
    np.testing.assert_allclose(info["assets"].bounds, _assets().total_bounds, atol=1e-9)
    np.testing.assert_allclose(info["wards"].bounds, _wards().total_bounds, atol=1e-9)
    assert seeded.check() == []
    _psql(seeded, "DROP INDEX assets_geom_gist")
    bowtie = Polygon([(-1.5, 53.3), (-1.4, 53.4), (-1.4, 53.3), (-1.5, 53.4)])
    seeded.replace_layer(
        "lsoas", gpd.GeoDataFrame({"id": ["L1"]}, geometry=[bowtie], crs=schema.STORAGE_CRS), actor=ACTOR
    )
    problems = " | ".join(seeded.check())
    assert "assets_geom_gist" in problems and "'lsoas' has 1 invalid" in problems


# ------------------------------------------------------------------------------------ writing


def test_insert_stamps_and_returns_the_stored_rows(store: PostGISStore):
    v0 = store.version()
    with store.transaction(actor=f"  {ACTOR} ") as tx:
        rows = tx.insert(
            "assets",
            [
                {"id": "a1", "name": "Hall", "type": "community_centre", "geometry": Point(-1.47, 53.38, 12.0)},
                {"id": "a2", "name": "Shed", "created_by": "mallory", "capacity": 12},
            ],
        )
    assert [r["id"] for r in rows] == ["a1", "a2"]
    for r in rows:
        assert r["created_by"] == r["updated_by"] == ACTOR
        assert ISO.match(r["created_at"]) and r["created_at"] == r["updated_at"]
        assert r["version"] == 1
        assert "fid" not in r
    assert rows[0]["geometry"].equals(Point(-1.47, 53.38)) and not rows[0]["geometry"].has_z
    assert rows[1]["geometry"] is None and rows[1]["capacity"] == 12 and rows[0]["capacity"] is None
    assert rows[0]["description"] is None
    assert store.version() != v0
    back = store.read("assets")
    assert back["capacity"].tolist()[1] == 12
    assert (
        _psql(
            store,
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'assets' AND column_name = 'capacity'",
        )[0][0]
        == "bigint"
    )


def test_insert_reprojects_and_promotes(store: PostGISStore):
    bng = gpd.GeoDataFrame({"id": ["b1"], "name": ["BNG"]}, geometry=[Point(435000, 387000)], crs="EPSG:27700")
    expected = bng.to_crs(schema.STORAGE_CRS).geometry.iloc[0]
    with store.transaction(actor=ACTOR) as tx:
        tx.insert("assets", bng)
    got = store.read("assets").geometry.iloc[0]
    assert got.distance(expected) < 1e-9
    assert not store.has_layer("neighbourhoods")
    with store.transaction(actor=ACTOR) as tx:  # a schema layer the store lacks is made on first insert
        rows = tx.insert("neighbourhoods", [{"id": "N1", "geometry": Polygon([(0, 0), (1, 0), (1, 1)])}])
        assert rows[0]["geometry"].geom_type == "MultiPolygon"
        with pytest.raises(StoreError, match="MultiPolygon"):
            tx.insert("neighbourhoods", [{"id": "N2", "geometry": Point(0, 0)}])


def test_duplicate_id_is_refused_and_the_transaction_goes_on(seeded: PostGISStore):
    with seeded.transaction(actor=ACTOR) as tx:
        with pytest.raises(StoreError, match="lib-1"):
            tx.insert("assets", [{"id": "new-1", "name": "ok"}, {"id": "lib-1", "name": "again"}])
        tx.insert("assets", [{"id": "new-2", "name": "fine"}])
    ids = list(seeded.read("assets")["id"])
    assert "new-2" in ids and "new-1" not in ids


def test_update_bumps_version_and_stamps_but_never_created(seeded: PostGISStore):
    created = seeded.read("assets", ids=["lib-1"]).iloc[0]
    with seeded.transaction(actor="bob") as tx:
        before, after = tx.update(
            "assets",
            "lib-1",
            {"name": "Library", "created_by": "mallory", "version": 99, "geometry": Point(-1.48, 53.39)},
            if_version=1,
        )
    assert before["version"] == 1 and after["version"] == 2
    assert before["name"] == "Central Library" and after["name"] == "Library"
    assert after["updated_by"] == "bob" and after["created_by"] == created["created_by"] == ACTOR
    assert after["created_at"] == created["created_at"]
    assert after["geometry"].equals(Point(-1.48, 53.39))
    assert before["geometry"].x == pytest.approx(-1.4701234567)
    row = seeded.read("assets", ids=["lib-1"]).iloc[0]
    assert row["version"] == 2 and row["name"] == "Library"
    with seeded.transaction(actor="bob") as tx:
        tx.update("assets", "lib-1", {"description": "Books"})
        _, removed = tx.remove("assets", "lib-1", if_version=3)
        with pytest.raises(StoreError, match="no column"):
            tx.update("assets", "lib-1", {"colour": "red"})
        with pytest.raises(StoreError, match="cannot change"):
            tx.update("assets", "lib-1", {"id": "lib-9"})
        with pytest.raises(StoreError, match="status"):
            tx.remove("wards", "W1")
    assert removed["status"] == "removed" and removed["version"] == 4


def test_unknown_id_is_refused(seeded: PostGISStore):
    with seeded.transaction(actor=ACTOR) as tx:
        with pytest.raises(FeatureNotFoundError, match="nope"):
            tx.update("assets", "nope", {"name": "x"})
        with pytest.raises(FeatureNotFoundError):
            tx.remove("assets", "nope")


def test_stale_version_is_refused_naming_who_when_and_what(seeded: PostGISStore):
    with seeded.transaction(actor="bob@example.org") as tx:
        before, after = tx.update("assets", "park-1", {"name": "Weston Park Museum"}, if_version=1)
        tx.audit("update", "assets", "park-1", before, after)
    stamp = after["updated_at"]
    v = seeded.version()
    with pytest.raises(VersionConflictError) as err:
        with seeded.transaction(actor=ACTOR) as tx:
            tx.update("assets", "park-1", {"opening_hours": "9-5"}, if_version=1)
    e = err.value
    assert "bob@example.org" in str(e) and stamp in str(e) and "name" in str(e) and "Weston Park" in str(e)
    assert (e.expected, e.current, e.fields, e.layer, e.feature_id) == (1, 2, ("name",), "assets", "park-1")
    assert seeded.read("assets", ids=["park-1"]).iloc[0]["opening_hours"] is pd.NA
    assert seeded.version() == v


def test_delete_link_rows(seeded: PostGISStore):
    with seeded.transaction(actor=ACTOR) as tx:
        assert tx.delete("organisation_areas", {"organisation_id": "org-1", "area_id": ["W2", "W9"]}) == 1
        assert tx.delete("organisation_areas", {"themes": None}) == 1
        assert tx.delete("organisation_areas", {"organisation_id": "org-9"}) == 0
        with pytest.raises(StoreError, match="needs a filter"):
            tx.delete("organisation_areas", {})
    left = seeded.read("organisation_areas")
    assert list(zip(left["organisation_id"], left["area_id"], strict=True)) == [("org-1", "W1")]


def test_audit_is_read_in_the_order_written(store: PostGISStore):
    start = len(store.read_audit())
    with store.transaction(actor=ACTOR) as tx:
        for i in range(5):
            tx.audit(f"step-{i}", "assets", f"a{i}", None if i == 0 else {"n": i - 1}, {"n": i, "é": "ü"})
    with store.transaction(actor="bob") as tx:
        tx.audit("last", "assets", None, {"n": 4}, None)
    log = store.read_audit().iloc[start:]
    assert list(log["action"]) == [f"step-{i}" for i in range(5)] + ["last"]
    assert list(log["by"]) == [ACTOR] * 5 + ["bob"]
    assert log.iloc[0]["before"] == "" and log.iloc[-1]["after"] == "" and log.iloc[-1]["feature_id"] == ""
    assert '"é": "ü"' in log.iloc[1]["after"]
    assert all(ISO.match(a) for a in log["at"])


def test_rollback_on_exception_leaves_nothing(seeded: PostGISStore):
    v = seeded.version()
    audit = len(seeded.read_audit())
    with pytest.raises(RuntimeError, match="boom"):
        with seeded.transaction(actor=ACTOR) as tx:
            tx.insert("assets", [{"id": "ghost", "name": "Ghost"}])
            tx.update("assets", "lib-1", {"name": "Changed"})
            tx.delete("organisation_areas", {"organisation_id": "org-1"})
            tx.audit("update", "assets", "lib-1", {}, {})
            assert "ghost" in set(tx.read("assets")["id"])  # a transaction sees its own writes
            assert "ghost" not in set(seeded.read("assets")["id"])  # nobody else does yet
            raise RuntimeError("boom")
    assert seeded.version() == v
    assets = seeded.read("assets")
    assert "ghost" not in set(assets["id"]) and assets.loc[0, "name"] == "Central Library"
    assert len(seeded.read("organisation_areas")) == 3 and len(seeded.read_audit()) == audit
    with pytest.raises(StoreError, match="ended"):
        tx.read("assets")


def test_version_changes_only_on_committed_writes(store: PostGISStore):
    v0, assets0, audit0 = store.version(), store.version("assets"), store.version("audit_log")
    with store.transaction(actor=ACTOR) as tx:
        tx.read("assets")
        assert tx.get("assets", "nope") is None
    assert store.version() == v0
    with store.transaction(actor=ACTOR) as tx:
        tx.audit("note", "assets", None, None, {"x": 1})
    assert int(store.version()[1:]) == int(v0[1:]) + 1
    assert store.version("assets") == assets0 and store.version("audit_log") != audit0
    with store.transaction(actor=ACTOR) as tx:
        tx.insert("assets", [{"id": "a1", "name": "A", "geometry": Point(-1.4, 53.4)}])
        got = tx.get("assets", "a1")
    assert got is not None and got["name"] == "A" and got["version"] == 1 and got["geometry"].equals(Point(-1.4, 53.4))
    assert store.get("assets", "a1") == {**got, "geometry": store.get("assets", "a1")["geometry"]}
    assert store.get("assets", "nope") is None
    with pytest.raises(LayerNotFoundError):
        store.get("nope", "a1")
    assert store.version("assets") != assets0 and store.version("stories") == "r0"


def test_replace_layer_round_trip_as_given(store: PostGISStore):
    audit = len(store.read_audit())
    wards = _wards()
    store.replace_layer("wards", wards, actor=ACTOR)
    back = store.read("wards")
    assert list(back["id"]) == ["W1", "W2", "W3"] and back["population"].isna().tolist() == [False, False, True]
    for got, want in zip(back.geometry, wards.geometry, strict=True):
        want = MultiPolygon([want]) if want.geom_type == "Polygon" else want
        assert got.geom_type == "MultiPolygon"
        assert got.equals_exact(want, tolerance=1e-7)
    assets = (
        _assets()
        .assign(
            version=pd.array([3, None, 1, 1, 7, None], dtype="Int64"),
            created_by="importer",
            created_at="2020-01-01T00:00:00Z",
            seats=[1, 2, 3, 4, 5, 6],
        )
        .to_crs("EPSG:27700")
    )
    store.replace_layer("assets", assets, actor=ACTOR)
    back = store.read("assets")
    assert back["version"].tolist() == [3, 1, 1, 1, 7, 1]
    assert set(back["created_by"]) == {"importer"} and back["updated_by"].isna().all()
    assert back["seats"].tolist() == [1, 2, 3, 4, 5, 6]
    dist = shapely.distance(np.asarray(back.geometry.array), np.asarray(_assets().geometry.array))
    assert dist.max() < 1e-7
    assert len(store.read_audit()) == audit  # not audited
    assert store.check() == []
    store.replace_layer("assets", assets.iloc[:2], actor=ACTOR)
    assert len(store.read("assets")) == 2


# ------------------------------------------------------------------------------------ concurrency


def _bump_worker(url: str, feature_id: str, worker: int, n: int) -> int:
    with PostGISStore(url, max_connections=1) as s:
        for i in range(n):
            with s.transaction(actor=f"worker-{worker}") as tx:
                before, after = tx.update("assets", feature_id, {"description": f"{worker}-{i}"})
                tx.audit("update", "assets", feature_id, {"version": before["version"]}, {"version": after["version"]})
    return n


def _audit_versions(store: PostGISStore, feature_id: str) -> list[tuple[int, int]]:
    log = store.read("audit_log", where={"feature_id": feature_id, "action": "update"})
    import json

    return [
        (json.loads(b)["version"], json.loads(a)["version"]) for b, a in zip(log["before"], log["after"], strict=True)
    ]


@pytest.mark.slow
def test_eight_processes_updating_one_row_lose_nothing(seeded: PostGISStore, monkeypatch: pytest.MonkeyPatch):
    # Eight fresh interpreters ("spawn"): the fork server is one per process, and another module
    # (tests/imports/test_crash_safety.py) starts it with its own preloads and SIGKILLs its children,
    # so sharing it made this pool break now and then when both ran on one xdist worker.
    # A spawned interpreter runs the parent's __main__ again from its file; after an AppTest has run on
    # this worker, __main__ is the script Streamlit last ran (a deleted temporary file, which broke the
    # pool once in CI): the workers need nothing from __main__, so they get an empty one.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=8, mp_context=ctx) as pool:
        done = list(pool.map(_bump_worker, [seeded.url] * 8, ["lib-2"] * 8, range(8), [100] * 8))
    assert sum(done) == 800
    assert seeded.read("assets", ids=["lib-2"]).iloc[0]["version"] == 801
    pairs = _audit_versions(seeded, "lib-2")
    assert len(pairs) == 800
    assert sorted(a for _, a in pairs) == list(range(2, 802))  # every update saw the one before it
    assert all(a == b + 1 for b, a in pairs)


@pytest.mark.slow
def test_eight_threads_updating_their_own_rows_lose_nothing(seeded: PostGISStore):
    ids = ["lib-1", "lib-2", "park-1", "park-2", "fb-1", "gp-1"]
    with seeded.transaction(actor=ACTOR) as tx:
        tx.insert("assets", [{"id": "x-1", "name": "x"}, {"id": "x-2", "name": "y"}])
    ids += ["x-1", "x-2"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        done = list(pool.map(_bump_worker, [seeded.url] * 8, ids, range(8), [100] * 8))
    assert sum(done) == 800
    assert seeded.read("assets", ids=ids)["version"].tolist() == [101] * 8


def test_optimistic_increments_from_threads_add_up(seeded: PostGISStore):
    lock = threading.Lock()
    conflicts = []

    def increment(worker: int) -> None:
        for _ in range(10):
            while True:
                try:
                    with seeded.transaction(actor=f"t{worker}") as tx:
                        row = tx.read("assets", ids=["fb-1"]).iloc[0]
                        n = int(row["description"]) if isinstance(row["description"], str) else 0
                        b, a = tx.update("assets", "fb-1", {"description": str(n + 1)}, if_version=int(row["version"]))
                        tx.audit("update", "assets", "fb-1", b, a)
                    break
                except VersionConflictError:
                    with lock:
                        conflicts.append(worker)

    threads = [threading.Thread(target=increment, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    row = seeded.read("assets", ids=["fb-1"]).iloc[0]
    assert row["description"] == "40" and row["version"] == 41


# ------------------------------------------------------------------------------------ nearest


def test_near_candidates_match_brute_force(store: PostGISStore):
    rng = np.random.default_rng(7)
    n = 600
    types = ["library", "park", "food_bank", "gp_practice"]
    frame = gpd.GeoDataFrame(
        {
            "id": [f"a{i}" for i in range(n)],
            "name": [f"Asset {i}" for i in range(n)],
            "type": rng.choice(types, n, p=[0.1, 0.5, 0.3, 0.1]),
            "status": rng.choice(np.array(["active", "closed", None], dtype=object), n, p=[0.7, 0.2, 0.1]),
        },
        geometry=gpd.points_from_xy(rng.uniform(-1.60, -1.30, n), rng.uniform(53.30, 53.50, n)),
        crs=schema.STORAGE_CRS,
    )
    store.replace_layer("assets", frame, actor=ACTOR)
    active = frame[frame["status"].fillna("active") == "active"].to_crs(schema.METRIC_CRS)
    for lon, lat in [(-1.47, 53.38), (-1.35, 53.45), (-1.70, 53.20)]:
        origin = gpd.GeoSeries([Point(lon, lat)], crs=schema.STORAGE_CRS).to_crs(schema.METRIC_CRS).iloc[0]
        got = store.near_candidates((lon, lat), types=[*types, "unmapped"], k=3)
        assert isinstance(got, gpd.GeoDataFrame) and {"id", "type", "geometry", "name"} <= set(got.columns)
        assert list(dict.fromkeys(got["type"])) == types
        for t in types:
            pool = active[active["type"] == t]
            best = pool.assign(d=pool.distance(origin)).sort_values("d")["id"].head(3).tolist()
            assert got[got["type"] == t]["id"].tolist() == best
    with psycopg.connect(store.url, autocommit=True) as conn:  # the KNN ordering can use the index
        conn.execute("SET enable_seqscan = off")
        plan = conn.execute(
            "EXPLAIN SELECT fid FROM assets WHERE type = 'park' ORDER BY ST_Transform(geom, 27700) <-> "
            "ST_Transform(ST_SetSRID(ST_MakePoint(-1.47, 53.38), 4326), 27700) LIMIT 3"
        ).fetchall()
    assert "assets_geom_27700_knn" in " ".join(r[0] for r in plan)
