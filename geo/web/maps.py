"""Folium map builders: GeoDataFrames in, ``folium.Map`` out.

Three rules hold for every map built here.

1. **No user text reaches folium unneutralised.** Folium does not escape popups or tooltips, and it
   renders text through Jinja on the server, so ``{{ 7*7 }}`` in a name would be shown as ``49``
   (and worse). Text that goes into HTML passes through :func:`safe_text`; data that goes into a
   script passes through :func:`js_json`, which leaves no ``<``, ``>``, ``&``, ``{`` or ``}`` in
   the output. Popups and tooltips for points are built in the browser with ``textContent``.
2. **Points are lean on the wire.** Each asset type is one clustered layer whose payload is a
   compact columnar JSON: coordinates quantised to 1e-5 degrees (about 1 m) as integers, latitude
   delta-encoded after sorting, and the name. Everything else about an asset (address, opening
   hours, link) lives in a *details* table that the popup reads on the first click: inline for a
   standalone file, or fetched once from the app's static folder.
3. **Nothing comes from a CDN.** Scripts and styles are the XStatic copies in
   :mod:`geo.web.webassets`, linked from ``assets_base_url`` or inlined by :func:`standalone_html`.
   Tiles are a setting (:data:`TILE_SOURCES`), and ``"none"`` gives a map with no tiles at all.

Why this module is long: every map of the app (Explore, a neighbourhood, near me, gaps, an export's
HTML file) is built from the same parts (points payload, clusters, choropleths, legends, fit, the
keyboard layer, outlines), and each part's Python side is here; their JavaScript and CSS are files in
``geo/web/js/``.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

from geo.errors import CRSError, SchemaError
from geo.schema import METRIC_CRS, STORAGE_CRS, Taxonomy
from geo.web import plain_templates, webassets

plain_templates.install()  # rendered map text is not compiled again as Jinja (see the module)

#: Tile sources the app offers. ``"none"`` draws no basemap (the app then needs no internet).
TILE_SOURCES: dict[str, dict[str, str] | None] = {
    "OpenStreetMap": {
        "tiles": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attr": "&copy; <a href='https://www.openstreetmap.org/copyright'>OpenStreetMap</a> contributors",
    },
    "CartoDB positron": {
        "tiles": "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
        "attr": "&copy; <a href='https://www.openstreetmap.org/copyright'>OpenStreetMap</a> contributors &copy; <a href='https://carto.com/attributions'>CARTO</a>",
    },
    "none": None,
}
DEFAULT_TILES = "OpenStreetMap"
MAX_ZOOM = 19
QUANTUM = 1e5  # coordinates are sent as integers of 1e-5 degrees

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
NO_DATA_COLOUR = "#d9d9d9"
FLAG_COLOURS = ("#d7301f", "#fdf1e4")  # highlighted (e.g. beyond reach), not highlighted
SEQUENTIAL = ["#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494"]
# IMD decile 1 (most deprived) to 10 (least deprived): red through to blue.
IMD_COLOURS = [
    "#a50026", "#d73027", "#f46d43", "#fdae61", "#fee090",
    "#e0f3f8", "#abd9e9", "#74add1", "#4575b4", "#313695",
]  # fmt: skip


# --------------------------------------------------------------------------------------------
# Neutralising text
# --------------------------------------------------------------------------------------------


def safe_text(value: object) -> str:
    """Text that is shown literally wherever folium puts it: HTML, a JS template literal, or Jinja.

    HTML-escapes the value and replaces the characters that break or execute inside folium's
    output: backtick, backslash, ``$`` and braces (Jinja's ``{{ }}``). ``None`` and NaN become ``''``.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return (
        html.escape(str(value), quote=True)
        .replace("`", "&#96;")
        .replace("\\", "&#92;")
        .replace("$", "&#36;")
        .replace("{", "&#123;")
        .replace("}", "&#125;")
    )


_JS_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "{": "\\u007b",
    "}": "\\u007d",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_JS_ESCAPE_RE = re.compile("[<>&{}\u2028\u2029]")


