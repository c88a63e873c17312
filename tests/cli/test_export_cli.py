"""``python -m geo export``: in this process through ``geo.cli.main`` (the ``run`` fixture), and once as
users run it, a real subprocess (``test_text_output_and_environment_variable``)."""

from __future__ import annotations

import json
import sqlite3
import subprocess

import geopandas as gpd
import pytest

from geo.io import exports
from tests.helpers import InProcessCLI, run_cli_subprocess


@pytest.fixture
def run(capfd, monkeypatch):
    """``run(ARGS, env={...})``: ``python -m geo export ARGS`` in this process."""
    cli = InProcessCLI(capfd, monkeypatch)
    return lambda *args, env=None: cli("export", *args, env=env)


def _one_sentence(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_gpkg_for_one_ward_json(run, demo_path, tmp_path):
    out = tmp_path / "firth-park.gpkg"
    proc = run("--layer", "assets", "--area", "Firth Park", "--boundaries", "wards", "--format", "gpkg",
               "--out", str(out), "--data", str(demo_path), "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # exactly one JSON document
    assert doc["features"] == 17 and doc["layers"] == {"assets": 17, "wards": 1}
    assert doc["area"] == {"layer": "wards", "id": "E05010868", "name": "Firth Park"}
    assert doc["format"] == "gpkg" and doc["path"] == str(out) and doc["size_bytes"] == out.stat().st_size
    assert any("created_by" in note for note in doc["notes"])
    assert len(gpd.read_file(out, layer="assets")) == 17
    with sqlite3.connect(out) as con:
        styled = {r[0] for r in con.execute("SELECT f_table_name FROM layer_styles WHERE useAsDefault = 1")}
    assert styled == {"assets", "wards"}


@pytest.mark.parametrize("fmt", list(exports.FORMATS))
def test_every_format_from_the_command_line(run, fmt, demo_path, tmp_path):
    out = tmp_path / f"food{exports.EXTENSIONS[fmt]}"
    proc = run("--layer", "assets", "--type", "food_bank", "--format", fmt, "--out", str(out),
               "--data", str(demo_path), "--json", "--tiles", "none")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["features"] == 8 and doc["type"] == "food_bank" and out.is_file()
    if fmt == "shp":
        assert doc["field_names"]["description"] == "descriptio"
        back = exports.read_shapefile_zip(out)
    elif fmt == "csv":
        back = exports.read_csv_export(out)
    elif fmt == "kml":
        back = exports.read_kml_export(out)
    elif fmt == "html":
        assert out.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html>")
        return
    else:
        back = gpd.read_file(out, layer="assets") if fmt == "gpkg" else gpd.read_file(out)
    assert len(back) == 8 and set(back["type"]) == {"food_bank"}


def test_text_output_and_environment_variable(demo_path, tmp_path):
    def run(*args, env=None):  # smoke test: a real `python -m geo export` process
        return run_cli_subprocess("export", *args, env=env)

    out = tmp_path / "wards.zip"
    proc = run("--layer", "wards", "--format", "shp", "--out", str(out), env={"COMMON_GROUND_DATA": str(demo_path)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"Wrote 28 features of wards to {out} as zipped Shapefile")
    assert "population_is_estimate -> populati_1, population_note -> populati_2" in proc.stdout
    assert "naming people" not in proc.stdout  # boundaries name no one


def test_unknown_format_is_one_sentence_naming_the_formats(run, demo_path, tmp_path):
    out = tmp_path / "x.xlsx"
    line = _one_sentence(run("--layer", "assets", "--format", "xlsx", "--out", str(out), "--data", str(demo_path)))
    assert "gpkg, geojson, shp, csv, kml, html" in line
    assert not out.exists()


def test_unknown_area_type_layer_and_boundaries(run, demo_path, tmp_path):
    out = tmp_path / "x.csv"
    base = ("--format", "csv", "--out", str(out), "--data", str(demo_path))
    line = _one_sentence(run("--layer", "assets", "--area", "Atlantis", "--boundaries", "wards", *base))
    assert "No area of wards is called 'Atlantis'" in line
    line = _one_sentence(run("--layer", "assets", "--type", "spaceport", *base))
    assert "Unknown asset type 'spaceport'" in line and "gp_practice" in line
    line = _one_sentence(run("--layer", "castles", *base))
    assert "no layer 'castles'" in line and "assets" in line
    line = _one_sentence(run("--layer", "assets", "--area", "x", "--boundaries", "counties", *base))
    assert "wards, lsoas, neighbourhoods" in line
    line = _one_sentence(run("--layer", "assets", "--status", "secret", *base))
    assert "active, closed, pending" in line
    assert not out.exists()


def test_empty_result_writes_nothing(run, demo_path, tmp_path):
    out = tmp_path / "none.geojson"
    out_parent_before = sorted(p.name for p in tmp_path.iterdir())
    line = _one_sentence(run("--layer", "assets", "--area", "Firth Park", "--boundaries", "wards", "--type",
                             "recycling_centre", "--format", "geojson", "--out", str(out), "--data", str(demo_path)))  # fmt: skip
    assert "matched nothing" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == out_parent_before


def test_missing_options_are_usage_errors(run, demo_path, tmp_path):
    line = _one_sentence(run("--layer", "assets", "--format", "csv", "--data", str(demo_path)))
    assert "--out" in line
    line = _one_sentence(run("--layer", "assets", "--format", "csv", "--out", str(tmp_path / "no" / "a.csv"),
                             "--data", str(demo_path)))  # fmt: skip
    assert "does not exist" in line


def test_hostile_names_stay_text_in_the_html_map(run, store_copy, tmp_path):
    ids = store_copy.read("assets")["id"]
    with store_copy.transaction(actor="tests") as tx:
        tx.update("assets", ids[0], {"name": "<img src=x onerror=alert(1)>"})
        tx.update("assets", ids[1], {"name": "{{ 7*7 }}"})
    out = tmp_path / "map.html"
    proc = run("--layer", "assets", "--format", "html", "--out", str(out), "--data", store_copy.location,
               "--tiles", "none")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    page = out.read_text(encoding="utf-8")
    assert "<img src=x" not in page and "{{ 7*7 }}" not in page
    kml = tmp_path / "a.kml"
    assert run("--layer", "assets", "--format", "kml", "--out", str(kml), "--data", store_copy.location).returncode == 0
    assert "<img src=x onerror=alert(1)>" in set(exports.read_kml_export(kml)["name"])
