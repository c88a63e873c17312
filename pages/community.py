"""Aspirations and success: what the community wants for an area, and how partners will know it is working."""

import streamlit as st

from geo import community
from geo.analysis import areas as analysis
from pages import _community_forms, _frame, _layers, _people, _show, _ui

_frame.ensure_frame()

FLASH = "community_flash"

st.title("Aspirations and success")
st.caption(
    "Start from what the community wants for its area, in its own words. Then agree with the partners "
    "working there what success looks like, and record each new value as it comes in."
)

layer, areas, area = _ui.area_picker("community")
area_id, area_name = str(area["id"]), str(area["name"])

me = _people.principal()
# What a contributor sends waits for an editor; an editor's lands at once (geo.community decides).
REVIEW = "" if me.can("moderate") else " It shows here once an editor has checked it."
_show.flash(FLASH)


def save(action, message: str, clear: tuple[str, ...] = ()) -> None:
    _ui.save(action, message, clear=clear, flash_key=FLASH)


# ------------------------------------------------------------------ what the community wants
st.subheader(f"What the community wants for {area_name}")
aspirations = community.for_area(_layers.layer("aspirations"), boundary_layer=layer, area_id=area_id)
if aspirations.empty:
    st.info(
        f"No aspirations are recorded for {area_name} yet. Add the first one below: what a group in the "
        "community wants for the area, in its own words."
    )
else:
    _ui.table(community.aspirations_table(aspirations, _layers.layer("assets")), hide_index=True, width="stretch")

if not me.can("contribute"):
    st.caption("Sign in (top of the sidebar) to add an aspiration for this area.")
else:
    local_assets = analysis.assets_in_area(_layers.layer("assets"), areas, area_id, taxonomy=_layers.taxonomy())
    _community_forms.add_aspiration(
        layer, area_id, area_name, local_assets, me=me, save=save, review=REVIEW, expanded=aspirations.empty
    )

if aspirations.empty:
    st.stop()

# ------------------------------------------------------------------ what success looks like
st.subheader("What success looks like")
labels = {
    str(r.id): f"{str(r.text)[:80]} ({r.theme})"
    for r in aspirations.sort_values("raised_on", ascending=False).itertuples()
}
asp_key = f"community_asp_{area_id}"
if st.session_state.get(asp_key) not in labels:
    st.session_state[asp_key] = next(iter(labels))
asp_id = st.selectbox("Aspiration", list(labels), format_func=labels.get, key=asp_key)
measures = community.measures_for(_layers.layer("success_measures"), asp_id)
if measures.empty:
    st.info(
        "No success measures are agreed for this aspiration yet. Agree one with the partners working here and add it below."
    )
else:
    _ui.table(
        measures[["measure", "horizon", "baseline", "current", "target", "unit", "agreed_by", "agreed_on"]].rename(
            columns=str.capitalize
        ),
        hide_index=True,
        width="stretch",
    )

if not me.can("edit"):
    st.caption("Editors add the success measures that partners have agreed.")
else:
    _community_forms.add_success_measure(asp_id, me=me, save=save, expanded=measures.empty)

if measures.empty:
    st.stop()

# ------------------------------------------------------------------ progress
st.subheader("Progress")
mlabels = {str(r.id): f"{r.measure} ({r.horizon} term)" for r in measures.itertuples()}
m_key = f"community_measure_{asp_id}"
if st.session_state.get(m_key) not in mlabels:
    st.session_state[m_key] = next(iter(mlabels))
measure_id = st.selectbox("Success measure", list(mlabels), format_func=mlabels.get, key=m_key)
row = measures[measures["id"].astype(str) == measure_id]
progress = community.measure_progress(row, _layers.layer("measure_updates"))
last = progress.iloc[-1]
unit = "" if last["unit"] in ("", None) else f" {last['unit']}"
c1, c2, c3 = st.columns(3)
c1.metric("Baseline", f"{last['baseline']:g}{unit}")
c2.metric("Now", f"{last['value']:g}{unit}", f"{last['value'] - last['baseline']:+g} since agreed")
c3.metric(
    "Target",
    f"{last['target']:g}{unit}",
    None if last["progress"] != last["progress"] else f"{last['progress']:.0%} of the way",
)
chart = progress.set_index("date")[["value", "target"]].rename(columns={"value": "Value", "target": "Target"})
st.line_chart(chart, x_label="Date", y_label=str(last["unit"] or "Value"))
if (progress["kind"] == "update").any():
    _ui.table(
        progress[["date", "kind", "value", "note"]].rename(columns=str.capitalize),
        hide_index=True,
        width="stretch",
    )
else:
    st.caption("Only the baseline is recorded so far: add the first new value below.")

if not me.can("contribute"):
    st.caption("Sign in (top of the sidebar) to record a new value.")
    st.stop()
_community_forms.record_value(measure_id, me=me, save=save, review=REVIEW)
