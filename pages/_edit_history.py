"""Edit assets, last tab (editors): every change, a page at a time, newest first, and undo."""

import streamlit as st

from geo import editing
from geo.io import exports
from pages import _edit_common, _layers, _people, _show, _ui
from pages._edit_common import UNDO_ROWS, write


def show() -> None:
    """One page of the history (read from the store without the rest), Newer and Older, the whole
    history as a file built when asked for, and Undo for the page's recent asset changes."""
    me, store = _people.principal(), _layers.store()
    cursors = st.session_state.setdefault("edit_history_pages", [None])  # where each page seen began
    page = editing.history_page(store, before=cursors[-1], limit=_edit_common.HISTORY_ROWS, viewer=me)
    if page.entries.empty:
        st.info("No changes have been made yet. Every change made here will be listed, newest first.")
        return
    hist = page.entries
    shown_from = (len(cursors) - 1) * _edit_common.HISTORY_ROWS + 1
    st.caption(
        f"Changes {shown_from:,} to {shown_from + len(hist) - 1:,} of {page.total:,}, newest first. "
        "**Older** and **Newer** move through them; the download has them all."
    )
    _ui.table(
        hist[["at", "by", "action", "layer", "name", "changes"]].rename(columns=str.capitalize),
        hide_index=True,
        height=300,
        width="stretch",
    )
    n1, n2, n3 = st.columns([1, 1, 3])
    if n1.button("Newer", key="edit_history_newer", disabled=len(cursors) == 1):
        cursors.pop()
        st.rerun()
    if n2.button("Older", key="edit_history_older", disabled=page.older is None):
        cursors.append(page.older)
        st.rerun()
    with n3:
        _ui.download(
            "History (CSV)",
            lambda: exports.csv_bytes(editing.history(store, layer=None, limit=None, viewer=me).drop(columns=["key"])),
            "history.csv",
            "text/csv",
        )
    st.markdown("**Undo a recent change** (newest first; undo later changes to an asset before earlier ones)")
    undoable = hist[(hist["layer"] == "assets") & hist["action"].isin(editing.ACTIONS)].head(UNDO_ROWS)
    if undoable.empty:
        st.caption("No asset change on this page can be undone here.")
    for _, h in undoable.iterrows():
        u1, u2 = st.columns([6, 1])
        u1.markdown(
            f"{h['at']} · {_show.plain(h['by'])} · **{h['action']}** {_show.plain(h['name'])}: {_show.plain(h['changes'])}"
        )
        if u2.button("Undo", key=f"undo_{h['key']}"):
            write(editing.undo, h["key"], done=f"Undid the {h['action']} of {_show.plain(h['name'])}.")
