"""Data: bring a file in (preview, map its columns, validate, import all or nothing)."""

import json
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from geo import exports, imports, schema
from geo.errors import CommonGroundError
from pages import _ui

_ui.ensure_frame()

st.title("Bring your data")
st.caption(
    "Import a register of venues, a Shapefile from the GIS team or a GeoPackage from QGIS. Nothing is written "
    "until you have seen a preview and the checks pass, and then the whole file lands at once or not at all."
)

tax = _ui.taxonomy()
store = _ui.store()

with st.expander("Take data out: GeoPackage for QGIS (with the app's colours), Shapefile, KML, CSV, GeoJSON, HTML map"):
    e1, e2, e3, e4 = st.columns(4)
    out_layer = e1.selectbox("Layer", ["assets", "organisations", "wards", "lsoas", "neighbourhoods", "aspirations", "stories"], key="export_layer")
    out_fmt = e2.selectbox("Format", list(exports.FORMATS), format_func=exports.FORMATS.get, key="export_format")
    out_area = e3.text_input(f"Only in this area of {_ui.boundary_choice()} (optional)", key="export_area")
    out_type = e4.selectbox("Only this type (assets)", ["(all)"] + list(tax.types), format_func=lambda t: t if t.startswith("(") else tax.label(t), key="export_type")
    choice = (out_layer, out_fmt, out_area.strip(), out_type, _ui.boundary_choice(), store.version())
    if st.button("Prepare the file", key="export_prepare"):
        try:
            with st.spinner("Writing the file…"):
                data, filename = exports.export_bytes(
                    store, out_layer, fmt=out_fmt, area=out_area.strip() or None, boundaries=_ui.boundary_choice(),
                    type_id=None if out_type.startswith("(") or out_layer != "assets" else out_type, taxonomy=tax,
                )
            st.session_state["export_ready"] = (choice, data, filename)
        except CommonGroundError as exc:
            st.error(str(exc))
    ready = st.session_state.get("export_ready")
    if ready and ready[0] == choice:
        st.download_button(f"Download {ready[2]}", ready[1], ready[2], key="export_download")
        st.caption("Only active assets; people's names (who made each change) are left out.")
c1, c2 = st.columns([1, 2])
layer = c1.selectbox("Import into", imports.IMPORTABLE_LAYERS, key="import_layer", help="The layer the rows will join.")
upload = c2.file_uploader(
    "File", type=["csv", "txt", "geojson", "json", "zip", "gpkg", "kml"], key="import_file",
    help="CSV with lat/lon, easting/northing, x/y (give the CRS) or just a postcode column; GeoJSON; a zipped Shapefile; a GeoPackage; KML.",
)
with st.expander("Options: CRS, encoding, limits"):
    o1, o2 = st.columns(2)
    crs = o1.text_input("CRS of the coordinates, if the file does not say", key="import_crs", placeholder="e.g. EPSG:27700")
    encoding = o2.text_input("Text encoding of a CSV, if not UTF-8", key="import_encoding", placeholder="e.g. cp1252")

if upload is None:
    st.info(
        "Choose a file to start. Try `data/examples/` for clearly labelled example files, or export a layer from "
        "QGIS as GeoPackage. Column names such as name, type, address, postcode, lat and lon are recognised."
    )
    st.stop()

folder = Path(tempfile.mkdtemp(prefix="cg-upload-"))
path = imports.copy_upload(upload.getvalue(), upload.name, folder)
gpkg_layers = imports.source_layers(path)
source_layer = st.selectbox("Layer in the GeoPackage", gpkg_layers, key="import_source_layer") if len(gpkg_layers) > 1 else None
try:
    up = imports.read_upload(
        path, source_layer=source_layer, crs=crs.strip() or None, encoding=encoding.strip() or None, postcodes=_ui.postcodes()
    )
except CommonGroundError as exc:
    st.error(str(exc).replace("upload" + path.suffix, upload.name))
    st.stop()

st.subheader(f"1. Preview: {len(up.frame):,} rows")
for note in up.notes:
    st.caption(note)
