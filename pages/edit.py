"""Edit assets: add one (map click or postcode), edit, close or remove it, moderate contributions, undo."""

import streamlit as st

from geo import community, editing
from geo.analysis import areas as analysis
from pages import _edit_add, _edit_change, _edit_history, _edit_queue, _frame, _layers, _people, _show
from pages._edit_common import SHOWN

_frame.ensure_frame()

st.title("Edit assets")
st.caption(
    "Add a place or service, correct one, close or remove it, review what community groups send in, and undo "
    "mistakes. Every change is recorded with who made it and when, and can be undone."
)
if flash := st.session_state.pop("edit_flash", None):
    st.success(flash)
if conflict := st.session_state.get("edit_conflict"):
    st.error(conflict["message"])
    st.caption("What you typed is still in the form below; reload to see their change, then edit again.")
    if st.button("Reload the asset", key="edit_reload", type="primary"):
        for k in [k for k in st.session_state if str(k).startswith("edit_loaded_")] + ["edit_conflict"]:
            st.session_state.pop(k, None)
        st.rerun()

tax = _layers.taxonomy()
assets = _layers.layer("assets")
shown = analysis.filter_assets(assets, statuses=SHOWN)
types = [t.id for t in tax.types.values() if tax.category(t.category).mappable]

me = _people.principal()
if not _people.require_ui("contribute", "propose an asset or correct one"):
    st.stop()
editor = me.can("edit")
if not editor:
    st.caption(
        f"You are signed in as {_show.plain(me.name)}: what you send waits for an editor, who checks it before it "
        "shows on the map. You can follow and withdraw your proposals under **My proposals**."
    )
group = (
    ""
    if editor
    else st.text_input(
        "Community group or person contributing",
        value=me.name,
        key="edit_group",
        help="Shown to the editors who review it, never publicly.",
    )
)


queue = editing.moderation_queue(_layers.store(), viewer=me) if me.can("moderate") else None
kqueue = community.pending_items(_layers.store(), viewer=me) if me.can("moderate") else None
waiting = 0 if queue is None else len(queue) + len(kqueue)
labels = ["Add an asset"] + (
    ["Edit, close or remove", "Moderation queue", "History and undo"] if editor else ["My proposals"]
)  # labels never change with the data: a tab whose label changed would lose its place after a decision
if waiting:
    st.caption(f"{waiting} contribution{'s are' if waiting != 1 else ' is'} waiting in the moderation queue.")
# Keyed, so the open tab survives reruns; after a refused save the edit tab (where the form is) opens.
if st.session_state.pop("_edit_open_form_tab", False) and editor:
    st.session_state["edit_tabs"] = labels[1]
tabs = st.tabs(labels, key="edit_tabs")

with tabs[0]:
    _edit_add.show(shown, tax=tax, types=types, editor=editor, group=group)
if editor:
    with tabs[1]:
        _edit_change.show(assets, shown, tax=tax, types=types)
    with tabs[2]:
        _edit_queue.moderation(queue, kqueue, tax=tax)
    with tabs[3]:
        _edit_history.show()
else:
    with tabs[1]:
        _edit_queue.my_proposals()
