"""The GeoPackage backend: one file, written in place, row by row, one SQLite transaction per write.

How writes happen
    :meth:`GeoPackageStore.transaction` opens one SQLite connection and ``BEGIN IMMEDIATE``: the
    writer lock is taken up front and other writers queue on SQLite's own busy handler (no polling
    lock, no copy of the file). Inserts, updates, soft removes and audit entries are plain SQL in
    that transaction, and ``COMMIT`` makes them land together. The file is in WAL mode, so readers
    (pyogrio, other processes) never block writers and always see the last committed state.
    A killed process leaves the store at its last commit: SQLite's journal is atomic.

What keeps the GeoPackage right for GDAL and QGIS
    GDAL's own triggers maintain each layer's R-tree and ``gpkg_ogr_contents`` feature count; they
    call the GeoPackage SQL functions (``ST_IsEmpty``, ``ST_MinX``, ...), which are registered on
    every connection here (:func:`_register_functions`). Geometries are written as GeoPackage
    binary (:func:`encode`), 2D, in EPSG:4326, Polygons promoted to MultiPolygons. At commit the
    feature counts of the layers touched are recomputed (so they are right even if the triggers were
    dropped by another tool) and ``gpkg_contents.last_change`` is stamped. ``PRAGMA integrity_check``
    and the feature counts are checked by :meth:`GeoPackageStore.check` (and by the tests after
    writes); it is O(rows), so it is not run on every edit.

Migrations
    A store made by an older Common Ground is brought up to :data:`~geo.store.base.SCHEMA_VERSION`
    on its first write, in one transaction: ``version`` columns, missing layers (created with the
    GeoPackage metadata GDAL writes), the taxonomy seeded from ``data/taxonomy.json``, and indexes
    on ``id`` and on the audit log. Reading never changes a store, so the shipped demo stays as it is.

Why this module is long: it is a whole backend behind :class:`geo.store.base.Store`, including
the GeoPackage binary geometry codec and the SQL functions GDAL's triggers call; they share one
per-thread connection and its locking rules, which are easier to keep right in one file.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import struct
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo import schema, settings
from geo._lazy import lazy
from geo.errors import (
    FeatureNotFoundError,
    LayerNotFoundError,
    StoreError,
    StoreNotFoundError,
    StoreSchemaError,
)
from geo.store.base import (
    SCHEMA_VERSION,
    LayerInfo,
    Where,
    audit_json,
    audit_page_frame,
    audit_page_sql,
    check_page,
    check_where,
    conflict_error,
    feature_label,
    is_editable,
    now_iso,
    plain_value,
    require_actor,
)

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import shapely
    from shapely.geometry.base import BaseGeometry

gpd = lazy("geopandas", globals(), "gpd")
np = lazy("numpy", globals(), "np")
pd = lazy("pandas", globals(), "pd")
shapely = lazy("shapely", globals(), "shapely")
pa = lazy("pyarrow", globals(), "pa")


#: How long a writer waits for another writer's transaction to finish before giving up (seconds).
BUSY_TIMEOUT_S = 60.0
SRS_ID = 4326
SYNCHRONOUS = settings.sqlite_sync()
if SYNCHRONOUS not in ("NORMAL", "FULL", "EXTRA"):
    SYNCHRONOUS = "NORMAL"
_SEED_ACTOR = "Common Ground (seeded from data/taxonomy.json)"

# --------------------------------------------------------------------------------------------
# GeoPackage binary geometry
# --------------------------------------------------------------------------------------------

_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def encode(geom: BaseGeometry | None, srs_id: int = SRS_ID) -> bytes | None:
    """GeoPackage binary for a shapely geometry (2D, little-endian, with an xy envelope unless a point)."""
    if geom is None:
        return None
    geom = shapely.force_2d(geom)
    if geom.is_empty:
        flags = 0b0001_0001  # empty, no envelope, little-endian
        return b"GP\x00" + bytes([flags]) + struct.pack("<i", srs_id) + shapely.to_wkb(geom, byte_order=1)
    wkb = shapely.to_wkb(geom, byte_order=1)
    if geom.geom_type == "Point":
        return b"GP\x00\x01" + struct.pack("<i", srs_id) + wkb
    minx, miny, maxx, maxy = geom.bounds
    return b"GP\x00\x03" + struct.pack("<i4d", srs_id, minx, maxx, miny, maxy) + wkb


def _header(blob: bytes) -> tuple[int, int, bool]:
    """(header length, envelope code, empty flag) of a GeoPackage binary blob."""
    if len(blob) < 8 or blob[0:2] != b"GP":
        raise StoreError("A geometry in the store is not GeoPackage binary; the file may be damaged.")
    flags = blob[3]
    env = (flags >> 1) & 0b111
    return 8 + _ENVELOPE_BYTES.get(env, 0), env, bool(flags & 0b1_0000)


def decode(blob: bytes | None) -> BaseGeometry | None:
    """A shapely geometry from GeoPackage binary (``None`` stays ``None``)."""
    if blob is None:
        return None
    size, _, _ = _header(blob)
    return shapely.from_wkb(bytes(blob[size:]))


def _decode_many(blobs: Sequence[bytes | None]) -> np.ndarray:
    wkbs = []
    for b in blobs:
        if b is None:
            wkbs.append(None)
        else:
            size = 8 + _ENVELOPE_BYTES.get((b[3] >> 1) & 0b111, 0)
            wkbs.append(bytes(b[size:]))
    return shapely.from_wkb(np.array(wkbs, dtype=object))


def encode_many(
    geoms: Sequence[BaseGeometry | None], *, multi: bool = False, srs_id: int = SRS_ID
) -> list[bytes | None]:
    """GeoPackage binary for many geometries at once (vectorised WKB; Polygons promoted when ``multi``)."""
    arr = np.array(list(geoms), dtype=object)
    if len(arr) == 0:
        return []
    missing = np.array([g is None for g in arr])
    if multi:
        arr = np.array([_multi(g) for g in arr], dtype=object)
    present = arr[~missing]
    if len(present) and shapely.has_z(present).any():
        present = shapely.force_2d(present)
        arr[~missing] = present
    out: list[bytes | None] = [None] * len(arr)
    if not len(present):
        return out
    wkbs = shapely.to_wkb(present, byte_order=1)
    empty = shapely.is_empty(present)
    types = shapely.get_type_id(present)
    bounds = shapely.bounds(present)
    srs = struct.pack("<i", srs_id)
    idx = np.flatnonzero(~missing)
    for j, i in enumerate(idx):
        if empty[j]:
            out[i] = b"GP\x00\x11" + srs + wkbs[j]
        elif types[j] == 0:  # point: no envelope
            out[i] = b"GP\x00\x01" + srs + wkbs[j]
        else:
            minx, miny, maxx, maxy = bounds[j]
            out[i] = b"GP\x00\x03" + srs + struct.pack("<4d", minx, maxx, miny, maxy) + wkbs[j]
    return out


_last_bounds: list = [None, None]  # the R-tree triggers ask for the same blob's bounds four times


def _bounds(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) of GeoPackage binary, from its envelope when it has one."""
    if blob is None:
        return None
    if blob == _last_bounds[0]:
        return _last_bounds[1]
    result = _bounds_uncached(blob)
    _last_bounds[0], _last_bounds[1] = blob, result
    return result


