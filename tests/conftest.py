"""Shared fixtures: every test that writes works on its own copy of a store.

Two stores: the tiny synthetic store (``tests/fixture_store.py``: four wards, eight LSOAs, a dozen
assets, built in code; ``tiny_store``, and ``store_copy`` under ``tests/unit``), and the demo
(``store_copy`` elsewhere; ``gpkg_copy``). Tests that only read the demo use the session's
read-only ``demo_store``; tests of the demo's own data live in ``tests/data``.

The store backend is a fixture parameter (``backend``): a writing test runs once on a GeoPackage
file copy (``[gpkg]``) and once on a PostGIS database made with one ``CREATE DATABASE ... TEMPLATE``
of a template holding the same store (``[postgis]``), so one suite tests both backends. PostGIS
needs a server (``COMMON_GROUND_TEST_PG``, see ``tests/pg.py``): without one those runs are skipped
with a message saying how to enable them, except under ``CI=true``, where they fail. Choose
backends with ``COMMON_GROUND_TEST_BACKENDS=gpkg`` (or ``postgis``, or both, the default).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from geo import schema
from geo.store import GeoPackageStore, Store, open_store, release_store

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = [b.strip() for b in os.environ.get("COMMON_GROUND_TEST_BACKENDS", "gpkg,postgis").split(",") if b.strip()]
# What the PostGIS demo template is made from: a change to any of them makes a new template.
_DEMO_INPUTS = ("data/sheffield.gpkg", "geo/store/postgis.py", "geo/store/copy.py", "geo/schema.py")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups (--dist loadgroup)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every ``e2e`` test is also a ``browser`` test, and each browser test module runs whole on one
    xdist worker.

    A module's app server is module-scoped, so keeping a module on one worker starts it once, as
    in a serial run; different modules may run on different workers (each worker has its own
    Chromium), so the browser tests no longer queue behind each other on a single worker
    (``./run test`` passes ``-n 2 --dist loadgroup``). The inner loop leaves them out:
    ``./run test -m "not e2e and not slow"``.
    """
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group(f"browser-{item.module.__name__.rsplit('.', 1)[-1]}"))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop the PostgreSQL databases made ahead for tests that never came (tests/pg.py): here, since
    an xdist worker may end without running ``atexit``."""
    import sys

    pg = sys.modules.get("tests.pg")
    if pg is not None:
        pg._drop_made_ahead()


@pytest.fixture(scope="session")
def demo_path() -> Path:
    """The shipped demo GeoPackage (read-only: never write to it)."""
    return schema.DEMO_GPKG


@pytest.fixture(scope="session")
def demo_store(demo_path: Path) -> Store:
    """A read-only handle on the shipped demo."""
    return open_store(demo_path)


@pytest.fixture
def gpkg_copy(tmp_path: Path, demo_path: Path) -> GeoPackageStore:
    """A private, writable GeoPackage copy of the demo (for tests of the GeoPackage file itself)."""
    target = tmp_path / "store.gpkg"
    shutil.copyfile(demo_path, target)
    os.chmod(target, 0o644)
    return GeoPackageStore(target)


def _template(admin: str, name: str, lock: int, fill) -> str:
    """A PostgreSQL template database ``name`` (its prefix, up to the last ``_``, names its kind): made
    once from the project's template by ``fill(url)``, under an advisory lock; older versions of the
    same kind are dropped."""
    import psycopg
    from psycopg import sql

    from tests import pg

    kind = name.rsplit("_", 1)[0].replace("_", "\\_")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (lock,))
        try:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s AND datistemplate", (name,)).fetchone():
                return name
            for (old,) in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s AND datname <> %s", (kind + "\\_%", name)
            ).fetchall():
                with contextlib.suppress(psycopg.Error):
                    conn.execute(sql.SQL("ALTER DATABASE {} IS_TEMPLATE false").format(sql.Identifier(old)))
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(old)))
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            template = pg.template_database(admin)
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
            )
            url = pg.database_url(admin, name)
            fill(url)
            release_store(url)
            conn.execute(sql.SQL("ALTER DATABASE {} IS_TEMPLATE true").format(sql.Identifier(name)))
            return name
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (lock,))


@functools.cache
def _demo_template(admin: str) -> str:
    """A PostgreSQL template database holding the demo (made once per version of its inputs)."""
    from geo.store.copy import copy_store

    h = hashlib.sha256()
    for rel in _DEMO_INPUTS:
        h.update((ROOT / rel).read_bytes())
    return _template(admin, f"cg_demo_{h.hexdigest()[:12]}", 4242, lambda url: copy_store(schema.DEMO_GPKG, url))


@contextlib.contextmanager
def postgis_demo_copy() -> Iterator[str]:
    """A fresh PostGIS database holding the demo (skipped, or failed under CI, without a server):
    one ``CREATE DATABASE ... TEMPLATE`` of the demo template."""
    from tests import pg

    with pg.fresh_database("cg_copy", template=_demo_template) as url:
        try:
            yield url
        finally:
            release_store(url)  # before the database is dropped


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The store backend of a test that writes: ``gpkg`` or ``postgis`` (``COMMON_GROUND_TEST_BACKENDS``)."""
    if request.param not in ("gpkg", "postgis"):
        raise pytest.UsageError(
            f"Unknown backend {request.param!r} in COMMON_GROUND_TEST_BACKENDS; use gpkg or postgis."
        )
    return request.param


