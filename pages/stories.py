"""Stories of success: the evidence base of what worked, where, and how others could do it too."""

import datetime as dt

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo import community
from pages import _frame, _layers, _map, _people, _show, _ui

_frame.ensure_frame()

FLASH = "stories_flash"
ANY = "(any)"

st.title("Stories of success")
st.caption(
    "Build stories of success as an evidence base: what happened, where, who was involved, what changed, "
    "and how others could do it too. Search them, see them on the map, and download one as a one-page report."
)

layer = _layers.boundary_choice()
areas = _layers.layer(layer)
area_names = dict(zip(areas["id"].astype(str), areas["name"].astype(str), strict=False))
by_name = sorted(area_names, key=lambda i: area_names[i].casefold())
stories = community.visible(_layers.layer("stories"))  # published stories only; editors review the rest on Edit assets
assets, orgs = _layers.layer("assets"), _layers.layer("organisations")

me = _people.principal()
if st.session_state.get(FLASH):
    st.success(st.session_state.pop(FLASH))

themes = sorted({t for v in stories["themes"] for t in community.split_themes(v)})
with st.container(border=True):
    c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
    text = c1.text_input("Search", key="stories_text", placeholder="words in the title, story, method or outcome")
    theme = c2.selectbox("Theme", [ANY, *themes], key="stories_theme")
    method = c3.text_input("Method", key="stories_method", placeholder="e.g. asset mapping walk")
    area = c4.selectbox(
        f"Area ({layer})", [ANY, *by_name], key=f"stories_area_{layer}", format_func=lambda i: area_names.get(i, i)
    )
found = community.search_stories(
    stories, text=text, theme=None if theme == ANY else theme, method=method, area_id=None if area == ANY else area
)

if stories.empty:
    st.info(
        "No stories are recorded yet. Add the first one below: what happened, where, who was involved, and "
        "how others could do it too. (data/examples/ has example stories to import and try.)"
    )
elif found.empty:
    st.info("No story matches these filters; clear the search words or set Theme and Area back to (any).")
else:
    st.caption(f"{len(found)} of {len(stories)} stories match.")
    placed = found[found.geometry.notna() & ~found.geometry.is_empty]
    if len(placed):
        points = gpd.GeoDataFrame(
            {"id": placed["id"], "name": placed["title"], "type": "Story", "address": placed["summary"], "url": ""},
            geometry=placed.geometry,
            crs=placed.crs,
        )
        tax = _layers.taxonomy()
        fmap = _map.asset_map(points, taxonomy=tax, boundaries=areas, boundary_name=_layers.BOUNDARY_LABELS[layer])
        st_folium(fmap, key=f"stories_map_{layer}", height=380, use_container_width=True, returned_objects=[])
    if len(placed) < len(found):
        st.caption(f"{len(found) - len(placed)} of these stories have no point, so they are not on the map.")
    for s in found.itertuples():
        where = area_names.get(str(s.area_id), str(s.area_id))
        with st.expander(f"{_show.plain(s.title)} ({_show.plain(s.date)}, {_show.plain(where)})"):
            st.markdown(f"*{_show.plain(s.summary)}*")
            facts = {
                "Themes": s.themes,
                "Method (what others could reuse)": s.method,
                "What changed": s.outcome,
                "Source": s.source,
            }
            for label, value in facts.items():
                if pd.notna(value) and str(value).strip():
                    st.markdown(f"**{label}:** {_show.plain(value)}")
            if pd.notna(s.body) and str(s.body).strip():
                st.text(str(s.body))
            row = found.loc[s.Index]
            c1, c2 = st.columns(2)
            for col, fmt, ext, mime in ((c1, "markdown", "md", "text/markdown"), (c2, "html", "html", "text/html")):
                report = community.story_report(row, fmt=fmt, assets=assets, organisations=orgs, area_name=where)
                col.download_button(
                    f"Report ({'Markdown' if fmt == 'markdown' else 'HTML'})",
                    report.encode("utf-8"),
                    f"story-{s.id}.{ext}",
                    mime,
                    key=f"story_{fmt}_{s.id}",
                )

st.subheader("Add a story")
if not _people.require_ui("contribute", "add a story"):
    st.stop()
if not me.can("moderate"):
    st.caption("Your story is checked by an editor before it shows here.")
asset_label = dict(zip(assets["id"].astype(str), assets["name"].astype(str), strict=False))
org_label = dict(zip(orgs["id"].astype(str), orgs["name"].astype(str), strict=False))
with st.form("story_form"):
    title = st.text_input("Title", key="s_title")
    summary = st.text_area("Summary (a sentence or two)", key="s_summary", height=80)
    body = st.text_area("The story", key="s_body")
    c1, c2 = st.columns(2)
    s_area = c1.selectbox(
        f"Where ({layer})",
        by_name,
        key="s_area",
        format_func=lambda i: area_names.get(i, i),
        index=by_name.index(area) if area in by_name else 0,
    )
    s_date = c2.date_input("When", key="s_date", max_value=dt.date.today())
    s_assets = c1.multiselect("Assets it built on", list(asset_label), format_func=asset_label.get, key="s_assets")
    s_orgs = c2.multiselect("Organisations involved", list(org_label), format_func=org_label.get, key="s_orgs")
    s_themes = c1.text_input("Themes (comma-separated)", key="s_themes", placeholder="e.g. food, health")
    s_source = c2.text_input(
        "Source (who told it)", key="s_source", placeholder="e.g. Firth Park Residents' Association"
    )
    s_method = st.text_area("Method: how it was done, what others could reuse", key="s_method", height=80)
    s_outcome = st.text_area("Outcome: what changed", key="s_outcome", height=80)
    c3, c4 = st.columns(2)
    lon = c3.number_input(
        "Longitude (optional)",
        value=None,
        format="%.5f",
        key="s_lon",
        help="Leave empty to use the first asset's point.",
    )
    lat = c4.number_input("Latitude (optional)", value=None, format="%.5f", key="s_lat")
    if st.form_submit_button("Add story", key="s_submit"):
        _ui.save(
            lambda: community.add_story(
                _layers.store(),
                actor=me,
                title=title,
                summary=summary,
                body=body,
                boundary_layer=layer,
                area_id=s_area,
                asset_ids=s_assets,
                organisation_ids=s_orgs,
                themes=s_themes,
                method=s_method,
                outcome=s_outcome,
                date=s_date,
                source=s_source,
                lon=lon,
                lat=lat,
            ),
            f"Story added: {_show.plain(title)}."
            if me.can("moderate")
            else f"Thank you: {_show.plain(title)} was sent for review; it shows here once an editor has checked it.",
            clear=(
                "s_title",
                "s_summary",
                "s_body",
                "s_assets",
                "s_orgs",
                "s_themes",
                "s_method",
                "s_outcome",
                "s_lon",
                "s_lat",
            ),
            flash_key=FLASH,
        )
