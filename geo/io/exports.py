"""Writing layers out for people and other tools.

Formats (the keys of :data:`FORMATS`)
    ``gpkg``     GeoPackage holding the exported layer and, as context, the chosen boundary layer (or the
                 one area), with the app's colours as QGIS default styles in the ``layer_styles`` table
                 (QGIS applies them when the layer is added; the SLD beside each QML serves other tools).
    ``geojson``  GeoJSON (RFC 7946, EPSG:4326).
    ``shp``      a zipped Shapefile (``.shp .shx .dbf .prj .cpg``, UTF-8) with ``fields.csv`` and
                 ``README.txt`` giving the shortened field names (see :func:`shapefile_field_names`).
    ``csv``      CSV with ``lon``/``lat`` columns for points (see :func:`csv_bytes`; read it back with
                 :func:`read_csv_export`).
    ``kml``      KML with each feature's name and description (read it back with :func:`read_kml_export`).
    ``html``     a standalone HTML map (:func:`geo.web.maps.explorer_map` + :func:`geo.web.maps.standalone_html`).

One entry point, :func:`export_layer`, filters a store layer by area and asset type and writes any of
them; the writers (``write_*``) and the byte helpers the pages use (:func:`csv_bytes`,
:func:`geojson_bytes`, ...) work on frames directly.

Every file is written atomically: into a private temporary folder beside the target, flushed, then
moved over the target with one ``os.replace``. A failure at any point leaves no partial file, and an
existing file at the target is left as it was.

Text is data, never markup. KML viewers (Google Earth among them) show names, descriptions and
extended data as HTML, so every text value written to KML is the HTML-escaped text (``&lt;b&gt;``
shows as ``<b>``; :func:`read_kml_export` reverses it). CSV cells that a spreadsheet would run as a
formula get a leading ``'`` (:func:`geo.textsafe.defuse_formula`). Columns that
name people (``created_by``, ``updated_by``, ``contributed_by``) are left out unless asked for.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import html
import io
import os
import re
import shutil
import sqlite3
import tempfile
import uuid
import warnings
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo import outlines, schema
from geo.analysis import areas as analysis
from geo.analysis import profiles
from geo.errors import (  # noqa: F401 (defined with every error in geo.errors; re-exported here)
    CommonGroundError,
    CRSError,
    ExportError,
    LayerNotFoundError,
    SchemaError,
)
from geo.io import naming
from geo.schema import STORAGE_CRS, Taxonomy
from geo.store import fsync_file
from geo.textsafe import defuse_formula, restore_formula
from geo.textsafe import table_safe as table_safe  # re-exported: what the pages show with st.dataframe
from geo.web import maps

# The formula guard's old private names (geo.io.imports still uses ``_restore_formula``).
_defuse_formula = defuse_formula
_restore_formula = restore_formula

if TYPE_CHECKING:
    from geo.store import Store

#: The export formats and what each one is, for help texts and error messages.
FORMATS: dict[str, str] = {
    "gpkg": "GeoPackage with QGIS styles",
    "geojson": "GeoJSON",
    "shp": "zipped Shapefile",
    "csv": "CSV with lon/lat",
    "kml": "KML",
    "html": "standalone HTML map",
}
#: The file name ending each format is usually given (``shp`` must be a ``.zip``).
EXTENSIONS: dict[str, str] = {
    "gpkg": ".gpkg",
    "geojson": ".geojson",
    "shp": ".zip",
    "csv": ".csv",
    "kml": ".kml",
    "html": ".html",
}
#: The CRSs a file can be written in: the store's own (GPS degrees) and British National Grid (metres),
#: what planners' GIS uses. GeoJSON (RFC 7946), KML and the HTML map are EPSG:4326 by definition.
CRS_CHOICES: dict[str, str] = {
    "EPSG:4326": "WGS 84 longitude/latitude (GPS, web maps)",
    "EPSG:27700": "British National Grid, metres (planners' GIS)",
}
#: Formats that can be written in another CRS than EPSG:4326.
REPROJECTABLE = ("gpkg", "shp", "csv")
#: Columns that name people (an email, a username); exported only with ``include_contributors=True``.
#: The columns naming people: the data model's one list (left out of exports unless asked for).
PEOPLE_COLUMNS = schema.PERSONAL_COLUMNS
#: Layers that are never exported (the audit log holds people's names and every past value).
NOT_EXPORTED = ("audit_log",)
#: What an assets GeoJSON's geometry is: each asset's point, or its outline where it has one.
GEOMETRIES = ("point", "outline")
#: Statuses exported by default: what the app publishes.
DEFAULT_STATUSES = ("active",)
DBF_NAME_CHARS = 10
GPKG_VERSION = "1.2"
DBF_TEXT_BYTES = 254
SHAPEFILE_MAPPING_FILE = "fields.csv"
SHAPEFILE_README = "README.txt"
QGIS_STYLE_VERSION = "3.28.0-Firenze"
UNKNOWN_TYPE_COLOUR = "#616161"
OTHER_POINT_COLOUR = "#455a64"
BOUNDARY_OUTLINE = "#444444"
BOUNDARY_OUTLINE_MM = {"wards": 0.66, "neighbourhoods": 0.46, "lsoas": 0.26}
#: Columns the LIBKML reader adds to every KML layer; :func:`read_kml_export` drops them.
_KML_READER_COLUMNS = (
    "timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude", "visibility", "drawOrder", "icon", "snippet",
)  # fmt: skip
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_STYLE_NAMESPACE = uuid.UUID("5d0c3b0e-2f0e-4d7c-9a53-6c1b8f0c2a11")


# --------------------------------------------------------------------------------------------
# Bytes for downloads (the pages use these)
# --------------------------------------------------------------------------------------------


def _in_storage_crs(frame: gpd.GeoDataFrame, crs: str = STORAGE_CRS) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise CRSError("The layer has no CRS; set one with .set_crs() before exporting.")
    return frame.to_crs(crs)


def check_crs(crs: object) -> str:
    """``crs`` as a key of :data:`CRS_CHOICES` (``27700``, ``epsg:27700`` and ``EPSG:27700`` alike), or
    raise :class:`ExportError` naming the choices."""
    text = str(crs or "").strip().upper().replace(" ", "")
    key = f"EPSG:{text}" if text.isdigit() else text
    if key not in CRS_CHOICES:
        raise ExportError(f"Unknown export CRS {crs!r}; choose one of: {', '.join(CRS_CHOICES)}.")
    return key


def _present(geoms: gpd.GeoSeries) -> pd.Series:
    return geoms.notna() & ~geoms.is_empty


def csv_bytes(frame: gpd.GeoDataFrame | pd.DataFrame, *, crs: str = STORAGE_CRS) -> bytes:
    """UTF-8 CSV (with BOM, so Excel reads accents); points get ``lon`` and ``lat`` columns (or
    ``easting`` and ``northing`` in metres, to the centimetre, when ``crs`` is EPSG:27700).

    Points without a location get empty ``lon``/``lat``; other geometries are left out (the CSV then
    holds attributes only). Cells starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return
    (after any quotes) are prefixed with ``'`` so that a spreadsheet does not run them as formulas
    (CSV injection); :func:`read_csv_export` removes exactly that prefix again.
    """
    is_geo = isinstance(frame, gpd.GeoDataFrame)
    out = pd.DataFrame(frame.drop(columns=[frame.geometry.name])) if is_geo else frame.copy()
    if is_geo and len(frame):
        g = _in_storage_crs(frame, crs).geometry
        present = _present(g)
        if present.any() and (g[present].geom_type == "Point").all():
            lon = pd.Series(np.nan, index=frame.index)
            lat = pd.Series(np.nan, index=frame.index)
            lon[present] = g[present].x
            lat[present] = g[present].y
            degrees = check_crs(crs) == STORAGE_CRS
            x_name, y_name, digits = ("lon", "lat", 7) if degrees else ("easting", "northing", 2)
            out[x_name] = lon.round(digits)
            out[y_name] = lat.round(digits)
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(defuse_formula)
    return out.to_csv(index=False).encode("utf-8-sig")


def geojson_bytes(frame: gpd.GeoDataFrame) -> bytes:
    """GeoJSON (RFC 7946, EPSG:4326) as UTF-8 bytes."""
    return _in_storage_crs(frame).to_json(drop_id=True, ensure_ascii=False).encode("utf-8")


def gpkg_bytes(layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame], *, taxonomy: Taxonomy | None = None) -> bytes:
    """A GeoPackage of ``layers`` with QGIS styles, as bytes (see :func:`write_gpkg`)."""
    return _via_file(lambda p: write_gpkg(layers, p, taxonomy=taxonomy), ".gpkg")


def shapefile_zip_bytes(frame: gpd.GeoDataFrame, *, layer_name: str = "features") -> bytes:
    """A zipped Shapefile of ``frame`` as bytes (see :func:`write_shapefile_zip`)."""
    return _via_file(lambda p: write_shapefile_zip(frame, p, layer_name=layer_name), ".zip")


def kml_bytes(frame: gpd.GeoDataFrame, *, layer_name: str = "features") -> bytes:
    """KML of ``frame`` as bytes (see :func:`write_kml`)."""
    return _via_file(lambda p: write_kml(frame, p, layer_name=layer_name), ".kml")


def _via_file(write, suffix: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="cg-export-") as tmp:
        path = Path(tmp) / f"export{suffix}"
        write(path)
        return path.read_bytes()


# --------------------------------------------------------------------------------------------
# Atomic files
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _atomic_target(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a private path to write; on success it replaces ``path`` in one ``os.replace``.

    The private path lies in a hidden temporary folder beside ``path`` (so the move never crosses
    file systems); the folder is removed whatever happens.
    """
    target = Path(path)
    if not target.parent.is_dir():
        raise ExportError(f"The folder {target.parent} does not exist; create it or choose another output path.")
    if target.is_dir():
        raise ExportError(f"{target} is a folder; give the output a file name such as {target / 'export'}.")
    tmpdir = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        tmp = tmpdir / target.name
        yield tmp
        if not tmp.is_file():
            raise ExportError(f"Nothing was written for {target.name}; please report this.")
        fsync_file(tmp)
        os.replace(tmp, target)
        with contextlib.suppress(OSError):
            fsync_file(target.parent)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# QGIS styles (QML) and SLD