@contextlib.contextmanager
def demo_copy_on(backend: str, tmp_path: Path) -> Iterator[Store]:
    """A private, writable copy of the demo store on ``backend``."""
    if backend == "gpkg":
        target = tmp_path / "store.gpkg"
        shutil.copyfile(schema.DEMO_GPKG, target)
        os.chmod(target, 0o644)
        yield GeoPackageStore(target)
    else:
        with postgis_demo_copy() as url:
            yield open_store(url)


@contextlib.contextmanager
def tiny_copy_on(backend: str, tmp_path: Path, tiny_path: Path) -> Iterator[Store]:
    """A private, writable copy of the tiny synthetic store (``tests/fixture_store.py``) on ``backend``."""
    if backend == "gpkg":
        target = tmp_path / "tiny.gpkg"
        shutil.copyfile(tiny_path, target)
        os.chmod(target, 0o644)
        yield GeoPackageStore(target)
    else:
        from tests import pg

        with pg.fresh_database("cg_tiny", template=_tiny_template) as url:
            try:
                yield open_store(url)
            finally:
                release_store(url)


@pytest.fixture
def store_copy(backend: str, tmp_path: Path) -> Iterator[Store]:
    """A private, writable copy of the demo store, once per backend (``tests/unit`` overrides it with
    the tiny store)."""
    with demo_copy_on(backend, tmp_path) as store:
        yield store


@pytest.fixture(scope="session")
def tiny_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny synthetic store, built once per session (per xdist worker); read-only: copy it to write."""
    from tests import fixture_store

    path = fixture_store.build(tmp_path_factory.mktemp("tiny") / "tiny.gpkg")
    os.chmod(path, 0o444)
    return path


@functools.cache
def _tiny_template(admin: str) -> str:
    """A PostgreSQL template database holding the tiny store (made once per version of its inputs)."""
    import tempfile

    from geo.store.copy import copy_store
    from tests import fixture_store

    def fill(url: str) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            copy_store(fixture_store.build(Path(tmp) / "tiny.gpkg"), url, replace=True)

    return _template(admin, f"cg_tiny_{fixture_store.fingerprint()}", 4243, fill)


@pytest.fixture
def tiny_store(backend: str, tmp_path: Path, tiny_path: Path) -> Iterator[Store]:
    """A private, writable copy of the tiny synthetic store (``tests/fixture_store.py``), once per backend."""
    with tiny_copy_on(backend, tmp_path, tiny_path) as store:
        yield store


@pytest.fixture(scope="session")
def taxonomy() -> schema.Taxonomy:
    return schema.load_taxonomy()


@pytest.fixture(scope="session")
def demo_assets(demo_store: Store):
    return demo_store.read("assets")


@pytest.fixture(scope="session")
def demo_wards(demo_store: Store):
    return demo_store.read("wards")
