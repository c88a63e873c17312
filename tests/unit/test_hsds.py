"""The HSDS 3.0 export: every record valid against the HSDS table schemas copied into tests/standards/."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from geo import community as k
from geo.cli.hsds import write_hsds_cli
from geo.io import hsds
from geo.store import Store

SCHEMAS = Path(__file__).resolve().parent.parent / "standards" / "hsds-3"
FIRTH_PARK = "E05010868"
COUNCIL = "bc0de922-38b0-5b28-986c-b88bae06546f"
JSON_TYPES = {"string": str, "number": (int, float), "integer": int, "array": list, "object": dict, "boolean": bool}


@pytest.fixture(scope="module")
def validators() -> dict[str, Draft202012Validator]:
    docs = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in SCHEMAS.glob("*.json")}
    registry = Registry().with_resources((name, DRAFT202012.create_resource(doc)) for name, doc in docs.items())
    return {
        table: Draft202012Validator(docs[f"{table}.json"], registry=registry, format_checker=FormatChecker())
        for table in hsds.HSDS_TABLES
    }


@pytest.fixture
def enriched(store_copy: Store) -> Store:
    """The demo plus what exercises every mapping: identifiers, contacts, statuses, areas without services."""
    k.add_organisation(
        store_copy,
        actor="t",
        name="Firth Park Pantry <b>",
        kind="voluntary",
        themes="food",
        charity_number="1234567",
        company_number="07654321",
        public_contact="hello@pantry.example.org",
        url="https://pantry.example.org",
        boundary_layer="wards",
        areas=[(FIRTH_PARK, "food"), ("E05010879", "")],
    )
    with store_copy.transaction(actor="t") as tx:
        council_assets = tx.read("assets", where={"organisation_id": COUNCIL})["id"]
        tx.update("assets", council_assets.iloc[0], {"status": "closed"})
        tx.update("assets", council_assets.iloc[1], {"status": "pending"})
    return store_copy


def _small_check(schema_doc: dict, record: dict) -> list[str]:
    """The plain reading of the schema: required fields present, every field of its JSON type."""
    problems = [f"missing {f}" for f in schema_doc["required"] if f not in record]
    for name, value in record.items():
        kind = schema_doc["properties"].get(name, {}).get("type")
        if kind is None:
            problems += [] if name in schema_doc["properties"] else [f"unknown field {name}"]
        elif not isinstance(value, JSON_TYPES[kind]) or isinstance(value, bool) and kind != "boolean":
            problems.append(f"{name} is not a {kind}")
    return problems


def test_every_record_is_valid_hsds(enriched, validators):
    doc = hsds.hsds_document(enriched)
    assert set(doc) == {"about", *hsds.HSDS_TABLES}
    for table in hsds.HSDS_TABLES:
        assert doc[table], f"{table} is empty"
        schema_doc = json.loads((SCHEMAS / f"{table}.json").read_text(encoding="utf-8"))
        for record in doc[table]:
            errors = [e.message for e in validators[table].iter_errors(record)]
            assert not errors, (table, record, errors)
            assert not _small_check(schema_doc, record), (table, record)
        ids = [r["id"] for r in doc[table]]
        assert len(ids) == len(set(ids)), f"{table} ids are not unique"


def test_mapping_and_links(enriched):
    doc = hsds.hsds_document(enriched)
    orgs = {o["id"]: o for o in doc["organization"]}
    assert len(orgs) == 219 and COUNCIL in orgs
    pantry = next(o for o in doc["organization"] if o["name"] == "Firth Park Pantry <b>")
    assert pantry["email"] == "hello@pantry.example.org" and pantry["website"] == "https://pantry.example.org"
    assert {(i["identifier_scheme"], i["identifier"]) for i in pantry["organization_identifiers"]} == {
        ("GB-CHC", "1234567"),
        ("GB-COH", "07654321"),
    }
    assert orgs[COUNCIL]["phones"][0]["number"] == "0114 273 4567"

    services = {s["id"]: s for s in doc["service"]}
    assert all(s["organization_id"] in orgs for s in services.values())
    assert len(services) == 301 - 1  # the pending asset is not published
    assert sorted(s["status"] for s in services.values()).count("inactive") == 1  # the closed one
    locations = {loc["id"]: loc for loc in doc["location"]}
    for link in doc["service_at_location"]:
        assert link["service_id"] in services and link["location_id"] in locations
    library = next(s for s in services.values() if s["name"] == "Firth Park Library")
    loc = next(locations[x["location_id"]] for x in doc["service_at_location"] if x["service_id"] == library["id"])
    assert loc["location_type"] == "physical" and 53.3 < loc["latitude"] < 53.5 and -1.6 < loc["longitude"] < -1.3

    areas = doc["service_area"]
    assert all(a.get("service_id") in services for a in areas if "service_id" in a)
    fp_library = [a for a in areas if a.get("service_id") == library["id"] and a["name"] == "Firth Park"]
    assert fp_library and fp_library[0]["uri"].endswith("/E05010868")
    orphan = [a for a in areas if "service_id" not in a and a["description"].startswith("Firth Park Pantry <b>")]
    assert {a["name"] for a in orphan} == {"Firth Park", "Southey"}
    assert any("works here on food" in a["description"] for a in orphan)
    assert doc["about"]["attribution"] and "HSDS" in doc["about"]["standard"]


def test_ids_are_stable_between_exports(store_copy):
    one, two = hsds.hsds_document(store_copy), hsds.hsds_document(store_copy)
    for table in hsds.HSDS_TABLES:
        assert [r["id"] for r in one[table]] == [r["id"] for r in two[table]]


def test_write_hsds_atomically_and_cli(store_copy, tmp_path):
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "hsds.json"
    out.write_text("old")
    doc, text = write_hsds_cli(argparse.Namespace(data=store_copy.location, out=str(out)))
    written = json.loads(out.read_text(encoding="utf-8"))
    assert doc["counts"] == {t: len(written[t]) for t in hsds.HSDS_TABLES} and doc["format"] == "hsds"
    assert "Wrote HSDS 3.0 JSON" in text and str(out) in text
    assert [p.name for p in out.parent.iterdir()] == ["hsds.json"]  # no temporary file left behind
    with pytest.raises(hsds.HsdsExportError, match="does not exist"):
        hsds.write_hsds(store_copy, tmp_path / "missing" / "x.json")
    with pytest.raises(hsds.HsdsExportError, match="is a folder"):
        hsds.write_hsds(store_copy, tmp_path)
    with pytest.raises(hsds.HsdsExportError, match="--out"):
        write_hsds_cli(argparse.Namespace(data=store_copy.location, out=None))
    with pytest.raises(hsds.HsdsExportError, match="use --layer organisations"):
        write_hsds_cli(argparse.Namespace(data=store_copy.location, out=str(out), layer="assets", area=None, type=None))
    with pytest.raises(hsds.HsdsExportError, match="leave out --area"):
        write_hsds_cli(
            argparse.Namespace(
                data=store_copy.location, out=str(out), layer="organisations", area="Firth Park", type=None
            )
        )
    doc, _ = write_hsds_cli(
        argparse.Namespace(data=store_copy.location, out=str(out), layer="organisations", area=None, type=None)
    )
    assert doc["counts"]["organization"] == 218
