"""Showing the engine's answers and errors: an error in plain words (then stop), user text as literal Markdown, a write's message after its rerun."""

from __future__ import annotations

import streamlit as st

from geo import textsafe


def fail(exc: Exception) -> None:
    """Show an engine error in plain words and stop the page."""
    st.error(str(exc))
    st.stop()


def plain(text: object) -> str:
    """Text shown through ``st.markdown`` literally: Markdown and HTML characters escaped, and
    nothing that could become a link (:func:`geo.textsafe.markdown_literal`)."""
    return textsafe.markdown_literal(text)


def flash(key: str) -> None:
    """Show (once) the message a write left before its rerun."""
    if st.session_state.get(key):
        st.success(st.session_state.pop(key))
