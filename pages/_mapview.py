"""A map drawn once per state and changed in place by the page's filters (see :mod:`geo.web.mapview`).

``st_folium`` renders its map to HTML and JavaScript on every run (0.1 to 0.2 s of Python for the
Explore map), and any change to that script makes the browser throw the map away and draw it again
(5 to 7 s in Chromium for Explore). Here the map's parts are built once per *state* (the store's
revision, the boundary set, the shading, the basemap: what the map is drawn from) and kept in a
``st.cache_resource``; what the filters change (which points, colours, legend, zoom) is sent as
streamlit-folium's ``feature_group`` argument, which its frontend evaluates inside the map that is
already drawn, without reloading it (streamlit-folium PR #97, "Dynamic updates").

The parts are what :func:`streamlit_folium.st_folium` would send for the same map; it has no public
function that returns them, so this module uses the helpers it uses. ``tests/unit/test_layout.py``
checks that they still exist and that the parts are still exactly what ``st_folium`` sends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import folium
import streamlit as st
import streamlit_folium as sf

from geo.web import mapview

_BUILD_LOCK = threading.Lock()


def component_parts(fmap: folium.Map, *, key: str) -> dict:
    """The arguments ``st_folium(fmap, key=key, returned_objects=[])`` gives its component, less
    those of a run (height, width, the feature group)."""
    fmap.get_root().render()
    fmap.render()
    html = sf._get_html(fmap)
    header = sf._get_header(fmap)
    script = sf._get_map_string(fmap)
    css: list[str] = []
    js: list[str] = []

    def walk(el):
        if isinstance(el, folium.elements.JSCSSMixin):
            yield el
        for child in getattr(el, "_children", {}).values():
            yield from walk(child)

    for el in walk(fmap):
        css.extend(href for _, href in getattr(el, "default_css", []))
        js.extend(src for _, src in getattr(el, "default_js", []))
    return {
        "script": script,
        "header": header,
        "html": html,
        "id": sf.get_full_id(fmap),
        "hash": sf.generate_js_hash(script, key, False),
        "css_links": list(dict.fromkeys(css)),
        "js_links": list(dict.fromkeys(js)),
    }


@st.cache_resource(show_spinner=False, max_entries=32)
def _memo(state: tuple, _build: Callable[[], object]) -> object:
    return _build()


def memo(state: tuple, build: Callable[[], object]):
    """``build()`` once per ``state`` (a tuple of plain values that says everything it depends on),
    shared by every session and read-only: what a page's reruns reuse."""
    return _memo(state, build)


@st.cache_resource(show_spinner=False, max_entries=32)
def _parts(state: tuple, key: str, _build: Callable[[], folium.Map]) -> dict:
    with _BUILD_LOCK:  # folium renumbers elements while it renders: one map at a time
        fmap = _build()
        mapview.ViewScripts(key).add_to(fmap)
        return component_parts(fmap, key=key)


def show(state: tuple, build: Callable[[], folium.Map], view: dict, *, key: str, height: int) -> None:
    """Show the map ``build()`` makes (built once per ``state``, a tuple of plain values that says
    everything the map is drawn from) with ``view`` (:func:`geo.web.mapview.map_view`) applied."""
    parts = _parts(state, key, build)
    sf._component_func(
        script=parts["script"],
        header=parts["header"],
        html=parts["html"],
        id=parts["id"],
        key=parts["hash"],
        height=height,
        width=None,
        returned_objects=[],
        default={},
        zoom=None,
        center=None,
        feature_group=None,
        return_on_hover=False,
        layer_control=None,
        pixelated=False,
        css_links=parts["css_links"],
        js_links=parts["js_links"],
        wrap_longitude=False,
    )
    st.html(mapview.relay_script(view, key=key, drawn=parts["hash"]), unsafe_allow_javascript=True)
