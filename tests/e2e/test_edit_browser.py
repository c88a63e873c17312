"""Edit an asset in a real browser, see the change in the history, and undo it."""

from __future__ import annotations

import re

import pytest

from geo.store import open_store
from tests.e2e.conftest import TIMEOUT_MS, AppPage
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e


def _name(store_path, asset_id: str) -> str:
    assets = open_store(store_path).read("assets")
    return assets.set_index("id").loc[asset_id, "name"]


def _wait_for_name(app: AppPage, asset_id: str, expected: str) -> None:
    """Wait until the server's write reaches the store (another process: no event tells us)."""
    try:
        wait_until(lambda: _name(app.server.store_path, asset_id) == expected, TIMEOUT_MS / 1000, "the write")
    except pytest.fail.Exception:
        app.page.screenshot(path=str(app.server.log_path.with_suffix(".png")), full_page=True)
        pytest.fail(app.fail_message(f"the asset's name never became {expected!r}"), pytrace=False)


def test_edit_shows_in_history_and_undo_restores_it(app_page: AppPage) -> None:
    app = app_page
    page = app.page
    assets = open_store(app.server.store_path).read("assets")
    target = assets[assets["name"] == "Firth Park Library"].iloc[0]

    page.goto(app.server.url + "/edit", wait_until="domcontentloaded")
    page.get_by_role("tab", name="Edit, close or remove").click()
    search = page.get_by_role("textbox", name="Find an asset by name, address or postcode")
    search.fill("Firth Park Library")
    search.press("Enter")
    page.get_by_role("button", name="Save changes").wait_for()
    field = page.get_by_role("textbox", name="Name", exact=True).filter(visible=True)
    assert field.input_value() == "Firth Park Library"
    field.fill("Firth Park Library and Learning Centre")
    page.get_by_role("button", name="Save changes").click()
    _wait_for_name(app, target["id"], "Firth Park Library and Learning Centre")

    page.get_by_role("tab", name="History and undo").click()
    page.get_by_text("Undo a recent change").wait_for()
    # the change is listed with who made it and what it was (the name shows literally: a word joiner
    # before the @ keeps the address from becoming a link)
    undo_row = page.get_by_text(re.compile(r"editor\u2060?@sheffield\.example · update")).filter(visible=True).first
    undo_row.wait_for()
    page.get_by_role("button", name="Undo").first.click()
    _wait_for_name(app, target["id"], "Firth Park Library")
    page.get_by_text("Undid the update").wait_for()
    problems = [p for p in app.watch.problems() if "/edit/_stcore/" not in p and "ERR_ABORTED" not in p]
    assert not problems, app.fail_message("\n".join(problems))