def _bounds_uncached(blob: bytes) -> tuple[float, float, float, float] | None:
    size, env, empty = _header(blob)
    if empty:
        return None
    if env:
        return struct.unpack_from("<4d", blob, 8)
    wkb = bytes(blob[size:])
    # A 2D little-endian point: byte order, type 1, x, y.
    if len(wkb) == 21 and wkb[0] == 1 and struct.unpack_from("<I", wkb, 1)[0] == 1:
        x, y = struct.unpack_from("<2d", wkb, 5)
        return (x, x, y, y)
    g = shapely.from_wkb(wkb)
    if g.is_empty:
        return None
    minx, miny, maxx, maxy = g.bounds
    return (minx, maxx, miny, maxy)


def _st_is_empty(blob: bytes | None) -> int | None:
    if blob is None:
        return None
    size, _, empty = _header(blob)
    if empty:
        return 1
    return 1 if _bounds(blob) is None else 0


def _bound_fn(i: int):
    def fn(blob: bytes | None) -> float | None:
        b = _bounds(blob)
        return None if b is None else b[i]

    return fn


def _register_functions(con: sqlite3.Connection) -> None:
    """The GeoPackage SQL functions GDAL's R-tree triggers call."""
    con.create_function("ST_IsEmpty", 1, _st_is_empty, deterministic=True)
    con.create_function("ST_MinX", 1, _bound_fn(0), deterministic=True)
    con.create_function("ST_MaxX", 1, _bound_fn(1), deterministic=True)
    con.create_function("ST_MinY", 1, _bound_fn(2), deterministic=True)
    con.create_function("ST_MaxY", 1, _bound_fn(3), deterministic=True)
    con.create_function("GPKG_IsAssignable", 2, lambda a, b: 1, deterministic=True)


def _q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'


def _multi(geom: BaseGeometry | None) -> BaseGeometry | None:
    if geom is not None and geom.geom_type == "Polygon":
        return shapely.MultiPolygon([geom])
    return geom


_SQL_TYPE = {"str": "TEXT", "int": "INTEGER", "float": "REAL", "bool": "BOOLEAN"}


def _sql_type_of(series: pd.Series | None, value: Any = None) -> str:
    if series is not None:
        dt = series.dtype
        if pd.api.types.is_bool_dtype(dt):
            return "BOOLEAN"
        if pd.api.types.is_integer_dtype(dt):
            return "INTEGER"
        if pd.api.types.is_float_dtype(dt):
            return "REAL"
        return "TEXT"
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "INTEGER"
    if isinstance(value, float):
        return "REAL"
    return "TEXT"


_BASIC = frozenset({str, int, bytes, type(None)})


def _cell(value: Any) -> Any:
    """A Python value SQLite can bind: text for lists and dicts, None for missing."""
    t = type(value)
    if t in _BASIC:
        return value
    if t is float:
        return None if value != value else value
    value = plain_value(value)
    if isinstance(value, (list, tuple, dict, set)):
        import json

        return json.dumps(list(value) if isinstance(value, set) else value, default=str, ensure_ascii=False)
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if isinstance(value, (bytes, str, int, float, bool)) or value is None:
        return value
    return str(value)


def _where_sql(terms: list[tuple[str, str, list]]) -> tuple[str, list]:
    parts, params = [], []
    for col, op, vals in terms:
        if op == "null":
            parts.append(f"{_q(col)} IS NULL")
        elif op == "in":
            if not vals:
                parts.append("0")
            else:
                parts.append(f"{_q(col)} IN ({', '.join('?' * len(vals))})")
                params += vals
        else:
            parts.append(f"{_q(col)} = ?")
            params += vals
    return (" AND ".join(parts) or "1"), params


# --------------------------------------------------------------------------------------------
# Layer metadata (what GDAL writes), so layers can be created inside a transaction
# --------------------------------------------------------------------------------------------