def js_json(obj: object) -> str:
    """JSON safe to paste into a ``<script>`` and through Jinja: no ``<>&{}`` characters remain.

    Object braces are structural, so ``obj`` is serialised first and only the characters inside
    strings are escaped (structural braces of dicts are re-inserted). The result is valid JSON and
    a valid JavaScript expression that evaluates to ``obj``.
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _escape_json_strings(text)


#: A JSON string literal (the unrolled form: one pass of the regex engine, no backtracking).
_JSON_STRING = re.compile(r'("[^"\\]*(?:\\.[^"\\]*)*")')


def _escape_json_strings(text: str) -> str:
    # Split the JSON text into what lies between its strings and the strings themselves (found in
    # order from the start, so each match begins at an opening quote), escape inside the strings
    # only, all at once: NUL never occurs raw in JSON text, so it can join and split them again.
    # (29,500 assets' popup details: 0.5 s; a scan character by character took 1.3 to 5.5 s.)
    parts = _JSON_STRING.split(text)
    if len(parts) == 1:
        return text  # no string at all
    strings = "\x00".join(parts[1::2])
    for char, escaped in _JS_ESCAPES.items():  # str.replace: 15x quicker than str.translate here
        strings = strings.replace(char, escaped)
    parts[1::2] = strings.split("\x00")
    return "".join(parts)


def _colour(value: str) -> str:
    if not isinstance(value, str) or not _HEX.match(value):
        raise SchemaError(f"Colour {value!r} is not a hex colour such as '#1565c0'; fix the taxonomy.")
    return value


# --------------------------------------------------------------------------------------------
# Point layers
# --------------------------------------------------------------------------------------------

#: What the popup details table holds per asset, besides its id. Never a column that names people
#: (``created_by``, ``updated_by``, ``contributed_by``, ...): the table is a public file.
DETAIL_FIELDS = ("address", "opening_hours", "url", "status", "description")


def _require_crs(frame: gpd.GeoDataFrame, what: str) -> None:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise SchemaError(f"{what} must be a GeoDataFrame; got {type(frame).__name__}.")
    if frame.crs is None:
        raise CRSError(f"{what} has no CRS; set one with .set_crs() before mapping.")


def order_for_map(assets: gpd.GeoDataFrame, *, taxonomy: Taxonomy) -> gpd.GeoDataFrame:
    """The assets in the order the map sends them: by taxonomy type order, then latitude.

    The details table (:func:`asset_details`) uses the same order, so a point's position in its
    layer plus the layer's offset is its row in the details table.

    Returns a copy in EPSG:4326 with columns ``_lon`` and ``_lat``; points without a geometry are
    dropped (they cannot be mapped).
    """
    _require_crs(assets, "assets")
    pts = assets[assets.geometry.notna() & ~assets.geometry.is_empty].to_crs(STORAGE_CRS).copy()
    if len(pts) and not (pts.geom_type == "Point").all():
        raise SchemaError("Assets must be points; some rows have another geometry type.")
    type_rank = {t: i for i, t in enumerate(taxonomy.types)}
    pts["_lon"] = pts.geometry.x
    pts["_lat"] = pts.geometry.y
    pts["_rank"] = pts["type"].map(type_rank).fillna(len(type_rank)).astype(int)
    ids = pts["id"].astype(str) if "id" in pts.columns else pd.Series(range(len(pts)), index=pts.index).astype(str)
    pts["_id"] = ids
    pts = pts.sort_values(["_rank", "type", "_lat", "_lon", "_id"], kind="mergesort")
    return pts.drop(columns=["_rank", "_id"])


def asset_details(ordered: gpd.GeoDataFrame) -> list[list[str]]:
    """One row of popup details per asset, in map order: address, hours, url, status, description."""
    cols = []
    for f in DETAIL_FIELDS:
        if f in ordered.columns:
            cols.append(ordered[f].astype("string").fillna("").tolist())
        else:
            cols.append([""] * len(ordered))
    return [list(r) for r in zip(*cols, strict=True)] if cols else []


def asset_details_json(ordered: gpd.GeoDataFrame) -> str:
    """The details table as the JSON document the map's popups read (see :func:`explorer_map`).

    ``{"fields": DETAIL_FIELDS, "ids": [asset id, ...], "rows": [[...], ...]}``, in map order. The
    ids let :func:`geo.web.webassets.withdraw_details` find every published table that holds an asset.
    """
    ids = ordered["id"].astype("string").fillna("").tolist() if "id" in ordered.columns else [""] * len(ordered)
    return js_json({"fields": list(DETAIL_FIELDS), "ids": ids, "rows": asset_details(ordered)})


def encode_points(lon: np.ndarray, lat: np.ndarray, names: list[str]) -> dict:
    """The compact columnar form of points (smallest when sorted by latitude, as the map does).

    ``x`` holds longitudes as integers of 1e-5 degrees from ``x0``; ``y`` holds the differences
    between successive latitudes in the same unit (the first from ``y0``).
    """
    if len(lon) == 0:
        return {"x0": 0, "y0": 0, "x": [], "y": [], "n": []}
    x0 = math.floor(float(np.min(lon)) * QUANTUM) / QUANTUM
    y0 = math.floor(float(np.min(lat)) * QUANTUM) / QUANTUM
    xi = np.round((np.asarray(lon) - x0) * QUANTUM).astype(np.int64)
    yi = np.round((np.asarray(lat) - y0) * QUANTUM).astype(np.int64)
    dy = np.diff(yi, prepend=0)
    return {"x0": x0, "y0": y0, "x": xi.tolist(), "y": dy.tolist(), "n": names}


def decode_points(payload: dict) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Inverse of :func:`encode_points` (used by tests and by anyone reading a saved map)."""
    x = np.asarray(payload["x"], dtype=np.int64)
    y = np.cumsum(np.asarray(payload["y"], dtype=np.int64))
    return payload["x0"] + x / QUANTUM, payload["y0"] + y / QUANTUM, list(payload["n"])


@dataclass(frozen=True)
class PointType:
    """One asset type as the map draws it: its label, colour, marker shape and number of points."""

    type_id: str
    label: str
    colour: str
    shape: str
    count: int


def point_types(ordered: gpd.GeoDataFrame, *, taxonomy: Taxonomy) -> list[PointType]:
    """The types of :func:`order_for_map`'s frame, in map order (a type the taxonomy lacks is grey)."""
    out = []
    for type_id, n in ordered.groupby("type", sort=False).size().items():  # in order of first appearance
        known = taxonomy.types.get(type_id)
        out.append(
            PointType(
                type_id=type_id,
                label=known.label if known else str(type_id),
                colour=known.colour if known else "#616161",
                shape=type_shape(type_id, taxonomy),
                count=int(n),
            )
        )
    return out


def points_json(ordered: gpd.GeoDataFrame, *, taxonomy: Taxonomy) -> str:
    """The map's point payload of :func:`order_for_map`'s frame, as the JSON :class:`AssetPoints`
    embeds or :func:`explorer_map`'s ``points_url`` serves: :func:`encode_points` plus, per type in
    map order, ``c`` (points), ``t`` (label), ``k`` (colour) and ``h`` (shape name), ``s`` (the
    shapes' polygons) and ``q`` (the coordinates' unit)."""
    for col in ("name", "type"):
        if col not in ordered.columns:
            raise SchemaError(f"Assets need a {col!r} column to be mapped.")
    kinds = point_types(ordered, taxonomy=taxonomy)
    payload = encode_points(
        ordered["_lon"].to_numpy(), ordered["_lat"].to_numpy(), ordered["name"].astype("string").fillna("").tolist()
    )
    shapes = [k.shape for k in kinds]
    payload.update(
        c=[k.count for k in kinds],
        t=[k.label for k in kinds],
        k=[_colour(k.colour) for k in kinds],
        q=int(QUANTUM),
        h=shapes,
        s={n: MARKER_SHAPES[n] for n in dict.fromkeys(shapes)},
    )
    return js_json(payload)


def _regular(n: int, *, start_deg: float = -90.0, inner: float | None = None) -> list[tuple[float, float]]:
    """A regular polygon (or a star, with ``inner`` radius) scaled to fill the box [-1, 1]^2."""
    pts = []
    steps = n * 2 if inner else n
    for i in range(steps):
        r = inner if inner and i % 2 else 1.0
        a = math.radians(start_deg + 360.0 * i / steps)
        pts.append((r * math.cos(a), r * math.sin(a)))
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    half = max(max(xs) - min(xs), max(ys) - min(ys)) / 2
    return [(round((x - cx) / half, 3), round((y - cy) / half, 3)) for x, y in pts]


