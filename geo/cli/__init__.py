"""The command line: ``python -m geo <command> [--data PATH] [--json]``.

A stable contract (DESIGN.md section 3): ``--json`` prints exactly one JSON document on stdout;
errors go to stderr as one clear sentence and the exit code is non-zero (2 for a usage or data
error, 1 for anything unexpected). Commands never change the store unless they say they do.

Heavy modules (geopandas through the store, the analysis, imports, exports, maps, the report) are
imported inside the commands that use them, and only the chosen command's options are built, so
that ``python -m geo --help`` imports none of them and ``info`` only the store.
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from geo import settings
from geo.errors import CommonGroundError, LayerNotFoundError, SchemaError

if TYPE_CHECKING:
    from geo.store import Store

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one sentence on stderr, exit 2
        sys.stderr.write(f"error: {message}. Run `python -m geo {self.prog.split()[-1]} --help` for usage.\n")
        raise SystemExit(EXIT_USAGE)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data",
        metavar="PATH",
        help=f"the store: a GeoPackage path or a postgresql:// URL (default: ${settings.DATA_ENV}, else the demo working copy under instance/)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def cmd_info(args: argparse.Namespace) -> tuple[dict, str]:
    """Layers, geometry types, feature counts, CRS and bounds."""
    from geo.store import open_store

    store = open_store(args.data)
    layers = [i.as_dict() for i in store.info()]
    doc = {"path": store.location, "backend": store.backend, "layers": layers}
    lines = [f"{store.location} ({store.backend})"]
    width = max(len(layer["name"]) for layer in layers) if layers else 10
    for layer in layers:
        gtype = layer["geometry_type"] or "table"
        crs = layer["crs"] or "-"
        b = layer["bounds"]
        bounds = f"[{b[0]:.4f}, {b[1]:.4f}, {b[2]:.4f}, {b[3]:.4f}]" if b else ""
        lines.append(f"  {layer['name']:<{width}}  {gtype:<13} {layer['features']:>7,}  {crs:<10} {bounds}")
    return doc, "\n".join(lines)


def _boundaries(store: Store, name: str):
    from geo.schema import BOUNDARY_LAYERS

    if name not in BOUNDARY_LAYERS or not store.has_layer(name):
        valid = [n for n in BOUNDARY_LAYERS if store.has_layer(n)]
        if not valid:
            raise LayerNotFoundError(
                f"This store has no boundary layers, so there is no {name!r}; import areas first "
                f"(python -m geo import FILE --layer {name if name in BOUNDARY_LAYERS else 'lsoas'})."
            )
        raise LayerNotFoundError(f"There is no boundary layer {name!r}; choose one of: {', '.join(valid)}.")
    from geo.analysis import deprivation

    return deprivation.boundary_frame(name, store.read)  # deprivation at this level; LSOAs named with their ward


def _lonlat(text: str) -> tuple[float, float]:
    try:
        lon_s, lat_s = text.split(",")
        lon, lat = float(lon_s), float(lat_s)
    except ValueError:
        raise SchemaError(f"--lonlat takes LON,LAT in degrees, e.g. -1.4701,53.3811; got {text!r}.") from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise SchemaError(f"--lonlat {text!r} is out of range: longitude first (-180..180), then latitude (-90..90).")
    return lon, lat


def _active_assets(store: Store):
    from geo.analysis import areas as analysis

    return analysis.filter_assets(store.read("assets"))


#: Candidates per type asked of a store that can search near a point itself (PostGIS).
NEAR_CANDIDATES = 5


def _near_assets(store: Store, lon: float, lat: float):
    """The assets ``near`` needs, and their outlines: on PostGIS, only each type's nearest
    candidates by point and by outline (found by its KNN indexes, distances still computed by the
    engine, so answers equal the GeoPackage backend's); elsewhere every active asset."""
    from geo import outlines
    from geo.analysis import areas as analysis

    finder = getattr(store, "near_candidates", None)
    if finder is None:
        return _active_assets(store), outlines.read_outlines(store)
    kinds = store.read("assets", columns=["type", "status"])
    active = kinds["status"].isna() | (kinds["status"].astype(str) == "active")
    types = sorted(kinds.loc[active, "type"].dropna().astype(str).unique())
    found = analysis.filter_assets(finder((lon, lat), types=types, k=NEAR_CANDIDATES))
    return found, outlines.read_outlines(store, ids=found["id"].astype(str).tolist())


def cmd_near(args: argparse.Namespace) -> tuple[dict, str]:
    """Nearest asset of every type from a postcode or a point, and what is missing within M metres."""
    from geo.analysis import access
    from geo.geocode import postcode_index
    from geo.store import open_store, store_taxonomy

    store = open_store(args.data)
    postcode = None
    if args.postcode:
        pt = postcode_index(store).lookup(args.postcode)
        lon, lat, postcode = pt.lon, pt.lat, pt.postcode
    else:
        lon, lat = _lonlat(args.lonlat)
    assets, shapes = _near_assets(store, lon, lat)
    result = access.near(
        lon, lat, assets, taxonomy=store_taxonomy(store), within_m=args.within, postcode=postcode, outlines=shapes
    )
    doc = result.as_dict()
    where = postcode or f"{lon:.5f},{lat:.5f}"
    lines = [f"Nearest of each type to {where} (within {args.within:g} m counts as near):"]
    for r in doc["nearest"]:
        flag = "" if r["distance_m"] <= args.within else "  (beyond)"
        lines.append(
            f"  {r['type']:<18} {r['distance_m']:>8.0f} m  ~{r['walk_minutes_estimate']:>4.0f} min  {r['name']}{flag}"
        )
    lines.append("Missing within the distance: " + (", ".join(doc["missing"]) or "none"))
    lines.append(access.WALK_ESTIMATE_NOTE)
    return doc, "\n".join(lines)


def cmd_profile(args: argparse.Namespace) -> tuple[dict, str]:
    """One area's assets, organisations, aspirations, measures and stories."""
    from geo.analysis import profiles
    from geo.store import open_store, store_taxonomy

    store = open_store(args.data)
    areas = _boundaries(store, args.boundaries)
    area = profiles.find_area(areas, args.area, layer=args.boundaries)
    prof = profiles.area_profile(
        area,
        layer=args.boundaries,
        areas=areas,
        assets=_active_assets(store),
        taxonomy=store_taxonomy(store),
        organisations=store.read("organisations"),
        organisation_areas=store.read("organisation_areas"),
        aspirations=store.read("aspirations"),
        success_measures=store.read("success_measures"),
        stories=store.read("stories"),
    )
    doc = prof.as_dict()
    a, t = doc["area"], doc["assets"]
    lines = [
        f"{a['name']} ({a['id']}, {a['layer']}), population {a['population']}"
        + (" (estimate)" if a["population_is_estimate"] else ""),
        f"  assets: {t['total']}  per 1,000: {t['per_1000']}  (all areas: {t['city_per_1000']})  per km2: {t['per_km2']}",
    ]
    lines += [f"    {k}: {v}" for k, v in t["by_type"].items()]
    lines.append("  what is good about this place (the four traits, strongest here first):")
    for s in prof.traits.strengths_first():
        lines.append(f"    {s.label}: {s.counts_in_words()}. {s.in_words}")
    lines.append(f"    (organisations, stories and measures counted by the trait rules of {doc['traits_rules_from']})")
    lines.append(f"  organisations working here: {len(doc['organisations'])}")
    for key in ("aspirations", "success_measures", "stories"):
        lines.append(f"  {key.replace('_', ' ')}: {len(doc[key]) or 'none recorded yet'}")
    return doc, "\n".join(lines)


def cmd_gaps(args: argparse.Namespace) -> tuple[dict, str]:
    """Areas whose residents are farther than M metres from any asset of a type."""
    from geo import outlines
    from geo.analysis import access
    from geo.analysis import areas as analysis
    from geo.schema import BOUNDARY_LAYERS
    from geo.store import open_store, store_taxonomy

    store = open_store(args.data)
    tax = store_taxonomy(store)
    type_id = tax.type(args.type).id
    population = access.read_population(store)  # people at population points where the store has them
    by_points = population is not None and args.boundaries in BOUNDARY_LAYERS and not store.has_layer(args.boundaries)
    areas = None if by_points else _boundaries(store, args.boundaries)  # no such layer: each point is an area
    supply = analysis.filter_assets(store.read("assets", where={"type": type_id}))  # only the type measured
    result = access.measure_gaps(
        areas,
        supply if len(supply) else _active_assets(store),  # none: every type, for the error that lists them
        type_id=type_id,
        within_m=args.within,
        capacity_column=tax.type(type_id).capacity_column,
        outlines=outlines.read_outlines(store),
        population=population,
    )
    table = result.areas
    boundaries = "population" if by_points else args.boundaries
    summary = access.gap_summary(table)
    beyond = table[table["beyond"]].sort_values("distance_m", ascending=False)
    has_deciles = "imd_decile" in (result.points if result.points is not None else table)
    deciles = (
        access.population_by_decile(result.points if result.points is not None else table) if has_deciles else None
    )
    doc = {
        "type": type_id,
        "within_m": args.within,
        "boundaries": boundaries,
        "population_basis": result.basis,
        "population_basis_note": result.basis_note,
        "areas": [
            {
                "id": r.id,
                "name": r.name,
                "population": None if r.population != r.population else int(r.population),
                "population_beyond": int(round(r.population_beyond))
                if r.population_beyond == r.population_beyond
                else None,
                "distance_m": round(float(r.distance_m), 1),
                "score_2sfca": round(float(r.score_2sfca), 6),
                **(
                    {"imd_decile": None if r.imd_decile != r.imd_decile else int(r.imd_decile)}
                    if "imd_decile" in table
                    else {}
                ),
            }
            for r in beyond.itertuples()
        ],
        "population_affected": summary["population_affected"],
        "population_total": summary["population_total"],
        "areas_beyond": summary["areas_beyond"],
        "areas_total": summary["areas_total"],
        "population_beyond_by_imd_decile": []
        if deciles is None
        else [
            {"imd_decile": int(d), "population_beyond": int(round(b)), "population_within": int(round(w))}
            for d, b, w in zip(deciles.index, deciles["People beyond"], deciles["People within"], strict=True)
        ],
    }
    share = summary["population_affected"] / summary["population_total"] if summary["population_total"] else 0
    lines = [
        f"{summary['areas_beyond']} of {summary['areas_total']} {boundaries} "
        f"{'have people' if result.points is not None and areas is not None else 'are'} more than {args.within:g} m "
        f"from a {tax.label(type_id)}: {summary['population_affected']:,} of {summary['population_total']:,} people ({share:.0%}).",
    ]
    lines += [f"  {r['distance_m']:>8.0f} m  {r['name']} ({r['id']})" for r in doc["areas"][:25]]
    if len(doc["areas"]) > 25:
        lines.append(f"  ... and {len(doc['areas']) - 25} more (use --json for all)")
    if doc["population_beyond_by_imd_decile"]:
        lines.append(
            "People beyond, by IMD decile (1 = most deprived): "
            + ", ".join(
                f"{d['imd_decile']}: {d['population_beyond']:,}" for d in doc["population_beyond_by_imd_decile"]
            )
        )
    lines.append(result.basis_note)
    return doc, "\n".join(lines)


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    out = {}
    for v in values or []:
        if "=" not in v:
            raise SchemaError(f"{option} takes KEY=VALUE, e.g. {option} name=Venue; got {v!r}.")
        k, _, val = v.partition("=")
        out[k.strip()] = val.strip()
    return out


def cmd_import(args: argparse.Namespace) -> tuple[dict, str]:
    """Validated, all-or-nothing import of a file into a layer."""
    from geo.io import imports, reading
    from geo.store import open_store

    store = open_store(args.data)
    limits = reading.ImportLimits(
        max_bytes=int(args.max_mb * 1024 * 1024) if args.max_mb else reading.DEFAULT_LIMITS.max_bytes,
        max_rows=args.max_rows or reading.DEFAULT_LIMITS.max_rows,
    )
    result = imports.import_file(
        args.file,
        layer=args.layer,
        store=store,
        actor=args.actor,
        dry_run=args.dry_run,
        source_layer=args.source_layer,
        crs=args.crs,
        encoding=args.encoding,
        limits=limits,
        mapping=_pairs(args.map, "--map"),
        type_id=args.type,
        type_map=_pairs(args.map_type, "--map-type"),
        add_types_to=args.add_types,
        allow_outside_area=args.allow_outside_area or args.force,
        allow_duplicates=args.allow_duplicates,
        skip_invalid=args.skip_invalid,
        keep_extra=args.keep_extra,
    )
    if args.force:
        result.report.notes.append(
            "--force is deprecated: it is now --allow-outside-area and nothing more "
            "(likely duplicates are still skipped unless --allow-duplicates)"
        )
    doc = {**result.as_dict(), "dry_run": bool(args.dry_run), "file": str(args.file)}
    r = result.report
    verb = "would import" if args.dry_run else "imported"
    lines = [
        f"{verb} {r.rows_to_import if args.dry_run else result.imported} of {r.rows_read} row(s) into {args.layer}"
    ]
    lines += [f"  warning: {w}" for w in r.warnings]
    lines += [f"  skipped row {s['row']}: {s['reason']}" for s in r.skipped[:20]]
    if len(r.skipped) > 20:
        lines.append(f"  ... and {len(r.skipped) - 20} more skipped row(s) (use --json for all)")
    lines += [f"  note: {n}" for n in r.notes]
    return doc, "\n".join(lines)


def cmd_export(args: argparse.Namespace) -> tuple[dict, str]:
    """Write a layer to a file; ``--layer organisations --format hsds`` writes HSDS 3.0 JSON (geo.cli.hsds)."""
    if str(args.format).strip().casefold() == "hsds":
        from geo.cli import hsds as cli_hsds

        return cli_hsds.write_hsds_cli(args)
    from geo.cli import export as cli_export

    return cli_export.cmd_export(args)


def _lazy(module: str, name: str) -> Callable[[argparse.Namespace], tuple[dict, str]]:
    """A command of ``geo.cli.<module>``, imported when it runs (not when the parser is built)."""

    def run(args: argparse.Namespace) -> tuple[dict, str]:
        return getattr(importlib.import_module(f"geo.cli.{module}"), name)(args)

    run.__name__ = run.__qualname__ = name
    return run


COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], tuple[dict, str]], str]] = {
    "info": (cmd_info, "list the store's layers: geometry type, feature count, CRS and bounds"),
    "near": (cmd_near, "the nearest asset of every type from a postcode or point, and what is missing"),
    "profile": (cmd_profile, "one area's assets, organisations, aspirations, measures and stories"),
    "gaps": (cmd_gaps, "areas farther than a distance from any asset of a type, with the people affected"),
    "import": (
        cmd_import,
        "import a CSV, GeoJSON, zipped Shapefile, GeoPackage or KML file into a layer, all or nothing",
    ),
    "export": (
        cmd_export,
        "write a layer, filtered by area and type, as gpkg, geojson, shp, csv, kml or html; organisations also as hsds",
    ),
    "asset": (_lazy("store", "cmd_asset"), "show one asset with every field and its version"),
    "edit": (
        _lazy("store", "cmd_edit"),
        "change fields of one asset (validated, audited; --if-version refuses a stale edit)",
    ),
    "copy": (_lazy("store", "cmd_copy"), "copy a whole store between GeoPackage and PostGIS (postgresql://...)"),
    "report": (_lazy("report", "cmd_report"), "write one area's printable report: an A4 PDF of one to four pages"),
}


