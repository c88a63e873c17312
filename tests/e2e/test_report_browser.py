"""The Neighbourhood page's printable report, downloaded in a real browser: the click builds the PDF
(a deferred download) and the file is the area's A4 report, named after what it holds."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest

from geo.io import report
from tests.e2e.conftest import TIMEOUT_MS, AppPage

pytestmark = pytest.mark.e2e


def test_neighbourhood_report_downloads_the_areas_pdf(app_page: AppPage, tmp_path) -> None:
    app = app_page
    page = app.page
    page.goto(app.server.url + "/neighbourhood?boundaries=wards&area=E05010868", wait_until="domcontentloaded")
    page.get_by_role("heading", name="One neighbourhood at a time").wait_for()
    button = page.get_by_role("button", name="Printable report (PDF, A4)")
    button.wait_for()
    with page.expect_download(timeout=TIMEOUT_MS) as info:
        button.click()
    download = info.value
    assert download.suggested_filename == f"firth-park_ward_report_{dt.date.today().isoformat()}.pdf"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    data = path.read_bytes()
    assert data.startswith(b"%PDF") and 1 <= report.pdf_page_count(data) <= 4
    if shutil.which("pdftotext"):
        first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(path), "-"], capture_output=True, text=True,
                               check=True).stdout  # fmt: skip
        assert "Firth Park" in first and "22,347" in first and "What the community wants" in first
    problems = [p for p in app.watch.problems() if "/neighbourhood/_stcore/" not in p]
    assert not problems, app.fail_message("\n".join(problems))