#: Marker shapes, one per asset type by its place in the taxonomy (the first type a circle, the
#: second a square, ...), so that types differ by shape as well as colour: a point's meaning never
#: rests on colour alone. Each shape is a polygon in the box [-1, 1] x [-1, 1] (y down), or ``None``
#: for a circle; points are drawn :data:`POINT_RADIUS` pixels from the centre to the box's edge.
MARKER_SHAPES: dict[str, list[tuple[float, float]] | None] = {
    "circle": None,
    "square": [(-0.9, -0.9), (0.9, -0.9), (0.9, 0.9), (-0.9, 0.9)],
    "diamond": [(0.0, -1.0), (1.0, 0.0), (0.0, 1.0), (-1.0, 0.0)],
    "triangle": [(0.0, -1.0), (1.0, 0.9), (-1.0, 0.9)],
    "triangle-down": [(-1.0, -0.9), (1.0, -0.9), (0.0, 1.0)],
    "hexagon": _regular(6, start_deg=0.0),
    "star": _regular(5, inner=0.5),
    "pentagon": _regular(5),
}
#: Half the size of a point, in pixels: points are 24 px across, WCAG 2.2's minimum target size.
POINT_RADIUS = 12
#: The outline of every point and cluster: dark, so a point stands out (3:1 or more) on a light map
#: whatever its fill.
OUTLINE = "#1f1f1f"


def type_shape(type_id: str, taxonomy: Taxonomy) -> str:
    """The marker shape of an asset type: by its place in the taxonomy, the same on every map."""
    names = list(MARKER_SHAPES)
    order = list(taxonomy.types)
    return names[order.index(type_id) % len(names)] if type_id in order else "circle"


def shape_svg(shape: str, colour: str, *, size: int = 14) -> str:
    """A small inline SVG of a marker shape, for legends (``aria-hidden``: the label says it)."""
    vertices = MARKER_SHAPES.get(shape)
    fill = _colour(colour)
    if vertices is None:
        body = f"<circle cx='12' cy='12' r='10' fill='{fill}' stroke='{OUTLINE}' stroke-width='2'/>"
    else:
        d = " ".join(f"{12 + 10 * x:.2f},{12 + 10 * y:.2f}" for x, y in vertices)
        body = f"<polygon points='{d}' fill='{fill}' stroke='{OUTLINE}' stroke-width='2'/>"
    return (
        f"<svg class='cg-shape' width='{size}' height='{size}' viewBox='0 0 24 24' aria-hidden='true' "
        f"focusable='false'>{body}</svg>"
    )


class AssetScripts(JSCSSMixin, MacroElement):
    """The page's shared point helpers, in ``geo/web/js/cg-points.js`` (this element only gives them
    the details' URL or table and the points' style): ``cgDetails`` (the popup details table, inline or fetched
    once), ``cgPopup`` (a popup built with ``textContent``), ``CgPoint`` (a focusable point of any
    :data:`MARKER_SHAPES`), ``cgClusterIcon`` (a cluster showing its types as a ring, named in
    words), ``CgClusterLayer`` (every point in a Supercluster index, only what is in view drawn),
    ``CgTypeLayer`` (one type's points in it) and ``cgFill``.

    Keyboard: every point and cluster is in the tab order with a name (its asset and type, or its
    count and types); Enter or Space on a cluster zooms in to it (or spreads it out at the deepest
    zoom) and moves the focus to the first place that was in it; on a point it opens the popup and
    moves the focus into it; Escape closes the popup and puts the focus back on the point
    (:class:`MapAccess`).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        cgSetup({{ this.options_json }}, {{ this.inline_json }});
        {% endmacro %}
        """
    )

    def __init__(self, *, url: str | None = None, inline_json: str | None = None):
        super().__init__()
        self._name = "AssetScripts"
        self.url = url
        self.options_json = js_json({"url": url, "radius": POINT_RADIUS, "outline": OUTLINE})
        self.inline_json = "null" if url else (inline_json or js_json({"rows": []}))


class AssetClusters(MacroElement):
    """The one cluster group every asset point is clustered in, whatever its type, so clusters of
    different types never pile up on one another (each stays a target of its own): a cluster's
    ring shows the colours of the types in it and its name lists them in words. In the browser it is
    a ``CgClusterLayer`` (``geo/web/js/cg-points.js``): a Supercluster index of the points shown,
    built one zoom per task, from which only the clusters and points in and around the view are drawn."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = cgClusters().addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "AssetClusters"


class AssetTypeGroup(folium.map.Layer):
    """One asset type's points, listed in the layer control (switching it off takes the type's
    points out of the shared clusters); filled by :class:`AssetPoints`."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = new CgTypeLayer({{ this.clusters.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, *, name: str, colour: str, clusters: AssetClusters, shape: str = "circle", show: bool = True):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "AssetTypeGroup"
        self.colour = _colour(colour)
        self.clusters = clusters
        self.shape = shape if shape in MARKER_SHAPES else "circle"


