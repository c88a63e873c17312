"""Zipped Shapefile (UTF-8) with ``fields.csv`` and ``README.txt`` giving the shortened field names;
and reading one back."""

from __future__ import annotations

import csv
import io
import os
import re
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.errors import ExportError
from geo.io.exports._common import atomic_target, in_storage_crs, via_file
from geo.io.exports.styles import geometry_kind
from geo.schema import STORAGE_CRS

DBF_NAME_CHARS = 10


DBF_TEXT_BYTES = 254


SHAPEFILE_MAPPING_FILE = "fields.csv"


SHAPEFILE_README = "README.txt"


def shapefile_zip_bytes(frame: gpd.GeoDataFrame, *, layer_name: str = "features") -> bytes:
    """A zipped Shapefile of ``frame`` as bytes (see :func:`write_shapefile_zip`)."""
    return via_file(lambda p: write_shapefile_zip(frame, p, layer_name=layer_name), ".zip")


def shapefile_field_names(columns: Sequence[str]) -> dict[str, str]:
    """Each column's name in a Shapefile's DBF table (at most 10 ASCII characters), deterministically.

    The rule, applied to the columns in order:

    1. Characters other than ASCII letters, digits and ``_`` become ``_`` (an empty name becomes ``field``).
    2. Names that then fit (10 characters or fewer, not yet taken, ignoring case) are kept as they are.
    3. Longer names are cut to their first 10 characters; if that is taken (ignoring case), to their
       first ``10 - len(suffix)`` characters plus a suffix ``_1``, ``_2``, ... (the first one free).

    Kept names are reserved before any long name is cut, so a column that fits never changes because
    of another one. The same columns always give the same names.

    Returns
    -------
    dict
        ``{column: shapefile field name}`` for every column, in order.
    """
    cleaned = {c: (re.sub(r"[^0-9A-Za-z_]", "_", str(c)) or "field") for c in columns}
    taken: set[str] = set()
    out: dict[str, str] = {}
    for col in columns:
        name = cleaned[col]
        if len(name) <= DBF_NAME_CHARS and name.lower() not in taken:
            out[col] = name
            taken.add(name.lower())
    for col in columns:
        if col in out:
            continue
        base = cleaned[col]
        candidate = base[:DBF_NAME_CHARS]
        n = 0
        while candidate.lower() in taken:
            n += 1
            suffix = f"_{n}"
            candidate = base[: DBF_NAME_CHARS - len(suffix)] + suffix
        out[col] = candidate
        taken.add(candidate.lower())
    return {c: out[c] for c in columns}


def _cut_utf8(value: object, limit: int) -> tuple[object, bool]:
    if not isinstance(value, str):
        return value, False
    data = value.encode("utf-8")
    if len(data) <= limit:
        return value, False
    return data[:limit].decode("utf-8", errors="ignore"), True


def write_shapefile_zip(
    frame: gpd.GeoDataFrame, path: str | os.PathLike, *, layer_name: str = "features", crs: str = STORAGE_CRS
) -> dict[str, str]:
    """Write ``frame`` as a zipped Shapefile (EPSG:4326 or ``crs``, UTF-8) atomically; return the field names.

    The zip holds ``<layer>.shp .shx .dbf .prj .cpg`` (the ``.cpg`` says ``UTF-8``), ``fields.csv``
    (``column,shapefile_field``: every column and its DBF name, from :func:`shapefile_field_names`)
    and ``README.txt`` (the same in words, with what the format could not keep). DBF text holds at
    most 254 bytes: longer values are cut at a character boundary and the README names the columns
    affected. The zip's entries have a fixed date, so the same data gives the same bytes. Read it back
    with :func:`read_shapefile_zip` (or ``geopandas.read_file("zip://...")`` and ``fields.csv``).

    Returns
    -------
    dict
        ``{column: shapefile field name}``.
    """
    return write_shapefile_zip_reporting_cuts(frame, path, layer_name=layer_name, crs=crs)[0]


