"""Add an aspiration through the page in a real browser and see it lead the neighbourhood profile."""

from __future__ import annotations

import pytest

from geo.store import open_store
from tests.e2e.conftest import TIMEOUT_MS, AppPage

pytestmark = pytest.mark.e2e

TEXT = "A warm welcoming space open every weekday afternoon"


def test_add_an_aspiration_and_see_it_on_the_profile(app_page: AppPage) -> None:
    app = app_page
    page = app.page
    wards = open_store(app.server.store_path).read("wards")
    first_area = wards.set_index("name").loc[sorted(wards["name"])[0]]  # both pages open on the first area

    page.goto(app.server.url + "/community", wait_until="domcontentloaded")
    page.get_by_role("heading", name="Aspirations and success").wait_for()
    page.get_by_role("textbox", name="What does the community want? (in its words)").fill(TEXT)
    page.get_by_role("textbox", name="Theme").fill("Community")
    page.get_by_role("textbox", name="Raised by (a group)").fill("Residents' Forum")
    page.get_by_role("button", name="Add aspiration").click()
    page.wait_for_function(
        "(t) => [...document.querySelectorAll('td[role=gridcell]')].some(td => td.textContent.includes(t))"
        " || document.body.innerText.includes(t)",
        arg=TEXT,
        timeout=TIMEOUT_MS,
    )
    stored = open_store(app.server.store_path).read("aspirations")
    assert len(stored) == 1 and stored.iloc[0]["text"] == TEXT and stored.iloc[0]["raised_by"] == "Residents' Forum"
    assert stored.iloc[0]["area_id"] == first_area["id"] and stored.iloc[0]["boundary_layer"] == "wards"

    page.get_by_role("link", name="Neighbourhood").click()
    page.get_by_role("heading", name="One neighbourhood at a time").wait_for()
    page.get_by_text("What the community wants", exact=True).wait_for()  # the heading, not the caption that says it too
    page.wait_for_function(
        "(t) => [...document.querySelectorAll('td[role=gridcell]')].some(td => td.textContent.includes(t))",
        arg=TEXT,
        timeout=TIMEOUT_MS,
    )
    problems = [p for p in app.watch.problems() if "/community/_stcore/" not in p and "ERR_ABORTED" not in p]
    assert not problems, app.fail_message("\n".join(problems))