class AssetPoints(MacroElement):
    """Every mapped asset in one compact payload (:func:`points_json`), decoded in the browser into
    the type groups: given in the page (``payload_json``, a standalone file) or fetched from ``url``
    (in the app, where the payload is a file of its own, see :func:`explorer_map`).

    The payload (see :func:`encode_points`) lists points sorted by type then latitude, with ``c``
    (points per type), ``t`` (type labels), ``k`` (colours) and ``h`` (marker shape names) in the
    order of ``groups``, and ``s`` (each shape's polygon, see :data:`MARKER_SHAPES`).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {%- if this.url_json %}
        cgFillFrom({{ this.url_json }}, [{{ this.group_names }}], null, {{ this.clusters_name }});
        {%- else %}
        var d = {{ this.payload_json }};
        cgFill([{{ this.group_names }}], d, null, {{ this.clusters_name }});
        {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(
        self,
        groups: list[AssetTypeGroup],
        *,
        payload_json: str | None = None,
        url: str | None = None,
        clusters: AssetClusters | None = None,
    ):
        super().__init__()
        if (payload_json is None) == (url is None):
            raise ValueError("AssetPoints needs either the payload or its URL, not both.")
        self._name = "AssetPoints"
        self.payload_json = payload_json
        self.url_json = None if url is None else js_json(url)
        self.groups = groups
        # The cluster layer is named even when no type has a point: it is told it has none (else it
        # would wait for points forever, and the page's view with it).
        self.clusters = clusters if clusters is not None else (groups[0].clusters if groups else None)

    @property
    def clusters_name(self) -> str:
        return self.clusters.get_name() if self.clusters is not None else "null"

    @property
    def group_names(self) -> str:
        return ", ".join(g.get_name() for g in self.groups)


class FocusWithoutScroll(MacroElement):
    """Stops the page jumping on the first click into the map.

    Leaflet's keyboard handler focuses the map on the first mouse-down without ``preventScroll``;
    inside Streamlit's iframe that scrolls the whole page, the mouse-up lands elsewhere and the click
    is lost (Leaflet issues #1605, #5392). Keyboard panning stays on; only the focus call changes.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        cgFocusWithoutScroll({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "FocusWithoutScroll"


class FitToContent(MacroElement):
    """Frames the map on its subject in the browser, where the map's real size is known.

    The server only guesses a zoom (:func:`zoom_for_bounds`, for an 800 px map); the frame is then as
    wide as its column, or a phone. ``map.cgFitTo(bounds)`` fits ``bounds`` into the map leaving room for
    a marker's icon at every edge and keeping the legend's corner clear: it leaves a strip beside the
    legend or above it, whichever keeps the closer zoom, so no point is ever drawn under the legend.
    The map refits to its last target when its size changes, until someone moves it.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        cgFitToContent({{ this._parent.get_name() }}, {{ this.bounds_json }}, {{ this.legend_json }});
        {% endmacro %}
        """
    )

    def __init__(self, bounds: tuple[float, float, float, float]):
        super().__init__()
        self._name = "FitToContent"
        minx, miny, maxx, maxy = (float(v) for v in bounds)
        self.bounds_json = js_json([[miny, minx], [maxy, maxx]])

    def render(self, **kwargs):
        # The legend is added to the map after this element: estimate its size from its lines (12 px
        # type at 1.4, about 6.6 px a character, 240 px at most, Leaflet's 10 px corner margin).
        legend = next((c for c in self._parent._children.values() if isinstance(c, Legend)), None)
        self.legend_json = "null"
        if legend is not None:
            open_ = {"w": min(240, 34 + 6.6 * legend.longest) + 10, "h": 8 + 17 * legend.lines + 10}
            self.legend_json = js_json({"open": open_, "folded": {"w": 90, "h": 44}})
        super().render(**kwargs)


class MapAccess(MacroElement):
    """What makes a map usable without a mouse or without sight of it, on every map built here.

    * **A title**: the map's document title, and the accessible name of the frame it is shown in
      (Streamlit titles streamlit-folium's frame "streamlit_folium.st_folium"; the map runs inside
      that frame, from the app's own origin, so it names its frame itself with ``aria-label``, which
      screen readers announce instead of the title, and which leaves the title, that tests and
      tools find the frame by, as it is). The map's region is named the same (``role="region"``,
      ``aria-roledescription="map"``) and described by the keyboard help.
    * **Keyboard help**, shown at the top left while the map itself has the keyboard focus.
    * **Focus never hidden**: a focused place, or an opened popup, that is outside the map or under
      one of its controls (the legend, say) is brought into view by moving the map (``cgUnobscure``).
    * **Escape** closes a popup, and the focus goes back to the point it came from.
    * **Focus and hover alike**: a point or cluster with the keyboard focus shows its tooltip.
    * **Visible focus** on every control, point, cluster and popup; targets at least 24 px.
    * **Zoom** is never disabled (folium's viewport tag forbids pinch-zoom; it is replaced).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        cgMapAccess({{ this._parent.get_name() }}, {{ this.title_json }}, {{ this.keys_json }});
        {% endmacro %}
        """
    )

    KEYS = (
        "Keyboard: Tab moves to the next place or cluster, Shift+Tab back. Enter opens a place's details "
        "or zooms in to a cluster; Escape closes the details. Arrow keys move the map, + and - zoom. "
        "The table beside the map lists the same places."
    )

    def __init__(self, title: str):
        super().__init__()
        self._name = "MapAccess"
        self.title = title
        self.title_json = js_json(title)
        self.keys_json = js_json(self.KEYS)


class Legend(MacroElement):
    """A legend control; every label is neutralised with :func:`safe_text` before it is placed.

    On a wide map it is a plain box (no control in it, so it never crowds the points and clusters
    near it as a target of its own); on a map narrower than 700 px (a phone's, or one beside a table)
    it folds to one "Legend" line that opens it, so it does not hide the map. :class:`FitToContent`
    frames the map so that nothing it was framed on lies under it."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = cgLegend({{ this._parent.get_name() }}, {{ this.html_json }});
        {% endmacro %}
        """
    )

    def __init__(self, sections: list[tuple[str, list[tuple[str, str, str]]]]):
        """``sections`` is ``[(title, [(colour, label, shape), ...]), ...]``, shape 'pt' (a plain
        dot), 'area', or one of :data:`MARKER_SHAPES` (an asset type's marker)."""
        super().__init__()
        self._name = "Legend"
        labels = [str(label) for title, entries in sections for label in [title, *(e[1] for e in entries)] if label]
        self.lines = 1 + sum(1 + len(entries) for _, entries in sections)  # "Legend", each title and entry
        self.longest = max((len(x) for x in labels), default=6)
        body = legend_body(sections)
        self.html_json = js_json(
            f"<div class='cg-legend-title'><b>Legend</b></div><div class='cg-legend-body'>{body}</div>"
        )


def legend_body(sections: list[tuple[str, list[tuple[str, str, str]]]]) -> str:
    """The inside of a :class:`Legend` (see there for ``sections``), every label neutralised: what
    :mod:`geo.web.mapview` puts in place when the page's filters change what the map shows."""
    parts = []
    for title, items in sections:
        if title:
            parts.append(f"<h4>{safe_text(title)}</h4>")
        for colour, label, shape in items:
            if shape in MARKER_SHAPES:
                parts.append(f"<div>{shape_svg(shape, colour)}{safe_text(label)}</div>")
                continue
            cls = " class='pt'" if shape == "pt" else ""
            parts.append(f"<div><i{cls} style='background:{_colour(colour)}'></i>{safe_text(label)}</div>")
    return "".join(parts)


# --------------------------------------------------------------------------------------------
# Boundaries and choropleths
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choropleth:
    """What a boundary layer is coloured by: a value per area (on the layer's index) and its bins."""

    title: str
    values: pd.Series
    kind: str = "sequential"  # "sequential", "imd" (deciles 1-10) or "flag" (True highlighted)
    fmt: str = "{:.2f}"
    flag_labels: tuple[str, str] = ("Yes", "No")


