"""The printable report of one area: an A4 PDF of one to four pages, drawn offline with matplotlib.

Page 1 holds the area's name, its residents and deprivation, a map of the area with its assets
(geopandas' plot in British National Grid: no tiles, nothing fetched) and the start of the sections,
which follow the Resilient Communities framework's order: what the community wants (aspirations)
first, then what is there by type, the gaps (types beyond a walk, :func:`geo.analysis.traits.gaps_within_reach`,
the same rule as the Neighbourhood page), agreed success measures and stories, and the sources and
licences of the data shown.

The report is public: it holds published rows only (:func:`geo.schema.visible_rows`, active assets)
and never the columns naming people (:data:`geo.schema.PERSONAL_COLUMNS`). User text is drawn as
literal text (no mathtext), with control characters removed, and wrapped, so a long name or a word
without spaces cannot run off the page. Long lists are shortened ("and 12 more"), and a report that
would need more than :data:`MAX_PAGES` pages stops there with a note, so it always fits.

Why matplotlib: the map must be drawn offline, and geopandas draws with matplotlib, whose PDF
backend then writes the whole report; reportlab would add a second drawing library for the text.
Fonts are embedded as Type 3 (DejaVu Sans glyphs, with their Unicode mapping, so the text can be
searched and copied): TrueType embedding (``pdf.fonttype`` 42) spent most of the time subsetting the font.

Why this module is long: it lays out a whole printed document (map, tables, charts, the text of
each section) with matplotlib alone, page by page; the layout is one piece of work.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import os
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import schema
from geo.analysis import access, deprivation, profiles, traits
from geo.analysis import areas as analysis
from geo.errors import LayerNotFoundError, ReportError
from geo.io import naming
from geo.schema import METRIC_CRS, Taxonomy
from geo.web import maps

if TYPE_CHECKING:
    from geo.store import Store

#: A4 portrait, in inches (210 x 297 mm).
PAGE_W, PAGE_H = 8.27, 11.69
MARGIN = 0.6
FOOTER = 0.45
MAX_PAGES = 4
#: Rows listed per section before "and N more" (the app has the rest).
MAX_ROWS = 12
#: Asset names listed per type.
MAX_NAMES = 8
#: The longest text of one listed item (an aspiration, a story), in characters.
MAX_ITEM_CHARS = 480
BOUNDARY_WORDS = {"wards": "Ward", "lsoas": "LSOA", "neighbourhoods": "Neighbourhood"}
#: matplotlib markers for the map's shapes (:data:`geo.web.maps.MARKER_SHAPES`): the same shape per type as the app.
MARKERS = {
    "circle": "o",
    "square": "s",
    "diamond": "D",
    "triangle": "^",
    "triangle-down": "v",
    "hexagon": "h",
    "star": "*",
    "pentagon": "p",
}
INK = "#1a1a1a"
MUTED = "#555555"
RULE = "#bbbbbb"
AREA_FILL = "#fff4d6"
AREA_EDGE = "#333333"
CONTEXT_EDGE = "#b0b0b0"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def _clean(value: object) -> str:
    """User text as one plain line: no control or direction characters, spaces collapsed."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    text = _CONTROL.sub(" ", str(value))
    return " ".join(text.split())


