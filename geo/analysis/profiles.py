"""One neighbourhood at a time: an area's profile.

A profile leads with what the area has (its assets by category and type, per 1,000 residents and
per km², against the rate for all areas of the same boundary layer together), what is good about it
(the four traits of a resilient community: :mod:`geo.analysis.traits`), then who works there
(``organisation_areas``), then the community's own aspirations, agreed success measures and stories.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analysis import areas as analysis
from geo.analysis import traits
from geo.errors import AreaNotFoundError
from geo.schema import Taxonomy, visible_rows


def find_area(areas: gpd.GeoDataFrame, name_or_id: str, *, layer: str = "areas") -> pd.Series:
    """The row of ``areas`` whose id or name is ``name_or_id``.

    Matches an id exactly, then a name ignoring case and spacing, then a unique part of a name.
    Raises :class:`AreaNotFoundError` naming close choices when nothing or several match.
    """
    text = str(name_or_id or "").strip()
    if not text:
        raise AreaNotFoundError(f"Name an area of {layer}, e.g. {areas['name'].iloc[0]!r}.")
    ids = areas["id"].astype(str)
    hit = areas[ids == text]
    if len(hit) == 1:
        return hit.iloc[0]
    norm = areas["name"].astype(str).str.casefold().str.split().str.join(" ")
    key = " ".join(text.casefold().split())
    hit = areas[norm == key]
    if len(hit) == 1:
        return hit.iloc[0]
    part = areas[norm.str.contains(key, regex=False)]
    if len(part) == 1:
        return part.iloc[0]
    if len(part) > 1:
        names = ", ".join(sorted(part["name"].astype(str))[:8])
        raise AreaNotFoundError(f"{text!r} matches several areas of {layer}: {names}; give the full name or the id.")
    sample = ", ".join(sorted(areas["name"].astype(str))[:6])
    raise AreaNotFoundError(
        f"No area of {layer} is called {text!r}; use a name or id from that layer (e.g. {sample}, ...)."
    )


@dataclass
class AreaProfile:
    """An area's profile; :meth:`as_dict` is the JSON of ``python -m geo profile --json``."""

    area: dict
    by_type: pd.DataFrame  # type, label, category, count, per_1000, city_per_1000
    assets_in_area: gpd.GeoDataFrame
    totals: dict
    organisations: pd.DataFrame
    aspirations: pd.DataFrame
    success_measures: pd.DataFrame
    stories: pd.DataFrame
    traits: traits.AreaTraits = field(default_factory=traits.AreaTraits)

    def as_dict(self) -> dict:
        def records(frame: pd.DataFrame) -> list[dict]:
            if frame is None or frame.empty:
                return []
            plain = pd.DataFrame(frame.drop(columns=[c for c in ("geometry",) if c in frame.columns]))
            plain = plain.astype(object).where(plain.notna(), None)
            return plain.to_dict(orient="records")

        return {
            "area": self.area,
            "assets": {
                **self.totals,
                "by_type": {r.type: int(r.count) for r in self.by_type.itertuples() if r.count},
                "by_category": {k: int(v) for k, v in self.by_type.groupby("category")["count"].sum().items() if v},
            },
            "traits": [t.as_dict() for t in self.traits.traits],
            "traits_rules_from": self.traits.rules_from,
            "organisations": records(self.organisations),
            "aspirations": records(self.aspirations),
            "success_measures": records(self.success_measures),
            "stories": records(self.stories),
        }


def _rate(count: float, denom: float | None) -> float | None:
    if denom is None or not np.isfinite(denom) or denom <= 0:
        return None
    return round(float(count) / float(denom), 4)


def _for_area(frame: pd.DataFrame | None, layer: str, area_id: str) -> pd.DataFrame:
    """The published rows of ``frame`` in the area (pending or rejected contributions never show)."""
    frame = visible_rows(frame)
    if frame is None or frame.empty or "area_id" not in frame.columns:
        return pd.DataFrame() if frame is None else frame.iloc[0:0]
    hit = frame["area_id"].astype(str) == str(area_id)
    if "boundary_layer" in frame.columns:
        hit &= frame["boundary_layer"].fillna(layer).astype(str).isin([layer, ""])
    return frame[hit]