# --------------------------------------------------------------------------------------------


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


def _geometry_kind(frame: gpd.GeoDataFrame) -> str | None:
    """``"point"``, ``"polygon"``, ``"line"`` or ``None`` (no located feature) for a frame's geometries."""
    g = frame.geometry
    kinds = set(g[_present(g)].geom_type)
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
    kind = _geometry_kind(frame)
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


def _write_layer_styles(path: Path, styles: Sequence[tuple[LayerStyle, str]]) -> None:
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


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------


def _gpkg_geometry_type(name: str, frame: gpd.GeoDataFrame) -> tuple[str, bool]:
    if name == schema.OUTLINES_LAYER:  # parks and routes together: a generic geometry column
        kinds = set(frame.geometry[_present(frame.geometry)].geom_type)
        if kinds and kinds <= {"Polygon", "MultiPolygon"}:
            return "MultiPolygon", True
        if kinds and kinds <= {"LineString", "MultiLineString"}:
            return "MultiLineString", True
        return "Unknown", False
    kind = _geometry_kind(frame)
    if kind is None:
        spec = schema.LAYERS.get(name)
        kind = spec.geometry.lower() if spec and spec.geometry else None
    if kind == "polygon":
        return "MultiPolygon", True
    if kind == "line":
        return "MultiLineString", True
    if kind == "point":
        kinds = set(frame.geometry[_present(frame.geometry)].geom_type)
        return ("MultiPoint", True) if "MultiPoint" in kinds else ("Point", False)
    return "Unknown", False