def classify(values: pd.Series, *, k: int = 5) -> tuple[pd.Series, list[float]]:
    """Quantile classes 0..k-1 for the non-missing values (``-1`` where missing) and the bin edges.

    The same classes and edges as mapclassify's ``Quantiles`` (a test compares them on many arrays),
    computed here: importing mapclassify imports scikit-learn, SciPy's statistics and matplotlib's
    pyplot, about 1.6 s of CPU in every new app server's first map (a quarter of it). When values
    repeat, equal edges merge and there are fewer classes.
    """
    v = pd.to_numeric(values, errors="coerce")
    cls = pd.Series(-1, index=values.index, dtype=int)
    ok = v.notna()
    if ok.sum() == 0:
        return cls, []
    uniq = v[ok].nunique()
    k = max(1, min(k, uniq))
    if k == 1:
        cls[ok] = 0
        return cls, [float(v[ok].max())]
    y = v[ok].to_numpy()
    bins = quantile_edges(y, k)
    cls[ok] = np.searchsorted(bins, y, side="left")  # class i holds bins[i-1] < y <= bins[i]
    return cls, [float(b) for b in bins]


def quantile_edges(y: np.ndarray, k: int) -> np.ndarray:
    """The upper edges of ``k`` quantile classes of ``y``, repeated edges merged: mapclassify's
    ``quantile`` (percentiles at 100/k steps, by SciPy's ``scoreatpercentile`` with its default
    linear "fraction" interpolation), written out so that its arithmetic is the same to the bit."""
    ordered = np.sort(np.asarray(y).ravel())
    w = 100.0 / k
    pcts = np.arange(w, 100 + w, w)
    if pcts[-1] > 100.0:
        pcts[-1] = 100.0
    return np.unique(np.array([_score_at_percentile(ordered, float(p)) for p in pcts]))


def _score_at_percentile(ordered: np.ndarray, pct: float) -> float:
    """SciPy's ``scoreatpercentile(a, pct)`` on an already sorted 1-D array (scipy.stats._stats_py)."""
    idx = pct / 100.0 * (len(ordered) - 1)
    i = int(idx)
    if i == idx:
        return float(ordered[i])
    weights = np.array([(i + 1) - idx, idx - i], float)
    return float(np.add.reduce(ordered[i : i + 2] * weights) / weights.sum())


#: The last few answers of :func:`_display_polygons`, by a digest of the geometries, their CRS and the
#: tolerance. Every run of a page with areas on its map needs them, and each run is a new thread, in
#: which pyproj makes its transformers again: 150-200 ms for a city's wards or LSOAs, against 2-5 ms
#: for the digest.
_DISPLAY: OrderedDict[tuple[str, str, float], np.ndarray] = OrderedDict()
_DISPLAY_KEEP = 8
_DISPLAY_LOCK = threading.Lock()


def _display_polygons(boundaries: gpd.GeoDataFrame, *, tolerance_m: float) -> gpd.GeoSeries:
    """Polygons simplified for display in metres with coverage simplification (shared edges stay
    shared), returned in EPSG:4326."""
    geoms = boundaries.geometry
    digest = hashlib.blake2b(b"".join(w or b"-" for w in shapely.to_wkb(geoms.values)), digest_size=20)
    key = (digest.hexdigest(), str(geoms.crs), float(tolerance_m))
    with _DISPLAY_LOCK:
        hit = _DISPLAY.get(key)
        if hit is not None:
            _DISPLAY.move_to_end(key)
    if hit is None:
        metric = geoms.to_crs(METRIC_CRS)
        if tolerance_m > 0 and len(metric):
            try:
                metric = metric.simplify_coverage(tolerance_m)
            except Exception:  # not a valid coverage (overlaps): fall back to per-polygon simplify
                metric = metric.simplify(tolerance_m / 4, preserve_topology=True)
        hit = metric.to_crs(STORAGE_CRS).to_numpy()
        with _DISPLAY_LOCK:
            _DISPLAY[key] = hit
            while len(_DISPLAY) > _DISPLAY_KEEP:
                _DISPLAY.popitem(last=False)
    # shapely geometries are immutable: the series shares them, never the array it could change
    return gpd.GeoSeries(hit.copy(), index=boundaries.index, crs=STORAGE_CRS)


def area_style(
    index: pd.Index, choropleth: Choropleth | None, *, among: pd.Series | None = None
) -> tuple[pd.Series, pd.Series, list[tuple[str, str, str]]]:
    """Each area's fill colour and its value as tooltip text (both on ``index``, text neutralised),
    and the legend entries, for ``choropleth`` (``None``: plain white areas, no values).

    ``among`` (a boolean Series on ``index``) limits the areas whose values set a sequential
    choropleth's classes, e.g. the areas around what a search found; other areas are coloured by
    the same classes (beyond the last, the last class).
    """
    fill = pd.Series("#ffffff", index=index)
    if choropleth is None:
        return fill, pd.Series("", index=index), []
    legend: list[tuple[str, str, str]] = []
    vals = pd.to_numeric(choropleth.values.reindex(index), errors="coerce")
    if choropleth.kind == "flag":
        flags = choropleth.values.reindex(index)
        vals = flags.astype("float")
        fill = flags.map(
            lambda f: FLAG_COLOURS[0] if f is True or f == 1 else (FLAG_COLOURS[1] if pd.notna(f) else NO_DATA_COLOUR)
        )
        legend = [
            (FLAG_COLOURS[0], choropleth.flag_labels[0], "area"),
            (FLAG_COLOURS[1], choropleth.flag_labels[1], "area"),
        ]
    elif choropleth.kind == "imd":
        dec = vals.round()
        fill = dec.map(lambda d: IMD_COLOURS[int(d) - 1] if pd.notna(d) and 1 <= d <= 10 else NO_DATA_COLOUR)
        legend = [(IMD_COLOURS[0], "1 (most deprived 10%)", "area")]
        legend += [(IMD_COLOURS[i], str(i + 1), "area") for i in range(1, 9)]
        legend += [(IMD_COLOURS[9], "10 (least deprived 10%)", "area")]
    else:
        basis = vals if among is None else vals[among.reindex(index).fillna(False).astype(bool)]
        if basis.notna().sum() == 0:
            basis = vals
        _, bins = classify(basis)
        palette = SEQUENTIAL[-len(bins) :] if bins else []
        if bins:
            cls = pd.Series(np.searchsorted(np.asarray(bins), vals.to_numpy(), side="left"), index=index)
            cls = cls.clip(upper=len(bins) - 1).where(vals.notna(), -1)
        else:
            cls = pd.Series(-1, index=index)
        fill = cls.map(lambda c: palette[int(c)] if c >= 0 else NO_DATA_COLOUR)
        lo = float(basis.min()) if basis.notna().any() else 0.0
        for i, b in enumerate(bins):
            low, high = choropleth.fmt.format(lo), choropleth.fmt.format(b)
            label = high if low == high else f"{low} to {high}"
            if i == len(bins) - 1 and vals.max() > b:
                label = f"{low} or more"
            legend.append((palette[i], label, "area"))
            lo = b
    if vals.isna().any():
        legend.append((NO_DATA_COLOUR, "No data", "area"))
    if choropleth.kind == "flag":
        text = [
            choropleth.flag_labels[0] if v == 1 else choropleth.flag_labels[1] if v == 0 else "no data" for v in vals
        ]
    else:
        text = [choropleth.fmt.format(v) if pd.notna(v) else "no data" for v in vals]
    return fill, pd.Series(text, index=index).map(safe_text), legend


