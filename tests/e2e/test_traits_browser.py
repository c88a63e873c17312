"""The Neighbourhood page in a real browser: what is good about the place comes before its gaps (issue 15)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from geo.io import imports
from geo.schema import PROJECT_ROOT
from geo.store import open_store, release_store
from tests.e2e.conftest import (
    MAP_IFRAME,
    TIMEOUT_MS,
    AppPage,
    AppServer,
    _app_page,
    private_store,
    settle,
    start_server,
)

pytestmark = pytest.mark.e2e

EXAMPLE_LAYERS = (
    "organisations",
    "organisation_areas",
    "aspirations",
    "success_measures",
    "measure_updates",
    "stories",
)
LEADERSHIP = "Behind Strong local leadership: 0 assets, 1 organisation, 1 story, 0 measures"


@pytest.fixture(scope="module")
def examples_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The app over a copy of the demo holding the invented Firth Park examples of ``data/examples``."""
    work = tmp_path_factory.mktemp("e2e-traits")
    path = private_store(work)
    store = open_store(path)
    for layer in EXAMPLE_LAYERS:
        imports.import_file(
            PROJECT_ROOT / "data" / "examples" / f"{layer}.csv", layer=layer, store=store, actor="tester"
        )
    release_store(path)
    server = start_server(path, work)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def traits_page(browser_context, examples_server: AppServer) -> Iterator[AppPage]:
    yield from _app_page(browser_context, examples_server)


def test_strengths_come_before_gaps_and_open_onto_the_groups_behind_them(traits_page: AppPage) -> None:
    app = traits_page
    page = app.page
    page.goto(app.server.url + "/neighbourhood", wait_until="domcontentloaded")
    page.get_by_role("heading", name="One neighbourhood at a time").wait_for()
    # let the first area's map finish loading before choosing another replaces it
    page.frame_locator(MAP_IFRAME).locator(".leaflet-container").wait_for()
    settle(app)
    area = page.get_by_role("combobox", name=re.compile(r"^Area"))
    area.click()
    page.keyboard.type("Firth Park")
    page.get_by_role("option", name="Firth Park", exact=True).click()
    try:
        expander = page.get_by_text(LEADERSHIP, exact=True)
        expander.wait_for()
    except Exception as exc:  # playwright's TimeoutError, with what the page and server said
        pytest.fail(app.fail_message(f"Firth Park's strengths did not show: {exc}"), pytrace=False)

    strengths = page.get_by_role("heading", name="What is good about this place")
    gaps = page.get_by_role("heading", name="Gaps, within reach of what is already here")
    wants = page.get_by_role("heading", name="What the community wants")
    gaps.wait_for()
    y = {name: loc.bounding_box()["y"] for name, loc in (("wants", wants), ("strengths", strengths), ("gaps", gaps))}
    assert y["wants"] < y["strengths"] < y["gaps"], y  # the framework's order, top to bottom
    first = page.get_by_text(
        re.compile(r"^Vibrant organisations and resources \(.we have local skills and assets.\): More than most wards")
    )
    assert first.bounding_box()["y"] < y["gaps"]

    expander.click()  # opens onto the groups and stories behind the trait
    page.wait_for_function(
        "(t) => [...document.querySelectorAll('td[role=gridcell]')].some(td => td.textContent.includes(t))",
        arg="EXAMPLE Friends of Firth Park Paths",
        timeout=TIMEOUT_MS,
    )
    page.wait_for_function(
        "(t) => [...document.querySelectorAll('td[role=gridcell]')].some(td => td.textContent.includes(t))",
        arg="Firth Park Library (Library, in the area)",  # a strength within reach, beside the food bank gap
        timeout=TIMEOUT_MS,
    )
    page.frame_locator(MAP_IFRAME).locator(".leaflet-container").wait_for()
    settle(app)
    # On a deep link Streamlit first probes /neighbourhood/_stcore/* for a base path (404s by design).
    problems = [p for p in app.watch.problems() if "/neighbourhood/_stcore/" not in p]
    assert not problems, app.fail_message("\n".join(problems))
