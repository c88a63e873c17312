"""About: what Common Ground is, the principles it follows, and where its data comes from."""

import pandas as pd
import streamlit as st

from geo import geocode
from geo.io import exports
from pages import _frame, _layers, _people, _show, _ui

_frame.ensure_frame()

st.title("About Common Ground")
st.markdown(
    """
Common Ground maps what a community **already has**, its assets, so that residents, community groups
and the organisations working with them can build on it. It follows Sheffield's *Resilient
Communities* framework, which asks everyone to work from a community's strengths:

1. **Start from the community's own aspirations.**
2. **Build on what the community is good at**, its assets, and explore gaps within that frame.
3. **Agree what success looks like** and join up the organisations working in the same place.
4. **One neighbourhood at a time**, with no set approach.
5. **Build the stories of success**, an evidence base others can learn from.

Resilient communities have a *sense of place*, *active citizens and networks*, *vibrant
organisations and resources*, and *strong local leadership*. Every asset type in Common Ground says
which of these it supports.
"""
)

st.header("Data sources and licences")
st.markdown(
    "The demo uses real open data about Sheffield. Each layer keeps its `source` and `licence` on "
    "every row; the table below gives the credit each source asks for."
)
sources = _layers.layer("sources")
if sources.empty:
    st.info("This store lists no sources. Rebuild the demo with `python data/build_demo.py` to restore them.")
else:
    shown = pd.DataFrame(
        {
            "Layer": sources["layer"],
            "Source": sources["source"],
            "Licence": sources["licence"],
            "Attribution": sources["attribution"],
            "Vintage": sources["vintage"],
            "Notes": sources["notes"],
            "Link": sources["url"],
        }
    )
    _ui.table(
        shown,
        hide_index=True,
        width="stretch",
        column_config={"Link": st.column_config.LinkColumn("Link")},
    )
    st.download_button("Sources (CSV)", exports.csv_bytes(_people.public(sources)), "sources.csv", "text/csv")
    st.markdown("**Attributions**")
    for text in dict.fromkeys(sources["attribution"].dropna()):
        st.markdown(f"- {_show.plain(text)}")
st.caption(
    "Basemap tiles, when shown, are © OpenStreetMap contributors (ODbL) and are the only thing the map "
    "fetches from the internet."
)
st.caption(
    "Postcodes that are not in this store's own table are looked up offline in OS Code-Point Open "
    f"(Great Britain; Open Government Licence v3.0). {geocode.CODE_POINT_OPEN_ATTRIBUTION}"
)

st.header("Asset taxonomy")
tax = _layers.taxonomy()
st.markdown(
    "Assets are grouped into the six families of asset-based community development. Types and their "
    "colours are data in the store (seeded from `data/taxonomy.json`): an import can add new types, no "
    "code needed, and every addition is in the history. People's skills are never mapped to a private address."
)
rows = [
    {
        "Type": t.label,
        "Category": tax.category(t.category).label,
        "Supports": ", ".join(tax.traits[tr] for tr in t.traits),
        "Themes": ", ".join(t.themes),
        "Colour": t.colour,
    }
    for t in tax.types.values()
]
_ui.table(pd.DataFrame(rows), hide_index=True, width="stretch")
