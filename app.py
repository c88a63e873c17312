"""Common Ground: the frame. Page config, the shared sidebar, navigation over pages/. Nothing else."""

import streamlit as st

from pages import _a11y, _frame, _registry

_frame.ensure_frame()
st.set_page_config(page_title="Common Ground", page_icon=":world_map:", layout="wide")
_a11y.inject_styles()
_frame.check_mode()
_frame.account_sidebar()
_frame.shared_sidebar()
_frame.local_banner()
page = st.navigation(
    [st.Page(f"pages/{p.file}", title=p.menu, icon=p.icon, default=p.url_path == "") for p in _registry.PAGES]
)
page.run()
