"""``python -m geo report``: the printable area report, checked as a reader would check it.

The PDF is rendered to PNG with ``pdftoppm`` (poppler-utils) and its text read with ``pdftotext``:
page 1 must show the area's name, its residents, what the community wants and a map; the pages are
A4, one to four; published rows only and no people's names; long user text stays on the page.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from geo.io import imports, report
from geo.schema import PROJECT_ROOT
from tests.helpers import InProcessCLI

EXAMPLES = PROJECT_ROOT / "data" / "examples"
EXAMPLE_LAYERS = [
    "organisations",
    "organisation_areas",
    "aspirations",
    "success_measures",
    "measure_updates",
    "stories",
]
A4_PT = (595.44, 841.68)  # 210 x 297 mm in points, as pdfinfo prints them
LONG_WORD = "Wadsley" * 40  # 280 letters without a space: must wrap, never run off the page
PENDING = "PENDING aspiration nobody has approved"
HOSTILE = "$x^2$ <b>bold</b> =SUM(A1) \u202eevil"


@pytest.fixture(autouse=True)
def _poppler():
    """poppler-utils renders and reads the PDF: skip without it, but fail under CI=true (.ci/run installs it)."""
    if not all(shutil.which(tool) for tool in ("pdftoppm", "pdftotext", "pdfinfo")):
        why = "poppler-utils is not installed (apt-get install poppler-utils)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(why + " [CI=true: the report tests need it]", pytrace=False)
        pytest.skip(why)


@pytest.fixture
def run(capfd, monkeypatch):
    """``run(ARGS)``: ``python -m geo report ARGS`` in this process."""
    cli = InProcessCLI(capfd, monkeypatch)
    return lambda *args: cli("report", *args)


@pytest.fixture
def community_store(gpkg_copy):
    """The demo with the example aspirations, measures and stories of Firth Park, a pending aspiration,
    one with a very long word and one with markup, and a person's name on every row it added."""
    for layer in EXAMPLE_LAYERS:
        imports.import_file(EXAMPLES / f"{layer}.csv", layer=layer, store=gpkg_copy, actor="kim.private@example.org")
    rows = [
        {"id": "asp-pending", "status": "pending", "text": PENDING},
        {"id": "asp-long", "status": "open", "text": f"A walk from {LONG_WORD} to the park"},
        {"id": "asp-hostile", "status": "open", "text": HOSTILE},
    ]
    with gpkg_copy.transaction(actor="kim.private@example.org") as tx:
        tx.insert(
            "aspirations",
            [{**r, "boundary_layer": "wards", "area_id": "E05010868", "theme": "community",
              "raised_by": "Firth Park Forum", "raised_on": "2026-11-01"} for r in rows],
        )  # fmt: skip
    return gpkg_copy


def _pdfinfo(path: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in out.splitlines() if ":" in line)}


def _text(path: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(["pdftotext", "-layout", *pages, str(path), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip


def _png(path: Path, page: int, tmp_path: Path) -> Path:
    stem = tmp_path / f"page{page}"
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", str(page), "-l", str(page), "-singlefile", str(path),
                    str(stem)], check=True)  # fmt: skip
    return stem.with_suffix(".png")


def _words_outside_page(path: Path) -> list[str]:
    """Words whose box runs past the page's right or bottom margin (pdftotext -bbox)."""
    html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True).stdout
    page_w = float(re.search(r'<page width="([\d.]+)"', html).group(1))
    page_h = float(re.search(r'<page width="[\d.]+" height="([\d.]+)"', html).group(1))
    margin = 0.3 * 72  # the report's margins are 0.6 inch; half of that is the limit
    words = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', html)
    return [w for x0, y0, x1, y1, w in words if float(x1) > page_w - margin or float(y1) > page_h - margin / 2]


