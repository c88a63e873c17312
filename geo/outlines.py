"""Assets with shapes: a park, allotments or school grounds is an area, a trail is a line.

An asset always keeps **a point** in the ``assets`` layer: for a shape, its representative point
(:func:`shapely.representative_point`, always inside a polygon and on a line), which clustering,
counts per area, nearest and gaps use like any other point. Its **outline** lives in the
``asset_outlines`` layer (:data:`geo.schema.OUTLINES_LAYER`): one row per asset, ``id`` = the
asset's id, geometry a MultiPolygon or MultiLineString, 2D, EPSG:4326. An import writes both in one
transaction (:func:`geo.io.imports.apply_import`).

Consistency with the asset's life: assets are never deleted, only given a status (removed,
rejected, closed), and undo changes the status back. So an outline is never deleted either: every
reader takes outlines *for the assets it shows* (:func:`outlines_for`), so the outline of a removed
asset is hidden with it and comes back with an undo.

Stores made before outlines existed (the demo GeoPackage) have no ``asset_outlines`` layer: readers
take a missing layer as empty (:func:`read_outlines`), and the first import with shapes creates it.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiLineString, MultiPolygon
from shapely.geometry.base import BaseGeometry

from geo import schema
from geo.errors import ImportFileError

LAYER = schema.OUTLINES_LAYER

_POLYGONAL = {"Polygon", "MultiPolygon"}
_LINEAL = {"LineString", "MultiLineString", "LinearRing"}


def empty_outlines() -> gpd.GeoSeries:
    """No outlines: an empty GeoSeries indexed by asset id, in EPSG:4326."""
    return gpd.GeoSeries([], index=pd.Index([], dtype=object, name="id"), crs=schema.STORAGE_CRS, name="outline")


def normalise_outline(geom: BaseGeometry | None) -> BaseGeometry | None:
    """An outline as the store keeps it: 2D, valid, a MultiPolygon or a MultiLineString.

    Polygons are repaired with ``make_valid`` and keep only their polygonal parts; lines keep their
    lineal parts. Returns ``None`` for a missing or empty geometry, a point, or anything with no
    area or length left.
    """
    if geom is None or geom.is_empty:
        return None
    geom = shapely.force_2d(geom)
    kind = geom.geom_type
    if kind in _POLYGONAL:
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        parts = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type in _POLYGONAL and not g.is_empty]
        polys = [p for g in parts for p in getattr(g, "geoms", [g])]
        return MultiPolygon(polys) if polys else None
    if kind in _LINEAL:
        lines = [
            shapely.LineString(g.coords) if g.geom_type == "LinearRing" else g for g in getattr(geom, "geoms", [geom])
        ]
        lines = [g for g in lines if not g.is_empty and g.length > 0]
        return MultiLineString(lines) if lines else None
    return None


def split_shapes(geoms: gpd.GeoSeries, *, name: str) -> tuple[gpd.GeoSeries, gpd.GeoSeries | None, list[str]]:
    """Points for the ``assets`` layer and outlines for the shapes, from an upload's geometries.

    Parameters
    ----------
    geoms
        The upload's geometries (any CRS): points, polygons, lines, or a mix.
    name
        The file's name, for the refusal.

    Returns
    -------
    tuple
        ``(points, outlines, notes)``: points and outlines on ``geoms``' index, both in ``geoms``'
        CRS: each polygon or line replaced by its representative point, and its normalised outline
        (:func:`normalise_outline`) where there was a shape (missing elsewhere); ``outlines`` is
        ``None`` when the file holds points only. A MultiPoint of one point becomes that point. A
        shape with no area or length left (a pylon drawn as a vertical line, a polygon of one
        repeated corner) becomes a point at its first corner, without an outline, and ``notes``
        says how many did.

    Raises
    ------
    geo.errors.ImportFileError
        The file holds geometry collections or multipoints of several points, which are not one place.
    """
    arr = np.asarray(geoms.array, dtype=object)
    present = shapely.is_geometry(arr) & ~shapely.is_empty(arr)
    kinds = np.full(len(arr), "", dtype=object)
    kinds[present] = shapely.get_type_id(arr[present])
    type_names = {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString",
                  6: "MultiPolygon", 7: "GeometryCollection"}  # fmt: skip
    names = np.array([type_names.get(k, "") if k != "" else "" for k in kinds], dtype=object)
    single = np.zeros(len(arr), dtype=bool)
    single[present] = shapely.get_num_geometries(arr[present]) == 1
    odd = present & ((names == "GeometryCollection") | ((names == "MultiPoint") & ~single))
    if odd.any():
        words = sorted({"geometry collections" if n == "GeometryCollection" else "multipoints" for n in names[odd]})
        raise ImportFileError(
            f"{name} holds {' and '.join(words)} ({int(odd.sum())} of {int(present.sum())} features), which are not one "
            "place each; split them into single parts first (in QGIS: Vector > Geometry Tools > Multipart to "
            "Singleparts), then import the file again."
        )
    shaped = present & np.isin(names, list(_POLYGONAL | _LINEAL))
    points = arr.copy()
    multi_one = present & (names == "MultiPoint") & single
    if multi_one.any():
        points[multi_one] = shapely.get_geometry(arr[multi_one], 0)
    notes: list[str] = []
    if not shaped.any():
        out = gpd.GeoSeries(points, index=geoms.index, crs=geoms.crs)
        return out, None, notes
    shapes = np.full(len(arr), None, dtype=object)
    shapes[shaped] = [normalise_outline(g) for g in arr[shaped]]
    collapsed = shaped & np.array([s is None for s in shapes])
    if collapsed.any():  # no area or length: where it is, is all it says
        first = [shapely.get_coordinates(shapely.force_2d(g))[0] for g in arr[collapsed]]
        points[collapsed] = shapely.points(np.array(first))
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(collapsed)[:6])
        notes.append(
            f"{int(collapsed.sum())} shape(s) had no area or length in 2D (rows {rows}) and were imported as points "
            "without an outline"
        )
    kept = shaped & ~collapsed
    if kept.any():
        points[kept] = shapely.point_on_surface(shapes[kept])
    return (
        gpd.GeoSeries(points, index=geoms.index, crs=geoms.crs),
        gpd.GeoSeries(shapes, index=geoms.index, crs=geoms.crs, name="outline") if kept.any() else None,
        notes,
    )


def outline_rows(ids: Sequence[str], outlines: gpd.GeoSeries) -> gpd.GeoDataFrame:
    """The ``asset_outlines`` rows for assets ``ids`` and their outlines (same order; ``None`` skipped)."""
    frame = gpd.GeoDataFrame(
        {"id": [str(i) for i in ids]}, geometry=list(outlines.to_numpy()), crs=outlines.crs or schema.STORAGE_CRS
    )
    frame = frame[frame.geometry.notna()].to_crs(schema.STORAGE_CRS)
    return frame.reset_index(drop=True)


def read_outlines(store, *, ids: Sequence[str] | None = None) -> gpd.GeoSeries:
    """The outlines a store holds, indexed by asset id, in EPSG:4326 (empty when it has none).

    Parameters
    ----------
    store
        A :class:`geo.store.base.Store` (or a transaction).
    ids
        Only these assets' outlines.

    A store without the ``asset_outlines`` layer (made before outlines existed) has none. The
    outlines of every asset are returned, removed ones included: take them *for* the assets to show
    with :func:`outlines_for`.
    """
    if not store.has_layer(LAYER):
        return empty_outlines()
    frame = store.read(LAYER, ids=list(ids) if ids is not None else None, columns=["id"])
    return outlines_from_frame(frame)


def outlines_from_frame(frame: pd.DataFrame | gpd.GeoSeries | None) -> gpd.GeoSeries:
    """Outlines indexed by asset id, from the ``asset_outlines`` layer's rows (or such a series)."""
    if frame is None:
        return empty_outlines()
    if isinstance(frame, gpd.GeoSeries):
        return frame
    if not isinstance(frame, gpd.GeoDataFrame) or "id" not in frame.columns or frame.empty:
        return empty_outlines()
    geoms = frame.geometry
    keep = geoms.notna().to_numpy() & ~geoms.is_empty.to_numpy()
    out = gpd.GeoSeries(
        geoms[keep].to_numpy(), index=pd.Index(frame["id"][keep].astype(str).to_numpy(), name="id"), crs=frame.crs
    )
    out = out[~out.index.duplicated(keep="last")]
    out.name = "outline"
    return out


