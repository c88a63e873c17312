"""Gaps: which areas are far from a kind of asset, who lives there, and where services are stretched."""

import streamlit as st
from streamlit_folium import st_folium

from geo import schema
from geo.analysis import access, deprivation
from geo.analysis import areas as analysis
from geo.errors import CommonGroundError
from geo.io import exports
from geo.web import maps
from pages import _frame, _layers, _map, _people, _show, _ui

_frame.ensure_frame()

VIEWS = {
    "beyond": "Beyond the distance",
    "distance": "Distance to the nearest",
    "score": "Accessibility score (2SFCA)",
}

st.title("Gaps")
st.caption(
    "Start from what is there: for one type of asset, how far is each area from the nearest one, and how "
    "many people live beyond a walkable distance? The accessibility score also shows areas with services "
    "nearby that are shared by many people."
)

tax = _layers.taxonomy()
assets = analysis.filter_assets(_layers.layer("assets"))
layer = _layers.boundary_choice()
areas = _layers.areas(layer)  # with deprivation at this level
present = [t for t in tax.types if t in set(assets["type"])]
if not present:
    st.info("There are no assets in the store yet. Import some, then come back to look for gaps.")
    st.stop()

if "_gaps_from_url" not in st.session_state:  # a link such as ?type=gp_practice&within=800&boundaries=lsoas
    st.session_state["_gaps_from_url"] = True
    shared = access.parse_gaps_view(dict(st.query_params), types=present)
    st.session_state.update(shared.state)
    for problem in shared.problems:
        st.warning(problem)
c1, c2, c3 = st.columns([2, 2, 3])
type_id = c1.selectbox("Type of asset", present, format_func=tax.label, key="gaps_type")
within_m = c2.slider("Distance (metres, straight line)", 200, 5000, 800, 100, key="gaps_within")
view = c3.radio("Show", list(VIEWS), format_func=VIEWS.get, horizontal=True, key="gaps_view")
st.caption(
    f"{within_m:,} m is about a {access.walk_minutes_estimate(within_m):.0f}-minute walk. {access.WALK_ESTIMATE_NOTE}"
)

capacity = tax.type(type_id).capacity_column
try:
    # people at the store's population points where it has them (else at each area's centre)
    population = _layers.layer(schema.POPULATION_LAYER) if _layers.store().has_layer(schema.POPULATION_LAYER) else None
    with st.spinner("Measuring how far each area is…"):  # shown only if it takes over half a second
        result = access.measure_gaps(
            areas,
            assets,
            type_id=type_id,
            within_m=within_m,
            capacity_column=capacity,
            outlines=_layers.asset_outlines(),
            population=population,
        )
        table = result.areas
except CommonGroundError as exc:
    _show.fail(exc)
summary = access.gap_summary(table)
share = summary["population_affected"] / summary["population_total"] if summary["population_total"] else 0.0

m1, m2, m3 = st.columns(3)
m1.metric("Areas beyond the distance", f"{summary['areas_beyond']} of {summary['areas_total']}")
m2.metric(
    "People beyond the distance",
    f"{summary['population_affected']:,}",
    help=f"of {summary['population_total']:,} in all areas",
)
m3.metric("Share of residents", f"{share:.0%}")
st.caption(result.basis_note)
if layer == "neighbourhoods" and result.points is None:
    st.caption("Neighbourhood populations are estimates, and the neighbourhoods do not cover the rural west.")

label = tax.label(type_id)
if view == "beyond":
    choropleth = maps.Choropleth(
        f"More than {within_m:,} m from a {label}", table["beyond"], kind="flag", flag_labels=("Beyond", "Within")
    )
elif view == "distance":
    choropleth = maps.Choropleth(f"Metres to the nearest {label}", table["distance_m"], fmt="{:,.0f}")
else:
    unit = f"{capacity.replace('_', ' ')} per 1,000 residents" if capacity else "sites per 1,000 residents"
    choropleth = maps.Choropleth(f"2SFCA score ({unit})", table["score_2sfca"], fmt="{:.3f}")
of_type = assets[assets["type"] == type_id]
fmap = _map.asset_map(
    of_type,
    taxonomy=tax,
    boundaries=areas,
    boundary_name=_layers.BOUNDARY_LABELS[layer],
    choropleth=choropleth,
    boundary_fields={"Metres to nearest": table["distance_m"].round(0).map("{:,.0f}".format)},
)

left, right = st.columns([3, 2])
with left:
    st_folium(fmap, key="gaps_map", height=520, use_container_width=True, returned_objects=[])
with right:
    beyond = table[table["beyond"]]
    st.markdown(f"**{len(beyond)} areas beyond {within_m:,} m**, farthest first")
    if beyond.empty:
        st.success(f"Every area's centre is within {within_m:,} m of a {_show.plain(label)}.")
    else:
        sort_cols = ["distance_m", "imd_decile"] if "imd_decile" in beyond else ["distance_m"]
        ranked = beyond.sort_values(sort_cols, ascending=[False, True][: len(sort_cols)])
        cols = {
            "name": "Area",
            "population": "People",
            "population_beyond": "People beyond",
            "distance_m": "Metres",
            "imd_decile": "IMD decile",
            "nearest_name": "Nearest",
        }
        shown = ranked[[c for c in cols if c in ranked]].rename(columns=cols)
        shown["Metres"] = shown["Metres"].round(0).astype(int)
        _ui.table(shown, hide_index=True, height=420, width="stretch")
    every_area = _people.public(table)  # the file is written when asked for, not on every rerun
    _ui.download(
        "All areas (CSV)", lambda: exports.csv_bytes(every_area), f"gaps-{type_id}-{within_m}m-{layer}.csv", "text/csv"
    )

if "imd_decile" in table and table["imd_decile"].notna().any():
    st.subheader("Who lives beyond the distance, by deprivation")
    per_point = result.points is not None and "imd_decile" in result.points
    chart = access.population_by_decile(result.points if per_point else table)  # deciles 1 to 10, in that order
    _ui.bar_chart(chart, caption="Residents by deprivation decile", label_title="IMD decile (1 = most deprived)",
                  value_title=f"people beyond and within {within_m:,} m")  # fmt: skip
    if per_point:
        st.caption("Each population point counts under its own LSOA's decile (English Indices of Deprivation 2019).")
    elif layer != "lsoas":
        st.caption(f"Each area counts under its own decile. {deprivation.METHOD}")

label = _show.plain(label)
where = (
    "the population points (an area scores its points' population-weighted mean)"
    if result.points is not None
    else "each area's centre (or a point inside it where the centre falls outside)"
)
with st.expander("How the accessibility score works"):
    st.markdown(
        f"""
The **two-step floating catchment area** method (Luo and Wang, 2003) weighs each service by how many people
can reach it. Step 1: each {label} shares its supply ({"its " + capacity.replace("_", " ") if capacity else "one unit per site"})
among the residents within {within_m:,} m of it. Step 2: each place where people are counted adds up the shares
of every {label} within {within_m:,} m. A low score means few services in reach **or** services shared by many
people. Distances are straight lines from {where}.
"""
    )

_ui.view_link({"type": type_id, "within": within_m, "view": view, "boundaries": layer})
