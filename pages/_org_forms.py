"""The Join up page's organisation forms: edit one, say where it works, add one.

Widgets only: every write goes through :mod:`geo.community` inside ``save`` (the page's
:func:`pages._ui.save` wrapper), which keeps a refused form as typed.
"""

import pandas as pd
import streamlit as st

from geo import community, schema
from pages import _layers, _show


def edit_organisation(org_id: str, org: dict[str, str], *, me, save) -> None:
    """The edit form, holding the organisation as this person loaded it (the save names that version);
    after a conflicting save, the message and a reload button."""
    conflict = st.session_state.get("joinup_conflict")
    conflict = conflict if conflict and conflict["id"] == org_id else None
    with st.expander(f"Edit {_show.plain(org['name'])}", expanded=conflict is not None):
        if conflict:
            st.error(conflict["message"])
            if st.button("Reload the organisation", key="joinup_reload", type="primary"):
                st.session_state.pop(f"org_loaded_{org_id}", None)
                st.session_state.pop("joinup_conflict", None)
                st.rerun()
        loaded = st.session_state.setdefault(f"org_loaded_{org_id}", dict(org))
        v = int(loaded["version"]) if str(loaded.get("version", "")).strip() else None
        with st.form(f"org_edit_{org_id}_v{v}"):
            c1, c2 = st.columns(2)
            kinds = list(schema.ORGANISATION_KINDS)
            name = c1.text_input("Name", value=loaded["name"], key=f"oe_name_{org_id}_v{v}")
            kind = c2.selectbox("Kind", kinds, index=kinds.index(loaded["kind"]) if loaded["kind"] in kinds else 0,
                                key=f"oe_kind_{org_id}_v{v}")  # fmt: skip
            themes = c1.text_input("Themes (comma-separated)", value=loaded["themes"], key=f"oe_themes_{org_id}_v{v}")
            url = c2.text_input("Website", value=loaded["url"], key=f"oe_url_{org_id}_v{v}")
            contact = c1.text_input("Public contact (the organisation's, not a person's)", value=loaded["public_contact"],
                                    key=f"oe_contact_{org_id}_v{v}")  # fmt: skip
            charity = c2.text_input("Charity number", value=loaded["charity_number"], key=f"oe_charity_{org_id}_v{v}")
            if st.form_submit_button("Save changes"):
                save(
                    lambda: community.update_organisation(
                        _layers.store(), org_id, actor=me, name=name, kind=kind, themes=themes, url=url,
                        public_contact=contact, charity_number=charity, if_version=v,
                    ),
                    f"Saved {_show.plain(name)}.",
                )  # fmt: skip


def organisation_areas(org_id: str, org: dict[str, str], links: pd.DataFrame, areas, layer: str, *, me, save) -> None:
    """A table of the areas (of ``layer``) the organisation works in and its themes there, rows added or deleted."""
    with st.expander(f"Where {_show.plain(org['name'])} works ({_layers.BOUNDARY_LABELS[layer]}) and on what"):
        id_to_name = dict(zip(areas["id"].astype(str), areas["name"].astype(str), strict=False))
        name_to_id = {v: k for k, v in id_to_name.items()}
        current = pd.DataFrame(
            {"Area": links["area_id"].astype(str).map(id_to_name), "Themes": links["themes"].fillna("")}
        )
        with st.form(f"org_areas_{org_id}_{layer}"):
            st.caption("One row per area; add or delete rows. Themes are comma-separated.")
            edited = st.data_editor(
                current.reset_index(drop=True),
                num_rows="dynamic",
                hide_index=True,
                width="stretch",
                key=f"oa_editor_{org_id}_{layer}",
                column_config={
                    "Area": st.column_config.SelectboxColumn(
                        "Area", options=sorted(areas["name"].astype(str)), required=True
                    )
                },
            )
            if st.form_submit_button("Save areas"):
                pairs = [
                    (name_to_id.get(str(r.Area), str(r.Area)), r.Themes)
                    for r in edited.dropna(subset=["Area"]).itertuples()
                ]
                save(
                    lambda: community.set_organisation_areas(
                        _layers.store(), org_id, actor=me, boundary_layer=layer, areas=pairs
                    ),
                    f"Saved where {_show.plain(org['name'])} works.",
                    (f"oa_editor_{org_id}_{layer}",),
                )


def add_organisation(layer: str, area_id: str, area_name: str, *, me, save, expanded: bool) -> None:
    """The add form; the new organisation is then picked on the next run."""
    with st.expander("Add an organisation", expanded=expanded), st.form("org_add"):
        c1, c2 = st.columns(2)
        name = c1.text_input("Name", key="oa_name")
        kind = c2.selectbox("Kind", schema.ORGANISATION_KINDS, key="oa_kind")
        themes = c1.text_input("Themes (comma-separated)", key="oa_themes", placeholder="e.g. food, health")
        url = c2.text_input("Website", key="oa_url", placeholder="https://")
        contact = c1.text_input("Public contact (the organisation's, not a person's)", key="oa_contact")
        here = c2.checkbox(f"Works in {area_name} on these themes", value=True, key="oa_here")
        if st.form_submit_button("Add organisation", key="oa_submit"):

            def add() -> str:
                new = community.add_organisation(
                    _layers.store(), actor=me, name=name, kind=kind, themes=themes, url=url, public_contact=contact,
                    boundary_layer=layer, areas=[(area_id, themes)] if here else [],
                )  # fmt: skip
                st.session_state["_joinup_pick"] = new
                return new

            save(add, f"Added {_show.plain(name)}.", ("oa_name", "oa_themes", "oa_url", "oa_contact"))
