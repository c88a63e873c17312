"""Importing the files people bring, all or nothing: planning and applying (reading is :mod:`geo.io.reading`).

Three steps, each usable on its own (the Data page shows the result of each before the next):

1. :func:`geo.io.reading.read_upload` opens a file safely: CSV (``lat``/``lon``, ``x``/``y`` with a stated CRS,
   ``easting``/``northing``, or only a ``postcode`` column geocoded offline), GeoJSON, a zipped
   Shapefile, a GeoPackage (choose the layer when there are several) or KML. Hostile and broken
   files (too big, too many rows, zip bombs, paths escaping the archive, links, nested or encrypted
   archives, unknown encodings, empty files, wrong extensions, truncated or fake GeoPackages) are
   refused with one sentence that says what is wrong and what to do.
2. :func:`plan_import` maps the file's columns onto the schema (unknown asset types mapped, or
   added to the taxonomy on request) and validates every row with the one validator of the layer,
   :func:`geo.validation.validate_frame`, in the store's :func:`~geo.store.validation_context`: the
   same rules and the same sentences as the pages and the editing API, numbered by row (values,
   dates, choices, links to other layers, groups never people, points inside the data's area with
   the one margin :data:`geo.validation.AREA_MARGIN_DEG`). What only imports do: a missing CRS is
   an error unless one is given (never guessed); boundary layers, which have no validator, have
   their geometries repaired (``make_valid``, counted) and checked against the same area; likely
   duplicates (same name and type within 25 m of an existing feature) are skipped unless
   ``allow_duplicates``; points outside this store's area (:func:`geo.store.store_extent`: a
   configured study area, else the boundary layers; no area check without either) are refused
   unless ``allow_outside_area`` (which still refuses points that look swapped); rows without a
   geometry refuse the file unless ``skip_invalid``, which skips them and lists them in the report.
   Each option switches off its own check and no other. Ids already in the layer are refused. The
   result is a report and the rows that would land.
3. :func:`apply_import` writes them in one store transaction with one audit entry per feature. If
   anything fails the store is left byte-identical.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import auth, outlines, schema, validation
from geo.errors import (  # noqa: F401 (defined with every error in geo.errors; re-exported here)
    CommonGroundError,
    ImportFileError,
    PermissionDeniedError,
)
from geo.geocode import postcode_index
from geo.io.reading import (
    Upload,
    find_column,
    has_geometry,
    library_warnings,
    read_upload,
)
from geo.store import Store, now_iso, store_extent, validation_context

DUPLICATE_DISTANCE_M = 25.0


_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("name", "title", "venue", "site", "site_name", "asset", "asset_name", "organisation_name"),
    "type": ("type", "kind", "asset_type", "category_type"),
    "address": ("address", "full_address", "street_address", "addr"),
    "postcode": ("postcode", "post_code", "postal_code", "zip"),
    "url": ("url", "website", "web", "link"),
    "opening_hours": ("opening_hours", "hours", "opening_times", "open"),
    "description": ("description", "desc", "notes", "about"),
    "id": ("id", "uuid", "identifier"),
}


def suggest_mapping(columns: list[str], layer: str) -> dict[str, str]:
    """Schema column -> file column, for the file columns whose names match (case-insensitive,
    common synonyms such as 'Venue' for name)."""
    spec = schema.layer_spec(layer)
    out: dict[str, str] = {}
    for col in spec.columns:
        found = find_column(columns, _SYNONYMS.get(col, (col,)) if col in _SYNONYMS else (col,))
        if found:
            out[col] = found
    return out


@dataclass
class ImportReport:
    """What validation found. ``errors`` block the import; ``warnings`` do not."""

    rows_read: int = 0
    rows_to_import: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    repaired_geometries: int = 0
    duplicates: list[str] = field(default_factory=list)
    unknown_types: list[str] = field(default_factory=list)
    new_types: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what reading and mapping did (2D, JSON text, columns left out)
    #: Rows left out on request (``skip_invalid``): ``{"row": N, "reason": "..."}``, N counting data rows from 1.
    skipped: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {
            "rows_read": self.rows_read,
            "rows_to_import": self.rows_to_import,
            "errors": self.errors,
            "warnings": self.warnings,
            "repaired_geometries": self.repaired_geometries,
            "duplicates_skipped": self.duplicates,
            "unknown_types": self.unknown_types,
            "new_types": self.new_types,
            "notes": self.notes,
            "rows_skipped": self.skipped,
        }


@dataclass
class ImportPlan:
    """The rows that would land in ``layer`` and the report about them."""

    layer: str
    frame: pd.DataFrame
    report: ImportReport
    taxonomy_additions: list[dict] = field(default_factory=list)
    #: The outlines of the assets that are shapes (``id``, geometry in EPSG:4326), or ``None``.
    outlines: gpd.GeoDataFrame | None = None


def plan_import(
    upload: Upload,
    *,
    layer: str,
    store: Store,
    mapping: dict[str, str] | None = None,
    type_id: str | None = None,
    type_map: dict[str, str] | None = None,
    add_types_to: str | None = None,
    allow_outside_area: bool = False,
    allow_duplicates: bool = False,
    skip_invalid: bool = False,
    force: bool = False,
    keep_extra: bool = False,
    actor: str = "import",
) -> ImportPlan:
    """Map an upload onto ``layer``'s schema and validate it; nothing is written.

    Parameters
    ----------
    mapping
        Schema column -> file column; merged over :func:`suggest_mapping`.
    type_id
        One asset type for the whole file (assets only).
    type_map
        File type value -> taxonomy type id, for types the taxonomy does not know.
    add_types_to
        Add still-unknown types to the taxonomy under this category instead of failing.
    allow_outside_area
        Import points (and areas) outside this store's area instead of refusing them (points that
        look swapped are still refused). Nothing else is allowed by it.
    allow_duplicates
        Import likely duplicates (same name and type within 25 m of an existing feature) instead of skipping them.
    skip_invalid
        Skip rows without a geometry (in a layer that needs one), listing them in
        ``report.skipped``, instead of refusing the whole file.
    force
        Deprecated: the old name of ``allow_outside_area``, and nothing more (it no longer lets
        duplicates in).
    keep_extra
        Keep the file's columns that the layer does not have (as new columns, under cleaned
        names). By default they are left out, with a note naming them, so that a file never widens
        the layer's schema by accident; a column mapped with ``mapping`` is always kept. The layer
        a row came from (``source_layer``, from a file with several layers) is always kept.

    Notes
    -----
    Every layer with a validator (:data:`geo.validation.LAYERS`) is checked by
    :func:`geo.validation.validate_frame`; its ``"row N: ..."`` sentences (N counts data rows from
    1: line N+1 of a CSV) are the report's errors, followed by what only an import adds (how to map
    unknown types, how to allow out-of-area points, ids already in the layer). The planned frame is
    the validator's cleaned copy (an asset's category follows its type, statuses default, dates
    ``YYYY-MM-DD``, points in EPSG:4326).
    """
    spec = schema.layer_spec(layer)
    allow_outside_area = allow_outside_area or force
    _refuse_layer(layer)
    report = ImportReport(rows_read=len(upload.frame), notes=list(upload.notes))
    out = _mapped_columns(upload, layer, spec, report, mapping=mapping, type_id=type_id, keep_extra=keep_extra)
    validated = layer in validation.LAYERS
    ctx = validation_context(store) if validated else None
    shapes: gpd.GeoSeries | None = None
    if spec.geometry is not None:
        out, shapes = _located(
            out, upload, layer, spec, report, store=store, skip_invalid=skip_invalid,
            allow_outside_area=allow_outside_area,
        )  # fmt: skip
    if layer == "assets":
        out, taxonomy = _map_types(
            out, report, ctx=ctx, type_id=type_id, type_map=type_map or {}, add_types_to=add_types_to
        )
        ctx = dataclasses.replace(ctx, taxonomy=taxonomy)
    out = _with_source_and_ids(out, spec, upload.name)
    if validated:
        hints = report.errors[:]  # what only an import adds comes after the validator's sentences
        report.errors.clear()
        out = _validate_rows(out, layer, ctx, report, allow_outside_area)
        report.errors += hints
    elif "name" in spec.columns:  # boundary layers have no validator
        _check_names(out, report)
    out = _against_the_store(out, layer, spec, store, report, allow_duplicates=allow_duplicates)
    return _finish_plan(out, layer, spec, report, actor=actor, shapes=shapes, add_types_to=add_types_to)


def _refuse_layer(layer: str) -> None:
    """Refuse, before reading anything, the layers that are not imported into."""
    if layer in ("audit_log", "postcodes", "sources"):
        raise ImportFileError(f"{layer!r} is maintained by Common Ground itself and cannot be imported into.")
    if layer == outlines.LAYER:
        raise ImportFileError(
            f"Outlines come with their assets: import the file of parks, grounds or routes into assets (--layer assets), "
            f"not into {layer}; each shape becomes an asset with its outline."
        )


def _mapped_columns(
    upload: Upload,
    layer: str,
    spec: schema.LayerSpec,
    report: ImportReport,
    *,
    mapping: dict[str, str] | None,
    type_id: str | None,
    keep_extra: bool,
) -> pd.DataFrame:
    """The file's columns under the layer's names (the suggested mapping, overridden by ``mapping``),
    indexed 0..n-1 (row N of the file is label N - 1 from here on, whatever is dropped later); the
    file's other columns kept under cleaned names only when asked for, else named in a note."""
    src = upload.frame
    cols = upload.columns
    full_map = {**suggest_mapping(cols, layer), **(mapping or {})}
    for target, source in full_map.items():
        if target not in spec.all_columns and target not in ("category",):
            raise ImportFileError(f"{target!r} is not a column of {layer}; map onto one of: {', '.join(spec.columns)}.")
        if source not in src.columns:
            raise ImportFileError(
                f"The file has no column {source!r} to map onto {target!r}; its columns are: {', '.join(cols)}."
            )
    out = pd.DataFrame(index=src.index)
    for target, source in full_map.items():
        out[target] = src[source]
    out.index = pd.RangeIndex(len(out))
    if layer == "assets" and "type" not in full_map and type_id is None and "source_layer" in src.columns:
        out["type"] = src["source_layer"].to_numpy()  # a My Maps layer (KML folder) per kind of asset
        report.notes.append(
            "types taken from the layer (folder) names in source_layer; map them with --map-type 'LAYER=TYPE'"
        )
    used = set(full_map.values())
    left_out = []
    for c in cols:  # the file's other columns, under their own (cleaned) names, when asked for
        clean = re.sub(r"[^0-9a-zA-Z_]+", "_", str(c)).strip("_").lower() or "column"
        if c in used or clean in out.columns or clean in spec.all_columns:
            continue
        if keep_extra or c == "source_layer":
            out[clean] = src[c].to_numpy()
        else:
            left_out.append(str(c))
    if left_out:
        shown = ", ".join(left_out[:8]) + (f" and {len(left_out) - 8} more" if len(left_out) > 8 else "")
        report.notes.append(
            f"column(s) {layer} does not have were left out: {shown} (map them with --map, or keep them with --keep-extra)"
        )
    return out


