"""PostgreSQL for the tests: where the server is, and a fresh database per test.

Point the tests at a PostgreSQL server with PostGIS where ``CREATE DATABASE`` works::

    ./run postgis                      # a local cluster on 127.0.0.1:5433
    COMMON_GROUND_TEST_PG=postgresql://postgres@127.0.0.1:5433/postgres ./run test

Without it the PostgreSQL tests are skipped, except under ``CI=true``, where they fail (CI starts
its own throwaway cluster, see ``.ci/run``). Each test gets its own database, copied from a template
that already holds PostGIS and the migrated Common Ground schema (made once, and remade when
``geo/store/postgis.py``, ``geo/schema.py`` or the taxonomy seed change), so a fresh store costs a
``CREATE DATABASE ... TEMPLATE`` (a fraction of a second) rather than ``CREATE EXTENSION postgis``.

>>> with fresh_database("cg_demo") as url:          # doctest: +SKIP
...     with PostGISStore(url) as store:
...         ...
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import functools
import hashlib
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

ENV_VAR = "COMMON_GROUND_TEST_PG"
SKIP_REASON = (
    "PostgreSQL tests skipped: set COMMON_GROUND_TEST_PG=postgresql://... or start a cluster with ./run postgis"
)
ROOT = Path(__file__).resolve().parent.parent
_TEMPLATE_LOCK = 0x43_47_54_50_4C  # "CGTPL": one session at a time builds the template
_TEMPLATE_INPUTS = ("geo/store/postgis.py", "geo/schema.py", "data/taxonomy.json")


@functools.cache
def _probe(url: str) -> str | None:
    """``None`` when ``url`` accepts a connection, else why not (one line)."""
    try:
        with psycopg.connect(url, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return None


def pg_admin_url() -> str | None:
    """The server the tests may create databases on (``$COMMON_GROUND_TEST_PG``); ``None`` if unset or unreachable."""
    url = os.environ.get(ENV_VAR, "").strip()
    if not url:
        return None
    return url if _probe(url) is None else None


def skip_reason() -> str:
    """Why the PostgreSQL tests cannot run here, and how to make them run."""
    url = os.environ.get(ENV_VAR, "").strip()
    if url and _probe(url) is not None:
        from geo.store.postgis import redact_url

        return f"{SKIP_REASON} ({ENV_VAR}={redact_url(url)} is unreachable: {_probe(url)})"
    return SKIP_REASON


def require_pg() -> str:
    """The admin URL, or skip the test (fail it under ``CI=true``, where PostgreSQL must be there)."""
    url = pg_admin_url()
    if url is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(skip_reason() + " [CI=true: PostgreSQL is required]", pytrace=False)
        pytest.skip(skip_reason())
    return url


def database_url(admin_url: str, database: str) -> str:
    """``admin_url`` pointing at another database on the same server."""
    parts = urlsplit(admin_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def _fingerprint() -> str:
    h = hashlib.sha256()
    for rel in _TEMPLATE_INPUTS:
        p = ROOT / rel
        h.update(p.read_bytes() if p.exists() else b"")
    return h.hexdigest()[:12]


@functools.cache
def template_database(admin_url: str) -> str:
    """The name of a template database with PostGIS and the current Common Ground schema (made if missing)."""
    from geo.store.postgis import PostGISStore

    name = f"cg_template_{_fingerprint()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_TEMPLATE_LOCK,))
        try:
            done = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s AND datistemplate", (name,)).fetchone()
            if done:
                return name
            stale = conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'cg\\_template\\_%%' AND datname <> %s", (name,)
            ).fetchall()
            for (old,) in stale:  # templates of older code: drop them when nobody uses them
                with contextlib.suppress(psycopg.Error):
                    conn.execute(sql.SQL("ALTER DATABASE {} IS_TEMPLATE false").format(sql.Identifier(old)))
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(old)))
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            with PostGISStore(database_url(admin_url, name)) as store:
                store.migrate()
            conn.execute(sql.SQL("ALTER DATABASE {} IS_TEMPLATE true").format(sql.Identifier(name)))
            return name
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_TEMPLATE_LOCK,))


# --- databases made one ahead ---------------------------------------------------------------------
#
# ``CREATE DATABASE ... TEMPLATE`` copies the template's files (16 MB or more, PostGIS's own tables
# included): 0.1 to 0.5 s, mostly waiting on the disk when the files have left the page cache. A test
# that needs a fresh database would wait that long in its set-up; instead, as one is handed out, the
# next copy of the same template is made in a background thread while the test runs, and used
# databases are dropped there too. What is left over at the end of the process is dropped then.

_AHEAD_LOCK = threading.Lock()
_AHEAD: dict[tuple[str, str], concurrent.futures.Future] = {}  # (admin URL, template) -> its next copy
_EXECUTOR: concurrent.futures.ThreadPoolExecutor | None = None


def _background() -> concurrent.futures.ThreadPoolExecutor:
    global _EXECUTOR
    if _EXECUTOR is None:
        _EXECUTOR = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="cg-test-db")
        atexit.register(_drop_made_ahead)
    return _EXECUTOR


def _new_name(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}".lower()[:63]


def _create(admin: str, name: str, template: str) -> str:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
    return name


def _drop(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _take_made_ahead(admin: str, template: str) -> str | None:
    """The database made ahead from ``template``, if one was and it worked out."""
    with _AHEAD_LOCK:
        future = _AHEAD.pop((admin, template), None)
    if future is None:
        return None
    try:
        return future.result(timeout=120)
    except (psycopg.Error, concurrent.futures.TimeoutError):
        return None  # e.g. the template was replaced meanwhile: make one now, as before


def _make_ahead(admin: str, template: str, prefix: str) -> None:
    with _AHEAD_LOCK:
        if (admin, template) not in _AHEAD:
            _AHEAD[admin, template] = _background().submit(_create, admin, _new_name(prefix), template)


def _drop_made_ahead() -> None:
    """At the end of the session (or process): drop the copies made ahead and never used; wait for the
    drops still queued."""
    global _EXECUTOR
    with _AHEAD_LOCK:
        futures = [(admin, f) for (admin, _), f in _AHEAD.items()]
        _AHEAD.clear()
    for admin, future in futures:
        with contextlib.suppress(Exception):
            _drop(admin, future.result(timeout=120))
    if _EXECUTOR is not None:
        _EXECUTOR.shutdown(wait=True)  # the drops still queued
        _EXECUTOR = None


@contextlib.contextmanager
def fresh_database(
    prefix: str = "cg_test", *, admin_url: str | None = None, template: Callable[[str], str] | None = None
) -> Iterator[str]:
    """A new, uniquely named database holding an empty Common Ground store; dropped afterwards.

    Parameters
    ----------
    prefix
        The start of the database name (letters, digits and underscores).
    admin_url
        The server; default :func:`require_pg` (skipping, or failing under CI, when there is none).
    template
        A function of the admin URL giving the template database to copy (default
        :func:`template_database`, an empty store); e.g. a template already holding a store's data,
        so that a filled store costs one ``CREATE DATABASE`` too.

    Yields
    ------
    str
        The ``postgresql://`` URL of the new database (made ahead in the background when it could
        be: see the notes above).
    """
    admin = admin_url or require_pg()
    make_template = template or template_database
    source = make_template(admin)
    name = _take_made_ahead(admin, source)
    if name is None:
        name = _new_name(prefix)
        try:
            _create(admin, name, source)
        except psycopg.errors.InvalidCatalogName:  # another session dropped it as stale: make it again
            template_database.cache_clear()
            if hasattr(make_template, "cache_clear"):
                make_template.cache_clear()
            source = make_template(admin)
            _create(admin, name, source)
    _make_ahead(admin, source, prefix)  # the next test's copy, while this one runs
    try:
        yield database_url(admin, name)
    finally:
        _background().submit(_drop, admin, name)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh database URL for one test (import this fixture into a test module or conftest)."""
    with fresh_database("cg_test") as url:
        yield url
