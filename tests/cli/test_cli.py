"""The command line, run as users run it: a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from geo.schema import PROJECT_ROOT


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "geo", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, env=full_env
    )


def test_info_json(store_copy):
    proc = run("info", "--json", "--data", str(store_copy.path))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # exactly one JSON document
    layers = {layer["name"]: layer for layer in doc["layers"]}
    assert layers["assets"]["features"] == 322 and layers["assets"]["geometry_type"] == "Point"
    assert layers["wards"]["features"] == 28 and layers["lsoas"]["features"] == 345
    assert layers["neighbourhoods"]["features"] == 147
    assert layers["wards"]["crs"] == "EPSG:4326"
    minx, miny, maxx, maxy = layers["assets"]["bounds"]
    assert -1.7 < minx < maxx < -1.3 and 53.3 < miny < maxy < 53.5
    assert layers["postcodes"]["geometry_type"] is None and layers["postcodes"]["features"] == 14_875
    for name in ("aspirations", "success_measures", "stories", "audit_log"):
        assert layers[name]["features"] == 0


def test_info_text_and_environment_variable(store_copy):
    proc = run("info", env={"COMMON_GROUND_DATA": str(store_copy.path)})
    assert proc.returncode == 0, proc.stderr
    assert str(store_copy.path) in proc.stdout and "assets" in proc.stdout and "322" in proc.stdout


def test_missing_store_is_one_sentence_and_nonzero(tmp_path):
    proc = run("info", "--json", "--data", str(tmp_path / "nope.gpkg"))
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "does not exist" in lines[0] and "Traceback" not in proc.stderr


def test_not_a_geopackage(tmp_path):
    bad = tmp_path / "x.gpkg"
    bad.write_text("name,lat\n")
    proc = run("info", "--data", str(bad))
    assert proc.returncode == 2 and "not a GeoPackage" in proc.stderr


def test_usage_errors(store_copy):
    assert run().returncode == 2
    proc = run("frobnicate")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr and "Traceback" not in proc.stderr
