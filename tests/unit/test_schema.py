"""The data model and the taxonomy file."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest

from geo import schema
from geo.errors import SchemaError, TaxonomyError


def test_taxonomy_has_six_families_and_consistent_types(taxonomy: schema.Taxonomy):
    assert len(taxonomy.categories) == 6
    assert taxonomy.categories["skills"].mappable is False
    for t in taxonomy.types.values():
        assert t.category in taxonomy.categories
        assert t.traits and set(t.traits) <= set(taxonomy.traits)
    assert taxonomy.type("gp_practice").capacity_column == "list_size"
    with pytest.raises(TaxonomyError, match="Unknown asset type 'castle'.*taxonomy.json"):
        taxonomy.type("castle")


def test_service_themes_come_from_the_taxonomy_file(tmp_path):
    doc = json.loads(schema.TAXONOMY_FILE.read_text())
    tax = schema.parse_taxonomy(doc)
    assert {"health", "food", "learning", "environment"} <= set(tax.themes())
    assert tax.themes() == sorted(tax.themes())
    health = tax.types_with_theme(["health"])
    assert {"gp_practice", "dental_practice", "pharmacy"} <= set(health) and "food_bank" not in health
    assert set(tax.types_with_theme(["health", "food"])) >= {"gp_practice", "food_bank"}
    assert tax.types_with_theme([]) == []
    # A theme added in the file is offered, with no change to code.
    next(t for t in doc["types"] if t["id"] == "library")["themes"].append("housing advice")
    tax = schema.parse_taxonomy(doc)
    assert "housing advice" in tax.themes() and tax.types_with_theme(["housing advice"]) == ["library"]


def test_users_can_add_a_type_without_code(tmp_path):
    doc = json.loads(schema.TAXONOMY_FILE.read_text())
    doc["types"].append(
        {
            "id": "repair_cafe",
            "label": "Repair café",
            "category": "associations",
            "traits": ["active_citizens"],
            "colour": "#123456",
        }
    )
    p = tmp_path / "taxonomy.json"
    p.write_text(json.dumps(doc))
    tax = schema.load_taxonomy(p)
    assert tax.type("repair_cafe").label == "Repair café"


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["types"].append(dict(d["types"][0])), "appears twice"),
        (lambda d: d["types"][0].update(category="nope"), "names category 'nope'"),
        (lambda d: d["types"][0].update(traits=["bravery"]), "unknown trait"),
        (lambda d: d["types"][0].update(colour="red"), "hex colour"),
        (lambda d: d.pop("categories"), "missing the field 'categories'"),
    ],
)
def test_bad_taxonomy_files_are_explained(tmp_path, mutate, message):
    doc = json.loads(schema.TAXONOMY_FILE.read_text())
    mutate(doc)
    with pytest.raises(TaxonomyError, match=message):
        schema.parse_taxonomy(doc)


def test_taxonomy_not_json(tmp_path):
    p = tmp_path / "t.json"
    p.write_text("{not json")
    with pytest.raises(TaxonomyError, match="not valid JSON"):
        schema.load_taxonomy(p)


def test_empty_layers_and_conform():
    empty = schema.empty_layer("assets")
    assert isinstance(empty, gpd.GeoDataFrame) and empty.crs.to_epsg() == 4326
    assert list(schema.layer_spec("assets").all_columns) == [c for c in empty.columns if c != "geometry"]
    table = schema.empty_layer("audit_log")
    assert not isinstance(table, gpd.GeoDataFrame)
    with pytest.raises(SchemaError, match="no layer called 'nope'"):
        schema.layer_spec("nope")


def test_validate_layer():
    frame = schema.empty_layer("assets")
    schema.validate_layer(frame, "assets")
    with pytest.raises(SchemaError, match="missing the column"):
        schema.validate_layer(frame.drop(columns=["name"]), "assets")
    with pytest.raises(SchemaError, match="no CRS"):
        schema.validate_layer(frame.set_crs(None, allow_override=True), "assets")


def test_engine_never_imports_streamlit():
    import ast

    for path in (schema.PROJECT_ROOT / "geo").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n.split(".")[0] in ("streamlit", "streamlit_folium") for n in names), path


def test_lint_rule_bans_streamlit_in_the_engine_only():
    """pyproject.toml's ruff rule: importing streamlit is an error in geo/ and allowed in pages/."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed (it is in requirements-dev.txt)")

    def lint(filename: str) -> str:
        proc = subprocess.run(
            [ruff, "check", "--select", "TID251", "--stdin-filename", filename, "-"],
            input="import streamlit\n\nstreamlit.write('x')\n",
            capture_output=True,
            text=True,
            cwd=schema.PROJECT_ROOT,
        )
        return proc.stdout

    assert "TID251" in lint("geo/probe.py")
    assert "TID251" not in lint("pages/probe.py")
