"""Edit assets: add one (map click or postcode), edit, close or remove it, moderate contributions, undo."""

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo import community, editing
from geo.analysis import access
from geo.analysis import areas as analysis
from geo.errors import CommonGroundError, VersionConflictError
from geo.io import exports
from pages import _ui

_ui.ensure_frame()

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
NOUNS = {"assets": "asset", "aspirations": "aspiration", "stories": "story", "measure_updates": "measure value"}

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

tax = _ui.taxonomy()
assets = _ui.layer("assets")
shown = analysis.filter_assets(assets, statuses=SHOWN)
types = [t.id for t in tax.types.values() if tax.category(t.category).mappable]

me = _ui.principal()
if not _ui.require_ui("contribute", "propose an asset or correct one"):
    st.stop()
editor = me.can("edit")
if not editor:
    st.caption(
        f"You are signed in as {_ui.plain(me.name)}: what you send waits for an editor, who checks it before it "
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


def write(fn, *args, done: str, clear: tuple[str, ...] = (), **kwargs) -> None:
    """Make one change through the engine (which checks this person may); on success rerun with
    ``done`` shown, else show why not."""
    try:
        fn(_ui.store(), *args, actor=me, **kwargs)
    except VersionConflictError as exc:  # someone saved first: keep the form, say who, offer a reload
        st.session_state["edit_conflict"] = {"message": str(exc), "id": exc.feature_id}
        st.session_state["_edit_open_form_tab"] = True
        st.rerun()
    except CommonGroundError as exc:
        st.error(str(exc))
        return
    if fn in (editing.remove_asset, editing.reject, editing.withdraw, editing.undo):
        _ui.withdraw_details([str(args[0])])  # its popup details stop being served at once
    st.session_state.pop("edit_conflict", None)
    for key in [k for k in st.session_state if str(k).startswith("edit_loaded_")]:
        st.session_state.pop(key, None)  # the next run loads the asset as it now is
    for key in clear:
        st.session_state.pop(key, None)
    st.session_state["edit_flash"] = done
    st.rerun()  # _ui.layer is keyed on the store's file version, which every write changes


def review(row, *, key: str, approve: tuple, reject: tuple, approved: str, rejected: str, prefix: str = "") -> None:
    """Approve and Reject (with its reason) for one contribution in the queue, named by the version
    the editor saw; disabled, with the reason said, on the editor's own contribution."""
    seen = int(row["version"]) if not pd.isna(row["version"]) else None
    own = me.owns(row["created_by"])
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


queue = editing.moderation_queue(_ui.store(), viewer=me) if me.can("moderate") else None
kqueue = community.pending_items(_ui.store(), viewer=me) if me.can("moderate") else None
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
    pos = st.session_state.get("edit_position")
    left, right = st.columns([3, 2])
    with left:
        fmap = _ui.asset_map(
            shown,
            taxonomy=tax,
            bounds=access.bounds_around(pos["lon"], pos["lat"], 400) if pos else None,
            origin=(pos["lon"], pos["lat"]) if pos else None,
            origin_label="The new asset goes here",
        )
        out = st_folium(fmap, key="edit_map", height=460, use_container_width=True, returned_objects=["last_clicked"])
        click = (out or {}).get("last_clicked")
        if click and st.session_state.get("_edit_last_click") != click:
            st.session_state["_edit_last_click"] = click
            st.session_state["edit_position"] = {"lon": click["lng"], "lat": click["lat"]}
            st.rerun()
    with right:
        if pos:
            st.markdown(
                f"**Clicked point** {pos['lat']:.5f}, {pos['lon']:.5f}. Already within {NEARBY_M} m (is it one of these?):"
            )
            table = access.assets_within(pos["lon"], pos["lat"], shown, within_m=NEARBY_M)
            if st.button("Forget the clicked point (use the postcode)", key="edit_forget_point"):
                st.session_state.pop("edit_position", None)
                st.rerun()
        else:
            st.info("Click the map where the asset is, or give its postcode in the form below.")
            table = shown.sort_values("updated_at", ascending=False)
            st.markdown("**Assets, most recently changed first**")
        _ui.table(
            pd.DataFrame(
                {
                    "Name": table["name"],
                    "Type": table["type"].map(tax.label),
                    "Status": table["status"],
                    "Postcode": table["postcode"],
                }
            ),
            hide_index=True,
            height=300,
            width="stretch",
        )
    with st.form("edit_add_form"):
        a1, a2 = st.columns(2)
        new = {
            "name": a1.text_input("Name", key="add_name"),
            "type_id": a2.selectbox("Type", types, format_func=tax.label, key="add_type"),
        }
        for i, (col, label) in enumerate(FIELDS.items()):
            if col != "access_notes":
                new[col] = (a1, a2)[i % 2].text_input(
                    label, key=f"add_{col}", placeholder="https://" if col == "url" else ""
                )
        submit = st.form_submit_button(
            "Add the asset" if editor else "Send it for review", type="primary", key="add_submit"
        )
    if submit:
        where = pos
        if where is None and new["postcode"].strip():
            try:
                pt = _ui.postcodes().lookup(new["postcode"])
                where = {"lon": pt.lon, "lat": pt.lat}
            except CommonGroundError as exc:
                st.error(str(exc))
        elif where is None:
            st.error("Click the map where the asset is, or give its postcode, so it can be placed.")
        if where is not None:
            clear = ("edit_position", *(f"add_{k}" for k in ("name", *FIELDS)))
            if editor:
                write(
                    editing.add_asset,
                    lon=where["lon"],
                    lat=where["lat"],
                    **new,
                    clear=clear,
                    done=f"Added {_ui.plain(new['name'].strip())}: it is on the map now.",
                )
            else:
                write(
                    editing.contribute_asset,
                    contributed_by=group,
                    lon=where["lon"],
                    lat=where["lat"],
                    **new,
                    clear=clear,
                    done=f"Thank you: {_ui.plain(new['name'].strip())} was sent for review; it shows once an editor approves it.",
                )

if editor:
    with tabs[1]:
        query = st.text_input(
            "Find an asset by name, address or postcode", key="edit_query", placeholder="e.g. Firth Park"
        )
        found = analysis.filter_assets(assets, query=query, statuses=SHOWN) if query.strip() else shown.iloc[0:0]
        if not query.strip():
            st.caption("Type part of a name to pick the asset to change.")
        elif found.empty:
            st.info("No asset's name, address or postcode contains that text; try fewer letters.")
        else:
            names = dict(
                zip(
                    found["id"],
                    found["name"] + " · " + found["type"].map(tax.label) + " (" + found["status"] + ")",
                    strict=True,
                )
            )
            asset_id = st.selectbox("Asset", list(names), format_func=names.get, key="edit_pick")
            # The form shows the asset as this editor loaded it, and every save says which version
            # that was: if someone else saves first, the save is refused (never silently dropped or
            # applied over their change) and "Reload the asset" shows the current version.
            loaded_key = f"edit_loaded_{asset_id}"
            if loaded_key not in st.session_state:
                st.session_state[loaded_key] = found.set_index("id").loc[asset_id]
            row = st.session_state[loaded_key]
            version = int(row["version"]) if not pd.isna(row["version"]) else None
            tag = f"{asset_id}_v{version}"
            done_keys = (loaded_key,)

            def text(value: object) -> str:
                return "" if pd.isna(value) else str(value)

            with st.form(f"edit_form_{asset_id}"):
                e1, e2 = st.columns(2)
                changes = {
                    "name": e1.text_input("Name", text(row["name"]), key=f"edit_name_{tag}"),
                    "type": e2.selectbox(
                        "Type",
                        kinds := list(dict.fromkeys([row["type"], *types])),
                        index=kinds.index(row["type"]),
                        format_func=tax.label,
                        key=f"edit_type_{tag}",
                    ),
                }
                for i, (col, label) in enumerate(FIELDS.items()):
                    changes[col] = (e1, e2)[i % 2].text_input(label, text(row[col]), key=f"edit_{col}_{tag}")
                lon = e1.number_input("Longitude", value=float(row.geometry.x), format="%.6f", key=f"edit_lon_{tag}")
                lat = e2.number_input("Latitude", value=float(row.geometry.y), format="%.6f", key=f"edit_lat_{tag}")
                save = st.form_submit_button("Save changes", type="primary", key=f"edit_save_{tag}")
            if save:
                moved = (
                    {"lon": lon, "lat": lat}
                    if abs(lon - row.geometry.x) > 1e-7 or abs(lat - row.geometry.y) > 1e-7
                    else {}
                )
                write(
                    editing.update_asset,
                    asset_id,
                    **changes,
                    **moved,
                    if_version=version,
                    clear=done_keys,
                    done=f"Saved the changes to {_ui.plain(changes['name'].strip())}.",
                )
            b1, b2 = st.columns(2)
            if b1.button("Close it (the place has shut)", key="edit_close"):
                write(
                    editing.close_asset,
                    asset_id,
                    if_version=version,
                    clear=done_keys,
                    done=f"Marked {_ui.plain(row['name'])} as closed.",
                )
            if b2.button("Remove it (a duplicate or a mistake)", key="edit_remove"):
                write(
                    editing.remove_asset,
                    asset_id,
                    if_version=version,
                    clear=done_keys,
                    done=f"Removed {_ui.plain(row['name'])}; undo it under History if needed.",
                )

    with tabs[2]:
        if queue.empty and kqueue.empty:
            st.info("No contributions are waiting for review.")
        for _, r in queue.iterrows():
            with st.container(border=True):
                st.markdown(
                    f"**{_ui.plain(r['name'])}**, {_ui.plain(tax.label(r['type']))}: from "
                    f"{_ui.plain(r['contributed_by'])}, sent by {_ui.plain(r['created_by'])} on {str(r['created_at'])[:10]}"
                )
                st.caption(
                    " · ".join(
                        _ui.plain(r[c])
                        for c in ("address", "postcode", "url", "opening_hours", "description")
                        if not pd.isna(r[c]) and str(r[c]).strip()
                    )
                )
                review(r, key=r["id"], approve=(editing.approve, r["id"]), reject=(editing.reject, r["id"]),
                       approved=f"Approved {_ui.plain(r['name'])}: it is published now.",
                       rejected=f"Rejected {_ui.plain(r['name'])}.")  # fmt: skip
        if not kqueue.empty:
            st.markdown("**Aspirations, stories and measure values sent in**")
        for _, r in kqueue.iterrows():
            what = NOUNS[r["layer"]]
            with st.container(border=True):
                st.markdown(
                    f"**{_ui.plain(r['title'])}** ({what}): sent by {_ui.plain(r['created_by'])} on {str(r['created_at'])[:10]}"
                )
                if str(r["summary"] or "").strip():
                    st.caption(_ui.plain(r["summary"]))
                review(r, key=f"{r['layer']}_{r['id']}", prefix="k",
                       approve=(community.approve_item, r["layer"], r["id"]),
                       reject=(community.reject_item, r["layer"], r["id"]),
                       approved=f"Approved the {what}: it shows now.", rejected=f"Rejected the {what}.")  # fmt: skip

    with tabs[3]:
        hist = editing.history(_ui.store(), layer=None, limit=None, viewer=me)
        if hist.empty:
            st.info("No changes have been made yet. Every change made here will be listed, newest first.")
        else:
            _ui.table(
                hist[["at", "by", "action", "layer", "name", "changes"]].head(500).rename(columns=str.capitalize),
                hide_index=True,
                height=300,
                width="stretch",
            )
            st.download_button(
                "History (CSV)", exports.csv_bytes(hist.drop(columns=["key"])), "history.csv", "text/csv"
            )
            st.markdown("**Undo a recent change** (newest first; undo later changes to an asset before earlier ones)")
            for _, h in (
                hist[(hist["layer"] == "assets") & hist["action"].isin(editing.ACTIONS)].head(UNDO_ROWS).iterrows()
            ):
                u1, u2 = st.columns([6, 1])
                u1.markdown(
                    f"{h['at']} · {_ui.plain(h['by'])} · **{h['action']}** {_ui.plain(h['name'])}: "
                    f"{_ui.plain(h['changes'])}"
                )
                if u2.button("Undo", key=f"undo_{h['key']}"):
                    write(editing.undo, h["key"], done=f"Undid the {h['action']} of {_ui.plain(h['name'])}.")

if not editor:
    with tabs[1]:
        mine = community.my_contributions(_ui.store(), me)
        if mine.empty:
            st.info(
                "You have not proposed anything yet. Use **Add an asset** here, or add an aspiration, a story or a "
                "measure value on their pages: an editor checks each one before it shows."
            )
        else:
            _ui.table(
                pd.DataFrame(
                    {
                        "What": mine["layer"].map(NOUNS),
                        "Title": mine["title"],
                        "Status": mine["status"],
                        "Sent": mine["created_at"].astype(str).str[:10],
                    }
                )
            )
            for _, r in mine[mine["status"] == "pending"].iterrows():
                w1, w2 = st.columns([5, 1])
                w1.markdown(f"**{_ui.plain(r['title'])}** ({NOUNS[r['layer']]}), waiting for an editor")
                seen = int(r["version"]) if not pd.isna(r["version"]) else None
                if w2.button("Withdraw", key=f"withdraw_{r['layer']}_{r['id']}"):
                    if r["layer"] == "assets":
                        write(editing.withdraw, r["id"], if_version=seen, done=f"Withdrew {_ui.plain(r['title'])}.")
                    else:
                        write(
                            community.withdraw_item,
                            r["layer"],
                            r["id"],
                            if_version=seen,
                            done=f"Withdrew {_ui.plain(r['title'])}.",
                        )