_RTREE_TRIGGERS = [
    'CREATE TRIGGER "rtree_{t}_{g}_insert" AFTER INSERT ON "{t}" WHEN (new."{g}" NOT NULL AND NOT ST_IsEmpty(NEW."{g}")) '
    'BEGIN INSERT OR REPLACE INTO "rtree_{t}_{g}" VALUES (NEW."fid",ST_MinX(NEW."{g}"), ST_MaxX(NEW."{g}"),ST_MinY(NEW."{g}"), ST_MaxY(NEW."{g}")); END',
    'CREATE TRIGGER "rtree_{t}_{g}_update6" AFTER UPDATE OF "{g}" ON "{t}" WHEN OLD."fid" = NEW."fid" AND (NEW."{g}" NOTNULL AND NOT ST_IsEmpty(NEW."{g}")) '
    'AND (OLD."{g}" NOTNULL AND NOT ST_IsEmpty(OLD."{g}")) BEGIN UPDATE "rtree_{t}_{g}" SET minx = ST_MinX(NEW."{g}"), maxx = ST_MaxX(NEW."{g}"),'
    'miny = ST_MinY(NEW."{g}"), maxy = ST_MaxY(NEW."{g}") WHERE id = NEW."fid";END',
    'CREATE TRIGGER "rtree_{t}_{g}_update7" AFTER UPDATE OF "{g}" ON "{t}" WHEN OLD."fid" = NEW."fid" AND (NEW."{g}" NOTNULL AND NOT ST_IsEmpty(NEW."{g}")) '
    'AND (OLD."{g}" ISNULL OR ST_IsEmpty(OLD."{g}")) BEGIN INSERT INTO "rtree_{t}_{g}" VALUES (NEW."fid",ST_MinX(NEW."{g}"), ST_MaxX(NEW."{g}"),'
    'ST_MinY(NEW."{g}"), ST_MaxY(NEW."{g}")); END',
    'CREATE TRIGGER "rtree_{t}_{g}_update2" AFTER UPDATE OF "{g}" ON "{t}" WHEN OLD."fid" = NEW."fid" AND (NEW."{g}" ISNULL OR ST_IsEmpty(NEW."{g}")) '
    'BEGIN DELETE FROM "rtree_{t}_{g}" WHERE id = OLD."fid"; END',
    'CREATE TRIGGER "rtree_{t}_{g}_update5" AFTER UPDATE ON "{t}" WHEN OLD."fid" != NEW."fid" AND (NEW."{g}" NOTNULL AND NOT ST_IsEmpty(NEW."{g}")) '
    'BEGIN DELETE FROM "rtree_{t}_{g}" WHERE id = OLD."fid"; INSERT OR REPLACE INTO "rtree_{t}_{g}" VALUES (NEW."fid",ST_MinX(NEW."{g}"), '
    'ST_MaxX(NEW."{g}"),ST_MinY(NEW."{g}"), ST_MaxY(NEW."{g}")); END',
    'CREATE TRIGGER "rtree_{t}_{g}_update4" AFTER UPDATE ON "{t}" WHEN OLD."fid" != NEW."fid" AND (NEW."{g}" ISNULL OR ST_IsEmpty(NEW."{g}")) '
    'BEGIN DELETE FROM "rtree_{t}_{g}" WHERE id IN (OLD."fid", NEW."fid"); END',
    'CREATE TRIGGER "rtree_{t}_{g}_delete" AFTER DELETE ON "{t}" WHEN old."{g}" NOT NULL BEGIN DELETE FROM "rtree_{t}_{g}" WHERE id = OLD."fid"; END',
]
_COUNT_TRIGGERS = [
    'CREATE TRIGGER "trigger_insert_feature_count_{t}" AFTER INSERT ON "{t}" BEGIN UPDATE gpkg_ogr_contents SET '
    "feature_count = feature_count + 1 WHERE lower(table_name) = lower('{t}'); END",
    'CREATE TRIGGER "trigger_delete_feature_count_{t}" AFTER DELETE ON "{t}" BEGIN UPDATE gpkg_ogr_contents SET '
    "feature_count = feature_count - 1 WHERE lower(table_name) = lower('{t}'); END",
]


def _create_layer(con: sqlite3.Connection, name: str, geometry: str | None, columns: Mapping[str, str]) -> None:
    """Create an empty layer with the metadata GDAL writes (contents, geometry column, R-tree, counts)."""
    if not name.replace("_", "").isalnum():
        raise StoreError(f"{name!r} cannot be a layer name; use letters, digits and underscores.")
    cols = ['"fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL']
    gtype = None
    if geometry:
        gtype = "MULTIPOLYGON" if geometry == "Polygon" else geometry.upper()
        cols.append(f'"geom" {gtype}')
    cols += [f"{_q(c)} {t}" for c, t in columns.items()]
    con.execute(f"CREATE TABLE {_q(name)} ({', '.join(cols)})")
    now = now_iso()
    con.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, srs_id) "
        "VALUES (?, ?, ?, '', ?, ?)",
        (name, "features" if geometry else "attributes", name, now, SRS_ID if geometry else 0),
    )
    if _table_exists(con, "gpkg_ogr_contents"):
        con.execute("INSERT OR REPLACE INTO gpkg_ogr_contents (table_name, feature_count) VALUES (?, 0)", (name,))
        for trig in _COUNT_TRIGGERS:
            con.execute(trig.format(t=name))
    if geometry:
        con.execute(
            "INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m) "
            "VALUES (?, 'geom', ?, ?, 0, 0)",
            (name, gtype, SRS_ID),
        )
        con.execute(f'CREATE VIRTUAL TABLE "rtree_{name}_geom" USING rtree(id, minx, maxx, miny, maxy)')
        con.execute(
            "INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope) "
            "VALUES (?, 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
            (name,),
        )
        for trig in _RTREE_TRIGGERS:
            con.execute(trig.format(t=name, g="geom"))


def _has_count_triggers(con: sqlite3.Connection, name: str) -> bool:
    n = con.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN (?, ?)",
        (f"trigger_insert_feature_count_{name}", f"trigger_delete_feature_count_{name}"),
    ).fetchone()[0]
    return n == 2


def _table_exists(con: sqlite3.Connection, name: str) -> bool:
    return con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def _layers(con: sqlite3.Connection) -> list[str]:
    return [r[0] for r in con.execute("SELECT table_name FROM gpkg_contents ORDER BY rowid")]


def _geometry_column(con: sqlite3.Connection, name: str) -> str | None:
    row = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (name,)).fetchone()
    return row[0] if row else None


def _columns(con: sqlite3.Connection, name: str) -> list[str]:
    return [r[1] for r in con.execute(f"PRAGMA table_info({_q(name)})")]


# --------------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------------


_GEOMETRY_NAMES = {
    "POINT": "Point",
    "MULTIPOINT": "MultiPoint",
    "LINESTRING": "LineString",
    "MULTILINESTRING": "MultiLineString",
    "POLYGON": "Polygon",
    "MULTIPOLYGON": "MultiPolygon",
    "GEOMETRY": "Unknown",
    "GEOMETRYCOLLECTION": "GeometryCollection",
}


def _crs_name(con: sqlite3.Connection, srs_id: int) -> str | None:
    row = con.execute(
        "SELECT organization, organization_coordsys_id FROM gpkg_spatial_ref_sys WHERE srs_id = ?", (srs_id,)
    ).fetchone()
    if row is None or row[0] is None or int(row[1]) <= 0:
        return None
    return f"{str(row[0]).upper()}:{int(row[1])}"


def _require_layer(con: sqlite3.Connection, name: str, label: str) -> None:
    names = _layers(con)
    if name not in names:
        raise LayerNotFoundError(f"The store {label} has no layer {name!r}; it has: {', '.join(names)}.")


_PANDAS_OF_SQL = {"INTEGER": "Int64", "REAL": "float64", "BOOLEAN": "boolean", "TEXT": "string"}


