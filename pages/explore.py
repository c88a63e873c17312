"""Explore: the city's community assets on a map, with the table of what is shown beside it."""

import pandas as pd
import streamlit as st

from geo.analysis import areas as analysis
from geo.errors import CommonGroundError
from geo.io import exports
from geo.web import explore, maps, mapview
from pages import _frame, _layers, _map, _mapview, _people, _show, _ui

_frame.ensure_frame()

st.title("Explore community assets")
st.caption(
    "Start from what the area already has. Filter the assets, shade the areas, and click a point "
    "for its name, type and address. The table beside the map lists exactly what the map shows."
)

tax = _layers.taxonomy()
assets = _layers.layer("assets")
boundary_layer = _layers.boundary_choice()
has_areas = _layers.store().has_layer(boundary_layer)  # a national store of assets may have no boundaries
areas = _layers.areas(boundary_layer) if has_areas else None  # with deprivation (geo.analysis.deprivation)
published = _mapview.memo(  # every asset the map holds (the filters choose what it shows): once per revision
    ("published", _layers.store().location, _layers.store().version()), lambda: analysis.filter_assets(assets)
)

present = assets["type"].value_counts()
present_types = [t for t in tax.types if t in present]
category_options = [c for c in tax.categories if assets["category"].eq(c).any()]
SHADES = explore.shade_options(areas, taxonomy=tax)

if "_explore_from_url" not in st.session_state:  # a link such as ?types=library&q=firth&shade=imd
    st.session_state["_explore_from_url"] = True
    shared = explore.parse_view(dict(st.query_params), taxonomy=tax, present=present_types, shades=list(SHADES))
    st.session_state.update(shared.state)
    for problem in shared.problems:
        st.warning(problem)

with st.container(border=True):
    c1, c2, c3 = st.columns([2, 3, 2])
    categories = c1.multiselect(
        "Categories",
        options=category_options,
        default=category_options,
        format_func=lambda c: tax.category(c).label,
        key="explore_categories",
    )
    themes = c1.multiselect("Service themes", tax.themes(), key="explore_themes", placeholder="Any theme",
                            help="From the taxonomy file: the services each type offers (health, food, ...).")  # fmt: skip
    with_theme = set(tax.types_with_theme(themes)) if themes else set(tax.types)
    type_options = [
        t.id for t in tax.types.values() if t.category in categories and t.id in present and t.id in with_theme
    ]
    types = c2.multiselect("Types", options=type_options, default=type_options, key=explore.types_key(categories, themes),
                           format_func=lambda t: f"{tax.label(t)} ({present.get(t, 0)})")  # fmt: skip
    query = c3.text_input("Search by name, address or postcode", key="explore_query", placeholder="e.g. Firth Park")
    c4, c5 = st.columns([3, 2])
    shading = c4.radio(
        "Shade areas by",
        options=list(SHADES),
        format_func=SHADES.get,
        horizontal=True,
        key="explore_shading",
        help="A trait counts the assets shown whose type supports it in the taxonomy (see About).",
    )
    show_boundaries = c5.toggle("Show boundaries", value=True, key="explore_boundaries", disabled=not has_areas)
    show_boundaries = show_boundaries and has_areas
    if not has_areas:
        c4.caption("This store has no boundary layers, so there are no areas to shade or count.")
    elif "imd" not in SHADES:
        c4.caption("These boundaries carry no deprivation: choose LSOAs under **Boundaries** to shade by it.")

link = explore.view_params(types=types, present=present_types, query=query, boundaries=boundary_layer, shade=shading)
st.query_params.from_dict({k: str(v) for k, v in link.items() if v not in (None, "")})  # early: see _ui.view_link
try:
    with st.spinner("Finding the assets…"):
        base = (_layers.store().location, _layers.store().version(), boundary_layer)
        ready = _mapview.memo(base, lambda: explore.prepare(published, areas, taxonomy=tax))
        shown = analysis.filter_assets(assets, categories=categories, types=types, query=query)
        summary, choropleth = explore.shading(shading, shown, areas, taxonomy=tax, where=ready.where, km2=ready.km2)
        zoom_to = mapview.fit_bounds(shown) if query.strip() else None
        view = mapview.map_view(
            ready.ordered,
            shown,
            taxonomy=tax,
            areas=areas if show_boundaries else None,
            choropleth=choropleth,
            among=explore.areas_within(areas, zoom_to),
            boundary_name=_layers.BOUNDARY_LABELS[boundary_layer],
            zoom_to=zoom_to,
        )
        details = _map.details_url(ready.details_json)  # published again on every run: kept as recently used
        points = _map.points_url(ready.points_json)  # the same: the map fetches its points (1 MB nationally)
