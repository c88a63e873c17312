"""The command line on an England store (issue 14): national postcodes answer ``near``, ``info`` and
``gaps`` run on a store with population points and no boundaries, and the CLI imports heavy modules
only in the commands that need them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from geo.geocode import build_national_table
from geo.settings import PROJECT_ROOT
from tests.imports.england_data import load_build_england, write_code_point_zip, write_source


@pytest.fixture(scope="module")
def england(tmp_path_factory) -> dict[str, str]:
    """A miniature England store and a national postcode table that holds M1 1AE and LS1 4AP."""
    root = tmp_path_factory.mktemp("england_cli")
    store = root / "england.gpkg"
    load_build_england().build(write_source(root / "source"), store, log=lambda _m: None)
    table = root / "postcodes_gb.sqlite"
    build_national_table(source=write_code_point_zip(root / "codepo_gb.zip"), out=table)
    return {"COMMON_GROUND_DATA": str(store), "COMMON_GROUND_POSTCODES": str(table)}


def _nearest(doc: dict) -> dict[str, str]:
    return {r["type"]: r["name"] for r in doc["nearest"]}


def test_near_a_manchester_postcode_names_the_nearest_gp_pharmacy_and_library(run, england):
    proc = run("near", "--postcode", "m1 1ae", "--json", env=england)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["origin"]["postcode"] == "M1 1AE"
    nearest = _nearest(doc)
    assert nearest["gp_practice"] == "CITY HEALTH CENTRE"
    assert nearest["pharmacy"] == "Boots"
    assert nearest["library"] == "Central Library"


def test_near_a_leeds_postcode_answers_in_words(run, england):
    proc = run("near", "--postcode", "LS1 4AP", env=england)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Nearest of each type to LS1 4AP")
    assert "LEEDS MEDICAL" in proc.stdout and "Leeds Pharmacy" in proc.stdout and "Central Library" in proc.stdout


def test_a_postcode_in_neither_table_is_one_sentence_and_exit_2(run, england):
    proc = run("near", "--postcode", "ZZ9 9ZZ", env=england)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (
        "error: ZZ9 9ZZ is not in the postcode table (this store's, then Great Britain's live postcodes from OS "
        "Code-Point Open); check it, or click the map instead.\n"
    )


def test_info_and_gaps_run_on_the_england_store(run, england):
    info = json.loads(run("info", "--json", env=england).stdout)
    counts = {layer["name"]: layer["features"] for layer in info["layers"]}
    assert counts["assets"] == 7 and counts["population"] == 3
    proc = run("gaps", "--type", "gp_practice", "--within", "1600", "--json", env=england)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["population_total"] == 1500 + 1700 + 1600
    assert doc["population_affected"] == 1600  # Newcastle's LSOA: no GP practice in this miniature


@pytest.mark.parametrize(
    "args",
    [("profile", "--area", "Manchester 054C"), ("report", "--area", "Manchester 054C", "--out", "never.pdf")],
)
def test_area_commands_on_a_store_without_boundaries_say_to_import_areas(run, england, args, tmp_path):
    proc = run(*args, env=england)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("error: This store has no boundary layers, so there is no ")
    assert "python -m geo import FILE --layer " in proc.stderr and proc.stderr.count("\n") == 1


def _modules_after(code: str) -> set[str]:
    """The heavy modules a fresh interpreter has imported after running ``code``."""
    probe = (
        "import sys, io, contextlib\n"
        f"{code}\n"
        "heavy = ('geopandas', 'pandas', 'folium', 'matplotlib', 'scipy', 'shapely', 'geo.io.exports', "
        "'geo.io.imports', 'geo.io.report', 'geo.analysis.access', 'geo.web.maps')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True, cwd=PROJECT_ROOT
    )
    lines = out.stdout.splitlines()
    return set(filter(None, (lines[-1] if lines else "").split(",")))


def test_help_imports_nothing_heavy():
    run_help = (
        "from geo.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass"
    )
    assert _modules_after(run_help) == set()


def test_info_imports_the_store_only(england):
    run_info = (
        "from geo.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['info', '--data', {england['COMMON_GROUND_DATA']!r}]) == 0"
    )
    loaded = _modules_after(run_info)
    assert not loaded & {"folium", "matplotlib", "scipy", "geo.io.exports", "geo.io.imports", "geo.io.report"}
    assert not loaded & {"geo.analysis.access", "geo.web.maps"}
    # the store and the data model load pandas, geopandas and shapely only when a layer is read (geo._lazy)
    assert not loaded & {"pandas", "geopandas", "shapely"}
