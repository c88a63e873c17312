"""What the Edit page's tabs share: the fields offered, one write through the engine, one review."""

import pandas as pd
import streamlit as st

from geo import editing
from geo.errors import CommonGroundError, VersionConflictError
from pages import _layers, _map, _people

SHOWN = ("active", "pending", "closed")
FIELDS = {
    "address": "Address",
    "postcode": "Postcode",
    "url": "Website",
    "opening_hours": "Opening hours",
    "access_notes": "Access notes",
    "description": "Description",
}
NEARBY_M = 300
UNDO_ROWS = 10
HISTORY_ROWS = 50  # changes per page of the history
NOUNS = {"assets": "asset", "aspirations": "aspiration", "stories": "story", "measure_updates": "measure value"}


def write(fn, *args, done: str, clear: tuple[str, ...] = (), **kwargs) -> None:
    """Make one change through the engine (which checks this person may); on success rerun with
    ``done`` shown, else show why not."""
    try:
        fn(_layers.store(), *args, actor=_people.principal(), **kwargs)
    except VersionConflictError as exc:  # someone saved first: keep the form, say who, offer a reload
        st.session_state["edit_conflict"] = {"message": str(exc), "id": exc.feature_id}
        st.session_state["_edit_open_form_tab"] = True
        st.rerun()
    except CommonGroundError as exc:
        st.error(str(exc))
        return
    if fn in (editing.remove_asset, editing.reject, editing.withdraw, editing.undo):
        _map.withdraw_details([str(args[0])])  # its popup details stop being served at once
    st.session_state.pop("edit_conflict", None)
    for key in [k for k in st.session_state if str(k).startswith("edit_loaded_")]:
        st.session_state.pop(key, None)  # the next run loads the asset as it now is
    for key in clear:
        st.session_state.pop(key, None)
    st.session_state.pop("edit_history_pages", None)  # the history starts again from the newest
    st.session_state["edit_flash"] = done
    st.rerun()  # _layers.layer is keyed on the store's file version, which every write changes


def review(row, *, key: str, approve: tuple, reject: tuple, approved: str, rejected: str, prefix: str = "") -> None:
    """Approve and Reject (with its reason) for one contribution in the queue, named by the version
    the editor saw; disabled, with the reason said, on the editor's own contribution."""
    seen = int(row["version"]) if not pd.isna(row["version"]) else None
    own = _people.principal().owns(row["created_by"])
    if own:
        st.caption(
            "You sent this one, so another editor must approve or reject it: every contribution is checked by a second person."
        )
    c1, c2, c3 = st.columns([1, 4, 1])
    if c1.button("Approve", key=f"{prefix}approve_{key}", type="primary", disabled=own):
        write(*approve, if_version=seen, done=approved)
    reason = c2.text_input("Reason, if rejecting", key=f"{prefix}reason_{key}", label_visibility="collapsed",
                           placeholder="Reason, if rejecting (the contributor will be told)")  # fmt: skip
    if c3.button("Reject", key=f"{prefix}reject_{key}", disabled=own):
        write(*reject, reason=reason, if_version=seen, done=rejected)