#: The areas' fill opacity: plain (no shading), shaded.
AREA_OPACITY = (0.05, 0.6)


def boundary_layer(
    boundaries: gpd.GeoDataFrame,
    *,
    name: str,
    choropleth: Choropleth | None = None,
    tolerance_m: float = 20.0,
    show: bool = True,
    extra_fields: dict[str, pd.Series] | None = None,
    shadable: bool = False,
) -> tuple[folium.GeoJson, list[tuple[str, str, str]]]:
    """A boundary layer as one GeoJson, optionally coloured, with a safe tooltip.

    ``shadable``: the tooltip has a value row even without a choropleth, so that a view
    (:func:`geo.web.mapview.map_view`) can shade the areas in place, naming the value as it goes.

    Returns the layer and its legend entries.
    """
    _require_crs(boundaries, name)
    props = pd.DataFrame(index=boundaries.index)
    props["name"] = boundaries["name"].map(safe_text) if "name" in boundaries else ""
    fill, values, legend = area_style(boundaries.index, choropleth)
    opacity = AREA_OPACITY[choropleth is not None]
    aliases = ["Area"]
    fields = ["name"]
    if choropleth is not None or shadable:
        props["value"] = values
        fields.append("value")
        aliases.append(safe_text(choropleth.title) if choropleth is not None else "Value")
    for title, series in (extra_fields or {}).items():
        col = f"x{len(fields)}"
        props[col] = series.reindex(boundaries.index).map(safe_text).to_numpy()
        fields.append(col)
        aliases.append(safe_text(title))
    props["_fill"] = fill.to_numpy()
    props["_i"] = np.arange(len(props))  # the area's place, by which geo.web.mapview restyles it
    geoms = _display_polygons(boundaries, tolerance_m=tolerance_m)
    frame = gpd.GeoDataFrame(props, geometry=geoms.to_numpy(), crs=STORAGE_CRS)
    frame = frame.set_geometry(frame.geometry.set_precision(1e-5))
    data = json.loads(frame.to_json(drop_id=True))

    def style(feature: dict) -> dict:
        return {
            "fillColor": feature["properties"]["_fill"],
            "color": "#444444",
            "weight": 1,
            "fillOpacity": opacity,
        }

    layer = folium.GeoJson(
        data,
        name=safe_text(name),
        style_function=style,
        highlight_function=lambda f: {"weight": 3, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=False),
        overlay=True,
        control=True,
        show=show,
        zoom_on_click=False,
    )
    return layer, legend


# --------------------------------------------------------------------------------------------
# The explorer map
# --------------------------------------------------------------------------------------------


def zoom_for_bounds(bounds: tuple[float, float, float, float], *, width_px: int = 800, height_px: int = 600) -> int:
    """The largest web-map zoom at which lon/lat ``bounds`` fit in a ``width_px`` x ``height_px`` view."""
    minx, miny, maxx, maxy = bounds
    lon_span = max(maxx - minx, 1e-6)

    def merc(lat: float) -> float:
        lat = max(min(lat, 85.0), -85.0)
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    y_span = max(abs(merc(maxy) - merc(miny)), 1e-9)
    zx = math.log2(width_px * 360.0 / (lon_span * 256.0))
    zy = math.log2(height_px * 2 * math.pi / (y_span * 256.0))
    return int(max(1, min(MAX_ZOOM, math.floor(min(zx, zy)))))


def base_map(
    *,
    bounds: tuple[float, float, float, float],
    tiles: str = DEFAULT_TILES,
    assets_base_url: str | None = None,
    title: str = "Map",
) -> folium.Map:
    """An empty map framed on ``bounds`` (lon/lat), with the chosen tiles and local scripts.

    Parameters
    ----------
    bounds
        ``(minx, miny, maxx, maxy)`` in EPSG:4326.
    tiles
        A key of :data:`TILE_SOURCES`; ``"none"`` draws no basemap.
    assets_base_url
        Where the app serves :mod:`geo.web.webassets` (e.g. ``"/app/static/vendor"``). ``None`` leaves
        the scripts out of the map's links; :func:`standalone_html` then inlines them.
    title
        What the map shows, in words: its title and the title of the frame it is shown in, for
        screen readers (see :class:`MapAccess`).
    """
    if tiles not in TILE_SOURCES:
        raise SchemaError(f"Unknown tile source {tiles!r}; choose one of: {', '.join(TILE_SOURCES)}.")
    minx, miny, maxx, maxy = bounds
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=zoom_for_bounds(bounds),
        tiles=None,
        control_scale=True,
        max_zoom=MAX_ZOOM,
    )
    # With tiles=None folium gives maxZoom to no one; the clusters are indexed up to it (CgClusterLayer).
    m.options["maxZoom"] = MAX_ZOOM
    FocusWithoutScroll().add_to(m)
    MapAccess(title).add_to(m)
    FitToContent(bounds).add_to(m)
    source = TILE_SOURCES[tiles]
    if source is not None:
        folium.TileLayer(
            tiles=source["tiles"], attr=source["attr"], name=safe_text(tiles), max_zoom=MAX_ZOOM, control=False
        ).add_to(m)
    _set_local_assets(m, webassets.MAP_JS, webassets.MAP_CSS, assets_base_url)
    return m


