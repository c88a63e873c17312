"""The Neighbourhood page offers the area's printable report (the same PDF as ``python -m geo report``),
built when the person clicks, never on a rerun of the page."""

from __future__ import annotations

import datetime as dt

from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from geo.io import report
from geo.schema import PROJECT_ROOT

TIMEOUT = 120
NEIGHBOURHOOD = str(PROJECT_ROOT / "pages" / "neighbourhood.py")


def test_neighbourhood_offers_the_report_built_on_click(private_store, monkeypatch):
    deferred: list[tuple] = []  # what the page left for a click: (callable, mime type, file name)
    register = MediaFileManager.add_deferred

    def spy(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        deferred.append((data_callable, mimetype, file_name))
        return register(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    built: list[str] = []
    real = report.report_pdf

    def counted(store, area, **options):
        built.append(area)
        return real(store, area, **options)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    monkeypatch.setattr(report, "report_pdf", counted)
    at = AppTest.from_file(NEIGHBOURHOOD, default_timeout=TIMEOUT)
    at.session_state["boundary_layer"] = "wards"
    at.session_state["profile_area_wards"] = "Firth Park"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.run()  # a rerun (a widget changed): still nothing built
    assert built == []

    buttons = [b for b in at.get("download_button") if b.proto.label.startswith("Printable report")]
    assert len(buttons) == 1 and buttons[0].proto.deferred_file_id  # a real download, generated on click
    # the page's CSV files are deferred too (built on click): the report is the PDF one
    data_callable, mimetype, file_name = next(d for d in reversed(deferred) if d[1] == "application/pdf")
    assert mimetype == "application/pdf"
    assert file_name == f"firth-park_ward_report_{dt.date.today().isoformat()}.pdf"
    data = data_callable()  # what a click runs
    assert data.startswith(b"%PDF") and built == ["E05010868"]
    assert 1 <= report.pdf_page_count(data) <= 4