def _located(
    out: pd.DataFrame,
    upload: Upload,
    layer: str,
    spec: schema.LayerSpec,
    report: ImportReport,
    *,
    store: Store,
    skip_invalid: bool,
    allow_outside_area: bool,
) -> tuple[gpd.GeoDataFrame, gpd.GeoSeries | None]:
    """``out`` with the file's geometry, and an asset file's outlines (or None).

    Rows without a geometry are refused, or skipped with ``skip_invalid``; a shape imported as an
    asset becomes its point inside the shape plus its outline; a points layer refuses shapes; a
    layer without a validator (boundaries, population points) is repaired and area-checked here.
    """
    src = upload.frame
    validated = layer in validation.LAYERS
    needs_geometry = not validated or "geometry" in validation.required_columns(layer)
    if not isinstance(src, gpd.GeoDataFrame) or not has_geometry(src.geometry).any():
        if needs_geometry:
            raise ImportFileError(
                f"{layer} needs locations, and {upload.name} has none; add lat/lon, easting/northing or postcode columns."
            )
        empty = gpd.GeoSeries([None] * len(out), index=out.index, crs=schema.STORAGE_CRS)
        return gpd.GeoDataFrame(out, geometry=empty, crs=schema.STORAGE_CRS), None
    if src.crs is None:
        raise ImportFileError(f"{upload.name} does not say its CRS; give it (e.g. --crs EPSG:27700).")
    located = gpd.GeoDataFrame(out, geometry=src.geometry.to_numpy(), crs=src.crs)
    if needs_geometry:
        located = _rows_without_geometry(located, report, skip_invalid)
    shapes = None
    if layer == "assets":  # a park or a trail: its point (inside the shape) and its outline
        points, shapes, shape_notes = outlines.split_shapes(located.geometry, name=upload.name)
        located = located.set_geometry(points)
        report.notes += shape_notes
        if shapes is not None:
            report.notes.append(
                f"{int(shapes.notna().sum())} shape(s) imported as assets with outlines: each keeps a point inside its "
                "shape (for clusters, nearest and gaps) and its outline (drawn on maps close up; distances are measured "
                "to it)"
            )
    elif spec.geometry == "Point":
        _refuse_shapes(located.geometry, layer, upload.name)
    if not validated:  # boundary layers: repaired and checked here (points are the validator's)
        located = _check_geometry(located, spec, report, upload.name, store, allow_outside_area)
    return located, shapes


