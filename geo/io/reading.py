"""Reading the files people bring, safely: step 1 of an import (:mod:`geo.io.imports` plans and applies).

:func:`read_upload` opens a file: CSV (``lat``/``lon``, ``x``/``y`` with a stated CRS,
``easting``/``northing``, WKT, or only a ``postcode`` column geocoded offline), GeoJSON, a zipped
Shapefile, a GeoPackage (choose the layer when there are several), KML (every folder) and the other
vector formats GDAL reads. Hostile and broken files (too big, too many rows, zip bombs, paths
escaping the archive, links, nested or encrypted archives, unknown encodings, empty files, wrong
extensions, truncated or fake GeoPackages) are refused with one sentence that says what is wrong and
what to do; library warnings become notes of the :class:`Upload`. :func:`parse_upload` reads uploaded
bytes once, in a temporary folder that is removed before it returns.

Why this module is long: every file format people bring has its own ways to fail (encodings,
archives, layers, CRSs, 3D and measured geometries, library warnings), and each failure gets its
own plain sentence.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import stat
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as ProjCRSError

from geo import schema, settings
from geo.errors import (  # noqa: F401 (defined with every error in geo.errors; re-exported here)
    CommonGroundError,
    ImportFileError,
    PermissionDeniedError,
)
from geo.geocode import PostcodeIndex
from geo.textsafe import restore_formula


@dataclass(frozen=True)
class ImportLimits:
    """Limits on what an import may read (all configurable; defaults suit a city's registers)."""

    max_bytes: int = field(default_factory=lambda: settings.max_import_mb() * 1024 * 1024)
    max_rows: int = field(default_factory=settings.max_import_rows)
    max_zip_members: int = 50
    max_zip_total_bytes: int = 500 * 1024 * 1024
    max_zip_ratio: float = 100.0


DEFAULT_LIMITS = ImportLimits()


KINDS = {
    ".csv": "csv",
    ".txt": "csv",
    ".geojson": "geojson",
    ".json": "geojson",
    ".zip": "shapefile",
    ".gpkg": "gpkg",
    ".kml": "kml",
}


SQLITE_MAGIC = b"SQLite format 3\x00"


_LAT = ("lat", "latitude", "y_lat")


_LON = ("lon", "lng", "long", "longitude", "x_lon")


@dataclass
class Upload:
    """A file read into a frame, before mapping and validation."""

    frame: pd.DataFrame  # a GeoDataFrame when the file has geometry
    kind: str
    name: str
    layers: list[str] = field(default_factory=list)  # for a GeoPackage with several layers
    notes: list[str] = field(default_factory=list)

    @property
    def has_geometry(self) -> bool:
        return isinstance(self.frame, gpd.GeoDataFrame) and bool(has_geometry(self.frame.geometry).any())

    def preview(self, rows: int = 200) -> pd.DataFrame:
        """The first ``rows`` rows as a table: the file's columns, plus ``lon``/``lat`` (EPSG:4326,
        6 decimals) when every feature is a point."""
        head = self.frame.head(rows)
        if not self.has_geometry:
            return pd.DataFrame(head.drop(columns=[head.geometry.name])) if isinstance(head, gpd.GeoDataFrame) else head
        table = pd.DataFrame(head.drop(columns=[head.geometry.name]))
        if (self.frame.geom_type == "Point").all():
            pts = head.to_crs(schema.STORAGE_CRS).geometry
            table = table.assign(lon=pts.x.round(6).to_numpy(), lat=pts.y.round(6).to_numpy())
        return table

    @property
    def columns(self) -> list[str]:
        """The file's own columns (not its geometry), for mapping to the layer's."""
        geometry = self.frame.geometry.name if isinstance(self.frame, gpd.GeoDataFrame) else None
        return [c for c in self.frame.columns if c != geometry]


def read_upload(
    path: str | os.PathLike,
    *,
    source_layer: str | None = None,
    crs: str | None = None,
    encoding: str | None = None,
    postcodes: PostcodeIndex | Callable[[], PostcodeIndex] | None = None,
    limits: ImportLimits = DEFAULT_LIMITS,
) -> Upload:
    """Open a user's file and return its rows (with geometry where it has some).

    Parameters
    ----------
    path
        The file. Its extension says what it should be; its content must agree.
    source_layer
        The layer to read from a GeoPackage with several.
    crs
        The CRS of the coordinates when the file does not say (CSV ``x``/``y``, a Shapefile without
        ``.prj``), e.g. ``"EPSG:27700"``. Never guessed.
    encoding
        The text encoding of a CSV when it is not UTF-8 (e.g. ``"cp1252"``).
    postcodes
        Geocodes a CSV that has only a postcode column: the index, or a function that builds it
        (called only for such a file).
    limits
        Size, row and archive limits.
    """
    p = Path(path)
    name = p.name
    if not p.exists() or not p.is_file():
        raise ImportFileError(f"{name} does not exist or is not a file; check the path.")
    size = p.stat().st_size
    if size == 0:
        raise ImportFileError(f"{name} is empty; export the data again and re-upload it.")
    if size > limits.max_bytes:
        raise ImportFileError(
            f"{name} is {size / 1e6:,.1f} MB, over the {limits.max_bytes / 1e6:,.0f} MB limit; split it, or "
            "raise COMMON_GROUND_MAX_IMPORT_MB."
        )
    kind = KINDS.get(p.suffix.lower())
    if kind is None:
        raise ImportFileError(
            f"{name} has an extension Common Ground does not read; use .csv, .geojson, .zip (Shapefile), .gpkg or .kml."
        )
    with open(p, "rb") as fh:
        head = fh.read(4096)
    _check_content_matches(name, kind, head)
    crs_obj = _parse_crs(crs) if crs else None
    heard: list[str] = []
    with tempfile.TemporaryDirectory(prefix="cg-read-") as tmp, library_warnings(heard):
        if _unsafe_for_gdal(p):  # GDAL reads '!' as an archive separator (and some names trip other tools)
            safe = Path(tmp) / ("upload" + p.suffix.lower())
            shutil.copyfile(p, safe)
            p = safe
        if kind == "csv":
            up = _read_csv(p, crs=crs_obj, encoding=encoding, postcodes=postcodes, limits=limits, display_name=name)
        elif kind == "shapefile":
            up = _read_zipped_shapefile(p, crs=crs_obj, limits=limits, display_name=name)
        elif kind == "gpkg":
            up = _read_gpkg(p, source_layer=source_layer, crs=crs_obj, limits=limits, display_name=name)
        else:
            up = _read_vector(p, kind=kind, crs=crs_obj, limits=limits, display_name=name, source_layer=source_layer)
    up.name = name
    for text in heard:
        if text not in up.notes:
            up.notes.append(text)
    return up


def _unsafe_for_gdal(path: Path) -> bool:
    """Whether GDAL might misread the path: '!' (archive separator), or anything but plain ASCII."""
    return re.search(r"[^A-Za-z0-9._/\\:\-]", str(path.resolve())) is not None


def has_geometry(geoms: gpd.GeoSeries) -> np.ndarray:
    """Which rows hold a geometry (empty ones count), without geopandas' notna() warning."""
    return shapely.is_geometry(np.asarray(geoms.array, dtype=object))


#: What GDAL, pyogrio and geopandas warn about, in the words of an import report (None: not worth saying).
_Z_NOTE = "3D coordinates: the heights (Z) were dropped; Common Ground keeps positions in 2D"


_M_NOTE = "measured geometries: the measures (M) were dropped; Common Ground keeps positions in 2D"


_WARNING_NOTES: tuple[tuple[str, str | None], ...] = (
    ("z=2 hint", _Z_NOTE),
    ("measured (m) geometry", _M_NOTE),
    (
        "bad application_id",
        "the GeoPackage has no GeoPackage application id (the tool that wrote it did not set one); it was read anyway",
    ),
    ("more than one layer found", None),  # every layer is read or named: see _read_vector
    ("notna()", None),
    ("isna()", None),
)


@contextlib.contextmanager
def library_warnings(notes: list[str]):
    """Record the warnings of the libraries that read a file and turn them into report notes.

    They never reach the user raw (a command line user would see them on stderr).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        text = " ".join(str(w.message).split())
        note = next((n for key, n in _WARNING_NOTES if key in text.lower()), f"the file reader warned: {text[:200]}")
        if note and note not in notes:
            notes.append(note)


def _check_content_matches(name: str, kind: str, head: bytes) -> None:
    is_sqlite = head.startswith(SQLITE_MAGIC)
    is_zip = head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06")
    if kind == "gpkg" and not is_sqlite:
        raise ImportFileError(
            f"{name} is not a GeoPackage (it is not an SQLite database); export it again from QGIS as GeoPackage."
        )
    if kind == "shapefile" and not is_zip:
        raise ImportFileError(f"{name} is not a zip archive; zip the Shapefile's .shp, .shx, .dbf and .prj together.")
    if kind in ("csv", "geojson", "kml"):
        if is_sqlite or is_zip or b"\x00" in head[:1024] and not _looks_utf16(head):
            raise ImportFileError(
                f"{name} is a binary file, not {kind.upper()} text; check the file, or give it its real extension."
            )
    if kind == "geojson" and head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] not in (b"{", b"["):
        raise ImportFileError(f"{name} is not GeoJSON (it does not start with '{{'); check it is the right file.")
    if kind == "kml" and b"<kml" not in head.lower() and b"<?xml" not in head.lower():
        raise ImportFileError(f"{name} is not KML (no <kml> element); export it again as KML.")


def _looks_utf16(head: bytes) -> bool:
    return head.startswith((b"\xff\xfe", b"\xfe\xff"))


def _parse_crs(text: str) -> CRS:
    try:
        return CRS.from_user_input(text)
    except ProjCRSError:
        raise ImportFileError(
            f"{text!r} is not a CRS Common Ground knows; give one such as EPSG:27700 or EPSG:4326."
        ) from None


def _decode(raw: bytes, name: str, encoding: str | None) -> tuple[str, str | None]:
    if encoding:
        try:
            return raw.decode(encoding), None
        except (LookupError, UnicodeDecodeError) as exc:
            raise ImportFileError(
                f"{name} cannot be read as {encoding} ({exc.__class__.__name__}); try utf-8 or cp1252."
            ) from None
    if _looks_utf16(raw):
        return raw.decode("utf-16"), "read as UTF-16"
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        at = exc.start
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        raise ImportFileError(
            f"{name} is not UTF-8 text (byte {at}); save it as 'CSV UTF-8' or give its encoding, e.g. --encoding latin-1."
        ) from None
    return (
        text,
        "not UTF-8: read as Windows-1252 (cp1252), as Excel saves it; check accents look right or give --encoding",
    )


def find_column(columns: list[str], names: tuple[str, ...]) -> str | None:
    low = {c.strip().lower(): c for c in columns}
    for n in names:
        if n in low:
            return low[n]
    return None


def _read_csv(
    path: Path,
    *,
    crs: CRS | None,
    encoding: str | None,
    postcodes: PostcodeIndex | Callable[[], PostcodeIndex] | None,
    limits: ImportLimits,
    display_name: str | None = None,
) -> Upload:
    import io

    name = display_name or path.name
    text, note = _decode(path.read_bytes(), name, encoding)
    if not text.strip():
        raise ImportFileError(f"{name} holds no rows; export the data again and re-upload it.")
    first_line = text.split("\n", 1)[0]
    sep = (
        ";"
        if first_line.count(";") > first_line.count(",")
        else ("\t" if "\t" in first_line and "," not in first_line else ",")
    )
    try:  # Excel saves CSV with ';' in locales that use a decimal comma, and some tools use tabs
        frame = pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""], nrows=limits.max_rows + 1
        )
    except pd.errors.ParserError as exc:
        raise ImportFileError(
            f"{name} is not valid CSV ({str(exc).splitlines()[0]}); check quotes and separators."
        ) from None
    except pd.errors.EmptyDataError:
        raise ImportFileError(f"{name} holds no rows; export the data again and re-upload it.") from None
    if len(frame) > limits.max_rows:
        raise ImportFileError(
            f"{name} has more than {limits.max_rows:,} rows; split it, or raise COMMON_GROUND_MAX_IMPORT_ROWS."
        )
    if frame.empty:
        raise ImportFileError(f"{name} has a header but no rows; add the rows and re-upload it.")
    frame.columns = [str(c).strip() for c in frame.columns]
    # Undo the spreadsheet-formula guard that Common Ground's own CSV exports add (one leading quote).
    frame = frame.apply(lambda s: s.map(restore_formula))
    notes = [note] if note else []
    cols = list(frame.columns)
    lat, lon = find_column(cols, _LAT), find_column(cols, _LON)
    east, north = find_column(cols, ("easting", "eastings")), find_column(cols, ("northing", "northings"))
    x, y = find_column(cols, ("x",)), find_column(cols, ("y",))
    pc = find_column(cols, ("postcode", "post_code", "postal_code"))
    wkt = find_column(cols, _WKT)
    if wkt and not (lat and lon) and not (east and north) and not (x and y):
        if crs is None:
            raise ImportFileError(
                f"{name} has a WKT geometry column ({wkt!r}) but does not say its CRS; give it (e.g. --crs EPSG:4326 for "
                "longitude/latitude, EPSG:27700 for British National Grid)."
            )
        geo, more = _wkt_geometries(frame, wkt, crs, name)
        return Upload(
            frame=geo,
            kind="csv",
            name=name,
            notes=notes + [f"geometry read from the WKT column {wkt!r} in {crs.to_string()}"] + more,
        )
    if lat and lon:
        geo = _points(frame, lon, lat, CRS.from_epsg(4326) if crs is None else crs, name)
    elif east and north:
        geo = _points(frame, east, north, CRS.from_epsg(27700) if crs is None else crs, name)
    elif x and y:
        if crs is None:
            raise ImportFileError(
                f"{name} has x and y columns but does not say their CRS; give it (e.g. --crs EPSG:27700 for British National Grid)."
            )
        geo = _points(frame, x, y, crs, name)
    elif pc and postcodes is not None:
        geo = _geocode(frame, pc, postcodes() if callable(postcodes) else postcodes, name)
        notes.append(f"located by postcode (column {pc!r}) from OS Code-Point Open")
    else:
        return Upload(frame=frame, kind="csv", name=name, notes=notes + ["no coordinates: a table without locations"])
    return Upload(frame=geo, kind="csv", name=name, notes=notes)


def _points(frame: pd.DataFrame, xcol: str, ycol: str, crs: CRS, name: str) -> gpd.GeoDataFrame:
    xs = pd.to_numeric(frame[xcol].str.strip() if frame[xcol].dtype == object else frame[xcol], errors="coerce")
    ys = pd.to_numeric(frame[ycol].str.strip() if frame[ycol].dtype == object else frame[ycol], errors="coerce")
    bad = (xs.isna() | ys.isna()) & (frame[xcol].notna() | frame[ycol].notna())
    if bad.any():
        rows = ", ".join(str(i + 2) for i in np.flatnonzero(bad.to_numpy())[:8])
        raise ImportFileError(f"{name}: {xcol}/{ycol} are not numbers on line(s) {rows}; fix those cells.")
    missing = xs.isna() | ys.isna()
    if missing.any():
        rows = ", ".join(str(i + 2) for i in np.flatnonzero(missing.to_numpy())[:8])
        raise ImportFileError(f"{name}: line(s) {rows} have no coordinates; fill them in or remove those rows.")
    out = frame.drop(columns=[xcol, ycol])
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(xs, ys), crs=crs)


_WKT = ("wkt", "geometry", "geom", "the_geom")


def _wkt_geometries(frame: pd.DataFrame, col: str, crs: CRS, name: str) -> tuple[gpd.GeoDataFrame, list[str]]:
    """The rows of a CSV whose geometry is a WKT column, in 2D (a note says when heights were dropped)."""
    texts = frame[col].map(
        lambda v: None if v is None or (isinstance(v, float) and v != v) or not str(v).strip() else str(v).strip()
    )
    geoms = np.empty(len(texts), dtype=object)
    bad: list[int] = []
    for i, t in enumerate(texts):
        if t is None:
            continue
        try:
            geoms[i] = shapely.from_wkt(t)
        except (shapely.errors.ShapelyError, NotImplementedError):  # shapely holds no curves: GEOS's are refused
            bad.append(i)
    if bad:
        word = str(texts.iloc[bad[0]]).split("(", 1)[0].strip().upper()[:40] or "?"
        rows = ", ".join(str(i + 2) for i in bad[:8])
        if word in _UNSUPPORTED_WORDS:
            raise ImportFileError(f"{name} has {_UNSUPPORTED_WORDS[word]} on line(s) {rows}; {_UNSUPPORTED_FIX}")
        raise ImportFileError(
            f"{name}: the {col!r} column is not WKT on line(s) {rows} (it starts {word!r}); fix those cells."
        )
    notes = []
    if shapely.has_z(geoms[shapely.is_geometry(geoms)]).any():
        geoms = shapely.force_2d(geoms)
        notes.append(_Z_NOTE)
    out = gpd.GeoDataFrame(
        frame.drop(columns=[col]), geometry=gpd.GeoSeries(geoms, index=frame.index, crs=crs), crs=crs
    )
    return out, notes


#: Geometry types (WKT words) Common Ground cannot hold, in plain words.
_UNSUPPORTED_WORDS = {
    "TIN": "surfaces made of triangles (TIN)", "TRIANGLE": "surfaces made of triangles (TIN)",
    "POLYHEDRALSURFACE": "polyhedral surfaces", "CIRCULARSTRING": "curves (CIRCULARSTRING)",
    "COMPOUNDCURVE": "curves (COMPOUNDCURVE)", "CURVEPOLYGON": "curved polygons (CURVEPOLYGON)",
    "MULTICURVE": "curves (MULTICURVE)", "MULTISURFACE": "curved surfaces (MULTISURFACE)",
    "GEOMETRYCOLLECTION": "geometry collections holding curves or triangles",
}  # fmt: skip


_UNSUPPORTED_FIX = (
    "Common Ground reads points, lines and polygons only: convert them first (in QGIS, Vector > Geometry Tools, "
    "e.g. 'Segmentize' for curves or 'Multipart to singleparts' then 'Polygons from TIN')."
)


def _geocode(frame: pd.DataFrame, col: str, index: PostcodeIndex, name: str) -> gpd.GeoDataFrame:
    lons, lats, bad = [], [], []
    for i, value in enumerate(frame[col].fillna("")):
        try:
            pt = index.lookup(value)
            lons.append(pt.lon)
            lats.append(pt.lat)
        except CommonGroundError:
            bad.append(f"line {i + 2} ({value!r})")
            lons.append(np.nan)
            lats.append(np.nan)
    if bad:
        shown = ", ".join(bad[:6]) + (f" and {len(bad) - 6} more" if len(bad) > 6 else "")
        raise ImportFileError(
            f"{name}: {len(bad)} postcode(s) could not be found: {shown}; correct them or add lat/lon columns."
        )
    return gpd.GeoDataFrame(frame.copy(), geometry=gpd.points_from_xy(lons, lats), crs=4326)


def _safe_extract(path: Path, dest: Path, limits: ImportLimits) -> list[Path]:
    name = path.name
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ImportFileError(f"{name} is a damaged zip archive; zip the Shapefile again.") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_zip_members:
            raise ImportFileError(
                f"{name} holds {len(infos)} files, over the limit of {limits.max_zip_members}; zip only the Shapefile's files."
            )
        total = 0
        for info in infos:
            fn = info.filename
            mode = info.external_attr >> 16
            if info.flag_bits & 0x1:
                raise ImportFileError(f"{name} is encrypted; zip it again without a password.")
            if fn.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", fn) or ".." in Path(fn.replace("\\", "/")).parts:
                raise ImportFileError(
                    f"{name} contains a path that leaves the archive ({fn!r}); this archive is refused."
                )
            if stat.S_ISLNK(mode):
                raise ImportFileError(f"{name} contains a link ({fn!r}); zip the real files instead.")
            if fn.lower().endswith((".zip", ".gz", ".7z", ".rar", ".tar")):
                raise ImportFileError(f"{name} contains another archive ({fn!r}); zip the Shapefile's files directly.")
            total += info.file_size
            if (
                info.compress_size
                and info.file_size / max(info.compress_size, 1) > limits.max_zip_ratio
                and info.file_size > 1_000_000
            ):
                raise ImportFileError(
                    f"{name} expands suspiciously ({fn!r} is {info.file_size / info.compress_size:,.0f} times its packed size); "
                    "this looks like a zip bomb and is refused."
                )
        if total > limits.max_zip_total_bytes:
            raise ImportFileError(
                f"{name} would expand to {total / 1e6:,.0f} MB, over the {limits.max_zip_total_bytes / 1e6:,.0f} MB limit."
            )
        out = []
        budget = limits.max_zip_total_bytes
        for info in infos:
            if info.is_dir():
                continue
            base = Path(info.filename.replace("\\", "/")).name  # flatten: no directories
            target = dest / re.sub(r"[^A-Za-z0-9._-]", "_", base)  # GDAL reads '!' as an archive separator
            with zf.open(info) as src, open(target, "wb") as dst:
                while chunk := src.read(1 << 20):
                    budget -= len(chunk)
                    if budget < 0:  # headers can lie about sizes: count what really comes out
                        raise ImportFileError(f"{name} expands beyond its declared size; this archive is refused.")
                    dst.write(chunk)
            out.append(target)
        return out


def _read_zipped_shapefile(
    path: Path, *, crs: CRS | None, limits: ImportLimits, display_name: str | None = None
) -> Upload:
    name = display_name or path.name
    with tempfile.TemporaryDirectory(prefix="cg-import-") as tmp:
        files = _safe_extract(path, Path(tmp), limits)
        shps = [f for f in files if f.suffix.lower() == ".shp"]
        if len(shps) != 1:
            raise ImportFileError(
                f"{name} must hold exactly one Shapefile (.shp), it holds {len(shps)}; zip one layer at a time."
            )
        shp = shps[0]
        missing = [
            ext for ext in (".shx", ".dbf") if not any(f.suffix.lower() == ext and f.stem == shp.stem for f in files)
        ]
        if missing:
            raise ImportFileError(
                f"{name} lacks the {' and '.join(missing)} file(s) of {shp.name}; zip all of the Shapefile's files."
            )
        has_prj = any(f.suffix.lower() == ".prj" and f.stem == shp.stem for f in files)
        if not has_prj and crs is None:
            raise ImportFileError(
                f"{name} has no .prj file, so its CRS is unknown; add the .prj, or give the CRS (e.g. --crs EPSG:27700)."
            )
        up = _read_vector(shp, kind="shapefile", crs=crs, limits=limits, display_name=name)
        if not has_prj:
            up.notes.append(f"no .prj: coordinates taken as {crs.to_string()}, as you said")
        return up


ALL_LAYERS = "*"  # --source-layer '*': every layer of the file that holds features


def _read_gpkg(
    path: Path, *, source_layer: str | None, crs: CRS | None, limits: ImportLimits, display_name: str | None = None
) -> Upload:
    name = display_name or path.name
    try:
        layers = [str(n) for n, _ in pyogrio.list_layers(path)]
    except Exception:
        raise ImportFileError(f"{name} is a damaged or truncated GeoPackage; export it again from QGIS.") from None
    if not layers:
        raise ImportFileError(f"{name} holds no layers; export the layer again.")
    if source_layer is None and len(layers) > 1:
        raise ImportFileError(
            f"{name} has several layers ({', '.join(layers)}); choose one (--source-layer NAME), "
            f"or import every one of them with --source-layer '{ALL_LAYERS}' (each row keeps its layer in source_layer)."
        )
    up = _read_vector(
        path, kind="gpkg", crs=crs, limits=limits, source_layer=source_layer, display_name=name, layers=layers
    )
    up.layers = layers
    return up


#: Fields that KML readers add for display (how Google Earth draws a placemark), never data about an asset.
KML_HOUSEKEEPING = frozenset({
    "tessellate", "extrude", "visibility", "begin", "end", "altitudemode", "draworder", "icon", "timestamp",
    "snippet", "styleurl", "gx_altitudemode", "altitude_mode", "draw_order",
})  # fmt: skip


def _read_vector(
    path: Path,
    *,
    kind: str,
    crs: CRS | None,
    limits: ImportLimits,
    source_layer: str | None = None,
    display_name: str | None = None,
    layers: list[str] | None = None,
) -> Upload:
    """Read a vector file: every layer of a KML (its folders), or the chosen layer(s) of other files.

    A file with several layers that hold features is read whole when it is a KML (Google My Maps
    exports each map layer as a folder) or when ``source_layer`` is ``'*'``; each row then keeps its
    layer's name in ``source_layer``. Other multi-layer files must name the layer.
    """
    name = display_name or path.name
    notes: list[str] = []
    try:
        if layers is None:
            layers = [str(n) for n, _ in pyogrio.list_layers(path)]
        if source_layer not in (None, ALL_LAYERS) and source_layer not in layers:
            raise ImportFileError(f"{name} has no layer {source_layer!r}; it has: {', '.join(layers) or 'none'}.")
        wanted = [source_layer] if source_layer not in (None, ALL_LAYERS) else layers
        counts = {}
        for lyr in wanted:
            info = pyogrio.read_info(path, layer=lyr, force_feature_count=True)
            counts[lyr] = int(info["features"])
        filled = [lyr for lyr in wanted if counts[lyr] > 0]
        if not filled:
            raise ImportFileError(f"{name} holds no features (no placemarks or rows with data); export the data again.")
        if len(filled) > 1 and kind not in ("kml",) and source_layer != ALL_LAYERS:
            shown = ", ".join(f"{lyr} ({counts[lyr]})" for lyr in filled)
            raise ImportFileError(
                f"{name} has several layers ({shown}); choose one (--source-layer NAME), "
                f"or import every one of them with --source-layer '{ALL_LAYERS}'."
            )
        total = sum(counts[lyr] for lyr in filled)
        if total > limits.max_rows:
            raise ImportFileError(f"{name} has {total:,} features, over the {limits.max_rows:,} limit; split it.")
        frames = []
        for lyr in filled:
            part = _read_layer(path, lyr, name, kind)
            if len(filled) > 1:
                part["source_layer"] = lyr
            frames.append(part)
    except ImportFileError:
        raise
    except Exception as exc:
        raise ImportFileError(_read_failure(name, kind, exc)) from None
    if len(filled) > 1:
        crss = {str(f.crs) for f in frames if isinstance(f, gpd.GeoDataFrame)}
        if len(crss) > 1:
            frames = [
                f.to_crs(frames[0].crs) if isinstance(f, gpd.GeoDataFrame) and f.crs is not None else f for f in frames
            ]
        frame = pd.concat(frames, ignore_index=True)
        if all(isinstance(f, gpd.GeoDataFrame) for f in frames):
            frame = gpd.GeoDataFrame(frame, geometry=frames[0].geometry.name, crs=frames[0].crs)
        notes.append(
            f"{len(filled)} layers read: "
            + ", ".join(f"{lyr} ({counts[lyr]})" for lyr in filled)
            + "; each row keeps its layer in source_layer"
        )
    else:
        frame = frames[0]
    empty_layers = [lyr for lyr in wanted if counts[lyr] == 0]
    if empty_layers and len(wanted) > 1:
        notes.append(f"empty layer(s) skipped: {', '.join(empty_layers)}")
    frame, more = _clean_columns(frame, kind)
    notes += more
    if isinstance(frame, gpd.GeoDataFrame):
        if frame.crs is None:
            if crs is None:
                raise ImportFileError(
                    f"{name} does not say its CRS; give it (e.g. --crs EPSG:27700). It is never guessed."
                )
            frame = frame.set_crs(crs)
        geoms = np.asarray(frame.geometry.array, dtype=object)
        if shapely.has_z(geoms[shapely.is_geometry(geoms)]).any():
            frame = frame.set_geometry(gpd.GeoSeries(shapely.force_2d(geoms), index=frame.index, crs=frame.crs))
            notes.append(_Z_NOTE)
    return Upload(frame=frame, kind=kind, name=name, notes=notes)


def _read_layer(path: Path, layer: str, name: str, kind: str) -> pd.DataFrame:
    """One layer as a frame, integer fields kept as integers (nullable where some are missing)."""
    info = pyogrio.read_info(path, layer=layer)
    try:
        frame = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:
        raise ImportFileError(_read_failure(name, kind, exc)) from None
    for field_name, dtype in zip(info["fields"], info["dtypes"], strict=False):
        if (
            str(dtype).startswith(("int", "uint"))
            and field_name in frame
            and pd.api.types.is_float_dtype(frame[field_name])
        ):
            values = frame[field_name]
            if values.dropna().map(float.is_integer).all():
                frame[field_name] = values.astype("Int64")
    return frame


def _read_failure(name: str, kind: str, exc: Exception) -> str:
    """A plain sentence for a reader's failure (unsupported geometry types named, not WKB codes)."""
    text = " ".join(str(exc).split())
    if re.search(r"Unknown WKB type (1[5-7]|10[0-9][5-7]|20[0-9][5-7]|30[0-9][5-7])\b", text) or "TIN" in text:
        return f"{name} holds surfaces made of triangles (TIN or polyhedral surfaces); {_UNSUPPORTED_FIX}"
    if "WKB type" in text or "ParseException" in text:
        return f"{name} holds a geometry type Common Ground cannot read ({text[:80]}); {_UNSUPPORTED_FIX}"
    return f"{name} could not be read as {kind} ({text[:160]}); check the file is complete."


def _clean_columns(frame: pd.DataFrame, kind: str) -> tuple[pd.DataFrame, list[str]]:
    """Drop a format's housekeeping fields and store list or object values as JSON text."""
    notes = []
    geom = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    if kind == "kml":
        drop = [c for c in frame.columns if c != geom and str(c).lower() in KML_HOUSEKEEPING]
        if drop:
            frame = frame.drop(columns=drop)
    for col in frame.columns:
        if col == geom or frame[col].dtype != object:
            continue
        nested = frame[col].map(lambda v: isinstance(v, (list, tuple, dict, np.ndarray)))
        if nested.any():
            frame[col] = frame[col].map(_json_text)
            notes.append(f"{col}: lists and objects stored as JSON text")
    return frame, notes


def _json_text(v: object) -> object:
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, (list, tuple, dict)):
        return json.dumps(v, ensure_ascii=False, default=str)
    return v


