"""Helpers shared by tests of any backend."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Callable

import geopandas as gpd
import pandas as pd
import pytest

from geo import schema
from geo.store import Store, open_store


def demo_count(layer: str, **where: str) -> int:
    """Rows of ``layer`` in the shipped demo (``where``: column=value filters), counted from the data,
    so that tests follow a rebuilt demo instead of holding its counts as literals."""
    frame = open_store(schema.DEMO_GPKG).read(layer)
    for column, value in where.items():
        frame = frame[frame[column] == value]
    return int(len(frame))


#: The shipped demo's assets (all active), counted from data/sheffield.gpkg.
DEMO_ASSETS = demo_count("assets")
#: Asset types in the shipped demo.
DEMO_TYPES = int(open_store(schema.DEMO_GPKG).read("assets", columns=["type"])["type"].nunique())


def store_digest(store: Store | str | os.PathLike) -> str | SQLiteContent:
    """A digest of every row of every table in one store, for "the store is unchanged" checks.

    It reads the database itself (SQLite for a GeoPackage, SQL for PostGIS): every table, the
    GeoPackage's own metadata, spatial index and audit log included. So it is stricter than comparing
    layers and catches a write anywhere, and it takes milliseconds where reading every layer as a
    frame took most of a refused import's test. A GeoPackage's is a :class:`SQLiteContent`: equal
    when the database images are the same bytes, or else when their rows are. To compare two
    different stores' content, use :func:`content_digest`.
    """
    s = open_store(store)
    from geo.store import GeoPackageStore
    from geo.store.postgis import PostGISStore

    if isinstance(s, GeoPackageStore):
        return SQLiteContent.of(s.path)
    if isinstance(s, PostGISStore):
        return _postgres_digest(s.url)
    return content_digest(s)


class SQLiteContent:
    """What one SQLite database holds, for "unchanged" checks: its image (``Connection.serialize``,
    which reads through the pager, so commits still in the ``-wal`` file are in it).

    Two are equal when their images are the same bytes, which settles almost every check in a
    memcpy. Only when the bytes differ are the rows compared (every table, row by row), since the
    same rows can sit on different pages. Reading and printing every row of the 3 MB demo had been
    6% of the quick tests' time."""

    __hash__ = None  # equality is by content, and it is not a plain value

    def __init__(self, image: bytes) -> None:
        self.image = image
        self._rows: str | None = None

    @classmethod
    def of(cls, path) -> SQLiteContent:
        import sqlite3

        con = sqlite3.connect(str(path))
        try:
            return cls(con.serialize())
        finally:
            con.close()

    def rows(self) -> str:
        """A digest of every row of every table, in rowid order."""
        if self._rows is None:
            import sqlite3

            image = bytearray(self.image)
            if image[18:20] == b"\x02\x02":  # a WAL database: memory cannot hold one, and its pages are all here
                image[18:20] = b"\x01\x01"
            con = sqlite3.connect(":memory:")
            try:
                con.deserialize(bytes(image))
                self._rows = _sqlite_rows_digest(con)
            finally:
                con.close()
        return self._rows

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SQLiteContent):
            return NotImplemented
        return self.image == other.image or self.rows() == other.rows()

    def __repr__(self) -> str:
        return f"<SQLite content, image {hashlib.sha256(self.image).hexdigest()[:12]}>"


def _sqlite_rows_digest(con) -> str:
    import sqlite3

    h = hashlib.sha256()
    tables = con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name"
    ).fetchall()
    for (table,) in tables:
        h.update(b"\0table " + table.encode())
        quoted = '"' + table.replace('"', '""') + '"'
        try:
            rows = con.execute(f"SELECT * FROM {quoted} ORDER BY rowid").fetchall()
        except sqlite3.OperationalError:  # a table WITHOUT ROWID: its primary key orders it
            rows = con.execute(f"SELECT * FROM {quoted}").fetchall()
        h.update(repr(rows).encode())
    return h.hexdigest()


def _postgres_digest(url: str) -> str:
    import psycopg
    from psycopg import sql

    h = hashlib.sha256()
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT schemaname, tablename FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'tiger', 'topology') "
            "ORDER BY 1, 2"
        ).fetchall()
        for schema_name, table in tables:
            h.update(f"\0table {schema_name}.{table}".encode())
            if table == "spatial_ref_sys":  # PostGIS's own 8,500 definitions (7 MB), which nothing here writes:
                # its count and ids stand for it (the whole text was most of a digest's time)
                query = sql.SQL("SELECT count(*)::text || ' ' || coalesce(sum(srid), 0)::text FROM {}.{}").format(
                    sql.Identifier(schema_name), sql.Identifier(table)
                )
            else:
                query = sql.SQL("SELECT t::text FROM {}.{} AS t ORDER BY 1").format(
                    sql.Identifier(schema_name), sql.Identifier(table)
                )
            for (row,) in conn.execute(query):
                h.update(row.encode())
    return h.hexdigest()


