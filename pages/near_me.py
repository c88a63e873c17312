"""Near me: what is within reach of a postcode or a point, and what is missing."""

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.analysis import access
from geo.analysis import areas as analysis
from geo.errors import CommonGroundError
from geo.io import exports
from pages import _frame, _layers, _locate, _map, _people, _show, _ui

_frame.ensure_frame()

st.title("What is near me?")
st.caption(
    "Type a postcode or click the map. You get the nearest asset of every type, with the distance in a "
    "straight line and an estimated walking time, and the types with nothing within reach."
)

tax = _layers.taxonomy()
assets = analysis.filter_assets(_layers.layer("assets"))

# A link such as ?postcode=S5+8NJ&minutes=15 (or ?lonlat=-1.47,53.38) opens this exact view.
if "_near_from_url" not in st.session_state:
    st.session_state["_near_from_url"] = True
    shared = access.parse_view(dict(st.query_params))
    if shared.minutes is not None:
        st.session_state["near_minutes"] = shared.minutes
    if shared.postcode:
        st.session_state["near_postcode"] = shared.postcode
        st.session_state["_near_lookup"] = shared.postcode
    elif shared.lonlat:
        st.session_state["near_origin"] = {"lon": shared.lonlat[0], "lat": shared.lonlat[1], "label": "Shared point"}
    for problem in shared.problems:
        st.warning(problem)

c1, c2 = st.columns([2, 3])
with c1.form("near_form", border=False):
    postcode = st.text_input("Postcode", key="near_postcode", placeholder="e.g. S5 8NJ")
    submitted = st.form_submit_button("Find what is near", type="primary")
with c1:
    here = _locate.my_location(key="near_locate")  # a phone's position, shared with this app only
if here is not None:
    st.session_state["near_origin"] = {"lon": here["lon"], "lat": here["lat"], "label": "Your location"}
# Outside the form, so the results follow the walking time at once.
minutes = c2.slider(
    "Walking time that counts as near (estimate)",
    min_value=5,
    max_value=30,
    value=10,
    step=1,
    key="near_minutes",
    help=access.WALK_ESTIMATE_NOTE,
)
within_m = round(access.walk_radius_m(minutes), -1)
c2.caption(f"{minutes} minutes ≈ {within_m:,.0f} m in a straight line. {access.WALK_ESTIMATE_NOTE}")

lookup = st.session_state.pop("_near_lookup", None) or (postcode if submitted else None)
if lookup is not None and lookup.strip():
    try:
        pt = _layers.postcodes().lookup(lookup)
    except CommonGroundError as exc:
        st.session_state.pop("near_origin", None)  # never leave the last postcode's results up, unlabelled
        st.error(str(exc))
    else:
        st.session_state["near_origin"] = {"lon": pt.lon, "lat": pt.lat, "label": pt.postcode, "postcode": pt.postcode}
        if not pt.in_area:
            st.warning(f"{pt.postcode} is outside this store's area: services beyond it are not in the data.")
elif submitted:
    st.session_state.pop("near_origin", None)
    st.error("Type a postcode such as S5 8NJ, or click the map.")

origin = st.session_state.get("near_origin")
result = None
if origin:
    try:
        with st.spinner("Finding what is near…"):  # shown only if it takes over half a second
            result = access.near(
                origin["lon"],
                origin["lat"],
                assets,
                taxonomy=tax,
                within_m=within_m,
                postcode=origin.get("postcode"),
                outlines=_layers.asset_outlines(),
            )
    except CommonGroundError as exc:
        st.error(str(exc))

if result is None:
    st.info("Start by typing a postcode above (for example S5 8NJ or S1 2HE), or click anywhere on the map.")
    fmap = _map.asset_map(
        assets.iloc[0:0],
        taxonomy=tax,
        details=False,
        boundaries=_layers.layer(_layers.boundary_choice()),
        boundary_name=_layers.BOUNDARY_LABELS[_layers.boundary_choice()],
    )
else:
    reach = access.assets_within(result.lon, result.lat, assets, within_m=within_m, outlines=_layers.asset_outlines())
    m1, m2 = st.columns(2)
    m1.metric("Types within reach", f"{int(result.nearest['within'].sum())} of {len(result.nearest)}")
    m2.metric("Assets within reach", len(reach))
    st.caption(f"Measured from: {_show.plain(origin.get('label') or 'Clicked point')}.")
    if result.missing:
        st.warning("Nothing within reach for: " + ", ".join(_show.plain(tax.label(t)) for t in result.missing))
    else:
        st.success("Every mapped type has at least one asset within reach.")
    # everything within reach, plus the nearest of each type that lies beyond it
    shown = assets[assets["id"].isin(set(reach["id"]) | set(result.nearest["id"].dropna()))]
    farthest = float(result.nearest["distance_m"].max()) if len(result.nearest) else within_m
    fmap = _map.asset_map(
        shown,
        taxonomy=tax,
        bounds=access.bounds_around(result.lon, result.lat, min(max(within_m, 500.0), farthest)),
        origin=(result.lon, result.lat),
        origin_label=origin.get("label") or "Clicked point",
        radius_m=within_m,
    )

left, right = st.columns([1, 1])  # half each, so the table beside the map shows every column at 1366 px
with left:
    out = st_folium(fmap, key="near_map", height=500, use_container_width=True, returned_objects=["last_clicked"])
    click = (out or {}).get("last_clicked")
    if click and st.session_state.get("_near_last_click") != click:
        st.session_state["_near_last_click"] = click
        st.session_state["near_origin"] = {"lon": click["lng"], "lat": click["lat"], "label": "Clicked point"}
        st.rerun()
with right:
    if result is not None:
        # Four short columns, so nothing runs off the edge at 1366 px or on a phone.
        table = pd.DataFrame(
            {
                "Type": result.nearest["label"],
                "How far": result.nearest["distance_m"].round(-1).astype(int).map("{:,} m".format)
                + " · "
                + result.nearest["walk_minutes_estimate"].round(0).astype(int).map("{} min".format),
                "Near?": result.nearest["within"].map({True: "yes", False: "no"}),
                "Nearest": result.nearest["name"],
            }
        )
        where = origin.get("label") or "the clicked point"  # escaped as HTML by the table
        _ui.html_table(table, caption=f"The nearest of each type to {where}", height=500)
        nearest = _people.public(result.nearest)  # the file is written when asked for, not on every rerun
        _ui.download("Nearest (CSV)", lambda: exports.csv_bytes(nearest), "nearest.csv", "text/csv")
        if result.not_mapped:
            st.caption(
                "Not in the data at all (so not known to be missing): "
                + ", ".join(_show.plain(tax.label(t)) for t in result.not_mapped)
            )

_ui.view_link(access.view_params(st.session_state.get("near_origin"), minutes))
