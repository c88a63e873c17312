"""Join up: who works in an area and on what, where they overlap, and what nobody covers yet."""

import json

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo import community, schema
from geo.io import exports, hsds
from geo.web import maps
from pages import _ui

_ui.ensure_frame()

FLASH = "joinup_flash"


def save(action, message: str, clear: tuple[str, ...] = ()) -> None:
    """Save through the engine; a save refused because someone else changed the organisation first
    keeps the form as typed and offers a reload (the form is tagged with the version it was loaded from)."""
    _ui.save(
        action,
        lambda result: message if result != {} else "Nothing changed.",
        clear=clear,
        flash_key=FLASH,
        conflict_key="joinup_conflict",
        forget_prefix="org_loaded_",
    )


st.title("Join up")
st.caption(
    "Agree what success looks like and join up the organisations working in the same place: who already "
    "works here and on what, which of them should talk to each other, and which of the community's "
    "aspirations nobody is working on yet."
)

layer, areas, area = _ui.area_picker("joinup")
area_id, area_name = str(area["id"]), str(area["name"])

me = _ui.principal()
can_edit = me.can("edit")
_ui.flash(FLASH)

orgs, links = _ui.layer("organisations"), _ui.layer("organisation_areas")
ju = community.join_up(
    area_id, boundary_layer=layer, organisations=orgs, organisation_areas=links, aspirations=_ui.layer("aspirations")
)

st.subheader(f"Who works in {area_name}")
if ju.working.empty:
    st.info(
        f"No organisation is recorded as working in {area_name} yet. Add one below under **Add an organisation**, "
        "or choose an existing one and say where it works."
    )
else:
    _ui.table(
        ju.working[["name", "kind", "themes", "themes_from"]].rename(
            columns={"name": "Organisation", "kind": "Kind", "themes": "Themes here", "themes_from": "Themes from"}
        ),
        hide_index=True,
        width="stretch",
    )

left, right = st.columns(2)
with left:
    st.markdown("**Overlaps: talk to each other**")
    if not ju.overlaps:
        st.caption("No theme has two or more organisations that chose it for their work here.")
    for theme, who in ju.overlaps.items():
        st.markdown(
            f"- **{_ui.plain(theme)}** ({len(who)} organisations, talk to each other): {_ui.plain(', '.join(who))}"
        )
    if ju.services:
        listed = "; ".join(f"{_ui.plain(t)} {len(n)}" for t, n in ju.services.items())
        st.caption(
            f"Not counted as overlaps: services whose themes come from the assets they run ({listed}), "
            "such as GP practices and pharmacies sharing health."
        )
with right:
    st.markdown("**Gaps: what the community wants that nobody works on here**")
    if ju.gaps:
        for theme in ju.gaps:
            n = ju.aspiration_themes[theme]
            st.warning(
                f"Gap: {_ui.plain(theme)}. {n} open aspiration{'s' if n > 1 else ''}, and no organisation works on it in {area_name}."
            )
    elif ju.aspiration_themes:
        st.success("Every theme the community has raised here has at least one organisation working on it.")
    else:
        st.info(
            f"No open aspirations are recorded for {area_name}: record them on **Aspirations and success**, then gaps show here."
        )

st.subheader(f"Organisations × {_ui.BOUNDARY_LABELS[layer]}")
matrix = community.organisation_matrix(orgs, links, boundary_layer=layer, areas=areas)
if matrix.empty:
    st.info("No organisation is linked to any area of this boundary set yet; say where one works below.")
else:
    st.caption("Each cell holds the themes an organisation works on in that area (✓ where none were given).")
    _ui.table(matrix, hide_index=True, width="stretch", height=360)
    st.download_button(
        "Matrix (CSV)", exports.csv_bytes(_ui.public(matrix)), f"organisations-by-{layer}.csv", "text/csv"
    )

st.subheader("Where an organisation works")
by_id = orgs.drop_duplicates("id").set_index(orgs.drop_duplicates("id")["id"].astype(str))
options = sorted(by_id.index, key=lambda i: (str(by_id.loc[i, "name"]).casefold(), i))
if not options:
    st.info("No organisations are recorded yet; add the first one below.")
    org_id = None
