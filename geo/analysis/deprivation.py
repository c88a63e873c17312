"""Deprivation at every boundary level, from the LSOAs (the level at which the English Indices of
Deprivation 2019 are published), and LSOA labels that carry a place.

Wards and neighbourhoods have no IMD of their own. Following MHCLG's own summaries for larger areas,
an area's deprivation is summarised from its residents' LSOAs:

- ``imd_deprived_share``: the share of its residents who live in one of England's 20% most deprived
  LSOAs (IMD deciles 1 and 2);
- ``imd_avg_rank``: its residents' population-weighted average LSOA rank (1 = most deprived of 32,844);
- ``imd_decile``: the national decile in which that average rank falls (1 = most deprived 10%).

An LSOA's residents are shared between areas by the share of the LSOA's land inside each (area-weighted
interpolation, as the neighbourhood population estimates are): LSOA 2011 boundaries do not nest in
the 2018 wards or in the community-drawn neighbourhoods. :data:`METHOD` says so in words for the pages,
the command line and the report. Pure functions; inputs are never modified.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import LayerNotFoundError
from geo.schema import METRIC_CRS

LSOAS_IN_ENGLAND = 32_844  # LSOAs ranked by the English Indices of Deprivation 2019
MOST_DEPRIVED_DECILES = (1, 2)  # the 20% most deprived LSOAs

COLUMNS = ("imd_decile", "imd_avg_rank", "imd_deprived_share", "imd_method")

METHOD = (
    "Population-weighted from the LSOAs (English Indices of Deprivation 2019): each LSOA's residents are "
    "shared out by the share of its land inside the area. The decile is the one in which the residents' "
    f"average LSOA rank falls among England's {LSOAS_IN_ENGLAND:,} LSOAs (1 = most deprived 10%); the share "
    "is of residents living in England's 20% most deprived LSOAs."
)
LSOA_METHOD = "Published for each LSOA in the English Indices of Deprivation 2019 (1 = most deprived 10% in England)."


def decile_of_rank(rank) -> pd.Series:
    """The national IMD decile (1 to 10) in which an LSOA rank falls (NaN stays NaN)."""
    r = pd.to_numeric(pd.Series(rank), errors="coerce")
    return np.ceil(r.clip(lower=1, upper=LSOAS_IN_ENGLAND) / LSOAS_IN_ENGLAND * 10)


#: The last few answers of :func:`from_lsoas`, by a digest of its inputs: the overlay of a city's
#: wards with its LSOAs takes about 0.3 s, and the same boundaries come back on every store opened
#: (a server's first page, each copy of a store) with the same content.
_FROM_LSOAS: OrderedDict[str, pd.DataFrame] = OrderedDict()
_FROM_LSOAS_KEEP = 16


def _inputs_digest(areas: gpd.GeoDataFrame, lsoas: gpd.GeoDataFrame) -> str:
    import shapely

    h = hashlib.sha256()
    for frame, columns in ((areas, ()), (lsoas, ("population", "imd_rank", "imd_decile"))):
        h.update(b"|frame|" + str(frame.crs).encode() + repr(list(frame.index)).encode())
        h.update(b"".join(w or b"-" for w in shapely.to_wkb(frame.geometry.values)))
        for c in columns:
            values = pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float) if c in frame else None
            h.update(c.encode() + (values.tobytes() if values is not None else b"-"))
    return h.hexdigest()


def from_lsoas(areas: gpd.GeoDataFrame, lsoas: gpd.GeoDataFrame) -> pd.DataFrame:
    """``imd_decile``, ``imd_avg_rank`` and ``imd_deprived_share`` of each area, population-weighted
    from the LSOAs that overlap it (see the module's docstring); on ``areas``' index.

    An area that no ranked, populated LSOA overlaps gets NaN in all three. The answers for the last
    few inputs are kept, by a digest of their geometries, index and the LSOAs' figures.
    """
    key = _inputs_digest(areas, lsoas)
    if key in _FROM_LSOAS:
        _FROM_LSOAS.move_to_end(key)
        return _FROM_LSOAS[key].copy()
    out = _from_lsoas(areas, lsoas)
    _FROM_LSOAS[key] = out.copy()
    while len(_FROM_LSOAS) > _FROM_LSOAS_KEEP:
        _FROM_LSOAS.popitem(last=False)
    return out


def _from_lsoas(areas: gpd.GeoDataFrame, lsoas: gpd.GeoDataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=areas.index, columns=["imd_decile", "imd_avg_rank", "imd_deprived_share"], dtype=float)
    need = {"population", "imd_rank", "imd_decile"}
    if areas.empty or lsoas.empty or not need <= set(lsoas.columns):
        return out
    src = lsoas[[lsoas.geometry.name]].copy()
    src["pop"] = pd.to_numeric(lsoas["population"], errors="coerce")
    src["rank"] = pd.to_numeric(lsoas["imd_rank"], errors="coerce")
    src["deprived"] = pd.to_numeric(lsoas["imd_decile"], errors="coerce").isin(MOST_DEPRIVED_DECILES)
    src = src[src["pop"].gt(0) & src["rank"].notna() & src.geometry.notna()].to_crs(METRIC_CRS)
    if src.empty:
        return out
    src["src_area"] = src.geometry.area
    dst = gpd.GeoDataFrame({"_row": np.arange(len(areas))}, geometry=areas.geometry.values, crs=areas.crs)
    dst = dst[dst.geometry.notna()].to_crs(METRIC_CRS)
    pieces = gpd.overlay(src.reset_index(drop=True), dst, how="intersection", keep_geom_type=True)
    if pieces.empty:
        return out
    people = pieces["pop"] * (pieces.geometry.area / pieces["src_area"]).clip(upper=1.0)
    g = pd.DataFrame({"_row": pieces["_row"], "people": people, "ranked": people * pieces["rank"]})
    g["deprived"] = people.where(pieces["deprived"], 0.0)
    sums = g.groupby("_row")[["people", "ranked", "deprived"]].sum()
    sums = sums[sums["people"] > 0]
    rows = areas.index[sums.index.to_numpy()]
    out.loc[rows, "imd_avg_rank"] = (sums["ranked"] / sums["people"]).to_numpy()
    out.loc[rows, "imd_deprived_share"] = (sums["deprived"] / sums["people"]).to_numpy()
    out["imd_decile"] = decile_of_rank(out["imd_avg_rank"])
    return out


def with_deprivation(areas: gpd.GeoDataFrame, lsoas: gpd.GeoDataFrame | None, *, layer: str) -> gpd.GeoDataFrame:
    """A copy of a boundary layer with :data:`COLUMNS` filled.

    LSOAs keep their published decile and rank (their share is 1 or 0); other layers get the
    population-weighted summary from ``lsoas`` wherever they have no decile of their own.
    ``imd_method`` says how each value was computed (empty where there is none).
    """
    out = areas.copy()
    own = pd.to_numeric(out["imd_decile"], errors="coerce") if "imd_decile" in out else pd.Series(np.nan, out.index)
    if layer == "lsoas" or (own.notna().all() and len(out)):
        out["imd_decile"] = own
        rank = pd.to_numeric(out["imd_rank"], errors="coerce") if "imd_rank" in out else pd.Series(np.nan, out.index)
        out["imd_avg_rank"] = rank
        out["imd_deprived_share"] = own.isin(MOST_DEPRIVED_DECILES).astype(float).where(own.notna())
        out["imd_method"] = np.where(own.notna(), LSOA_METHOD, "")
        return out
    derived = from_lsoas(out, lsoas) if lsoas is not None else pd.DataFrame(index=out.index)
    for col in ("imd_decile", "imd_avg_rank", "imd_deprived_share"):
        values = derived[col] if col in derived else pd.Series(np.nan, out.index)
        out[col] = own.where(own.notna(), values) if col == "imd_decile" else values
    out["imd_method"] = np.where(own.notna(), LSOA_METHOD, np.where(out["imd_decile"].notna(), METHOD, ""))
    return out


def place_names(lsoas: gpd.GeoDataFrame, places: gpd.GeoDataFrame) -> pd.Series:
    """Each LSOA's name with the place it lies in, e.g. "<district> 008C (<ward>)": the area of
    ``places`` (wards, say) that holds the LSOA's representative point; the plain name where none does."""
    names = lsoas["name"].astype(str)
    if lsoas.empty or places is None or places.empty or "name" not in places:
        return names
    pts = gpd.GeoDataFrame(geometry=lsoas.geometry.representative_point(), index=lsoas.index, crs=lsoas.crs)
    polys = places[["name", places.geometry.name]].to_crs(lsoas.crs)
    hit = gpd.sjoin(pts, polys, how="left", predicate="within")
    place = hit["name"][~hit.index.duplicated(keep="first")].reindex(lsoas.index)
    return names.where(place.isna(), names + " (" + place.astype(str) + ")")


def boundary_frame(layer: str, read: Callable[[str], gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """A boundary layer as the pages and commands show it: with deprivation at its level
    (:func:`with_deprivation`) and, for LSOAs, names that carry their ward (:func:`place_names`).

    ``read(name)`` returns a store layer (a missing ``lsoas`` or ``wards`` layer just means less is added).
    """

    def maybe(name: str) -> gpd.GeoDataFrame | None:
        try:
            return read(name)
        except LayerNotFoundError:  # an optional layer: less is added without it
            return None

    areas = read(layer)
    lsoas = areas if layer == "lsoas" else maybe("lsoas")
    out = with_deprivation(areas, lsoas, layer=layer)
    if layer == "lsoas":
        wards = maybe("wards")
        if wards is not None:
            out["name"] = place_names(out, wards)
    return out