def _with_source_and_ids(out: pd.DataFrame, spec: schema.LayerSpec, file_name: str) -> pd.DataFrame:
    """A ``source`` naming the file where the file gives none; ids as text (an ArcGIS Shapefile's
    integer Id becomes "1"), a new UUID for each blank one (the validator never makes ids)."""
    if "source" in spec.columns and ("source" not in out or out["source"].isna().all()):
        out["source"] = f"imported from {file_name}"
    if "id" in spec.columns:
        if "id" not in out or out["id"].isna().all():
            out["id"] = [str(uuid.uuid4()) for _ in range(len(out))]
        else:
            ids = out["id"].map(_id_text)
            out["id"] = ids.map(lambda v: v if v is not None else str(uuid.uuid4())).astype(object)
    return out


def _check_names(out: pd.DataFrame, report: ImportReport) -> None:
    """A layer without a validator still needs a name on every row."""
    missing = (
        len(out) if "name" not in out else int((out["name"].isna() | (out["name"].astype(str).str.strip() == "")).sum())
    )
    if missing:
        report.errors.append(f"{missing} row(s) have no name; map a column onto 'name' or fill it in")


def _against_the_store(
    out: pd.DataFrame, layer: str, spec: schema.LayerSpec, store: Store, report: ImportReport, *, allow_duplicates: bool
) -> pd.DataFrame:
    """Refuse ids the layer already has; skip likely duplicates of its features (unless allowed)."""
    existing = store.read(layer) if store.has_layer(layer) else schema.empty_layer(layer)
    if "id" in spec.columns and "id" in out:
        clash = sorted(set(out["id"].dropna().astype(str)) & set(existing["id"].astype(str)))
        if clash:
            report.errors.append(
                f"{len(clash)} id(s) already exist in {layer} (e.g. {clash[0]!r}); remove the id column to import them as new"
            )
    if spec.geometry == "Point" and "name" in out and len(existing) and isinstance(out, gpd.GeoDataFrame):
        out = _skip_duplicates(out, existing, report, allow_duplicates)
    return out


