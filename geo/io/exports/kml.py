"""KML, every text value HTML-escaped (KML viewers show text as HTML); and reading one back."""

from __future__ import annotations

import html
import os
import re
import warnings

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from geo.errors import ExportError
from geo.io.exports._common import atomic_target, html_text, in_storage_crs, via_file
from geo.io.exports.styles import geometry_kind
from geo.schema import STORAGE_CRS

#: Columns the LIBKML reader adds to every KML layer; :func:`read_kml_export` drops them.
_KML_READER_COLUMNS = (
    "timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude", "visibility", "drawOrder", "icon", "snippet",
)  # fmt: skip


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def kml_bytes(frame: gpd.GeoDataFrame, *, layer_name: str = "features") -> bytes:
    """KML of ``frame`` as bytes (see :func:`write_kml`)."""
    return via_file(lambda p: write_kml(frame, p, layer_name=layer_name), ".kml")


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
    out = in_storage_crs(frame)
    geometry_kind(out)
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
    with atomic_target(path) as tmp:
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
    return html_text(_XML_INVALID.sub("", value))


def _kml_text_column(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), None).map(kml_text)


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
