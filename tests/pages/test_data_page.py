"""The Data page under AppTest: upload, preview, map columns, check, import."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from geo.schema import PROJECT_ROOT

PAGE = str(PROJECT_ROOT / "pages" / "data.py")


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _with_file(name: str, data: bytes, mime: str = "text/csv") -> AppTest:
    at = _ok(AppTest.from_file(PAGE, default_timeout=120).run())
    at.get("file_uploader")[0].set_value((name, data, mime)).run()
    return _ok(at)


def test_empty_state_says_what_to_do():
    at = _ok(AppTest.from_file(PAGE, default_timeout=120).run())
    assert any("Choose a file to start" in i.value for i in at.info)


def test_csv_is_previewed_mapped_checked_and_imported(private_store):
    data = b"Venue,Kind,Postcode\nGrenoside Community Hall,community_centre,S35 8QS\n"
    at = _with_file("halls.csv", data)
    assert at.selectbox(key="import_map_assets_name").value == "Venue"  # suggested from a synonym
    assert any("ready to import" in s.value for s in at.success)
    assert at.button(key="import_go").disabled  # no actor yet
    at.text_input(key="import_actor").input("officer@sheffield.example").run()
    at.button(key="import_go").click().run()
    _ok(at)
    assert any("Imported 1 row(s)" in s.value for s in at.success)
    assets = private_store.read("assets")
    row = assets[assets["name"] == "Grenoside Community Hall"].iloc[0]
    assert row["created_by"] == "officer@sheffield.example" and row["type"] == "community_centre"


def test_unknown_types_can_be_mapped_on_the_page(private_store):
    data = b"name,type,lat,lon\nRepair Cafe Hillsborough,Repair Cafe,53.404,-1.50\n"
    at = _with_file("types.csv", data)
    assert any("unknown type" in e.value for e in at.error)
    at.selectbox(key="import_type_Repair Cafe").set_value("community_group").run()
    _ok(at)
    assert not at.error and any("ready to import" in s.value for s in at.success)


def test_broken_file_is_explained():
    at = _with_file("empty.csv", b"name,lat,lon\n")
    assert any("no rows" in e.value for e in at.error)
    at = _with_file("fake.gpkg", b"not a database", "application/octet-stream")
    assert any("not a GeoPackage" in e.value for e in at.error)


@pytest.mark.parametrize("fmt", ["gpkg", "shp", "kml"])
def test_export_from_the_page(fmt):
    at = _ok(AppTest.from_file(PAGE, default_timeout=120).run())
    at.selectbox(key="export_format").set_value(fmt).run()
    at.text_input(key="export_area").input("Firth Park")
    at.session_state["boundary_layer"] = "wards"
    at.button(key="export_prepare").click().run()
    _ok(at)
    labels = [b.label for b in at.get("download_button")]
    assert any(label.startswith("Download assets.") for label in labels), labels


def test_export_with_an_unknown_area_is_explained():
    at = _ok(AppTest.from_file(PAGE, default_timeout=120).run())
    at.text_input(key="export_area").input("Atlantis")
    at.button(key="export_prepare").click().run()
    _ok(at)
    assert any("Atlantis" in e.value for e in at.error)


def test_rows_are_checked_by_the_layers_validator_with_the_apis_sentences(private_store):
    from geo import knowledge
    from geo.validation import InvalidValueError

    row = {"boundary_layer": "wards", "area_id": "E05010868", "text": "More benches", "theme": "place",
           "raised_by": "Bench Group", "raised_on": "not-a-date", "status": "open"}  # fmt: skip
    with pytest.raises(InvalidValueError) as api:
        knowledge.add_aspiration(private_store, actor="officer@example.org", **row)
    at = _ok(AppTest.from_file(PAGE, default_timeout=120).run())
    at.selectbox(key="import_layer").set_value("aspirations").run()
    data = ",".join(row) + "\n" + ",".join(row.values()) + "\n"
    at.get("file_uploader")[0].set_value(("aspirations.csv", data.encode(), "text/csv")).run()
    _ok(at)
    assert [e.value for e in at.error] == [f"row 1: {str(api.value).rstrip('.')}"]
    assert at.button(key="import_go").disabled and private_store.read("aspirations").empty
