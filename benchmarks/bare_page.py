"""A bare Streamlit page: one title and one line of text, nothing of Common Ground's.

``benchmarks/page_speed.py`` serves it with the project's own ``.streamlit/config.toml`` and measures
its cold load and longest main-thread task beside Explore's: Streamlit's own floor.
"""

import streamlit as st

st.title("A bare Streamlit page")
st.write("One line of text.")
