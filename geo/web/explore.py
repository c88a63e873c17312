"""The Explore page's answers and its link: what the filters leave, how the areas are shaded, and
the view kept in the URL (``?types=library,park&q=firth&boundaries=wards&shade=per_1000``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
from shapely.geometry import box

from geo.analysis import areas as analysis
from geo.analysis import traits
from geo.schema import STORAGE_CRS, Taxonomy
from geo.web import maps

SHADINGS = {
    "per_1000": "Assets per 1,000 residents",
    "imd": "Deprivation (IMD 2019 decile)",
    "none": "No shading",
}
QUERY_MAX = 100  # characters of a search kept from a link


def shade_options(areas: pd.DataFrame, *, taxonomy: Taxonomy) -> dict[str, str]:
    """The shadings offered over ``areas``: per 1,000 residents, deprivation (where the areas have
    it), each trait of a resilient community, none; ``{id: label}`` in that order. A store without
    boundary layers (``areas`` is ``None``, e.g. a national store of assets) offers none."""
    if areas is None:
        return {"none": SHADINGS["none"]}
    out = {"per_1000": SHADINGS["per_1000"]}
    if "imd_decile" in areas and areas["imd_decile"].notna().any():
        out["imd"] = SHADINGS["imd"]
    for t, label in taxonomy.traits.items():
        out[f"trait:{t}"] = f"Assets supporting {label.lower()} per 1,000 residents"
    out["none"] = SHADINGS["none"]
    return out


def shading(
    shade: str,
    shown: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    taxonomy: Taxonomy,
    where: pd.Series | None = None,
    km2: pd.Series | None = None,
) -> tuple[pd.DataFrame, maps.Choropleth | None]:
    """The areas' summary (:func:`geo.analysis.areas.summarise_areas`, plus the trait's rate when shading
    by one) for the ``shown`` assets, and the choropleth of ``shade`` (``None``: no shading).
    ``where`` and ``km2`` as for :func:`geo.analysis.areas.summarise_areas` (computed once, reused on
    every filter change). Without ``areas``: an empty summary and no shading."""
    if areas is None:
        return pd.DataFrame(columns=["id", "name", "population", "assets", "per_1000", "per_km2"]), None
    summary = analysis.summarise_areas(shown, areas, where=where, km2=km2)
    labels = shade_options(areas, taxonomy=taxonomy)
    if shade == "per_1000":
        return summary, maps.Choropleth(labels[shade], summary["per_1000"], fmt="{:.2f}")
    if shade == "imd" and "imd_decile" in summary:
        return summary, maps.Choropleth(SHADINGS["imd"], summary["imd_decile"], kind="imd", fmt="{:.0f}")
    if shade.startswith("trait:") and shade in labels:
        rates = traits.trait_rates(shown, areas, taxonomy=taxonomy, where=where)
        summary[labels[shade]] = rates[f"{shade.removeprefix('trait:')}_per_1000"]
        return summary, maps.Choropleth(labels[shade], summary[labels[shade]], fmt="{:.3f}")
    return summary, None


@dataclass(frozen=True)
class Prepared:
    """What every filter change reuses, computed once per store revision and boundary set."""

    ordered: gpd.GeoDataFrame  # every published asset in map order (geo.web.maps.order_for_map)
    details_json: str  # their popup details (geo.web.maps.asset_details_json)
    points_json: str  # their points as the map draws them (geo.web.maps.points_json)
    where: pd.Series | None  # the area each lies in (geo.analysis.areas.area_of_each); None: no areas
    km2: pd.Series | None  # each area's size (geo.analysis.areas.area_km2)


def prepare(published: gpd.GeoDataFrame, areas: gpd.GeoDataFrame | None, *, taxonomy: Taxonomy) -> Prepared:
    """:class:`Prepared` for the ``published`` assets over ``areas`` (``None``: a store without boundaries)."""
    ordered = maps.order_for_map(published, taxonomy=taxonomy)
    return Prepared(
        ordered=ordered,
        details_json=maps.asset_details_json(ordered),
        points_json=maps.points_json(ordered, taxonomy=taxonomy),
        where=None if areas is None else analysis.area_of_each(published, areas),
        km2=None if areas is None else analysis.area_km2(areas),
    )


#: The areas table's columns (:func:`geo.analysis.areas.summarise_areas`) as Explore names them.
AREA_COLUMNS = {
    "name": "Area",
    "population": "Population",
    "assets": "Assets",
    "per_1000": "Per 1,000",
    "per_km2": "Per km²",
    "imd_decile": "IMD decile",
}


def area_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Explore's areas table: the summary's rows under :data:`AREA_COLUMNS`' names, the fewest
    assets per 1,000 residents first (areas without a population before them)."""
    shown = summary.drop(columns=["id"]).rename(columns=AREA_COLUMNS)
    return shown.sort_values("Per 1,000", na_position="first")


