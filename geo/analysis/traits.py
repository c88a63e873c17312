"""What is good about a place: the four traits of a resilient community, area by area.

The framework Common Ground serves names four traits of a resilient community (sense of place;
active citizens and networks; vibrant organisations and resources; strong local leadership) and
starts every area from "what is good about this place?". This module says, for one area, which of
what is recorded there supports each trait, and how the area compares with the other areas of the
same boundary set. It never turns that into a score: the comparison is given in plain words.

What counts towards a trait is data, not code:

* an **asset** (active only) through its type's ``traits`` in the taxonomy;
* an **organisation** working in the area (``organisation_areas``) through its ``kind`` or its themes
  there (its own themes when none are recorded for the area), and
* a **story** (published only) through its ``themes`` or a phrase in its ``method``, and
* an **agreed success measure** through the theme of the aspiration it serves,

all by the taxonomy's ``trait_rules`` (:class:`geo.schema.TraitRule`). A store whose taxonomy was
made before the rules existed has none; :func:`trait_rules` then uses the seed file's.

The rate per 1,000 residents is of assets; "all areas together" is every asset in the boundary set
over its whole population, as in the rest of the profile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analysis import access
from geo.analysis import areas as analysis
from geo.schema import METRIC_CRS, Taxonomy, TraitRule, load_taxonomy, taxonomy_path, visible_rows

#: The framework's own words for each trait (shown beside the taxonomy's label where the id is known).
TRAIT_VOICES = {
    "sense_of_place": "we like living here",
    "active_citizens": "we will get involved",
    "organisations_resources": "we have local skills and assets",
    "local_leadership": "we will make things happen",
}
#: An area is said to have "more than most" when its rate is above that of at least this share of the
#: other areas of its boundary set, "fewer than most" when below at least this share.
MOST = 2 / 3
LAYER_NOUNS = {"wards": "wards", "lsoas": "LSOAs", "neighbourhoods": "neighbourhoods"}
_THEME_SPLIT = re.compile(r"[,;]")


# --------------------------------------------------------------------------------------------
# The rules
# --------------------------------------------------------------------------------------------


def trait_rules(taxonomy: Taxonomy) -> tuple[dict[str, TraitRule], str]:
    """The rules saying which organisations and stories count towards each trait, and where they come from.

    Returns the taxonomy's own ``trait_rules`` (the store's ``taxonomy`` layer, or a seed file), or,
    when it has none (a store made before the rules existed), the seed file's rules for the traits
    the taxonomy has. The second value says which, in words.
    """
    if taxonomy.trait_rules:
        return dict(taxonomy.trait_rules), "the store's taxonomy"
    seed = load_taxonomy()
    rules = {t: r for t, r in seed.trait_rules.items() if t in taxonomy.traits}
    return rules, f"{taxonomy_path().name}, as this store's taxonomy has none of its own"


def supporting_types(taxonomy: Taxonomy, trait: str) -> list[str]:
    """The asset types whose taxonomy entry names ``trait``, in taxonomy order."""
    return [t.id for t in taxonomy.types.values() if trait in t.traits]


def _themes(value: object) -> list[str]:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return []
    out: list[str] = []
    for part in _THEME_SPLIT.split(str(value)):
        theme = " ".join(part.split()).casefold()
        if theme and theme not in out:
            out.append(theme)
    return out


def _text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def _phrase_found(phrase: str, text: str) -> bool:
    """Whether ``phrase`` starts a word of ``text`` (ignoring case): ``volunteer`` finds ``volunteers``."""
    return re.search(r"(?<!\w)" + re.escape(phrase), text, flags=re.IGNORECASE) is not None


def organisation_reasons(kind: object, themes: object, rules: dict[str, TraitRule]) -> dict[str, str]:
    """For an organisation of ``kind`` working on ``themes``: ``{trait: why}`` for every trait it supports."""
    k = " ".join(_text(kind).split()).casefold()
    mine = _themes(themes)
    out: dict[str, str] = {}
    for trait, rule in rules.items():
        why = [f"kind: {_text(kind).strip()}"] if k and k in rule.organisation_kinds else []
        why += [f"theme: {t}" for t in mine if t in rule.themes]
        if why:
            out[trait] = "; ".join(why)
    return out


def story_reasons(themes: object, method: object, rules: dict[str, TraitRule]) -> dict[str, str]:
    """For a story with ``themes`` and ``method`` text: ``{trait: why}`` for every trait it supports."""
    mine = _themes(themes)
    how = _text(method)
    out: dict[str, str] = {}
    for trait, rule in rules.items():
        why = [f"theme: {t}" for t in mine if t in rule.themes]
        why += [f"method: {p!r}" for p in rule.story_methods if how and _phrase_found(p, how)]
        if why:
            out[trait] = "; ".join(why)
    return out


# --------------------------------------------------------------------------------------------
# Counts over a whole boundary set
# --------------------------------------------------------------------------------------------


def _counts_by_trait(area_ids: pd.Series, types: pd.Series, areas: pd.DataFrame, taxonomy: Taxonomy) -> pd.DataFrame:
    """Assets per area (on ``areas``' index) supporting each trait, one column per trait."""
    out = pd.DataFrame(index=areas.index)
    for trait in taxonomy.traits:
        hit = types.isin(supporting_types(taxonomy, trait)).to_numpy() & area_ids.notna().to_numpy()
        counts = area_ids[hit].value_counts()
        out[trait] = areas["id"].astype(str).map(counts).fillna(0).astype(int).to_numpy()
    return out


def trait_rates(
    assets: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, taxonomy: Taxonomy, where: pd.Series | None = None
) -> pd.DataFrame:
    """Per area, the assets supporting each trait and their rate per 1,000 residents.

    Returns a frame on ``areas``' index with ``id``, ``name``, ``population``, then for every trait
    ``{trait}`` (a count) and ``{trait}_per_1000`` (NaN where the population is unknown). Count the
    assets you mean: e.g. active ones (:func:`geo.analysis.areas.filter_assets`). ``where``: as for
    :func:`geo.analysis.areas.summarise_areas`.
    """
    where = analysis.area_of_each(assets, areas) if where is None else where.reindex(assets.index)
    counts = _counts_by_trait(where, assets["type"], areas, taxonomy)
    pop = (
        pd.to_numeric(areas["population"], errors="coerce")
        if "population" in areas
        else pd.Series(np.nan, index=areas.index)
    )
    out = pd.DataFrame({"id": areas["id"], "name": areas["name"], "population": pop}, index=areas.index)
    for trait in taxonomy.traits:
        out[trait] = counts[trait]
        out[f"{trait}_per_1000"] = analysis.per_1000(counts[trait], pop).to_numpy()
    return out


# --------------------------------------------------------------------------------------------
# One area
# --------------------------------------------------------------------------------------------


@dataclass
class TraitStrength:
    """What supports one trait in one area, and how the area compares with the others."""

    trait: str
    label: str
    assets: pd.DataFrame  # id, name, type, type_label
    organisations: pd.DataFrame  # id, name, kind, why
    stories: pd.DataFrame  # id, title, why
    measures: pd.DataFrame  # id, measure, why
    per_1000: float | None
    city_per_1000: float | None
    #: "more" or "fewer" (than most areas), "about", "none" (no area has any) or "unknown" (no population)
    standing: str
    areas_with_fewer: int
    areas_with_more: int
    areas_compared: int
    in_words: str
    voice: str = ""

    def counts_in_words(self) -> str:
        """``"17 assets, 3 organisations, 1 story, 0 measures"``."""
        parts = []
        for frame, one, many in (
            (self.assets, "asset", "assets"),
            (self.organisations, "organisation", "organisations"),
            (self.stories, "story", "stories"),
            (self.measures, "measure", "measures"),
        ):
            parts.append(f"{len(frame)} {one if len(frame) == 1 else many}")
        return ", ".join(parts)

    def as_dict(self) -> dict:
        """One entry of ``traits`` in ``python -m geo profile --json``."""
        return {
            "trait": self.trait,
            "label": self.label,
            "assets": int(len(self.assets)),
            "organisations": int(len(self.organisations)),
            "stories": int(len(self.stories)),
            "measures": int(len(self.measures)),
            "per_1000": self.per_1000,
            "city_per_1000": self.city_per_1000,
            "standing": self.standing,
            "other_areas_with_fewer": self.areas_with_fewer,
            "other_areas_with_more": self.areas_with_more,
            "other_areas_compared": self.areas_compared,
            "in_words": self.in_words,
        }


@dataclass
class AreaTraits:
    """The four traits in one area, in taxonomy order, and where the rules came from."""

    traits: list[TraitStrength] = field(default_factory=list)
    rules_from: str = ""

    def strengths_first(self) -> list[TraitStrength]:
        """The traits with the area's strongest (relative to the other areas) first."""
        rank = {"more": 0, "about": 1, "fewer": 2, "unknown": 3, "none": 4}

        def key(t: TraitStrength) -> tuple:
            share = t.areas_with_fewer / t.areas_compared if t.areas_compared else 0.0
            return (rank.get(t.standing, 4), -share, -len(t.assets) - len(t.organisations) - len(t.stories))

        return sorted(self.traits, key=key)


def _round(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 4)


def _compare(rate: float | None, others: pd.Series) -> tuple[str, int, int, int]:
    """``(standing, other areas with a lower rate, with a higher rate, compared)``."""
    others = pd.to_numeric(others, errors="coerce").dropna()
    n = int(len(others))
    if rate is None or n == 0:
        return "unknown", 0, 0, n
    fewer = int((others < rate - 1e-12).sum())
    more = int((others > rate + 1e-12).sum())
    if fewer >= MOST * n:
        return "more", fewer, more, n
    if more >= MOST * n:
        return "fewer", fewer, more, n
    return "about", fewer, more, n


def _rate_text(value: float) -> str:
    return f"{value:.1f}" if value >= 1 else f"{value:.2f}" if value >= 0.1 or value == 0 else f"{value:.3f}"


def _in_words(
    count: int, rate: float | None, city: float | None, standing: str, fewer: int, more: int, n: int, noun: str
) -> str:
    """The comparison in plain words, relative to the other areas; never a score."""
    here = (
        "no asset that supports it is mapped here" if count == 0 else f"{count} asset{'s' if count != 1 else ''} here"
    )
    if standing == "unknown":
        return f"{here[0].upper()}{here[1:]}; no population is known, so it is not compared with other {noun}."
    if standing == "none":
        return f"No asset that supports it is mapped in any of the {n + 1} {noun} yet."
    per = f"{_rate_text(rate)} per 1,000 residents"
    city_text = f"{_rate_text(city)} across all {noun} together" if city is not None else ""
    if standing == "more":
        lead = f"More than most {noun}: {here}, {per}, more than {fewer} of the other {n}"
    elif standing == "fewer":
        lead = f"Fewer than most {noun}: {here}, {per}, fewer than {more} of the other {n}"
    else:
        lead = f"About as many as most {noun}: {here}, {per} ({fewer} of the other {n} have fewer, {more} more)"
    return f"{lead}; {city_text}." if city_text else f"{lead}."


def area_traits(
    area: pd.Series,
    *,
    layer: str,
    areas: gpd.GeoDataFrame,
    assets: gpd.GeoDataFrame,
    area_of_asset: pd.Series,
    taxonomy: Taxonomy,
    organisations: pd.DataFrame | None = None,
    stories: pd.DataFrame | None = None,
    success_measures: pd.DataFrame | None = None,
    aspirations: pd.DataFrame | None = None,
) -> AreaTraits:
    """The four traits in one area (called by :func:`geo.analysis.profiles.area_profile`).

    Parameters
    ----------
    area
        The area's row of ``areas``.
    assets, area_of_asset
        The assets counted (active ones) and, on the same index, the id of the area each lies in
        (:func:`geo.analysis.areas.area_of_each` over ``areas``).
    organisations
        The organisations working in the area: ``id``, ``name``, ``kind``, ``themes`` (the themes they
        work on here, or their own where none are recorded here).
    stories, success_measures
        The area's published stories and agreed measures; ``aspirations`` gives the measures' themes.
    """
    rules, rules_from = trait_rules(taxonomy)
    area_id = str(area["id"])
    pop = (
        pd.to_numeric(areas["population"], errors="coerce")
        if "population" in areas
        else pd.Series(np.nan, index=areas.index)
    )
    counts = _counts_by_trait(area_of_asset, assets["type"], areas, taxonomy)
    rates = counts.div(pop.where(pop > 0), axis=0) * 1000.0
    is_here = (areas["id"].astype(str) == area_id).to_numpy()
    layer_pop = float(pop.sum()) if pop.notna().any() else None
    noun = LAYER_NOUNS.get(layer, "areas")

    in_area = assets[(area_of_asset == area_id).fillna(False).to_numpy()]
    org_reasons = _reasons(organisations, lambda r: organisation_reasons(r.get("kind"), r.get("themes"), rules))
    story_reasons_ = _reasons(visible_rows(stories), lambda r: story_reasons(r.get("themes"), r.get("method"), rules))
    measure_reasons = _reasons(visible_rows(success_measures), _measure_rule(visible_rows(aspirations), rules))

    out: list[TraitStrength] = []
    for trait, label in taxonomy.traits.items():
        types = supporting_types(taxonomy, trait)
        here = in_area[in_area["type"].isin(types)]
        asset_rows = pd.DataFrame(
            {
                "id": here["id"].astype(str).to_numpy(),
                "name": here["name"].astype(str).to_numpy(),
                "type": here["type"].astype(str).to_numpy(),
                "type_label": [taxonomy.label(t) for t in here["type"]],
            }
        ).sort_values(["type_label", "name"], kind="stable", ignore_index=True)
        count = int(counts.loc[is_here, trait].sum())
        rate = _round(rates.loc[is_here, trait].iloc[0]) if is_here.any() else None
        city_total = int(counts[trait].sum())
        city = _round(city_total * 1000.0 / layer_pop) if layer_pop else None
        standing, fewer, more, n = _compare(rate, rates.loc[~is_here, trait])
        if city_total == 0 and standing != "unknown":
            standing = "none"
        out.append(
            TraitStrength(
                trait=trait,
                label=label,
                assets=asset_rows,
                organisations=_supporting(organisations, org_reasons, trait, ["id", "name", "kind"]),
                stories=_supporting(stories, story_reasons_, trait, ["id", "title"]),
                measures=_supporting(success_measures, measure_reasons, trait, ["id", "measure"]),
                per_1000=rate,
                city_per_1000=city,
                standing=standing,
                areas_with_fewer=fewer,
                areas_with_more=more,
                areas_compared=n,
                in_words=_in_words(count, rate, city, standing, fewer, more, n, noun),
                voice=TRAIT_VOICES.get(trait, ""),
            )
        )
    return AreaTraits(traits=out, rules_from=rules_from)


def _reasons(frame: pd.DataFrame | None, rule) -> list[dict[str, str]]:
    if frame is None or frame.empty:
        return []
    return [rule(r) for r in frame.to_dict("records")]


def _measure_rule(aspirations: pd.DataFrame | None, rules: dict[str, TraitRule]):
    themes: dict[str, list[str]] = {}
    if aspirations is not None and not aspirations.empty and {"id", "theme"} <= set(aspirations.columns):
        themes = {str(i): _themes(t) for i, t in zip(aspirations["id"], aspirations["theme"], strict=True)}

    def rule(r: dict) -> dict[str, str]:
        mine = themes.get(_text(r.get("aspiration_id")), [])
        out: dict[str, str] = {}
        for trait, tr in rules.items():
            why = [f"aspiration theme: {t}" for t in mine if t in tr.themes]
            if why:
                out[trait] = "; ".join(why)
        return out

    return rule


def _supporting(
    frame: pd.DataFrame | None, reasons: list[dict[str, str]], trait: str, columns: list[str]
) -> pd.DataFrame:
    """The rows of ``frame`` whose reasons name ``trait``, with the chosen columns and ``why``."""
    if frame is None or frame.empty or not reasons:
        return pd.DataFrame(columns=[*columns, "why"])
    frame = visible_rows(frame)
    keep = [i for i, r in enumerate(reasons) if trait in r]
    rows = frame.iloc[keep]
    out = pd.DataFrame({c: (rows[c].to_numpy() if c in rows.columns else [None] * len(rows)) for c in columns})
    out["why"] = [reasons[i][trait] for i in keep]
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Gaps, within reach of what is already here
# --------------------------------------------------------------------------------------------


def gaps_within_reach(
    area: pd.Series,
    *,
    areas: gpd.GeoDataFrame,
    assets: gpd.GeoDataFrame,
    assets_in_area: gpd.GeoDataFrame,
    taxonomy: Taxonomy,
    organisations: pd.DataFrame | None = None,
    within_m: float = access.DEFAULT_WITHIN_M,
    nearby: int = 4,
) -> pd.DataFrame:
    """The asset types the area lacks, each with the strengths already within reach that share its purpose.

    A type is a gap when no asset of it lies in the area and the nearest is farther than
    ``within_m`` metres from the area's centre (its centroid, or a point inside it; the same measure
    as the Gaps page). Types with no asset anywhere in the data are left out (absent from the data is
    not absent from the place). Next to each gap: up to ``nearby`` assets in the area or within
    ``within_m`` of its centre whose type supports the gap type's traits (those sharing the most
    traits first, then the nearest; two of a type at most), and the organisations working here on
    one of its themes.

    Returns one row per gap, in taxonomy order: ``type``, ``label``, ``traits`` (labels),
    ``nearest_name``, ``distance_m`` (to the nearest of the type), ``strengths_nearby`` (a list of
    plain texts) and ``organisations_here`` (a list of plain texts).
    """
    columns = ["type", "label", "traits", "nearest_name", "distance_m", "strengths_nearby", "organisations_here"]
    present = set(assets["type"].astype(str))
    types = [t.id for t in taxonomy.types.values() if t.id in present and taxonomy.categories[t.category].mappable]
    if not types or assets.empty:
        return pd.DataFrame(columns=columns)
    origin = access.area_points(gpd.GeoDataFrame(geometry=[area.geometry], crs=areas.crs))
    table = access.nearest_of_each_type(origin, assets, types=types).frame(pd.RangeIndex(1), assets, columns=("name",))
    here_types = set(assets_in_area["type"].astype(str))
    gap_rows = table[(table["distance_m"] > within_m) & ~table["type"].isin(here_types)]
    if gap_rows.empty:
        return pd.DataFrame(columns=columns)

    pts = assets.geometry.to_crs(METRIC_CRS)
    dist = pts.distance(origin.iloc[0])
    close = assets[(dist <= within_m).to_numpy() | assets.index.isin(assets_in_area.index)].copy()
    close["dist_m"] = dist.loc[close.index].to_numpy()
    close = close.sort_values("dist_m", kind="stable")
    orgs = organisations if organisations is not None else pd.DataFrame(columns=["name", "themes"])

    close["in_area"] = close.index.isin(assets_in_area.index)
    rows = []
    for r in gap_rows.itertuples():
        gap = taxonomy.types[r.type]
        known = close["type"].astype(str).map(taxonomy.types)
        close["shared"] = [len(set(t.traits) & set(gap.traits)) if t is not None else 0 for t in known]
        near = close[close["shared"] > 0].sort_values(["shared", "dist_m"], ascending=[False, True], kind="stable")
        near = near.groupby("type", sort=False).head(2).head(nearby)  # the closest kindred, two of a type at most
        strengths = [
            f"{n.name} ({taxonomy.label(n.type)}, {'in the area' if n.in_area else f'{n.dist_m:,.0f} m'})"
            for n in near.itertuples()
        ]
        gap_themes = set(gap.themes)
        on_theme = []
        for o in orgs.to_dict("records"):
            common = [t for t in _themes(o.get("themes")) if t in gap_themes]
            if common:
                on_theme.append(f"{_text(o.get('name'))} (works here on {', '.join(common)})")
        rows.append(
            {
                "type": r.type,
                "label": gap.label,
                "traits": ", ".join(taxonomy.traits.get(t, t) for t in gap.traits),
                "nearest_name": r.name,
                "distance_m": round(float(r.distance_m), 0),
                "strengths_nearby": strengths,
                "organisations_here": on_theme,
            }
        )
    return pd.DataFrame(rows, columns=columns)
