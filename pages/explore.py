"""Explore: the city's community assets on a map, with the table of what is shown beside it."""

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo import analysis, exports, maps, traits
from geo.errors import CommonGroundError
from pages import _ui

_ui.ensure_frame()

CHOROPLETHS = {
    "per_1000": "Assets per 1,000 residents",
    "imd": "Deprivation (IMD 2019 decile)",
    "none": "No shading",
}

st.title("Explore community assets")
st.caption(
    "Start from what Sheffield already has. Filter the assets, shade the areas, and click a point "
    "for its name, type and address. The table beside the map lists exactly what the map shows."
)

tax = _ui.taxonomy()
TRAIT_SHADING = {
    f"trait:{t}": f"Assets supporting {label.lower()} per 1,000 residents" for t, label in tax.traits.items()
}
assets = _ui.layer("assets")
boundary_layer = _ui.boundary_choice()
areas = _ui.layer(boundary_layer)

present = assets["type"].value_counts()
category_options = [c for c in tax.categories if assets["category"].eq(c).any()]

with st.container(border=True):
    c1, c2, c3 = st.columns([2, 3, 2])
    categories = c1.multiselect(
        "Categories",
        options=category_options,
        default=category_options,
        format_func=lambda c: tax.category(c).label,
        key="explore_categories",
    )
    type_options = [t.id for t in tax.types.values() if t.category in categories and t.id in present]
    types = c2.multiselect(
        "Types",
        options=type_options,
        default=type_options,
        format_func=lambda t: f"{tax.label(t)} ({present.get(t, 0)})",
        key=f"explore_types_{'-'.join(categories)}",
    )
    query = c3.text_input("Search by name, address or postcode", key="explore_query", placeholder="e.g. Firth Park")
    c4, c5 = st.columns([3, 2])
    shade_options = (
        ["per_1000", "imd", "none"]
        if "imd_decile" in areas and areas["imd_decile"].notna().any()
        else ["per_1000", "none"]
    )
    shade_options[-1:-1] = list(TRAIT_SHADING)  # each trait of a resilient community, beside the others
    shading = c4.radio(
        "Shade areas by",
        options=shade_options,
        format_func=lambda o: CHOROPLETHS.get(o) or TRAIT_SHADING[o],
        horizontal=True,
        key="explore_shading",
        help="A trait counts the assets shown whose type supports it in the taxonomy (see About).",
    )
    show_boundaries = c5.toggle("Show boundaries", value=True, key="explore_boundaries")
    if boundary_layer != "lsoas":
        c4.caption("Deprivation shading needs LSOAs: choose them under **Boundaries** in the sidebar.")

try:
    shown = analysis.filter_assets(assets, categories=categories, types=types, query=query)
    summary = analysis.summarise_areas(shown, areas)
    choropleth = None
    if shading == "per_1000":
        choropleth = maps.Choropleth(CHOROPLETHS["per_1000"], summary["per_1000"], fmt="{:.2f}")
    elif shading == "imd" and "imd_decile" in summary:
        choropleth = maps.Choropleth(CHOROPLETHS["imd"], summary["imd_decile"], kind="imd", fmt="{:.0f}")
    elif shading in TRAIT_SHADING:
        rates = traits.trait_rates(shown, areas, taxonomy=tax)
        summary[TRAIT_SHADING[shading]] = rates[f"{shading.removeprefix('trait:')}_per_1000"]
        choropleth = maps.Choropleth(TRAIT_SHADING[shading], summary[TRAIT_SHADING[shading]], fmt="{:.3f}")
    ordered = maps.order_for_map(shown, taxonomy=tax)
    fmap = maps.explorer_map(
        shown,
        taxonomy=tax,
        boundaries=areas if show_boundaries else None,
        boundary_name=_ui.BOUNDARY_LABELS[boundary_layer],
        choropleth=choropleth,
        tiles=_ui.tiles_choice(),
        assets_base_url=_ui.static_assets_url(),
        details_url=_ui.details_url(maps.asset_details_json(ordered)),
        bounds=tuple(areas.total_bounds),
    )
except CommonGroundError as exc:
    _ui.fail(exc)

m1, m2, m3 = st.columns(3)
m1.metric("Assets shown", f"{len(shown):,}", help=f"of {len(assets):,} in the store")
m2.metric("Types shown", shown["type"].nunique())
m3.metric(
    f"Areas with none ({boundary_layer})",
    int((summary["assets"] == 0).sum()),
    help="Areas with no shown asset inside them",
)

if shown.empty:
    st.info(
        "No assets match these filters. Clear the search box or choose more categories and types above; "
        "the boundaries are still shown on the map."
    )

left, right = st.columns([3, 2])
with left:
    st_folium(fmap, key="explore_map", height=560, use_container_width=True, returned_objects=[])
    st.caption(
        "Map scripts are served by this app; basemap tiles need the internet (choose **none** under "
        "Basemap when offline). Click a cluster to zoom in, a point for its details."
    )
with right:
    st.markdown(f"**{len(shown):,} assets shown**")
    table = pd.DataFrame(
        {
            "Name": shown["name"],
            "Type": shown["type"].map(tax.label),
            "Address": shown["address"],
            "Postcode": shown["postcode"],
        }
    ).sort_values(["Type", "Name"])
    _ui.table(table, hide_index=True, height=470, width="stretch")
    d1, d2, d3 = st.columns(3)
    d1.download_button(
        "CSV",
        exports.csv_bytes(_ui.public(shown)),
        "assets.csv",
        "text/csv",
        help="The assets shown, with lon/lat",
        width="stretch",
    )
    d2.download_button(
        "GeoJSON", exports.geojson_bytes(_ui.public(shown)), "assets.geojson", "application/geo+json", width="stretch"
    )
    html_areas = areas if show_boundaries else None
    d3.download_button(
        "Map (HTML)",
        lambda: maps.standalone_html(
            maps.explorer_map(
                shown, taxonomy=tax, boundaries=html_areas, choropleth=choropleth, tiles=_ui.tiles_choice()
            )
        ),
        "common-ground-map.html",
        "text/html",
        help="This map as one file that opens from disk",
        width="stretch",
    )

st.subheader("Assets by category")
by_category = (
    shown["category"].map(lambda c: tax.category(c).label).value_counts().rename_axis("Category").rename("Assets")
)
if by_category.empty:
    st.caption("Nothing to chart: no assets match the filters.")
else:
    st.bar_chart(by_category, horizontal=True)

with st.expander(f"Areas table: {_ui.BOUNDARY_LABELS[boundary_layer]}", expanded=False):
    area_table = summary.drop(columns=["id"]).rename(
        columns={
            "name": "Area",
            "population": "Population",
            "assets": "Assets",
            "per_1000": "Per 1,000",
            "per_km2": "Per km²",
            "imd_decile": "IMD decile",
        }
    )
    _ui.table(area_table.sort_values("Per 1,000", na_position="first"), hide_index=True, width="stretch")
    st.download_button(
        "Areas (CSV)", exports.csv_bytes(_ui.public(summary)), f"{boundary_layer}-summary.csv", "text/csv"
    )
    if boundary_layer == "neighbourhoods":
        st.caption("Neighbourhood populations are estimates (LSOA populations shared out by area).")
