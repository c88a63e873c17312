"""Common Ground: the frame. Page config, the shared sidebar, navigation over pages/. Nothing else."""

import streamlit as st

from pages import _a11y, _ui

_ui.ensure_frame()
st.set_page_config(page_title="Common Ground", page_icon=":world_map:", layout="wide")
_a11y.inject_styles()
_ui.check_mode()
_ui.account_sidebar()
_ui.shared_sidebar()
_ui.local_banner()
page = st.navigation(
    [
        st.Page("pages/explore.py", title="Explore", icon=":material/map:", default=True),
        st.Page("pages/neighbourhood.py", title="Neighbourhood", icon=":material/holiday_village:"),
        st.Page("pages/near_me.py", title="Near me", icon=":material/near_me:"),
        st.Page("pages/gaps.py", title="Gaps", icon=":material/travel_explore:"),
        st.Page("pages/community.py", title="Aspirations and success", icon=":material/flag:"),
        st.Page("pages/join_up.py", title="Join up", icon=":material/handshake:"),
        st.Page("pages/stories.py", title="Stories of success", icon=":material/auto_stories:"),
        st.Page("pages/edit.py", title="Edit assets", icon=":material/edit_location_alt:"),
        st.Page("pages/data.py", title="Data", icon=":material/upload_file:"),
        st.Page("pages/about.py", title="About", icon=":material/info:"),
    ]
)
page.run()
