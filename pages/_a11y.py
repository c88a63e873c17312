"""The app's own stylesheet (``static/app.css``): contrast, target size, visible focus and reflow
fixes on top of Streamlit's theme, for WCAG 2.2 AA. See the stylesheet for what each rule is for."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import streamlit as st

STYLESHEET = Path(__file__).resolve().parents[1] / "static" / "app.css"


@cache
def _css() -> str:
    return STYLESHEET.read_text(encoding="utf-8")


def inject_styles() -> None:
    """Put the app's stylesheet on the page (a style-only element: it takes no room in the layout)."""
    st.html(f"<style>{_css()}</style>")
