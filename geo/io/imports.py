"""Reading and validating the files users bring, then importing them all or nothing.

Three steps, each usable on its own (the Data page shows the result of each before the next):

1. :func:`read_upload` opens a file safely: CSV (``lat``/``lon``, ``x``/``y`` with a stated CRS,
   ``easting``/``northing``, or only a ``postcode`` column geocoded offline), GeoJSON, a zipped
   Shapefile, a GeoPackage (choose the layer when there are several) or KML. Hostile and broken
   files (too big, too many rows, zip bombs, paths escaping the archive, links, nested or encrypted
   archives, unknown encodings, empty files, wrong extensions, truncated or fake GeoPackages) are
   refused with one sentence that says what is wrong and what to do.
2. :func:`plan_import` maps the file's columns onto the schema (unknown asset types mapped, or
   added to the taxonomy on request) and validates every row with the one validator of the layer,
   :func:`geo.validation.validate_frame`, in the store's :func:`~geo.store.validation_context`: the
   same rules and the same sentences as the pages and the editing API, numbered by row (values,
   dates, choices, links to other layers, groups never people, points inside the data's area with
   the one margin :data:`geo.validation.AREA_MARGIN_DEG`). What only imports do: a missing CRS is
   an error unless one is given (never guessed); boundary layers, which have no validator, have
   their geometries repaired (``make_valid``, counted) and checked against the same area; likely
   duplicates (same name and type within 25 m of an existing feature) are skipped unless
   ``allow_duplicates``; points outside this store's area (:func:`geo.store.store_extent`: a
   configured study area, else the boundary layers; no area check without either) are refused
   unless ``allow_outside_area`` (which still refuses points that look swapped); rows without a
   geometry refuse the file unless ``skip_invalid``, which skips them and lists them in the report.
   Each option switches off its own check and no other. Ids already in the layer are refused. The
   result is a report and the rows that would land.
3. :func:`apply_import` writes them in one store transaction with one audit entry per feature. If
   anything fails the store is left byte-identical.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import stat
import tempfile
import uuid
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as ProjCRSError

from geo import auth, outlines, schema, settings, validation
from geo.errors import (  # noqa: F401 (defined with every error in geo.errors; re-exported here)
    CommonGroundError,
    ImportFileError,
    PermissionDeniedError,
)
from geo.geocode import PostcodeIndex, postcode_index
from geo.store import Store, now_iso, store_extent, validation_context
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
DUPLICATE_DISTANCE_M = 25.0

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

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("name", "title", "venue", "site", "site_name", "asset", "asset_name", "organisation_name"),
    "type": ("type", "kind", "asset_type", "category_type"),
    "address": ("address", "full_address", "street_address", "addr"),
    "postcode": ("postcode", "post_code", "postal_code", "zip"),
    "url": ("url", "website", "web", "link"),
    "opening_hours": ("opening_hours", "hours", "opening_times", "open"),
    "description": ("description", "desc", "notes", "about"),
    "id": ("id", "uuid", "identifier"),
}
_LAT = ("lat", "latitude", "y_lat")
_LON = ("lon", "lng", "long", "longitude", "x_lon")


# --------------------------------------------------------------------------------------------
# Step 1: reading a file safely
# --------------------------------------------------------------------------------------------


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
        return isinstance(self.frame, gpd.GeoDataFrame) and bool(_present(self.frame.geometry).any())

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
    postcodes: PostcodeIndex | None = None,
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
        Geocodes a CSV that has only a postcode column.
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
    with tempfile.TemporaryDirectory(prefix="cg-read-") as tmp, _library_warnings(heard):
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


def _present(geoms: gpd.GeoSeries) -> np.ndarray:
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
def _library_warnings(notes: list[str]):
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


def _find(columns: list[str], names: tuple[str, ...]) -> str | None:
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
    postcodes: PostcodeIndex | None,
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
    lat, lon = _find(cols, _LAT), _find(cols, _LON)
    east, north = _find(cols, ("easting", "eastings")), _find(cols, ("northing", "northings"))
    x, y = _find(cols, ("x",)), _find(cols, ("y",))
    pc = _find(cols, ("postcode", "post_code", "postal_code"))
    wkt = _find(cols, _WKT)
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
        geo = _geocode(frame, pc, postcodes, name)
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


# --------------------------------------------------------------------------------------------
# Step 2: mapping and validation
# --------------------------------------------------------------------------------------------


def suggest_mapping(columns: list[str], layer: str) -> dict[str, str]:
    """Schema column -> file column, for the file columns whose names match (case-insensitive,
    common synonyms such as 'Venue' for name)."""
    spec = schema.layer_spec(layer)
    out: dict[str, str] = {}
    for col in spec.columns:
        found = _find(columns, _SYNONYMS.get(col, (col,)) if col in _SYNONYMS else (col,))
        if found:
            out[col] = found
    return out


@dataclass
class ImportReport:
    """What validation found. ``errors`` block the import; ``warnings`` do not."""

    rows_read: int = 0
    rows_to_import: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    repaired_geometries: int = 0
    duplicates: list[str] = field(default_factory=list)
    unknown_types: list[str] = field(default_factory=list)
    new_types: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what reading and mapping did (2D, JSON text, columns left out)
    #: Rows left out on request (``skip_invalid``): ``{"row": N, "reason": "..."}``, N counting data rows from 1.
    skipped: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {
            "rows_read": self.rows_read,
            "rows_to_import": self.rows_to_import,
            "errors": self.errors,
            "warnings": self.warnings,
            "repaired_geometries": self.repaired_geometries,
            "duplicates_skipped": self.duplicates,
            "unknown_types": self.unknown_types,
            "new_types": self.new_types,
            "notes": self.notes,
            "rows_skipped": self.skipped,
        }


@dataclass
class ImportPlan:
    """The rows that would land in ``layer`` and the report about them."""

    layer: str
    frame: pd.DataFrame
    report: ImportReport
    taxonomy_additions: list[dict] = field(default_factory=list)
    #: The outlines of the assets that are shapes (``id``, geometry in EPSG:4326), or ``None``.
    outlines: gpd.GeoDataFrame | None = None


def plan_import(
    upload: Upload,
    *,
    layer: str,
    store: Store,
    mapping: dict[str, str] | None = None,
    type_id: str | None = None,
    type_map: dict[str, str] | None = None,
    add_types_to: str | None = None,
    allow_outside_area: bool = False,
    allow_duplicates: bool = False,
    skip_invalid: bool = False,
    force: bool = False,
    keep_extra: bool = False,
    actor: str = "import",
) -> ImportPlan:
    """Map an upload onto ``layer``'s schema and validate it; nothing is written.

    Parameters
    ----------
    mapping
        Schema column -> file column; merged over :func:`suggest_mapping`.
    type_id
        One asset type for the whole file (assets only).
    type_map
        File type value -> taxonomy type id, for types the taxonomy does not know.
    add_types_to
        Add still-unknown types to the taxonomy under this category instead of failing.
    allow_outside_area
        Import points (and areas) outside this store's area instead of refusing them (points that
        look swapped are still refused). Nothing else is allowed by it.
    allow_duplicates
        Import likely duplicates (same name and type within 25 m of an existing feature) instead of skipping them.
    skip_invalid
        Skip rows without a geometry (in a layer that needs one), listing them in
        ``report.skipped``, instead of refusing the whole file.
    force
        Deprecated: the old name of ``allow_outside_area``, and nothing more (it no longer lets
        duplicates in).
    keep_extra
        Keep the file's columns that the layer does not have (as new columns, under cleaned
        names). By default they are left out, with a note naming them, so that a file never widens
        the layer's schema by accident; a column mapped with ``mapping`` is always kept. The layer
        a row came from (``source_layer``, from a file with several layers) is always kept.

    Notes
    -----
    Every layer with a validator (:data:`geo.validation.LAYERS`) is checked by
    :func:`geo.validation.validate_frame`; its ``"row N: ..."`` sentences (N counts data rows from
    1: line N+1 of a CSV) are the report's errors, followed by what only an import adds (how to map
    unknown types, how to allow out-of-area points, ids already in the layer). The planned frame is
    the validator's cleaned copy (an asset's category follows its type, statuses default, dates
    ``YYYY-MM-DD``, points in EPSG:4326).
    """
    spec = schema.layer_spec(layer)
    allow_outside_area = allow_outside_area or force
    _refuse_layer(layer)
    report = ImportReport(rows_read=len(upload.frame), notes=list(upload.notes))
    out = _mapped_columns(upload, layer, spec, report, mapping=mapping, type_id=type_id, keep_extra=keep_extra)
    validated = layer in validation.LAYERS
    ctx = validation_context(store) if validated else None
    shapes: gpd.GeoSeries | None = None
    if spec.geometry is not None:
        out, shapes = _located(
            out, upload, layer, spec, report, store=store, skip_invalid=skip_invalid,
            allow_outside_area=allow_outside_area,
        )  # fmt: skip
    if layer == "assets":
        out, taxonomy = _map_types(
            out, report, ctx=ctx, type_id=type_id, type_map=type_map or {}, add_types_to=add_types_to
        )
        ctx = dataclasses.replace(ctx, taxonomy=taxonomy)
    out = _with_source_and_ids(out, spec, upload.name)
    if validated:
        hints = report.errors[:]  # what only an import adds comes after the validator's sentences
        report.errors.clear()
        out = _validate_rows(out, layer, ctx, report, allow_outside_area)
        report.errors += hints
    elif "name" in spec.columns:  # boundary layers have no validator
        _check_names(out, report)
    out = _against_the_store(out, layer, spec, store, report, allow_duplicates=allow_duplicates)
    return _finish_plan(out, layer, spec, report, actor=actor, shapes=shapes, add_types_to=add_types_to)


def _refuse_layer(layer: str) -> None:
    """Refuse, before reading anything, the layers that are not imported into."""
    if layer in ("audit_log", "postcodes", "sources"):
        raise ImportFileError(f"{layer!r} is maintained by Common Ground itself and cannot be imported into.")
    if layer == outlines.LAYER:
        raise ImportFileError(
            f"Outlines come with their assets: import the file of parks, grounds or routes into assets (--layer assets), "
            f"not into {layer}; each shape becomes an asset with its outline."
        )


def _mapped_columns(
    upload: Upload,
    layer: str,
    spec: schema.LayerSpec,
    report: ImportReport,
    *,
    mapping: dict[str, str] | None,
    type_id: str | None,
    keep_extra: bool,
) -> pd.DataFrame:
    """The file's columns under the layer's names (the suggested mapping, overridden by ``mapping``),
    indexed 0..n-1 (row N of the file is label N - 1 from here on, whatever is dropped later); the
    file's other columns kept under cleaned names only when asked for, else named in a note."""
    src = upload.frame
    cols = upload.columns
    full_map = {**suggest_mapping(cols, layer), **(mapping or {})}
    for target, source in full_map.items():
        if target not in spec.all_columns and target not in ("category",):
            raise ImportFileError(f"{target!r} is not a column of {layer}; map onto one of: {', '.join(spec.columns)}.")
        if source not in src.columns:
            raise ImportFileError(
                f"The file has no column {source!r} to map onto {target!r}; its columns are: {', '.join(cols)}."
            )
    out = pd.DataFrame(index=src.index)
    for target, source in full_map.items():
        out[target] = src[source]
    out.index = pd.RangeIndex(len(out))
    if layer == "assets" and "type" not in full_map and type_id is None and "source_layer" in src.columns:
        out["type"] = src["source_layer"].to_numpy()  # a My Maps layer (KML folder) per kind of asset
        report.notes.append(
            "types taken from the layer (folder) names in source_layer; map them with --map-type 'LAYER=TYPE'"
        )
    used = set(full_map.values())
    left_out = []
    for c in cols:  # the file's other columns, under their own (cleaned) names, when asked for
        clean = re.sub(r"[^0-9a-zA-Z_]+", "_", str(c)).strip("_").lower() or "column"
        if c in used or clean in out.columns or clean in spec.all_columns:
            continue
        if keep_extra or c == "source_layer":
            out[clean] = src[c].to_numpy()
        else:
            left_out.append(str(c))
    if left_out:
        shown = ", ".join(left_out[:8]) + (f" and {len(left_out) - 8} more" if len(left_out) > 8 else "")
        report.notes.append(
            f"column(s) {layer} does not have were left out: {shown} (map them with --map, or keep them with --keep-extra)"
        )
    return out


