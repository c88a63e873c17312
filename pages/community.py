"""Aspirations and success: what the community wants for an area, and how partners will know it is working."""

import datetime as dt

import streamlit as st

from geo import community, schema
from geo.analysis import areas as analysis
from pages import _ui

_ui.ensure_frame()

FLASH = "community_flash"

st.title("Aspirations and success")
st.caption(
    "Start from what the community wants for its area, in its own words. Then agree with the partners "
    "working there what success looks like, and record each new value as it comes in."
)

layer, areas, area = _ui.area_picker("community")
area_id, area_name = str(area["id"]), str(area["name"])

me = _ui.principal()
# What a contributor sends waits for an editor; an editor's lands at once (geo.community decides).
REVIEW = "" if me.can("moderate") else " It shows here once an editor has checked it."
_ui.flash(FLASH)


def save(action, message: str, clear: tuple[str, ...] = ()) -> None:
    _ui.save(action, message, clear=clear, flash_key=FLASH)


# ------------------------------------------------------------------ what the community wants
st.subheader(f"What the community wants for {area_name}")
aspirations = community.for_area(_ui.layer("aspirations"), boundary_layer=layer, area_id=area_id)
if aspirations.empty:
    st.info(
        f"No aspirations are recorded for {area_name} yet. Add the first one below: what a group in the "
        "community wants for the area, in its own words."
    )
else:
    aspirations = aspirations.sort_values("raised_on", ascending=False)
    names_by_id = dict(zip(_ui.layer("assets")["id"], _ui.layer("assets")["name"], strict=True))
    linked = (
        aspirations["asset_ids"]
        .fillna("")
        .map(lambda ids: ", ".join(names_by_id.get(i.strip(), i.strip()) for i in str(ids).split(",") if i.strip()))
    )
    _ui.table(
        aspirations[["text", "theme", "raised_by", "raised_on", "status"]]
        .assign(helps=linked)
        .rename(
            columns={
                "text": "Aspiration",
                "theme": "Theme",
                "raised_by": "Raised by",
                "raised_on": "Raised on",
                "status": "Status",
                "helps": "Assets that could help",
            }
        ),
        hide_index=True,
        width="stretch",
    )

all_assets = analysis.filter_assets(_ui.layer("assets"))
here = all_assets[analysis.area_of_each(all_assets, areas) == area_id]
local_assets = dict(zip(here["id"], here["name"] + " (" + here["type"].map(_ui.taxonomy().label) + ")", strict=True))
if not me.can("contribute"):
    st.caption("Sign in (top of the sidebar) to add an aspiration for this area.")
else:
    with st.expander("Add an aspiration", expanded=aspirations.empty):
        with st.form("aspiration_form"):
            text = st.text_area("What does the community want? (in its words)", key="asp_text")
            c1, c2, c3 = st.columns(3)
            theme = c1.text_input("Theme", key="asp_theme", placeholder="e.g. food, green space")
            raised_by = c2.text_input(
                "Raised by (a group)",
                key="asp_raised_by",
                placeholder="e.g. Firth Park Residents' Association",
                help="A group, never a private person: no personal emails or phone numbers.",
            )
            raised_on = c3.date_input("Raised on", key="asp_raised_on", max_value=dt.date.today())
            helpers = st.multiselect(
                "Assets here that could help achieve it (start from what the area has)",
                list(local_assets),
                format_func=local_assets.get,
                key="asp_assets",
            )
            if st.form_submit_button("Add aspiration", key="asp_submit"):
                save(
                    lambda: community.add_aspiration(
                        _ui.store(),
                        actor=me,
                        boundary_layer=layer,
                        area_id=area_id,
                        text=text,
                        theme=theme,
                        raised_by=raised_by,
                        raised_on=raised_on,
                        asset_ids=helpers,
                    ),
                    f"Aspiration added for {area_name}."
                    if not REVIEW
                    else f"Thank you: your aspiration for {area_name} was sent for review.{REVIEW}",
                    ("asp_text", "asp_theme", "asp_raised_by"),
                )

if aspirations.empty:
    st.stop()

# ------------------------------------------------------------------ what success looks like
st.subheader("What success looks like")
labels = {str(r.id): f"{str(r.text)[:80]} ({r.theme})" for r in aspirations.itertuples()}
asp_key = f"community_asp_{area_id}"
if st.session_state.get(asp_key) not in labels:
    st.session_state[asp_key] = next(iter(labels))
asp_id = st.selectbox("Aspiration", list(labels), format_func=labels.get, key=asp_key)
all_measures = _ui.layer("success_measures")
measures = all_measures[all_measures["aspiration_id"].astype(str) == asp_id]
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
    with st.expander("Add an agreed success measure", expanded=measures.empty):
        with st.form("measure_form"):
            measure = st.text_input(
                "What will be counted",
                key="m_measure",
                placeholder="e.g. households using the community fridge each week",
            )
            c1, c2, c3, c4 = st.columns(4)
            horizon = c1.selectbox("Horizon", schema.HORIZONS, key="m_horizon")
            baseline = c2.number_input("Baseline (now)", key="m_baseline", value=0.0)
            target = c3.number_input("Target", key="m_target", value=None, placeholder="required")
            current = c4.number_input("Current (if not the baseline)", key="m_current", value=None)
            c5, c6, c7 = st.columns(3)
            unit = c5.text_input("Unit", key="m_unit", placeholder="e.g. households")
            agreed_by = c6.text_input(
                "Agreed by (partners)", key="m_agreed_by", placeholder="e.g. Firth Park partnership"
            )
            agreed_on = c7.date_input("Agreed on", key="m_agreed_on", max_value=dt.date.today())
            if st.form_submit_button("Add success measure", key="m_submit"):
                save(
                    lambda: community.add_success_measure(
                        _ui.store(),
                        actor=me,
                        aspiration_id=asp_id,
                        measure=measure,
                        horizon=horizon,
                        baseline=baseline,
                        target=target,
                        current=current,
                        unit=unit,
                        agreed_by=agreed_by,
                        agreed_on=agreed_on,
                    ),
                    "Success measure added.",
                    ("m_measure", "m_target", "m_current", "m_unit", "m_agreed_by"),
                )

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
progress = community.measure_progress(row, _ui.layer("measure_updates"))
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
with st.form("value_form"):
    st.markdown("**Record a new value**")
    c1, c2, c3 = st.columns([1, 1, 2])
    value = c1.number_input("Value", key="v_value", value=None, placeholder="required")
    recorded_on = c2.date_input("Recorded on", key="v_recorded_on", max_value=dt.date.today())
    note = c3.text_input("Note (optional)", key="v_note")
    if st.form_submit_button("Record value", key="v_submit"):
        save(
            lambda: community.record_measure_value(
                _ui.store(), measure_id, actor=me, value=value, recorded_on=recorded_on, note=note
            ),
            "Value recorded; the history keeps every earlier value."
            if not REVIEW
            else f"Thank you: the value was sent for review.{REVIEW}",
            ("v_value", "v_note"),
        )
