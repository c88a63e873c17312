"""The store and its layers for the pages: one cached frame per layer, replaced when the layer's revision changes
(memory stays flat however many writes happen); the boundary set chosen in the sidebar."""

from __future__ import annotations

import threading

import streamlit as st

from geo import outlines, schema, settings
from geo.analysis import deprivation
from geo.errors import CommonGroundError
from geo.geocode import PostcodeIndex, postcode_index
from geo.store import Store, open_store, store_taxonomy
from pages import _show

BOUNDARY_LABELS = {"wards": "Wards", "neighbourhoods": "Neighbourhoods", "lsoas": "LSOAs"}


@st.cache_resource(show_spinner=False)
def _open_store(data: str | None) -> Store:
    return open_store(data)


def data_source() -> str | None:
    return settings.data()


def store() -> Store:
    """The data store named by ``$COMMON_GROUND_DATA`` (a GeoPackage or a postgresql:// URL), else
    the demo working copy."""
    try:
        return _open_store(data_source())
    except CommonGroundError as exc:
        _show.fail(exc)
        raise


class _LayerCache:
    """The latest revision of each layer, shared by every session of this server process.

    One frame per layer, replaced when the layer's revision changes, so memory stays flat however
    many writes happen (the old frame is dropped, never kept beside the new one), unlike a cache
    keyed by revision. Reads of a new revision happen once, under a per-layer lock.
    """

    def __init__(self) -> None:
        self._frames: dict[str, tuple[str, object]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def peek(self, name: str, version: str):
        """The cached frame of this revision, or None."""
        hit = self._frames.get(name)
        return hit[1] if hit is not None and hit[0] == version else None

    def get(self, s: Store, name: str, version: str):
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            hit = self._frames.get(name)
            if hit is None or hit[0] != version:
                self._frames.pop(name, None)  # let the old revision go before reading the new one
                hit = (version, s.read(name))
                self._frames[name] = hit
            return hit[1]

    def derive(self, name: str, version: str, build):
        """Like :meth:`get`, for a frame built from layers (``build()``), under its own name."""
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            hit = self._frames.get(name)
            if hit is None or hit[0] != version:
                self._frames.pop(name, None)
                hit = (version, build())
                self._frames[name] = hit
            return hit[1]


@st.cache_resource(show_spinner=False)
def _layer_cache(data: str | None) -> _LayerCache:
    return _LayerCache()


def layer(name: str):
    """A layer of the store at its current revision, shared and read-only: pages must never modify
    what this returns (``geo/`` functions copy)."""
    s = store()
    try:
        cache, version = _layer_cache(data_source()), s.version(name)
        frame = cache.peek(name, version)
        if frame is None:
            with st.spinner("Reading the map layers…"):
                frame = cache.get(s, name, version)
        return frame
    except CommonGroundError as exc:
        _show.fail(exc)
        raise


def areas(name: str):
    """A boundary layer as the pages show it: deprivation at its level and LSOA names that carry their
    ward (:func:`geo.analysis.deprivation.boundary_frame`); shared, read-only and cached per revision like :func:`layer`."""
    s = store()
    try:
        cache = _layer_cache(data_source())
        version = "|".join(s.version(n) for n in (name, "lsoas", "wards"))
        frame = cache.peek(f"areas:{name}", version)
        if frame is None:
            with st.spinner("Reading the map layers…"):
                frame = cache.derive(
                    f"areas:{name}",
                    version,
                    lambda: deprivation.boundary_frame(name, lambda n: cache.get(s, n, s.version(n))),
                )
        return frame
    except CommonGroundError as exc:
        _show.fail(exc)
        raise


@st.cache_resource(show_spinner=False, max_entries=2)
def _postcodes(data: str | None, version: str) -> PostcodeIndex:
    return postcode_index(_open_store(data))  # the store's table, then Great Britain's (Code-Point Open)


def postcodes() -> PostcodeIndex:
    s = store()
    return _postcodes(data_source(), s.version("postcodes"))


def taxonomy() -> schema.Taxonomy:
    """The store's taxonomy (its ``taxonomy`` layer; types added on import show at once)."""
    try:
        return store_taxonomy(store())
    except CommonGroundError as exc:
        _show.fail(exc)
        raise


def asset_outlines():
    """The store's asset outlines (asset id -> shape; empty for a store made before outlines), read
    once per revision like any layer. Pass them to :mod:`geo.analysis.access` and :func:`geo.web.maps.outline_layer`,
    which use only the outlines of the assets they are given."""
    if not store().has_layer(schema.OUTLINES_LAYER):
        return outlines.empty_outlines()
    return outlines.outlines_from_frame(layer(schema.OUTLINES_LAYER))


def boundary_option(name: str) -> str:
    """A boundary set as the sidebar offers it, with how many areas this store has: "Wards (28)"."""
    return f"{BOUNDARY_LABELS.get(name, name)} ({len(layer(name)):,})"


def boundary_choice() -> str:
    """The boundary set chosen in the sidebar (default wards)."""
    choice = st.session_state.get("boundary_layer", "wards")
    return choice if choice in BOUNDARY_LABELS else "wards"
