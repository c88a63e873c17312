"""What a map shows, changed in place: the page's filters applied to a map that is already drawn.

A map built by :func:`geo.web.maps.explorer_map` holds *every* asset a page could show. What the page's
filters leave of them is a small *view* (:func:`map_view`): which points are shown (as ranges of
their place in the map's order), the layer names and the legend for them, each area's colour and
value, a box to zoom to, and the map's title. :func:`view_script` turns the view into a few lines
of JavaScript that :class:`ViewScripts` (added to the map once) applies without redrawing it: points
leave or join the clusters, areas are recoloured, the legend and the title are rewritten.

So a filter change sends a few kilobytes instead of the whole map, and the browser keeps the map,
its scripts, its zoom and its popups' details (see ``pages/_mapview.py``).

Every text in a view is neutralised as in :mod:`geo.web.maps`: labels with :func:`geo.web.maps.safe_text`
(they become HTML), the whole view with :func:`geo.web.maps.js_json` (it goes into a script).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from geo.schema import STORAGE_CRS, Taxonomy
from geo.web import maps


class ViewScripts(MacroElement):
    """Defines ``cgApplyView(map, view)`` in the map's page (see the module's docstring)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        cgViewOf({{ this._parent.get_name() }}, {{ this.key_json }});
        {% endmacro %}
        """
    )

    def __init__(self, key: str = "map"):
        super().__init__()
        self._name = "ViewScripts"
        self.key_json = maps.js_json(key)


def _texts(values: pd.Series) -> np.ndarray:
    """The values as Python strings in an object array (missing values stay missing)."""
    arr = values.to_numpy(dtype=object, na_value=None)
    return np.array([None if v is None else str(v) for v in arr], dtype=object) if arr.dtype != object else arr


def _index(values: np.ndarray) -> pd.Index:
    """An object-dtype index (pandas would infer Arrow strings, whose isin loops in Python)."""
    return pd.Index(values, dtype=object)


def _distinct(values: pd.Series) -> list:
    """The distinct values in order of first appearance (``dict.fromkeys`` over an Arrow string
    column iterates it in Python: 0.9 s for 29,500 rows)."""
    return list(pd.unique(values.to_numpy(dtype=object, na_value=None)))


def shown_ranges(all_ids: pd.Series, shown_ids) -> list[list[int]] | None:
    """The places (in map order, ``all_ids``) of the shown assets as ``[[start, length], ...]``;
    ``None`` when every asset is shown. Filters by type give few long ranges; a search few short ones."""
    # As plain Python strings (object dtype): pandas' isin on Arrow strings loops in Python (0.3 s for
    # 29,500 ids, against a few milliseconds through a hash table).
    shown = _index(_texts(pd.Series(list(shown_ids), dtype=object))).dropna()
    flags = _index(_texts(all_ids)).isin(shown)
    if flags.all():
        return None
    out: list[list[int]] = []
    idx = np.flatnonzero(flags)
    if len(idx) == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) != 1)
    starts = np.concatenate(([idx[0]], idx[breaks + 1]))
    ends = np.concatenate((idx[breaks], [idx[-1]]))
    for a, b in zip(starts, ends, strict=True):
        out.append([int(a), int(b - a + 1)])
    return out


def fit_bounds(shown: gpd.GeoDataFrame) -> list[list[float]] | None:
    """``[[south, west], [north, east]]`` of the shown points (what Leaflet's ``fitBounds`` takes)."""
    pts = shown[shown.geometry.notna() & ~shown.geometry.is_empty]
    if pts.empty:
        return None
    minx, miny, maxx, maxy = pts.to_crs(STORAGE_CRS).total_bounds
    down, up = (lambda v: math.floor(float(v) * 1e5) / 1e5), (lambda v: math.ceil(float(v) * 1e5) / 1e5)
    return [[down(miny), down(minx)], [up(maxy), up(maxx)]]  # rounded outwards, so every point is inside


def map_view(
    ordered: gpd.GeoDataFrame,
    shown: gpd.GeoDataFrame,
    *,
    taxonomy: Taxonomy,
    areas: gpd.GeoDataFrame | None = None,
    choropleth: maps.Choropleth | None = None,
    among: pd.Series | None = None,
    boundary_name: str | None = None,
    zoom_to: list[list[float]] | None = None,
) -> dict:
    """The view of a map built from ``ordered`` (:func:`geo.web.maps.order_for_map` of every asset the
    map holds) when only ``shown`` (a subset, by ``id``) is to be seen.

    ``areas`` and ``choropleth`` as given to the map (the colours and values follow ``choropleth``,
    classed among the areas ``among``, see :func:`geo.web.maps.area_style`); ``zoom_to`` a box to fit
    the map to (``None``: the map's own frame).
    """
    shown_ordered = ordered[_index(_texts(ordered["id"])).isin(_index(_texts(shown["id"])).dropna())]
    counts = shown_ordered["type"].value_counts()
    names: list[str] = []
    for type_id in _distinct(ordered["type"]):
        known = taxonomy.types.get(type_id)
        label = known.label if known else str(type_id)
        names.append(f"{maps.safe_text(label)} ({int(counts.get(type_id, 0))})")
    entries = []
    for type_id in _distinct(shown_ordered["type"]):
        known = taxonomy.types.get(type_id)
        label = known.label if known else str(type_id)
        colour = known.colour if known else "#616161"
        entries.append((colour, f"{label} ({int(counts.get(type_id, 0))})", maps.type_shape(type_id, taxonomy)))
    sections: list[tuple[str, list[tuple[str, str, str]]]] = [("Assets", entries)] if entries else []
    view: dict = {
        "r": shown_ranges(ordered["id"], shown_ordered["id"]) if len(shown_ordered) < len(ordered) else None,
        "n": names,
        "b": zoom_to,
        "t": maps.map_title(
            shown_ordered,
            taxonomy=taxonomy,
            boundary_name=boundary_name if areas is not None else None,
            choropleth=choropleth,
        ),
    }
    if areas is not None:
        # Every area's colour, value, opacity and the value's name: the map can be shaded in place
        # (a map built with ``shadable=True`` takes any shading, or none, without being drawn again).
        fill, values, legend = maps.area_style(areas.index, choropleth, among=among)
        view["f"] = fill.tolist()
        view["v"] = values.tolist()
        view["o"] = maps.AREA_OPACITY[choropleth is not None]
        view["a"] = choropleth.title if choropleth is not None else None
        if choropleth is not None and legend:
            sections.append((choropleth.title, legend))
    view["l"] = maps.legend_body(sections)
    return view


def relay_script(view: dict, *, key: str, drawn: str = "") -> str:
    """A ``<script>`` for the page (not the map's frame) that hands ``view`` to the map whose
    :class:`ViewScripts` has ``key``: at once if that map is drawn, else when it is (the map takes
    it from ``window.cgViews`` as it starts). ``drawn`` names the map's drawing (e.g. a hash of
    its script), so that a new drawing of the map gets the view again.

    The page sends this small element on a filter change instead of changing the map's own
    element, which would send the whole map again (Streamlit re-sends an element that changed).

    Each relay waits (every 50 ms, up to 20 s) for its map to be drawn. Streamlit takes the element
    of an earlier run out of the page, but its timers go on, so a relay whose view has since been
    replaced in ``window.cgViews`` stops: otherwise, when the map came, the earlier relay could
    apply its view after the later one (a search's results then showed every point).
    """
    data = maps.js_json({"key": key, "view": view, "drawn": drawn})
    return (
        "<script>(function (m) {"
        "window.cgViews = window.cgViews || {}; window.cgViews[m.key] = m.view;"
        "var tries = 0;"
        "function apply() {"
        "if (window.cgViews[m.key] !== m.view) { return; }"
        "var done = false;"
        "document.querySelectorAll('iframe').forEach(function (f) {"
        "try { var w = f.contentWindow;"
        "if (w && w.cgMapKey === m.key && w.cgApplyView && w.cgMap) { w.cgApplyView(w.cgMap, m.view); done = true; }"
        "} catch (e) {} });"
        "if (!done && tries++ < 400) { setTimeout(apply, 50); }"
        "}"
        f"apply();}})({data});</script>"
    )