def write_gpkg(
    layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame],
    path: str | os.PathLike,
    *,
    taxonomy: Taxonomy | None = None,
    crs: str = STORAGE_CRS,
) -> dict[str, int]:
    """Write several layers to one new GeoPackage, with QGIS default styles, atomically.

    Parameters
    ----------
    layers
        ``{layer name: frame}``; GeoDataFrames become spatial layers (EPSG:4326, spatial index),
        DataFrames become attribute tables.
    path
        The ``.gpkg`` to create (replaced if it exists).
    taxonomy
        Gives asset types their colours and labels; default :func:`geo.schema.load_taxonomy`.
    crs
        The CRS of the spatial layers (default EPSG:4326; EPSG:27700 for British National Grid).

    Returns
    -------
    dict
        Features written per layer.
    """
    if not layers:
        raise ExportError("There is nothing to write; give at least one layer.")
    if "layer_styles" in layers:
        raise ExportError("'layer_styles' is the QGIS style table's name; give the layer another name.")
    tax = taxonomy or schema.load_taxonomy()
    counts: dict[str, int] = {}
    with _atomic_target(path) as tmp:
        styles: list[tuple[LayerStyle, str]] = []
        for name, frame in layers.items():
            spec = schema.LAYERS.get(name)
            options = {"DESCRIPTION": spec.description} if spec and spec.description else {}
            # GeoPackage 1.2 when the file is created: GDAL < 3.7 (e.g. QGIS 3.22 on Debian 12) warns on 1.4
            created = {} if tmp.exists() else {"VERSION": GPKG_VERSION}
            if isinstance(frame, gpd.GeoDataFrame):
                out = _in_storage_crs(frame, crs)
                gtype, promote = _gpkg_geometry_type(name, out)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    pyogrio.write_dataframe(
                        out, tmp, layer=name, driver="GPKG", geometry_type=gtype, promote_to_multi=promote,
                        spatial_index=True, layer_options=options, dataset_options=created,
                    )  # fmt: skip
                style = style_for_layer(name, out, taxonomy=tax)
                if style is not None:
                    geom_column = pyogrio.read_info(tmp, layer=name)["geometry_name"]
                    styles.append((style, str(geom_column)))
            else:
                pyogrio.write_dataframe(
                    pd.DataFrame(frame), tmp, layer=name, driver="GPKG", layer_options=options, dataset_options=created
                )
            counts[name] = int(len(frame))
        _write_layer_styles(tmp, styles)
    return counts


def write_geojson(frame: gpd.GeoDataFrame, path: str | os.PathLike) -> None:
    """Write :func:`geojson_bytes` of ``frame`` to ``path`` atomically."""
    data = geojson_bytes(frame)
    with _atomic_target(path) as tmp:
        tmp.write_bytes(data)


def write_csv(frame: gpd.GeoDataFrame | pd.DataFrame, path: str | os.PathLike, *, crs: str = STORAGE_CRS) -> None:
    """Write :func:`csv_bytes` of ``frame`` to ``path`` atomically."""
    data = csv_bytes(frame, crs=crs)
    with _atomic_target(path) as tmp:
        tmp.write_bytes(data)


def shapefile_field_names(columns: Sequence[str]) -> dict[str, str]:
    """Each column's name in a Shapefile's DBF table (at most 10 ASCII characters), deterministically.

    The rule, applied to the columns in order:

    1. Characters other than ASCII letters, digits and ``_`` become ``_`` (an empty name becomes ``field``).
    2. Names that then fit (10 characters or fewer, not yet taken, ignoring case) are kept as they are.
    3. Longer names are cut to their first 10 characters; if that is taken (ignoring case), to their
       first ``10 - len(suffix)`` characters plus a suffix ``_1``, ``_2``, ... (the first one free).

    Kept names are reserved before any long name is cut, so a column that fits never changes because
    of another one. The same columns always give the same names.

    Returns
    -------
    dict
        ``{column: shapefile field name}`` for every column, in order.
    """
    cleaned = {c: (re.sub(r"[^0-9A-Za-z_]", "_", str(c)) or "field") for c in columns}
    taken: set[str] = set()
    out: dict[str, str] = {}
    for col in columns:
        name = cleaned[col]
        if len(name) <= DBF_NAME_CHARS and name.lower() not in taken:
            out[col] = name
            taken.add(name.lower())
    for col in columns:
        if col in out:
            continue
        base = cleaned[col]
        candidate = base[:DBF_NAME_CHARS]
        n = 0
        while candidate.lower() in taken:
            n += 1
            suffix = f"_{n}"
            candidate = base[: DBF_NAME_CHARS - len(suffix)] + suffix
        out[col] = candidate
        taken.add(candidate.lower())
    return {c: out[c] for c in columns}