def _located(
    out: pd.DataFrame,
    upload: Upload,
    layer: str,
    spec: schema.LayerSpec,
    report: ImportReport,
    *,
    store: Store,
    skip_invalid: bool,
    allow_outside_area: bool,
) -> tuple[gpd.GeoDataFrame, gpd.GeoSeries | None]:
    """``out`` with the file's geometry, and an asset file's outlines (or None).

    Rows without a geometry are refused, or skipped with ``skip_invalid``; a shape imported as an
    asset becomes its point inside the shape plus its outline; a points layer refuses shapes; a
    layer without a validator (boundaries, population points) is repaired and area-checked here.
    """
    src = upload.frame
    validated = layer in validation.LAYERS
    needs_geometry = not validated or "geometry" in validation.required_columns(layer)
    if not isinstance(src, gpd.GeoDataFrame) or not _present(src.geometry).any():
        if needs_geometry:
            raise ImportFileError(
                f"{layer} needs locations, and {upload.name} has none; add lat/lon, easting/northing or postcode columns."
            )
        empty = gpd.GeoSeries([None] * len(out), index=out.index, crs=schema.STORAGE_CRS)
        return gpd.GeoDataFrame(out, geometry=empty, crs=schema.STORAGE_CRS), None
    if src.crs is None:
        raise ImportFileError(f"{upload.name} does not say its CRS; give it (e.g. --crs EPSG:27700).")
    located = gpd.GeoDataFrame(out, geometry=src.geometry.to_numpy(), crs=src.crs)
    if needs_geometry:
        located = _rows_without_geometry(located, report, skip_invalid)
    shapes = None
    if layer == "assets":  # a park or a trail: its point (inside the shape) and its outline
        points, shapes, shape_notes = outlines.split_shapes(located.geometry, name=upload.name)
        located = located.set_geometry(points)
        report.notes += shape_notes
        if shapes is not None:
            report.notes.append(
                f"{int(shapes.notna().sum())} shape(s) imported as assets with outlines: each keeps a point inside its "
                "shape (for clusters, nearest and gaps) and its outline (drawn on maps close up; distances are measured "
                "to it)"
            )
    elif spec.geometry == "Point":
        _refuse_shapes(located.geometry, layer, upload.name)
    if not validated:  # boundary layers: repaired and checked here (points are the validator's)
        located = _check_geometry(located, spec, report, upload.name, store, allow_outside_area)
    return located, shapes