def outlines_for(assets: pd.DataFrame, outlines: gpd.GeoSeries | pd.DataFrame | None) -> gpd.GeoSeries:
    """The outlines of the assets in ``assets`` (those it shows, by ``id``), on ``assets``' index.

    Assets without an outline get a missing value; outlines of assets not in ``assets`` (removed,
    pending, filtered out) are left out, so they are never shown or measured to.
    """
    series = outlines_from_frame(outlines)
    crs = series.crs or schema.STORAGE_CRS
    if assets is None or len(assets) == 0 or "id" not in assets.columns or series.empty:
        return gpd.GeoSeries(
            [None] * (0 if assets is None else len(assets)), index=None if assets is None else assets.index, crs=crs
        )
    values = series.reindex(assets["id"].astype(str).to_numpy()).to_numpy()
    return gpd.GeoSeries(values, index=assets.index, crs=crs, name="outline")


def shown_outlines(assets: pd.DataFrame, outlines: gpd.GeoSeries | pd.DataFrame | None) -> gpd.GeoDataFrame:
    """The ``asset_outlines`` rows of the assets in ``assets`` (``id`` and geometry), in their order."""
    aligned = outlines_for(assets, outlines)
    keep = aligned.notna().to_numpy()
    if not keep.any():
        return gpd.GeoDataFrame({"id": pd.Series([], dtype=object)}, geometry=gpd.GeoSeries([], crs=schema.STORAGE_CRS))
    return gpd.GeoDataFrame(
        {"id": assets["id"].astype(str).to_numpy()[keep]}, geometry=aligned.to_numpy()[keep], crs=aligned.crs
    ).to_crs(schema.STORAGE_CRS)
