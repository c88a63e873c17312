"""``python -m geo export``: write a layer (filtered by area and type) to a file.

Registered in :mod:`geo.cli` like the other commands::

    COMMANDS["export"] = (cli_export.cmd_export, "write a layer to GeoPackage, GeoJSON, Shapefile, CSV, KML or HTML")
    ... in _add_options: if name == "export": cli_export.add_options(p)

``--data`` and ``--json`` come from :mod:`geo.cli`'s common options. Errors are
:class:`~geo.errors.CommonGroundError` subclasses (one sentence, exit code 2); nothing is written then.
"""

from __future__ import annotations

import argparse

from geo import schema, settings
from geo.io import exports
from geo.store import open_store
from geo.web import maps

#: The environment variable the app reads its default basemap from (see ``geo.settings``).
TILES_ENV = settings.TILES_ENV


def _default_tiles() -> str:
    value = settings.tiles() or ""
    return value if value in maps.TILE_SOURCES else maps.DEFAULT_TILES


def add_options(p: argparse.ArgumentParser) -> None:
    """Add the ``export`` command's options to its sub-parser.

    Parameters
    ----------
    p
        The ``export`` sub-parser (it already has ``--data`` and ``--json``).
    """
    p.add_argument("--layer", required=True, metavar="LAYER", help="the layer to export, e.g. assets, wards")
    p.add_argument(
        "--format",
        required=True,
        metavar="FORMAT",
        help="one of: "
        + ", ".join(f"{k} ({v})" for k, v in exports.FORMATS.items())
        + "; and hsds (HSDS 3.0 / Open Referral UK JSON) for --layer organisations",
    )
    p.add_argument(
        "--out", required=True, metavar="PATH", help="the file to write (replaced if it exists; shp: a .zip)"
    )
    p.add_argument("--area", metavar="NAME_OR_ID", help="only features in this area of --boundaries (a name or id)")
    p.add_argument(
        "--boundaries",
        default="lsoas",
        metavar="LAYER",
        help="wards, lsoas or neighbourhoods (default lsoas): where --area is looked up; "
        "also packaged in a GeoPackage and drawn on the HTML map",
    )
    p.add_argument("--type", metavar="T", help="only assets of this type, e.g. gp_practice")
    p.add_argument(
        "--status",
        default=",".join(exports.DEFAULT_STATUSES),
        metavar="S[,S]",
        help="asset statuses to export, comma-separated, or 'all' (default: active, what the app publishes)",
    )
    p.add_argument(
        "--include-contributors",
        action="store_true",
        help="keep created_by, updated_by and contributed_by (left out by default: they name people)",
    )
    p.add_argument(
        "--tiles",
        default=None,
        metavar="NAME",
        help=f"the HTML map's basemap: {', '.join(maps.TILE_SOURCES)} (default ${TILES_ENV}, else {maps.DEFAULT_TILES})",
    )
    p.add_argument(
        "--outlines",
        action="store_true",
        help="assets as geojson: each park, grounds or route as its outline instead of its point "
        "(a gpkg of assets always holds the outlines as their own layer, asset_outlines)",
    )
    p.add_argument(
        "--crs",
        default=schema.STORAGE_CRS,
        metavar="EPSG:CODE",
        help="the coordinates' CRS: "
        + ", ".join(f"{k} ({v})" for k, v in exports.CRS_CHOICES.items())
        + f"; default {schema.STORAGE_CRS}. gpkg, shp and csv (easting/northing) take EPSG:27700",
    )


def _statuses(text: str | None) -> tuple[str, ...] | None:
    value = (text or "").strip()
    if value.lower() == "all":
        return None
    parts = tuple(s.strip() for s in value.split(",") if s.strip())
    return parts or exports.DEFAULT_STATUSES


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 1_000_000 else f"{n / 1000:.0f} kB" if n >= 1000 else f"{n} bytes"


def cmd_export(args: argparse.Namespace) -> tuple[dict, str]:
    """Export a layer to a file; return the JSON document and the text for people.

    Parameters
    ----------
    args
        Parsed options: ``data``, ``layer``, ``format``, ``out``, ``area``, ``boundaries``, ``type``,
        ``status``, ``include_contributors``, ``tiles``, ``outlines``, ``crs``.
    """
    store = open_store(args.data)
    result = exports.export_layer(
        store,
        args.layer,
        fmt=args.format,
        out_path=args.out,
        area=args.area,
        boundaries=args.boundaries,
        type_id=args.type,
        statuses=_statuses(getattr(args, "status", None)),
        include_contributors=bool(getattr(args, "include_contributors", False)),
        tiles=getattr(args, "tiles", None) or _default_tiles(),
        geometry="outline" if getattr(args, "outlines", False) else "point",
        crs=getattr(args, "crs", None) or schema.STORAGE_CRS,
    )
    doc = result.as_dict()
    what = f"{result.features:,} feature{'s' if result.features != 1 else ''} of {result.layer}"
    if result.type_id:
        what += f" of type {result.type_id}"
    if result.area:
        what += f" in {result.area['name']} ({result.area['layer']} {result.area['id']})"
    where = f" in {result.crs}" if result.crs and result.crs != schema.STORAGE_CRS else ""
    lines = [f"Wrote {what} to {result.path} as {exports.FORMATS[result.fmt]}{where}, {_size(result.size_bytes)}."]
    if len(result.layers) > 1:
        lines.append("  layers: " + ", ".join(f"{name} ({n:,})" for name, n in result.layers.items()))
    shortened = {c: s for c, s in result.field_names.items() if c != s}
    if shortened:
        lines.append("  shortened field names: " + ", ".join(f"{c} -> {s}" for c, s in shortened.items()))
    lines += [f"  note: {n}" for n in result.notes]
    return doc, "\n".join(lines)
