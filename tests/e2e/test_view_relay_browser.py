"""The page's view relay (``geo.web.mapview.relay_script``) in Chromium, without an app: when a map
is still being drawn, only the latest view reaches it.

The Explore page sends each run's view in a small script that waits for the map's frame. Streamlit
takes the previous run's element out of the page, but not its timers: a search typed while the
map was loading left two relays waiting, and when the map came, the first run's view (every
point) could land after the search's (CI, stop 22: ``test_import_a_csv_then_see_it_on_the_map``).
"""

from __future__ import annotations

import pytest

from geo.web import mapview

pytestmark = pytest.mark.e2e

# A stand-in for the map's frame: it records every view applied to it, and becomes a drawn map
# (``cgMapKey``, ``cgMap``, ``cgApplyView``, as cgViewOf and cg-map.js define them) when told to.
FRAME = (
    "<iframe id='map' srcdoc=\"<script>window.applied = [];"
    "window.draw = function (key) { window.cgMap = {}; window.cgMapKey = key;"
    ' window.cgApplyView = function (map, v) { window.applied.push(v.t); }; };</script>"></iframe>'
)


def _relay(title: str, key: str = "explore_map") -> str:
    script = mapview.relay_script({"t": title, "n": []}, key=key)
    return script.removeprefix("<script>").removesuffix("</script>")


def _applied(page) -> list[str]:
    return page.frame_locator("#map").locator("html").evaluate("() => window.applied")


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_content(FRAME)
    page.frame_locator("#map").locator("html").evaluate("() => window.draw !== undefined")
    yield page
    context.close()


def test_a_view_sent_while_the_map_loads_is_the_one_it_shows(page) -> None:
    page.add_script_tag(content=_relay("every asset"))  # the run before the search
    page.wait_for_timeout(30)  # the two relays poll out of step, as two runs' scripts do
    page.add_script_tag(content=_relay("one found"))  # the search's run
    page.frame_locator("#map").locator("html").evaluate("() => window.draw('explore_map')")
    page.frame_locator("#map").locator("html").evaluate(
        "() => new Promise(r => { const t = () => window.applied.length ? r() : setTimeout(t, 20); t(); })"
    )
    page.wait_for_timeout(300)  # six polls of a relay still going: none may apply its view
    assert _applied(page) == ["one found"]


def test_a_drawn_map_gets_each_view_in_turn_and_another_maps_view_is_left_alone(page) -> None:
    page.frame_locator("#map").locator("html").evaluate("() => window.draw('explore_map')")
    page.add_script_tag(content=_relay("first"))
    page.add_script_tag(content=_relay("second"))
    page.add_script_tag(content=_relay("not this map", key="gaps_map"))
    page.wait_for_timeout(300)
    assert _applied(page) == ["first", "second"]
