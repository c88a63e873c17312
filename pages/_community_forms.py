"""The Aspirations and success page's forms: an aspiration, an agreed success measure, a new value.

Widgets only: every write goes through :mod:`geo.community` inside ``save`` (the page's wrapper of
:func:`pages._ui.save`). ``review`` is the sentence added when a contribution waits for an editor.
"""

import datetime as dt

import streamlit as st

from geo import community, schema
from pages import _layers


def add_aspiration(layer: str, area_id: str, area_name: str, local_assets: dict[str, str], *, me, save, review: str,
                   expanded: bool) -> None:  # fmt: skip
    with st.expander("Add an aspiration", expanded=expanded), st.form("aspiration_form"):
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
                    _layers.store(),
                    actor=me,
                    boundary_layer=layer,
                    area_id=area_id,
                    text=text,
                    theme=theme,
                    raised_by=raised_by,
                    raised_on=raised_on,
                    asset_ids=helpers,
                ),  # fmt: skip
                f"Aspiration added for {area_name}."
                if not review
                else f"Thank you: your aspiration for {area_name} was sent for review.{review}",
                ("asp_text", "asp_theme", "asp_raised_by"),
            )


def add_success_measure(asp_id: str, *, me, save, expanded: bool) -> None:
    with st.expander("Add an agreed success measure", expanded=expanded), st.form("measure_form"):
        measure = st.text_input(
            "What will be counted", key="m_measure", placeholder="e.g. households using the community fridge each week"
        )
        c1, c2, c3, c4 = st.columns(4)
        horizon = c1.selectbox("Horizon", schema.HORIZONS, key="m_horizon")
        baseline = c2.number_input("Baseline (now)", key="m_baseline", value=0.0)
        target = c3.number_input("Target", key="m_target", value=None, placeholder="required")
        current = c4.number_input("Current (if not the baseline)", key="m_current", value=None)
        c5, c6, c7 = st.columns(3)
        unit = c5.text_input("Unit", key="m_unit", placeholder="e.g. households")
        agreed_by = c6.text_input("Agreed by (partners)", key="m_agreed_by", placeholder="e.g. Firth Park partnership")
        agreed_on = c7.date_input("Agreed on", key="m_agreed_on", max_value=dt.date.today())
        if st.form_submit_button("Add success measure", key="m_submit"):
            save(
                lambda: community.add_success_measure(
                    _layers.store(),
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
                ),  # fmt: skip
                "Success measure added.",
                ("m_measure", "m_target", "m_current", "m_unit", "m_agreed_by"),
            )


def record_value(measure_id: str, *, me, save, review: str) -> None:
    with st.form("value_form"):
        st.markdown("**Record a new value**")
        c1, c2, c3 = st.columns([1, 1, 2])
        value = c1.number_input("Value", key="v_value", value=None, placeholder="required")
        recorded_on = c2.date_input("Recorded on", key="v_recorded_on", max_value=dt.date.today())
        note = c3.text_input("Note (optional)", key="v_note")
        if st.form_submit_button("Record value", key="v_submit"):
            save(
                lambda: community.record_measure_value(
                    _layers.store(), measure_id, actor=me, value=value, recorded_on=recorded_on, note=note
                ),
                "Value recorded; the history keeps every earlier value."
                if not review
                else f"Thank you: the value was sent for review.{review}",
                ("v_value", "v_note"),
            )