def test_report_of_a_ward_is_a_short_a4_pdf_with_the_essentials_on_page_one(run, community_store, tmp_path):
    out = tmp_path / "firth-park.pdf"
    proc = run("--area", "Firth Park", "--boundaries", "wards", "--out", str(out), "--data",
               community_store.location, "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["area"] == {"layer": "wards", "id": "E05010868", "name": "Firth Park"}
    assert doc["format"] == "pdf" and doc["paper"] == "A4" and doc["size_bytes"] == out.stat().st_size
    assert out.read_bytes().startswith(b"%PDF")

    info = _pdfinfo(out)
    pages = int(info["Pages"])
    assert 1 <= pages <= 4 and doc["pages"] == pages
    w, h = (float(v) for v in re.findall(r"[\d.]+", info["Page size"])[:2])
    assert abs(w - A4_PT[0]) < 1 and abs(h - A4_PT[1]) < 1 and "A4" in info["Page size"]

    first = _text(out, 1)
    assert "Firth Park" in first and "22,347" in first  # the name and the residents
    assert "Deprivation".upper() in first and "IMD decile" in first  # population-weighted for a ward
    assert first.index("What the community wants") < first.index("What is here")  # aspirations first
    assert "Somewhere warm and welcoming to eat together" in first
    assert "Wadsley" in first  # the long word is there, wrapped

    everything = _text(out)
    for section in ("What is here, by type", "Gaps: types beyond a walk", "Agreed success measures and stories",
                    "Sources and licences"):  # fmt: skip
        assert section in everything
    assert "Population-weighted from the LSOAs" in everything  # says how deprivation was computed
    assert "Contains OS data" in everything and "Open Government Licence" in everything
    assert "Firth Park Library" in everything  # what is there, by name
    assert "A winter supper club grew out of the pantry queue" in everything  # a story
    # privacy: published rows only, never the names of people
    assert PENDING not in everything
    assert "kim.private" not in everything and "created_by" not in everything
    # user text is text: markup and formulas shown as typed, no mathtext
    assert "<b>bold</b>" in everything and "=SUM(A1)" in everything and "$x^2$" in everything
    assert _words_outside_page(out) == []

    # the map on page 1: the area's fill and the assets' colours are drawn
    img = Image.open(_png(out, 1, tmp_path)).convert("RGB")
    colours = img.getcolors(maxcolors=1_000_000)
    fill = sum(n for n, c in colours if all(abs(a - b) <= 6 for a, b in zip(c, (0xFF, 0xF4, 0xD6), strict=True)))
    gp = sum(n for n, c in colours if all(abs(a - b) <= 12 for a, b in zip(c, (0x00, 0x72, 0xB2), strict=True)))
    assert fill > 0.02 * img.width * img.height, fill  # the area's fill covers part of the page
    assert gp > 0  # GP practices, drawn in their type's colour


def test_report_names_the_area_and_the_file_after_it(community_store):
    data = report.report_pdf(community_store, "E05010868", boundaries="wards")
    assert data.startswith(b"%PDF") and 1 <= report.pdf_page_count(data) <= 4
    name = report.report_filename(
        {"layer": "wards", "name": "Firth Park"}, today=__import__("datetime").date(2026, 11, 29)
    )
    assert name == "firth-park_ward_report_2026-11-29.pdf"


@pytest.mark.parametrize(
    ("layer", "area"), [("lsoas", "Sheffield 008C"), ("neighbourhoods", "Burngreave"), ("wards", "City")]
)
def test_every_boundary_layer_reports(layer, area, demo_store, tmp_path):
    result = report.write_report(demo_store, area, out_path=tmp_path / "r.pdf", boundaries=layer)
    assert 1 <= result.pages <= 4 and result.area["layer"] == layer
    text = _text(result.path)
    assert area in text and "No aspirations are recorded" in text and "Sources and licences" in text
    if area == "City":  # the museums are in the city centre, credited as their source asks
        assert "Museum or gallery" in text and "Mapping Museums" in text


def test_a_long_area_name_wraps_and_a_crowded_area_stays_within_four_pages(demo_store, tmp_path, monkeypatch):
    long_name = "Upper " + "Very" * 30 + " Long Ward Name With Many Words To Wrap Across The Top Of The First Page"
    crowded = report.gather(demo_store, "City", boundaries="wards")
    crowded.area = {**crowded.area, "name": long_name}
    text = "An aspiration long enough to take two lines " * 3
    crowded.aspirations = crowded.aspirations.reindex(range(60)).assign(text=text)
    crowded.stories = crowded.stories.reindex(range(3)).assign(title="A story", summary="word " * 5000)
    monkeypatch.setattr(report, "MAX_ROWS", 500)  # lists shrink until the whole report, sources included, fits
    out = tmp_path / "crowded.pdf"
    out.write_bytes(report.render_pdf(crowded))
    assert int(_pdfinfo(out)["Pages"]) <= 4 and _words_outside_page(out) == []
    assert "VeryVery" in _text(out, 1)
    everything = _text(out)
    assert "more aspirations: the Neighbourhood page lists them all" in everything
    assert "Sources and licences" in everything and "Mapping Museums" in everything
    # the last resort: a report that cannot fit stops at the page limit and says so
    monkeypatch.setattr(report, "MAX_PAGES", 1)
    out.write_bytes(report.render_pdf(crowded))
    assert _pdfinfo(out)["Pages"] == "1" and _words_outside_page(out) == []
    assert "The report stops here to stay within 1 page;" in _text(out, 1)


def test_errors_are_one_sentence_and_write_nothing(run, demo_path, tmp_path):
    cases = [
        (["--area", "Atlantis", "--boundaries", "wards", "--out", str(tmp_path / "a.pdf")], "No area of wards"),
        (["--area", "City", "--boundaries", "counties", "--out", str(tmp_path / "b.pdf")], "no boundary layer"),
        (["--area", "City", "--out", str(tmp_path / "c.txt")], "name the output file with .pdf"),
        (["--area", "City", "--out", str(tmp_path / "missing" / "d.pdf")], "does not exist"),
    ]
    for args, words in cases:
        proc = run(*args, "--data", str(demo_path))
        assert proc.returncode == 2, proc.stderr
        assert proc.stdout == "" and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and words in proc.stderr, proc.stderr
    assert list(tmp_path.iterdir()) == []
