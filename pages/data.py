"""Data: bring a file in (preview, map its columns, validate, import all or nothing)."""

import json

import streamlit as st

from geo import auth, schema
from geo.errors import CommonGroundError
from geo.io import imports, reading
from pages import _data_admin, _data_export, _frame, _layers, _people, _show, _ui

_frame.ensure_frame()

st.title("Bring your data")
st.caption(
    "Import a register of venues, a Shapefile from the GIS team or a GeoPackage from QGIS. Nothing is written "
    "until you have seen a preview and the checks pass, and then the whole file lands at once or not at all."
)

tax = _layers.taxonomy()
store = _layers.store()

_data_export.export_panel(store, tax)
me = _people.principal()
if me.can("taxonomy"):
    _data_admin.admin_panel(store, tax, me)

if done := st.session_state.pop("import_done", None):
    st.success(done)
st.subheader("Bring data in")
if not _people.require_ui("upload", "upload a file"):
    st.stop()
limits = _people.roles_config().row_limits
if me.can("import"):
    layers_allowed = list(imports.IMPORTABLE_LAYERS)
    if not me.can("bulk_import") and limits.get(auth.Role.EDITOR) is not None:
        st.caption(f"Editors import up to {limits[auth.Role.EDITOR]:,} rows per file; admins can import bigger files.")
else:
    layers_allowed = ["assets"]
    st.caption(
        f"As a contributor you can propose up to {limits.get(auth.Role.CONTRIBUTOR) or 0:,} assets from a file; "
        "they wait for an editor to check them before they show on the map."
    )
c1, c2 = st.columns([1, 2])
layer = c1.selectbox("Import into", layers_allowed, key="import_layer", help="The layer the rows will join.")
upload = c2.file_uploader(
    "File",
    type=["csv", "txt", "geojson", "json", "zip", "gpkg", "kml"],
    key="import_file",
    help="CSV with lat/lon, easting/northing, x/y (give the CRS) or just a postcode column; GeoJSON; a zipped Shapefile; a GeoPackage; KML.",
)
with st.expander("Options: CRS, encoding, limits"):
    o1, o2 = st.columns(2)
    crs = o1.text_input(
        "CRS of the coordinates, if the file does not say", key="import_crs", placeholder="e.g. EPSG:27700"
    )
    encoding = o2.text_input("Text encoding of a CSV, if not UTF-8", key="import_encoding", placeholder="e.g. cp1252")

if upload is None:
    st.info(
        "Choose a file to start. Try `data/examples/` for clearly labelled example files, or export a layer from "
        "QGIS as GeoPackage. Column names such as name, type, address, postcode, lat and lon are recognised."
    )
    st.stop()

# The file is read once per file and options (not on every rerun), in a temporary folder that is
# removed at once; only the parsed result of the one current upload is kept in the session.
signature = (upload.file_id, crs.strip(), encoding.strip(), st.session_state.get("import_source_layer"))
parsed = st.session_state.get("_import_parsed")
if not parsed or parsed[0] != signature:
    try:
        with st.spinner(f"Reading {upload.name}…"):
            result = reading.parse_upload(
                upload.getvalue(),
                upload.name,
                source_layer=signature[3],
                crs=signature[1] or None,
                encoding=signature[2] or None,
                postcodes=_layers.postcodes(),
            )
    except CommonGroundError as exc:
        result = exc
    parsed = (signature, result)
    st.session_state["_import_parsed"] = parsed
if isinstance(parsed[1], CommonGroundError):
    _show.fail(parsed[1])
gpkg_layers, up = parsed[1]
if len(gpkg_layers) > 1:
    st.selectbox("Layer in the GeoPackage", gpkg_layers, key="import_source_layer")

st.subheader(f"1. Preview: {len(up.frame):,} rows")
for note in up.notes:
    st.caption(note)
_ui.table(up.preview(200), hide_index=True, width="stretch")

st.subheader("2. Match the file's columns")
columns = up.columns
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
        "One type for every row (instead of a type column)",
        ["(use the type column)"] + list(tax.types),
        format_func=lambda t: t if t.startswith("(") else tax.label(t),
        key="import_whole_type",
    )
    type_id = None if whole.startswith("(") else whole
    if type_id is None and "type" in mapping:
        unknown = tax.unknown(up.frame[mapping["type"]])
        if unknown:
            st.markdown("**Types the taxonomy does not know**: map each to a known type, or add them as new types.")
            add_new = me.can("taxonomy") and st.checkbox(
                "Add the unmapped ones to the taxonomy", key="import_add_types"
            )
            if add_new:
                add_to = st.selectbox(
                    "…under the category",
                    list(tax.categories),
                    format_func=lambda c: tax.category(c).label,
                    key="import_add_cat",
                )
            for v in unknown:
                target = st.selectbox(
                    _show.plain(v),
                    ["(unmapped)"] + list(tax.types),
                    format_func=lambda t: t if t.startswith("(") else tax.label(t),
                    key=f"import_type_{v}",
                )
                if not target.startswith("("):
                    type_map[v] = target

st.subheader("3. Check")
allow_dups = st.checkbox("Import likely duplicates anyway", key="import_allow_duplicates")
allow_outside = st.checkbox("Import points outside this store's area anyway", key="import_allow_outside")
skip_invalid = st.checkbox("Skip rows without a location (they are listed)", key="import_skip_invalid")
keep_extra = st.checkbox("Keep the file's other columns (as new columns of the layer)", key="import_keep_extra")
try:
    plan = imports.plan_import(
        up,
        layer=layer,
        store=store,
        mapping=mapping,
        type_id=type_id,
        type_map=type_map,
        add_types_to=add_to,
        allow_outside_area=allow_outside,
        allow_duplicates=allow_dups,
        skip_invalid=skip_invalid,
        keep_extra=keep_extra,
        actor=me.actor,
    )
except CommonGroundError as exc:
    _show.fail(exc)
report = plan.report
m1, m2, m3 = st.columns(3)
m1.metric("Rows read", report.rows_read)
m2.metric("Rows to import", report.rows_to_import)
m3.metric("Geometries repaired", report.repaired_geometries)
for err in report.errors:
    st.error(err)
for warn in report.warnings:
    st.warning(warn)
for note in report.notes[len(up.notes) :]:  # what mapping did (the reading notes are shown with the preview)
    st.caption(note)
if report.ok:
    st.success(f"The checks passed: {report.rows_to_import:,} row(s) are ready to import into {layer}.")
st.download_button(
    "Check report (JSON)", json.dumps(report.as_dict(), indent=2), "import-report.json", "application/json"
)

label = "Import" if me.can("import") else "Send for review"
if st.button(label, type="primary", disabled=not report.ok, key="import_go"):
    try:
        with st.status(f"Importing {report.rows_to_import:,} row(s) into {layer}…", expanded=False) as status:
            result = imports.apply_import(store, plan, actor=me, row_limits=limits)
            status.update(label="Imported, checked and saved", state="complete")
    except CommonGroundError as exc:
        st.error(str(exc))
    else:
        where = "They are on the map now." if me.can("import") else "They show once an editor has approved them."
        st.session_state["import_done"] = (
            f"Imported {result.imported:,} row(s) into {layer} from {upload.name}. {where}"
        )
        st.session_state.pop("_import_parsed", None)
        st.rerun()
