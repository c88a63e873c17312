"""The Data page under AppTest: upload, preview, map columns, check, import."""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from geo.schema import PROJECT_ROOT

PAGE = str(PROJECT_ROOT / "pages" / "data.py")


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _with_file(name: str, data: bytes, mime: str = "text/csv", *, at: AppTest | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120) if at is None else at
    _ok(at.run())
    at.get("file_uploader")[0].set_value((name, data, mime)).run()
    return _ok(at)


def test_empty_state_says_what_to_do():
    at = _ok(AppTest.from_file(PAGE, default_timeout=120).run())
    assert any("Choose a file to start" in i.value for i in at.info)


def test_csv_is_previewed_mapped_checked_and_imported(private_store, monkeypatch):
    monkeypatch.setenv("COMMON_GROUND_ACTOR", "officer@sheffield.example")  # local mode's one user
    data = b"Venue,Kind,Postcode\nGrenoside Community Hall,community_centre,S35 8QS\n"
    at = _with_file("halls.csv", data)
    assert at.selectbox(key="import_map_assets_name").value == "Venue"  # suggested from a synonym
    assert any("ready to import" in s.value for s in at.success)
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
    """The area is picked from a list, the file is named after what it holds, and planners get EPSG:27700."""
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["boundary_layer"] = "wards"
    _ok(at.run())
    at.selectbox(key="export_format").set_value(fmt).run()
    area = at.selectbox(key="export_area_wards")
    assert area.options[0] == "(all areas)" and "Firth Park" in area.options and len(area.options) == 29
    area.set_value("E05010868").run()
    bng = fmt in ("gpkg", "shp")
    if bng:
        at.radio(key="export_crs").set_value("EPSG:27700").run()
    else:  # KML is always longitude/latitude: no choice offered
        assert not [r for r in at.radio if r.key == "export_crs"]
    at.button(key="export_prepare").click().run()
    _ok(at)
    today = dt.date.today().isoformat()
    ending = {"gpkg": ".gpkg", "shp": ".zip", "kml": ".kml"}[fmt]
    name = f"firth-park_ward_assets{'_epsg27700' if bng else ''}_{today}{ending}"
    labels = [b.label for b in at.get("download_button")]
    assert f"Download {name}" in labels, labels


def test_export_areas_are_listed_by_name_for_every_boundary_layer():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["boundary_layer"] = "lsoas"
    _ok(at.run())
    area = at.selectbox(key="export_area_lsoas")
    assert len(area.options) == 346 and area.value == "(all areas)"
    assert "Sheffield 008C (Stannington)" in area.options  # LSOAs carry their ward
    at.button(key="export_prepare").click().run()
    _ok(at)
    labels = [b.label for b in at.get("download_button")]
    assert f"Download assets_{dt.date.today().isoformat()}.gpkg" in labels, labels


def test_rows_are_checked_by_the_layers_validator_with_the_apis_sentences(private_store):
    from geo import community
    from geo.validation import InvalidValueError

    row = {"boundary_layer": "wards", "area_id": "E05010868", "text": "More benches", "theme": "place",
           "raised_by": "Bench Group", "raised_on": "not-a-date", "status": "open"}  # fmt: skip
    with pytest.raises(InvalidValueError) as api:
        community.add_aspiration(private_store, actor="officer@example.org", **row)
    at = _ok(AppTest.from_file(PAGE, default_timeout=120).run())
    at.selectbox(key="import_layer").set_value("aspirations").run()
    data = ",".join(row) + "\n" + ",".join(row.values()) + "\n"
    at.get("file_uploader")[0].set_value(("aspirations.csv", data.encode(), "text/csv")).run()
    _ok(at)
    assert [e.value for e in at.error] == [f"row 1: {str(api.value).rstrip('.')}"]
    assert at.button(key="import_go").disabled and private_store.read("aspirations").empty


HALLS = b"name,type,postcode\n" + b"".join(b"Hall %d,community_centre,S35 8QS\n" % i for i in range(3))


def test_role_anonymous_visitors_cannot_upload_but_can_export(sign_in):
    at = sign_in(AppTest.from_file(PAGE, default_timeout=120), role="anonymous")
    _ok(at.run())
    assert not at.get("file_uploader")
    assert any("Sign in to upload a file" in i.value for i in at.info)
    assert at.button(key="export_prepare")  # public exports stay open


def test_role_contributor_imports_land_pending_within_their_limit(private_store, sign_in, tmp_path):
    at = sign_in(AppTest.from_file(PAGE, default_timeout=120), "cara@example.org", role="contributor")
    at = _with_file("halls.csv", HALLS, at=at)
    assert at.selectbox(key="import_layer").options == ["assets"]
    assert at.button(key="import_go").label == "Send for review"
    at.button(key="import_go").click().run()
    _ok(at)
    rows = private_store.read("assets", where={"name": ["Hall 0", "Hall 1", "Hall 2"]})
    assert len(rows) == 3 and set(rows["status"]) == {"pending"}
    assert any("once an editor has approved them" in s.value for s in at.success)
    assert not at.get("expander") or all("Admin" not in e.label for e in at.get("expander"))


def test_role_limits_refuse_a_file_too_big_for_the_role(private_store, sign_in, monkeypatch):
    at = sign_in(AppTest.from_file(PAGE, default_timeout=120), "ed@example.org", role="editor")
    roles = private_store  # noqa: F841 (the store must stay unchanged)
    import os

    path = os.environ["COMMON_GROUND_ROLES"]
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("[settings]\neditor_row_limit = 2\n")
    at = _with_file("halls.csv", HALLS, at=at)
    at.button(key="import_go").click().run()
    _ok(at)
    assert any("editors import at most 2" in e.value for e in at.error)
    assert private_store.read("assets", where={"name": ["Hall 0"]}).empty


def test_role_admin_manages_types_and_sees_the_roles(private_store, sign_in):
    at = sign_in(AppTest.from_file(PAGE, default_timeout=120), "ada@example.org", role="admin")
    _ok(at.run())
    assert any(e.label.startswith("Admin") for e in at.get("expander"))
    assert "ada@example.org" in set(at.dataframe[0].value["value"])
    at.text_input(key="type_id").input("repair_cafe")
    at.text_input(key="type_label").input("Repair café")
    at.button(key="type_submit").click().run()
    _ok(at)
    assert any("Added the type Repair café" in s.value for s in at.success)
    assert "repair_cafe" in set(private_store.read("taxonomy")["id"])
