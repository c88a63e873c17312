"""Thin Streamlit adapters shared by the pages: cached reads keyed by simple values, the shared
sidebar and widgets, engine errors shown with ``st.error``. Analysis and file formats live in ``geo/``."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from geo import maps, schema, webassets
from geo.errors import CommonGroundError
from geo.geocode import PostcodeIndex
from geo.store import Store, open_store, store_taxonomy

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
STATIC_URL = "/app/static"
VENDOR_URL = f"{STATIC_URL}/vendor"
DETAILS_KEEP = 200

BOUNDARY_LABELS = {
    "wards": "Wards (28)",
    "neighbourhoods": "Neighbourhoods (147, community-named)",
    "lsoas": "LSOAs (345, with deprivation)",
}
TILES_ENV = "COMMON_GROUND_TILES"


def ensure_frame() -> None:
    """Run every page inside app.py's frame, even when opened by a direct link.

    Because the project has a ``pages/`` folder beside ``app.py``, Streamlit starts each server
    process in its old multipage mode: until ``st.navigation`` has run once, a direct link such as
    ``/near_me`` runs ``pages/near_me.py`` on its own (no sidebar, no page config), and a link to a
    ``url_path`` it does not know hangs. Switching that mode off and rerunning makes Streamlit run
    ``app.py``, whose ``st.navigation`` then opens the linked page. Called first by app.py and by every page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def fail(exc: Exception) -> None:
    """Show an engine error in plain words and stop the page."""
    st.error(str(exc))
    st.stop()


@st.cache_resource(show_spinner=False)
def _install_static(static_dir: str) -> str:
    return str(webassets.install(static_dir))


def static_assets_url() -> str:
    """Copy the map's scripts into ``static/vendor`` once per process; return their base URL."""
    _install_static(str(STATIC_DIR))
    return VENDOR_URL


@st.cache_resource(show_spinner=False)
def _open_store(data: str | None) -> Store:
    return open_store(data)


def _data() -> str | None:
    return os.environ.get("COMMON_GROUND_DATA") or None


def store() -> Store:
    """The data store named by ``$COMMON_GROUND_DATA`` (a GeoPackage or a postgresql:// URL), else
    the demo working copy."""
    try:
        return _open_store(_data())
    except CommonGroundError as exc:
        fail(exc)
        raise


@st.cache_resource(show_spinner="Reading the map layers…", max_entries=32)
def _read_layer(data: str | None, version: str, name: str):
    # Shared, read-only: pages must never modify what this returns (geo/ functions copy).
    return _open_store(data).read(name)


def layer(name: str):
    """A layer of the store, cached per revision of that layer (a write to it makes a new one)."""
    s = store()
    try:
        return _read_layer(_data(), s.version(name), name)
    except CommonGroundError as exc:
        fail(exc)
        raise


@st.cache_resource(show_spinner=False)
def _postcodes(data: str | None, version: str) -> PostcodeIndex:
    return PostcodeIndex(_open_store(data).read("postcodes"))


def postcodes() -> PostcodeIndex:
    s = store()
    return _postcodes(_data(), s.version("postcodes"))


def taxonomy() -> schema.Taxonomy:
    """The store's taxonomy (its ``taxonomy`` layer; types added on import show at once)."""
    try:
        return store_taxonomy(store())
    except CommonGroundError as exc:
        fail(exc)
        raise


def details_url(details_json: str) -> str:
    """Publish a map's popup details table in the app's static folder; return its URL."""
    return f"{STATIC_URL}/details/{webassets.publish_details(STATIC_DIR, details_json, keep=DETAILS_KEEP)}"


def boundary_choice() -> str:
    """The boundary set chosen in the sidebar (default wards)."""
    choice = st.session_state.get("boundary_layer", "wards")
    return choice if choice in BOUNDARY_LABELS else "wards"


def tiles_choice() -> str:
    """The basemap chosen in the sidebar; default from ``$COMMON_GROUND_TILES`` or OpenStreetMap."""
    default = os.environ.get(TILES_ENV, maps.DEFAULT_TILES)
    if default not in maps.TILE_SOURCES:
        default = maps.DEFAULT_TILES
    choice = st.session_state.get("tiles", default)
    return choice if choice in maps.TILE_SOURCES else default


def shared_sidebar() -> None:
    """The sidebar every page shares: the data source, the boundary set and the basemap."""
    s = store()
    with st.sidebar:
        st.markdown("**Data**")
        label = Path(s.location).name if s.backend == "gpkg" else s.location
        demo = label == "common_ground.gpkg" and "COMMON_GROUND_DATA" not in os.environ
        st.caption(
            ("Sheffield demo (real open data), working copy " if demo else f"Store ({s.backend}) ")
            + f"`{label}`. Sources and licences: see **About**."
        )
        st.selectbox(
            "Boundaries",
            options=list(BOUNDARY_LABELS),
            format_func=BOUNDARY_LABELS.get,
            key="boundary_layer",
            help="The areas used for maps, counts and profiles on every page.",
        )
        default_tiles = tiles_choice()
        if "tiles" not in st.session_state:
            st.session_state["tiles"] = default_tiles
        st.selectbox(
            "Basemap",
            options=list(maps.TILE_SOURCES),
            key="tiles",
            help="Tiles come from the internet; choose 'none' when offline. Boundaries and assets show either way.",
        )


def plain(text: object) -> str:
    """Text shown through ``st.markdown`` literally: Markdown and HTML characters escaped."""
    s = "" if text is None else str(text)
    for ch in "\\`*_{}[]()#+-.!|<>$~":
        s = s.replace(ch, "\\" + ch)
    return s


def area_picker(prefix: str):
    """The area selectbox for the sidebar's boundary set; returns ``(layer, areas, area_row)``.

    The choice is kept per boundary set under ``{prefix}_area_{layer}``.
    """
    from geo import profiles

    name = boundary_choice()
    areas = layer(name)
    names = sorted(areas["name"].astype(str))
    key = f"{prefix}_area_{name}"
    if st.session_state.get(key) not in names:
        st.session_state[key] = names[0]
    chosen = st.selectbox(f"Area ({BOUNDARY_LABELS[name]})", names, key=key)
    try:
        return name, areas, profiles.find_area(areas, chosen, layer=name)
    except CommonGroundError as exc:
        fail(exc)
        raise


def actor_input(key: str) -> str:
    """'Your name or email', shared between pages (every write records it)."""
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get("cg_actor", "")
    actor = st.text_input("Your name or email", key=key, help="Needed for every change; it is recorded in the audit log.")
    st.session_state["cg_actor"] = actor
    return actor


def flash(key: str) -> None:
    """Show (once) the message a write left before its rerun."""
    if st.session_state.get(key):
        st.success(st.session_state.pop(key))