def _cut_utf8(value: object, limit: int) -> tuple[object, bool]:
    if not isinstance(value, str):
        return value, False
    data = value.encode("utf-8")
    if len(data) <= limit:
        return value, False
    return data[:limit].decode("utf-8", errors="ignore"), True


def write_shapefile_zip(
    frame: gpd.GeoDataFrame, path: str | os.PathLike, *, layer_name: str = "features", crs: str = STORAGE_CRS
) -> dict[str, str]:
    """Write ``frame`` as a zipped Shapefile (EPSG:4326 or ``crs``, UTF-8) atomically; return the field names.

    The zip holds ``<layer>.shp .shx .dbf .prj .cpg`` (the ``.cpg`` says ``UTF-8``), ``fields.csv``
    (``column,shapefile_field``: every column and its DBF name, from :func:`shapefile_field_names`)
    and ``README.txt`` (the same in words, with what the format could not keep). DBF text holds at
    most 254 bytes: longer values are cut at a character boundary and the README names the columns
    affected. The zip's entries have a fixed date, so the same data gives the same bytes. Read it back
    with :func:`read_shapefile_zip` (or ``geopandas.read_file("zip://...")`` and ``fields.csv``).

    Returns
    -------
    dict
        ``{column: shapefile field name}``.
    """
    return _write_shapefile_zip(frame, path, layer_name=layer_name, crs=crs)[0]


