"""GeoPackage: the exported layer and its boundary context, with QGIS styles."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping

import geopandas as gpd
import pandas as pd
import pyogrio

from geo import schema
from geo.errors import ExportError
from geo.io.exports._common import atomic_target, has_geometry, in_storage_crs, via_file
from geo.io.exports.styles import LayerStyle, geometry_kind, style_for_layer, write_layer_styles
from geo.schema import STORAGE_CRS, Taxonomy

GPKG_VERSION = "1.2"


def gpkg_bytes(layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame], *, taxonomy: Taxonomy | None = None) -> bytes:
    """A GeoPackage of ``layers`` with QGIS styles, as bytes (see :func:`write_gpkg`)."""
    return via_file(lambda p: write_gpkg(layers, p, taxonomy=taxonomy), ".gpkg")


def _gpkg_geometry_type(name: str, frame: gpd.GeoDataFrame) -> tuple[str, bool]:
    if name == schema.OUTLINES_LAYER:  # parks and routes together: a generic geometry column
        kinds = set(frame.geometry[has_geometry(frame.geometry)].geom_type)
        if kinds and kinds <= {"Polygon", "MultiPolygon"}:
            return "MultiPolygon", True
        if kinds and kinds <= {"LineString", "MultiLineString"}:
            return "MultiLineString", True
        return "Unknown", False
    kind = geometry_kind(frame)
    if kind is None:
        spec = schema.LAYERS.get(name)
        kind = spec.geometry.lower() if spec and spec.geometry else None
    if kind == "polygon":
        return "MultiPolygon", True
    if kind == "line":
        return "MultiLineString", True
    if kind == "point":
        kinds = set(frame.geometry[has_geometry(frame.geometry)].geom_type)
        return ("MultiPoint", True) if "MultiPoint" in kinds else ("Point", False)
    return "Unknown", False


def write_gpkg(
    layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame],
    path: str | os.PathLike,
    *,
    taxonomy: Taxonomy | None = None,
    crs: str = STORAGE_CRS,
) -> dict[str, int]:
    """Write several layers to one new GeoPackage, with QGIS default styles, atomically.

    Parameters
    ----------
    layers
        ``{layer name: frame}``; GeoDataFrames become spatial layers (EPSG:4326, spatial index),
        DataFrames become attribute tables.
    path
        The ``.gpkg`` to create (replaced if it exists).
    taxonomy
        Gives asset types their colours and labels; default :func:`geo.schema.load_taxonomy`.
    crs
        The CRS of the spatial layers (default EPSG:4326; EPSG:27700 for British National Grid).

    Returns
    -------
    dict
        Features written per layer.
    """
    if not layers:
        raise ExportError("There is nothing to write; give at least one layer.")
    if "layer_styles" in layers:
        raise ExportError("'layer_styles' is the QGIS style table's name; give the layer another name.")
    tax = taxonomy or schema.load_taxonomy()
    counts: dict[str, int] = {}
    with atomic_target(path) as tmp:
        styles: list[tuple[LayerStyle, str]] = []
        for name, frame in layers.items():
            spec = schema.LAYERS.get(name)
            options = {"DESCRIPTION": spec.description} if spec and spec.description else {}
            # GeoPackage 1.2 when the file is created: GDAL < 3.7 (e.g. QGIS 3.22 on Debian 12) warns on 1.4
            created = {} if tmp.exists() else {"VERSION": GPKG_VERSION}
            if isinstance(frame, gpd.GeoDataFrame):
                out = in_storage_crs(frame, crs)
                gtype, promote = _gpkg_geometry_type(name, out)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    pyogrio.write_dataframe(
                        out, tmp, layer=name, driver="GPKG", geometry_type=gtype, promote_to_multi=promote,
                        spatial_index=True, layer_options=options, dataset_options=created,
                    )  # fmt: skip
                style = style_for_layer(name, out, taxonomy=tax)
                if style is not None:
                    geom_column = pyogrio.read_info(tmp, layer=name)["geometry_name"]
                    styles.append((style, str(geom_column)))
            else:
                pyogrio.write_dataframe(
                    pd.DataFrame(frame), tmp, layer=name, driver="GPKG", layer_options=options, dataset_options=created
                )
            counts[name] = int(len(frame))
        write_layer_styles(tmp, styles)
    return counts