@functools.lru_cache(maxsize=8192)
def _width_in(text: str, size: float, bold: bool = False) -> float:
    """The width of ``text`` in DejaVu Sans at ``size`` points, in inches (measured, not guessed)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    prop = FontProperties(family="DejaVu Sans", size=size, weight="bold" if bold else "normal")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a glyph the font lacks is measured as a box
        width, _h, _d = TextToPath().get_text_width_height_descent(text, prop, ismath=False)
    return width / 72


def _wrap(text: object, width_in: float, size: float, *, bold: bool = False) -> list[str]:
    """``text`` as lines no wider than ``width_in`` inches; a word longer than a line is broken."""
    words = _clean(text).split(" ")
    lines: list[str] = []
    line = ""
    for word in words:
        candidate = f"{line} {word}" if line else word
        if _width_in(candidate, size, bold) <= width_in:
            line = candidate
            continue
        if line:
            lines.append(line)
            line = ""
        while _width_in(word, size, bold) > width_in:  # a very long word: as many characters as fit
            n = max(1, len(word) - 1)
            while n > 1 and _width_in(word[:n], size, bold) > width_in:
                n = max(1, int(n * 0.85)) if n > 12 else n - 1
            lines.append(word[:n])
            word = word[n:]
        line = word
    lines.append(line)
    return lines


def _shorten(text: object, width_in: float, size: float, *, bold: bool = False) -> str:
    """``text`` on one line, cut with an ellipsis if it is wider than ``width_in``."""
    lines = _wrap(text, width_in, size, bold=bold)
    if len(lines) == 1:
        return lines[0]
    first = lines[0]
    while first and _width_in(first + "\u2026", size, bold) > width_in:
        first = first[:-1]
    return first.rstrip() + "\u2026"


# --------------------------------------------------------------------------------------------
# What the report says
# --------------------------------------------------------------------------------------------


@dataclass
class ReportContent:
    """Everything the report shows, gathered from the store (published rows, no names of people)."""

    area: dict
    layer: str
    totals: dict
    deprivation: list[str]
    deprivation_method: str
    aspirations: pd.DataFrame
    by_type: pd.DataFrame
    assets: gpd.GeoDataFrame
    gaps: pd.DataFrame
    measures: pd.DataFrame
    stories: pd.DataFrame
    organisations: int
    sources: list[tuple[str, str]]
    area_geometry: gpd.GeoDataFrame
    context: gpd.GeoDataFrame
    taxonomy: Taxonomy
    within_m: float
    made_on: str


def _read(store: Store, name: str) -> pd.DataFrame | None:
    return store.read(name) if store.has_layer(name) else None


def _boundary_frame(store: Store, layer: str) -> gpd.GeoDataFrame:
    if layer not in schema.BOUNDARY_LAYERS or not store.has_layer(layer):
        valid = [n for n in schema.BOUNDARY_LAYERS if store.has_layer(n)]
        raise LayerNotFoundError(f"There is no boundary layer {layer!r}; choose one of: {', '.join(valid)}.")
    return deprivation.boundary_frame(layer, store.read)  # deprivation at every level, as the pages show it


def _deprivation(area: pd.Series, layer: str) -> tuple[list[str], str]:
    """Lines saying the area's deprivation, and how it was computed."""
    decile = pd.to_numeric(pd.Series([area.get("imd_decile")]), errors="coerce").iloc[0]
    if pd.isna(decile):
        return ["Not known for this area."], "The English Indices of Deprivation 2019 are published for LSOAs."
    lines = [f"IMD decile {int(decile)} of 10 (1 = the most deprived 10% of England)"]
    share = pd.to_numeric(pd.Series([area.get("imd_deprived_share")]), errors="coerce").iloc[0]
    method = _clean(area.get("imd_method")) or (
        "Published for each LSOA in the English Indices of Deprivation 2019 (1 = most deprived 10% in England)."
    )
    if layer != "lsoas" and pd.notna(share):
        lines.append(f"{share:.0%} of residents live in England's 20% most deprived LSOAs")
    return lines, method


def _public(frame: pd.DataFrame | None) -> pd.DataFrame:
    if frame is None:
        return pd.DataFrame()
    return schema.public_view(schema.visible_rows(frame))


def gather(
    store: Store,
    area: str,
    *,
    boundaries: str = "wards",
    taxonomy: Taxonomy | None = None,
    within_m: float = access.DEFAULT_WITHIN_M,
    today: dt.date | None = None,
) -> ReportContent:
    """Read what the report of one area shows from the store.

    Parameters
    ----------
    store
        The data store.
    area
        The area's name or id in ``boundaries`` (resolved by :func:`geo.analysis.profiles.find_area`).
    boundaries
        ``wards``, ``lsoas`` or ``neighbourhoods``.
    taxonomy
        Asset types; default the store's own (:func:`geo.store.store_taxonomy`).
    within_m
        The walk: a type is a gap when none is in the area and none within this many metres of its centre.
    today
        The date printed on the report (default today).

    Raises
    ------
    LayerNotFoundError, AreaNotFoundError
        Unknown boundary layer or area.
    """
    from geo.store import store_taxonomy

    tax = taxonomy or store_taxonomy(store)
    areas = _boundary_frame(store, boundaries)
    row = profiles.find_area(areas, area, layer=boundaries)
    assets = analysis.filter_assets(schema.public_view(store.read("assets")))
    prof = profiles.area_profile(
        row,
        layer=boundaries,
        areas=areas,
        assets=assets,
        taxonomy=tax,
        organisations=_read(store, "organisations"),
        organisation_areas=_read(store, "organisation_areas"),
        aspirations=_read(store, "aspirations"),
        success_measures=_read(store, "success_measures"),
        stories=_read(store, "stories"),
    )
    gaps = traits.gaps_within_reach(
        row,
        areas=areas,
        assets=assets,
        assets_in_area=prof.assets_in_area,
        taxonomy=tax,
        organisations=prof.organisations,
        within_m=within_m,
    )
    lines, method = _deprivation(row, boundaries)
    sources = _read(store, "sources")
    credits: list[tuple[str, str]] = []
    if sources is not None and not sources.empty:
        layers = {boundaries, "assets"} | ({"lsoas"} if "LSOA" in method else set())
        shown_types = (
            set(prof.assets_in_area["source"].dropna().astype(str)) if "source" in prof.assets_in_area else set()
        )
        for r in sources.itertuples():
            if r.layer not in layers:
                continue
            if r.layer == "assets" and shown_types and _clean(r.source) not in shown_types:
                continue
            credits.append((_clean(r.source), f"{_clean(r.licence)}. {_clean(r.attribution)}".strip(". ")))
    credits = list(dict.fromkeys(credits))
    ordered = maps.order_for_map(prof.assets_in_area, taxonomy=tax) if len(prof.assets_in_area) else prof.assets_in_area
    return ReportContent(
        area=prof.area,
        layer=boundaries,
        totals=prof.totals,
        deprivation=lines,
        deprivation_method=method,
        aspirations=_public(prof.aspirations),
        by_type=prof.by_type,
        assets=ordered,
        gaps=gaps,
        measures=_public(prof.success_measures),
        stories=_public(prof.stories),
        organisations=len(prof.organisations),
        sources=credits,
        area_geometry=areas[areas["id"].astype(str) == str(row["id"])],
        context=areas,
        taxonomy=tax,
        within_m=within_m,
        made_on=(today or dt.date.today()).isoformat(),
    )


