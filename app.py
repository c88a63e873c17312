"""Common Ground: the frame. Page config, the shared sidebar, navigation over pages/. Nothing else."""

import streamlit as st

from pages import _ui

st.set_page_config(page_title="Common Ground", page_icon=":world_map:", layout="wide")
_ui.shared_sidebar()
page = st.navigation(
    [
        st.Page("pages/explore.py", title="Explore", icon=":material/map:", default=True),
        st.Page("pages/about.py", title="About", icon=":material/info:"),
    ]
)
page.run()