def _write_shapefile_zip(
    frame: gpd.GeoDataFrame, path: str | os.PathLike, *, layer_name: str, crs: str = STORAGE_CRS
) -> tuple[dict[str, str], list[str]]:
    """:func:`write_shapefile_zip`, also returning the columns whose text was cut to 254 bytes."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise ExportError("A Shapefile needs geometry; export a table as csv or gpkg instead.")
    out = _in_storage_crs(frame, crs)
    kind = _geometry_kind(out)
    if kind is None:
        raise ExportError("No feature has a location, so there is nothing to draw in a Shapefile; choose csv or gpkg.")
    geom_name = out.geometry.name
    columns = [c for c in out.columns if c != geom_name]
    mapping = shapefile_field_names(columns)
    data = pd.DataFrame(index=out.index)
    cut: list[str] = []
    for col in columns:
        series = out[col]
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            values = series.astype(object).where(series.notna(), None)
            pairs = [_cut_utf8(v, DBF_TEXT_BYTES) for v in values]
            if any(flag for _, flag in pairs):
                cut.append(col)
            data[mapping[col]] = pd.Series([v for v, _ in pairs], index=out.index, dtype=object)
        else:
            data[mapping[col]] = series
    shp = gpd.GeoDataFrame(data, geometry=out.geometry.to_numpy(), crs=out.crs)
    stem = re.sub(r"[^0-9A-Za-z_-]", "_", layer_name) or "features"
    gtype = {"point": None, "polygon": "MultiPolygon", "line": "MultiLineString"}[kind]
    with _atomic_target(path) as tmp:
        parts = tmp.parent / "shp"
        parts.mkdir()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            pyogrio.write_dataframe(
                shp, parts / f"{stem}.shp", driver="ESRI Shapefile", layer=stem, geometry_type=gtype,
                promote_to_multi=gtype is not None, layer_options={"ENCODING": "UTF-8"},
            )  # fmt: skip
        cpg = parts / f"{stem}.cpg"
        cpg.write_text("UTF-8", encoding="ascii")  # what GDAL writes too; stated here, not left to a default
        mapping_csv = io.StringIO()
        writer = csv.writer(mapping_csv, lineterminator="\n")
        writer.writerow(["column", "shapefile_field"])
        writer.writerows(mapping.items())
        readme = _shapefile_readme(stem, mapping, cut, len(shp))
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                part = parts / f"{stem}{ext}"
                if part.exists():
                    _zip_add(zf, f"{stem}{ext}", part.read_bytes())
            _zip_add(zf, SHAPEFILE_MAPPING_FILE, mapping_csv.getvalue().encode("utf-8"))
            _zip_add(zf, SHAPEFILE_README, readme.encode("utf-8"))
    return mapping, cut


def _zip_add(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data)


def _shapefile_readme(stem: str, mapping: dict[str, str], cut: list[str], count: int) -> str:
    renamed = [(c, s) for c, s in mapping.items() if c != s]
    lines = [
        f"{stem}: {count} features from Common Ground, as an ESRI Shapefile.",
        "",
        "Coordinates: EPSG:4326 (longitude, latitude in degrees; see the .prj).",
        "Text encoding: UTF-8 (see the .cpg).",
        "",
        "Field names: a Shapefile's table (DBF) allows names of at most 10 characters, so longer names",
        "were shortened by a fixed rule: cut to 10 characters, or to fewer plus _1, _2, ... when the cut",
        "name was already taken; names that fit are kept. fields.csv lists every column and its field.",
    ]
    if renamed:
        width = max(len(c) for c, _ in renamed)
        lines += ["", "Shortened names (column -> field):"]
        lines += [f"  {c:<{width}}  ->  {s}" for c, s in renamed]
    lines += ["", f"Text values: a DBF text field holds at most {DBF_TEXT_BYTES} bytes."]
    if cut:
        lines.append("Values longer than that were cut in: " + ", ".join(cut) + ".")
        lines.append("For the full text use the GeoPackage or GeoJSON export.")
    else:
        lines.append("No value was longer than that.")
    return "\n".join(lines) + "\n"


def _kml_driver() -> str:
    writable = pyogrio.list_drivers(write=True)
    for name in ("KML", "LIBKML"):
        if name in writable:
            return name
    raise ExportError("This installation's GDAL cannot write KML; choose another format (gpkg, geojson, shp).")


def write_kml(frame: gpd.GeoDataFrame, path: str | os.PathLike, *, layer_name: str = "features") -> None:
    """Write ``frame`` as KML (EPSG:4326) atomically, with each feature's name and description.

    ``<name>`` is the ``name`` column (else ``title``), ``<description>`` the ``description`` column
    (else ``summary``), and every other column goes to ``ExtendedData``. KML viewers show all three
    as HTML, so every text value is HTML-escaped (:func:`kml_text`): it is shown literally, never
    run, and ``$``, ``{`` and ``}`` are escaped too, against Google Earth's ``$[...]`` and other
    viewers' ``{field}`` substitutions. Characters XML cannot hold (control characters) are
    removed. Numbers, dates and booleans are written as they are. GDAL's ``KML`` driver writes the
    file (``LIBKML`` if it is missing). Read it back with :func:`read_kml_export`.
    """
    if not isinstance(frame, gpd.GeoDataFrame):
        raise ExportError("KML needs geometry; export a table as csv or gpkg instead.")
    out = _in_storage_crs(frame)
    _geometry_kind(out)
    geom_name = out.geometry.name
    data = pd.DataFrame(index=out.index)
    name_col = "name" if "name" in out.columns else "title" if "title" in out.columns else None
    desc_col = "description" if "description" in out.columns else "summary" if "summary" in out.columns else None
    if name_col:
        data["name"] = _kml_text_column(out[name_col])
    if desc_col:
        data["description"] = _kml_text_column(out[desc_col])
    for col in out.columns:
        if col in (geom_name, "name", "description"):
            continue
        series = out[col]
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            data[col] = _kml_text_column(series)
        else:
            data[col] = series
    kml = gpd.GeoDataFrame(data, geometry=out.geometry.to_numpy(), crs=STORAGE_CRS)
    driver = _kml_driver()
    options = {"NameField": "name", "DescriptionField": "description"} if driver == "KML" else {}
    with _atomic_target(path) as tmp:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            pyogrio.write_dataframe(kml, tmp, layer=layer_name, driver=driver, dataset_options=options)


def kml_text(value: object) -> object:
    """A KML text value as :func:`write_kml` writes it: without the characters XML cannot hold,
    HTML-escaped (``&``, ``<``, ``>``, quotes), with ``$``, ``{`` and ``}`` as character references.

    KML viewers render names, descriptions and extended data as HTML; this makes them show the text
    as it is. ``html.unescape`` reverses it. Anything that is not a ``str`` is returned unchanged.
    """
    if not isinstance(value, str):
        return value
    return _html_text(_XML_INVALID.sub("", value))


def _kml_text_column(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), None).map(kml_text)


def _html_text(value: str) -> str:
    return html.escape(value, quote=True).replace("$", "&#36;").replace("{", "&#123;").replace("}", "&#125;")


def write_html(
    frame: gpd.GeoDataFrame,
    path: str | os.PathLike,
    *,
    taxonomy: Taxonomy | None = None,
    layer_name: str = "features",
    boundaries: gpd.GeoDataFrame | None = None,
    boundary_name: str = "Boundaries",
    tiles: str = maps.DEFAULT_TILES,
    outlines: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
) -> None:
    """Write a standalone HTML map of ``frame`` atomically (opens from disk; only tiles need a network).

    Points are drawn as the explorer map draws assets, one clustered layer per ``type`` (or ``kind``,
    else the layer name) with the taxonomy's colours; polygons are drawn as a boundary layer. Every
    name reaches the page as text (see :mod:`geo.web.maps`).

    Parameters
    ----------
    frame
        The features to map (points or polygons).
    boundaries
        Polygons to draw under points (e.g. the area the export was filtered to).
    tiles
        A key of :data:`geo.web.maps.TILE_SOURCES`; ``"none"`` for a map that needs no network at all.
    outlines
        Asset outlines (``id`` and geometry, or a GeoSeries by id): drawn from close zooms for the
        points of ``frame`` that have one (:func:`geo.web.maps.outline_layer`).
    """
    if not isinstance(frame, gpd.GeoDataFrame):
        raise ExportError("A map needs geometry; export a table as csv or gpkg instead.")
    tax = taxonomy or schema.load_taxonomy()
    kind = _geometry_kind(frame)
    if kind == "polygon":
        points = schema.empty_layer("assets")
        boundaries, boundary_name = frame, layer_name
    elif kind in ("point", None):
        points = _as_map_points(frame, layer_name)
    else:
        raise ExportError("Only points and areas can be drawn on the HTML map; export lines as gpkg or geojson.")
    fmap = maps.explorer_map(points, taxonomy=tax, boundaries=boundaries, boundary_name=boundary_name, tiles=tiles)
    if outlines is not None and len(outlines) and "id" in points.columns:
        maps.outline_layer(points, outlines, taxonomy=tax).add_to(fmap)
    page = maps.standalone_html(fmap).encode("utf-8")
    with _atomic_target(path) as tmp:
        tmp.write_bytes(page)


def _as_map_points(frame: gpd.GeoDataFrame, layer_name: str) -> gpd.GeoDataFrame:
    if "name" in frame.columns and "type" in frame.columns:
        return frame
    pts = gpd.GeoDataFrame(index=frame.index, geometry=frame.geometry, crs=frame.crs)
    pts["id"] = frame["id"] if "id" in frame.columns else pd.Series(range(len(frame)), index=frame.index).astype(str)
    label = "name" if "name" in frame.columns else "title" if "title" in frame.columns else None
    pts["name"] = frame[label] if label else pts["id"]
    if "type" in frame.columns:
        pts["type"] = frame["type"]
    elif "kind" in frame.columns:
        pts["type"] = frame["kind"].fillna(layer_name)
    else:
        pts["type"] = layer_name
    for col in maps.DETAIL_FIELDS:
        if col in frame.columns:
            pts[col] = frame[col]
    return pts


# --------------------------------------------------------------------------------------------
# Reading exports back
# --------------------------------------------------------------------------------------------


def read_csv_export(source: str | os.PathLike | bytes) -> gpd.GeoDataFrame | pd.DataFrame:
    """Read a CSV written by :func:`csv_bytes` back: the formula guard removed, ``lon``/``lat`` as points.

    Every column comes back as text (a CSV carries no types; ids and postcodes keep leading zeros),
    with empty cells as missing. When ``lon`` and ``lat`` are present they become the geometry
    (EPSG:4326; rows without them get none) and are dropped as columns; ``easting`` and ``northing``
    likewise, in EPSG:27700.
    """
    buf = io.BytesIO(source) if isinstance(source, bytes) else source
    frame = pd.read_csv(buf, encoding="utf-8-sig", dtype=str, keep_default_na=False, na_values=[""])
    frame = frame.astype(object).where(frame.notna(), None)
    for col in frame.columns:
        frame[col] = frame[col].map(restore_formula)
    if "lon" in frame.columns and "lat" in frame.columns:
        lon = pd.to_numeric(frame["lon"], errors="coerce")
        lat = pd.to_numeric(frame["lat"], errors="coerce")
        ok = lon.notna() & lat.notna()
        geoms = [shapely.Point(x, y) if k else None for x, y, k in zip(lon, lat, ok, strict=True)]
        return gpd.GeoDataFrame(frame.drop(columns=["lon", "lat"]), geometry=geoms, crs=STORAGE_CRS)
    if "easting" in frame.columns and "northing" in frame.columns:  # written with crs="EPSG:27700"
        x = pd.to_numeric(frame["easting"], errors="coerce")
        y = pd.to_numeric(frame["northing"], errors="coerce")
        ok = x.notna() & y.notna()
        geoms = [shapely.Point(a, b) if k else None for a, b, k in zip(x, y, ok, strict=True)]
        return gpd.GeoDataFrame(frame.drop(columns=["easting", "northing"]), geometry=geoms, crs="EPSG:27700")
    return frame


def read_shapefile_zip(path: str | os.PathLike) -> gpd.GeoDataFrame:
    """Read a zip written by :func:`write_shapefile_zip`, with the original column names restored."""
    p = Path(path)
    with zipfile.ZipFile(p) as zf:
        shp = [n for n in zf.namelist() if n.lower().endswith(".shp")]
        if len(shp) != 1:
            raise ExportError(f"{p.name} should hold exactly one .shp; it holds {len(shp)}.")
        rows = list(csv.DictReader(io.StringIO(zf.read(SHAPEFILE_MAPPING_FILE).decode("utf-8"))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        frame = pyogrio.read_dataframe(f"/vsizip/{p.resolve()}/{shp[0]}")
    return frame.rename(columns={r["shapefile_field"]: r["column"] for r in rows})


def read_kml_export(path: str | os.PathLike) -> gpd.GeoDataFrame:
    """Read a KML written by :func:`write_kml` back as it was written.

    Undoes what the format and GDAL's readers add: ``Name``/``Description`` become ``name`` and
    ``description``, every text value is HTML-unescaped (the KML holds names, descriptions and
    extended data as HTML-escaped text, see :func:`kml_text`), the LIBKML reader's extra columns
    (``timestamp``, ``altitudeMode``, ...) are dropped, its placemark id is replaced by the exported
    ``id`` (which it renames ``id2``), and points lose the zero altitude.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        frame = pyogrio.read_dataframe(path)
    lower = {c.lower(): c for c in frame.columns}
    renames = {lower[k]: k for k in ("name", "description") if k in lower and lower[k] != k}
    frame = frame.rename(columns=renames)
    if "id2" in frame.columns and "id" in frame.columns:
        frame = frame.drop(columns=["id"]).rename(columns={"id2": "id"})
    frame = frame.drop(columns=[c for c in _KML_READER_COLUMNS if c in frame.columns])
    for col in frame.columns:
        if col != frame.geometry.name and (
            frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col].dtype)
        ):
            frame[col] = frame[col].map(lambda v: html.unescape(v) if isinstance(v, str) else v)
    frame = frame.set_geometry(shapely.force_2d(frame.geometry.to_numpy()), crs=frame.crs or STORAGE_CRS)
    return frame