# --------------------------------------------------------------------------------------------
# Layout: blocks of known height, placed on pages, then drawn
# --------------------------------------------------------------------------------------------

LINE = 1.32  # line height as a multiple of the font size


def _line_in(size: float) -> float:
    return size * LINE / 72


@dataclass
class Block:
    """Something of a known height (inches) that draws itself at a given top."""

    height: float
    draw: Callable[[object, float], None]
    keep_with_next: bool = False
    #: Drawn first when this block opens a page (a table's header above its continued rows).
    repeat: Block | None = None
    #: Only space: dropped at the top of a page.
    spacer: bool = False


class _Text:
    """Wrapped lines of one style; splittable between pages line by line."""

    def __init__(self, lines: list[str], *, size: float, x: float = MARGIN, weight: str = "normal",
                 colour: str = INK, style: str = "normal"):  # fmt: skip
        self.lines, self.size, self.x, self.weight, self.colour, self.style = lines, size, x, weight, colour, style

    def blocks(self, *, keep_with_next: bool = False) -> list[Block]:
        h = _line_in(self.size)
        out = []
        for i, line in enumerate(self.lines):
            out.append(
                Block(
                    h,
                    self._drawer(line),
                    keep_with_next=keep_with_next or i < min(1, len(self.lines) - 1),
                )
            )
        return out

    def _drawer(self, line: str):
        def draw(fig, top: float) -> None:
            fig.text(
                self.x / PAGE_W, 1 - (top + _line_in(self.size) * 0.78) / PAGE_H, line, fontsize=self.size,
                fontweight=self.weight, color=self.colour, fontstyle=self.style, parse_math=False,
                va="baseline", ha="left",
            )  # fmt: skip

        return draw


def _space(h: float) -> Block:
    """Vertical space (dropped at the top of a page)."""
    return Block(h, lambda fig, top: None, spacer=True)


def _heading(text: str) -> list[Block]:
    size = 13
    h = _line_in(size) + 0.12

    def draw(fig, top: float) -> None:
        y = 1 - (top + 0.06 + _line_in(size) * 0.78) / PAGE_H
        fig.text(MARGIN / PAGE_W, y, text, fontsize=size, fontweight="bold", color=INK, parse_math=False)
        fig.add_artist(_hline(fig, MARGIN, PAGE_W - MARGIN, top + h - 0.02, colour=RULE, width=0.6))

    return [_space(0.12), Block(h, draw, keep_with_next=True)]


def _hline(fig, x0: float, x1: float, top: float, *, colour: str, width: float):
    from matplotlib.lines import Line2D

    y = 1 - top / PAGE_H
    return Line2D([x0 / PAGE_W, x1 / PAGE_W], [y, y], transform=fig.transFigure, color=colour, linewidth=width)


def _paragraph(text: str, *, size: float = 9.5, colour: str = INK, indent: float = 0.0, style: str = "normal",
               weight: str = "normal", keep_with_next: bool = False) -> list[Block]:  # fmt: skip
    """Wrapped text; ``keep_with_next`` keeps it on the page of what follows (an introduction to a table)."""
    width = PAGE_W - 2 * MARGIN - indent
    lines = _wrap(text, width, size, bold=weight == "bold")
    text_ = _Text(lines, size=size, x=MARGIN + indent, colour=colour, style=style, weight=weight)
    return text_.blocks(keep_with_next=keep_with_next)


