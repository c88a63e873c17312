"""The one entry point: :func:`export_layer` (select, then write in the chosen format) and
:func:`export_bytes` for download buttons."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from geo import outlines, schema
from geo.errors import ExportError
from geo.io import naming
from geo.io.exports._common import CRS_CHOICES, DEFAULT_STATUSES, GEOMETRIES, REPROJECTABLE, check_crs, in_storage_crs
from geo.io.exports.gpkg import write_gpkg
from geo.io.exports.kml import write_kml
from geo.io.exports.selection import Selection, select_features
from geo.io.exports.shapefile import DBF_TEXT_BYTES, write_shapefile_zip_reporting_cuts
from geo.io.exports.styles import geometry_kind
from geo.io.exports.tables import write_csv, write_geojson
from geo.io.exports.webpage import write_html
from geo.schema import STORAGE_CRS, Taxonomy
from geo.web import maps

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
    crs = _check_options(layer, fmt, geometry=geometry, tiles=tiles, crs=crs)
    tax = taxonomy or schema.load_taxonomy()
    sel = select_features(
        store, layer, area=area, boundaries=boundaries, type_id=type_id, statuses=statuses,
        include_contributors=include_contributors, with_context=fmt in ("gpkg", "html"), taxonomy=tax,
    )  # fmt: skip
    frame = sel.frame
    is_geo = isinstance(frame, gpd.GeoDataFrame)
    if not is_geo and fmt not in ("csv", "gpkg"):
        raise ExportError(f"Layer {layer!r} is a table without geometry; export it as csv or gpkg.")
    job = _Job(
        layer=layer, out=out, sel=sel, taxonomy=tax, crs=crs, geometry=geometry, tiles=tiles,
        shapes=_outlines_of(store, frame) if layer == "assets" and fmt in ("gpkg", "geojson", "html") else None,
        layers={layer: int(len(frame))},
    )  # fmt: skip
    if sel.dropped:
        job.notes.append(
            f"Columns naming people ({', '.join(sel.dropped)}) are left out; ask for them with include_contributors (--include-contributors)."
        )
    _WRITERS[fmt](job)
    if crs != STORAGE_CRS and is_geo:
        job.notes.append(f"Coordinates are in {crs} ({CRS_CHOICES[crs]}).")
    return ExportResult(
        path=out, fmt=fmt, layer=layer, features=int(len(frame)), layers=job.layers, size_bytes=out.stat().st_size,
        area=sel.area_info(), type_id=sel.type_id, statuses=sel.statuses, field_names=job.field_names,
        notes=tuple(job.notes), crs=crs if is_geo else None,
    )  # fmt: skip


def _check_options(layer: str, fmt: str, *, geometry: str, tiles: str, crs: str) -> str:
    """Refuse options that do not go together (before anything is read); return the checked CRS."""
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
    return crs


@dataclass
class _Job:
    """One export after its checks: what each format's writer needs, and what it reports back."""

    layer: str
    out: Path
    sel: Selection
    taxonomy: Taxonomy
    crs: str
    geometry: str
    tiles: str
    shapes: gpd.GeoDataFrame | None
    layers: dict[str, int]
    field_names: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def frame(self) -> gpd.GeoDataFrame | pd.DataFrame:
        return self.sel.frame


def _to_gpkg(job: _Job) -> None:
    package: dict[str, gpd.GeoDataFrame | pd.DataFrame] = {job.layer: job.frame}
    if job.shapes is not None and len(job.shapes):
        package[schema.OUTLINES_LAYER] = job.shapes
        job.notes.append(f"The outlines of {len(job.shapes):,} asset(s) are in the asset_outlines layer, tied by id.")
    context = job.sel.context()
    if isinstance(job.frame, gpd.GeoDataFrame) and context is not None and job.sel.boundaries != job.layer:
        package[job.sel.boundaries] = context
    job.layers = write_gpkg(package, job.out, taxonomy=job.taxonomy, crs=job.crs)
    job.notes.append("QGIS styles (the app's colours) are stored as each layer's default style.")


def _to_geojson(job: _Job) -> None:
    if job.geometry == "outline":
        write_geojson(_with_outlines(job.frame, job.shapes), job.out)
        job.notes.append(
            f"{0 if job.shapes is None else len(job.shapes):,} asset(s) have their outline as the geometry."
        )
    else:
        write_geojson(job.frame, job.out)


def _to_csv(job: _Job) -> None:
    write_csv(job.frame, job.out, crs=job.crs)
    if isinstance(job.frame, gpd.GeoDataFrame) and geometry_kind(job.frame) != "point":
        job.notes.append("The CSV holds attributes only (no shapes); use gpkg, geojson or shp for the areas.")
    job.notes.append("Cells starting with = + - @ are prefixed with ' so spreadsheets do not run them.")


def _to_shapefile(job: _Job) -> None:
    job.field_names, cut = write_shapefile_zip_reporting_cuts(job.frame, job.out, layer_name=job.layer, crs=job.crs)
    shortened = {c: s for c, s in job.field_names.items() if c != s}
    if shortened:
        job.notes.append(
            f"{len(shortened)} field names were shortened to 10 characters; fields.csv in the zip lists them."
        )
    if cut:
        job.notes.append(
            f"Text longer than {DBF_TEXT_BYTES} bytes (the Shapefile limit) was cut in: {', '.join(cut)}; "
            "use gpkg or geojson for the full text."
        )


def _to_kml(job: _Job) -> None:
    write_kml(job.frame, job.out, layer_name=job.layer)


def _to_html(job: _Job) -> None:
    sel = job.sel
    write_html(
        job.frame, job.out, taxonomy=job.taxonomy, layer_name=job.layer,
        boundaries=sel.context() if sel.boundaries != job.layer else None,
        boundary_name=sel.area_info()["name"] if sel.area is not None else sel.boundaries,
        tiles=job.tiles, outlines=job.shapes,
    )  # fmt: skip


#: Each format's writer (the keys are :data:`FORMATS`).
_WRITERS = {
    "gpkg": _to_gpkg, "geojson": _to_geojson, "csv": _to_csv, "shp": _to_shapefile, "kml": _to_kml, "html": _to_html,
}  # fmt: skip


def _outlines_of(store: Store, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The ``asset_outlines`` rows of the exported assets only (``id``, ``name``, ``type``, geometry)."""
    shapes = outlines.shown_outlines(frame, outlines.read_outlines(store))  # all, then those of the exported
    info = pd.DataFrame(frame[[c for c in ("id", "name", "type") if c in frame.columns]]).astype({"id": str})
    return shapes.merge(info.drop_duplicates("id"), on="id", how="left")[["id", "name", "type", "geometry"]]


def _with_outlines(frame: gpd.GeoDataFrame, shapes: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """``frame`` (a copy) with each asset's outline as its geometry where it has one."""
    out = in_storage_crs(frame)
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
