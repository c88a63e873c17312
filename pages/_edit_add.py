"""Edit assets, first tab: add an asset where the map is clicked or at a postcode (an editor's is
published at once; anyone else's waits for review)."""

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo import editing
from geo.analysis import access
from geo.errors import CommonGroundError
from pages import _layers, _map, _show, _ui
from pages._edit_common import FIELDS, NEARBY_M, write


def show(shown, *, tax, types: list[str], editor: bool, group: str) -> None:
    """The map to click, what is already near the point, and the form."""
    pos = st.session_state.get("edit_position")
    left, right = st.columns([3, 2])
    with left:
        fmap = _map.asset_map(
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
                pt = _layers.postcodes().lookup(new["postcode"])
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
                    done=f"Added {_show.plain(new['name'].strip())}: it is on the map now.",
                )
            else:
                write(
                    editing.contribute_asset,
                    contributed_by=group,
                    lon=where["lon"],
                    lat=where["lat"],
                    **new,
                    clear=clear,
                    done=f"Thank you: {_show.plain(new['name'].strip())} was sent for review; it shows once an editor approves it.",
                )