def parse_upload(
    data: bytes,
    name: str,
    *,
    source_layer: str | None = None,
    crs: str | None = None,
    encoding: str | None = None,
    postcodes: PostcodeIndex | None = None,
) -> tuple[list[str], Upload]:
    """Read uploaded bytes once: ``(layers, upload)``, where ``layers`` lists a GeoPackage's layers
    (empty for other kinds; the first is read when ``source_layer`` is not one of them).

    The bytes go to a private temporary folder that is removed before this returns, whatever
    happens, so no upload is left on the server's disk. Errors name the file as the user called it.
    """
    with tempfile.TemporaryDirectory(prefix="cg-upload-") as folder:
        path = copy_upload(data, name, Path(folder))
        layers = source_layers(path)
        if layers and source_layer not in layers:
            source_layer = layers[0] if len(layers) > 1 else None
        try:
            up = read_upload(path, source_layer=source_layer, crs=crs, encoding=encoding, postcodes=postcodes)
        except CommonGroundError as exc:
            exc.args = (str(exc).replace(str(path), name).replace(path.name, name),)
            raise
        finally:
            _return_freed_memory()
    return layers, up


def _return_freed_memory() -> None:
    """Hand the heap that reading a big file freed back to the operating system (glibc keeps it
    otherwise, so a long-running server's memory only grows). A no-op where there is no glibc."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


def copy_upload(data: bytes, name: str, folder: Path) -> Path:
    """Write uploaded bytes to a private file with a safe name (the extension kept) for reading."""
    suffix = Path(name).suffix.lower()
    safe = "upload" + (suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix or "") else "")
    target = Path(folder) / safe
    target.write_bytes(data)
    return target


def source_layers(path: str | os.PathLike) -> list[str]:
    """The layers of a GeoPackage (empty for other kinds), so a page can offer the choice."""
    p = Path(path)
    if p.suffix.lower() != ".gpkg":
        return []
    with open(p, "rb") as fh:
        if fh.read(16) != SQLITE_MAGIC:
            return []
    try:
        return [str(n) for n, _ in pyogrio.list_layers(p)]
    except Exception:
        return []
