"""Neighbourhood: one area at a time, in the framework's order: what the community wants, what is
good about the place (the four traits), what is there, the gaps within reach of what is already
there, who works there, then agreed measures and stories."""

from functools import partial

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.analysis import access, profiles, traits
from geo.analysis import areas as analysis
from geo.errors import CommonGroundError
from geo.io import exports, naming, report
from geo.web import maps
from pages import _frame, _layers, _map, _people, _show, _ui

_frame.ensure_frame()

st.title("One neighbourhood at a time")
st.caption(
    "Pick an area, or click it on the map. Its profile starts from what the community wants and what "
    "is good about the place, then what is there, what is within reach, and who works there."
)

tax = _layers.taxonomy()
layer = _layers.boundary_choice()
areas = _layers.areas(layer)  # with deprivation at this level
assets = analysis.filter_assets(_layers.layer("assets"))
names = sorted(areas["name"].astype(str))
key = f"profile_area_{layer}"
if "_profile_from_url" not in st.session_state:  # a shared link's ?boundaries=wards&area=<id or name>, once
    st.session_state["_profile_from_url"] = True
    if st.query_params.get("area"):
        try:
            st.session_state[key] = profiles.find_area(areas, st.query_params["area"], layer=layer)["name"]
        except CommonGroundError as exc:
            st.warning(f"{exc} The first area is shown instead.")
if st.session_state.get(key) not in names:
    st.session_state[key] = names[0]
clicked = st.session_state.pop("_profile_clicked", None)
if clicked in names:
    st.session_state[key] = clicked
chosen = st.selectbox(f"Area ({_layers.BOUNDARY_LABELS[layer]})", names, key=key)

try:
    area = profiles.find_area(areas, chosen, layer=layer)
    linked = ("organisations", "organisation_areas", "aspirations", "success_measures", "stories")
    prof = profiles.area_profile(
        area, layer=layer, areas=areas, assets=assets, taxonomy=tax, **{n: _layers.layer(n) for n in linked}
    )
except CommonGroundError as exc:
    _show.fail(exc)

info, totals = prof.area, prof.totals
_ui.view_link({"boundaries": layer, "area": info["id"]})
shown_name = _show.plain(info["name"])  # area names are data: shown literally in Markdown
c1, c2, c3, c4 = st.columns(4)
pop = f"{info['population']:,}" if info["population"] is not None else "unknown"
c1.metric("Residents" + (" (estimate)" if info["population_is_estimate"] else ""), pop)
c2.metric("Assets here", totals["total"])
rate = totals["per_1000"]
city = totals["city_per_1000"]
c3.metric(
    "Per 1,000 residents",
    "n/a" if rate is None else f"{rate:.2f}",
    None if rate is None or city is None else f"{rate - city:+.2f} vs all areas",
    help=f"Compared with {totals['comparison']} ({city if city is not None else 'n/a'} per 1,000).",
)
share = info["imd_deprived_share"]
c4.metric(
    "Deprivation (IMD decile)",
    info["imd_decile"] or "n/a",
    None if share is None else f"{share:.0%} in the most deprived 20%",
    delta_color="off",
    help=info["imd_method"] or "No LSOA deprivation covers this area.",
)
if info["population_is_estimate"]:
    st.caption("This population is an estimate: LSOA mid-2020 populations shared out by area.")
named = partial(naming.export_filename, info["name"], layer=layer, ext=".csv")  # named(what=...): after what it holds
pdf = partial(report.report_pdf, _layers.store(), info["id"], boundaries=layer)  # built on click, not on every rerun
_ui.download("Printable report (PDF, A4)", pdf, report.report_filename(info), "application/pdf",
                   key="area_report", on_click="ignore", help="This area on one to four pages, to print or share.")  # fmt: skip

st.subheader("What the community wants")
if prof.aspirations.empty:
    st.info(
        f"No aspirations are recorded for {shown_name} yet. Aspirations come from the community: a group "
        "raises them, and they are recorded against the area on the **Aspirations and success** page."
    )
else:
    _ui.table(prof.aspirations[["text", "theme", "raised_by", "raised_on", "status"]], hide_index=True, width="stretch")

st.subheader("What is good about this place")
st.caption(
    "The four traits of a resilient community, strongest here first. Each counts the assets whose type "
    "supports it, the organisations working here, the published stories and the agreed measures; the "
    "rate is of assets per 1,000 residents, compared with the other areas. This is not a score of "
    f"resilience. Organisations, stories and measures are counted by the trait rules of {prof.traits.rules_from}."
)
for strength in prof.traits.strengths_first():
    voice = f" (\u201c{strength.voice}\u201d)" if strength.voice else ""
    st.markdown(f"**{_show.plain(strength.label)}**{voice}: {_show.plain(strength.in_words)}")
    behind = {
        "assets": strength.assets[["name", "type_label"]].rename(columns={"name": "Asset", "type_label": "Type"}),
        "organisations": strength.organisations[["name", "kind", "why"]].rename(columns=str.capitalize),
        "stories": strength.stories[["title", "why"]].rename(columns=str.capitalize),
        "measures": strength.measures[["measure", "why"]].rename(columns=str.capitalize),
    }
    with st.expander(f"Behind {_show.plain(strength.label)}: {strength.counts_in_words()}"):
        for what, frame in behind.items():
            if frame.empty:
                st.caption(f"No {what} here support it yet.")
            else:
                _ui.table(frame, hide_index=True, width="stretch")

