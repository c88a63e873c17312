"""The Data page's export panel: a layer (filtered by area and type) as a file, prepared on request."""

import streamlit as st

from geo import schema
from geo.errors import CommonGroundError
from geo.io import exports
from pages import _layers


def export_panel(store, tax) -> None:
    with st.expander(
        "Take data out: GeoPackage for QGIS (with the app's colours), Shapefile, KML, CSV, GeoJSON, HTML map"
    ):
        bounds = _layers.boundary_choice()
        e1, e2, e3, e4 = st.columns(4)
        out_layer = e1.selectbox(
            "Layer",
            ["assets", "organisations", "wards", "lsoas", "neighbourhoods", "aspirations", "stories"],
            key="export_layer",
        )
        out_fmt = e2.selectbox("Format", list(exports.FORMATS), format_func=exports.FORMATS.get, key="export_format")
        places = _layers.areas(bounds)  # picked from a list: LSOAs named with their ward, exported by id
        place_names = dict(zip(places["id"].astype(str), places["name"].astype(str), strict=True))
        out_area = e3.selectbox(
            f"Only in this area ({_layers.BOUNDARY_LABELS[bounds]})",
            ["(all areas)", *sorted(place_names, key=place_names.get)],
            format_func=lambda a: place_names.get(a, a),
            key=f"export_area_{bounds}",
        )
        out_type = e4.selectbox(
            "Only this type (assets)",
            ["(all)"] + list(tax.types),
            format_func=lambda t: t if t.startswith("(") else tax.label(t),
            key="export_type",
        )
        if out_fmt in exports.REPROJECTABLE:
            out_crs = st.radio(
                "Coordinates", list(exports.CRS_CHOICES), format_func=lambda c: f"{c}: {exports.CRS_CHOICES[c]}",
                horizontal=True, key="export_crs",
            )  # fmt: skip
        else:
            out_crs = schema.STORAGE_CRS
            st.caption(f"{exports.FORMATS[out_fmt]} is always in EPSG:4326 (longitude/latitude).")
        area_id = None if out_area.startswith("(") else out_area
        choice = (out_layer, out_fmt, area_id, out_type, bounds, out_crs, store.version())
        if st.button("Prepare the file", key="export_prepare"):
            try:
                with st.spinner("Writing the file…"):
                    data, filename = exports.export_bytes(
                        store,
                        out_layer,
                        fmt=out_fmt,
                        area=area_id,
                        boundaries=bounds,
                        type_id=None if out_type.startswith("(") or out_layer != "assets" else out_type,
                        taxonomy=tax,
                        crs=out_crs,
                    )
                st.session_state["export_ready"] = (choice, data, filename)
            except CommonGroundError as exc:
                st.error(str(exc))
        ready = st.session_state.get("export_ready")
        if ready and ready[0] == choice:
            st.download_button(f"Download {ready[2]}", ready[1], ready[2], key="export_download")
            st.caption("Only active assets; people's names (who made each change) are left out.")
