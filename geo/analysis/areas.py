"""Analysis over assets and areas: pure functions that take GeoDataFrames and return frames or Series
on the same index (momepy/tobler style). Inputs are never modified. Metric work is done in
EPSG:27700 and reported in metres.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import CRSError, SchemaError
from geo.schema import METRIC_CRS, STORAGE_CRS, Taxonomy


def _check(frame: gpd.GeoDataFrame, what: str, columns: tuple[str, ...] = ()) -> None:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise SchemaError(f"{what} must be a GeoDataFrame; got {type(frame).__name__}.")
    if frame.crs is None:
        raise CRSError(f"{what} has no CRS; set one with .set_crs() first.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(f"{what} needs the column(s) {', '.join(missing)}.")


def area_of_each(assets: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> pd.Series:
    """For each asset, the ``id`` of the area it lies in (``<NA>`` if none).

    A point on a shared edge is given to one area only, so counts add up to the total.
    """
    _check(assets, "assets")
    _check(areas, "areas", ("id",))
    pts = assets[[assets.geometry.name]].to_crs(STORAGE_CRS)
    polys = areas[["id", areas.geometry.name]].to_crs(STORAGE_CRS)
    hit = gpd.sjoin(pts, polys, how="left", predicate="intersects")
    hit = hit[~hit.index.duplicated(keep="first")]
    return hit["id"].reindex(assets.index).astype("string")


def count_in_areas(
    assets: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, by: str | None = None
) -> pd.Series | pd.DataFrame:
    """Assets counted per area, on ``areas``' index.

    Parameters
    ----------
    assets, areas
        Points and polygons (any CRS each).
    by
        A column of ``assets`` (e.g. ``"type"``): return one column per value instead of a Series.
    """
    where = area_of_each(assets, areas)
    if by is None:
        counts = where.value_counts()
        return areas["id"].map(counts).fillna(0).astype(int).rename("assets")
    if by not in assets.columns:
        raise SchemaError(f"assets has no column {by!r} to count by.")
    table = pd.crosstab(where, assets[by])
    out = table.reindex(areas["id"]).fillna(0).astype(int)
    out.index = areas.index
    return out


def per_1000(counts: pd.Series, population: pd.Series) -> pd.Series:
    """``counts`` per 1,000 people; NaN where the population is missing or zero."""
    pop = pd.to_numeric(population, errors="coerce")
    pop = pop.where(pop > 0)
    return (counts / pop * 1000.0).rename("per_1000")


def area_km2(areas: gpd.GeoDataFrame) -> pd.Series:
    """Each polygon's area in square kilometres (computed in EPSG:27700)."""
    _check(areas, "areas")
    return (areas.geometry.to_crs(METRIC_CRS).area / 1e6).rename("area_km2")


def filter_assets(
    assets: gpd.GeoDataFrame,
    *,
    categories: list[str] | None = None,
    types: list[str] | None = None,
    query: str = "",
    statuses: tuple[str, ...] = ("active",),
) -> gpd.GeoDataFrame:
    """The assets matching every given filter (a copy; ``None`` means no filter on that field).

    Parameters
    ----------
    categories, types
        Keep assets whose ``category`` / ``type`` is in the list.
    query
        Case-insensitive text that must appear in the name (or address, or postcode). Matched
        literally, never as a regular expression.
    statuses
        Keep these statuses; default only ``active`` (pending contributions are not published).
    """
    _check(assets, "assets", ("name", "category", "type"))
    keep = pd.Series(True, index=assets.index)
    if categories is not None:
        keep &= assets["category"].isin(categories)
    if types is not None:
        keep &= assets["type"].isin(types)
    if statuses and "status" in assets.columns:
        keep &= assets["status"].fillna("active").isin(statuses)
    q = (query or "").strip().casefold()
    if q:
        text = assets["name"].astype("string").fillna("")
        for extra in ("address", "postcode"):
            if extra in assets.columns:
                text = text + " " + assets[extra].astype("string").fillna("")
        keep &= text.str.casefold().str.contains(q, regex=False)
    # take: a new frame (never a view of ``assets``), copied once; ``assets[mask].copy()`` copied twice
    return assets.take(np.flatnonzero(keep.fillna(False).to_numpy(dtype=bool)))


def summarise_areas(
    assets: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    where: pd.Series | None = None,
    km2: pd.Series | None = None,
) -> pd.DataFrame:
    """One row per area: ``id``, ``name``, ``population``, ``assets``, ``per_1000``, ``per_km2`` and
    ``imd_decile`` where the layer has it; on ``areas``' index.

    ``where`` (:func:`area_of_each` of these assets, or of any frame they were taken from) and
    ``km2`` (:func:`area_km2` of ``areas``) save computing them again, e.g. on every filter change.
    """
    _check(areas, "areas", ("id", "name"))
    out = pd.DataFrame({"id": areas["id"], "name": areas["name"]}, index=areas.index)
    if where is None:
        counts = count_in_areas(assets, areas)
    else:
        counts = areas["id"].map(where.reindex(assets.index).value_counts()).fillna(0).astype(int).rename("assets")
    pop = (
        pd.to_numeric(areas["population"], errors="coerce")
        if "population" in areas
        else pd.Series(float("nan"), index=areas.index)
    )
    out["population"] = pop
    out["assets"] = counts
    out["per_1000"] = per_1000(counts, pop)
    out["per_km2"] = counts / (area_km2(areas) if km2 is None else km2)
    if "imd_decile" in areas.columns:
        out["imd_decile"] = pd.to_numeric(areas["imd_decile"], errors="coerce")
    return out


def assets_in_area(
    assets: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, area_id: str, *, taxonomy: Taxonomy | None = None
) -> dict[str, str]:
    """``{asset id: "Name (type)"}`` for the active assets inside one area, in name order: what a
    form offers to link to (the type's label from ``taxonomy``, else its id)."""
    active = filter_assets(assets)
    here = active[area_of_each(active, areas) == str(area_id)]
    types = here["type"].astype(str)
    labels = types.map(taxonomy.label) if taxonomy is not None else types
    out = dict(zip(here["id"].astype(str), here["name"].astype(str) + " (" + labels + ")", strict=True))
    return dict(sorted(out.items(), key=lambda kv: (kv[1].casefold(), kv[0])))