def _finish_plan(
    out: pd.DataFrame,
    layer: str,
    spec: schema.LayerSpec,
    report: ImportReport,
    *,
    actor: str,
    shapes: gpd.GeoSeries | None,
    add_types_to: str | None,
) -> ImportPlan:
    """Stamp the rows, conform them to the schema, and pair each shape's outline with its asset's id."""
    stamp = now_iso()  # the store stamps editable layers itself when it writes them
    for col, value in (("created_at", stamp), ("created_by", actor), ("updated_at", stamp), ("updated_by", actor)):
        if col in spec.all_columns:
            out[col] = value
    report.rows_to_import = len(out)
    if len(out) == 0 and not report.errors:
        report.errors.append(
            "no rows are left to import (all were skipped as duplicates or without a geometry); "
            "allow duplicates (--allow-duplicates) or give the rows a location"
        )
    if report.errors:
        return ImportPlan(layer=layer, frame=out, report=report)
    try:
        frame = schema.conform(out, layer)
        schema.validate_layer(frame, layer)
    except CommonGroundError as exc:
        report.errors.append(str(exc))
        frame = out
    additions = [{"id": t, "label": _new_type_label(t), "category": add_types_to} for t in report.new_types]
    shape_rows = None
    if shapes is not None and not report.errors:  # the validator and the duplicate check keep the index
        kept = shapes.reindex(frame.index)
        shape_rows = outlines.outline_rows(frame["id"].astype(str).tolist(), kept)
    return ImportPlan(layer=layer, frame=frame, report=report, taxonomy_additions=additions, outlines=shape_rows)


def _id_text(v: object) -> str | None:
    if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
        return None
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        v = int(v)
    text = str(v).strip()
    return text or None


_SHAPE_WORDS = {"Polygon": "polygons", "MultiPolygon": "polygons", "LineString": "lines", "MultiLineString": "lines",
                "LinearRing": "lines", "GeometryCollection": "geometry collections", "MultiPoint": "multipoints"}  # fmt: skip


def _refuse_shapes(geoms: gpd.GeoSeries, layer: str, name: str) -> None:
    """Refuse, in one sentence, a file whose features are shapes where the layer holds points."""
    arr = np.asarray(geoms.array, dtype=object)
    present = shapely.is_geometry(arr) & ~shapely.is_empty(arr)
    names = pd.Series(np.asarray(geoms.geom_type)[present])
    single = shapely.get_num_geometries(arr[present]) == 1  # a MultiPoint of one point is a point
    shapes = names[~((names == "Point") | ((names == "MultiPoint") & single))]
    if shapes.empty:
        return
    words = sorted({_SHAPE_WORDS.get(k, k) for k in shapes})
    raise ImportFileError(
        f"{name} holds {' and '.join(words)} ({len(shapes)} of {len(names)} features), but {layer} holds points; "
        "import parks, buildings and routes into assets (each shape keeps its outline), convert the shapes to points "
        "first (in QGIS: Vector > Geometry Tools > Point on Surface), or import areas into a boundary layer."
    )


def _rows(labels: pd.Index | np.ndarray, limit: int = 6) -> str:
    """``"rows 3, 9, 12 ..."``: row numbers (data rows from 1) of the given labels, the first ``limit``."""
    nums = [str(int(i) + 1) for i in list(labels)[:limit]]
    return ("row " if len(labels) == 1 else "rows ") + ", ".join(nums) + (" ..." if len(labels) > limit else "")


def _rows_without_geometry(out: gpd.GeoDataFrame, report: ImportReport, skip_invalid: bool) -> gpd.GeoDataFrame:
    """Rows without a geometry: skipped and listed when asked (``skip_invalid``), else one error for them all."""
    arr = np.asarray(out.geometry.array, dtype=object)
    missing = ~shapely.is_geometry(arr)
    missing[~missing] = shapely.is_empty(arr[~missing])
    if not missing.any():
        return out
    labels = out.index[missing]
    n = len(labels)
    if skip_invalid:
        report.skipped += [{"row": int(i) + 1, "reason": "no geometry"} for i in labels]
        report.warnings.append(f"{n} row(s) without a geometry were skipped ({_rows(labels)}); see rows_skipped")
        return out[~missing]
    report.errors.append(
        f"{n} of {len(out)} row(s) have no geometry ({_rows(labels)}); give them a location, or skip them "
        "with --skip-invalid (they are listed in the report)"
    )
    return out[~missing]