st.subheader("What is here")
left, right = st.columns([3, 2])
selected = areas["id"] == info["id"]
fmap = maps.explorer_map(
    prof.assets_in_area,
    taxonomy=tax,
    boundaries=areas,
    boundary_name=_layers.BOUNDARY_LABELS[layer],
    choropleth=maps.Choropleth("Selected area", selected, kind="flag", flag_labels=(info["name"], "Other areas")),
    tiles=_map.tiles_choice(),
    assets_base_url=_map.static_assets_url(),
    details_url=_map.details_url(maps.asset_details_json(maps.order_for_map(prof.assets_in_area, taxonomy=tax))),
    bounds=tuple(areas[selected].total_bounds),
)
with left:
    out = st_folium(
        fmap, key=f"profile_map_{layer}", height=480, use_container_width=True, returned_objects=["last_clicked"]
    )
    hit = (out or {}).get("last_clicked")
    if hit and st.session_state.get("_profile_last_click") != hit:
        st.session_state["_profile_last_click"] = hit
        row = profiles.area_at(areas, hit["lng"], hit["lat"])
        if row is not None and row["name"] != chosen:
            st.session_state["_profile_clicked"] = row["name"]
            st.rerun()
with right:
    if prof.assets_in_area.empty:
        st.info(f"No assets are mapped inside {shown_name}. Near me shows the nearest ones around it.")
    else:
        here = prof.assets_in_area
        table = pd.DataFrame({"Name": here["name"], "Type": here["type"].map(tax.label), "Address": here["address"]})
        _ui.table(table.sort_values(["Type", "Name"]), hide_index=True, height=420, width="stretch")
        csv = partial(exports.csv_bytes, _people.public(here))  # built on click; named after what it holds
        _ui.download("Assets here (CSV)", csv, named(what="assets"), "text/csv")

st.subheader("Compared with all areas")
chart = prof.by_type.set_index("label")[["per_1000", "city_per_1000"]].rename(
    columns={"per_1000": info["name"], "city_per_1000": "All areas together"}
)
if chart.isna().all().all():
    st.caption("No population is known for this area, so rates cannot be compared.")
else:
    _ui.bar_chart(chart, caption="Assets by type", label_title="Type", value_title="per 1,000 residents")
heads = {"label": "Type", "count": "Here", "per_1000": "Per 1,000 here", "city_per_1000": "Per 1,000, all areas"}
_ui.table(prof.by_type.drop(columns=["type", "category"]).rename(columns=heads), hide_index=True, width="stretch")

st.subheader("Gaps, within reach of what is already here")
gaps = traits.gaps_within_reach(
    area, areas=areas, assets=assets, assets_in_area=prof.assets_in_area, taxonomy=tax, organisations=prof.organisations
)
within = f"{access.DEFAULT_WITHIN_M:,.0f} m"
if gaps.empty:
    st.success(f"Every type of asset in the data has one in {shown_name} or within {within} of its centre.")
else:
    st.caption(
        f"Types with none in the area and none within {within} of its centre (straight line), each beside "
        "the strengths already here or within reach that serve the same traits, and the organisations working "
        "here on its themes: where to start. The Gaps page looks at one type across the city."
    )
    heads = {"label": "Gap", "traits": "Serves", "nearest_name": "Nearest", "distance_m": "Metres"}
    lists = {"strengths_nearby": "Strengths within reach", "organisations_here": "Organisations here on its themes"}
    shown = gaps.assign(**{c: gaps[c].map("; ".join) for c in lists})[[*heads, *lists]]
    _ui.table(shown.rename(columns=heads | lists), hide_index=True, width="stretch")

st.subheader("Who works here")
if prof.organisations.empty:
    st.info("No organisations are recorded as working here yet. They are linked to areas through the assets they run.")
else:
    _ui.table(prof.organisations.drop(columns=["id"]).rename(columns=str.capitalize), hide_index=True, width="stretch")
    csv = partial(exports.csv_bytes, _people.public(prof.organisations))
    _ui.download("Organisations (CSV)", csv, named(what="organisations"), "text/csv")

st.subheader("Agreed success measures and stories")
for title, frame in (("success measures", prof.success_measures), ("stories of success", prof.stories)):
    if frame.empty:
        st.caption(
            f"No {title} recorded for {shown_name} yet; they are agreed with the community and partners working here."
        )
    else:
        _ui.table(frame, hide_index=True, width="stretch")
