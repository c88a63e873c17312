"""A tiny synthetic store, built in code, with answers known by construction.

Four square wards in a 2 x 2 grid over central Sheffield (so real coordinates such as the Town Hall
fall inside), two LSOAs per ward, one neighbourhood per ward, a dozen assets, three organisations,
a handful of postcodes and population points. Unit tests that write run on a copy of it (a file
copy of a ~200 KB GeoPackage, or ``CREATE DATABASE ... TEMPLATE`` of a small database) instead of
the 3 MB demo, and assert the counts below instead of the demo's. Tests of the real demo data live
in ``tests/data/``.

>>> path = build(tmp_path / "tiny.gpkg")                      # doctest: +SKIP
>>> open_store(path).read("assets")["name"].tolist()[:2]    # doctest: +SKIP
['Firth Park Library', 'Walkley Library']
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import MultiPolygon, Point, box

from geo import schema

#: The grid: west, south, east, north of the whole area (EPSG:4326).
WEST, SOUTH, EAST, NORTH = -1.56, 53.34, -1.38, 53.44
MID_LON, MID_LAT = (WEST + EAST) / 2, (SOUTH + NORTH) / 2
STAMP = "2026-01-01T00:00:00Z"
BUILDER = "tests/fixture_store.py"

#: id (the real ward codes), name, population, IMD decile, cell (column, row) of the 2 x 2 grid.
WARDS = [
    ("E05010862", "City", 10_000, 3, (0, 0)),
    ("E05010873", "Manor Castle", 5_000, 1, (1, 0)),
    ("E05010882", "Walkley", 15_000, 6, (0, 1)),
    ("E05010868", "Firth Park", 20_000, 2, (1, 1)),
]

#: name, type, category, lon, lat, ward id (by construction).
ASSETS = [
    ("Firth Park Library", "library", "institutions", -1.4400, 53.4100, "E05010868"),
    ("Walkley Library", "library", "institutions", -1.5000, 53.4050, "E05010882"),
    ("Central Library", "library", "institutions", -1.4660, 53.3790, "E05010862"),
    ("Firth Park", "park", "physical_spaces", -1.4300, 53.4200, "E05010868"),
    ("Manor Fields Park", "park", "physical_spaces", -1.4200, 53.3650, "E05010873"),
    ("Weston Park", "park", "physical_spaces", -1.4900, 53.3820, "E05010862"),
    ("Pitsmoor Community Centre", "community_centre", "physical_spaces", -1.4580, 53.3950, "E05010868"),
    ("Walkley Community Centre", "community_centre", "physical_spaces", -1.5100, 53.4000, "E05010882"),
    ("Parson Cross Food Bank", "food_bank", "community_organisations", -1.4500, 53.4300, "E05010868"),
    ("Manor Food Bank", "food_bank", "community_organisations", -1.4100, 53.3700, "E05010873"),
    ("Crookes Allotments", "allotment", "physical_spaces", -1.5300, 53.4150, "E05010882"),
    ("City Allotments", "allotment", "physical_spaces", -1.4800, 53.3600, "E05010862"),
]

#: id, name, kind, themes, ward ids it works in.
ORGANISATIONS = [
    ("O1", "Firth Park Forum", "voluntary", "community, health", ["E05010868"]),
    ("O2", "Manor Food Network", "voluntary", "food, poverty", ["E05010873", "E05010862"]),
    ("O3", "Sheffield City Council", "council", "culture, learning", ["E05010862"]),
]

#: postcode, lon, lat (inside the ward named).
POSTCODES = [
    ("S1 2HH", -1.4701, 53.3811, "E05010862"),  # the Town Hall
    ("S2 1AA", -1.4150, 53.3700, "E05010873"),
    ("S6 2AA", -1.5050, 53.4050, "E05010882"),
    ("S5 6AA", -1.4400, 53.4110, "E05010868"),
    ("S5 7AA", -1.4520, 53.4280, "E05010868"),
]


def _cell(col: int, row: int) -> tuple[float, float, float, float]:
    w = WEST if col == 0 else MID_LON
    s = SOUTH if row == 0 else MID_LAT
    return w, s, w + (EAST - WEST) / 2, s + (NORTH - SOUTH) / 2


def _frame(layer: str, rows: list[dict], geometry: list | None = None) -> pd.DataFrame:
    """``rows`` in the layer's schema (missing columns empty)."""
    empty = schema.empty_layer(layer)
    frame = pd.DataFrame(rows)
    for col in empty.columns:
        if col != "geometry" and col not in frame.columns:
            frame[col] = pd.NA
    cols = [c for c in empty.columns if c != "geometry"] + [c for c in frame.columns if c not in empty.columns]
    frame = frame[cols]
    if geometry is None:
        return frame
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


def _stamped(row: dict) -> dict:
    return {
        **row,
        "created_at": STAMP,
        "created_by": BUILDER,
        "updated_at": STAMP,
        "updated_by": BUILDER,
        "version": 1,
    }


