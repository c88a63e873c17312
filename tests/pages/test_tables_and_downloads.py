"""Quick at national scale (issue 14, item 5): tables send at most the first N rows with a count, and
downloads are built only when clicked, never on a rerun."""

from __future__ import annotations

import os

from streamlit.testing.v1 import AppTest

from geo.schema import PROJECT_ROOT
from tests.helpers import DEMO_ASSETS, html_tables


def _long_table():
    import pandas as pd

    from pages import _ui

    _ui.table(pd.DataFrame({"n": range(1234)}), limit=500, narrow="Choose fewer types.")
    _ui.table(pd.DataFrame({"n": range(20)}), limit=500)


def test_a_table_over_the_limit_shows_the_first_rows_and_says_how_many_there_are():
    at = AppTest.from_function(_long_table, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    long, short = at.dataframe
    assert list(long.value["n"]) == list(range(500))  # the first 500, in order
    assert len(short.value) == 20  # a short table is shown whole, with no line about it
    captions = [c.value for c in at.caption]
    assert captions == ["Showing the first 500 of 1,234 rows. Choose fewer types. The download has all 1,234."]


def _counted_download():
    import os
    from pathlib import Path

    import streamlit as st

    from pages import _ui

    def build() -> bytes:
        path = Path(os.environ["CG_TEST_BUILDS"])
        path.write_text(str(int(path.read_text() or 0) + 1))
        return b"a,b\n1,2\n"

    st.button("Rerun")
    _ui.download("Everything (CSV)", build, "everything.csv", "text/csv", key="dl")


def test_a_download_is_not_built_on_a_run_or_a_rerun(tmp_path, monkeypatch):
    builds = tmp_path / "builds.txt"
    builds.write_text("0")
    monkeypatch.setenv("CG_TEST_BUILDS", str(builds))
    at = AppTest.from_function(_counted_download, default_timeout=60)
    at.run()
    at.button[0].click().run()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    button = at.get("download_button")[0].proto
    assert button.label == "Everything (CSV)" and button.deferred_file_id  # a file made when it is clicked
    assert builds.read_text() == "0", "the file was built without a click"
    assert os.environ["CG_TEST_BUILDS"] == str(builds)


def test_explore_sends_at_most_the_table_limit_and_builds_no_file(monkeypatch):
    from geo.io import exports
    from pages import _ui

    calls: list[str] = []
    for name in ("csv_bytes", "geojson_bytes"):
        real = getattr(exports, name)
        monkeypatch.setattr(exports, name, lambda *a, _n=name, _f=real, **k: calls.append(_n) or _f(*a, **k))
    monkeypatch.setattr(_ui, "TABLE_ROWS", 100)
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=300)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(m.value == f"**{DEMO_ASSETS:,} assets shown**" for m in at.markdown)
    assets_table = max(html_tables(at), key=len)  # a plain HTML table (geo.web.tables)
    assert len(assets_table) == 100
    line = next(c.value for c in at.caption if c.value.startswith("Showing the first"))
    assert line.startswith(f"Showing the first 100 of {DEMO_ASSETS:,} rows. Narrow them with the categories")
    assert calls == [], "Explore wrote a download file on a run"