# --------------------------------------------------------------------------------------------
# Choosing what to export
# --------------------------------------------------------------------------------------------


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
        located = frame[_present(frame.geometry).to_numpy()]
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


# --------------------------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_layer` wrote; :meth:`as_dict` is the JSON of ``python -m geo export --json``."""

    path: Path
    fmt: str
    layer: str
    features: int
    layers: dict[str, int]
    size_bytes: int
    area: dict | None = None
    type_id: str | None = None
    statuses: tuple[str, ...] | None = None
    field_names: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    crs: str | None = STORAGE_CRS

    def as_dict(self) -> dict:
        """The result as plain JSON-ready values."""
        return {
            "path": str(self.path),
            "format": self.fmt,
            "layer": self.layer,
            "features": self.features,
            "layers": dict(self.layers),
            "size_bytes": self.size_bytes,
            "area": self.area,
            "type": self.type_id,
            "statuses": list(self.statuses) if self.statuses is not None else None,
            "field_names": dict(self.field_names),
            "notes": list(self.notes),
            "crs": self.crs,
        }


def check_format(fmt: str) -> str:
    """``fmt`` as a key of :data:`FORMATS` (case and spaces ignored), or raise naming the valid ones."""
    key = str(fmt or "").strip().lower().lstrip(".")
    if key not in FORMATS:
        raise ExportError(f"Unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}.")
    return key