def _positive_metres(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of metres") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"the distance must be a positive number of metres, not {text!r}")
    return value


def _add_import_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="the file to import (.csv, .geojson, .zip, .gpkg, .kml)")
    p.add_argument(
        "--layer", required=True, help="the layer to import into, e.g. assets, organisations, wards, aspirations"
    )
    p.add_argument(
        "--map",
        action="append",
        metavar="COLUMN=FILE_COLUMN",
        help="map a file column onto a schema column (repeatable)",
    )
    p.add_argument("--type", metavar="T", help="one asset type for every row of the file")
    p.add_argument(
        "--map-type",
        action="append",
        metavar="VALUE=TYPE",
        help="map a type value of the file to a taxonomy type (repeatable)",
    )
    p.add_argument("--add-types", metavar="CATEGORY", help="add unknown types to the taxonomy under this category")
    p.add_argument("--crs", help="the CRS of the file's coordinates when it does not say, e.g. EPSG:27700")
    p.add_argument(
        "--source-layer",
        metavar="NAME",
        help="the layer to read from a file with several ('*': every layer, each row keeping its layer in source_layer)",
    )
    p.add_argument("--encoding", help="the text encoding of a CSV that is not UTF-8, e.g. cp1252")
    p.add_argument(
        "--allow-outside-area",
        action="store_true",
        help="import features outside this store's area (its boundary layers, or COMMON_GROUND_STUDY_AREA) too; "
        "points that look swapped are still refused",
    )
    p.add_argument(
        "--allow-duplicates",
        action="store_true",
        help="import likely duplicates (same name and type within 25 m of an existing feature) instead of skipping them",
    )
    p.add_argument(
        "--skip-invalid",
        action="store_true",
        help="skip rows without a geometry, listing them in the report, instead of refusing the file",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="deprecated: the old name of --allow-outside-area, and nothing more (it no longer lets duplicates in)",
    )
    p.add_argument(
        "--keep-extra",
        action="store_true",
        help="keep the file's columns the layer does not have as new columns (by default they are left out, with a note)",
    )
    p.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")
    p.add_argument(
        "--actor",
        default=settings.cli_actor() or f"{getpass.getuser()} (command line)",
        help="who is importing (recorded in the audit log)",
    )
    p.add_argument("--max-mb", type=float, help="size limit in MB (default 100)")
    p.add_argument("--max-rows", type=int, help="row limit (default 200,000)")