preview = pd.DataFrame(up.frame.drop(columns=[up.frame.geometry.name])) if up.has_geometry else up.frame
if up.has_geometry:
    wgs = up.frame.to_crs(schema.STORAGE_CRS)
    if (wgs.geom_type == "Point").all():
        preview = preview.assign(lon=wgs.geometry.x.round(6), lat=wgs.geometry.y.round(6))
st.dataframe(preview.head(200), hide_index=True, width="stretch")

st.subheader("2. Match the file's columns")
columns = [c for c in preview.columns if c not in ("lon", "lat")]
suggested = imports.suggest_mapping(columns, layer)
spec = schema.layer_spec(layer)
targets = [c for c in spec.columns if c not in ("category", "source", "licence")]
mapping: dict[str, str] = {}
grid = st.columns(3)
for i, target in enumerate(targets):
    options = ["(none)"] + columns
    default = options.index(suggested[target]) if target in suggested else 0
    choice = grid[i % 3].selectbox(target, options, index=default, key=f"import_map_{layer}_{target}")
    if choice != "(none)":
        mapping[target] = choice

type_id = None
type_map: dict[str, str] = {}
add_to = None
if layer == "assets":
    whole = st.selectbox(
        "One type for every row (instead of a type column)", ["(use the type column)"] + list(tax.types),
        format_func=lambda t: t if t.startswith("(") else tax.label(t), key="import_whole_type",
    )
    type_id = None if whole.startswith("(") else whole
    if type_id is None and "type" in mapping:
        values = sorted(set(up.frame[mapping["type"]].dropna().astype(str).str.strip()))
        unknown = [v for v in values if v not in tax.types and v.casefold() not in {t.label.casefold() for t in tax.types.values()}]
        if unknown:
            st.markdown("**Types the taxonomy does not know**: map each to a known type, or add them as new types.")
            add_new = st.checkbox("Add the unmapped ones to the taxonomy", key="import_add_types")
            if add_new:
                add_to = st.selectbox("…under the category", list(tax.categories), format_func=lambda c: tax.category(c).label, key="import_add_cat")
            for v in unknown:
                target = st.selectbox(_ui.plain(v), ["(unmapped)"] + list(tax.types), format_func=lambda t: t if t.startswith("(") else tax.label(t), key=f"import_type_{v}")
                if not target.startswith("("):
                    type_map[v] = target

st.subheader("3. Check")
force = st.checkbox("Import likely duplicates and out-of-area points anyway", key="import_force")
keep_extra = st.checkbox("Keep the file's other columns (as new columns of the layer)", key="import_keep_extra")
actor = st.text_input("Your name or email (recorded with the change)", key="import_actor")
try:
    plan = imports.plan_import(
        up, layer=layer, store=store, mapping=mapping, type_id=type_id, type_map=type_map,
        add_types_to=add_to, force=force, keep_extra=keep_extra, actor=actor or "import",
    )
except CommonGroundError as exc:
    _ui.fail(exc)
report = plan.report
m1, m2, m3 = st.columns(3)
m1.metric("Rows read", report.rows_read)
m2.metric("Rows to import", report.rows_to_import)
m3.metric("Geometries repaired", report.repaired_geometries)
for err in report.errors:
    st.error(err)
for warn in report.warnings:
    st.warning(warn)
for note in report.notes[len(up.notes):]:  # what mapping did (the reading notes are shown with the preview)
    st.caption(note)
if report.ok:
    st.success(f"The checks passed: {report.rows_to_import:,} row(s) are ready to import into {layer}.")
st.download_button("Check report (JSON)", json.dumps(report.as_dict(), indent=2), "import-report.json", "application/json")

if st.button("Import", type="primary", disabled=not (report.ok and actor.strip()), key="import_go"):
    try:
        with st.status(f"Importing {report.rows_to_import:,} row(s) into {layer}…", expanded=False) as status:
            result = imports.apply_import(store, plan, actor=actor.strip())
            status.update(label="Imported, checked and saved", state="complete")
    except CommonGroundError as exc:
        st.error(str(exc))
    else:
        st.session_state["import_done"] = f"Imported {result.imported:,} row(s) into {layer} from {upload.name}."
        st.rerun()
if not actor.strip():
    st.caption("Type your name or email to enable the Import button.")
if done := st.session_state.pop("import_done", None):
    st.success(done + " They are on the map now.")
