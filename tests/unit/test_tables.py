"""Plain HTML tables and bar charts (geo.web.tables): what Explore shows beside its map."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from geo.web import tables

HOSTILE = '<script>alert(1)</script> {{ 7*7 }} "quoted" & <b>bold</b>'


def test_a_table_reads_back_as_the_frame_it_was_made_from():
    frame = pd.DataFrame(
        {
            "Name": ["Firth Park Library", HOSTILE, None],
            "Assets": pd.array([3, 1234567, None], dtype="Int64"),
            "Per 1,000": [0.0894, float("nan"), 12.5],
        }
    )
    html = tables.table_html(frame, caption="The assets shown on the map")
    [back] = tables.read_tables(html)
    assert list(back.columns) == ["Name", "Assets", "Per 1,000"]
    assert back["Name"].tolist() == ["Firth Park Library", HOSTILE, ""]  # text stays text
    assert back["Assets"].tolist() == ["3", "1,234,567", tables.NO_DATA]
    assert back["Per 1,000"].tolist() == ["0.09", tables.NO_DATA, "12.50"]


def test_user_text_never_becomes_markup():
    html = tables.table_html(pd.DataFrame({HOSTILE: [HOSTILE]}), caption=HOSTILE, max_height=200)
    assert "<script>" not in html and "<b>" not in html
    assert html.count("&lt;script&gt;") == 4  # the region's name, the caption, the header and the cell
    assert 'aria-label="&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }} &quot;quoted&quot;' in html
    chart = tables.bar_chart_html(pd.Series([1], index=[HOSTILE]), caption=HOSTILE, label_title="a", value_title="b")
    assert "<script>" not in chart and "&lt;script&gt;" in chart


def test_a_table_has_a_caption_column_headers_and_a_focusable_scroll_region():
    frame = pd.DataFrame({"Name": ["A"], "Population": [22347]})
    html = tables.table_html(frame, caption="Areas", max_height=420)
    assert '<caption class="cg-sr-only">Areas</caption>' in html
    assert '<th scope="col">Name</th>' in html and '<th scope="col" class="num">Population</th>' in html
    assert re.search(r'role="region" aria-label="Areas" tabindex="0" style="max-height:420px"', html)
    assert '<td class="num">22,347</td>' in html  # numbers right-aligned, with thousands separators
    shown = tables.table_html(frame, caption="Areas", show_caption=True)
    assert "<caption>Areas</caption>" in shown and "role=" not in shown  # no scrolling: no region


def test_an_empty_frame_is_an_empty_table_with_its_headers():
    html = tables.table_html(pd.DataFrame({"Name": pd.Series([], dtype="string")}), caption="None")
    [back] = tables.read_tables(html)
    assert list(back.columns) == ["Name"] and back.empty


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (pd.NA, ""),
        (float("nan"), ""),
        (True, "yes"),
        (np.int64(1500), "1,500"),
        (2.0, "2"),
        (2.345, "2.35"),
        (-0.5, "-0.50"),
        ("S5 8NJ", "S5 8NJ"),
    ],
)
def test_cell_text(value, text):
    assert tables.cell_text(value) == text


def test_bars_are_as_long_as_their_values_and_say_them_in_words():
    values = pd.Series([200, 50, 0, -3, float("nan")], index=["Health", "Food", "None", "Negative", "Unknown"])
    html = tables.bar_chart_html(values, caption="Assets by category", label_title="Category", value_title="Assets")
    [back] = tables.read_tables(html)
    assert list(back.columns) == ["Category", "Assets"]
    assert back["Category"].tolist() == ["Health", "Food", "None", "Negative", "Unknown"]
    assert back["Assets"].tolist() == ["200", "50", "0", "-3", tables.NO_DATA]  # every value as text
    widths = [float(w) for w in re.findall(r"width:calc\(\(100% - 5rem\) \* ([0-9.]+)\)", html)]
    assert widths == [1.0, 0.25, 0.0, 0.0, 0.0]  # in proportion to the largest; none for <= 0 or missing
    assert html.count('aria-hidden="true"') == 5  # the bars are a picture of the numbers beside them
    assert '<th scope="row">Health</th>' in html


def test_a_chart_of_nothing_but_zeros_draws_no_bar():
    html = tables.bar_chart_html(pd.Series([0, 0], index=["a", "b"]), caption="c", label_title="l", value_title="v")
    assert re.findall(r"\* ([0-9.]+)\)", html) == ["0.0000", "0.0000"]


def test_two_series_share_one_scale_and_each_has_its_own_headed_column():
    frame = pd.DataFrame(
        {"Firth Park": [2.0, 0.5, float("nan")], "All areas together": [1.0, 1.0, 0.25]},
        index=["Library", "GP practice", "Pharmacy"],
    )
    html = tables.bar_chart_html(frame, caption="Compared with all areas", label_title="Type", value_title="per 1,000")
    [back] = tables.read_tables(html)
    assert list(back.columns) == ["Type", "Firth Park", "All areas together"]  # the swatches carry no text
    assert back["Type"].tolist() == ["Library", "GP practice", "Pharmacy"]
    assert back["Firth Park"].tolist() == ["2", "0.50", tables.NO_DATA]
    assert back["All areas together"].tolist() == ["1", "1", "0.25"]
    widths = [float(w) for w in re.findall(r"width:calc\(\(100% - 5rem\) \* ([0-9.]+)\)", html)]
    assert widths == [1.0, 0.5, 0.25, 0.5, 0.0, 0.125]  # row by row, all against the largest value (2)
    colours = re.findall(r'class="cg-bar" aria-hidden="true" style="[^"]*background:(#[0-9a-f]{6})', html)
    assert colours == list(tables.SERIES_COLOURS) * 3
    assert "<caption>Compared with all areas" in html and "(per 1,000)" in html  # shown, with the unit
    assert html.count('<th scope="col">') == 3 and html.count('<th scope="row">') == 3


def test_a_chart_of_too_many_series_is_refused_and_hostile_series_names_stay_text():
    with pytest.raises(ValueError, match="at most 2 series"):
        tables.bar_chart_html(
            pd.DataFrame({"a": [1], "b": [2], "c": [3]}), caption="c", label_title="l", value_title="v"
        )
    html = tables.bar_chart_html(
        pd.DataFrame({HOSTILE: [1], "b": [2]}, index=[HOSTILE]),
        caption=HOSTILE,
        label_title=HOSTILE,
        value_title=HOSTILE,
    )
    assert "<script" not in html and "<img" not in html