def _check_out(out_path: str | os.PathLike, fmt: str, store: Store) -> Path:
    out = Path(out_path).expanduser()
    if not str(out_path).strip():
        raise ExportError(f"Give an output file, e.g. export{EXTENSIONS[fmt]}.")
    if store.backend == "gpkg" and out.exists() and out.resolve() == Path(store.location).resolve():
        raise ExportError("The output path is the data store itself; choose another file name.")
    if fmt == "shp" and out.suffix.lower() != ".zip":
        raise ExportError(f"A Shapefile export is a zip of several files; name the output {out.stem}.zip.")
    if not out.parent.is_dir():
        raise ExportError(f"The folder {out.parent} does not exist; create it or choose another output path.")
    if out.is_dir():
        raise ExportError(
            f"{out} is a folder; give the output a file name such as {out / ('export' + EXTENSIONS[fmt])}."
        )
    return out


def export_layer(
    store: Store,
    layer: str,
    *,
    fmt: str,
    out_path: str | os.PathLike,
    area: str | None = None,
    boundaries: str = "lsoas",
    type_id: str | None = None,
    statuses: Sequence[str] | None = DEFAULT_STATUSES,
    include_contributors: bool = False,
    tiles: str = maps.DEFAULT_TILES,
    taxonomy: Taxonomy | None = None,
    geometry: str = "point",
    crs: str = STORAGE_CRS,
) -> ExportResult:
    """Export one layer of the store, optionally filtered, to a file (atomically).

    Parameters
    ----------
    store
        The data store to read.
    layer
        The layer to export, e.g. ``"assets"`` or ``"wards"``.
    fmt
        One of :data:`FORMATS`: ``gpkg``, ``geojson``, ``shp``, ``csv``, ``kml``, ``html``. Tables
        without geometry export as ``csv`` or ``gpkg`` only.
    out_path
        The file to write (replaced if it exists; ``shp`` writes a ``.zip``). Its folder must exist.
    area
        An area's name or id in ``boundaries``: only features in it (see :func:`select_features`).
    boundaries
        The boundary layer for ``area``; also packaged with the GeoPackage (the one area, or the
        whole layer) and drawn under points on the HTML map.
    type_id
        Only assets of this taxonomy type.
    statuses
        For assets: which statuses to export (default only ``active``); ``None`` for all.
    include_contributors
        Keep ``created_by``, ``updated_by`` and ``contributed_by`` (left out by default: they name people).
    tiles
        The HTML map's basemap (a key of :data:`geo.web.maps.TILE_SOURCES`).
    taxonomy
        Asset types, colours and labels; default :func:`geo.schema.load_taxonomy`.
    geometry
        For assets as GeoJSON: ``"point"`` (default, each asset's point) or ``"outline"`` (the
        outline of a park, grounds or route where the asset has one, its point otherwise). A
        GeoPackage of assets always holds the exported assets' outlines as a second layer,
        ``asset_outlines`` (``id``, ``name``, ``type``; tied to the assets by ``id``).

    Returns
    -------
    ExportResult
        The path, the features written (per layer for a GeoPackage), the Shapefile field names, notes.

    Raises
    ------
    ExportError
        Unknown format, unusable output path, a filter that does not apply or matched nothing.
    LayerNotFoundError, AreaNotFoundError, TaxonomyError
        Unknown layer, boundary layer, area or type. On any error no file is written.
    """
    fmt = check_format(fmt)
    out = _check_out(out_path, fmt, store)
    if layer == schema.OUTLINES_LAYER:  # on their own they would include removed assets' outlines
        raise ExportError(
            "Outlines are exported with their assets: export assets as gpkg (both layers) or as geojson with --outlines."
        )
    if geometry not in GEOMETRIES:
        raise ExportError(f"Unknown geometry {geometry!r}; choose one of: {', '.join(GEOMETRIES)}.")
    if geometry == "outline" and (fmt != "geojson" or layer != "assets"):
        raise ExportError(
            "Outlines as the geometry are for an assets GeoJSON (--layer assets --format geojson --outlines); "
            "a GeoPackage of assets holds the outlines as their own layer."
        )
    if fmt == "html" and tiles not in maps.TILE_SOURCES:
        raise ExportError(f"Unknown basemap {tiles!r}; choose one of: {', '.join(maps.TILE_SOURCES)}.")
    crs = check_crs(crs)
    if crs != STORAGE_CRS and fmt not in REPROJECTABLE:
        raise ExportError(
            f"{FORMATS[fmt]} is always in EPSG:4326; for {crs} choose one of: {', '.join(REPROJECTABLE)}, "
            "or leave out the CRS."
        )
    tax = taxonomy or schema.load_taxonomy()
    sel = select_features(
        store, layer, area=area, boundaries=boundaries, type_id=type_id, statuses=statuses,
        include_contributors=include_contributors, with_context=fmt in ("gpkg", "html"), taxonomy=tax,
    )  # fmt: skip
    frame = sel.frame
    is_geo = isinstance(frame, gpd.GeoDataFrame)
    if not is_geo and fmt not in ("csv", "gpkg"):
        raise ExportError(f"Layer {layer!r} is a table without geometry; export it as csv or gpkg.")
    notes: list[str] = []
    layers = {layer: int(len(frame))}
    field_names: dict[str, str] = {}
    if sel.dropped:
        notes.append(
            f"Columns naming people ({', '.join(sel.dropped)}) are left out; ask for them with include_contributors (--include-contributors)."
        )
    shapes = _outlines_of(store, frame) if layer == "assets" and fmt in ("gpkg", "geojson", "html") else None
    if fmt == "gpkg":
        package: dict[str, gpd.GeoDataFrame | pd.DataFrame] = {layer: frame}
        if shapes is not None and len(shapes):
            package[schema.OUTLINES_LAYER] = shapes
            notes.append(f"The outlines of {len(shapes):,} asset(s) are in the asset_outlines layer, tied by id.")
        context = sel.context()
        if is_geo and context is not None and sel.boundaries != layer:
            package[sel.boundaries] = context
        layers = write_gpkg(package, out, taxonomy=tax, crs=crs)
        notes.append("QGIS styles (the app's colours) are stored as each layer's default style.")
    elif fmt == "geojson" and geometry == "outline":
        write_geojson(_with_outlines(frame, shapes), out)
        notes.append(f"{0 if shapes is None else len(shapes):,} asset(s) have their outline as the geometry.")
    elif fmt == "geojson":
        write_geojson(frame, out)
    elif fmt == "csv":
        write_csv(frame, out, crs=crs)
        if is_geo and _geometry_kind(frame) != "point":
            notes.append("The CSV holds attributes only (no shapes); use gpkg, geojson or shp for the areas.")
        notes.append("Cells starting with = + - @ are prefixed with ' so spreadsheets do not run them.")
    elif fmt == "shp":
        field_names, cut = _write_shapefile_zip(frame, out, layer_name=layer, crs=crs)
        shortened = {c: s for c, s in field_names.items() if c != s}
        if shortened:
            notes.append(
                f"{len(shortened)} field names were shortened to 10 characters; fields.csv in the zip lists them."
            )
        if cut:
            notes.append(
                f"Text longer than {DBF_TEXT_BYTES} bytes (the Shapefile limit) was cut in: {', '.join(cut)}; "
                "use gpkg or geojson for the full text."
            )
    elif fmt == "kml":
        write_kml(frame, out, layer_name=layer)
    elif fmt == "html":
        context = sel.context() if sel.boundaries != layer else None
        write_html(
            frame, out, taxonomy=tax, layer_name=layer, boundaries=context,
            boundary_name=sel.area_info()["name"] if sel.area is not None else sel.boundaries,
            tiles=tiles, outlines=shapes,
        )  # fmt: skip
    if crs != STORAGE_CRS and is_geo:
        notes.append(f"Coordinates are in {crs} ({CRS_CHOICES[crs]}).")
    return ExportResult(
        path=out, fmt=fmt, layer=layer, features=int(len(frame)), layers=layers, size_bytes=out.stat().st_size,
        area=sel.area_info(), type_id=sel.type_id, statuses=sel.statuses, field_names=field_names, notes=tuple(notes),
        crs=crs if is_geo else None,
    )  # fmt: skip