def _with_source_and_ids(out: pd.DataFrame, spec: schema.LayerSpec, file_name: str) -> pd.DataFrame:
    """A ``source`` naming the file where the file gives none; ids as text (an ArcGIS Shapefile's
    integer Id becomes "1"), a new UUID for each blank one (the validator never makes ids)."""
    if "source" in spec.columns and ("source" not in out or out["source"].isna().all()):
        out["source"] = f"imported from {file_name}"
    if "id" in spec.columns:
        if "id" not in out or out["id"].isna().all():
            out["id"] = [str(uuid.uuid4()) for _ in range(len(out))]
        else:
            ids = out["id"].map(_id_text)
            out["id"] = ids.map(lambda v: v if v is not None else str(uuid.uuid4())).astype(object)
    return out


def _check_names(out: pd.DataFrame, report: ImportReport) -> None:
    """A layer without a validator still needs a name on every row."""
    missing = (
        len(out) if "name" not in out else int((out["name"].isna() | (out["name"].astype(str).str.strip() == "")).sum())
    )
    if missing:
        report.errors.append(f"{missing} row(s) have no name; map a column onto 'name' or fill it in")


def _against_the_store(
    out: pd.DataFrame, layer: str, spec: schema.LayerSpec, store: Store, report: ImportReport, *, allow_duplicates: bool
) -> pd.DataFrame:
    """Refuse ids the layer already has; skip likely duplicates of its features (unless allowed)."""
    existing = store.read(layer) if store.has_layer(layer) else schema.empty_layer(layer)
    if "id" in spec.columns and "id" in out:
        clash = sorted(set(out["id"].dropna().astype(str)) & set(existing["id"].astype(str)))
        if clash:
            report.errors.append(
                f"{len(clash)} id(s) already exist in {layer} (e.g. {clash[0]!r}); remove the id column to import them as new"
            )
    if spec.geometry == "Point" and "name" in out and len(existing) and isinstance(out, gpd.GeoDataFrame):
        out = _skip_duplicates(out, existing, report, allow_duplicates)
    return out