def _set_local_assets(element, js: tuple[str, ...], css: tuple[str, ...], base_url: str | None) -> None:
    # Instance attributes shadow folium's CDN class defaults; st_folium reads them the same way.
    element.default_js = webassets.script_links(js, base_url) if base_url else []
    element.default_css = webassets.links(css, base_url) if base_url else []
    element._cg_inline = (js, css)


def map_title(
    assets: pd.DataFrame,
    *,
    taxonomy: Taxonomy,
    boundary_name: str | None = None,
    choropleth: Choropleth | None = None,
    origin_label: str | None = None,
) -> str:
    """What a map shows, in one line: its title for screen readers.

    For example "Map of 322 assets (GP practice, Dental practice, Pharmacy, Library, Food bank,
    Household waste recycling centre) over Wards, shaded by Assets per 1,000 residents".
    """
    n = len(assets)
    types = (
        []
        if "type" not in assets.columns
        else list(pd.unique(assets["type"].dropna().astype(str).to_numpy(dtype=object)))
    )
    names = [taxonomy.types[t].label if t in taxonomy.types else t for t in types]
    what = f"Map of {n:,} asset{'' if n == 1 else 's'}"
    if 0 < len(names) <= 8:
        what += f" ({', '.join(names)})"
    elif names:
        what += f" of {len(names)} types"
    if origin_label:
        what += f" near {origin_label}"
    if boundary_name:
        what += f" over {boundary_name}"
        if choropleth is not None:
            what += f", shaded by {choropleth.title}"
    return what


def explorer_map(
    assets: gpd.GeoDataFrame,
    *,
    taxonomy: Taxonomy,
    boundaries: gpd.GeoDataFrame | None = None,
    boundary_name: str = "Boundaries",
    choropleth: Choropleth | None = None,
    tiles: str = DEFAULT_TILES,
    assets_base_url: str | None = None,
    details_url: str | None = None,
    points_url: str | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    boundary_fields: dict[str, pd.Series] | None = None,
    origin: tuple[float, float] | None = None,
    origin_label: str = "",
    radius_m: float | None = None,
    title: str | None = None,
    shadable: bool = False,
) -> folium.Map:
    """The asset explorer map: the assets, clustered, over an optional boundary layer; each asset
    type a layer of its own (in the layer control) with its colour and marker shape.

    Parameters
    ----------
    assets
        Point GeoDataFrame with ``id``, ``name`` and ``type`` (and optionally the
        :data:`DETAIL_FIELDS`). Any CRS; it is reprojected here.
    taxonomy
        Gives each type its label, colour and order.
    boundaries
        Polygons with ``name``; drawn under the points (simplified for display).
    choropleth
        Colours the boundaries by a value per area (see :class:`Choropleth`).
    tiles
        A key of :data:`TILE_SOURCES`.
    assets_base_url
        Where the app serves the map's scripts (see :func:`base_map`).
    details_url
        Where the popup fetches the details table (:func:`asset_details_json` of the same frame).
        ``None`` embeds the table in the page instead.
    points_url
        Where the map fetches its points (:func:`points_json` of the same frame, published by the
        caller). ``None`` embeds them in the map's script. Served apart, the points do not travel
        in the page's own messages (a national store's are 1 MB), they arrive while the map's
        scripts load, and the browser can cache them.
    bounds
        Frame the map on these lon/lat bounds; default the boundaries' (else the assets') extent.
    boundary_fields
        More values per area for the boundary tooltip: ``{title: Series on the boundaries' index}``.
    origin, origin_label, radius_m
        A "you are here" point (lon, lat) with a text label, and a circle of ``radius_m`` metres
        around it (e.g. a walking distance).
    title
        The map's title for screen readers (:class:`MapAccess`); by default one that says what the
        map shows (:func:`map_title`).
    shadable
        The areas can be shaded later in place by a view (:func:`geo.web.mapview.map_view`), so the
        map need not be drawn again when the shading changes (Explore).

    Returns
    -------
    folium.Map
        Render it with ``m.get_root().render()``, ``st_folium`` or :func:`standalone_html`.
    """
    ordered = order_for_map(assets, taxonomy=taxonomy)
    for col in ("name", "type"):
        if col not in ordered.columns:
            raise SchemaError(f"Assets need a {col!r} column to be mapped.")
    if bounds is None:
        if boundaries is not None and len(boundaries):
            _require_crs(boundaries, boundary_name)
            bounds = tuple(boundaries.to_crs(STORAGE_CRS).total_bounds)
        elif len(ordered):
            bounds = (ordered["_lon"].min(), ordered["_lat"].min(), ordered["_lon"].max(), ordered["_lat"].max())
        else:
            bounds = (-8.65, 49.86, 1.77, 60.86)  # no data to frame: Great Britain
    if title is None:
        title = map_title(
            ordered,
            taxonomy=taxonomy,
            boundary_name=boundary_name if boundaries is not None else None,
            choropleth=choropleth,
            origin_label=(origin_label or "Here") if origin is not None else None,
        )
    m = base_map(bounds=bounds, tiles=tiles, assets_base_url=assets_base_url, title=title)

    legend_sections: list[tuple[str, list[tuple[str, str, str]]]] = []
    if boundaries is not None:
        layer, entries = boundary_layer(
            boundaries, name=boundary_name, choropleth=choropleth, extra_fields=boundary_fields, shadable=shadable
        )
        layer.add_to(m)
        if entries:
            legend_sections.append((choropleth.title if choropleth else boundary_name, entries))

    details_json = None if details_url else asset_details_json(ordered)
    scripts = AssetScripts(url=details_url, inline_json=details_json)
    _set_local_assets(scripts, webassets.CLUSTER_JS, webassets.CLUSTER_CSS, assets_base_url)
    scripts.add_to(m)

    clusters = AssetClusters()
    clusters.add_to(m)
    type_entries = []
    groups: list[AssetTypeGroup] = []
    for kind in point_types(ordered, taxonomy=taxonomy):
        group = AssetTypeGroup(
            name=f"{safe_text(kind.label)} ({kind.count})", colour=kind.colour, clusters=clusters, shape=kind.shape
        )
        group.add_to(m)
        groups.append(group)
        type_entries.append((kind.colour, f"{kind.label} ({kind.count})", kind.shape))
    if points_url is None:
        AssetPoints(groups, payload_json=points_json(ordered, taxonomy=taxonomy), clusters=clusters).add_to(m)
    else:
        AssetPoints(groups, url=points_url, clusters=clusters).add_to(m)
        if assets_base_url:  # the points' file is asked for first, while the map's scripts arrive
            m.default_js = [webassets.prefetch_link(points_url, assets_base_url), *m.default_js]
    if type_entries:
        legend_sections.insert(0, ("Assets", type_entries))
    if origin is not None:
        lon, lat = origin
        if radius_m:
            folium.Circle(
                [lat, lon],
                radius=float(radius_m),
                color="#e65100",
                weight=2,
                fill=True,
                fill_opacity=0.06,
                tooltip=safe_text(f"{radius_m:,.0f} m in a straight line"),
                interactive=False,
            ).add_to(m)
        folium.CircleMarker(
            [lat, lon],
            radius=9,
            color="#000000",
            weight=3,
            fill=True,
            fill_color="#ffeb3b",
            fill_opacity=1,
            tooltip=safe_text(origin_label or "Here"),
        ).add_to(m)
        legend_sections.append(("", [("#ffeb3b", origin_label or "Here", "pt")]))
    if legend_sections:
        Legend(legend_sections).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    return m


