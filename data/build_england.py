"""Build ``instance/england.gpkg``, a store for all of England, from ``../shared/data/england/``.

Run from the project root::

    .venv/bin/python data/build_england.py                    # writes instance/england.gpkg
    .venv/bin/python data/build_england.py --out /tmp/e.gpkg --source /path/to/england

then run the app or any command on it::

    COMMON_GROUND_DATA=instance/england.gpkg .venv/bin/python -m geo info

The inputs are ``england_assets.gpkg`` (layers ``pharmacies_nhsbsa``, ``gp_practices_nhs_ods``,
``dental_practices_nhs_ods``, ``libraries_ace``) and ``england_lsoa.gpkg`` (``lsoa_points``), with
their ``SOURCES.md`` (origins, licences, attributions). Nothing else is copied or downloaded: when
they are absent, this says so and how to get them, and exits with code 2.

The four asset layers go in through the project's own import path (:func:`geo.io.imports.import_file`,
validated, audited, one transaction each), as a user's would: rows without a geometry are skipped and
listed (``skip_invalid``), likely duplicates are skipped (never ``allow_duplicates``), and asset
types follow the taxonomy (a type it lacks, the dispensing appliance contractors, is added to it
through the import, under "Institutions and services"). The store has no boundary layers, so there
is no area check (a point need only be valid degrees). The LSOA population-weighted centroids go
into the ``population`` layer when the schema has it (reference data, written whole like the
demo's). The national postcode table (OS Code-Point Open, :mod:`geo.geocode`) is built too if it is
missing, so that ``near --postcode`` answers at once.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import geopandas as gpd  # noqa: E402
import pandas as pd  # noqa: E402
import pyogrio  # noqa: E402

from geo import schema  # noqa: E402
from geo.errors import CommonGroundError  # noqa: E402
from geo.io import imports, reading  # noqa: E402
from geo.store.gpkg import GeoPackageStore  # noqa: E402

DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "england"
DEFAULT_OUT = ROOT / "instance" / "england.gpkg"
ASSETS_FILE = "england_assets.gpkg"
LSOA_FILE = "england_lsoa.gpkg"
BUILT_BY = "data/build_england.py"
OGL = "Open Government Licence v3.0"

#: Each asset layer of england_assets.gpkg: its types (the file's ``type`` values are the taxonomy's
#: ids, except ``dispensing_appliance_contractor``, added under ``institutions``) and its credit
#: (wording from the folder's SOURCES.md).
ASSET_LAYERS: dict[str, dict[str, str]] = {
    "pharmacies_nhsbsa": {
        "source": "NHS Business Services Authority, Consolidated Pharmaceutical List 2023/24 Q3",
        "attribution": "Contains public sector information from the NHS Business Services Authority licensed under "
        "the Open Government Licence v3.0. Geocoded by postcode: contains OS data © Crown copyright and database "
        "right 2025; contains Royal Mail data © Royal Mail copyright and database right 2025; source: Office for "
        "National Statistics licensed under the Open Government Licence v.3.0.",
        "url": "https://opendata.nhsbsa.net/",
        "vintage": "October-December 2023",
    },
    "gp_practices_nhs_ods": {
        "source": "NHS Organisation Data Service, epraccur (active GP practices in England)",
        "attribution": "Contains public sector information from NHS England (Organisation Data Service) licensed "
        "under the Open Government Licence v3.0. Geocoded by postcode: contains OS data © Crown copyright and "
        "database right 2025; contains Royal Mail data © Royal Mail copyright and database right 2025.",
        "url": "https://digital.nhs.uk/services/organisation-data-service",
        "vintage": "about February 2026",
    },
    "dental_practices_nhs_ods": {
        "source": "NHS Organisation Data Service, egdpprac (active dental practices in England)",
        "attribution": "Contains public sector information from NHS England (Organisation Data Service) licensed "
        "under the Open Government Licence v3.0. Geocoded by postcode: contains OS data © Crown copyright and "
        "database right 2025; contains Royal Mail data © Royal Mail copyright and database right 2025.",
        "url": "https://digital.nhs.uk/services/organisation-data-service",
        "vintage": "about mid-2024",
    },
    "libraries_ace": {
        "source": "Arts Council England, Basic dataset for libraries 2010-2023 (enhanced by Libraries Hacked)",
        "attribution": "Contains OS data © Crown copyright and database right 2024. Contains Royal Mail data © Royal "
        "Mail copyright and database right 2024. Source: Office for National Statistics licensed under the Open "
        "Government Licence v.3.0. Source: Arts Council England. Enhanced by Libraries Hacked.",
        "url": "https://www.librarieshacked.org/",
        "vintage": "open at 31 December 2023",
    },
}
POPULATION_SOURCE = {
    "source": "ONS LSOA (December 2011) population-weighted centroids; MHCLG English Indices of Deprivation 2019 "
    "(File 1: IMD, File 6: population denominators, ONS mid-2015)",
    "licence": OGL,
    "attribution": "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
    "Contains OS data © Crown copyright and database right 2011. Contains public sector information licensed under "
    "the Open Government Licence v3.0: English Indices of Deprivation 2019, Ministry of Housing, Communities and "
    "Local Government.",
    "url": "https://geoportal.statistics.gov.uk/",
    "vintage": "LSOA 2011; IMD 2019; population mid-2015 (excluding prisoners)",
    "notes": "The 32,844 English LSOAs of england_lsoa.gpkg (lsoa_points).",
}
#: The layers an empty store starts with (no boundary layers: England's would be 32,844 polygons
#: nobody asked for; gaps place people at the population points).
BASE_LAYERS = (
    "assets",
    "organisations",
    "organisation_areas",
    "aspirations",
    "success_measures",
    "measure_updates",
    "stories",
    "taxonomy",
    "audit_log",
    "postcodes",
    "sources",
)
#: Whole layers are at most this many rows (a national layer is over 10,000: the default import limit
#: is for people's files).
MAX_ROWS = 100_000


def check_inputs(source: Path) -> None:
    """Refuse, in one sentence, a source folder without the two England GeoPackages."""
    missing = [name for name in (ASSETS_FILE, LSOA_FILE) if not (source / name).is_file()]
    if missing:
        raise CommonGroundError(
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not in {source}; put the England data "
            f"folder there (england_assets.gpkg, england_lsoa.gpkg and SOURCES.md, about 19 MB, from the shared "
            "data folder ../shared/data/england/), or give its place with --source."
        )


def _stamped(frame: pd.DataFrame, at: str) -> pd.DataFrame:
    out = frame.copy()
    for col, value in (("created_at", at), ("created_by", BUILT_BY), ("updated_at", at), ("updated_by", BUILT_BY)):
        out[col] = value
    out["version"] = 1
    return out


def _empty_store(path: Path) -> None:
    """Write the base layers, empty but for the taxonomy, as a GeoPackage at ``path``."""
    at = pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    for name in BASE_LAYERS:
        spec = schema.layer_spec(name)
        if name == "taxonomy":
            frame = _stamped(schema.taxonomy_rows(schema.taxonomy_document(schema.TAXONOMY_FILE)), at)
        else:
            frame = schema.empty_layer(name)
        kwargs = {"layer": name, "driver": "GPKG", "append": False}
        if spec.geometry is None:
            pyogrio.write_dataframe(pd.DataFrame(frame), path, **kwargs)
        else:
            pyogrio.write_dataframe(frame, path, geometry_type=spec.geometry, spatial_index=True, **kwargs)
    store = GeoPackageStore(path)
    store.migrate()
    store.close()


def _population(source: Path) -> gpd.GeoDataFrame:
    cols = ["lsoa11cd", "lsoa11nm", "pop_mid2015", "imd19_rank", "imd19_decile"]
    g = pyogrio.read_dataframe(source / LSOA_FILE, layer="lsoa_points", columns=cols)
    frame = gpd.GeoDataFrame(
        {
            "id": g["lsoa11cd"].astype(str),
            "name": g["lsoa11nm"].astype(str),
            "population": g["pop_mid2015"].astype("Int64"),
            "imd_decile": g["imd19_decile"].astype("Int64"),
            "imd_rank": g["imd19_rank"].astype("Int64"),
            "source": POPULATION_SOURCE["source"],
            "licence": POPULATION_SOURCE["licence"],
        },
        geometry=g.geometry.to_crs(schema.STORAGE_CRS).to_numpy(),
        crs=schema.STORAGE_CRS,
    )
    return schema.conform(frame, schema.POPULATION_LAYER)


def build(source: Path, out: Path, *, log=print) -> dict:
    """Build the England store at ``out`` (atomically); returns what was imported, skipped and how long it took."""
    check_inputs(source)
    started = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".build-england-", suffix=".gpkg", dir=out.parent)
    os.close(fd)
    os.unlink(tmp_name)
    tmp = Path(tmp_name)
    summary: dict = {"layers": {}, "population": None}
    try:
        _empty_store(tmp)
        store = GeoPackageStore(tmp)
        limits = reading.ImportLimits(max_bytes=reading.DEFAULT_LIMITS.max_bytes, max_rows=MAX_ROWS)
        sources = []
        for layer, info in ASSET_LAYERS.items():
            t0 = time.perf_counter()
            result = imports.import_file(
                source / ASSETS_FILE,
                layer="assets",
                store=store,
                actor=BUILT_BY,
                source_layer=layer,
                limits=limits,
                skip_invalid=True,
                add_types_to="institutions",
                keep_extra=True,
            )
            r = result.report
            summary["layers"][layer] = {
                "rows_read": r.rows_read,
                "imported": result.imported,
                "skipped_without_geometry": r.skipped,
                "duplicates_skipped": r.duplicates,
                "new_types": r.new_types,
                "seconds": round(time.perf_counter() - t0, 1),
            }
            log(
                f"{layer:26s} {result.imported:6,} of {r.rows_read:6,} imported, {len(r.skipped)} without a geometry "
                f"skipped{' (rows ' + ', '.join(str(s['row']) for s in r.skipped) + ')' if r.skipped else ''}, "
                f"{len(r.duplicates)} likely duplicate(s) skipped, {time.perf_counter() - t0:.1f} s"
            )
            sources.append({"layer": "assets", "licence": OGL, "notes": f"england_assets.gpkg: {layer}", **info})
        with store.transaction(actor=BUILT_BY) as tx:
            if schema.POPULATION_LAYER in schema.LAYERS:  # the population points, once the schema has them
                frame = _population(source)
                schema.validate_layer(frame, schema.POPULATION_LAYER)
                tx.replace(schema.POPULATION_LAYER, frame)
                sources.append({"layer": schema.POPULATION_LAYER, **POPULATION_SOURCE})
                summary["population"] = len(frame)
                log(f"{schema.POPULATION_LAYER:26s} {len(frame):6,} LSOA population-weighted centroids")
            tx.insert("sources", schema.conform(pd.DataFrame(sources), "sources").to_dict("records"))
        store.close()
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            con.close()
        os.replace(tmp, out)
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            if leftover.exists():
                leftover.unlink()
    summary["seconds"] = round(time.perf_counter() - started, 1)
    summary["path"] = str(out)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="the England data folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the store")
    parser.add_argument(
        "--no-postcodes", action="store_true", help="do not build the national postcode table (geo.geocode) if missing"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    try:
        summary = build(args.source, args.out, log=(lambda _m: None) if args.json else print)
        if not args.no_postcodes:
            from geo import geocode

            cache = geocode.NationalPostcodes().path
            if not cache.is_file():
                info = geocode.build_national_table()
                summary["postcodes"] = info
                if not args.json:
                    print(f"national postcodes         {info['postcodes']:,} (Code-Point Open {info['version']})")
    except CommonGroundError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    if args.json:
        print(json.dumps(summary, default=str))
    else:
        print(f"wrote {summary['path']} in {summary['seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
