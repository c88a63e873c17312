"""Use my location: a small Streamlit component (pages/_components/locate/index.html) that asks the
browser for its position (the Geolocation API, on a phone its GPS) and returns it to this app only.

Streamlit's component frames allow ``geolocation``; browsers offer it on https and on localhost.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
import streamlit.components.v1 as components

_locate = components.declare_component("cg_locate", path=str(Path(__file__).parent / "_components" / "locate"))


def my_location(*, key: str) -> dict | None:
    """The position this browser shared, once per press of the button: ``{"lon", "lat", "accuracy_m"}``,
    or None (no press, or a press already handled)."""
    value = _locate(key=key, default=None)
    if not isinstance(value, dict) or value.get("at") == st.session_state.get(f"_{key}_seen"):
        return None
    st.session_state[f"_{key}_seen"] = value.get("at")
    try:
        lon, lat = float(value["lon"]), float(value["lat"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return {"lon": lon, "lat": lat, "accuracy_m": float(value.get("accuracy_m") or 0)}