def area_profile(
    area: pd.Series,
    *,
    layer: str,
    areas: gpd.GeoDataFrame,
    assets: gpd.GeoDataFrame,
    taxonomy: Taxonomy,
    organisations: pd.DataFrame | None = None,
    organisation_areas: pd.DataFrame | None = None,
    aspirations: pd.DataFrame | None = None,
    success_measures: pd.DataFrame | None = None,
    stories: pd.DataFrame | None = None,
) -> AreaProfile:
    """The profile of one area (a row of ``areas`` from :func:`find_area`).

    Parameters
    ----------
    area
        The area's row (with ``id``, ``name``, geometry, ``population`` where known).
    layer
        The boundary layer's name (``wards``, ``lsoas``, ``neighbourhoods``).
    areas
        Every area of that layer: the comparison ("all areas together") is over them.
    assets
        The assets to count (typically active ones).
    """
    where = analysis.area_of_each(assets, areas)
    in_area = assets[where == str(area["id"])].copy()
    in_layer = where.notna()
    pop = float(area["population"]) if pd.notna(area.get("population")) else None
    geom = gpd.GeoSeries([area.geometry], crs=areas.crs)
    km2 = float(analysis.area_km2(gpd.GeoDataFrame(geometry=geom)).iloc[0])
    layer_pop = pd.to_numeric(areas.get("population"), errors="coerce").sum() if "population" in areas else np.nan
    layer_km2 = float(analysis.area_km2(areas).sum())

    counts = in_area["type"].value_counts()
    city_counts = assets.loc[in_layer, "type"].value_counts()
    types = [t for t in taxonomy.types if t in set(assets["type"])] + sorted(set(assets["type"]) - set(taxonomy.types))
    rows = []
    for t in types:
        known = taxonomy.types.get(t)
        c = int(counts.get(t, 0))
        rows.append(
            {
                "type": t,
                "label": known.label if known else t,
                "category": known.category if known else "",
                "count": c,
                "per_1000": _rate(c * 1000, pop),
                "city_per_1000": _rate(city_counts.get(t, 0) * 1000, layer_pop),
            }
        )
    by_type = pd.DataFrame(rows, columns=["type", "label", "category", "count", "per_1000", "city_per_1000"])

    total = int(len(in_area))
    city_total = int(in_layer.sum())
    totals = {
        "total": total,
        "per_1000": _rate(total * 1000, pop),
        "per_km2": _rate(total, km2),
        "city_per_1000": _rate(city_total * 1000, layer_pop),
        "city_per_km2": _rate(city_total, layer_km2),
        "comparison": f"all {len(areas)} areas of {layer} together",
    }
    info = {
        "id": str(area["id"]),
        "name": str(area["name"]),
        "layer": layer,
        "population": None if pop is None else int(round(pop)),
        "population_is_estimate": bool(area.get("population_is_estimate"))
        if pd.notna(area.get("population_is_estimate"))
        else False,
        "imd_decile": int(area["imd_decile"]) if "imd_decile" in area and pd.notna(area["imd_decile"]) else None,
        # Present when the layer came through geo.analysis.deprivation.boundary_frame (population-weighted from LSOAs).
        "imd_deprived_share": float(area["imd_deprived_share"])
        if "imd_deprived_share" in area and pd.notna(area["imd_deprived_share"])
        else None,
        "imd_method": str(area.get("imd_method") or "") or None,
        "area_km2": round(km2, 3),
    }

    orgs = pd.DataFrame(columns=["id", "name", "kind", "themes", "url"])
    orgs_for_traits = orgs
    links = _for_area(organisation_areas, layer, area["id"])
    if organisations is not None and not links.empty:
        o = pd.DataFrame(organisations.drop(columns=[c for c in ("geometry",) if c in organisations.columns]))
        merged = (
            links[["organisation_id", "themes"]]
            .rename(columns={"themes": "themes_here"})
            .merge(o, left_on="organisation_id", right_on="id", how="left")
        )
        orgs = merged[["id", "name", "kind", "themes_here", "url"]].rename(columns={"themes_here": "themes"})
        orgs = orgs.drop_duplicates("id").sort_values(["kind", "name"]).reset_index(drop=True)
        # What an organisation supports here: its themes here, else its own themes.
        own = merged.drop_duplicates("id").set_index("id")["themes"] if "themes" in merged else pd.Series(dtype=object)
        blank = orgs["themes"].isna() | (orgs["themes"].astype("string").str.strip() == "")
        orgs_for_traits = orgs.assign(themes=orgs["themes"].where(~blank.fillna(True), orgs["id"].map(own)))

    aspirations_here = _for_area(aspirations, layer, area["id"])
    measures_here = _for_area(success_measures, layer, area["id"])
    stories_here = _for_area(stories, layer, area["id"])
    strengths = traits.area_traits(
        area,
        layer=layer,
        areas=areas,
        assets=assets,
        area_of_asset=where,
        taxonomy=taxonomy,
        organisations=orgs_for_traits,
        stories=stories_here,
        success_measures=measures_here,
        aspirations=visible_rows(aspirations),
    )

    return AreaProfile(
        area=info,
        by_type=by_type,
        assets_in_area=in_area,
        totals=totals,
        organisations=orgs,
        aspirations=aspirations_here,
        success_measures=measures_here,
        stories=stories_here,
        traits=strengths,
    )


def area_at(areas: gpd.GeoDataFrame, lon: float, lat: float) -> pd.Series | None:
    """The area containing the point (lon, lat in EPSG:4326), or ``None`` (e.g. a click outside)."""
    pt = gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs="EPSG:4326").to_crs(areas.crs)
    hit = areas[areas.geometry.intersects(pt.iloc[0])]
    return None if hit.empty else hit.iloc[0]