def _finish_plan(
    out: pd.DataFrame,
    layer: str,
    spec: schema.LayerSpec,
    report: ImportReport,
    *,
    actor: str,
    shapes: gpd.GeoSeries | None,
    add_types_to: str | None,
) -> ImportPlan:
    """Stamp the rows, conform them to the schema, and pair each shape's outline with its asset's id."""
    stamp = now_iso()  # the store stamps editable layers itself when it writes them
    for col, value in (("created_at", stamp), ("created_by", actor), ("updated_at", stamp), ("updated_by", actor)):
        if col in spec.all_columns:
            out[col] = value
    report.rows_to_import = len(out)
    if len(out) == 0 and not report.errors:
        report.errors.append(
            "no rows are left to import (all were skipped as duplicates or without a geometry); "
            "allow duplicates (--allow-duplicates) or give the rows a location"
        )
    if report.errors:
        return ImportPlan(layer=layer, frame=out, report=report)
    try:
        frame = schema.conform(out, layer)
        schema.validate_layer(frame, layer)
    except CommonGroundError as exc:
        report.errors.append(str(exc))
        frame = out
    additions = [{"id": t, "label": _new_type_label(t), "category": add_types_to} for t in report.new_types]
    shape_rows = None
    if shapes is not None and not report.errors:  # the validator and the duplicate check keep the index
        kept = shapes.reindex(frame.index)
        shape_rows = outlines.outline_rows(frame["id"].astype(str).tolist(), kept)
    return ImportPlan(layer=layer, frame=frame, report=report, taxonomy_additions=additions, outlines=shape_rows)


def _id_text(v: object) -> str | None:
    if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
        return None
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        v = int(v)
    text = str(v).strip()
    return text or None


_SHAPE_WORDS = {"Polygon": "polygons", "MultiPolygon": "polygons", "LineString": "lines", "MultiLineString": "lines",
                "LinearRing": "lines", "GeometryCollection": "geometry collections", "MultiPoint": "multipoints"}  # fmt: skip


def _refuse_shapes(geoms: gpd.GeoSeries, layer: str, name: str) -> None:
    """Refuse, in one sentence, a file whose features are shapes where the layer holds points."""
    arr = np.asarray(geoms.array, dtype=object)
    present = shapely.is_geometry(arr) & ~shapely.is_empty(arr)
    names = pd.Series(np.asarray(geoms.geom_type)[present])
    single = shapely.get_num_geometries(arr[present]) == 1  # a MultiPoint of one point is a point
    shapes = names[~((names == "Point") | ((names == "MultiPoint") & single))]
    if shapes.empty:
        return
    words = sorted({_SHAPE_WORDS.get(k, k) for k in shapes})
    raise ImportFileError(
        f"{name} holds {' and '.join(words)} ({len(shapes)} of {len(names)} features), but {layer} holds points; "
        "import parks, buildings and routes into assets (each shape keeps its outline), convert the shapes to points "
        "first (in QGIS: Vector > Geometry Tools > Point on Surface), or import areas into a boundary layer."
    )


def _rows(labels: pd.Index | np.ndarray, limit: int = 6) -> str:
    """``"rows 3, 9, 12 ..."``: row numbers (data rows from 1) of the given labels, the first ``limit``."""
    nums = [str(int(i) + 1) for i in list(labels)[:limit]]
    return ("row " if len(labels) == 1 else "rows ") + ", ".join(nums) + (" ..." if len(labels) > limit else "")