def _bullets(items: list[str], *, size: float = 9.5, more: int = 0, what: str = "more") -> list[Block]:
    out: list[Block] = []
    width = PAGE_W - 2 * MARGIN - 0.2
    for item in items:
        item = _clean(item)
        if len(item) > MAX_ITEM_CHARS:  # a printed summary: the app has the whole text
            item = item[:MAX_ITEM_CHARS].rsplit(" ", 1)[0] + "\u2026"
        lines = _wrap(item, width, size)
        lines = ["\u2022  " + lines[0]] + ["    " + ln for ln in lines[1:]]
        out += _Text(lines, size=size, x=MARGIN + 0.05).blocks()
        out.append(_space(0.03))
    if more:
        out += _paragraph(f"... and {more:,} {what}: the Neighbourhood page lists them all.", size=8.5, colour=MUTED,
                          style="italic")  # fmt: skip
    return out


def _table(header: list[str], rows: list[list[str]], widths: list[float], *, size: float = 9.0) -> list[Block]:
    """A table whose cells wrap; one block per row (the header repeats nothing: rows are short)."""
    total = PAGE_W - 2 * MARGIN
    xs = [MARGIN + total * sum(widths[:i]) for i in range(len(widths))]
    inner = [total * w - 0.1 for w in widths]
    line = _line_in(size)

    def row_block(cells: list[str], *, bold: bool, shade: bool) -> Block:
        wrapped = [_wrap(c, w, size, bold=bold) for c, w in zip(cells, inner, strict=True)]
        n = max(len(w) for w in wrapped)
        h = n * line + 0.06

        def draw(fig, top: float) -> None:
            if shade:
                from matplotlib.patches import Rectangle

                fig.add_artist(
                    Rectangle((MARGIN / PAGE_W, 1 - (top + h) / PAGE_H), total / PAGE_W, h / PAGE_H,
                              transform=fig.transFigure, facecolor="#f2f2f2", edgecolor="none", zorder=0)
                )  # fmt: skip
            for x, lines in zip(xs, wrapped, strict=True):
                for i, ln in enumerate(lines):
                    fig.text(
                        (x + 0.04) / PAGE_W, 1 - (top + 0.03 + line * i + line * 0.78) / PAGE_H, ln, fontsize=size,
                        fontweight="bold" if bold else "normal", color=INK, parse_math=False,
                    )  # fmt: skip

        return Block(h, draw, keep_with_next=bold)

    head = row_block(header, bold=True, shade=True)
    out = [head]
    for r in rows:
        row = row_block(r, bold=False, shade=False)
        row.repeat = head
        out.append(row)
    return out


# --------------------------------------------------------------------------------------------
# The map
# --------------------------------------------------------------------------------------------