def _add_options(name: str, p: argparse.ArgumentParser) -> None:
    if name in ("asset", "edit", "copy"):
        from geo.cli import store as cli_store
    if name == "export":
        from geo.cli import export as cli_export
    if name == "report":
        from geo.cli import report as cli_report
    if name == "asset":
        cli_store.add_asset_options(p)
    if name == "edit":
        cli_store.add_edit_options(p)
    if name == "copy":
        cli_store.add_copy_options(p)
    if name == "import":
        _add_import_options(p)
    if name == "export":
        cli_export.add_options(p)
    if name == "report":
        cli_report.add_options(p)
    if name == "near":
        where = p.add_mutually_exclusive_group(required=True)
        where.add_argument(
            "--postcode", metavar="PC", help="a postcode in Great Britain, looked up offline, e.g. 'S5 8NJ'"
        )
        where.add_argument("--lonlat", metavar="LON,LAT", help="a point in degrees, e.g. -1.4701,53.3811")
    if name == "profile":
        p.add_argument("--area", required=True, metavar="NAME_OR_ID", help="an area's name or id")
    if name == "gaps":
        p.add_argument("--type", required=True, metavar="T", help="an asset type id, e.g. gp_practice")
    if name in ("near", "gaps"):
        from geo.analysis import access

        p.add_argument(
            "--within",
            type=_positive_metres,
            default=access.DEFAULT_WITHIN_M,
            metavar="M",
            help="metres, straight line (default 800, about a 13-minute walk)",
        )
    if name in ("profile", "gaps"):
        p.add_argument(
            "--boundaries", default="lsoas", metavar="LAYER", help="wards, lsoas or neighbourhoods (default lsoas)"
        )


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``command``, only that command's options are built (the others' imports are skipped)."""
    parser = _Parser(prog="python -m geo", description="Common Ground: community asset mapping from the command line.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (_func, helptext) in COMMANDS.items():
        p = sub.add_parser(name, help=helptext, description=helptext)
        if command is None or name == command:
            _add_common(p)
            _add_options(name, p)
    return parser


def _glue_negative_values(argv: list[str]) -> list[str]:
    """``--lonlat -1.47,53.38`` -> ``--lonlat=-1.47,53.38``: argparse would read the value as an option."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] == "--lonlat" and i + 1 < len(argv) and argv[i + 1].startswith("-"):
            out.append(f"--lonlat={argv[i + 1]}")
            i += 2
            continue
        out.append(argv[i])
        i += 1
    return out


def main(argv: list[str] | None = None) -> int:
    argv = _glue_negative_values(list(sys.argv[1:] if argv is None else argv))
    chosen = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(chosen if chosen in COMMANDS else "")  # "": no command's options (--help, a typo)
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    func = COMMANDS[args.command][0]
    try:
        doc, text = func(args)
    except CommonGroundError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    except Exception as exc:  # an unexpected failure: still one sentence, never a traceback
        sys.stderr.write(
            f"error: {args.command} failed unexpectedly ({type(exc).__name__}: {exc}); please report it.\n"
        )
        return EXIT_UNEXPECTED
    if args.json:
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, default=str) + "\n")
    else:
        sys.stdout.write(text + "\n")
    return EXIT_OK
