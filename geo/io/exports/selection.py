"""Choosing what to export: a layer filtered by area, asset type and status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from geo import schema
from geo.analysis import areas as analysis
from geo.analysis import profiles
from geo.errors import ExportError, LayerNotFoundError
from geo.io.exports._common import DEFAULT_STATUSES, NOT_EXPORTED, PEOPLE_COLUMNS, has_geometry
from geo.schema import Taxonomy

if TYPE_CHECKING:
    from geo.store import Store


@dataclass(frozen=True)
class Selection:
    """The features an export will write and how they were chosen (see :func:`select_features`)."""

    layer: str
    frame: gpd.GeoDataFrame | pd.DataFrame
    boundaries: str
    area: pd.Series | None = None
    areas: gpd.GeoDataFrame | None = None
    type_id: str | None = None
    statuses: tuple[str, ...] | None = None
    dropped: tuple[str, ...] = ()

    def context(self) -> gpd.GeoDataFrame | None:
        """The boundary polygons to show with the features: the one area, else the whole layer."""
        if self.areas is None:
            return None
        if self.area is not None:
            return self.areas[self.areas["id"].astype(str) == str(self.area["id"])]
        return self.areas

    def area_info(self) -> dict | None:
        """``{"layer", "id", "name"}`` of the area filtered to, or ``None``."""
        if self.area is None:
            return None
        return {"layer": self.boundaries, "id": str(self.area["id"]), "name": str(self.area["name"])}


def _exportable(store: Store) -> list[str]:
    return [n for n in store.layer_names() if n not in NOT_EXPORTED]


def _boundary_layer(store: Store, boundaries: str, *, required: bool) -> gpd.GeoDataFrame | None:
    if boundaries not in schema.BOUNDARY_LAYERS:
        valid = [n for n in schema.BOUNDARY_LAYERS if store.has_layer(n)]
        raise LayerNotFoundError(f"There is no boundary layer {boundaries!r}; choose one of: {', '.join(valid)}.")
    if not store.has_layer(boundaries):
        if not required:
            return None
        valid = [n for n in schema.BOUNDARY_LAYERS if store.has_layer(n)]
        raise LayerNotFoundError(
            f"The store has no boundary layer {boundaries!r}; choose one of: {', '.join(valid) or 'none (add one)'}."
        )
    return store.read(boundaries)


def select_features(
    store: Store,
    layer: str,
    *,
    area: str | None = None,
    boundaries: str = "lsoas",
    type_id: str | None = None,
    statuses: Sequence[str] | None = DEFAULT_STATUSES,
    include_contributors: bool = False,
    with_context: bool = False,
    taxonomy: Taxonomy | None = None,
) -> Selection:
    """The rows of ``layer`` to export, filtered by area, asset type and status.

    Parameters
    ----------
    store
        The data store.
    layer
        A layer of the store (not ``audit_log``).
    area
        An area's name or id in the ``boundaries`` layer (resolved by :func:`geo.analysis.profiles.find_area`).
        Features are kept when they lie in it the way the area profile counts them (a point on a shared
        edge belongs to one area only); polygons by their representative point (a point inside each);
        tables by their ``area_id``. Features without a location are left out.
    boundaries
        The boundary layer ``area`` is looked up in (``wards``, ``lsoas``, ``neighbourhoods``).
    type_id
        Keep only assets of this taxonomy type.
    statuses
        For ``assets``: keep these statuses (default ``active``, what the app publishes); ``None`` for all.
        Other layers with a status (stories, aspirations, measure values) keep their published rows
        unless this is ``None``.
    include_contributors
        Keep the columns naming people (:data:`PEOPLE_COLUMNS`); left out by default.
    with_context
        Also read the boundary layer when no ``area`` is given (for the GeoPackage and the map).

    Raises
    ------
    LayerNotFoundError
        The layer or the boundary layer is not in the store.
    AreaNotFoundError, TaxonomyError
        The area or the type is unknown.
    ExportError
        A filter does not apply to this layer, or nothing matched.
    """
    names = _exportable(store)
    if layer in NOT_EXPORTED:
        raise ExportError(f"The {layer!r} layer is internal and is not exported; choose one of: {', '.join(names)}.")
    if layer not in names:
        raise LayerNotFoundError(f"The store has no layer {layer!r}; choose one of: {', '.join(names)}.")
    tax = taxonomy or schema.load_taxonomy()
    areas = None
    if area is not None or with_context or boundaries not in schema.BOUNDARY_LAYERS:
        areas = _boundary_layer(store, boundaries, required=area is not None)
    frame = store.read(layer)
    used_statuses: tuple[str, ...] | None = None
    if layer == "assets" and statuses is not None:
        used_statuses = tuple(statuses)
        bad = [s for s in used_statuses if s not in schema.ASSET_STATUSES]
        if bad:
            raise ExportError(
                f"Unknown asset status {bad[0]!r}; choose from: {', '.join(schema.ASSET_STATUSES)} (or all)."
            )
        frame = frame[frame["status"].fillna("active").isin(used_statuses).to_numpy()]
    elif statuses is not None:  # stories, aspirations, values: pending or rejected ones never go out
        frame = schema.visible_rows(frame)
    if type_id is not None:
        if "type" not in frame.columns:
            raise ExportError(f"Layer {layer!r} has no asset types; leave out the type filter or export assets.")
        type_id = tax.type(type_id).id
        frame = frame[(frame["type"] == type_id).fillna(False).to_numpy()]
    row = None
    if area is not None:
        row = profiles.find_area(areas, area, layer=boundaries)
        frame = _in_area(frame, layer, row, areas, boundaries)
    dropped: tuple[str, ...] = ()
    if not include_contributors:
        dropped = tuple(c for c in PEOPLE_COLUMNS if c in frame.columns)
        frame = frame.drop(columns=list(dropped))
    if frame.empty:
        raise ExportError(_nothing_matched(layer, used_statuses, type_id, row, boundaries))
    return Selection(
        layer=layer, frame=frame, boundaries=boundaries, area=row, areas=areas, type_id=type_id,
        statuses=used_statuses, dropped=dropped,
    )  # fmt: skip


def _in_area(frame, layer: str, area: pd.Series, areas: gpd.GeoDataFrame, boundaries: str):
    if isinstance(frame, gpd.GeoDataFrame):
        located = frame[has_geometry(frame.geometry).to_numpy()]
        points = gpd.GeoDataFrame(geometry=located.geometry.representative_point(), crs=frame.crs)
        where = analysis.area_of_each(points, areas)
        return located[(where == str(area["id"])).fillna(False).to_numpy()]
    if "area_id" not in frame.columns:
        raise ExportError(
            f"Layer {layer!r} has neither geometry nor an area_id, so it cannot be filtered by area; leave out the area."
        )
    keep = frame["area_id"].astype("string") == str(area["id"])
    if "boundary_layer" in frame.columns:
        keep &= frame["boundary_layer"].astype("string").fillna(boundaries).isin([boundaries, ""])
    return frame[keep.fillna(False).to_numpy()]


def _nothing_matched(layer, statuses, type_id, area, boundaries) -> str:
    parts = []
    if statuses:
        parts.append(f"status {'/'.join(statuses)}")
    if type_id:
        parts.append(f"type {type_id!r}")
    if area is not None:
        parts.append(f"in {area['name']} ({area['id']}, {boundaries})")
    what = ", ".join(parts) if parts else "at all"
    return (
        f"The export filter matched nothing: layer {layer!r} has no features with {what}"
        if parts
        else f"The export filter matched nothing: layer {layer!r} is empty"
    ) + "; choose another area, type or status, or another layer."