else:
    pick = st.session_state.pop("_joinup_pick", None)
    if pick in options or st.session_state.get("joinup_org") not in options:
        st.session_state["joinup_org"] = (
            pick if pick in options else (ju.working["organisation_id"].iloc[0] if len(ju.working) else options[0])
        )
    org_id = st.selectbox(
        "Organisation",
        options,
        key="joinup_org",
        format_func=lambda i: (
            f"{by_id.loc[i, 'name']} ({by_id.loc[i, 'kind'] if pd.notna(by_id.loc[i, 'kind']) else 'kind not known'})"
        ),
    )
    org = by_id.loc[org_id].map(lambda v: "" if v is None or pd.isna(v) else str(v))
    mine = links[(links["organisation_id"].astype(str) == org_id) & (links["boundary_layer"] == layer)]
    works = areas["id"].astype(str).isin(set(mine["area_id"].astype(str)))
    runs = _ui.layer("assets")
    runs = runs[(runs["organisation_id"].astype(str) == org_id) & (runs["status"].fillna("active") == "active")]
    tax = _ui.taxonomy()
    fmap = _ui.asset_map(
        runs,
        taxonomy=tax,
        boundaries=areas,
        boundary_name=_ui.BOUNDARY_LABELS[layer],
        choropleth=maps.Choropleth("Works here", works, kind="flag", flag_labels=("Works here", "Not recorded")),
    )
    st.caption(f"Works in {int(works.sum())} of {len(areas)} areas; runs {len(runs)} asset(s), shown as points.")
    st_folium(fmap, key=f"joinup_map_{layer}", height=420, use_container_width=True, returned_objects=[])

    if can_edit:
        conflict = st.session_state.get("joinup_conflict")
        conflict = conflict if conflict and conflict["id"] == org_id else None
        with st.expander(f"Edit {_ui.plain(org['name'])}", expanded=conflict is not None):
            # The form holds the organisation as this person loaded it; the save names that version.
            if conflict:
                st.error(conflict["message"])
                if st.button("Reload the organisation", key="joinup_reload", type="primary"):
                    st.session_state.pop(f"org_loaded_{org_id}", None)
                    st.session_state.pop("joinup_conflict", None)
                    st.rerun()
            loaded = st.session_state.setdefault(f"org_loaded_{org_id}", org.to_dict())
            v = int(loaded["version"]) if str(loaded.get("version", "")).strip() else None
            with st.form(f"org_edit_{org_id}_v{v}"):
                c1, c2 = st.columns(2)
                kinds = list(schema.ORGANISATION_KINDS)
                e_name = c1.text_input("Name", value=loaded["name"], key=f"oe_name_{org_id}_v{v}")
                e_kind = c2.selectbox("Kind", kinds, index=kinds.index(loaded["kind"]) if loaded["kind"] in kinds else 0,
                                      key=f"oe_kind_{org_id}_v{v}")  # fmt: skip
                e_themes = c1.text_input(
                    "Themes (comma-separated)", value=loaded["themes"], key=f"oe_themes_{org_id}_v{v}"
                )
                e_url = c2.text_input("Website", value=loaded["url"], key=f"oe_url_{org_id}_v{v}")
                e_contact = c1.text_input("Public contact (the organisation's, not a person's)", value=loaded["public_contact"],
                                          key=f"oe_contact_{org_id}_v{v}")  # fmt: skip
                e_charity = c2.text_input(
                    "Charity number", value=loaded["charity_number"], key=f"oe_charity_{org_id}_v{v}"
                )
                if st.form_submit_button("Save changes"):
                    save(
                        lambda: community.update_organisation(
                            _ui.store(),
                            org_id,
                            actor=me,
                            name=e_name,
                            kind=e_kind,
                            themes=e_themes,
                            url=e_url,
                            public_contact=e_contact,
                            charity_number=e_charity,
                            if_version=v,
                        ),
                        f"Saved {_ui.plain(e_name)}.",
                    )

        with st.expander(f"Where {_ui.plain(org['name'])} works ({_ui.BOUNDARY_LABELS[layer]}) and on what"):
            id_to_name = dict(zip(areas["id"].astype(str), areas["name"].astype(str), strict=False))
            name_to_id = {v: k for k, v in id_to_name.items()}
            current = pd.DataFrame(
                {"Area": mine["area_id"].astype(str).map(id_to_name), "Themes": mine["themes"].fillna("")}
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
                            _ui.store(), org_id, actor=me, boundary_layer=layer, areas=pairs
                        ),
                        f"Saved where {_ui.plain(org['name'])} works.",
                        (f"oa_editor_{org_id}_{layer}",),
                    )
    else:
        st.caption("Editors keep organisations and where they work up to date; sign in as one to change them.")

if can_edit:
    with st.expander("Add an organisation", expanded=not options):
        with st.form("org_add"):
            c1, c2 = st.columns(2)
            a_name = c1.text_input("Name", key="oa_name")
            a_kind = c2.selectbox("Kind", schema.ORGANISATION_KINDS, key="oa_kind")
            a_themes = c1.text_input("Themes (comma-separated)", key="oa_themes", placeholder="e.g. food, health")
            a_url = c2.text_input("Website", key="oa_url", placeholder="https://")
            a_contact = c1.text_input("Public contact (the organisation's, not a person's)", key="oa_contact")
            a_here = c2.checkbox(f"Works in {area_name} on these themes", value=True, key="oa_here")
            if st.form_submit_button("Add organisation", key="oa_submit"):

                def add() -> str:
                    new = community.add_organisation(
                        _ui.store(),
                        actor=me,
                        name=a_name,
                        kind=a_kind,
                        themes=a_themes,
                        url=a_url,
                        public_contact=a_contact,
                        boundary_layer=layer,
                        areas=[(area_id, a_themes)] if a_here else [],
                    )
                    st.session_state["_joinup_pick"] = new
                    return new

                save(add, f"Added {_ui.plain(a_name)}.", ("oa_name", "oa_themes", "oa_url", "oa_contact"))

st.subheader("Share it")
s = _ui.store()
st.download_button(  # built when clicked (a callable), not on every rerun
    "Organisations, services and areas (HSDS 3.0 JSON)",
    lambda: json.dumps(hsds.hsds_document(s), ensure_ascii=False, indent=1).encode("utf-8"),
    "common-ground-hsds.json",
    "application/json",
    help="Human Services Data Specification 3.0 (Open Referral / Open Referral UK).",
)
