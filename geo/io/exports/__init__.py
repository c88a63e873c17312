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

The package has one module per format (``gpkg``, ``shapefile``, ``kml``, ``tables`` for CSV and
GeoJSON, ``webpage`` for HTML; ``styles`` for the QGIS styles, ``selection`` for choosing the rows,
``export`` for the entry point). One entry point, :func:`export_layer`, filters a store layer by area and asset type and writes any of
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

from geo.errors import ExportError
from geo.io.exports._common import (
    CRS_CHOICES,
    DEFAULT_STATUSES,
    GEOMETRIES,
    NOT_EXPORTED,
    PEOPLE_COLUMNS,
    REPROJECTABLE,
    check_crs,
)
from geo.io.exports.export import EXTENSIONS, FORMATS, ExportResult, check_format, export_bytes, export_layer
from geo.io.exports.gpkg import gpkg_bytes, write_gpkg
from geo.io.exports.kml import kml_bytes, kml_text, read_kml_export, write_kml
from geo.io.exports.selection import Selection, select_features
from geo.io.exports.shapefile import read_shapefile_zip, shapefile_field_names, shapefile_zip_bytes, write_shapefile_zip
from geo.io.exports.styles import UNKNOWN_TYPE_COLOUR, LayerStyle, style_for_layer
from geo.io.exports.tables import csv_bytes, geojson_bytes, read_csv_export, write_csv, write_geojson
from geo.io.exports.webpage import write_html
from geo.textsafe import defuse_formula, table_safe

__all__ = [
    "CRS_CHOICES", "DEFAULT_STATUSES", "EXTENSIONS", "FORMATS", "GEOMETRIES", "NOT_EXPORTED", "PEOPLE_COLUMNS",
    "REPROJECTABLE", "UNKNOWN_TYPE_COLOUR", "ExportError", "ExportResult", "LayerStyle", "Selection",
    "check_crs", "check_format", "csv_bytes", "defuse_formula", "export_bytes", "export_layer", "geojson_bytes",
    "gpkg_bytes", "kml_bytes", "kml_text", "read_csv_export", "read_kml_export", "read_shapefile_zip",
    "select_features", "shapefile_field_names", "shapefile_zip_bytes", "style_for_layer", "table_safe",
    "write_csv", "write_geojson", "write_gpkg", "write_html", "write_kml", "write_shapefile_zip",
]  # fmt: skip