def _check_geometry(
    out: gpd.GeoDataFrame,
    spec: schema.LayerSpec,
    report: ImportReport,
    name: str,
    store: Store,
    allow_outside_area: bool,
) -> gpd.GeoDataFrame:
    g = out.geometry
    if not len(out):
        return out.to_crs(schema.STORAGE_CRS)
    want = {"Point": {"Point"}, "Polygon": {"Polygon", "MultiPolygon"}}[spec.geometry]
    kinds = set(g.geom_type)
    if spec.geometry == "Point" and kinds == {"MultiPoint"} and (shapely.get_num_geometries(g.array) == 1).all():
        out = out.set_geometry(g.apply(lambda m: m.geoms[0]))
        g = out.geometry
        kinds = {"Point"}
    if not kinds <= want:
        report.errors.append(
            f"{spec.name} holds {spec.geometry.lower()}s, but the file has {', '.join(sorted(kinds))}; choose the right layer"
        )
        return out
    invalid = ~g.is_valid
    if invalid.any():
        out = out.set_geometry(g.make_valid())
        fixed = out.geometry.geom_type.isin(want)
        report.repaired_geometries = int(invalid.sum())
        report.warnings.append(
            f"{int(invalid.sum())} invalid geometr{'y was' if invalid.sum() == 1 else 'ies were'} repaired with make_valid"
        )
        if not fixed.all():
            report.errors.append(
                f"{int((~fixed).sum())} geometr{'y' if (~fixed).sum() == 1 else 'ies'} could not be repaired into {spec.geometry.lower()}s"
            )
    wgs = out.to_crs(schema.STORAGE_CRS)
    bounds = _area_bounds(store)
    if bounds is None:  # no boundaries and no study area: nothing to compare with
        return wgs
    minx, miny, maxx, maxy = bounds
    b = wgs.geometry.bounds
    outside = (b["minx"] < minx) | (b["maxx"] > maxx) | (b["miny"] < miny) | (b["maxy"] > maxy)
    if outside.any():
        swapped = 0
        if spec.geometry == "Point":
            sx, sy = wgs.geometry.y, wgs.geometry.x  # what the points would be with x and y swapped
            swapped = int(((sx >= minx) & (sx <= maxx) & (sy >= miny) & (sy <= maxy) & outside).sum())
        msg = (
            f"{int(outside.sum())} feature(s) lie outside this store's area ({_where(bounds)}; "
            f"{_rows(out.index[outside.to_numpy()])})"
        )
        if swapped:
            msg += f"; {swapped} look like latitude and longitude swapped: swap the columns (map lat onto the y column)"
        if allow_outside_area and not swapped:
            report.warnings.append(msg + "; imported anyway (--allow-outside-area)")
        else:
            report.errors.append(msg + ("" if swapped else "; check the CRS, or import them with --allow-outside-area"))
    return wgs


def _where(bounds: tuple[float, float, float, float]) -> str:
    minx, miny, maxx, maxy = bounds
    return f"lon {minx:.2f} to {maxx:.2f}, lat {miny:.2f} to {maxy:.2f}"


def _area_bounds(store: Store) -> tuple[float, float, float, float] | None:
    """This store's area (:func:`geo.store.store_extent`) widened by the one margin, or ``None``.

    The margin is :data:`geo.validation.AREA_MARGIN_DEG`, the one every point of an edit, a page or
    an import is held to.
    """
    extent = store_extent(store)
    return None if extent is None else _with_margin(extent)


