"""Shared mode under AppTest: what anonymous visitors, contributors and editors get on every page.

The browser tests (tests/e2e/test_auth_browser.py) sign in for real through an OpenID Connect
provider; these run each page directly with ``AppTest.user`` standing in for ``st.user``.
"""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from geo import community, editing
from geo.auth import Principal, Role
from geo.schema import PROJECT_ROOT

TIMEOUT = 120
PAGES = ("explore", "neighbourhood", "near_me", "gaps", "community", "join_up", "stories", "edit", "data", "about")
#: Labels of controls that change data: none may be enabled for an anonymous visitor.
WRITE = re.compile(
    r"\b(save|add|approve|reject|undo|remove|import|upload|edit|publish|record|send|withdraw|close)\b", re.I
)
SECRET_NAME = "Zed Secretname"


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def seeded(private_store):
    """Changes made by a person whose name must never reach an anonymous visitor."""
    zed = Principal(sub="zed-sub", name=SECRET_NAME, role=Role.EDITOR, email="zed@example.org")
    editing.contribute_asset(private_store, actor=zed, contributed_by=SECRET_NAME, name="Zed's Garden",
                             type_id="allotment", lon=-1.46, lat=53.39)  # fmt: skip
    assets = private_store.read("assets", where={"name": "Firth Park Library"})
    editing.update_asset(private_store, str(assets["id"].iloc[0]), actor=zed, opening_hours="Mon-Fri 9-5")
    asp = community.add_aspiration(
        private_store, actor=zed, boundary_layer="wards", area_id="E05010868", text="A warm space",
        theme="food", raised_by="Firth Park Residents", raised_on="2025-01-10",
    )  # fmt: skip
    mid = community.add_success_measure(
        private_store, actor=zed, aspiration_id=asp, measure="people a week", horizon="short", baseline=0,
        target=40, agreed_by="Firth Park partnership", agreed_on="2025-02-01",
    )  # fmt: skip
    community.record_measure_value(private_store, mid, actor=zed, value=12, recorded_on="2025-03-01")
    community.add_story(
        private_store, actor=zed, title="Warm space opened", summary="It opened.", body="", boundary_layer="wards",
        area_id="E05010868", date="2025-03-01", source="Firth Park Residents",
    )  # fmt: skip
    return private_store


def _texts(at: AppTest) -> str:
    """Everything a page shows as text: Markdown, captions, alerts, metrics, tables' cells and columns."""
    parts = [e.value for kind in ("markdown", "caption", "info", "warning", "success", "error", "title", "subheader")
             for e in getattr(at, kind)]  # fmt: skip
    for frame in at.dataframe:
        parts.append(frame.value.to_csv())
    for dl in at.get("download_button"):
        parts.append(str(dl.proto))
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("page", PAGES)
def test_role_anonymous_visitor_gets_no_enabled_write_control_and_no_names(seeded, sign_in, page):
    at = sign_in(
        AppTest.from_file(str(PROJECT_ROOT / "pages" / f"{page}.py"), default_timeout=TIMEOUT), role="anonymous"
    )
    _ok(at.run())
    enabled = [b.label for b in [*at.button, *at.get("form_submit_button")] if not b.disabled and WRITE.search(b.label)]
    assert not enabled, f"{page}: enabled write controls {enabled}"
    assert not at.get("file_uploader"), page
    text = _texts(at)
    assert SECRET_NAME not in text and "zed@example.org" not in text and "zed-sub" not in text, page


def test_role_anonymous_sees_published_knowledge_but_no_pending_contribution(seeded, sign_in):
    cara = Principal(sub="cara", name="Cara", role=Role.CONTRIBUTOR)
    community.add_story(
        seeded, actor=cara, title="Pending tale", summary="Not checked yet.", body="", boundary_layer="wards",
        area_id="E05010868", date="2025-04-01", source="Cara",
    )  # fmt: skip
    at = sign_in(
        AppTest.from_file(str(PROJECT_ROOT / "pages" / "stories.py"), default_timeout=TIMEOUT), role="anonymous"
    )
    _ok(at.run())
    titles = " ".join(e.label for e in at.get("expander"))
    assert "Warm space opened" in titles and "Pending tale" not in titles


def test_role_editor_sees_names_where_a_visitor_does_not(seeded, sign_in):
    at = sign_in(AppTest.from_file(str(PROJECT_ROOT / "pages" / "edit.py"), default_timeout=TIMEOUT), "ed@example.org")
    _ok(at.run())
    assert SECRET_NAME in _texts(at)  # the history and the queue name people, for editors


@pytest.fixture
def all_interfaces():
    from streamlit import config

    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    yield
    config.set_option("server.address", before)


def test_local_mode_refuses_an_address_beyond_this_machine(all_interfaces):
    at = _ok(AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=TIMEOUT).run())
    assert any("local mode" in e.value and "./run app" in e.value for e in at.error)
    assert not at.get("component_instance")  # nothing else was served


def test_sign_in_offers_one_button_per_configured_provider(sign_in):
    import tomllib

    at = sign_in(AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=TIMEOUT), role="anonymous")
    at.secrets["auth"] = tomllib.loads((PROJECT_ROOT / ".streamlit" / "secrets.example.toml").read_text())["auth"]
    _ok(at.run())
    labels = [b.label for b in at.sidebar.button]
    assert "Sign in with Microsoft" in labels and "Sign in with Google" in labels


def test_sign_in_not_configured_says_how_to_configure_it(sign_in):
    at = sign_in(AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=TIMEOUT), role="anonymous")
    _ok(at.run())
    assert any("Sign-in is not configured" in w.value and "secrets.example.toml" in w.value for w in at.sidebar.warning)


def test_sign_in_shows_who_and_which_role(seeded, sign_in):
    at = sign_in(AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=TIMEOUT), "cara@example.org",
                 role="contributor", name="Cara Lee")  # fmt: skip
    _ok(at.run())
    assert any("Signed in as **Cara Lee** · contributor" in m.value for m in at.sidebar.markdown)
    assert [b.label for b in at.sidebar.button] == ["Sign out"]
