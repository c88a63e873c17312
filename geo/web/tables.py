"""Tables and bar charts as plain HTML: what a page shows where it must come up quickly.

Streamlit's ``st.dataframe`` is a canvas grid and ``st.bar_chart`` a Vega chart; a browser opening a
page with either first fetches and compiles their code (the grid and Arrow, 1.2 MB; Vega, 0.8 MB)
and renders them in tasks of 200-350 ms, while the page's map waits. On Explore that cost 0.8 s of
a demo cold load and 1.3 s on a national store (measured side by side, README, issue 14). A real
``<table>`` costs neither, and it is what screen readers read best: a caption, column headers
(``scope="col"``) and, in a chart, each bar's label as a row header with its value as text, so
that no figure rests on the bar's length alone.

Every value is escaped here (:func:`html.escape`), so user text stays text. The styles are the
app's stylesheet's (``static/app.css``: ``.cg-table``, ``.cg-bars``); a scrolling table sits in a
region that takes the keyboard's focus, so it can be scrolled without a mouse.
"""

from __future__ import annotations

import html
import math
import numbers
from collections.abc import Sequence

import pandas as pd

#: What a missing number says in a cell.
NO_DATA = "no data"


def cell_text(value: object, *, decimals: int = 2) -> str:
    """A cell's text: integers with thousands separators, other numbers to ``decimals`` places,
    a missing value as empty text (or :data:`NO_DATA` for a number column, see :func:`table_html`)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        v = float(value)
        if math.isnan(v):
            return ""
        return f"{v:,.0f}" if v.is_integer() and abs(v) < 1e15 else f"{v:,.{decimals}f}"
    return str(value)


def table_html(
    frame: pd.DataFrame,
    *,
    caption: str,
    show_caption: bool = False,
    max_height: int | None = None,
    decimals: dict[str, int] | None = None,
) -> str:
    """``frame`` (its columns, not its index) as an HTML table.

    Parameters
    ----------
    frame
        The rows to show, in order; send only as many as a person would read (see ``pages._ui``).
    caption
        What the table holds: its ``<caption>`` and, when it scrolls, its region's name. Shown when
        ``show_caption``, else read by screen readers only.
    max_height
        Pixels: the table scrolls within this height (its header stays in view); ``None`` grows.
    decimals
        Places per number column (default 2; whole numbers show none).

    Number columns are right-aligned; a missing number reads "no data".
    """
    decimals = decimals or {}
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]) for c in frame]
    head = "".join(
        ('<th scope="col" class="num">' if num else '<th scope="col">') + html.escape(str(c)) + "</th>"
        for c, num in zip(frame.columns, numeric, strict=True)
    )
    columns = []
    for c, num in zip(frame.columns, numeric, strict=True):
        places = decimals.get(c, 2)
        texts = [cell_text(v, decimals=places) for v in frame[c].tolist()]
        if num:
            columns.append(['<td class="num">' + (html.escape(t) if t else NO_DATA) + "</td>" for t in texts])
        else:
            columns.append(["<td>" + html.escape(t) + "</td>" for t in texts])
    body = "".join("<tr>" + "".join(cells) + "</tr>" for cells in zip(*columns, strict=True)) if columns else ""
    cap_class = "" if show_caption else ' class="cg-sr-only"'
    table = (
        f'<table class="cg-table"><caption{cap_class}>{html.escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )
    if max_height is None:
        return f'<div class="cg-table-wrap">{table}</div>'
    return (
        f'<div class="cg-table-wrap cg-scroll" role="region" aria-label="{html.escape(caption, quote=True)}" '
        f'tabindex="0" style="max-height:{int(max_height)}px">{table}</div>'
    )


#: The bars' colours, one per series in order: each keeps at least a 3:1 contrast with white
#: (WCAG 1.4.11; 5.7:1 and 5.0:1), blue and amber stay apart for colour-blind eyes, and a series is
#: also told by its column and its heading, never by colour alone.
SERIES_COLOURS = ("#1565c0", "#b45309")


def _bar_cell(value: float | None, top: float, colour: str) -> str:
    share = 0.0 if top <= 0 or value is None or math.isnan(value) or value <= 0 else value / top
    text = cell_text(value) or NO_DATA
    return (
        f'<td><span class="cg-bar" aria-hidden="true" style="width:calc((100% - 5rem) * {share:.4f});'
        f'background:{html.escape(colour)}"></span><span class="cg-bar-value">{html.escape(text)}</span></td>'
    )


def bar_chart_html(
    values: pd.Series | pd.DataFrame,
    *,
    caption: str,
    label_title: str,
    value_title: str,
    colour: str = SERIES_COLOURS[0],
) -> str:
    """A horizontal bar chart of ``values`` (index: the bars' labels, in order), as a table whose
    rows are the bars: each row's header is the label, its cell the bar and the value as text.

    ``values`` is one series, or a frame of several (its columns, e.g. an area and all areas): then
    each row has one bar per column, side by side in columns headed by the series' names with
    their colour (:data:`SERIES_COLOURS`), all on one scale, and the caption (``value_title`` says
    what the numbers are) is shown. ``label_title`` and ``value_title`` head the columns of one
    series (read by screen readers; the chart shows only the bars). Negative or missing values
    draw no bar and a missing one reads "no data". ``colour`` (one series) must keep a 3:1
    contrast with the page (WCAG 1.4.11); the default blue has 5.8:1 on white.
    """
    if isinstance(values, pd.DataFrame):
        return _bars_of_series(values, caption=caption, label_title=label_title, value_title=value_title)
    numbers_ = pd.to_numeric(values, errors="coerce")
    top = float(numbers_.max()) if len(numbers_) and numbers_.notna().any() else 0.0
    rows = [
        f'<tr><th scope="row">{html.escape(str(label))}</th>{_bar_cell(v, top, colour)}</tr>'
        for label, v in zip(values.index.tolist(), numbers_.tolist(), strict=True)
    ]
    return (
        f'<table class="cg-bars"><caption class="cg-sr-only">{html.escape(caption)}</caption>'
        f'<thead class="cg-sr-only"><tr><th scope="col">{html.escape(label_title)}</th>'
        f'<th scope="col">{html.escape(value_title)}</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _bars_of_series(frame: pd.DataFrame, *, caption: str, label_title: str, value_title: str) -> str:
    if len(frame.columns) > len(SERIES_COLOURS):
        raise ValueError(f"A bar chart shows at most {len(SERIES_COLOURS)} series; got {len(frame.columns)}.")
    numbers_ = frame.apply(pd.to_numeric, errors="coerce")
    top = float(numbers_.max().max()) if numbers_.notna().any().any() else 0.0  # as for one series
    head = "".join(
        f'<th scope="col"><span class="cg-swatch" aria-hidden="true" style="background:{colour}"></span>'
        f"{html.escape(str(name))}</th>"
        for name, colour in zip(frame.columns, SERIES_COLOURS, strict=False)
    )
    rows = []
    for label, row in zip(frame.index.tolist(), numbers_.itertuples(index=False, name=None), strict=True):
        cells = "".join(_bar_cell(v, top, c) for v, c in zip(row, SERIES_COLOURS, strict=False))
        rows.append(f'<tr><th scope="row">{html.escape(str(label))}</th>{cells}</tr>')
    return (
        f'<table class="cg-bars cg-bars-series"><caption>{html.escape(caption)} '
        f'<span class="cg-bars-unit">({html.escape(value_title)})</span></caption>'
        f'<thead><tr><th scope="col">{html.escape(label_title)}</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def read_tables(text: str) -> list[pd.DataFrame]:
    """The tables in HTML made here, read back as frames of text (header row: the columns), for
    tests and for anyone scraping a page: the inverse of :func:`table_html` up to formatting."""
    from html.parser import HTMLParser

    class _Reader(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.tables: list[list[list[str]]] = []
            self._row: list[str] | None = None
            self._cell: list[str] | None = None
            self._skip = 0

        def handle_starttag(self, tag: str, attrs: Sequence[tuple[str, str | None]]) -> None:
            if tag == "table":
                self.tables.append([])
            elif tag == "caption":
                self._skip += 1
            elif tag == "tr":
                self._row = []
            elif tag in ("td", "th") and self._row is not None:
                self._cell = []

        def handle_endtag(self, tag: str) -> None:
            if tag == "caption":
                self._skip -= 1
            elif tag in ("td", "th") and self._cell is not None and self._row is not None:
                self._row.append("".join(self._cell).strip())
                self._cell = None
            elif tag == "tr" and self._row is not None and self.tables:
                self.tables[-1].append(self._row)
                self._row = None

        def handle_data(self, data: str) -> None:
            if self._cell is not None and not self._skip:
                self._cell.append(data)

    reader = _Reader()
    reader.feed(text)
    return [pd.DataFrame(rows[1:], columns=rows[0]) if rows else pd.DataFrame() for rows in reader.tables]
