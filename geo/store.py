"""Reading and writing the Common Ground data store (a GeoPackage).

Where the store is
    ``--data PATH`` / ``data=`` if given, else ``$COMMON_GROUND_DATA``, else a working copy at
    ``instance/common_ground.gpkg`` created from the shipped demo (``data/sheffield.gpkg``) on first
    use. ``instance/`` is ignored by git, so the demo itself is never edited.

How writes happen
    Every write is a :meth:`Store.transaction`: one process-wide, cross-process lock (``fcntl.flock``
    on ``<store>.lock`` plus a thread lock) serialises writers, the changes are made on a private
    copy of the file, checked (SQLite ``integrity_check`` and every layer's cached feature count
    against ``count(*)``), flushed to disk, and then moved over the store with one atomic
    ``os.replace``. A failure or a killed process at any moment leaves the store exactly as it was;
    readers always see a whole file, before or after. Concurrent unserialised GeoPackage writers are
    known to corrupt the cached feature count so that readers silently drop rows; that cannot happen
    here, and :meth:`Store.check` looks for it anyway.

The store is small (a few MB for a city), so copying it per transaction costs milliseconds; a shared
deployment uses PostGIS instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sqlite3
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geo import schema
from geo.errors import (
    LayerNotFoundError,
    StoreBusyError,
    StoreError,
    StoreIntegrityError,
    StoreNotFoundError,
)

ENV_VAR = "COMMON_GROUND_DATA"
INSTANCE_DIR = schema.PROJECT_ROOT / "instance"
WORKING_COPY = INSTANCE_DIR / "common_ground.gpkg"
LOCK_TIMEOUT_S = 30.0

_thread_lock = threading.RLock()


def now_iso() -> str:
    """The current time in UTC as ISO 8601 text (the store's timestamp format)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def resolve_path(data: str | os.PathLike | None = None) -> Path:
    """The store path for ``--data`` / ``data=``, else ``$COMMON_GROUND_DATA``, else the working copy.

    The working copy is created from the demo GeoPackage if it does not exist yet. A path given
    explicitly (argument or environment) must exist.
    """
    if data is None:
        env = os.environ.get(ENV_VAR, "").strip()
        data = env or None
    if data is not None:
        p = Path(data).expanduser()
        if not p.exists():
            raise StoreNotFoundError(
                f"The data store {p} does not exist; check the path given by --data or "
                f"{ENV_VAR}, or unset it to use the demo working copy."
            )
        if not p.is_file():
            raise StoreNotFoundError(f"The data store {p} is not a file; give the path of a .gpkg file.")
        return p
    return ensure_working_copy()


def ensure_working_copy(path: Path = WORKING_COPY, demo: Path = schema.DEMO_GPKG) -> Path:
    """Create ``path`` as a copy of the demo GeoPackage if it is missing; return it."""
    if path.exists():
        return path
    if not demo.exists():
        raise StoreNotFoundError(
            f"The demo GeoPackage {demo} is missing; restore it from git or rebuild it with "
            "`python data/build_demo.py`."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(path):
        if not path.exists():
            fd, tmp = tempfile.mkstemp(prefix=".copy-", suffix=".gpkg", dir=path.parent)
            os.close(fd)
            try:
                shutil.copyfile(demo, tmp)
                fsync_file(tmp)
                os.replace(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
    return path


def fsync_file(path: str | Path) -> None:
    """Flush a file (or a folder's entries) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _file_lock(path: Path, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the store's writer lock (threads and processes) for the duration of the block."""
    lock_path = Path(str(path) + ".lock")
    deadline = time.monotonic() + timeout_s
    if not _thread_lock.acquire(timeout=timeout_s):
        raise StoreBusyError(f"Another writer is still using {path.name}; try again in a moment.")
    try:
        with open(lock_path, "a+") as fh:
            while True:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise StoreBusyError(
                            f"Another process has been writing to {path.name} for over "
                            f"{timeout_s:.0f} s; wait for it to finish and try again."
                        ) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    finally:
        _thread_lock.release()


@dataclass(frozen=True)
class LayerInfo:
    """What ``python -m geo info`` reports about one layer."""

    name: str
    geometry_type: str | None
    features: int
    crs: str | None
    bounds: tuple[float, float, float, float] | None

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "geometry_type": self.geometry_type,
            "features": self.features,
            "crs": self.crs,
            "bounds": list(self.bounds) if self.bounds else None,
        }


class Store:
    """A Common Ground GeoPackage.

    Parameters
    ----------
    path
        The GeoPackage file. Use :meth:`Store.open` to apply the ``--data`` / environment rules.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.exists():
            raise StoreNotFoundError(f"The data store {self.path} does not exist.")
        _check_sqlite(self.path)

    @classmethod
    def open(cls, data: str | os.PathLike | None = None) -> Store:
        """Open the store named by ``data``, ``$COMMON_GROUND_DATA`` or the demo working copy."""
        return cls(resolve_path(data))

    # ----------------------------------------------------------------------------- reading

    def version(self) -> str:
        """A token that changes whenever the file is replaced or written (for cache keys)."""
        st = self.path.stat()
        return f"{st.st_ino}-{st.st_mtime_ns}-{st.st_size}"

    def layer_names(self) -> list[str]:
        """The layers (tables) in the store, in file order."""
        return [str(n) for n, _ in pyogrio.list_layers(self.path)]

    def has_layer(self, name: str) -> bool:
        return name in self.layer_names()

    def _require(self, name: str) -> None:
        names = self.layer_names()
        if name not in names:
            raise LayerNotFoundError(
                f"The store {self.path.name} has no layer {name!r}; it has: {', '.join(names)}."
            )

    def read(
        self,
        name: str,
        *,
        columns: list[str] | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        where: str | None = None,
    ) -> gpd.GeoDataFrame | pd.DataFrame:
        """Read a layer: a GeoDataFrame (EPSG:4326) if it has geometry, else a DataFrame.

        Parameters
        ----------
        name
            Layer name.
        columns
            Only these attribute columns.
        bbox
            Only features intersecting ``(minx, miny, maxx, maxy)`` in EPSG:4326 (uses the index).
        where
            An OGR SQL ``WHERE`` clause; pass only trusted text (never raw user input).
        """
        self._require(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            frame = pyogrio.read_dataframe(
                self.path, layer=name, columns=columns, bbox=bbox, where=where, use_arrow=True
            )
        if isinstance(frame, gpd.GeoDataFrame) and frame.crs is None and len(frame.columns):
            frame = frame.set_crs(schema.STORAGE_CRS)
        if name in schema.LAYERS and columns is None:
            frame = schema.conform(frame, name)
        return frame

    def info(self) -> list[LayerInfo]:
        """Geometry type, feature count, CRS and bounds of every layer."""
        out = []
        for name, gtype in pyogrio.list_layers(self.path):
            meta = pyogrio.read_info(self.path, layer=name, force_feature_count=True, force_total_bounds=True)
            bounds = meta.get("total_bounds")
            has_geom = gtype is not None
            crs = meta.get("crs") if has_geom else None
            ok_bounds = (
                tuple(float(b) for b in bounds)
                if has_geom and bounds is not None and meta["features"] and all(pd.notna(b) for b in bounds)
                else None
            )
            out.append(
                LayerInfo(
                    name=str(name),
                    geometry_type=str(gtype) if has_geom else None,
                    features=int(meta["features"]),
                    crs=str(crs) if crs else None,
                    bounds=ok_bounds,
                )
            )
        return out

    def check(self) -> list[str]:
        """Health problems found (empty when healthy): SQLite integrity and stale feature counts."""
        problems = []
        with contextlib.closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) as con:
            res = con.execute("PRAGMA integrity_check").fetchone()[0]
            if res != "ok":
                problems.append(f"SQLite integrity check failed: {res}")
            problems += _stale_counts(con)
        return problems

    # ----------------------------------------------------------------------------- writing

    @contextlib.contextmanager
    def transaction(self, *, actor: str) -> Iterator[Transaction]:
        """Make changes that land whole or not at all.

        >>> with store.transaction(actor="officer@example") as tx:   # doctest: +SKIP
        ...     tx.write_layer("assets", assets)
        ...     tx.audit("update", "assets", feature_id, before, after)

        Parameters
        ----------
        actor
            Who is making the change (an email, a username or a group); recorded in the audit log.
        """
        if not actor or not str(actor).strip():
            raise StoreError("Every change needs an actor (who made it); pass actor='name or email'.")
        with _file_lock(self.path):
            # Copies left by a writer that was killed mid-transaction: nobody else can be using
            # them while we hold the lock.
            for stale in self.path.parent.glob(f".{self.path.stem}.txn-*.gpkg"):
                stale.unlink(missing_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.txn-", suffix=".gpkg", dir=self.path.parent)
            os.close(fd)
            try:
                shutil.copyfile(self.path, tmp)
                tx = Transaction(Path(tmp), actor=str(actor).strip())
                yield tx
                tx._finish()
                problems = Store(tmp).check()
                if problems:
                    raise StoreIntegrityError(
                        "The change was not saved because the result failed a check: "
                        + "; ".join(problems)
                    )
                fsync_file(tmp)
                os.replace(tmp, self.path)
                fsync_file(self.path.parent)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)


class Transaction:
    """Changes to a private copy of the store; see :meth:`Store.transaction`."""

    def __init__(self, path: Path, *, actor: str):
        self.path = path
        self.actor = actor
        self._audit: list[dict] = []

    def read(self, name: str) -> gpd.GeoDataFrame | pd.DataFrame:
        """Read a layer as it stands inside this transaction."""
        return Store(self.path).read(name)

    def write_layer(self, name: str, frame: pd.DataFrame) -> None:
        """Replace a whole layer with ``frame`` (validated against the schema first)."""
        spec = schema.layer_spec(name)
        schema.validate_layer(frame, name)
        out = schema.conform(frame, name)
        if spec.geometry is None:
            pyogrio.write_dataframe(pd.DataFrame(out), self.path, layer=name, driver="GPKG")
            return
        if out.crs is None:
            raise StoreError(f"Layer {name!r} has no CRS; set one before writing.")
        out = out.to_crs(schema.STORAGE_CRS)
        gtype = "MultiPolygon" if spec.geometry == "Polygon" else spec.geometry
        if spec.geometry == "Polygon":
            out = out.set_geometry(
                [g if g is None or g.geom_type == "MultiPolygon" else _multi(g) for g in out.geometry]
            )
        pyogrio.write_dataframe(out, self.path, layer=name, driver="GPKG", geometry_type=gtype, spatial_index=True)

    def audit(
        self,
        action: str,
        layer: str,
        feature_id: str | None,
        before: dict | None,
        after: dict | None,
    ) -> None:
        """Record one change; written to ``audit_log`` when the transaction commits."""
        self._audit.append(
            {
                "at": now_iso(),
                "by": self.actor,
                "action": action,
                "layer": layer,
                "feature_id": feature_id or "",
                "before": json.dumps(before, default=str, ensure_ascii=False) if before is not None else "",
                "after": json.dumps(after, default=str, ensure_ascii=False) if after is not None else "",
            }
        )

    def _finish(self) -> None:
        if not self._audit:
            return
        rows = schema.conform(pd.DataFrame(self._audit), "audit_log")
        pyogrio.write_dataframe(pd.DataFrame(rows), self.path, layer="audit_log", driver="GPKG", append=True)
        self._audit = []


def _multi(geom):
    from shapely.geometry import MultiPolygon

    return MultiPolygon([geom]) if geom.geom_type == "Polygon" else geom


def _check_sqlite(path: Path) -> None:
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head != b"SQLite format 3\x00":
        raise StoreError(
            f"{path} is not a GeoPackage (it is not an SQLite database); give the path of a .gpkg file."
        )


def _stale_counts(con: sqlite3.Connection) -> list[str]:
    problems = []
    try:
        rows = con.execute("SELECT table_name, feature_count FROM gpkg_ogr_contents").fetchall()
    except sqlite3.DatabaseError:
        return problems
    for table, cached in rows:
        if cached is None:
            continue
        actual = con.execute(f'SELECT count(*) FROM "{table.replace(chr(34), "")}"').fetchone()[0]
        if actual != cached:
            problems.append(
                f"layer {table!r} says it has {cached} features but holds {actual} "
                "(a stale cached count; readers would silently drop rows)"
            )
    return problems