def payload_points(rendered_html: str) -> list[dict]:
    """The point payloads found in a rendered map (for tests and audits): one dict per layer."""
    out = []
    for match in re.finditer(r"var d = (\{.*?\});\n", rendered_html):
        out.append(json.loads(match.group(1)))
    return out


def standalone_html(m: folium.Map) -> str:
    """The map as one HTML file that works opened from disk, with no network but basemap tiles.

    Scripts and styles are inlined from :mod:`geo.web.webassets`; the CDN links folium would add are
    removed.
    """
    js: list[str] = []
    css: list[str] = []

    def walk(el):
        spec = getattr(el, "_cg_inline", None)
        if spec:
            js.extend(n for n in spec[0] if n not in js)
            css.extend(n for n in spec[1] if n not in css)
        for child in getattr(el, "_children", {}).values():
            walk(child)

    walk(m)
    saved = []
    stack = [m]
    while stack:  # drop links so only inline copies are used
        el = stack.pop()
        if hasattr(el, "_cg_inline"):
            saved.append((el, el.default_js, el.default_css))
            el.default_js, el.default_css = [], []
        stack.extend(getattr(el, "_children", {}).values())
    try:
        root = m.get_root()
        key = "cg_inline_assets"
        if key not in root.header._children:
            root.header.add_child(Element(webassets.inline_html(tuple(js) + tuple(css))), name=key)
        return root.render()
    finally:
        for el, djs, dcss in saved:
            el.default_js, el.default_css = djs, dcss


# --------------------------------------------------------------------------------------------
# Asset outlines (parks, grounds, routes): drawn close up
# --------------------------------------------------------------------------------------------

#: Outlines show from this zoom in (about a neighbourhood's streets); farther out the points and
#: clusters say enough, and hundreds of shapes would only clutter the map.
OUTLINE_MIN_ZOOM = 14
#: Outlines are simplified for display to about this many degrees (about 1 m) and rounded to it.
OUTLINE_DISPLAY_DEG = 1e-5


class OutlineLayer(MacroElement):
    """The outlines of assets as one Leaflet GeoJSON layer, on the map only from ``min_zoom`` in.

    The features travel through :func:`js_json` (no ``<>&{}`` left for HTML or Jinja); each name
    becomes its tooltip through ``textContent`` in the browser, so it is shown as text. Outlines
    take the colour of their asset's type and are not in the keyboard's Tab order (the asset's
    point is).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        cgOutlines({{ this._parent.get_name() }}, {{ this.data }}, {{ this.min_zoom }}, {{ this.var_name }});
        {% endmacro %}
        """
    )

    def __init__(self, features: list[dict], *, min_zoom: int = OUTLINE_MIN_ZOOM):
        super().__init__()
        self._name = "OutlineLayer"
        self.data = js_json({"type": "FeatureCollection", "features": features})
        self.min_zoom = int(min_zoom)
        self.var_name = js_json(self.get_name())
        self.count = len(features)


def outline_layer(
    assets: gpd.GeoDataFrame,
    outlines: gpd.GeoSeries | gpd.GeoDataFrame | None,
    *,
    taxonomy: Taxonomy,
    min_zoom: int = OUTLINE_MIN_ZOOM,
) -> OutlineLayer:
    """The outlines of the assets in ``assets`` (those the map shows), drawn from ``min_zoom`` in.

    Parameters
    ----------
    assets
        The assets on the map (``id``, ``name``, ``type``); outlines of other assets (removed,
        pending, filtered out) are left out.
    outlines
        Asset id -> outline (:func:`geo.outlines.read_outlines`), or the ``asset_outlines`` rows.
    taxonomy
        For each type's colour.
    min_zoom
        The zoom from which the outlines show (:data:`OUTLINE_MIN_ZOOM`); Leaflet adds and removes
        the layer on ``zoomend``.

    Returns
    -------
    OutlineLayer
        Add it to the map with ``.add_to(m)``; it holds no feature when no shown asset has an outline.
    """
    from geo.outlines import shown_outlines

    _require_crs(assets, "assets")
    shown = shown_outlines(assets, outlines)
    features: list[dict] = []
    if len(shown):
        cols = [c for c in ("name", "type") if c in assets.columns]
        info = pd.DataFrame(assets[cols]).assign(id=assets["id"].astype(str)).drop_duplicates("id").set_index("id")
        geoms = shapely.simplify(shown.geometry.to_numpy(), OUTLINE_DISPLAY_DEG, preserve_topology=True)
        geoms = shapely.set_precision(geoms, OUTLINE_DISPLAY_DEG)
        for asset_id, geom in zip(shown["id"], geoms, strict=True):
            if geom is None or geom.is_empty:
                continue
            row = info.loc[asset_id]
            t = taxonomy.types.get(str(row.get("type")))
            name = row.get("name")
            features.append(
                {
                    "type": "Feature",
                    "geometry": json.loads(shapely.to_geojson(geom)),
                    "properties": {
                        "name": "" if name is None or name is pd.NA or name != name else str(name),
                        "colour": _colour(t.colour) if t is not None else "#555555",
                    },
                }
            )
    return OutlineLayer(features, min_zoom=min_zoom)
