"""CSV (``lon``/``lat`` columns for points, formula-safe cells) and GeoJSON (RFC 7946); and reading CSV back."""

from __future__ import annotations

import io
import os

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.io.exports._common import atomic_target, check_crs, has_geometry, in_storage_crs
from geo.schema import STORAGE_CRS
from geo.textsafe import defuse_formula, restore_formula


def csv_bytes(frame: gpd.GeoDataFrame | pd.DataFrame, *, crs: str = STORAGE_CRS) -> bytes:
    """UTF-8 CSV (with BOM, so Excel reads accents); points get ``lon`` and ``lat`` columns (or
    ``easting`` and ``northing`` in metres, to the centimetre, when ``crs`` is EPSG:27700).

    Points without a location get empty ``lon``/``lat``; other geometries are left out (the CSV then
    holds attributes only). Cells starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return
    (after any quotes) are prefixed with ``'`` so that a spreadsheet does not run them as formulas
    (CSV injection); :func:`read_csv_export` removes exactly that prefix again.
    """
    is_geo = isinstance(frame, gpd.GeoDataFrame)
    out = pd.DataFrame(frame.drop(columns=[frame.geometry.name])) if is_geo else frame.copy()
    if is_geo and len(frame):
        g = in_storage_crs(frame, crs).geometry
        located = has_geometry(g)
        if located.any() and (g[located].geom_type == "Point").all():
            lon = pd.Series(np.nan, index=frame.index)
            lat = pd.Series(np.nan, index=frame.index)
            lon[located] = g[located].x
            lat[located] = g[located].y
            degrees = check_crs(crs) == STORAGE_CRS
            x_name, y_name, digits = ("lon", "lat", 7) if degrees else ("easting", "northing", 2)
            out[x_name] = lon.round(digits)
            out[y_name] = lat.round(digits)
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(defuse_formula)
    return out.to_csv(index=False).encode("utf-8-sig")


def geojson_bytes(frame: gpd.GeoDataFrame) -> bytes:
    """GeoJSON (RFC 7946, EPSG:4326) as UTF-8 bytes."""
    return in_storage_crs(frame).to_json(drop_id=True, ensure_ascii=False).encode("utf-8")


def write_geojson(frame: gpd.GeoDataFrame, path: str | os.PathLike) -> None:
    """Write :func:`geojson_bytes` of ``frame`` to ``path`` atomically."""
    data = geojson_bytes(frame)
    with atomic_target(path) as tmp:
        tmp.write_bytes(data)


def write_csv(frame: gpd.GeoDataFrame | pd.DataFrame, path: str | os.PathLike, *, crs: str = STORAGE_CRS) -> None:
    """Write :func:`csv_bytes` of ``frame`` to ``path`` atomically."""
    data = csv_bytes(frame, crs=crs)
    with atomic_target(path) as tmp:
        tmp.write_bytes(data)


def read_csv_export(source: str | os.PathLike | bytes) -> gpd.GeoDataFrame | pd.DataFrame:
    """Read a CSV written by :func:`csv_bytes` back: the formula guard removed, ``lon``/``lat`` as points.

    Every column comes back as text (a CSV carries no types; ids and postcodes keep leading zeros),
    with empty cells as missing. When ``lon`` and ``lat`` are present they become the geometry
    (EPSG:4326; rows without them get none) and are dropped as columns; ``easting`` and ``northing``
    likewise, in EPSG:27700.
    """
    buf = io.BytesIO(source) if isinstance(source, bytes) else source
    frame = pd.read_csv(buf, encoding="utf-8-sig", dtype=str, keep_default_na=False, na_values=[""])
    frame = frame.astype(object).where(frame.notna(), None)
    for col in frame.columns:
        frame[col] = frame[col].map(restore_formula)
    if "lon" in frame.columns and "lat" in frame.columns:
        lon = pd.to_numeric(frame["lon"], errors="coerce")
        lat = pd.to_numeric(frame["lat"], errors="coerce")
        ok = lon.notna() & lat.notna()
        geoms = [shapely.Point(x, y) if k else None for x, y, k in zip(lon, lat, ok, strict=True)]
        return gpd.GeoDataFrame(frame.drop(columns=["lon", "lat"]), geometry=geoms, crs=STORAGE_CRS)
    if "easting" in frame.columns and "northing" in frame.columns:  # written with crs="EPSG:27700"
        x = pd.to_numeric(frame["easting"], errors="coerce")
        y = pd.to_numeric(frame["northing"], errors="coerce")
        ok = x.notna() & y.notna()
        geoms = [shapely.Point(a, b) if k else None for a, b, k in zip(x, y, ok, strict=True)]
        return gpd.GeoDataFrame(frame.drop(columns=["easting", "northing"]), geometry=geoms, crs="EPSG:27700")
    return frame