def _rows_without_geometry(out: gpd.GeoDataFrame, report: ImportReport, skip_invalid: bool) -> gpd.GeoDataFrame:
    """Rows without a geometry: skipped and listed when asked (``skip_invalid``), else one error for them all."""
    arr = np.asarray(out.geometry.array, dtype=object)
    missing = ~shapely.is_geometry(arr)
    missing[~missing] = shapely.is_empty(arr[~missing])
    if not missing.any():
        return out
    labels = out.index[missing]
    n = len(labels)
    if skip_invalid:
        report.skipped += [{"row": int(i) + 1, "reason": "no geometry"} for i in labels]
        report.warnings.append(f"{n} row(s) without a geometry were skipped ({_rows(labels)}); see rows_skipped")
        return out[~missing]
    report.errors.append(
        f"{n} of {len(out)} row(s) have no geometry ({_rows(labels)}); give them a location, or skip them "
        "with --skip-invalid (they are listed in the report)"
    )
    return out[~missing]


def _check_geometry(
    out: gpd.GeoDataFrame,
    spec: schema.LayerSpec,
    report: ImportReport,
    name: str,
    store: Store,
    allow_outside_area: bool,
) -> gpd.GeoDataFrame:
    g = out.geometry
    if not len(out):
        return out.to_crs(schema.STORAGE_CRS)
    want = {"Point": {"Point"}, "Polygon": {"Polygon", "MultiPolygon"}}[spec.geometry]
    kinds = set(g.geom_type)
    if spec.geometry == "Point" and kinds == {"MultiPoint"} and (shapely.get_num_geometries(g.array) == 1).all():
        out = out.set_geometry(g.apply(lambda m: m.geoms[0]))
        g = out.geometry
        kinds = {"Point"}
    if not kinds <= want:
        report.errors.append(
            f"{spec.name} holds {spec.geometry.lower()}s, but the file has {', '.join(sorted(kinds))}; choose the right layer"
        )
        return out
    invalid = ~g.is_valid
    if invalid.any():
        out = out.set_geometry(g.make_valid())
        fixed = out.geometry.geom_type.isin(want)
        report.repaired_geometries = int(invalid.sum())
        report.warnings.append(
            f"{int(invalid.sum())} invalid geometr{'y was' if invalid.sum() == 1 else 'ies were'} repaired with make_valid"
        )
        if not fixed.all():
            report.errors.append(
                f"{int((~fixed).sum())} geometr{'y' if (~fixed).sum() == 1 else 'ies'} could not be repaired into {spec.geometry.lower()}s"
            )
    wgs = out.to_crs(schema.STORAGE_CRS)
    bounds = _area_bounds(store)
    if bounds is None:  # no boundaries and no study area: nothing to compare with
        return wgs
    minx, miny, maxx, maxy = bounds
    b = wgs.geometry.bounds
    outside = (b["minx"] < minx) | (b["maxx"] > maxx) | (b["miny"] < miny) | (b["maxy"] > maxy)
    if outside.any():
        swapped = 0
        if spec.geometry == "Point":
            sx, sy = wgs.geometry.y, wgs.geometry.x  # what the points would be with x and y swapped
            swapped = int(((sx >= minx) & (sx <= maxx) & (sy >= miny) & (sy <= maxy) & outside).sum())
        msg = (
            f"{int(outside.sum())} feature(s) lie outside this store's area ({_where(bounds)}; "
            f"{_rows(out.index[outside.to_numpy()])})"
        )
        if swapped:
            msg += f"; {swapped} look like latitude and longitude swapped: swap the columns (map lat onto the y column)"
        if allow_outside_area and not swapped:
            report.warnings.append(msg + "; imported anyway (--allow-outside-area)")
        else:
            report.errors.append(msg + ("" if swapped else "; check the CRS, or import them with --allow-outside-area"))
    return wgs


def _where(bounds: tuple[float, float, float, float]) -> str:
    minx, miny, maxx, maxy = bounds
    return f"lon {minx:.2f} to {maxx:.2f}, lat {miny:.2f} to {maxy:.2f}"


def _area_bounds(store: Store) -> tuple[float, float, float, float] | None:
    """This store's area (:func:`geo.store.store_extent`) widened by the one margin, or ``None``.

    The margin is :data:`geo.validation.AREA_MARGIN_DEG`, the one every point of an edit, a page or
    an import is held to.
    """
    extent = store_extent(store)
    return None if extent is None else _with_margin(extent)


