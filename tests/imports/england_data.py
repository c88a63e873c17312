"""A miniature of ``../shared/data/england/`` (same files, layers and columns, a few rows each) for
the tests of ``data/build_england.py``, and the build script loaded as a module."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

import geopandas as gpd
from shapely.geometry import Point

ROOT = Path(__file__).resolve().parents[2]

# Manchester (M1 1AE), Leeds (LS1 4AP) and Newcastle, in degrees.
MANCHESTER = (-2.2312, 53.4835)
LEEDS = (-1.5557, 53.7955)


def load_build_england():
    spec = importlib.util.spec_from_file_location("build_england", ROOT / "data" / "build_england.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _layer(path: Path, layer: str, rows: list[dict]) -> None:
    xys = [r.pop("xy") for r in rows]
    geoms = [None if xy is None else Point(*xy) for xy in xys]
    gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326").to_file(path, layer=layer, driver="GPKG")


def write_source(folder: Path) -> Path:
    """The two GeoPackages: 4 pharmacies (one without a geometry, one appliance contractor), 2 GP
    practices, 1 dental practice named like the GP practice in its building, 2 libraries (one mobile
    library without a geometry) and 3 LSOA points."""
    folder.mkdir(parents=True, exist_ok=True)
    assets = folder / "england_assets.gpkg"
    common = {"source": "test", "licence": "OGL v3"}
    mx, my = MANCHESTER
    lx, ly = LEEDS
    _layer(assets, "pharmacies_nhsbsa", [
        {"name": "Boots", "type": "pharmacy", "postcode": "M1 1AF", "xy": (mx + 0.002, my), **common},
        {"name": "Boots", "type": "pharmacy", "postcode": "DY6 1SB", "xy": None, **common},
        {"name": "Leeds Pharmacy", "type": "pharmacy", "postcode": "LS1 4AQ", "xy": (lx + 0.004, ly), **common},
        {"name": "Stoma Supplies", "type": "dispensing_appliance_contractor", "postcode": "M1 1AG", "xy": (mx, my + 0.02), **common},
    ])  # fmt: skip
    _layer(assets, "gp_practices_nhs_ods", [
        {"name": "CITY HEALTH CENTRE", "type": "gp_practice", "postcode": "M1 1AH", "xy": (mx + 0.004, my), "list_size": 9000, **common},
        {"name": "LEEDS MEDICAL", "type": "gp_practice", "postcode": "LS1 4AR", "xy": (lx, ly + 0.006), "list_size": 7000, **common},
    ])  # fmt: skip
    _layer(assets, "dental_practices_nhs_ods", [
        {"name": "CITY HEALTH CENTRE", "type": "dental_practice", "postcode": "M1 1AH", "xy": (mx + 0.004, my), **common},
    ])  # fmt: skip
    _layer(assets, "libraries_ace", [
        {"name": "Central Library", "type": "library", "postcode": "M2 5PD", "xy": (mx - 0.01, my), **common},
        {"name": "Mobile Library", "type": "library", "postcode": None, "xy": None, **common},
    ])  # fmt: skip
    _layer(folder / "england_lsoa.gpkg", "lsoa_points", [
        {"lsoa11cd": "E01005062", "lsoa11nm": "Manchester 054C", "pop_mid2015": 1500, "imd19_rank": 100, "imd19_decile": 1, "xy": (mx, my)},
        {"lsoa11cd": "E01011365", "lsoa11nm": "Leeds 111B", "pop_mid2015": 1700, "imd19_rank": 20000, "imd19_decile": 7, "xy": (lx, ly)},
        {"lsoa11cd": "E01008163", "lsoa11nm": "Newcastle upon Tyne 020A", "pop_mid2015": 1600, "imd19_rank": 30000, "imd19_decile": 10, "xy": (-1.61, 54.97)},
    ])  # fmt: skip
    return folder


def write_code_point_zip(path: Path) -> Path:
    """A Code-Point Open zip (the real one's shape) holding M1 1AE and LS1 4AP."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("Data/CSV/m.csv", '"M1  1AE",10,384756,398553,"E92000001","","","","E08000003",""\n')
        z.writestr("Data/CSV/ls.csv", '"LS1 4AP",10,429363,433330,"E92000001","","","","E08000035",""\n')
        z.writestr("Doc/metadata.txt", "DATASET VERSION NUMBER: 2025.2.0\nCOPYRIGHT DATE: 20250422\n")
    return path