def _read_frame(
    con: sqlite3.Connection,
    name: str,
    *,
    ids: Sequence[str] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    where: Where | None = None,
    columns: Sequence[str] | None = None,
    label: str = "store",
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Rows of a layer through ``con`` (a store read or a transaction's), in ``fid`` order."""
    _require_layer(con, name, label)
    geom = _geometry_column(con, name)
    info = [(r[1], str(r[2] or "").upper()) for r in con.execute(f"PRAGMA table_info({_q(name)})")]
    types = {c: t for c, t in info if c not in ("fid", geom)}
    cols = list(types)
    terms = check_where(where, cols, name)
    if ids is not None:
        terms.append(("id", "in", [str(i) for i in ids]))
    if columns is not None:
        missing = [c for c in columns if c not in cols]
        if missing:
            raise StoreError(f"Layer {name!r} has no column(s) {', '.join(missing)}; it has: {', '.join(cols)}.")
        cols = list(columns)
    sql, params = _where_sql(terms)
    if bbox is not None and geom is not None:
        minx, miny, maxx, maxy = (float(v) for v in bbox)
        rtree = f"rtree_{name}_{geom}"
        if _table_exists(con, rtree):
            sql += f" AND fid IN (SELECT id FROM {_q(rtree)} WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?)"
            params += [maxx, minx, maxy, miny]
    names = ["fid", *([geom] if geom else []), *cols]
    rows = con.execute(
        f"SELECT {', '.join(_q(c) for c in names)} FROM {_q(name)} WHERE {sql} ORDER BY fid", params
    ).fetchall()
    values = dict(zip(names, zip(*rows, strict=True), strict=True)) if rows else dict.fromkeys(names, ())
    index = pd.RangeIndex(len(rows))
    wanted = schema.column_dtypes(name) if name in schema.LAYERS and columns is None else {}
    typed = {c: _typed(values[c], types.get(c, "TEXT"), wanted.get(c)) for c in cols}  # as pyogrio gives them
    geometry = None
    if geom is not None:
        geoms = _decode_many(values[geom]) if rows else np.array([], dtype=object)
        geometry = gpd.GeoSeries(geoms, index=index, crs=schema.STORAGE_CRS, name="geometry")
    if name in schema.LAYERS and columns is None:
        frame = schema.assemble(typed, name, index=index, geometry=geometry)
    else:
        data = pd.DataFrame(typed) if typed else pd.DataFrame(index=index)  # series: objects stay objects
        frame = data if geometry is None else gpd.GeoDataFrame(data, geometry=geometry)
    if bbox is not None and geometry is not None and len(frame):
        box = shapely.box(*bbox)
        keep = np.array([g is not None and shapely.intersects(g, box) for g in frame.geometry.array])
        frame = frame[keep].reset_index(drop=True)
    return frame


def _typed(values: Sequence[Any], sql_type: str, wanted: str | None = None) -> pd.Series:
    """One column of a read, from SQLite's values, with the dtype of its declared type: booleans
    (NULL is missing, not true), nullable integers, floats, text and dates as objects (missing text
    is NaN when the rest is text, as pandas reads it), and any other declared type as pandas infers it.

    Text that the data model holds as ``string`` is made a string column at once (what converting
    the object column would give, without building it first)."""
    kind = _PANDAS_OF_SQL.get(sql_type)
    if kind == "boolean":
        return pd.Series([pd.NA if v is None else bool(v) for v in values], dtype="boolean")
    if kind in ("Int64", "float64"):
        numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
        return numbers.astype(kind)
    text = sql_type in ("TEXT", "DATE", "DATETIME", "")
    if text and wanted == "string":
        if all(type(v) is str or v is None for v in values):  # Arrow takes Python text at once: 16x quicker
            return pd.Series(pd.arrays.ArrowStringArray(pa.array(values, type=pa.large_string())))
        return pd.Series(values, dtype="string")  # numbers or bytes in a text column: pandas converts them
    column = pd.Series(list(values))
    if text and column.dtype != object:
        column = column.astype(object)
    return column


class GeoPackageStore:
    """A Common Ground store in one GeoPackage file (see the module notes).

    Parameters
    ----------
    path
        The ``.gpkg`` file; it must exist. :func:`geo.store.open_store` applies the ``--data`` and
        environment rules and creates the demo working copy.
    """

    backend = "gpkg"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.exists():
            raise StoreNotFoundError(f"The data store {self.path} does not exist.")
        if not self.path.is_file():
            raise StoreNotFoundError(f"The data store {self.path} is not a file; give the path of a .gpkg file.")
        _check_sqlite(self.path)
        self.location = str(self.path)
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"GeoPackageStore({str(self.path)!r})"

    # ------------------------------------------------------------------------- connections

    def _connect(self, *, readonly: bool = False) -> sqlite3.Connection:
        if readonly:
            # Opened read-write but made query-only: a reader must be able to recover the WAL a killed
            # writer left behind, which a mode=ro connection cannot always do.
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            con.execute("PRAGMA query_only=1")
        else:
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            # WAL: readers never block the writer and always see the last commit. NORMAL sync in WAL
            # mode never corrupts and loses nothing when a process is killed; after a power cut the
            # last commits may roll back (set COMMON_GROUND_SQLITE_SYNC=FULL to fsync every commit).
            con.execute("PRAGMA journal_mode=WAL")
            con.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
        _register_functions(con)
        return con

    def _cached(self, *, readonly: bool) -> sqlite3.Connection:
        """This thread's connection (kept open: opening one and, above all, closing the last one,
        which checkpoints the WAL, would cost more than a whole edit)."""
        key = (os.getpid(), readonly)
        cons = getattr(self._local, "cons", None)
        if cons is None:
            cons = self._local.cons = {}
        con = cons.get(key)
        if con is None:
            con = cons[key] = self._connect(readonly=readonly)
        return con

    @contextlib.contextmanager
    def _read_connection(self) -> Iterator[sqlite3.Connection]:
        yield self._cached(readonly=True)

    def close(self) -> None:
        """Close this thread's connections (they are also closed when the store is dropped)."""
        for con in (getattr(self._local, "cons", None) or {}).values():
            con.close()
        self._local.cons = {}

    # ------------------------------------------------------------------------- reading

    def version(self, layer: str | None = None) -> str:
        """A token that changes on every committed write (of ``layer``, when given): a cache key."""
        key = "revision" if layer is None else f"revision:{layer}"
        try:
            with self._read_connection() as con:
                row = con.execute("SELECT value FROM cg_meta WHERE key = ?", (key,)).fetchone()
            if row is not None or layer is not None:
                return f"r{row[0] if row else 0}"
        except sqlite3.DatabaseError:
            pass
        st = self.path.stat()
        return f"{st.st_ino}-{st.st_mtime_ns}-{st.st_size}"

    def revisions(self) -> dict[str, str]:
        """Every layer's :meth:`version` token at once (``""``: the store's), in one query."""
        try:
            with self._read_connection() as con:
                rows = con.execute("SELECT key, value FROM cg_meta WHERE key LIKE 'revision%'").fetchall()
        except sqlite3.DatabaseError:
            return {"": self.version()}
        return {("" if k == "revision" else k.split(":", 1)[1]): f"r{v}" for k, v in rows}

    def layer_names(self) -> list[str]:
        """The layers in the store, in the order they were made."""
        with self._read_connection() as con:
            return _layers(con)

    def has_layer(self, name: str) -> bool:
        return name in self.layer_names()

    def columns(self, name: str) -> list[str]:
        """The layer's columns (without ``fid`` and the geometry)."""
        with self._read_connection() as con:
            _require_layer(con, name, self.path.name)
            geom = _geometry_column(con, name)
            return [c for c in _columns(con, name) if c not in ("fid", geom)]

    def read(
        self,
        name: str,
        *,
        ids: Sequence[str] | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        where: Where | None = None,
        columns: Sequence[str] | None = None,
    ) -> gpd.GeoDataFrame | pd.DataFrame:
        """A layer as a GeoDataFrame (EPSG:4326), or a DataFrame when it has no geometry.

        Parameters
        ----------
        name
            The layer.
        ids
            Only these features (by ``id``).
        bbox
            Only features intersecting ``(minx, miny, maxx, maxy)`` in EPSG:4326 (uses the R-tree).
        where
            A structured filter (:data:`geo.store.base.Where`), e.g. ``{"status": "active"}``.
        columns
            Only these attribute columns (the result is then not conformed to the schema).

        Every read goes through Python's own SQLite, never GDAL's: two SQLite libraries on one
        file in one process release each other's POSIX locks (sqlite.org/howtocorrupt.html 2.2).
        """
        with self._read_connection() as con:
            return _read_frame(con, name, ids=ids, bbox=bbox, where=where, columns=columns, label=self.path.name)

    def get(self, name: str, feature_id: str) -> dict | None:
        """One feature as a plain dict (every column, ``geometry`` as shapely), or ``None``: no pandas."""
        with self._read_connection() as con:
            _require_layer(con, name, self.path.name)
            geom = _geometry_column(con, name)
            cols = [c for c in _columns(con, name) if c != "fid"]
            cur = con.execute(
                f'SELECT {", ".join(_q(c) for c in cols)} FROM {_q(name)} WHERE "id" = ?', (str(feature_id),)
            )
            row = cur.fetchone()
        if row is None:
            return None
        rec = dict(zip(cols, row, strict=True))
        if geom is not None:
            rec["geometry"] = decode(rec.pop(geom))
        return _plain_row(rec)

    def read_audit(self) -> pd.DataFrame:
        """The audit log in the order it was written."""
        return self.read("audit_log")

    def read_audit_page(
        self, *, layer: str | None = None, before: int | None = None, limit: int = 50
    ) -> tuple[pd.DataFrame, int]:
        """One page of the audit log, newest first (see :meth:`geo.store.base.Store.read_audit_page`)."""
        check_page(before, limit)
        page_sql, count_sql = audit_page_sql(layer=layer is not None, before=before is not None)
        filt = [layer] if layer is not None else []
        with self._read_connection() as con:
            _require_layer(con, "audit_log", self.path.name)
            rows = con.execute(page_sql, [*filt, *([int(before)] if before is not None else []), int(limit)]).fetchall()
            total = con.execute(count_sql, filt).fetchone()[0]
        return audit_page_frame(rows), int(total)

    def info(self) -> list[LayerInfo]:
        """Geometry type, feature count, CRS and bounds of every layer (from the R-tree, no full scan)."""
        out = []
        with self._read_connection() as con:
            for name in _layers(con):
                gcol = con.execute(
                    "SELECT column_name, geometry_type_name, srs_id FROM gpkg_geometry_columns WHERE table_name = ?",
                    (name,),
                ).fetchone()
                n = con.execute(f"SELECT count(*) FROM {_q(name)}").fetchone()[0]
                if gcol is None:
                    out.append(LayerInfo(name=name, geometry_type=None, features=int(n), crs=None, bounds=None))
                    continue
                col, gtype, srs_id = gcol
                bounds = None
                rtree = f"rtree_{name}_{col}"
                if n and _table_exists(con, rtree):
                    b = con.execute(f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM {_q(rtree)}").fetchone()
                    bounds = tuple(float(v) for v in b) if all(v is not None for v in b) else None
                elif n:
                    g = _read_frame(con, name, columns=[], label=self.path.name).geometry
                    g = g[g.notna() & ~g.is_empty]
                    bounds = tuple(float(v) for v in g.total_bounds) if len(g) else None
                out.append(
                    LayerInfo(
                        name=name,
                        geometry_type=_GEOMETRY_NAMES.get(str(gtype).upper(), str(gtype)),
                        features=int(n),
                        crs=_crs_name(con, srs_id),
                        bounds=bounds,
                    )
                )
        return out

    def check(self) -> list[str]:
        """Health problems found (empty when healthy): SQLite integrity, stale counts, R-tree sizes."""
        problems = []
        with self._read_connection() as con:
            res = con.execute("PRAGMA integrity_check").fetchone()[0]
            if res != "ok":
                problems.append(f"SQLite integrity check failed: {res}")
            problems += _stale_counts(con)
            for table, geom in con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall():
                rtree = f"rtree_{table}_{geom}"
                if not _table_exists(con, rtree):
                    continue
                n_tree = con.execute(f"SELECT count(*) FROM {_q(rtree)}").fetchone()[0]
                n_geom = con.execute(
                    f"SELECT count(*) FROM {_q(table)} WHERE {_q(geom)} IS NOT NULL AND NOT ST_IsEmpty({_q(geom)})"
                ).fetchone()[0]
                if n_tree != n_geom:
                    problems.append(f"layer {table!r} has {n_geom} geometries but its spatial index holds {n_tree}")
        return problems

    # ------------------------------------------------------------------------- writing

    @contextlib.contextmanager
    def transaction(self, *, actor: str) -> Iterator[GeoPackageTransaction]:
        """One SQLite transaction: everything in it lands whole or not at all.

        >>> with store.transaction(actor="Firth Park Residents' Association") as tx:  # doctest: +SKIP
        ...     before, after = tx.update("assets", asset_id, {"name": "New name"}, if_version=3)
        ...     tx.audit("update", "assets", asset_id, before, after)
        """
        who = require_actor(actor)
        con = self._cached(readonly=False)
        if con.in_transaction:
            raise StoreError(
                "A transaction is already open on this store in this thread; finish it before starting another."
            )
        try:
            con.execute("BEGIN IMMEDIATE")
            _migrate(con)
            tx = GeoPackageTransaction(self, con, who)
            yield tx
            tx._finish()
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise

    def replace_layer(self, name: str, frame: pd.DataFrame, *, actor: str) -> None:
        """Replace a whole layer's rows with ``frame``, as given (building and copying stores only).

        Stamps and versions are kept as they are in ``frame`` (a missing version becomes 1); it is
        not audited (the caller decides). The layer is created if the store lacks it.
        """
        with self.transaction(actor=actor) as tx:
            tx._replace(name, frame)

    def migrate(self) -> None:
        """Bring the store up to the current schema now (also done by the first write)."""
        with self.transaction(actor="Common Ground (schema migration)"):
            pass


class GeoPackageTransaction:
    """Row-level changes inside one SQLite transaction; see :meth:`GeoPackageStore.transaction`."""

    def __init__(self, store: GeoPackageStore, con: sqlite3.Connection, actor: str):
        self.store = store
        self.con = con
        self.actor = actor
        #: One time for the whole transaction (as PostgreSQL's ``now()``): its rows and audit entries agree.
        self.now = now_iso()
        self._audit: list[tuple] = []
        self._touched: set[str] = set()
        self._counted: set[str] = set()  # layers whose row count changed
        self._meta: dict[str, tuple[list[str], str | None]] = {}

    # ------------------------------------------------------------------------- helpers

    def _layer(self, name: str) -> tuple[list[str], str | None]:
        """(columns without fid, geometry column) of a layer, or LayerNotFoundError."""
        if name not in self._meta:
            if name not in _layers(self.con):
                raise LayerNotFoundError(
                    f"The store {self.store.path.name} has no layer {name!r}; it has: {', '.join(_layers(self.con))}."
                )
            geom = _geometry_column(self.con, name)
            self._meta[name] = ([c for c in _columns(self.con, name) if c not in ("fid", geom)], geom)
        return self._meta[name]

    def _ensure_layer(self, name: str) -> None:
        if self.has_layer(name):
            return
        spec = schema.layer_spec(name)
        _create_layer(self.con, name, spec.geometry, {c: _SQL_TYPE[k] for c, k in spec.all_columns.items()})
        if "id" in spec.columns and name != "audit_log":
            _index_ids(self.con, name)  # as the migrations index them: one row per id
        self._meta.pop(name, None)

    def _add_columns(self, name: str, wanted: Mapping[str, str]) -> None:
        cols, _ = self._layer(name)
        for col, sqltype in wanted.items():
            if col not in cols and col not in ("fid", "geometry"):
                self.con.execute(f"ALTER TABLE {_q(name)} ADD COLUMN {_q(col)} {sqltype}")
        self._meta.pop(name, None)

    def _select(self, name: str, where_sql: str, params: Sequence[Any]) -> tuple[list[tuple], list[str], str | None]:
        cols, geom = self._layer(name)
        names = ["fid", *([geom] if geom else []), *cols]
        sql = f"SELECT {', '.join(_q(c) for c in names)} FROM {_q(name)} WHERE {where_sql} ORDER BY fid"
        return self.con.execute(sql, list(params)).fetchall(), names, geom

    def _row(self, name: str, feature_id: str) -> tuple[int, dict] | None:
        rows, names, geom = self._select(name, '"id" = ?', [str(feature_id)])
        if not rows:
            return None
        rec = dict(zip(names, rows[0], strict=True))
        fid = rec.pop("fid")
        if geom is not None:
            rec["geometry"] = decode(rec.pop(geom))
        return fid, rec

    # ------------------------------------------------------------------------- reading

    def has_layer(self, name: str) -> bool:
        return name in _layers(self.con)

    def get(self, name: str, feature_id: str) -> dict | None:
        """One feature as a plain dict (every column, ``geometry`` as shapely), or ``None``."""
        found = self._row(name, feature_id)
        return None if found is None else _plain_row(found[1])

    def read(
        self,
        name: str,
        *,
        ids: Sequence[str] | None = None,
        where: Where | None = None,
        columns: Sequence[str] | None = None,
    ) -> gpd.GeoDataFrame | pd.DataFrame:
        """Rows as they stand in this transaction (its own writes included)."""
        return _read_frame(self.con, name, ids=ids, where=where, columns=columns, label=self.store.path.name)

    # ------------------------------------------------------------------------- writing

    def insert(self, name: str, rows: pd.DataFrame | Sequence[Mapping[str, Any]]) -> list[dict]:
        """Add rows, stamped with the actor and now; ``version`` 1 on editable layers."""
        self._ensure_layer(name)
        records = _records(rows)
        if not records:
            return []
        now = self.now
        stamp = is_editable(name)
        for r in records:
            if stamp:
                r.update(created_at=now, created_by=self.actor, updated_at=now, updated_by=self.actor, version=1)
        self._write_records(name, records)
        cols, geom = self._layer(name)
        if geom:
            return [{**{c: r.get(c) for c in cols}, "geometry": r.get("geometry")} for r in records]
        return [{c: r.get(c) for c in cols} for r in records]

    def _write_records(self, name: str, records: list[dict]) -> None:
        cols, geom = self._layer(name)
        wanted: dict[str, str] = {}
        for r in records:
            for k, v in r.items():
                if k != "geometry" and k not in cols and k not in wanted and plain_value(v) is not None:
                    wanted[k] = _kind_sql(name, k, v)
        if wanted:
            self._add_columns(name, wanted)
            cols, geom = self._layer(name)
        spec = schema.LAYERS.get(name)
        polygon = spec is not None and spec.geometry == "Polygon"
        keys = set().union(*(r.keys() for r in records))
        present = [c for c in cols if c in keys]
        names = present + ([geom] if geom else [])
        sql = f"INSERT INTO {_q(name)} ({', '.join(_q(c) for c in names)}) VALUES ({', '.join('?' * len(names))})"
        blobs = encode_many([r.get("geometry") for r in records], multi=polygon) if geom else None
        params = []
        for i, r in enumerate(records):
            vals = [_cell(r.get(c)) for c in present]
            if blobs is not None:
                vals.append(blobs[i])
            params.append(vals)
        self._counted.add(name)
        try:
            self.con.executemany(sql, params)
        except sqlite3.IntegrityError as exc:
            if "id" in str(exc):
                raise StoreError(
                    f"A row for {name!r} has an id that is already in the layer ({exc}); every id must be unique: "
                    "leave id empty to get a new one, or update the existing feature instead."
                ) from None
            raise
        self._touched.add(name)

    def update(
        self, name: str, feature_id: str, changes: Mapping[str, Any], *, if_version: int | None = None
    ) -> tuple[dict, dict]:
        """Change fields (and ``geometry``) of one feature; see :class:`geo.store.base.Transaction`."""
        cols, geom = self._layer(name)
        found = self._row(name, feature_id)
        if found is None:
            raise FeatureNotFoundError(
                f"There is no {name} feature with id {str(feature_id)[:80]!r}; it may have been deleted. "
                "Reload the list and pick it again."
            )
        fid, before = found
        editable = "version" in cols
        current_version = int(before.get("version") or 1) if editable else None
        if if_version is not None and editable and int(if_version) != current_version:
            audit = self.read("audit_log", where={"layer": name, "feature_id": str(feature_id)})
            raise conflict_error(
                layer=name,
                feature_id=str(feature_id),
                label=feature_label(before, name),
                expected=int(if_version),
                current={**before, "version": current_version},
                audit=audit,
            )
        unknown = [k for k in changes if k != "geometry" and k not in cols]
        if unknown:
            raise StoreError(
                f"Layer {name!r} has no column(s) {', '.join(unknown)}; its columns are: {', '.join(cols)}."
            )
        sets: dict[str, Any] = {k: _cell(v) for k, v in changes.items() if k != "geometry"}
        if editable:
            sets.update(updated_at=self.now, updated_by=self.actor, version=current_version + 1)
        params = list(sets.values())
        assignments = [f"{_q(k)} = ?" for k in sets]
        if "geometry" in changes and geom:
            spec = schema.LAYERS.get(name)
            g = changes["geometry"]
            assignments.append(f"{_q(geom)} = ?")
            params.append(encode(_multi(g) if spec is not None and spec.geometry == "Polygon" else g))
        if assignments:
            self.con.execute(f"UPDATE {_q(name)} SET {', '.join(assignments)} WHERE fid = ?", [*params, fid])
        self._touched.add(name)
        _, after = self._row(name, feature_id)  # type: ignore[misc]
        return _plain_row(before), _plain_row(after)

    def remove(self, name: str, feature_id: str, *, if_version: int | None = None) -> tuple[dict, dict]:
        """Soft-delete one feature: ``status`` becomes ``removed`` (kept for history and undo)."""
        cols, _ = self._layer(name)
        if "status" not in cols:
            raise StoreError(f"Layer {name!r} has no status column, so its features cannot be soft-removed.")
        return self.update(name, feature_id, {"status": "removed"}, if_version=if_version)

    def delete(self, name: str, where: Where) -> int:
        """Delete the rows matching ``where`` (link rows without ids); an empty filter is refused."""
        cols, _ = self._layer(name)
        terms = check_where(where, cols, name)
        if not terms:
            raise StoreError("delete() needs a filter; refusing to delete every row of a layer.")
        sql, params = _where_sql(terms)
        n = self.con.execute(f"DELETE FROM {_q(name)} WHERE {sql}", params).rowcount
        self._touched.add(name)
        self._counted.add(name)
        return int(n)

    def audit(
        self, action: str, layer: str, feature_id: str | None, before: Mapping | None, after: Mapping | None
    ) -> None:
        """Record one change; appended to ``audit_log`` with the transaction."""
        self._audit.append(
            (self.now, self.actor, action, layer, feature_id or "", audit_json(before), audit_json(after))
        )

    def replace(self, name: str, frame: pd.DataFrame) -> None:
        """Bulk: make a layer hold exactly ``frame``'s rows, as given (copy and build only; not audited)."""
        self._replace(name, frame)

    def _replace(self, name: str, frame: pd.DataFrame) -> None:
        self._ensure_layer(name)
        records = _records(frame)
        if is_editable(name):
            for r in records:
                if plain_value(r.get("version")) is None:
                    r["version"] = 1
        self.con.execute(f"DELETE FROM {_q(name)}")
        self._counted.add(name)
        if name in schema.LAYERS:
            kinds = schema.layer_spec(name).all_columns
            self._add_columns(name, {c: _SQL_TYPE[k] for c, k in kinds.items()})
        if isinstance(frame, pd.DataFrame):
            extra = {
                c: _sql_type_of(frame[c]) for c in frame.columns if c != getattr(frame, "_geometry_column_name", None)
            }
            self._add_columns(name, {c: t for c, t in extra.items() if c != "geometry"})
        self._touched.add(name)
        if records:
            self._write_records(name, records)

    def _finish(self) -> None:
        if self._audit:
            self._ensure_layer("audit_log")
            self.con.executemany(
                'INSERT INTO audit_log ("at", "by", "action", "layer", "feature_id", "before", "after") '
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                self._audit,
            )
            self._touched.add("audit_log")
            self._counted.add("audit_log")
            self._audit = []
        if not self._touched:
            return
        now = now_iso()
        has_counts = _table_exists(self.con, "gpkg_ogr_contents")
        for name in self._touched:
            # GDAL's triggers keep the cached count; where another tool dropped them it is recounted.
            if has_counts and name in self._counted and not _has_count_triggers(self.con, name):
                self.con.execute(
                    f"UPDATE gpkg_ogr_contents SET feature_count = (SELECT count(*) FROM {_q(name)}) "
                    "WHERE lower(table_name) = lower(?)",
                    (name,),
                )
            self.con.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?", (now, name))
            self.con.execute(
                "INSERT INTO cg_meta (key, value) VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET value = value + 1",
                (f"revision:{name}",),
            )
        self.con.execute("UPDATE cg_meta SET value = value + 1 WHERE key = 'revision'")


def _kind_sql(layer: str, column: str, value: Any) -> str:
    spec = schema.LAYERS.get(layer)
    if spec is not None and column in spec.all_columns:
        return _SQL_TYPE[spec.all_columns[column]]
    return _sql_type_of(None, plain_value(value))


def _records(rows: pd.DataFrame | Sequence[Mapping[str, Any]]) -> list[dict]:
    """Row dicts with a shapely ``geometry`` (EPSG:4326) from a frame or a list of mappings."""
    if isinstance(rows, gpd.GeoDataFrame):
        frame = rows
        if frame.crs is None:
            raise StoreError("The rows have no CRS; set one (e.g. .set_crs('EPSG:4326')) before writing them.")
        frame = frame.to_crs(schema.STORAGE_CRS)
        geom = frame.geometry.name
        out = _frame_records(pd.DataFrame(frame.drop(columns=[geom])))
        for r, g in zip(out, frame.geometry.array, strict=True):
            r["geometry"] = g
        return out
    if isinstance(rows, pd.DataFrame):
        return _frame_records(rows)
    return [_clean_record(dict(r)) for r in rows]


def _frame_records(frame: pd.DataFrame) -> list[dict]:
    """Row dicts of plain Python values (missing as ``None``), fast for large frames."""
    frame = frame.drop(columns=[c for c in ("fid",) if c in frame.columns])
    cols = {}
    for c in frame.columns:
        col = frame[c]
        obj = col.astype(object)
        cols[c] = (
            obj.where(col.notna(), None).tolist()
            if col.dtype != object
            else [v if isinstance(v, (list, tuple, dict, set)) else plain_value(v) for v in obj]
        )
    names = list(cols)
    return (
        [dict(zip(names, vals, strict=True)) for vals in zip(*cols.values(), strict=True)]
        if names
        else [{} for _ in range(len(frame))]
    )


def _clean_record(r: dict) -> dict:
    r.pop("fid", None)
    return {
        k: (v if k == "geometry" else plain_value(v) if not isinstance(v, (list, tuple, dict, set)) else v)
        for k, v in r.items()
    }


def _plain_row(rec: dict) -> dict:
    return {k: (v if k == "geometry" else plain_value(v)) for k, v in rec.items()}


# --------------------------------------------------------------------------------------------
# Migrations
# --------------------------------------------------------------------------------------------


def _schema_version(con: sqlite3.Connection) -> int:
    if not _table_exists(con, "cg_meta"):
        return 1
    row = con.execute("SELECT value FROM cg_meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 1


def _migrate(con: sqlite3.Connection) -> None:
    """Bring an older store up to :data:`SCHEMA_VERSION` inside the open transaction."""
    version = _schema_version(con)
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise StoreSchemaError(
            f"This store was made by a newer Common Ground (schema {version}; this one knows {SCHEMA_VERSION}); "
            "update Common Ground to write to it."
        )
    if not _table_exists(con, "gpkg_contents"):
        raise StoreSchemaError("The file is an SQLite database but not a GeoPackage; give the path of a .gpkg file.")
    con.execute("CREATE TABLE IF NOT EXISTS cg_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
    con.execute("INSERT OR IGNORE INTO cg_meta (key, value) VALUES ('revision', 0)")
    layers = _layers(con)
    for name, spec in schema.LAYERS.items():
        if name in ("postcodes", schema.OUTLINES_LAYER, schema.POPULATION_LAYER) or name in schema.BOUNDARY_LAYERS:
            continue  # reference data, and outlines (made by the first import with shapes): only when there
        if name not in layers:
            _create_layer(con, name, spec.geometry, {c: _SQL_TYPE[k] for c, k in spec.all_columns.items()})
    for name in _layers(con):
        spec = schema.LAYERS.get(name)
        cols = _columns(con, name)
        if spec is not None:
            for col, kind in spec.all_columns.items():
                if col == "version" and col not in cols:
                    con.execute(f'ALTER TABLE {_q(name)} ADD COLUMN "version" INTEGER NOT NULL DEFAULT 1')
                elif col not in cols:
                    con.execute(f"ALTER TABLE {_q(name)} ADD COLUMN {_q(col)} {_SQL_TYPE[kind]}")
            cols = _columns(con, name)
        if "id" in cols and name != "audit_log":
            _index_ids(con, name)
    con.execute('CREATE INDEX IF NOT EXISTS "idx_audit_log_feature" ON audit_log ("layer", "feature_id")')
    if con.execute("SELECT count(*) FROM taxonomy").fetchone()[0] == 0:
        _seed_taxonomy(con)
    con.execute("INSERT OR REPLACE INTO cg_meta (key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,))


def _index_ids(con: sqlite3.Connection, name: str) -> None:
    """A unique index on ``id`` (a plain one where older data already repeats an id)."""
    index = _q("idx_" + name + "_id")
    try:
        con.execute("SAVEPOINT idx")
        con.execute(f'CREATE UNIQUE INDEX IF NOT EXISTS {index} ON {_q(name)} ("id")')
        con.execute("RELEASE idx")
    except sqlite3.IntegrityError:
        con.execute("ROLLBACK TO idx")
        con.execute("RELEASE idx")
        con.execute(f'CREATE INDEX IF NOT EXISTS {index} ON {_q(name)} ("id")')


def _seed_taxonomy(con: sqlite3.Connection) -> None:
    rows = schema.taxonomy_rows(schema.taxonomy_document())
    now = now_iso()
    rows = rows.assign(created_at=now, created_by=_SEED_ACTOR, updated_at=now, updated_by=_SEED_ACTOR, version=1)
    cols = [c for c in rows.columns]
    con.executemany(
        f"INSERT INTO taxonomy ({', '.join(_q(c) for c in cols)}) VALUES ({', '.join('?' * len(cols))})",
        [[_cell(v) for v in r] for r in rows.itertuples(index=False)],
    )
    con.execute(
        "INSERT INTO audit_log (at, by, action, layer, feature_id, before, after) VALUES (?, ?, 'seed', 'taxonomy', '', '', ?)",
        (now, _SEED_ACTOR, audit_json({"rows": len(rows), "from": "data/taxonomy.json"})),
    )
    con.execute(
        "UPDATE gpkg_ogr_contents SET feature_count = (SELECT count(*) FROM taxonomy) WHERE table_name = 'taxonomy'"
    )
    con.execute(
        "UPDATE gpkg_ogr_contents SET feature_count = (SELECT count(*) FROM audit_log) WHERE table_name = 'audit_log'"
    )


def _check_sqlite(path: Path) -> None:
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head != b"SQLite format 3\x00":
        raise StoreError(f"{path} is not a GeoPackage (it is not an SQLite database); give the path of a .gpkg file.")


def _stale_counts(con: sqlite3.Connection) -> list[str]:
    problems = []
    try:
        rows = con.execute("SELECT table_name, feature_count FROM gpkg_ogr_contents").fetchall()
    except sqlite3.DatabaseError:
        return problems
    for table, cached in rows:
        if cached is None:
            continue
        actual = con.execute(f"SELECT count(*) FROM {_q(table)}").fetchone()[0]
        if actual != cached:
            problems.append(
                f"layer {table!r} says it has {cached} features but holds {actual} "
                "(a stale cached count; readers would silently drop rows)"
            )
    return problems
