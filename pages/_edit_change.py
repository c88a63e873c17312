"""Edit assets, second tab (editors): find an asset, change it, close it or remove it; every save
names the version the editor loaded, so a change made meanwhile by someone else is never overwritten."""

import pandas as pd
import streamlit as st

from geo import editing
from geo.analysis import areas as analysis
from pages import _show
from pages._edit_common import FIELDS, SHOWN, write


def show(assets, shown, *, tax, types: list[str]) -> None:
    """The search, the asset's form and its close and remove buttons."""
    query = st.text_input("Find an asset by name, address or postcode", key="edit_query", placeholder="e.g. Firth Park")
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
                {"lon": lon, "lat": lat} if abs(lon - row.geometry.x) > 1e-7 or abs(lat - row.geometry.y) > 1e-7 else {}
            )
            write(
                editing.update_asset,
                asset_id,
                **changes,
                **moved,
                if_version=version,
                clear=done_keys,
                done=f"Saved the changes to {_show.plain(changes['name'].strip())}.",
            )
        b1, b2 = st.columns(2)
        if b1.button("Close it (the place has shut)", key="edit_close"):
            write(
                editing.close_asset,
                asset_id,
                if_version=version,
                clear=done_keys,
                done=f"Marked {_show.plain(row['name'])} as closed.",
            )
        if b2.button("Remove it (a duplicate or a mistake)", key="edit_remove"):
            write(
                editing.remove_asset,
                asset_id,
                if_version=version,
                clear=done_keys,
                done=f"Removed {_show.plain(row['name'])}; undo it under History if needed.",
            )