def content_digest(store: Store | str | os.PathLike) -> str:
    """A digest of what a store holds as the app reads it (every layer's rows, geometry included, and
    the audit log), independent of how it is kept: equal for a store and its copy in another file or
    backend."""
    s = open_store(store)
    h = hashlib.sha256()
    for name in s.layer_names():
        frame = s.read(name)
        h.update(name.encode())
        h.update(str(len(frame)).encode())
        if isinstance(frame, gpd.GeoDataFrame):
            h.update(b"".join(g.wkb if g is not None else b"-" for g in frame.geometry))
            frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        h.update(frame.to_csv(index=False).encode())
    return h.hexdigest()


def wait_until(condition: Callable[[], object], timeout_s: float, what: str) -> object:
    """Poll ``condition`` until it returns something truthy (returned), or fail after ``timeout_s``.

    For what no event announces (a server answering its health check, another process's write
    reaching a file): the test waits for the condition, never for a fixed time. The poll interval
    starts at 10 ms and doubles up to 200 ms, so a quick condition costs little.
    """
    deadline = time.monotonic() + timeout_s
    interval = 0.01
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}", pytrace=False)
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))  # a poll interval
        interval = min(interval * 2, 0.2)


# --------------------------------------------------------------------------------------------
# The command line, in this process or in a real one
# --------------------------------------------------------------------------------------------

#: Warnings a fresh ``python -m geo`` does not print (Python's default filters outside ``__main__``).
_SILENT_BY_DEFAULT = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


def run_cli_subprocess(*args: str, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    """``python -m geo ARGS`` in a new process, as users run it (costs 1-2 s of imports)."""
    from geo.schema import PROJECT_ROOT

    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "geo", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )


class InProcessCLI:
    """``python -m geo ARGS`` through :func:`geo.cli.main` in this process, with the result of a subprocess.

    What it returns has the shape of :func:`run_cli_subprocess`'s ``CompletedProcess``: the exit code
    (``SystemExit`` from argparse included), and stdout and stderr as the process would have written
    them. Output is captured at the file-descriptor level (``capfd``), so what C libraries such as
    GDAL write is in it too; Python warnings that a fresh interpreter would print are written to
    stderr as it would; an uncaught exception becomes a traceback on stderr and exit code 1.
    Environment variables in ``env`` are set with ``monkeypatch`` for the call only, and the call
    runs from the project root, like the subprocess.
    """

    def __init__(self, capfd: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, env: dict | None = None):
        self.capfd = capfd
        self.monkeypatch = monkeypatch
        self.env = dict(env or {})

    def __call__(self, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        from geo.schema import PROJECT_ROOT

        with self.monkeypatch.context() as mp:
            for key, value in {**self.env, **(env or {})}.items():
                mp.setenv(key, value)
            mp.chdir(PROJECT_ROOT)
            self.capfd.readouterr()  # what the test printed before is not the command's output
            code = _call_main(list(args))
            out, err = self.capfd.readouterr()
        return subprocess.CompletedProcess([sys.executable, "-m", "geo", *args], code, out, err)


def _call_main(argv: list[str]) -> int:
    from geo.cli import main

    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter("default")
        for category in _SILENT_BY_DEFAULT:
            warnings.filterwarnings("ignore", category=category)
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's usage errors and --help
            if exc.code is None or isinstance(exc.code, int):
                code = exc.code or 0
            else:
                sys.stderr.write(f"{exc.code}\n")
                code = 1
        except Exception:  # what the interpreter would do with an uncaught exception
            traceback.print_exc(file=sys.stderr)
            code = 1
        finally:
            for w in caught:
                sys.stderr.write(warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line))
            sys.stdout.flush()
            sys.stderr.flush()
    return code


def view_links(at) -> list[str]:
    """The "Link to this view" URLs an AppTest run shows (:func:`geo.web.links.copy_link_html`)."""
    import html
    import re

    found = []
    for element in at.get("html"):
        body = element.proto.body
        if 'class="cg-link"' in body:
            found += [html.unescape(v) for v in re.findall(r'<input type="text" readonly value="([^"]*)"', body)]
    return found


def html_tables(at) -> list[pd.DataFrame]:
    """The plain HTML tables (:mod:`geo.web.tables`) a page drew with ``st.html``, in page order,
    read back as frames of text (numbers as shown, e.g. "1,234")."""
    from geo.web import tables

    return [t for e in at.get("html") for t in tables.read_tables(e.proto.body) if "cg-" in e.proto.body]


def map_points(script: str) -> dict:
    """The point payload of a page's map (:func:`geo.web.maps.points_json`): inline in the map's
    script, or the published file its ``cgFillFrom`` fetches from the app's static folder."""
    import json
    import re
    from pathlib import Path

    from geo.web import maps

    inline = maps.payload_points(script + "\n")
    if inline:
        return inline[0]
    found = re.search(r'cgFillFrom\("/app/static/(details/[^"]+)"', script)
    assert found, "the map has no points, inline or fetched"
    static = Path(__file__).resolve().parents[1] / "static"
    return json.loads((static / found.group(1)).read_text(encoding="utf-8"))
