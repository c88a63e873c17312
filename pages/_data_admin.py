"""The Data page's admin panel: add an asset type, see the roles and the import limits."""

import pandas as pd
import streamlit as st

from geo import auth, editing
from geo.errors import CommonGroundError
from pages import _people, _show, _ui


def admin_panel(store, tax, me) -> None:
    with st.expander("Admin: asset types and roles"):
        st.markdown("**Add an asset type** (it shows in every type list at once; no code or file changes)")
        with st.form("type_form"):
            t1, t2, t3 = st.columns(3)
            t_id = t1.text_input("Id (letters, digits, _)", key="type_id", placeholder="e.g. repair_cafe")
            t_label = t2.text_input("Label", key="type_label", placeholder="e.g. Repair café")
            t_cat = t3.selectbox(
                "Category", list(tax.categories), format_func=lambda c: tax.category(c).label, key="type_cat"
            )
            t_traits = st.multiselect(
                "Resilience traits it supports",
                list(tax.traits),
                format_func=lambda t: tax.traits[t],
                key="type_traits",
            )
            if st.form_submit_button("Add the type", key="type_submit"):
                try:
                    editing.add_asset_type(
                        store, actor=me, type_id=t_id, label=t_label, category=t_cat, traits=t_traits
                    )
                except CommonGroundError as exc:
                    st.error(str(exc))
                else:
                    st.session_state["import_done"] = f"Added the type {_show.plain(t_label)}."
                    st.rerun()
        roles = _people.roles_config()
        st.markdown(
            f"**Roles** (from `{_show.plain(roles.source)}`; edit that file to change them, it applies at once)"
        )
        table = pd.DataFrame(roles.describe(), columns=["role", "matched by", "value"])
        if table.empty:
            st.info(
                "Nobody is named an editor or admin yet: everyone who signs in is a contributor. See roles.example.toml."
            )
        else:
            _ui.table(table, hide_index=True, width="stretch")
        limits = ", ".join(
            f"{r.label}s {'no limit' if v is None else f'{v:,} rows'}"
            for r, v in roles.row_limits.items()
            if r > auth.Role.ANONYMOUS
        )
        st.caption(f"Import limits per file: {limits}.")