def layers() -> dict[str, pd.DataFrame]:
    """Every layer of the tiny store, by name."""
    licence = "Synthetic test data"
    out: dict[str, pd.DataFrame] = {}
    wards, ward_geoms, lsoas, lsoa_geoms, nbhds, pop, pop_geoms = [], [], [], [], [], [], []
    for wid, name, population, decile, (col, row) in WARDS:
        w, s, e, n = _cell(col, row)
        common = {"population_is_estimate": False, "population_note": "synthetic", "source": "synthetic"}
        wards.append({"id": wid, "name": name, "population": float(population), "imd_decile": float(decile), **common})
        ward_geoms.append(MultiPolygon([box(w, s, e, n)]))
        nbhds.append(
            {"id": f"nbhd-{name.lower().replace(' ', '-')}", "name": name, "population": float(population), **common}
        )
        for half, (hw, he) in enumerate(((w, (w + e) / 2), ((w + e) / 2, e))):
            lid = f"E0100{7823 + len(lsoas)}"  # E01007823 (City A) to E01007830
            # LSOA deciles: the ward's decile and the next one up (capped at 10)
            lsoas.append(
                {
                    "id": lid,
                    "name": f"{name} {'AB'[half]}",
                    "population": float(population / 2),
                    "imd_decile": float(min(decile + half, 10)),
                    "imd_rank": float(1000 * (decile + half)),
                    **common,
                }
            )
            lsoa_geoms.append(MultiPolygon([box(hw, s, he, n)]))
            pop.append(
                {
                    "id": lid,
                    "name": f"{name} {'AB'[half]}",
                    "population": int(population / 2),
                    "imd_decile": min(decile + half, 10),
                    "imd_rank": 1000 * (decile + half),
                    "source": "synthetic",
                    "licence": licence,
                }
            )
            pop_geoms.append(Point((hw + he) / 2, (s + n) / 2))
    for frame_rows in (wards, lsoas, nbhds):
        for r in frame_rows:
            r["licence"] = licence
    out["wards"] = _frame("wards", wards, ward_geoms)
    out["lsoas"] = _frame("lsoas", lsoas, lsoa_geoms)
    out["neighbourhoods"] = _frame("neighbourhoods", nbhds, [g for g in ward_geoms])
    if schema.POPULATION_LAYER in schema.LAYERS:
        out[schema.POPULATION_LAYER] = _frame(schema.POPULATION_LAYER, pop, pop_geoms)

    assets = []
    for i, (name, type_id, category, _lon, _lat, _ward) in enumerate(ASSETS):
        assets.append(
            _stamped(
                {
                    "id": f"00000000-0000-4000-8000-{i + 1:012d}",
                    "name": name,
                    "category": category,
                    "type": type_id,
                    "description": f"{name} (synthetic)",
                    "status": "active",
                    "source": "synthetic",
                    "licence": licence,
                }
            )
        )
    out["assets"] = _frame("assets", assets, [Point(a[3], a[4]) for a in ASSETS])

    orgs, org_geoms, links = [], [], []
    for oid, name, kind, themes, areas in ORGANISATIONS:
        orgs.append(_stamped({"id": oid, "name": name, "kind": kind, "themes": themes, "source": "synthetic"}))
        w, s, e, n = _cell(*next(c for wid, *_, c in WARDS if wid == areas[0]))
        org_geoms.append(Point((w + e) / 2, (s + n) / 2))
        for area in areas:
            links.append(
                _stamped(
                    {
                        "organisation_id": oid,
                        "boundary_layer": "wards",
                        "area_id": area,
                        "themes": themes,
                        "basis": "synthetic",
                        "source": "synthetic",
                        "licence": licence,
                    }
                )
            )
    for r in orgs:
        r["licence"] = licence
    out["organisations"] = _frame("organisations", orgs, org_geoms)
    out["organisation_areas"] = _frame("organisation_areas", links)

    out["postcodes"] = _frame(
        "postcodes",
        [
            {
                "postcode": pc,
                "lat": lat,
                "lon": lon,
                "admin_district_code": "E08000039",
                "admin_ward_code": ward,
                "in_district": True,
            }
            for pc, lon, lat, ward in POSTCODES
        ],
    )
    out["sources"] = _frame(
        "sources",
        [
            {
                "layer": layer,
                "source": "synthetic",
                "licence": licence,
                "attribution": "Test data",
                "url": "",
                "vintage": "2026",
            }
            for layer in ("wards", "lsoas", "neighbourhoods", "assets", "organisations", "postcodes")
        ],
    )
    return out


def fingerprint() -> str:
    """What the tiny store is made from: this file and the schema (a change makes new templates)."""
    h = hashlib.sha256()
    for rel in ("tests/fixture_store.py", "geo/schema.py", "geo/store/postgis.py", "geo/store/gpkg.py"):
        p = schema.PROJECT_ROOT / rel
        h.update(p.read_bytes() if p.exists() else b"")
    return h.hexdigest()[:12]


def build(path: Path) -> Path:
    """Write the tiny store as a new GeoPackage at ``path`` (every layer; the taxonomy seeded)."""
    from geo.store.copy import create_geopackage

    store = create_geopackage(Path(path))
    with store.transaction(actor=BUILDER) as tx:
        for name, frame in layers().items():
            tx.replace(name, frame)
        tx.replace("audit_log", schema.empty_layer("audit_log"))  # as the demo ships: nothing audited yet
    store.close()
    return Path(path)
