"""The app's colours as QGIS default styles (QML) and SLD, stored in a GeoPackage's ``layer_styles``."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geo import schema
from geo.errors import ExportError, SchemaError
from geo.io.exports._common import has_geometry
from geo.schema import Taxonomy

QGIS_STYLE_VERSION = "3.28.0-Firenze"


UNKNOWN_TYPE_COLOUR = "#616161"


OTHER_POINT_COLOUR = "#455a64"


BOUNDARY_OUTLINE = "#444444"


BOUNDARY_OUTLINE_MM = {"wards": 0.66, "neighbourhoods": 0.46, "lsoas": 0.26}


_STYLE_NAMESPACE = uuid.UUID("5d0c3b0e-2f0e-4d7c-9a53-6c1b8f0c2a11")


@dataclass(frozen=True)
class LayerStyle:
    """How one layer is drawn: one symbol, or one per value of ``column`` (a categorized renderer).

    Parameters
    ----------
    layer
        The layer (table) name the style belongs to.
    geometry
        ``"point"`` or ``"polygon"``.
    classes
        ``(value, label, hex colour)`` per category; empty for a single symbol.
    column
        The attribute the categories are on (``"type"`` for assets); ``None`` for a single symbol.
    fill
        Hex colour of the single symbol (ignored when ``classes`` are given).
    fill_alpha
        Opacity of fills, 0 to 255.
    outline, outline_width_mm
        The outline (polygons) or marker edge (points).
    description
        One line for people, stored beside the style.
    """

    layer: str
    geometry: str
    classes: tuple[tuple[str, str, str], ...] = ()
    column: str | None = None
    fill: str = OTHER_POINT_COLOUR
    fill_alpha: int = 255
    outline: str = "#ffffff"
    outline_width_mm: float = 0.4
    description: str = ""

    def qml(self) -> str:
        """The QGIS style document (QML) QGIS 3 reads from ``layer_styles.styleQML`` or a ``.qml`` file.

        Checked against QGIS 3.22 (Debian's ``python3-qgis``): a layer of an exported GeoPackage loads
        it as its default style ("Loaded from Provider"), with the categories, labels and colours here.
        """
        root = ET.Element("qgis", {"version": QGIS_STYLE_VERSION, "styleCategories": "Symbology"})
        kind = "marker" if self.geometry == "point" else "fill"
        if self.classes and self.column:
            renderer = ET.SubElement(
                root,
                "renderer-v2",
                {"type": "categorizedSymbol", "attr": self.column, "forceraster": "0", "symbollevels": "0",
                 "enableorderby": "0", "referencescale": "-1"},
            )  # fmt: skip
            cats = ET.SubElement(renderer, "categories")
            for i, (value, label, _colour) in enumerate(self.classes):
                ET.SubElement(
                    cats,
                    "category",
                    {"render": "true", "symbol": str(i), "value": value, "label": label,
                     "uuid": "{" + str(uuid.uuid5(_STYLE_NAMESPACE, f"{self.layer}:{value}")) + "}"},
                )  # fmt: skip
            symbols = ET.SubElement(renderer, "symbols")
            for i, (_value, _label, colour) in enumerate(self.classes):
                self._qml_symbol(symbols, str(i), kind, colour)
            source = ET.SubElement(renderer, "source-symbol")
            self._qml_symbol(source, "0", kind, self.fill)
        else:
            renderer = ET.SubElement(
                root,
                "renderer-v2",
                {"type": "singleSymbol", "forceraster": "0", "symbollevels": "0", "enableorderby": "0",
                 "referencescale": "-1"},
            )  # fmt: skip
            symbols = ET.SubElement(renderer, "symbols")
            self._qml_symbol(symbols, "0", kind, self.fill)
        ET.SubElement(root, "blendMode").text = "0"
        ET.SubElement(root, "featureBlendMode").text = "0"
        ET.SubElement(root, "layerGeometryType").text = "0" if self.geometry == "point" else "2"
        body = ET.tostring(root, encoding="unicode")
        return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"

    def _qml_symbol(self, parent: ET.Element, name: str, kind: str, colour: str) -> None:
        symbol = ET.SubElement(
            parent, "symbol", {"type": kind, "name": name, "alpha": "1", "clip_to_extent": "1", "force_rhr": "0"}
        )
        unit_scale = "3x:0,0,0,0,0,0"
        if kind == "marker":
            layer_class = "SimpleMarker"
            props = {
                "angle": "0",
                "color": _rgba(colour, 255),
                "horizontal_anchor_point": "1",
                "joinstyle": "bevel",
                "name": "circle",
                "offset": "0,0",
                "offset_map_unit_scale": unit_scale,
                "offset_unit": "MM",
                "outline_color": _rgba(self.outline, 255),
                "outline_style": "solid",
                "outline_width": f"{self.outline_width_mm:g}",
                "outline_width_map_unit_scale": unit_scale,
                "outline_width_unit": "MM",
                "scale_method": "diameter",
                "size": "2.8",
                "size_map_unit_scale": unit_scale,
                "size_unit": "MM",
                "vertical_anchor_point": "1",
            }
        else:
            layer_class = "SimpleFill"
            props = {
                "border_width_map_unit_scale": unit_scale,
                "color": _rgba(colour, self.fill_alpha),
                "joinstyle": "bevel",
                "offset": "0,0",
                "offset_map_unit_scale": unit_scale,
                "offset_unit": "MM",
                "outline_color": _rgba(self.outline, 255),
                "outline_style": "solid",
                "outline_width": f"{self.outline_width_mm:g}",
                "outline_width_unit": "MM",
                "style": "solid",
            }
        layer = ET.SubElement(symbol, "layer", {"class": layer_class, "enabled": "1", "locked": "0", "pass": "0"})
        # QGIS >= 3.16 reads the <Option> map; older releases read <prop k v>. Both say the same.
        options = ET.SubElement(layer, "Option", {"type": "Map"})
        for k, v in props.items():
            ET.SubElement(options, "Option", {"type": "QString", "name": k, "value": v})
        for k, v in props.items():
            ET.SubElement(layer, "prop", {"k": k, "v": v})

    def sld(self) -> str:
        """The same style as an OGC SLD 1.1 document (for tools that do not read QML)."""
        root = ET.Element(
            "StyledLayerDescriptor",
            {
                "version": "1.1.0",
                "xmlns": "http://www.opengis.net/sld",
                "xmlns:ogc": "http://www.opengis.net/ogc",
                "xmlns:se": "http://www.opengis.net/se",
                "xmlns:xlink": "http://www.w3.org/1999/xlink",
                "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
                "xsi:schemaLocation": "http://www.opengis.net/sld "
                "http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd",
            },
        )
        named = ET.SubElement(root, "NamedLayer")
        ET.SubElement(named, "se:Name").text = self.layer
        user = ET.SubElement(named, "UserStyle")
        ET.SubElement(user, "se:Name").text = self.layer
        fts = ET.SubElement(user, "se:FeatureTypeStyle")
        rules = self.classes if (self.classes and self.column) else ((None, self.layer, self.fill),)
        for value, label, colour in rules:
            rule = ET.SubElement(fts, "se:Rule")
            ET.SubElement(rule, "se:Name").text = label
            ET.SubElement(ET.SubElement(rule, "se:Description"), "se:Title").text = label
            if value is not None:
                flt = ET.SubElement(rule, "ogc:Filter")
                eq = ET.SubElement(flt, "ogc:PropertyIsEqualTo")
                ET.SubElement(eq, "ogc:PropertyName").text = self.column
                ET.SubElement(eq, "ogc:Literal").text = value
            if self.geometry == "point":
                sym = ET.SubElement(rule, "se:PointSymbolizer")
                graphic = ET.SubElement(sym, "se:Graphic")
                mark = ET.SubElement(graphic, "se:Mark")
                ET.SubElement(mark, "se:WellKnownName").text = "circle"
                fill = ET.SubElement(mark, "se:Fill")
                _svg(fill, "fill", colour)
                stroke = ET.SubElement(mark, "se:Stroke")
                _svg(stroke, "stroke", self.outline)
                _svg(stroke, "stroke-width", "1")
                ET.SubElement(graphic, "se:Size").text = "10"
            else:
                sym = ET.SubElement(rule, "se:PolygonSymbolizer")
                fill = ET.SubElement(sym, "se:Fill")
                _svg(fill, "fill", colour)
                _svg(fill, "fill-opacity", f"{self.fill_alpha / 255:.2f}")
                stroke = ET.SubElement(sym, "se:Stroke")
                _svg(stroke, "stroke", self.outline)
                _svg(stroke, "stroke-width", f"{self.outline_width_mm / 0.28:.1f}")
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _svg(parent: ET.Element, name: str, value: str) -> None:
    ET.SubElement(parent, "se:SvgParameter", {"name": name}).text = value


def _rgba(hex_colour: str, alpha: int) -> str:
    """``#1565c0`` -> ``21,101,192,255`` (QGIS's colour notation)."""
    if not (isinstance(hex_colour, str) and re.fullmatch("#[0-9a-fA-F]{6}", hex_colour)):
        raise SchemaError(f"Colour {hex_colour!r} is not a hex colour such as '#1565c0'; fix the taxonomy.")
    h = hex_colour[1:]
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{int(alpha)}"


def geometry_kind(frame: gpd.GeoDataFrame) -> str | None:
    """``"point"``, ``"polygon"``, ``"line"`` or ``None`` (no located feature) for a frame's geometries."""
    g = frame.geometry
    kinds = set(g[has_geometry(g)].geom_type)
    if not kinds:
        return None
    if kinds <= {"Point", "MultiPoint"}:
        return "point"
    if kinds <= {"Polygon", "MultiPolygon"}:
        return "polygon"
    if kinds <= {"LineString", "MultiLineString"}:
        return "line"
    raise ExportError(f"The layer mixes geometry types ({', '.join(sorted(kinds))}); export each type separately.")


def style_for_layer(name: str, frame: gpd.GeoDataFrame, *, taxonomy: Taxonomy) -> LayerStyle | None:
    """The app's look for a layer as a :class:`LayerStyle` (``None`` for tables and lines).

    Points with a ``type`` column (assets) get a categorized style: every taxonomy type with its
    colour and label, in taxonomy order, then any other type found in the data in grey. Polygons get a
    near-transparent fill with a dark outline (thicker for larger areas). Other points get one colour.
    """
    if not isinstance(frame, gpd.GeoDataFrame) or name == schema.OUTLINES_LAYER:
        return None  # outlines: QGIS's own style (areas and lines in one layer)
    kind = geometry_kind(frame)
    if kind is None and name in schema.LAYERS and schema.LAYERS[name].geometry:
        kind = schema.LAYERS[name].geometry.lower()
    spec = schema.LAYERS.get(name)
    description = spec.description if spec else ""
    if kind == "point" and "type" in frame.columns:
        classes = [(t.id, t.label, t.colour) for t in taxonomy.types.values()]
        known = set(taxonomy.types)
        extra = sorted({str(v) for v in frame["type"].dropna().unique()} - known)
        classes += [(v, v, UNKNOWN_TYPE_COLOUR) for v in extra]
        return LayerStyle(
            layer=name, geometry="point", classes=tuple(classes), column="type", fill=UNKNOWN_TYPE_COLOUR,
            description=f"Common Ground: {description or name}, coloured by type",
        )  # fmt: skip
    if kind == "point":
        return LayerStyle(
            layer=name, geometry="point", fill=OTHER_POINT_COLOUR, description=f"Common Ground: {description or name}"
        )
    if kind == "polygon":
        return LayerStyle(
            layer=name, geometry="polygon", fill="#ffffff", fill_alpha=13, outline=BOUNDARY_OUTLINE,
            outline_width_mm=BOUNDARY_OUTLINE_MM.get(name, 0.46), description=f"Common Ground: {description or name}",
        )  # fmt: skip
    return None


def write_layer_styles(path: Path, styles: Sequence[tuple[LayerStyle, str]]) -> None:
    """Add QGIS's ``layer_styles`` table (same columns and types as QGIS creates) to a GeoPackage.

    ``styles`` pairs each style with its layer's geometry column name. Written through GDAL, so the
    table is registered in ``gpkg_contents`` as an ``attributes`` table. ``f_table_catalog`` and
    ``f_table_schema`` are empty strings, as QGIS matches ``f_table_schema=''`` when it loads the
    default style of a GeoPackage layer.
    """
    if not styles:
        return
    now = pd.Timestamp.now(tz="UTC").floor("ms")
    rows = pd.DataFrame(
        {
            "f_table_catalog": pd.Series([""] * len(styles), dtype=object),
            "f_table_schema": pd.Series([""] * len(styles), dtype=object),
            "f_table_name": [s.layer for s, _ in styles],
            "f_geometry_column": [g for _, g in styles],
            "styleName": [s.layer for s, _ in styles],
            "styleQML": [s.qml() for s, _ in styles],
            "styleSLD": [s.sld() for s, _ in styles],
            "useAsDefault": pd.Series([True] * len(styles), dtype=bool),
            "description": [s.description for s, _ in styles],
            "owner": pd.Series([""] * len(styles), dtype=object),
            "ui": pd.Series([""] * len(styles), dtype=object),
            "update_time": pd.Series([now] * len(styles)),
        }
    )
    pyogrio.write_dataframe(rows, path, layer="layer_styles", driver="GPKG", layer_options={"FID": "id"})
    # The GeoPackage DATETIME form is YYYY-MM-DDTHH:MM:SS.SSSZ; GDAL leaves out zero milliseconds,
    # which older readers report as non-conformant.
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
    with contextlib.closing(sqlite3.connect(path)) as con, con:
        con.execute("UPDATE layer_styles SET update_time = ?", (stamp,))