except CommonGroundError as exc:
    _show.fail(exc)


def build_map():  # every published asset over the chosen areas; the view above picks what it shows
    _, everything = explore.shading(shading, published, areas, taxonomy=tax, where=ready.where, km2=ready.km2)
    fmap = maps.explorer_map(
        published,
        taxonomy=tax,
        boundaries=areas if show_boundaries else None,
        boundary_name=_layers.BOUNDARY_LABELS[boundary_layer],
        choropleth=everything,
        tiles=_map.tiles_choice(),
        assets_base_url=_map.static_assets_url(),
        details_url=details,
        points_url=points,
        bounds=tuple(areas.total_bounds) if has_areas else None,  # else the assets' extent
        shadable=True,  # the view shades the areas in place: a new shading does not draw the map again
    )
    maps.outline_layer(published, _layers.asset_outlines(), taxonomy=tax).add_to(fmap)  # parks as shapes, zoom 14+
    return fmap


m1, m2, m3 = st.columns(3)
m1.metric("Assets shown", f"{len(shown):,}", help=f"of {len(assets):,} in the store")
m2.metric("Types shown", shown["type"].nunique())
if has_areas:
    none_here = int((summary["assets"] == 0).sum())
    m3.metric(f"Areas with none ({boundary_layer})", none_here, help="Areas with no shown asset inside them")

if shown.empty:
    st.info(
        "No assets match these filters. Clear the search box or choose more categories and types above; "
        "the boundaries are still shown on the map."
    )

left, right = st.columns([3, 2])
with left:
    state = (*base, show_boundaries, _map.tiles_choice())  # not the shading: the view applies it
    try:
        with st.spinner("Drawing the map…"):
            _mapview.show(state, build_map, view, key="explore_map", height=560)
    except CommonGroundError as exc:
        _show.fail(exc)
    st.caption(
        "Map scripts are served by this app; basemap tiles need the internet (choose **none** under "
        "Basemap when offline). Click a cluster to zoom in, a point for its details."
    )
with right:
    st.markdown(f"**{len(shown):,} assets shown**")
    table = pd.DataFrame(
        {
            "Name": shown["name"],
            "Type": shown["type"].map({t: tax.label(t) for t in shown["type"].dropna().unique()}),
            "Address": shown["address"],
            "Postcode": shown["postcode"],
        }
    ).sort_values(["Type", "Name"])
    narrow = "Narrow them with the categories, types or search above, or choose smaller boundaries"
    _ui.html_table(table, caption="The assets shown on the map", narrow=narrow, height=470)
    d1, d2, d3 = st.columns(3)
    public_shown = _people.public(shown)  # the files are written when asked for, not on every rerun
    with d1:
        _ui.download("CSV", lambda: exports.csv_bytes(public_shown), "assets.csv", "text/csv",
                     help="The assets shown, with lon/lat", width="stretch")  # fmt: skip
    with d2:
        _ui.download("GeoJSON", lambda: exports.geojson_bytes(public_shown), "assets.geojson",
                     "application/geo+json", width="stretch")  # fmt: skip
    html_areas, tiles = (areas if show_boundaries else None), _map.tiles_choice()
    with d3:
        _ui.download("Map (HTML)", lambda: maps.standalone_html(maps.explorer_map(
            shown, taxonomy=tax, boundaries=html_areas, choropleth=choropleth, tiles=tiles)),
            "common-ground-map.html", "text/html", help="This map as one file that opens from disk", width="stretch")  # fmt: skip

st.subheader("Assets by category")
by_category = (
    shown["category"].value_counts().rename(lambda c: tax.category(c).label).rename_axis("Category").rename("Assets")
)
if by_category.empty:
    st.caption("Nothing to chart: no assets match the filters.")
else:
    _ui.bar_chart(by_category, caption="Assets shown, by category", label_title="Category", value_title="Assets")

if has_areas:  # the areas' counts and rates, as a table
    with st.expander(f"Areas table: {_layers.BOUNDARY_LABELS[boundary_layer]}", expanded=False):
        label = _layers.BOUNDARY_LABELS[boundary_layer]
        _ui.html_table(explore.area_table(summary), caption=f"Assets shown per area ({label})", height=420)
        public_summary = _people.public(summary)
        _ui.download(
            "Areas (CSV)", lambda: exports.csv_bytes(public_summary), f"{boundary_layer}-summary.csv", "text/csv"
        )
        if boundary_layer == "neighbourhoods":
            st.caption("Neighbourhood populations are estimates (LSOA populations shared out by area).")

_ui.view_link(link)
