"""A standalone HTML map of the exported features."""

from __future__ import annotations

import os

import geopandas as gpd
import pandas as pd

from geo import schema
from geo.errors import ExportError
from geo.io.exports._common import atomic_target
from geo.io.exports.styles import geometry_kind
from geo.schema import Taxonomy
from geo.web import maps


def write_html(
    frame: gpd.GeoDataFrame,
    path: str | os.PathLike,
    *,
    taxonomy: Taxonomy | None = None,
    layer_name: str = "features",
    boundaries: gpd.GeoDataFrame | None = None,
    boundary_name: str = "Boundaries",
    tiles: str = maps.DEFAULT_TILES,
    outlines: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
) -> None:
    """Write a standalone HTML map of ``frame`` atomically (opens from disk; only tiles need a network).

    Points are drawn as the explorer map draws assets, one clustered layer per ``type`` (or ``kind``,
    else the layer name) with the taxonomy's colours; polygons are drawn as a boundary layer. Every
    name reaches the page as text (see :mod:`geo.web.maps`).

    Parameters
    ----------
    frame
        The features to map (points or polygons).
    boundaries
        Polygons to draw under points (e.g. the area the export was filtered to).
    tiles
        A key of :data:`geo.web.maps.TILE_SOURCES`; ``"none"`` for a map that needs no network at all.
    outlines
        Asset outlines (``id`` and geometry, or a GeoSeries by id): drawn from close zooms for the
        points of ``frame`` that have one (:func:`geo.web.maps.outline_layer`).
    """
    if not isinstance(frame, gpd.GeoDataFrame):
        raise ExportError("A map needs geometry; export a table as csv or gpkg instead.")
    tax = taxonomy or schema.load_taxonomy()
    kind = geometry_kind(frame)
    if kind == "polygon":
        points = schema.empty_layer("assets")
        boundaries, boundary_name = frame, layer_name
    elif kind in ("point", None):
        points = _as_map_points(frame, layer_name)
    else:
        raise ExportError("Only points and areas can be drawn on the HTML map; export lines as gpkg or geojson.")
    fmap = maps.explorer_map(points, taxonomy=tax, boundaries=boundaries, boundary_name=boundary_name, tiles=tiles)
    if outlines is not None and len(outlines) and "id" in points.columns:
        maps.outline_layer(points, outlines, taxonomy=tax).add_to(fmap)
    page = maps.standalone_html(fmap).encode("utf-8")
    with atomic_target(path) as tmp:
        tmp.write_bytes(page)


def _as_map_points(frame: gpd.GeoDataFrame, layer_name: str) -> gpd.GeoDataFrame:
    if "name" in frame.columns and "type" in frame.columns:
        return frame
    pts = gpd.GeoDataFrame(index=frame.index, geometry=frame.geometry, crs=frame.crs)
    pts["id"] = frame["id"] if "id" in frame.columns else pd.Series(range(len(frame)), index=frame.index).astype(str)
    label = "name" if "name" in frame.columns else "title" if "title" in frame.columns else None
    pts["name"] = frame[label] if label else pts["id"]
    if "type" in frame.columns:
        pts["type"] = frame["type"]
    elif "kind" in frame.columns:
        pts["type"] = frame["kind"].fillna(layer_name)
    else:
        pts["type"] = layer_name
    for col in maps.DETAIL_FIELDS:
        if col in frame.columns:
            pts[col] = frame[col]
    return pts
