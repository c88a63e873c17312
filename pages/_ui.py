"""The widgets every page shares: tables (names by role, at most 500 rows sent), downloads built when clicked,
a form's save, the link to a view, the area picker."""

from __future__ import annotations

import streamlit as st

from geo import textsafe
from geo.errors import CommonGroundError, VersionConflictError
from geo.web import links, tables
from pages import _layers, _people, _show


def save(
    action,
    message,
    *,
    clear: tuple[str, ...] = (),
    flash_key: str = "cg_flash",
    conflict_key: str | None = None,
    forget_prefix: str | None = None,
) -> bool:
    """Run one engine write (a callable) for a form.

    On success: drop ``clear`` and every session key starting with ``forget_prefix`` (a form's
    loaded snapshot), keep ``message`` (text, or a function of the write's result) for
    :func:`flash`, and rerun. On an engine error: show it with ``st.error`` and return False, so
    what was typed stays in the form. With ``conflict_key``, a save refused because someone else
    changed the feature first is kept under that key (``{"message", "id"}``) for the page to show
    above its form with a reload button.
    """
    try:
        result = action()
    except VersionConflictError as exc:
        if conflict_key is None:
            st.error(str(exc))
            return False
        st.session_state[conflict_key] = {"message": str(exc), "id": exc.feature_id}
        st.rerun()
    except CommonGroundError as exc:
        st.error(str(exc))
        return False
    forget = [k for k in st.session_state if forget_prefix and str(k).startswith(forget_prefix)]
    for key in (*forget, *([conflict_key] if conflict_key else []), *clear):
        st.session_state.pop(key, None)
    st.session_state[flash_key] = message(result) if callable(message) else message
    st.rerun()
    return True


def view_link(params: dict[str, object]) -> None:
    """Keep a page's state in the URL (``st.query_params``) and offer "Link to this view": the URL,
    with a copy button, that restores the same view in any browser. Empty values are left out."""
    from urllib.parse import urlencode, urlsplit, urlunsplit

    clean = {k: str(v) for k, v in params.items() if v is not None and str(v) != ""}
    if dict(st.query_params) != clean:
        st.query_params.from_dict(clean)
    base = st.context.url or ""
    parts = urlsplit(base)
    link = (
        urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(clean), "")) if base else "?" + urlencode(clean)
    )
    with st.expander("Link to this view", icon=":material/link:"):
        st.caption("Copy it to send someone exactly this view, or to come back to it.")
        st.html(links.copy_link_html(link), unsafe_allow_javascript=True)  # not st.code: see geo.web.links


#: The most rows a table sends to the browser on a run (a national store has 30,000 assets).
TABLE_ROWS = 500


def table(frame, *, limit: int | None = None, narrow: str = "", **kwargs) -> None:
    """``st.dataframe`` for any table of the store: people's names left out unless this session may
    see them, and every text cell guarded so that the table's own CSV download cannot run a formula
    in a spreadsheet (:func:`geo.textsafe.table_safe`; the geometry column is dropped).

    At most ``limit`` rows are sent (default :data:`TABLE_ROWS`): above it, the first ``limit`` are shown with a
    line that says how many there are, how to narrow them (``narrow``, e.g. "Choose fewer types or
    search by name") and that the page's download holds them all."""
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    frame = _first_rows(frame, limit, narrow)
    st.dataframe(textsafe.table_safe(_people.public(frame)), **kwargs)


def _first_rows(frame, limit: int | None, narrow: str):
    """At most ``limit`` rows (default :data:`TABLE_ROWS`), with a line saying how many there are,
    how to narrow them and that the download has them all."""
    total, limit = len(frame), TABLE_ROWS if limit is None else limit
    if total <= limit:
        return frame
    hint = (narrow.rstrip(". ") + ". ") if narrow else ""
    st.caption(f"Showing the first {limit:,} of {total:,} rows. {hint}The download has all {total:,}.")
    return frame.head(limit)


def html_table(frame, *, caption: str, limit: int | None = None, narrow: str = "", height: int | None = None,
               decimals: dict[str, int] | None = None) -> None:  # fmt: skip
    """:func:`table` as a plain HTML table (:func:`geo.web.tables.table_html`): for a page that must
    come up quickly (Explore, Near me), since the canvas grid's code is 1.2 MB for a browser to fetch and
    compile first, and read natively by screen readers. ``caption`` names it; ``height`` (pixels)
    makes it scroll within that height. The same rows, names by role and limit as :func:`table`."""
    frame = _first_rows(frame, limit, narrow)
    st.html(tables.table_html(_people.public(frame), caption=caption, max_height=height, decimals=decimals))


def bar_chart(values, *, caption: str, label_title: str, value_title: str) -> None:
    """A horizontal bar chart as a plain HTML table of bars with their values as text
    (:func:`geo.web.tables.bar_chart_html`): no Vega to load, and nothing rests on a bar's length.
    ``values``: a series, or a frame of up to two series side by side on one scale."""
    st.html(tables.bar_chart_html(values, caption=caption, label_title=label_title, value_title=value_title))


def download(label: str, build, file_name: str, mime: str, **kwargs) -> None:
    """A download button whose file is built by ``build()`` only when it is clicked (Streamlit's
    deferred download), never on a rerun: Explore's files of a national store are 70 MB. ``build``
    must use only what it was given (it runs later, outside this run).

    A click does not rerun the page (``on_click="ignore"``): nothing on the page changes when a file
    is saved, and a rerun raced the browser's request for the file (a download in CI never came)."""
    kwargs.setdefault("on_click", "ignore")
    st.download_button(label, build, file_name, mime, **kwargs)


def area_picker(prefix: str):
    """The area selectbox for the sidebar's boundary set; returns ``(layer, areas, area_row)``.

    The choice is kept per boundary set under ``{prefix}_area_{layer}``.
    """
    from geo.analysis import profiles

    name = _layers.boundary_choice()
    areas = _layers.layer(name)
    names = sorted(areas["name"].astype(str))
    key = f"{prefix}_area_{name}"
    if st.session_state.get(key) not in names:
        st.session_state[key] = names[0]
    chosen = st.selectbox(f"Area ({_layers.BOUNDARY_LABELS[name]})", names, key=key)
    try:
        return name, areas, profiles.find_area(areas, chosen, layer=name)
    except CommonGroundError as exc:
        _show.fail(exc)
        raise