def _with_margin(extent: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    m = validation.AREA_MARGIN_DEG
    return (extent[0] - m, extent[1] - m, extent[2] + m, extent[3] + m)


def _points_4326(out: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each row's point as lon, lat arrays in EPSG:4326 (NaN where it is not one point)."""
    geoms = np.asarray(out.geometry.to_crs(schema.STORAGE_CRS).array, dtype=object)
    single = shapely.get_num_geometries(geoms) == 1  # a point, or a MultiPoint of one point
    first = np.where(single, shapely.get_geometry(geoms, 0), None)
    return shapely.get_x(first), shapely.get_y(first)


def _validate_rows(
    out: pd.DataFrame, layer: str, ctx: validation.Context, report: ImportReport, allow_outside_area: bool
) -> pd.DataFrame:
    """Check every row with the layer's validator; its sentences become the report's errors.

    Points outside this store's area are refused by the validator, with a hint that they may be
    allowed (``allow_outside_area``), which lets them through (a warning says which rows), except
    points that look swapped, which the validator still refuses. Rows are numbered as in the file
    (``out``'s labels), even when rows without a geometry were skipped before.
    """
    outside = swapped = np.zeros(len(out), dtype=bool)
    if isinstance(out, gpd.GeoDataFrame) and ctx.area_bounds is not None and len(out):
        minx, miny, maxx, maxy = _with_margin(ctx.area_bounds)
        x, y = _points_4326(out)
        with np.errstate(invalid="ignore"):
            inside = (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)
            flipped = (y >= minx) & (y <= maxx) & (x >= miny) & (x <= maxy)
        outside = np.isfinite(x) & np.isfinite(y) & ~inside
        swapped = outside & flipped
    far = outside & ~swapped
    allowed = far if allow_outside_area else np.zeros(len(out), dtype=bool)
    check = dataclasses.replace(ctx, area_bounds=None) if allowed.any() else ctx
    clean, errors = validation.validate_frame(layer, out, context=check)
    if allowed.any():  # without the area, the validator no longer sees swapped points: ask it about those
        x, y = _points_4326(out)
        for i in np.flatnonzero(swapped):
            try:
                validation.validate_record(layer, {"lon": float(x[i]), "lat": float(y[i])}, context=ctx, partial=True)
            except validation.ValidationError as exc:
                errors.append(f"row {i + 1}: {str(exc).rstrip('.')}")
    labels = np.asarray(out.index)
    if len(labels) and not np.array_equal(labels, np.arange(len(labels))):  # rows were skipped: the file's numbers
        errors = [re.sub(r"^row (\d+):", lambda m: f"row {int(labels[int(m.group(1)) - 1]) + 1}:", e) for e in errors]
    report.errors += errors
    if far.any():
        msg = (
            f"{int(far.sum())} feature(s) lie outside this store's area ({_where(_with_margin(ctx.area_bounds))}; "
            f"{_rows(out.index[far])})"
        )
        if allow_outside_area:
            report.warnings.append(msg + "; imported anyway (--allow-outside-area)")
        else:
            report.errors.append(msg + "; check the CRS, or import them with --allow-outside-area")
    return clean


def _map_types(
    out: pd.DataFrame,
    report: ImportReport,
    *,
    ctx: validation.Context,
    type_id: str | None,
    type_map: dict[str, str],
    add_types_to: str | None,
) -> tuple[pd.DataFrame, schema.Taxonomy]:
    """Map the file's type values onto the taxonomy (``type_id``, ``type_map``, new types on request).

    Returns the frame (types mapped; the validator resolves and checks them) and the taxonomy to
    validate with (the store's, plus any new types).
    """
    tax = ctx.taxonomy
    if type_id is not None:  # one type for the whole file: refused as any unknown type is
        out["type"] = validation.validate_record("assets", {"type": type_id}, context=ctx, partial=True)["type"]
    bad_targets = sorted({t for t in type_map.values() if t not in tax.types})
    if bad_targets:
        report.errors.append(
            f"type mapping names unknown type(s) {', '.join(bad_targets)}; use ids such as {', '.join(list(tax.types)[:5])}"
        )
    if "type" not in out:
        return out, tax  # the validator says every row needs a type
    given = out["type"].map(
        lambda v: None if v is None or (isinstance(v, float) and v != v) or not str(v).strip() else str(v).strip()
    )
    mapped = given.map(lambda v: v if v is None else type_map.get(v, v))
    unknown = sorted(v for v in set(mapped.dropna()) if _unknown_type(v, ctx))
    if unknown:
        report.unknown_types = unknown
        if add_types_to:
            category = tax.category(add_types_to)
            new_ids = {v: re.sub(r"[^a-z0-9]+", "_", v.lower()).strip("_") for v in unknown}
            mapped = mapped.map(lambda v: new_ids.get(v, v))
            report.new_types = sorted(set(new_ids.values()))
            report.warnings.append(
                f"new type(s) added to the taxonomy under {add_types_to}: {', '.join(report.new_types)}"
            )
            added = {
                t: schema.AssetType(id=t, label=_new_type_label(t), category=add_types_to, traits=(), themes=(),
                                    colour=category.colour, icon="circle")
                for t in report.new_types
            }  # fmt: skip
            tax = dataclasses.replace(tax, types={**tax.types, **added})
        else:
            report.errors.append(
                f"unknown type(s): {', '.join(map(repr, unknown))}; map them to known types (e.g. --map-type '{unknown[0]}=community_centre') "
                "or add them to the taxonomy (--add-types CATEGORY)"
            )
    out["type"] = mapped.where(mapped.notna(), out["type"])  # empty ones stay as given: the validator names them
    return out, tax


def _unknown_type(value: str, ctx: validation.Context) -> bool:
    """Whether the validator refuses ``value`` as a type the taxonomy does not have."""
    try:
        validation.validate_record("assets", {"type": value}, context=ctx, partial=True)
    except validation.UnknownTypeError:
        return True
    except validation.ValidationError:
        return False  # a known type refused for another reason: the validator will say why
    return False


def _new_type_label(type_id: str) -> str:
    return type_id.replace("_", " ").capitalize()


def _skip_duplicates(
    out: gpd.GeoDataFrame, existing: gpd.GeoDataFrame, report: ImportReport, allow_duplicates: bool
) -> gpd.GeoDataFrame:
    ex = existing[_present(existing.geometry)].to_crs(schema.METRIC_CRS)
    new = out.to_crs(schema.METRIC_CRS)
    if ex.empty:
        return out
    # An asset of another type with the same name in the same building (the dental practice of a
    # health centre beside its GP practice) is not a duplicate: types must match when both have one.
    typed = "type" in new.columns and "type" in ex.columns
    cols = ["name", "type"] if typed else ["name"]
    pairs = gpd.sjoin(  # every existing feature within the distance, not only the nearest
        new[[*cols, new.geometry.name]].reset_index(names="_row"),
        ex[[*cols, ex.geometry.name]].rename(columns={c: f"{c}_existing" for c in cols}),
        predicate="dwithin",
        distance=DUPLICATE_DISTANCE_M,
    )
    same = pairs[
        pairs["name"].astype(str).str.casefold().str.strip()
        == pairs["name_existing"].astype(str).str.casefold().str.strip()
    ]
    if typed:
        same = same[same["type"].isna() | same["type_existing"].isna() | (same["type"] == same["type_existing"])]
    rows = sorted(set(same["_row"]))
    if not rows:
        return out
    names = [str(out.loc[r, "name"]) for r in rows]
    if allow_duplicates:
        report.warnings.append(
            f"{len(rows)} likely duplicate(s) imported anyway (--allow-duplicates): {', '.join(names[:5])}"
        )
        return out
    report.duplicates = names
    report.warnings.append(
        f"{len(rows)} likely duplicate(s) skipped (same name and type within {DUPLICATE_DISTANCE_M:.0f} m of an existing feature): "
        f"{', '.join(names[:5])}{' ...' if len(names) > 5 else ''}; import them with --allow-duplicates"
    )
    return out.drop(index=rows)


# --------------------------------------------------------------------------------------------
# Step 3: writing, all or nothing
# --------------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    layer: str
    imported: int
    ids: list[str]
    report: ImportReport

    def as_dict(self) -> dict:
        return {"layer": self.layer, "imported": self.imported, "ids": self.ids, "report": self.report.as_dict()}


def apply_import(
    store: Store,
    plan: ImportPlan,
    *,
    actor: str | auth.Principal,
    row_limits: Mapping[auth.Role, int | None] | None = None,
) -> ImportResult:
    """Write a validated plan in one transaction, with one audit entry per feature.

    Rows are inserted (nothing already in the layer is rewritten). New asset types the plan adds
    go into the store's ``taxonomy`` layer in the same transaction, audited like any change.
    Raises :class:`ImportFileError` (and writes nothing) if the plan has errors.

    Who may import what (:mod:`geo.auth`): editors import into any layer, up to the editors' row
    limit; admins any number of rows (up to ``$COMMON_GROUND_MAX_IMPORT_ROWS``) and new asset
    types; a contributor may propose *assets* from a file, up to the contributors' row limit, and
    they land ``pending`` for an editor to check one by one. ``row_limits`` are the roles file's
    (default :data:`geo.auth.DEFAULT_ROW_LIMITS`). A plain-name actor is a trusted local caller.

    Raises
    ------
    geo.errors.PermissionDeniedError
        The actor may not import this, or this many rows; nothing is written.
    """
    if not plan.report.ok:
        raise ImportFileError("The file was not imported: " + "; ".join(plan.report.errors) + ".")
    principal = auth.as_principal(actor)
    pending = _check_import_allowed(principal, plan, {**auth.DEFAULT_ROW_LIMITS, **(row_limits or {})})
    actor = validation.require_actor(principal.actor)
    layer = plan.layer
    new = plan.frame
    if pending:
        new = new.assign(status="pending")
    if isinstance(new, gpd.GeoDataFrame):
        new = new.to_crs(schema.STORAGE_CRS)
    with store.transaction(actor=actor) as tx:
        if plan.taxonomy_additions:
            _add_types(tx, plan.taxonomy_additions)
        stored = tx.insert(layer, new)
        shapes = plan.outlines
        if shapes is not None and len(shapes):  # with their assets, in the same transaction
            shapes = shapes[shapes["id"].isin(set(new["id"].astype(str)))]
            for row in tx.insert(outlines.LAYER, shapes):
                g = row.get("geometry")
                tx.audit(
                    "import",
                    outlines.LAYER,
                    str(row["id"]),
                    None,
                    {"id": row["id"], "geometry_wkt": g.wkt if g is not None else None},
                )
        if layer == "measure_updates":  # a measure's current value follows its latest recorded value
            _refresh_current_values(tx, new)
        for row in stored:
            after = {k: _audit_value(v) for k, v in row.items() if k != "geometry"}
            g = row.get("geometry")
            if g is not None:
                after["geometry_wkt"] = g.wkt
            tx.audit("import", layer, str(row.get("id") or ""), None, after)
    ids = [str(i) for i in new["id"]] if "id" in new.columns else []
    return ImportResult(layer=layer, imported=len(new), ids=ids, report=plan.report)


def _check_import_allowed(principal: auth.Principal, plan: ImportPlan, limits: Mapping[auth.Role, int | None]) -> bool:
    """Refuse an import the principal may not make; return whether its rows land as pending."""
    rows = len(plan.frame)
    if plan.taxonomy_additions:
        auth.require(principal, "taxonomy")
    if principal.can("import"):
        limit = None if principal.can("bulk_import") else limits.get(auth.Role.EDITOR)
        if limit is not None and rows > limit:
            raise PermissionDeniedError(
                f"This file has {rows:,} rows and editors import at most {limit:,} at once; split it into smaller "
                "files, or ask an admin, who can import bigger ones.",
                action="import",
                role=principal.role.label,
            )
        return False
    if principal.can("contribute") and plan.layer == "assets":
        limit = limits.get(auth.Role.CONTRIBUTOR) or 0
        if rows > limit:
            raise PermissionDeniedError(
                f"This file has {rows:,} rows and contributors propose at most {limit:,} assets at once; send a "
                "smaller file, or ask an editor to import it.",
                action="import",
                role=principal.role.label,
            )
        return True
    if principal.can("contribute"):
        raise PermissionDeniedError(
            f"Contributors can propose assets from a file, not {plan.layer}; choose the assets layer, or ask an "
            "editor to import it.",
            action="import",
            role=principal.role.label,
        )
    auth.require(principal, "upload")  # an anonymous visitor: raises
    return False


def _audit_value(v: object) -> object:
    if isinstance(v, (list, tuple, dict, set)):
        return list(v) if isinstance(v, (set, tuple)) else v
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v


def _refresh_current_values(tx, updates: pd.DataFrame) -> None:
    """Set each measure's ``current`` to its latest recorded value (old and new updates together)."""
    ids = sorted({str(i) for i in updates["measure_id"].dropna()})
    if not ids:
        return
    history = tx.read("measure_updates", where={"measure_id": ids})
    latest = history.sort_values("recorded_on", kind="stable").groupby("measure_id")["value"].last()
    for mid, value in latest.items():
        if tx.read("success_measures", ids=[str(mid)], columns=["id"]).empty:
            continue
        before, after = tx.update("success_measures", str(mid), {"current": float(value)})
        tx.audit("update", "success_measures", str(mid), {"current": before["current"]},
                 {"current": after["current"], "version": after["version"]})  # fmt: skip


def _add_types(tx, additions: list[dict]) -> None:
    """Add new asset types to the store's taxonomy (in the import's transaction, audited)."""
    rows = tx.read("taxonomy")
    doc = schema.taxonomy_doc(rows)
    known = {t["id"] for t in doc["types"]}
    colours = {c["id"]: c["colour"] for c in doc["categories"]}
    fresh = []
    for a in additions:
        if a["id"] not in known:
            entry = {"id": a["id"], "label": a["label"], "category": a["category"], "traits": [], "themes": [],
                     "colour": colours[a["category"]], "icon": "circle"}  # fmt: skip
            doc["types"].append(entry)
            fresh.append(entry)
    schema.parse_taxonomy(doc)  # still valid
    if not fresh:
        return
    new_rows = schema.taxonomy_rows({**doc, "types": fresh})
    new_rows = new_rows[new_rows["kind"] == "type"]
    for row in tx.insert("taxonomy", new_rows):
        tx.audit("create", "taxonomy", row["id"], None, {k: _audit_value(v) for k, v in row.items()})


def import_file(
    path: str | os.PathLike,
    *,
    layer: str,
    store: Store,
    actor: str,
    dry_run: bool = False,
    **options,
) -> ImportResult:
    """Read, plan and (unless ``dry_run``) apply an import: the command line's one call."""
    read_opts = {k: options.pop(k) for k in ("source_layer", "crs", "encoding", "limits") if k in options}
    postcodes = postcode_index(store)  # the store's table, then Great Britain's
    try:
        heard: list[str] = []
        with _library_warnings(heard):
            up = read_upload(path, postcodes=postcodes, **read_opts)
            plan = plan_import(up, layer=layer, store=store, actor=actor, **options)
        plan.report.notes += [n for n in heard if n not in plan.report.notes]
        if dry_run or not plan.report.ok:
            if not plan.report.ok:
                raise ImportFileError(f"{up.name} was not imported: " + "; ".join(plan.report.errors) + ".")
            return ImportResult(layer=layer, imported=0, ids=[], report=plan.report)
        return apply_import(store, plan, actor=actor)
    except ImportFileError as exc:  # one sentence on one line, whatever the file's names and values hold
        raise ImportFileError(" ".join(str(exc).split())) from None


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


__all__ = [
    "DEFAULT_LIMITS",
    "ImportFileError",
    "ImportLimits",
    "ImportPlan",
    "ImportReport",
    "ImportResult",
    "Upload",
    "apply_import",
    "copy_upload",
    "import_file",
    "plan_import",
    "read_upload",
    "suggest_mapping",
]


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


IMPORTABLE_LAYERS = (
    "assets",
    "organisations",
    "organisation_areas",
    "aspirations",
    "success_measures",
    "measure_updates",
    "stories",
    "wards",
    "lsoas",
    "neighbourhoods",
    "population",
)
