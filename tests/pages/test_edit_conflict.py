"""Two editors, one asset: the second save is refused with who/when/what, kept on screen, and a reload shows the change."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from geo import editing
from geo.schema import PROJECT_ROOT
from geo.store import Store

PAGE = str(PROJECT_ROOT / "pages" / "edit.py")


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _widget(widgets, prefix: str):
    return next(w for w in widgets if (w.key or "").startswith(prefix))


def _library(store: Store) -> dict:
    assets = store.read("assets", where={"name": "Firth Park Library"})
    return store.get("assets", str(assets["id"].iloc[0]))


def _open_in_form(actor: str, monkeypatch) -> AppTest:
    monkeypatch.setenv("COMMON_GROUND_ACTOR", actor)  # local mode's one user
    at = AppTest.from_file(PAGE, default_timeout=120)
    _ok(at.run())
    at.text_input(key="edit_query").input("Firth Park Lib")
    return _ok(at.run())


def test_a_stale_form_is_refused_not_dropped_and_reload_shows_the_other_change(store_copy: Store, monkeypatch):
    original = _library(store_copy)
    ben = _open_in_form("ben@example.org", monkeypatch)  # Ben loads the asset (version 1) into his form
    # Meanwhile Ana saves a change to the same asset.
    editing.update_asset(store_copy, original["id"], actor="ana@example.org", if_version=original["version"],
                         opening_hours="Mon-Sat 10-4")  # fmt: skip

    _widget(ben.text_input, "edit_name_").input("Firth Park Library and Hub")
    _ok(_widget(ben.button, "edit_save_").click().run())
    errors = " ".join(e.value for e in ben.error)
    assert "changed by ana@example.org" in errors and "opening_hours" in errors and "not saved" in errors
    assert not ben.success
    assert _widget(ben.text_input, "edit_name_").value == "Firth Park Library and Hub"  # what he typed is kept
    now = _library(store_copy)
    assert now["name"] == "Firth Park Library" and now["opening_hours"] == "Mon-Sat 10-4"  # Ana's change stands
    assert now["version"] == original["version"] + 1

    _ok(ben.button(key="edit_reload").click().run())  # Reload: the form shows Ana's change
    assert not ben.error
    assert _widget(ben.text_input, "edit_opening_hours_").value == "Mon-Sat 10-4"
    _widget(ben.text_input, "edit_name_").input("Firth Park Library and Hub")
    _ok(_widget(ben.button, "edit_save_").click().run())
    assert any("Saved the changes" in s.value for s in ben.success)
    final = _library_by_id(store_copy, original["id"])
    assert final["name"] == "Firth Park Library and Hub" and final["opening_hours"] == "Mon-Sat 10-4"
    assert final["version"] == original["version"] + 2


def _library_by_id(store: Store, asset_id: str) -> dict:
    return store.get("assets", asset_id)


def test_closing_from_a_stale_view_is_refused(store_copy: Store, monkeypatch):
    original = _library(store_copy)
    ben = _open_in_form("ben", monkeypatch)
    editing.update_asset(
        store_copy, original["id"], actor="ana", if_version=original["version"], url="https://example.org/fp"
    )
    _ok(ben.button(key="edit_close").click().run())
    assert any("changed by ana" in e.value for e in ben.error)
    assert _library_by_id(store_copy, original["id"])["status"] == "active"


def test_join_up_organisation_edit_from_a_stale_form_is_refused_then_reloaded(store_copy: Store, monkeypatch):
    from geo import community

    org = store_copy.read("organisations", where={"kind": "voluntary"}).sort_values("name").iloc[0]
    at = AppTest.from_file(str(PROJECT_ROOT / "pages" / "join_up.py"), default_timeout=120)
    at.session_state["boundary_layer"] = "wards"
    at.session_state["joinup_org"] = org["id"]
    _ok(at.run())
    _ok(at.run())
    community.update_organisation(store_copy, org["id"], actor="ana", themes="food, housing", if_version=1)
    _widget(at.text_input, "oe_url_").input("https://example.org/ben")
    _ok(next(b for b in at.button if b.label == "Save changes").click().run())
    assert any("changed by ana" in e.value and "themes" in e.value for e in at.error)
    assert _widget(at.text_input, "oe_url_").value == "https://example.org/ben"  # still as typed
    assert store_copy.get("organisations", org["id"])["url"] != "https://example.org/ben"
    _ok(at.button(key="joinup_reload").click().run())
    assert _widget(at.text_input, "oe_themes_").value == "food, housing"  # Ana's change, now shown
