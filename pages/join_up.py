"""Join up: who works in an area and on what, where they overlap, and what nobody covers yet."""

import json

import streamlit as st
from streamlit_folium import st_folium

from geo import community
from geo.io import exports, hsds
from geo.web import maps
from pages import _frame, _layers, _map, _org_forms, _people, _show, _ui

_frame.ensure_frame()

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

me = _people.principal()
can_edit = me.can("edit")
_show.flash(FLASH)

orgs, links = _layers.layer("organisations"), _layers.layer("organisation_areas")
ju = community.join_up(
    area_id,
    boundary_layer=layer,
    organisations=orgs,
    organisation_areas=links,
    aspirations=_layers.layer("aspirations"),
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
            f"- **{_show.plain(theme)}** ({len(who)} organisations, talk to each other): {_show.plain(', '.join(who))}"
        )
    if ju.services:
        listed = "; ".join(f"{_show.plain(t)} {len(n)}" for t, n in ju.services.items())
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
                f"Gap: {_show.plain(theme)}. {n} open aspiration{'s' if n > 1 else ''}, and no organisation works on it in {area_name}."
            )
    elif ju.aspiration_themes:
        st.success("Every theme the community has raised here has at least one organisation working on it.")
    else:
        st.info(
            f"No open aspirations are recorded for {area_name}: record them on **Aspirations and success**, then gaps show here."
        )

st.subheader(f"Organisations × {_layers.BOUNDARY_LABELS[layer]}")
matrix = community.organisation_matrix(orgs, links, boundary_layer=layer, areas=areas)
if matrix.empty:
    st.info("No organisation is linked to any area of this boundary set yet; say where one works below.")
else:
    st.caption("Each cell holds the themes an organisation works on in that area (✓ where none were given).")
    _ui.table(matrix, hide_index=True, width="stretch", height=360)
    st.download_button(
        "Matrix (CSV)", exports.csv_bytes(_people.public(matrix)), f"organisations-by-{layer}.csv", "text/csv"
    )

st.subheader("Where an organisation works")
choices = community.organisation_choices(orgs)
options = list(choices)
if not options:
    st.info("No organisations are recorded yet; add the first one below.")
else:
    pick = st.session_state.pop("_joinup_pick", None)
    if pick in options or st.session_state.get("joinup_org") not in options:
        st.session_state["joinup_org"] = (
            pick if pick in options else (ju.working["organisation_id"].iloc[0] if len(ju.working) else options[0])
        )
    org_id = st.selectbox("Organisation", options, key="joinup_org", format_func=choices.get)
    fp = community.organisation_footprint(
        org_id,
        boundary_layer=layer,
        organisations=orgs,
        organisation_areas=links,
        areas=areas,
        assets=_layers.layer("assets"),
    )
    fmap = _map.asset_map(
        fp.runs,
        boundaries=areas,
        boundary_name=_layers.BOUNDARY_LABELS[layer],
        choropleth=maps.Choropleth("Works here", fp.works, kind="flag", flag_labels=("Works here", "Not recorded")),
    )
    st.caption(f"Works in {int(fp.works.sum())} of {len(areas)} areas; runs {len(fp.runs)} asset(s), shown as points.")
    st_folium(fmap, key=f"joinup_map_{layer}", height=420, use_container_width=True, returned_objects=[])
    if can_edit:
        _org_forms.edit_organisation(org_id, fp.organisation, me=me, save=save)
        _org_forms.organisation_areas(org_id, fp.organisation, fp.links, areas, layer, me=me, save=save)
    else:
        st.caption("Editors keep organisations and where they work up to date; sign in as one to change them.")

if can_edit:
    _org_forms.add_organisation(layer, area_id, area_name, me=me, save=save, expanded=not options)

st.subheader("Share it")
s = _layers.store()
st.download_button(  # built when clicked (a callable), not on every rerun
    "Organisations, services and areas (HSDS 3.0 JSON)",
    lambda: json.dumps(hsds.hsds_document(s), ensure_ascii=False, indent=1).encode("utf-8"),
    "common-ground-hsds.json",
    "application/json",
    help="Human Services Data Specification 3.0 (Open Referral / Open Referral UK).",
)