def write_shapefile_zip_reporting_cuts(
    frame: gpd.GeoDataFrame, path: str | os.PathLike, *, layer_name: str, crs: str = STORAGE_CRS
) -> tuple[dict[str, str], list[str]]:
    """:func:`write_shapefile_zip`, also returning the columns whose text was cut to 254 bytes."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise ExportError("A Shapefile needs geometry; export a table as csv or gpkg instead.")
    out = in_storage_crs(frame, crs)
    kind = geometry_kind(out)
    if kind is None:
        raise ExportError("No feature has a location, so there is nothing to draw in a Shapefile; choose csv or gpkg.")
    geom_name = out.geometry.name
    columns = [c for c in out.columns if c != geom_name]
    mapping = shapefile_field_names(columns)
    data = pd.DataFrame(index=out.index)
    cut: list[str] = []
    for col in columns:
        series = out[col]
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            values = series.astype(object).where(series.notna(), None)
            pairs = [_cut_utf8(v, DBF_TEXT_BYTES) for v in values]
            if any(flag for _, flag in pairs):
                cut.append(col)
            data[mapping[col]] = pd.Series([v for v, _ in pairs], index=out.index, dtype=object)
        else:
            data[mapping[col]] = series
    shp = gpd.GeoDataFrame(data, geometry=out.geometry.to_numpy(), crs=out.crs)
    stem = re.sub(r"[^0-9A-Za-z_-]", "_", layer_name) or "features"
    gtype = {"point": None, "polygon": "MultiPolygon", "line": "MultiLineString"}[kind]
    with atomic_target(path) as tmp:
        parts = tmp.parent / "shp"
        parts.mkdir()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            pyogrio.write_dataframe(
                shp, parts / f"{stem}.shp", driver="ESRI Shapefile", layer=stem, geometry_type=gtype,
                promote_to_multi=gtype is not None, layer_options={"ENCODING": "UTF-8"},
            )  # fmt: skip
        cpg = parts / f"{stem}.cpg"
        cpg.write_text("UTF-8", encoding="ascii")  # what GDAL writes too; stated here, not left to a default
        mapping_csv = io.StringIO()
        writer = csv.writer(mapping_csv, lineterminator="\n")
        writer.writerow(["column", "shapefile_field"])
        writer.writerows(mapping.items())
        readme = _shapefile_readme(stem, mapping, cut, len(shp))
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                part = parts / f"{stem}{ext}"
                if part.exists():
                    _zip_add(zf, f"{stem}{ext}", part.read_bytes())
            _zip_add(zf, SHAPEFILE_MAPPING_FILE, mapping_csv.getvalue().encode("utf-8"))
            _zip_add(zf, SHAPEFILE_README, readme.encode("utf-8"))
    return mapping, cut


def _zip_add(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data)


def _shapefile_readme(stem: str, mapping: dict[str, str], cut: list[str], count: int) -> str:
    renamed = [(c, s) for c, s in mapping.items() if c != s]
    lines = [
        f"{stem}: {count} features from Common Ground, as an ESRI Shapefile.",
        "",
        "Coordinates: EPSG:4326 (longitude, latitude in degrees; see the .prj).",
        "Text encoding: UTF-8 (see the .cpg).",
        "",
        "Field names: a Shapefile's table (DBF) allows names of at most 10 characters, so longer names",
        "were shortened by a fixed rule: cut to 10 characters, or to fewer plus _1, _2, ... when the cut",
        "name was already taken; names that fit are kept. fields.csv lists every column and its field.",
    ]
    if renamed:
        width = max(len(c) for c, _ in renamed)
        lines += ["", "Shortened names (column -> field):"]
        lines += [f"  {c:<{width}}  ->  {s}" for c, s in renamed]
    lines += ["", f"Text values: a DBF text field holds at most {DBF_TEXT_BYTES} bytes."]
    if cut:
        lines.append("Values longer than that were cut in: " + ", ".join(cut) + ".")
        lines.append("For the full text use the GeoPackage or GeoJSON export.")
    else:
        lines.append("No value was longer than that.")
    return "\n".join(lines) + "\n"


def read_shapefile_zip(path: str | os.PathLike) -> gpd.GeoDataFrame:
    """Read a zip written by :func:`write_shapefile_zip`, with the original column names restored."""
    p = Path(path)
    with zipfile.ZipFile(p) as zf:
        shp = [n for n in zf.namelist() if n.lower().endswith(".shp")]
        if len(shp) != 1:
            raise ExportError(f"{p.name} should hold exactly one .shp; it holds {len(shp)}.")
        rows = list(csv.DictReader(io.StringIO(zf.read(SHAPEFILE_MAPPING_FILE).decode("utf-8"))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        frame = pyogrio.read_dataframe(f"/vsizip/{p.resolve()}/{shp[0]}")
    return frame.rename(columns={r["shapefile_field"]: r["column"] for r in rows})
