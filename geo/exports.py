"""Writing layers out for people and other tools.

This module grows with the import/export issue (GeoPackage with QGIS styles, Shapefile, KML). For
now: CSV with lon/lat columns, GeoJSON, and the standalone HTML map, each returned as bytes so a
page can offer it for download and the command line can write it to a file.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geo.errors import CRSError
from geo.schema import STORAGE_CRS


def _in_storage_crs(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise CRSError("The layer has no CRS; set one with .set_crs() before exporting.")
    return frame.to_crs(STORAGE_CRS)


def csv_bytes(frame: gpd.GeoDataFrame | pd.DataFrame) -> bytes:
    """UTF-8 CSV (with BOM, so Excel reads accents); points get ``lon`` and ``lat`` columns.

    Cells starting with ``=``, ``+``, ``-`` or ``@`` are prefixed with ``'`` so that a spreadsheet
    does not run them as formulas (CSV injection).
    """
    out = pd.DataFrame(frame.drop(columns=[frame.geometry.name])) if isinstance(frame, gpd.GeoDataFrame) else frame.copy()
    if isinstance(frame, gpd.GeoDataFrame) and len(frame):
        g = _in_storage_crs(frame).geometry
        if (g.geom_type == "Point").all():
            out["lon"] = g.x.round(7)
            out["lat"] = g.y.round(7)
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype).startswith("string"):
            out[col] = out[col].map(_defuse_formula)
    return out.to_csv(index=False).encode("utf-8-sig")


def _defuse_formula(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def geojson_bytes(frame: gpd.GeoDataFrame) -> bytes:
    """GeoJSON (RFC 7946, EPSG:4326) as UTF-8 bytes."""
    return _in_storage_crs(frame).to_json(drop_id=True, ensure_ascii=False).encode("utf-8")