def _with_margin(extent: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    m = validation.AREA_MARGIN_DEG
    return (extent[0] - m, extent[1] - m, extent[2] + m, extent[3] + m)


def _points_4326(out: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each row's point as lon, lat arrays in EPSG:4326 (NaN where it is not one point)."""
    geoms = np.asarray(out.geometry.to_crs(schema.STORAGE_CRS).array, dtype=object)
    single = shapely.get_num_geometries(geoms) == 1  # a point, or a MultiPoint of one point
    first = np.where(single, shapely.get_geometry(geoms, 0), None)
    return shapely.get_x(first), shapely.get_y(first)


def _validate_rows(
    out: pd.DataFrame, layer: str, ctx: validation.Context, report: ImportReport, allow_outside_area: bool
) -> pd.DataFrame:
    """Check every row with the layer's validator; its sentences become the report's errors.

    Points outside this store's area are refused by the validator, with a hint that they may be
    allowed (``allow_outside_area``), which lets them through (a warning says which rows), except
    points that look swapped, which the validator still refuses. Rows are numbered as in the file
    (``out``'s labels), even when rows without a geometry were skipped before.
    """
    outside = swapped = np.zeros(len(out), dtype=bool)
    if isinstance(out, gpd.GeoDataFrame) and ctx.area_bounds is not None and len(out):
        minx, miny, maxx, maxy = _with_margin(ctx.area_bounds)
        x, y = _points_4326(out)
        with np.errstate(invalid="ignore"):
            inside = (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)
            flipped = (y >= minx) & (y <= maxx) & (x >= miny) & (x <= maxy)
        outside = np.isfinite(x) & np.isfinite(y) & ~inside
        swapped = outside & flipped
    far = outside & ~swapped
    allowed = far if allow_outside_area else np.zeros(len(out), dtype=bool)
    check = dataclasses.replace(ctx, area_bounds=None) if allowed.any() else ctx
    clean, errors = validation.validate_frame(layer, out, context=check)
    if allowed.any():  # without the area, the validator no longer sees swapped points: ask it about those
        x, y = _points_4326(out)
        for i in np.flatnonzero(swapped):
            try:
                validation.validate_record(layer, {"lon": float(x[i]), "lat": float(y[i])}, context=ctx, partial=True)
            except validation.ValidationError as exc:
                errors.append(f"row {i + 1}: {str(exc).rstrip('.')}")
    labels = np.asarray(out.index)
    if len(labels) and not np.array_equal(labels, np.arange(len(labels))):  # rows were skipped: the file's numbers
        errors = [re.sub(r"^row (\d+):", lambda m: f"row {int(labels[int(m.group(1)) - 1]) + 1}:", e) for e in errors]
    report.errors += errors
    if far.any():
        msg = (
            f"{int(far.sum())} feature(s) lie outside this store's area ({_where(_with_margin(ctx.area_bounds))}; "
            f"{_rows(out.index[far])})"
        )
        if allow_outside_area:
            report.warnings.append(msg + "; imported anyway (--allow-outside-area)")
        else:
            report.errors.append(msg + "; check the CRS, or import them with --allow-outside-area")
    return clean


def _map_types(
    out: pd.DataFrame,
    report: ImportReport,
    *,
    ctx: validation.Context,
    type_id: str | None,
    type_map: dict[str, str],
    add_types_to: str | None,
) -> tuple[pd.DataFrame, schema.Taxonomy]:
    """Map the file's type values onto the taxonomy (``type_id``, ``type_map``, new types on request).

    Returns the frame (types mapped; the validator resolves and checks them) and the taxonomy to
    validate with (the store's, plus any new types).
    """
    tax = ctx.taxonomy
    if type_id is not None:  # one type for the whole file: refused as any unknown type is
        out["type"] = validation.validate_record("assets", {"type": type_id}, context=ctx, partial=True)["type"]
    bad_targets = sorted({t for t in type_map.values() if t not in tax.types})
    if bad_targets:
        report.errors.append(
            f"type mapping names unknown type(s) {', '.join(bad_targets)}; use ids such as {', '.join(list(tax.types)[:5])}"
        )
    if "type" not in out:
        return out, tax  # the validator says every row needs a type
    given = out["type"].map(
        lambda v: None if v is None or (isinstance(v, float) and v != v) or not str(v).strip() else str(v).strip()
    )
    mapped = given.map(lambda v: v if v is None else type_map.get(v, v))
    unknown = sorted(v for v in set(mapped.dropna()) if _unknown_type(v, ctx))
    if unknown:
        report.unknown_types = unknown
        if add_types_to:
            category = tax.category(add_types_to)
            new_ids = {v: re.sub(r"[^a-z0-9]+", "_", v.lower()).strip("_") for v in unknown}
            mapped = mapped.map(lambda v: new_ids.get(v, v))
            report.new_types = sorted(set(new_ids.values()))
            report.warnings.append(
                f"new type(s) added to the taxonomy under {add_types_to}: {', '.join(report.new_types)}"
            )
            added = {
                t: schema.AssetType(id=t, label=_new_type_label(t), category=add_types_to, traits=(), themes=(),
                                    colour=category.colour, icon="circle")
                for t in report.new_types
            }  # fmt: skip
            tax = dataclasses.replace(tax, types={**tax.types, **added})
        else:
            report.errors.append(
                f"unknown type(s): {', '.join(map(repr, unknown))}; map them to known types (e.g. --map-type '{unknown[0]}=community_centre') "
                "or add them to the taxonomy (--add-types CATEGORY)"
            )
    out["type"] = mapped.where(mapped.notna(), out["type"])  # empty ones stay as given: the validator names them
    return out, tax


def _unknown_type(value: str, ctx: validation.Context) -> bool:
    """Whether the validator refuses ``value`` as a type the taxonomy does not have."""
    try:
        validation.validate_record("assets", {"type": value}, context=ctx, partial=True)
    except validation.UnknownTypeError:
        return True
    except validation.ValidationError:
        return False  # a known type refused for another reason: the validator will say why
    return False


def _new_type_label(type_id: str) -> str:
    return type_id.replace("_", " ").capitalize()


def _skip_duplicates(
    out: gpd.GeoDataFrame, existing: gpd.GeoDataFrame, report: ImportReport, allow_duplicates: bool
) -> gpd.GeoDataFrame:
    ex = existing[has_geometry(existing.geometry)].to_crs(schema.METRIC_CRS)
    new = out.to_crs(schema.METRIC_CRS)
    if ex.empty:
        return out
    # An asset of another type with the same name in the same building (the dental practice of a
    # health centre beside its GP practice) is not a duplicate: types must match when both have one.
    typed = "type" in new.columns and "type" in ex.columns
    cols = ["name", "type"] if typed else ["name"]
    pairs = gpd.sjoin(  # every existing feature within the distance, not only the nearest
        new[[*cols, new.geometry.name]].reset_index(names="_row"),
        ex[[*cols, ex.geometry.name]].rename(columns={c: f"{c}_existing" for c in cols}),
        predicate="dwithin",
        distance=DUPLICATE_DISTANCE_M,
    )
    same = pairs[
        pairs["name"].astype(str).str.casefold().str.strip()
        == pairs["name_existing"].astype(str).str.casefold().str.strip()
    ]
    if typed:
        same = same[same["type"].isna() | same["type_existing"].isna() | (same["type"] == same["type_existing"])]
    rows = sorted(set(same["_row"]))
    if not rows:
        return out
    names = [str(out.loc[r, "name"]) for r in rows]
    if allow_duplicates:
        report.warnings.append(
            f"{len(rows)} likely duplicate(s) imported anyway (--allow-duplicates): {', '.join(names[:5])}"
        )
        return out
    report.duplicates = names
    report.warnings.append(
        f"{len(rows)} likely duplicate(s) skipped (same name and type within {DUPLICATE_DISTANCE_M:.0f} m of an existing feature): "
        f"{', '.join(names[:5])}{' ...' if len(names) > 5 else ''}; import them with --allow-duplicates"
    )
    return out.drop(index=rows)


@dataclass
class ImportResult:
    layer: str
    imported: int
    ids: list[str]
    report: ImportReport

    def as_dict(self) -> dict:
        return {"layer": self.layer, "imported": self.imported, "ids": self.ids, "report": self.report.as_dict()}


def apply_import(
    store: Store,
    plan: ImportPlan,
    *,
    actor: str | auth.Principal,
    row_limits: Mapping[auth.Role, int | None] | None = None,
) -> ImportResult:
    """Write a validated plan in one transaction, with one audit entry per feature.

    Rows are inserted (nothing already in the layer is rewritten). New asset types the plan adds
    go into the store's ``taxonomy`` layer in the same transaction, audited like any change.
    Raises :class:`ImportFileError` (and writes nothing) if the plan has errors.

    Who may import what (:mod:`geo.auth`): editors import into any layer, up to the editors' row
    limit; admins any number of rows (up to ``$COMMON_GROUND_MAX_IMPORT_ROWS``) and new asset
    types; a contributor may propose *assets* from a file, up to the contributors' row limit, and
    they land ``pending`` for an editor to check one by one. ``row_limits`` are the roles file's
    (default :data:`geo.auth.DEFAULT_ROW_LIMITS`). A plain-name actor is a trusted local caller.

    Raises
    ------
    geo.errors.PermissionDeniedError
        The actor may not import this, or this many rows; nothing is written.
    """
    if not plan.report.ok:
        raise ImportFileError("The file was not imported: " + "; ".join(plan.report.errors) + ".")
    principal = auth.as_principal(actor)
    pending = _check_import_allowed(principal, plan, {**auth.DEFAULT_ROW_LIMITS, **(row_limits or {})})
    actor = validation.require_actor(principal.actor)
    layer = plan.layer
    new = plan.frame
    if pending:
        new = new.assign(status="pending")
    if isinstance(new, gpd.GeoDataFrame):
        new = new.to_crs(schema.STORAGE_CRS)
    with store.transaction(actor=actor) as tx:
        if plan.taxonomy_additions:
            _add_types(tx, plan.taxonomy_additions)
        stored = tx.insert(layer, new)
        shapes = plan.outlines
        if shapes is not None and len(shapes):  # with their assets, in the same transaction
            shapes = shapes[shapes["id"].isin(set(new["id"].astype(str)))]
            for row in tx.insert(outlines.LAYER, shapes):
                g = row.get("geometry")
                tx.audit(
                    "import",
                    outlines.LAYER,
                    str(row["id"]),
                    None,
                    {"id": row["id"], "geometry_wkt": g.wkt if g is not None else None},
                )
        if layer == "measure_updates":  # a measure's current value follows its latest recorded value
            _refresh_current_values(tx, new)
        for row in stored:
            after = {k: _audit_value(v) for k, v in row.items() if k != "geometry"}
            g = row.get("geometry")
            if g is not None:
                after["geometry_wkt"] = g.wkt
            tx.audit("import", layer, str(row.get("id") or ""), None, after)
    ids = [str(i) for i in new["id"]] if "id" in new.columns else []
    return ImportResult(layer=layer, imported=len(new), ids=ids, report=plan.report)


def _check_import_allowed(principal: auth.Principal, plan: ImportPlan, limits: Mapping[auth.Role, int | None]) -> bool:
    """Refuse an import the principal may not make; return whether its rows land as pending."""
    rows = len(plan.frame)
    if plan.taxonomy_additions:
        auth.require(principal, "taxonomy")
    if principal.can("import"):
        limit = None if principal.can("bulk_import") else limits.get(auth.Role.EDITOR)
        if limit is not None and rows > limit:
            raise PermissionDeniedError(
                f"This file has {rows:,} rows and editors import at most {limit:,} at once; split it into smaller "
                "files, or ask an admin, who can import bigger ones.",
                action="import",
                role=principal.role.label,
            )
        return False
    if principal.can("contribute") and plan.layer == "assets":
        limit = limits.get(auth.Role.CONTRIBUTOR) or 0
        if rows > limit:
            raise PermissionDeniedError(
                f"This file has {rows:,} rows and contributors propose at most {limit:,} assets at once; send a "
                "smaller file, or ask an editor to import it.",
                action="import",
                role=principal.role.label,
            )
        return True
    if principal.can("contribute"):
        raise PermissionDeniedError(
            f"Contributors can propose assets from a file, not {plan.layer}; choose the assets layer, or ask an "
            "editor to import it.",
            action="import",
            role=principal.role.label,
        )
    auth.require(principal, "upload")  # an anonymous visitor: raises
    return False


def _audit_value(v: object) -> object:
    if isinstance(v, (list, tuple, dict, set)):
        return list(v) if isinstance(v, (set, tuple)) else v
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v


def _refresh_current_values(tx, updates: pd.DataFrame) -> None:
    """Set each measure's ``current`` to its latest recorded value (old and new updates together)."""
    ids = sorted({str(i) for i in updates["measure_id"].dropna()})
    if not ids:
        return
    history = tx.read("measure_updates", where={"measure_id": ids})
    latest = history.sort_values("recorded_on", kind="stable").groupby("measure_id")["value"].last()
    for mid, value in latest.items():
        if tx.read("success_measures", ids=[str(mid)], columns=["id"]).empty:
            continue
        before, after = tx.update("success_measures", str(mid), {"current": float(value)})
        tx.audit("update", "success_measures", str(mid), {"current": before["current"]},
                 {"current": after["current"], "version": after["version"]})  # fmt: skip


def _add_types(tx, additions: list[dict]) -> None:
    """Add new asset types to the store's taxonomy (in the import's transaction, audited)."""
    rows = tx.read("taxonomy")
    doc = schema.taxonomy_doc(rows)
    known = {t["id"] for t in doc["types"]}
    colours = {c["id"]: c["colour"] for c in doc["categories"]}
    fresh = []
    for a in additions:
        if a["id"] not in known:
            entry = {"id": a["id"], "label": a["label"], "category": a["category"], "traits": [], "themes": [],
                     "colour": colours[a["category"]], "icon": "circle"}  # fmt: skip
            doc["types"].append(entry)
            fresh.append(entry)
    schema.parse_taxonomy(doc)  # still valid
    if not fresh:
        return
    new_rows = schema.taxonomy_rows({**doc, "types": fresh})
    new_rows = new_rows[new_rows["kind"] == "type"]
    for row in tx.insert("taxonomy", new_rows):
        tx.audit("create", "taxonomy", row["id"], None, {k: _audit_value(v) for k, v in row.items()})


def import_file(
    path: str | os.PathLike,
    *,
    layer: str,
    store: Store,
    actor: str,
    dry_run: bool = False,
    **options,
) -> ImportResult:
    """Read, plan and (unless ``dry_run``) apply an import: the command line's one call."""
    read_opts = {k: options.pop(k) for k in ("source_layer", "crs", "encoding", "limits") if k in options}
    # The store's table, then Great Britain's: built only if the file needs its postcodes looked up.
    postcodes = functools.partial(postcode_index, store)
    try:
        heard: list[str] = []
        with library_warnings(heard):
            up = read_upload(path, postcodes=postcodes, **read_opts)
            plan = plan_import(up, layer=layer, store=store, actor=actor, **options)
        plan.report.notes += [n for n in heard if n not in plan.report.notes]
        if dry_run or not plan.report.ok:
            if not plan.report.ok:
                raise ImportFileError(f"{up.name} was not imported: " + "; ".join(plan.report.errors) + ".")
            return ImportResult(layer=layer, imported=0, ids=[], report=plan.report)
        return apply_import(store, plan, actor=actor)
    except ImportFileError as exc:  # one sentence on one line, whatever the file's names and values hold
        raise ImportFileError(" ".join(str(exc).split())) from None


__all__ = [
    "IMPORTABLE_LAYERS",
    "ImportFileError",
    "ImportPlan",
    "ImportReport",
    "ImportResult",
    "apply_import",
    "import_file",
    "plan_import",
    "suggest_mapping",
]


IMPORTABLE_LAYERS = (
    "assets",
    "organisations",
    "organisation_areas",
    "aspirations",
    "success_measures",
    "measure_updates",
    "stories",
    "wards",
    "lsoas",
    "neighbourhoods",
    "population",
)