def areas_within(areas: gpd.GeoDataFrame, bounds: list[list[float]] | None) -> pd.Series | None:
    """Which areas touch ``bounds`` (``[[south, west], [north, east]]``, as :func:`geo.web.mapview.fit_bounds`
    gives): the areas a search's legend classes are computed from. ``None`` for no bounds."""
    if bounds is None or areas is None or areas.empty:
        return None
    (s, w), (n, e) = bounds
    return areas.to_crs(STORAGE_CRS).intersects(box(w, s, e, n))


# --------------------------------------------------------------------------------------------
# The view in the URL
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExploreView:
    """What an Explore link asks for, as the page's widget state, and what could not be used."""

    state: dict = field(default_factory=dict)
    problems: tuple[str, ...] = ()


def types_key(categories: list[str], themes: list[str] | None = None) -> str:
    """The session key of the types chosen within ``categories`` and, when any are chosen, service
    ``themes`` (the page's types widget: a new choice of either offers all its types again)."""
    key = f"explore_types_{'-'.join(categories)}"
    return f"{key}_themes_{'-'.join(themes)}" if themes else key


def parse_view(params: dict[str, str], *, taxonomy: Taxonomy, present: list[str], shades: list[str]) -> ExploreView:
    """Read an Explore link (``?types=library,park&q=firth&shade=imd``) into the page's widget state
    (``explore_categories``, the types widget's key, ``explore_query``, ``explore_shading``).

    ``present`` are the types with assets (in taxonomy order), ``shades`` the shadings offered.
    Anything unusable is left out and said in ``problems``, one plain sentence each, so a mistyped
    link still opens the page. ``boundaries`` is the sidebar's (``pages/_ui.shared_sidebar``).
    """
    state: dict = {}
    problems: list[str] = []
    raw = str(params.get("types", "")).strip()
    if raw == "none":
        state["explore_categories"] = []
        state[types_key([])] = []
    elif raw:
        asked = [t.strip() for t in raw.split(",") if t.strip()]
        known = [t for t in present if t in asked]
        unknown = [t for t in asked if t not in present]
        if unknown:
            problems.append(
                f"The link's types {', '.join(repr(t) for t in unknown[:5])} have no assets here, so they are left out."
            )
        if known:
            categories = list(dict.fromkeys(taxonomy.types[t].category for t in present if t in known))
            state["explore_categories"] = categories
            state[types_key(categories)] = known
    query = str(params.get("q", "")).strip()
    if query:
        state["explore_query"] = query[:QUERY_MAX]
    shade = str(params.get("shade", "")).strip()
    if shade:
        if shade in shades:
            state["explore_shading"] = shade
        else:
            problems.append(
                f"The link's shading {shade!r} is not offered for these boundaries, so the default is used."
            )
    return ExploreView(state=state, problems=tuple(problems))


def view_params(*, types: list[str], present: list[str], query: str, boundaries: str, shade: str) -> dict[str, object]:
    """The link parameters of an Explore view (the inverse of :func:`parse_view`): ``types`` only
    when some types are left out."""
    chosen = [t for t in present if t in set(types)]
    return {
        "types": "" if chosen == list(present) else ",".join(chosen) or "none",
        "q": (query or "").strip(),
        "boundaries": boundaries,
        "shade": shade,
    }