def _draw_map(ax, content: ReportContent) -> list[tuple[str, str, str, int]]:
    """The area, its neighbours as context and its assets, in British National Grid; returns the legend."""
    area = content.area_geometry.to_crs(METRIC_CRS)
    minx, miny, maxx, maxy = area.total_bounds
    pad = max(maxx - minx, maxy - miny) * 0.1 + 100
    box = (minx - pad, miny - pad, maxx + pad, maxy + pad)
    context = content.context.to_crs(METRIC_CRS).cx[box[0] : box[2], box[1] : box[3]]
    context.plot(ax=ax, facecolor="#f7f7f7", edgecolor=CONTEXT_EDGE, linewidth=0.5)
    area.plot(ax=ax, facecolor=AREA_FILL, edgecolor=AREA_EDGE, linewidth=1.6)
    legend = []
    pts = content.assets
    if len(pts):
        pts = pts.to_crs(METRIC_CRS)
        for type_id, group in pts.groupby("type", sort=False):
            known = content.taxonomy.types.get(str(type_id))
            colour = known.colour if known else "#616161"
            shape = maps.type_shape(str(type_id), content.taxonomy)
            marker = MARKERS.get(shape, "o")
            group.plot(ax=ax, color=colour, marker=marker, markersize=46, edgecolor="#1a1a1a", linewidth=0.7,
                       zorder=3)  # fmt: skip
            legend.append((content.taxonomy.label(str(type_id)), colour, marker, len(group)))
    # keep the frame's shape: the area fills the axes with equal scale in x and y
    w, h = box[2] - box[0], box[3] - box[1]
    frame = ax.get_position(original=True)  # the space given, not what an aspect of an earlier plot left
    ax_w, ax_h = frame.width * PAGE_W, frame.height * PAGE_H
    if w / h > ax_w / ax_h:
        extra = (w * ax_h / ax_w - h) / 2
        box = (box[0], box[1] - extra, box[2], box[3] + extra)
    else:
        extra = (h * ax_w / ax_h - w) / 2
        box = (box[0] - extra, box[1], box[2] + extra, box[3])
    ax.set_xlim(box[0], box[2])
    ax.set_ylim(box[1], box[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    for side in ax.spines.values():
        side.set_edgecolor("#888888")
        side.set_linewidth(0.6)
    _scale_bar(ax, box)
    return legend


def _scale_bar(ax, box: tuple[float, float, float, float]) -> None:
    width = box[2] - box[0]
    nice = [100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000]
    length = max([n for n in nice if n <= width / 4] or [nice[0]])
    x0 = box[0] + width * 0.04
    y0 = box[1] + (box[3] - box[1]) * 0.04
    from matplotlib import patheffects

    halo = [patheffects.withStroke(linewidth=4, foreground="white")]
    ax.plot([x0, x0 + length], [y0, y0], color="#1a1a1a", linewidth=2.2, solid_capstyle="butt", zorder=5,
            path_effects=halo)  # fmt: skip
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length} m"
    ax.text(x0 + length / 2, y0 + (box[3] - box[1]) * 0.015, label, ha="center", va="bottom", fontsize=7.5,
            color="#1a1a1a", zorder=5, parse_math=False, path_effects=halo)  # fmt: skip
    ax.text(box[2] - width * 0.04, box[3] - (box[3] - box[1]) * 0.05, "N \u2191", ha="right", va="top", fontsize=9,
            fontweight="bold", color="#1a1a1a", zorder=5)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------


def _number(value: object) -> str:
    """A measure's value as people write it: ``38`` rather than ``38.0``; text as it is."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not pd.isna(value):
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0").rstrip(".")
    return _clean(value)


def _cut(frame: pd.DataFrame, limit: int | None = None) -> tuple[pd.DataFrame, int]:
    limit = MAX_ROWS if limit is None else limit
    return frame.head(limit), max(0, len(frame) - limit)


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame.columns else pd.Series([""] * len(frame), index=frame.index)


def _aspirations(c: ReportContent, limit: int) -> list[Block]:
    out = _heading("What the community wants")
    if c.aspirations.empty:
        return out + _paragraph(
            f"No aspirations are recorded for {_clean(c.area['name'])} yet. They come from the community: a group "
            "raises them and they are recorded against the area in Common Ground (Aspirations and success).",
            colour=MUTED,
        )
    shown, more = _cut(c.aspirations, limit)
    items = []
    for text, theme, by, on in zip(_col(shown, "text"), _col(shown, "theme"), _col(shown, "raised_by"),
                                   _col(shown, "raised_on"), strict=True):  # fmt: skip
        extra = ", ".join(p for p in (_clean(theme), f"raised by {_clean(by)}" if _clean(by) else "", _clean(on)) if p)
        items.append(_clean(text) + (f" ({extra})" if extra else ""))
    return out + _bullets(items, more=more, what="more aspirations")


def _what_is_here(c: ReportContent, limit: int) -> list[Block]:
    t = c.totals
    out = _heading("What is here, by type")
    if not len(c.assets):
        return out + _paragraph(
            f"No assets in the data lie inside {_clean(c.area['name'])}. The gaps below say what is within a walk.",
            colour=MUTED,
        )
    out += _paragraph(
        f"{t['total']:,} assets in the area"
        + (f", {t['per_1000']:.2f} per 1,000 residents (all areas together: {t['city_per_1000']:.2f})" if t["per_1000"] is not None and t["city_per_1000"] is not None else "")
        + ". Only active assets are shown.",
        keep_with_next=True,
    )  # fmt: skip
    out.append(Block(0.05, lambda fig, top: None, keep_with_next=True))
    rows = []
    here = c.by_type[c.by_type["count"] > 0]
    for r in here.itertuples():
        names = c.assets.loc[c.assets["type"] == r.type, "name"].map(_clean).tolist()
        n_names = min(MAX_NAMES, limit)
        listed = "; ".join(names[:n_names]) + (f"; and {len(names) - n_names} more" if len(names) > n_names else "")
        rate = "n/a" if r.per_1000 is None or pd.isna(r.per_1000) else f"{r.per_1000:.2f}"
        city = "n/a" if r.city_per_1000 is None or pd.isna(r.city_per_1000) else f"{r.city_per_1000:.2f}"
        rows.append([_clean(r.label), f"{int(r.count)}", f"{rate} ({city})", listed])
    return out + _table(["Type", "Here", "Per 1,000 (all areas)", "Which"], rows, [0.22, 0.07, 0.17, 0.54])


def _gaps(c: ReportContent) -> list[Block]:
    walk = f"{c.within_m:,.0f} m"
    out = _heading("Gaps: types beyond a walk")
    if c.gaps.empty:
        return out + _paragraph(
            f"Every type of asset in the data has one in the area or within {walk} of its centre.", colour=MUTED
        )
    out += _paragraph(
        f"Types with none in the area and none within {walk} of its centre (straight line, about a "
        f"{access.walk_minutes_estimate(c.within_m):.0f}-minute walk, estimated), each beside the strengths already "
        "here or within reach that serve the same traits: where to start.",
        size=8.5, colour=MUTED, keep_with_next=True,
    )  # fmt: skip
    out.append(Block(0.05, lambda fig, top: None, keep_with_next=True))
    rows = []
    for r in c.gaps.itertuples():
        nearest = f"{_clean(r.nearest_name)}, {float(r.distance_m):,.0f} m" if pd.notna(r.distance_m) else ""
        strengths = "; ".join(_clean(s) for s in (r.strengths_nearby or [])) or "none recorded"
        rows.append([_clean(r.label), nearest, strengths])
    return out + _table(["Gap", "Nearest", "Strengths within reach"], rows, [0.2, 0.3, 0.5])


def _measures_and_stories(c: ReportContent, limit: int) -> list[Block]:
    out = _heading("Agreed success measures and stories")
    if c.measures.empty:
        out += _paragraph("No success measures are agreed for this area yet.", colour=MUTED)
    else:
        shown, more = _cut(c.measures, limit)
        items = []
        for r in shown.itertuples():
            parts = [
                f"{label} {_number(getattr(r, col, ''))}"
                for col, label in (
                    ("horizon", "horizon"),
                    ("baseline", "baseline"),
                    ("target", "target"),
                    ("current", "now"),
                )  # fmt: skip
                if _clean(getattr(r, col, ""))
            ]
            by = _clean(getattr(r, "agreed_by", ""))
            items.append(_clean(getattr(r, "measure", "")) + (f" ({', '.join(parts)})" if parts else "")
                         + (f"; agreed by {by}" if by else ""))  # fmt: skip
        out += _paragraph("Success measures", weight="bold") + _bullets(items, more=more, what="more measures")
    out.append(_space(0.06))
    if c.stories.empty:
        out += _paragraph("No stories of success are recorded for this area yet.", colour=MUTED)
    else:
        shown, more = _cut(c.stories, limit)
        items = []
        for r in shown.itertuples():
            title, summary, when = (
                _clean(getattr(r, "title", "")),
                _clean(getattr(r, "summary", "")),
                _clean(getattr(r, "date", "")),
            )
            items.append(title + (f" ({when})" if when else "") + (f": {summary}" if summary else ""))
        out += _paragraph("Stories", weight="bold") + _bullets(items, more=more, what="more stories")
    return out


def _sources(c: ReportContent) -> list[Block]:
    out = _heading("Sources and licences")
    items = [f"{source}: {credit}" for source, credit in c.sources] or ["The store lists no sources for these layers."]
    out += _bullets(items, size=8.0)
    out += _paragraph(
        "Deprivation: " + c.deprivation_method + " The map is drawn from the same boundary and asset data "
        "(British National Grid, no basemap). Aspirations, measures and stories are published contributions; "
        "people's names are never included.",
        size=8.0, colour=MUTED,
    )  # fmt: skip
    return out


# --------------------------------------------------------------------------------------------
# Page 1's top and the drawing
# --------------------------------------------------------------------------------------------

TITLE_SIZE = 20
#: The map's height on page 1 follows the area's shape, within these bounds (inches).
MAP_H_MIN, MAP_H_MAX = 2.9, 4.6


def _map_height(c: ReportContent, width: float) -> float:
    minx, miny, maxx, maxy = c.area_geometry.to_crs(METRIC_CRS).total_bounds
    w, h = max(maxx - minx, 1.0), max(maxy - miny, 1.0)
    return float(np.clip(width * h / w, MAP_H_MIN, MAP_H_MAX))


def _title_lines(name: str) -> list[str]:
    width = PAGE_W - 2 * MARGIN
    lines = _wrap(name, width, TITLE_SIZE, bold=True)
    return lines if len(lines) <= 3 else lines[:2] + [_shorten(" ".join(lines[2:]), width, TITLE_SIZE, bold=True)]


def _facts(c: ReportContent) -> list[tuple[str, list[str]]]:
    a, t = c.area, c.totals
    pop = "unknown" if a["population"] is None else f"{a['population']:,}"
    note = ["An estimate: LSOA mid-2020 populations shared out by area"] if a["population_is_estimate"] else []
    return [
        ("Residents", [pop, *note]),
        ("Deprivation", c.deprivation),
        ("Area", [f"{a['area_km2']:,.2f} km\u00b2"]),
        ("Assets here", [f"{t['total']:,}", *([f"{t['per_1000']:.2f} per 1,000 residents"] if t["per_1000"] is not None else [])]),
        ("Organisations working here", [f"{c.organisations:,}"]),
    ]  # fmt: skip


def _draw_top(fig, c: ReportContent) -> float:
    """Page 1's top (title, facts beside the map); returns where the sections start (inches from the top)."""
    y = MARGIN
    for line in _title_lines(c.area["name"]):
        fig.text(MARGIN / PAGE_W, 1 - (y + _line_in(TITLE_SIZE) * 0.8) / PAGE_H, line, fontsize=TITLE_SIZE,
                 fontweight="bold", color=INK, parse_math=False)  # fmt: skip
        y += _line_in(TITLE_SIZE)
    sub = (f"{BOUNDARY_WORDS.get(c.layer, c.layer)} {c.area['id']}. Area report from Common Ground, "
           f"{c.made_on}.")  # fmt: skip
    for line in _wrap(sub, PAGE_W - 2 * MARGIN, 9.5):
        fig.text(MARGIN / PAGE_W, 1 - (y + _line_in(9.5) * 0.8) / PAGE_H, line, fontsize=9.5, color=MUTED,
                 parse_math=False)  # fmt: skip
        y += _line_in(9.5)
    y += 0.12
    fig.add_artist(_hline(fig, MARGIN, PAGE_W - MARGIN, y, colour=AREA_EDGE, width=1.0))
    y += 0.15
    top = y
    # facts on the left
    facts_w = 2.55
    fy = top
    for label, lines in _facts(c):
        fig.text(MARGIN / PAGE_W, 1 - (fy + _line_in(8.5) * 0.8) / PAGE_H, label.upper(), fontsize=7.5,
                 color=MUTED, fontweight="bold", parse_math=False)  # fmt: skip
        fy += _line_in(8.5)
        for i, text in enumerate(lines):
            size = 13 if i == 0 and label in ("Residents", "Assets here") else 9.5
            for ln in _wrap(text, facts_w, size, bold=size > 10):
                fig.text(MARGIN / PAGE_W, 1 - (fy + _line_in(size) * 0.8) / PAGE_H, ln, fontsize=size, color=INK,
                         fontweight="bold" if size > 10 else "normal", parse_math=False)  # fmt: skip
                fy += _line_in(size)
        fy += 0.1
    # the map on the right, its legend under it
    map_x = MARGIN + facts_w + 0.2
    map_w = PAGE_W - MARGIN - map_x
    map_h = _map_height(c, map_w)
    ax = fig.add_axes((map_x / PAGE_W, 1 - (top + map_h) / PAGE_H, map_w / PAGE_W, map_h / PAGE_H))
    legend = _draw_map(ax, c)
    ly = top + map_h + 0.08
    if legend:
        from matplotlib.lines import Line2D

        per_row = 2
        col_w = map_w / per_row
        for i, (label, colour, marker, n) in enumerate(legend):
            lx = map_x + (i % per_row) * col_w
            row_y = ly + (i // per_row) * _line_in(8)
            yy = 1 - (row_y + _line_in(8) * 0.55) / PAGE_H
            fig.add_artist(Line2D([(lx + 0.08) / PAGE_W], [yy], marker=marker, color=colour, markeredgecolor="#1a1a1a",
                                  markersize=6, markeredgewidth=0.6, linestyle="none", transform=fig.transFigure))  # fmt: skip
            text = _shorten(f"{label} ({n})", col_w - 0.25, 8)
            fig.text((lx + 0.2) / PAGE_W, 1 - (row_y + _line_in(8) * 0.8) / PAGE_H, text, fontsize=8, color=INK,
                     parse_math=False)  # fmt: skip
        ly += ((len(legend) + per_row - 1) // per_row) * _line_in(8)
    else:
        fig.text(map_x / PAGE_W, 1 - (ly + _line_in(8) * 0.8) / PAGE_H, "No assets are mapped inside the area.",
                 fontsize=8, color=MUTED)  # fmt: skip
        ly += _line_in(8)
    return max(fy, ly) + 0.1


def _paginate(blocks: list[Block], first_top: float) -> tuple[list[list[tuple[Block, float]]], bool]:
    """Place blocks on pages (a heading stays with what follows it); at most :data:`MAX_PAGES` pages."""
    bottom = PAGE_H - MARGIN - FOOTER
    pages: list[list[tuple[Block, float]]] = [[]]
    y = first_top
    i = 0
    cut = False
    while i < len(blocks):
        b = blocks[i]
        # the height of b and whatever must stay with it
        need, j = b.height, i
        while blocks[j].keep_with_next and j + 1 < len(blocks) and need < 1.2:
            j += 1
            need += blocks[j].height
        if y + need > bottom and y > MARGIN + 0.01:
            if len(pages) == MAX_PAGES:
                cut = True
                break
            pages.append([])
            y = MARGIN
            if b.spacer:  # no space at a page's top
                i += 1
                continue
            if b.repeat is not None:  # a table goes on: its header again
                pages[-1].append((b.repeat, y))
                y += b.repeat.height
        pages[-1].append((b, y))
        y += b.height
        i += 1
    return pages, cut


def render_pdf(content: ReportContent) -> bytes:
    """The report as PDF bytes (A4, one to :data:`MAX_PAGES` pages)."""
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    c = content
    with matplotlib.rc_context({"pdf.fonttype": 3, "font.family": "DejaVu Sans", "text.usetex": False}):
        first = Figure(figsize=(PAGE_W, PAGE_H))
        start = _draw_top(first, c)
        # Fewer rows per list until everything, the sources included, fits in MAX_PAGES; cut only if even that fails.
        for limit in dict.fromkeys((MAX_ROWS, 8, 5, 3, 1)):
            sections = (_aspirations(c, limit) + _what_is_here(c, limit) + _gaps(c) + _measures_and_stories(c, limit)
                        + _sources(c))  # fmt: skip
            pages, cut = _paginate(sections, start)
            if not cut:
                break
        if cut:
            note = _paragraph(
                f"The report stops here to stay within {MAX_PAGES} page{'s' if MAX_PAGES != 1 else ''}; "
                "the Neighbourhood page has the rest.",
                size=8.5, colour=MUTED, style="italic",
            )  # fmt: skip
            room = sum(b.height for b in note) + 0.1
            while pages[-1] and pages[-1][-1][1] + pages[-1][-1][0].height + room > PAGE_H - MARGIN - FOOTER:
                pages[-1].pop()
            last_y = pages[-1][-1][1] + pages[-1][-1][0].height + 0.1 if pages[-1] else MARGIN
            for b in note:
                pages[-1].append((b, last_y))
                last_y += b.height
        buf = io.BytesIO()
        meta = {"Title": f"{_clean(c.area['name'])}: area report", "Author": "Common Ground",
                "Subject": f"{BOUNDARY_WORDS.get(c.layer, c.layer)} {c.area['id']}", "Creator": "Common Ground",
                "CreationDate": None}  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # glyphs a font lacks are drawn as boxes
            with PdfPages(buf, metadata=meta) as pdf:
                for n, placed in enumerate(pages, start=1):
                    fig = first if n == 1 else Figure(figsize=(PAGE_W, PAGE_H))
                    for block, top in placed:
                        block.draw(fig, top)
                    footer = f"Common Ground area report: {_clean(c.area['name'])}"
                    footer = _shorten(footer, PAGE_W - 2 * MARGIN - 1.2, 7.5)
                    fig.text(MARGIN / PAGE_W, MARGIN / 2 / PAGE_H, footer, fontsize=7.5, color=MUTED, parse_math=False)
                    fig.text(1 - MARGIN / PAGE_W, MARGIN / 2 / PAGE_H, f"page {n} of {len(pages)}", fontsize=7.5,
                             color=MUTED, ha="right")  # fmt: skip
                    pdf.savefig(fig)
        return buf.getvalue()


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def report_pdf(store: Store, area: str, *, boundaries: str = "wards", **options) -> bytes:
    """The PDF report of one area as bytes (for a download button): :func:`gather` then :func:`render_pdf`."""
    return render_pdf(gather(store, area, boundaries=boundaries, **options))


@dataclass(frozen=True)
class ReportResult:
    """What :func:`write_report` wrote; :meth:`as_dict` is the JSON of ``python -m geo report --json``."""

    path: Path
    area: dict
    pages: int
    size_bytes: int

    def as_dict(self) -> dict:
        return {"path": str(self.path), "area": self.area, "pages": self.pages, "size_bytes": self.size_bytes,
                "format": "pdf", "paper": "A4"}  # fmt: skip


def pdf_page_count(data: bytes) -> int:
    """Pages of a PDF that matplotlib wrote (its page tree's ``/Count``)."""
    counts = [int(m) for m in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", data)]
    counts += [int(m) for m in re.findall(rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", data)]
    return max(counts) if counts else 0


def write_report(store: Store, area: str, *, out_path: str | os.PathLike, boundaries: str = "wards",
                 **options) -> ReportResult:  # fmt: skip
    """Write the PDF report of one area to ``out_path`` (atomically: replaced whole or left as it was).

    Raises
    ------
    ReportError
        The output path is not a ``.pdf`` in an existing folder.
    LayerNotFoundError, AreaNotFoundError
        Unknown boundary layer or area.
    """
    out = Path(out_path).expanduser()
    if not str(out_path).strip() or out.suffix.lower() != ".pdf":
        raise ReportError(f"The report is a PDF; name the output file with .pdf, e.g. {out.stem or 'report'}.pdf.")
    if not out.parent.is_dir():
        raise ReportError(f"The folder {out.parent} does not exist; create it or choose another output path.")
    if out.is_dir():
        raise ReportError(f"{out} is a folder; give the report a file name such as {out / 'report.pdf'}.")
    content = gather(store, area, boundaries=boundaries, **options)
    data = render_pdf(content)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return ReportResult(
        path=out,
        area={"layer": boundaries, "id": content.area["id"], "name": content.area["name"]},
        pages=pdf_page_count(data),
        size_bytes=len(data),
    )


def report_filename(area: dict, *, today: dt.date | None = None) -> str:
    """The report's file name, after what it holds: ``firth-park_ward_report_2026-11-29.pdf``."""
    return naming.export_filename(area["name"], layer=area["layer"], what="report", ext=".pdf", today=today)
