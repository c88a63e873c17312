"""A page's map: the sidebar's basemap, the app's own scripts served from its static folder, each point's popup
details published once per store revision, and the outlines of assets with shapes."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from geo import settings
from geo.web import maps, webassets
from pages import _layers

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


STATIC_URL = "/app/static"


VENDOR_URL = f"{STATIC_URL}/vendor"


DETAILS_KEEP = 200


@st.cache_resource(show_spinner=False)
def _install_static(static_dir: str) -> str:
    return str(webassets.install(static_dir))


def static_assets_url() -> str:
    """Copy the map's scripts into ``static/vendor`` once per process; return their base URL."""
    _install_static(str(STATIC_DIR))
    return VENDOR_URL


def details_url(details_json: str) -> str:
    """Publish a map's popup details table in the app's static folder; return its URL.

    Tables are published per store revision: the first map drawn after any write (from any page,
    or the command line) deletes the tables of earlier revisions, so a removed or rejected asset's
    details stop being served; :func:`withdraw_details` does it at once after a page's own write.
    """
    s = _layers.store()
    name = webassets.publish_details(
        STATIC_DIR, details_json, keep=DETAILS_KEEP, generation=s.version(), scope=s.location
    )
    return f"{STATIC_URL}/details/{name}"


def points_url(points_json: str) -> str:
    """Publish a map's points (:func:`geo.web.maps.points_json`) beside the details tables, per store
    revision like them (:func:`details_url`); return their URL. Call it on every run that shows the
    map: the file is written only when missing, and publishing again marks it as recently used."""
    return details_url(points_json)


@st.cache_resource(show_spinner=False, max_entries=8)
def _details_of(data: str | None, version: str, ids: str, _assets, _tax) -> str:
    return maps.asset_details_json(maps.order_for_map(_assets, taxonomy=_tax))


def _details_json(assets, tax) -> str:
    """The popup details table of ``assets`` (:func:`geo.web.maps.asset_details_json`), built once per
    store revision and set of assets (a national store's is 3 MB and took a second on every run)."""
    import hashlib

    import pandas as pd

    ids = pd.util.hash_pandas_object(assets["id"].astype(str), index=False).to_numpy().tobytes() if len(assets) else b""
    digest = hashlib.sha256(ids).hexdigest()
    return _details_of(
        _layers.data_source(), _layers.store().version(), digest, assets, tax
    )  # any write: the taxonomy's too


def asset_map(assets, *, details: bool = True, **kwargs):
    """A page's Folium map of ``assets``: the sidebar's basemap, the app's own scripts, and each
    point's popup details published for it (``details=False`` for a map without points). Other
    arguments go to :func:`geo.web.maps.explorer_map` (boundaries, choropleth, bounds, origin, ...).
    The outlines of the assets that have one (parks, grounds, routes) are drawn from close zooms."""
    tax = kwargs.pop("taxonomy", None) or _layers.taxonomy()
    with st.spinner("Drawing the map…"):  # shown only if it takes over half a second
        if details:
            kwargs["details_url"] = details_url(_details_json(assets, tax))
        fmap = maps.explorer_map(
            assets, taxonomy=tax, tiles=tiles_choice(), assets_base_url=static_assets_url(), **kwargs
        )
        shapes = _layers.asset_outlines()
        if len(shapes) and len(assets):
            maps.outline_layer(assets, shapes, taxonomy=tax).add_to(fmap)
    return fmap


def withdraw_details(ids) -> None:
    """Stop serving this store's published popup details of these features at once (after a
    remove/reject); other stores' maps sharing the static folder keep theirs."""
    webassets.withdraw_details(STATIC_DIR, ids, scope=_layers.store().location)


def tiles_choice() -> str:
    """The basemap chosen in the sidebar; default from ``$COMMON_GROUND_TILES`` or OpenStreetMap."""
    default = settings.tiles() or maps.DEFAULT_TILES
    if default not in maps.TILE_SOURCES:
        default = maps.DEFAULT_TILES
    choice = st.session_state.get("tiles", default)
    return choice if choice in maps.TILE_SOURCES else default
