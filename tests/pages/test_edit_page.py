"""The Edit assets page under AppTest: add (postcode or map click), contribute and moderate, edit and undo."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from geo import community, editing
from geo.analysis import areas as analysis
from geo.auth import Principal, Role
from geo.schema import PROJECT_ROOT
from geo.store import Store, open_store
from tests.helpers import DEMO_ASSETS, store_digest

TIMEOUT = 120
PAGE = str(PROJECT_ROOT / "pages" / "edit.py")


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _page(sign_in=None, actor: str = "", role: str = "editor", **state) -> AppTest:
    """The page in local mode (its one user is an admin), or, given ``sign_in``, in shared mode with
    ``actor`` signed in as ``role``."""
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    if sign_in is not None:
        sign_in(at, actor, role)
    for k, v in state.items():
        at.session_state[k] = v
    return _ok(at.run())


def _fill_add_form(at: AppTest, *, name: str, type_id: str, postcode: str = "") -> AppTest:
    at.text_input(key="add_name").input(name)
    at.selectbox(key="add_type").set_value(type_id)
    at.text_input(key="add_postcode").input(postcode)
    return _ok(at.button(key="add_submit").click().run())


def _by_name(store: Store, name: str):
    assets = store.read("assets")
    hit = assets[assets["name"] == name]
    assert len(hit) == 1, f"expected one asset called {name!r}, found {len(hit)}"
    return hit.iloc[0]


def _widget(widgets, prefix: str):
    return next(w for w in widgets if (w.key or "").startswith(prefix))


def test_page_runs_with_map_table_and_tabs():
    at = _page()
    assert at.title[0].value == "Edit assets"
    assert [t.label for t in at.tabs] == [
        "Add an asset",
        "Edit, close or remove",
        "Moderation queue",
        "History and undo",
    ]
    args = json.loads(at.get("component_instance")[0].proto.json_args)
    assert args["returned_objects"] == ["last_clicked"]
    assert len(at.dataframe[0].value) == DEMO_ASSETS  # the table beside the map
    assert any("No changes have been made yet" in i.value for i in at.info)


def test_editor_adds_an_asset_by_postcode(store_copy: Store, sign_in):
    at = _page(sign_in, "ed@sheffield.example")
    _fill_add_form(at, name="Parson Cross Hub", type_id="community_centre", postcode="s5 8nj")
    assert [s.value for s in at.success] == ["Added Parson Cross Hub: it is on the map now."]
    row = _by_name(store_copy, "Parson Cross Hub")
    assert row["status"] == "active" and row["created_by"] == "ed@sheffield.example" and row["postcode"] == "S5 8NJ"
    assert row["category"] == "physical"
    pc = open_store(store_copy.location).read("postcodes").set_index("postcode").loc["S5 8NJ"]
    assert (row.geometry.x, row.geometry.y) == (pytest.approx(pc["lon"]), pytest.approx(pc["lat"]))
    assert at.text_input(key="add_name").value == ""  # the form is cleared for the next one
    assert "Parson Cross Hub" in set(at.dataframe[0].value["Name"])


def test_an_anonymous_visitor_gets_no_form_and_no_names(store_copy: Store, sign_in):
    editing.contribute_asset(store_copy, actor="Sam Secret", contributed_by="Friends", name="Maybe Garden",
                             type_id="allotment", lon=-1.46, lat=53.39)  # fmt: skip
    at = _page(sign_in, "", role="anonymous")
    assert any("Sign in to propose an asset" in i.value for i in at.info)
    assert not at.tabs and not at.button and not at.text_input and not at.get("form")
    assert "Sam Secret" not in str(at)


def test_a_write_needs_a_place(store_copy: Store, sign_in):
    digest = store_digest(store_copy)
    at = _page(sign_in, "ed")
    _fill_add_form(at, name="Nowhere Hub", type_id="park", postcode="")
    assert any("Click the map where the asset is, or give its postcode" in e.value for e in at.error)
    _fill_add_form(at, name="London Hub", type_id="park", postcode="SW1A 1AA")
    assert any("outside this store's area" in e.value for e in at.error)  # found nationally, refused here
    assert store_digest(store_copy) == digest


def test_map_click_places_the_new_asset(store_copy: Store, sign_in):
    at = _page(sign_in, "ed")
    comp = at.get("component_instance")[0]
    at.session_state[comp.key] = {"last_clicked": {"lat": 53.3811, "lng": -1.4701}}
    _ok(at.run())
    assert at.session_state["edit_position"] == {"lon": -1.4701, "lat": 53.3811}
    assert "The new asset goes here" in json.loads(at.get("component_instance")[0].proto.json_args)["script"]
    assert 0 < len(at.dataframe[0].value) < DEMO_ASSETS  # what is already within 300 m
    _fill_add_form(at, name="Clicked Hub", type_id="community_centre")
    row = _by_name(store_copy, "Clicked Hub")
    assert (row.geometry.x, row.geometry.y) == (-1.4701, 53.3811)
    assert "edit_position" not in at.session_state


def test_contribution_goes_to_the_queue_and_approval_publishes_it(store_copy: Store, sign_in):
    at = _page(sign_in, "sam@example.org", role="contributor")
    assert [t.label for t in at.tabs] == ["Add an asset", "My proposals"]  # editing and moderation are for editors
    at.text_input(key="edit_group").input("")
    _fill_add_form(at, name="Pitsmoor Garden", type_id="allotment", postcode="S3 9AB")
    assert any("community group or person" in e.value for e in at.error)  # who it comes from is required
    at.text_input(key="edit_group").input("Pitsmoor Friends")
    _fill_add_form(at, name="Pitsmoor Garden", type_id="allotment", postcode="S3 9AB")
    assert any("sent for review" in s.value for s in at.success)
    row = _by_name(store_copy, "Pitsmoor Garden")
    assert row["status"] == "pending" and row["contributed_by"] == "Pitsmoor Friends"
    assert row["id"] not in set(analysis.filter_assets(store_copy.read("assets"))["id"])

    assert "Pitsmoor Garden" in set(at.dataframe[-1].value["Title"])  # under My proposals
    sign_in(at, "editor@example.org", "editor")
    _ok(at.run())
    assert "Moderation queue" in [t.label for t in at.tabs]
    assert any("1 contribution is waiting in the moderation queue" in c.value for c in at.caption)
    assert any("Pitsmoor Friends" in m.value for m in at.markdown)
    _ok(at.button(key=f"approve_{row['id']}").click().run())
    assert any("Approved Pitsmoor Garden" in s.value for s in at.success)
    assert _by_name(store_copy, "Pitsmoor Garden")["status"] == "active"
    assert "Moderation queue" in [t.label for t in at.tabs]
    assert not any("waiting in the moderation queue" in c.value for c in at.caption)
    assert row["id"] in set(analysis.filter_assets(store_copy.read("assets"))["id"])


def test_a_contributor_withdraws_their_own_proposal(store_copy: Store, sign_in):
    at = _page(sign_in, "sam@example.org", role="contributor")
    _fill_add_form(at, name="Pitsmoor Garden", type_id="allotment", postcode="S3 9AB")
    row = _by_name(store_copy, "Pitsmoor Garden")
    _ok(at.button(key=f"withdraw_assets_{row['id']}").click().run())
    assert any("Withdrew Pitsmoor Garden" in s.value for s in at.success)
    assert _by_name(store_copy, "Pitsmoor Garden")["status"] == "removed"
    assert not [b for b in at.button if (b.key or "").startswith("withdraw_")]


def test_an_editor_cannot_approve_their_own_contribution(store_copy: Store, sign_in):
    asset_id = editing.contribute_asset(
        store_copy, actor="ed@example.org", contributed_by="Friends", name="Own Garden", type_id="allotment",
        lon=-1.46, lat=53.39,
    )  # fmt: skip
    at = _page(sign_in, "ed@example.org")
    assert at.button(key=f"approve_{asset_id}").disabled and at.button(key=f"reject_{asset_id}").disabled
    assert any("another editor must approve" in c.value for c in at.caption)


def test_reject_needs_a_reason(store_copy: Store, sign_in):
    asset_id = editing.contribute_asset(
        store_copy,
        actor="sam",
        contributed_by="Friends",
        name="Maybe Garden",
        type_id="allotment",
        lon=-1.46,
        lat=53.39,
    )
    at = _page(sign_in, "editor")
    _ok(at.button(key=f"reject_{asset_id}").click().run())
    assert any("give a reason" in e.value for e in at.error)
    at.text_input(key=f"reason_{asset_id}").input("Already mapped")
    _ok(at.button(key=f"reject_{asset_id}").click().run())
    assert _by_name(store_copy, "Maybe Garden")["status"] == "rejected"


def test_edit_shows_in_history_and_undo_restores_it(store_copy: Store, sign_in):
    original = _by_name(store_copy, "Firth Park Library")
    at = _page(sign_in, "kim@example.org")
    at.text_input(key="edit_query").input("Firth Park Lib").run()
    _ok(at)
    assert at.selectbox(key="edit_pick").value == original["id"]
    _widget(at.text_input, "edit_name_").input("Firth Park Library and Hub")
    _widget(at.text_input, "edit_opening_hours_").input("Mon-Sat 10-4")
    _ok(_widget(at.button, "edit_save_").click().run())
    assert any("Saved the changes to Firth Park Library and Hub" in s.value for s in at.success)
    changed = store_copy.read("assets").set_index("id").loc[original["id"]]
    assert changed["name"] == "Firth Park Library and Hub" and changed["opening_hours"] == "Mon-Sat 10-4"
    assert (changed.geometry.x, changed.geometry.y) == (original.geometry.x, original.geometry.y)  # not moved

    history = at.dataframe[-1].value
    assert history.iloc[0]["Action"] == "update" and history.iloc[0]["By"] == "kim@example.org"
    assert "Firth Park Library and Hub" in history.iloc[0]["Changes"]
    assert len(at.get("download_button")) == 1
    undo = _widget(at.button, "undo_")
    _ok(undo.click().run())
    assert any("Undid the update of Firth Park Library and Hub" in s.value for s in at.success)
    restored = _by_name(store_copy, "Firth Park Library")
    for col in ("name", "opening_hours", "type", "address", "status"):
        assert restored[col] == original[col]
    assert (restored.geometry.x, restored.geometry.y) == (original.geometry.x, original.geometry.y)
    assert list(editing.history(store_copy)["action"]) == ["undo", "update"]
    assert _widget(at.text_input, "edit_name_").value == "Firth Park Library"  # the form shows it restored


def test_close_and_remove_buttons(store_copy: Store, sign_in, tmp_path, monkeypatch):
    from geo.web import webassets
    from pages import _map

    monkeypatch.setattr(_map, "STATIC_DIR", tmp_path)  # the published details, watched below
    at = _page(sign_in, "kim")
    at.text_input(key="edit_query").input("Firth Park Lib").run()
    _ok(at.button(key="edit_close").click().run())
    assert _by_name(store_copy, "Firth Park Library")["status"] == "closed"
    _ok(at.button(key="edit_close").click().run())
    assert any("already closed" in e.value for e in at.error)
    asset_id = str(_by_name(store_copy, "Firth Park Library")["id"])
    details = json.dumps({"ids": [asset_id], "rows": [["Firth Park Library"]]})
    ours = webassets.publish_details(tmp_path, details, generation=store_copy.version(), scope=store_copy.location)
    # another app server's copy of the demo, sharing the static folder: the same id, and its points
    other = "/elsewhere/sheffield.gpkg"
    theirs = {webassets.publish_details(tmp_path, t, generation="r1", scope=other) for t in (details, '{"n": []}')}
    _ok(at.button(key="edit_remove").click().run())
    assert _by_name(store_copy, "Firth Park Library")["status"] == "removed"
    assert any("Removed Firth Park Library" in s.value for s in at.success)
    published = {p.name for p in (tmp_path / webassets.DETAILS_FOLDER).glob("*.json")}
    assert ours not in published  # its details stopped being served at once
    assert theirs <= published  # another store's maps keep theirs


def test_the_page_refuses_what_the_api_and_imports_refuse_with_the_same_sentence(store_copy: Store, sign_in):
    url = "https://example.org/%3Cscript%3Ealert(1)%3C/script%3E"
    with pytest.raises(editing.InvalidValueError) as api:
        editing.add_asset(store_copy, actor="ed", name="Hub", type_id="community_centre", lon=-1.47, lat=53.38, url=url)
    digest = store_digest(store_copy)
    at = _page(sign_in, "ed@sheffield.example")
    at.text_input(key="add_url").input(url)
    _fill_add_form(at, name="Percent Hub", type_id="community_centre", postcode="S5 8NJ")
    assert [e.value for e in at.error] == [str(api.value)]  # geo.validation's sentence, as the API gives it
    assert store_digest(store_copy) == digest


def test_role_contributors_story_waits_in_the_queue_until_another_editor_approves(store_copy: Store, sign_in):
    cara = Principal(sub="cara@example.org", name="Cara", role=Role.CONTRIBUTOR)
    story = community.add_story(
        store_copy, actor=cara, title="Lunch club", summary="Twenty people a week.", body="", boundary_layer="wards",
        area_id="E05010868", date="2025-08-31", source="Firth Park Residents' Forum",
    )  # fmt: skip
    assert community.search_stories(store_copy.read("stories")).query("id == @story").empty  # not public yet
    at = _page(sign_in, "cara@example.org", role="contributor")
    assert "Lunch club" in set(at.dataframe[-1].value["Title"])  # her own, under My proposals
    sign_in(at, "ed@example.org", "editor")
    _ok(at.run())
    assert "Moderation queue" in [t.label for t in at.tabs]
    assert any("1 contribution is waiting in the moderation queue" in c.value for c in at.caption)
    assert any("Lunch club" in m.value and "sent by Cara" in m.value for m in at.markdown)
    _ok(at.button(key=f"kapprove_stories_{story}").click().run())
    assert any("Approved the story" in s.value for s in at.success)
    assert store_copy.get("stories", story)["status"] == "published"
    assert not community.search_stories(store_copy.read("stories")).query("id == @story").empty


def test_the_history_is_shown_a_page_at_a_time(store_copy: Store, sign_in, monkeypatch):
    from pages import _edit_common

    monkeypatch.setattr(_edit_common, "HISTORY_ROWS", 4)
    library = _by_name(store_copy, "Firth Park Library")["id"]
    for i in range(9):
        editing.update_asset(store_copy, library, actor=f"editor{i}", description=f"Change {i}")
    total = len(editing.history(store_copy, layer=None, limit=None))

    def history_at(at: AppTest):
        return at.dataframe[-1].value, next(c.value for c in at.caption if c.value.startswith("Changes "))

    at = _page(sign_in, "kim@example.org")
    rows, line = history_at(at)
    assert len(rows) == 4 and line.startswith(f"Changes 1 to 4 of {total:,}, newest first")
    assert list(rows["By"]) == ["editor8", "editor7", "editor6", "editor5"]
    assert at.button(key="edit_history_newer").disabled
    _ok(at.button(key="edit_history_older").click().run())
    rows, line = history_at(at)
    assert list(rows["By"]) == ["editor4", "editor3", "editor2", "editor1"] and line.startswith("Changes 5 to 8 ")
    _ok(at.button(key="edit_history_older").click().run())
    rows, _ = history_at(at)
    assert list(rows["By"])[0] == "editor0" and len(rows) == total - 8
    assert at.button(key="edit_history_older").disabled  # the oldest page
    _ok(at.button(key="edit_history_newer").click().run())
    assert list(history_at(at)[0]["By"])[0] == "editor4"
    assert len(at.get("download_button")) == 1  # the whole history, built only when clicked