def _outlines_of(store: Store, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The ``asset_outlines`` rows of the exported assets only (``id``, ``name``, ``type``, geometry)."""
    shapes = outlines.shown_outlines(frame, outlines.read_outlines(store))  # all, then those of the exported
    info = pd.DataFrame(frame[[c for c in ("id", "name", "type") if c in frame.columns]]).astype({"id": str})
    return shapes.merge(info.drop_duplicates("id"), on="id", how="left")[["id", "name", "type", "geometry"]]


def _with_outlines(frame: gpd.GeoDataFrame, shapes: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """``frame`` (a copy) with each asset's outline as its geometry where it has one."""
    out = _in_storage_crs(frame)
    if shapes is None or not len(shapes):
        return out
    by_id = shapes.set_index("id").geometry
    ids = out["id"].astype(str)
    has = ids.isin(by_id.index).to_numpy()
    geoms = out.geometry.to_numpy().copy()
    geoms[has] = by_id.reindex(ids[has]).to_numpy()
    return out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=STORAGE_CRS))


def export_bytes(store: Store, layer: str, *, fmt: str, today: dt.date | None = None, **options) -> tuple[bytes, str]:
    """:func:`export_layer` into a private temporary file; returns the file's bytes and a file name
    that says what it holds (:func:`geo.io.naming.export_filename`), e.g. ``firth-park_ward_assets_2026-11-29.gpkg``.

    For download buttons: nothing is left on disk.
    """
    import tempfile

    if fmt not in FORMATS:
        raise ExportError(f"Unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}.")
    with tempfile.TemporaryDirectory(prefix="cg-export-") as tmp:
        out = Path(tmp) / f"{layer}{EXTENSIONS[fmt]}"
        result = export_layer(store, layer, fmt=fmt, out_path=out, **options)
        area = result.area or {}
        name = naming.export_filename(
            area.get("name"), layer=area.get("layer"), what=layer, ext=EXTENSIONS[fmt], crs=result.crs,
            type_id=result.type_id, today=today,
        )  # fmt: skip
        return out.read_bytes(), name
