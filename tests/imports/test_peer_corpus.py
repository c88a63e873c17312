"""The peer corpus: 107 real files from the test suites of GDAL, Fiona, pyogrio, sf, pyshp and georust.

Every one must end cleanly through ``python -m geo import FILE --layer assets`` (run in-process
through ``geo.cli.main``): imported (exit 0), or refused with one plain sentence on stderr (exit 2)
and the store unchanged. Exit 1 means a bug. No library warning reaches the user raw. Where the
refusal asks for something a flag can give (a type, a CRS, a name column, a layer, forcing points
outside the area), the file is imported once more with it, as a user would, and must again end
cleanly. The corpus lives outside the repository (``../shared/data/peer-corpus``, see its
``MANIFEST.txt``); without it the test is skipped.

Polygons and lines (43 files: parks, buildings, roads, rivers from the suites) are assets with
shapes since issue 12 item 4: they import, each as a point inside its shape with its outline in
``asset_outlines``, where before they were refused ("assets holds points"). A refusal now never
names the geometry type as the reason, except for collections and multipoints, which are not one
place each.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
import shapely

from geo import outlines
from geo.cli import main
from geo.io import imports, reading
from tests.conftest import ROOT
from tests.helpers import store_digest

CORPUS = ROOT.parent / "shared" / "data" / "peer-corpus"
FILES = (
    sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*") if p.is_file() and p.name != "MANIFEST.txt")
    if CORPUS.is_dir()
    else []
)

#: Text of library warnings that must never reach stderr raw.
RAW = ("Z=2 hint", "More than one layer found", "application_id", "Measured (M) geometry", "notna()", "isna()",
       "Warning", "Traceback", "ParseException", "WKB type", "index 0 is out of bounds")  # fmt: skip

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not FILES, reason=f"the peer corpus is not at {CORPUS}: fetch ../shared/data/peer-corpus to run this test"
    ),
]


@pytest.fixture(scope="module")
def demo_digest(demo_path) -> str:
    return store_digest(demo_path)


def _run(argv: list[str], capfd) -> tuple[int, str, str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(argv)
    out, err = capfd.readouterr()
    leaked = [str(w.message) for w in caught]
    assert not leaked, f"library warnings escaped the import: {leaked}"
    return code, out, err


def _name_column(path) -> str | None:
    """A text column to map onto name, as a user would choose one (None when the file has none)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            up = reading.read_upload(path, crs="EPSG:4326", source_layer=reading.ALL_LAYERS)
    except imports.ImportFileError:
        return None
    geom = up.frame.geometry.name if up.has_geometry else None
    for c in up.frame.columns:
        if c not in (geom, "source_layer") and not pd.api.types.is_numeric_dtype(up.frame[c]):
            return c
    return None


def _second_try(err: str, path) -> list[str] | None:
    """The flags a user would add after this refusal, or None when no flag addresses it."""
    asks = ("type", "outside", "CRS", "several layers", "name")
    if not any(word in err for word in asks):
        return None
    extra = ["--type", "community_centre", "--allow-outside-area", "--crs", "EPSG:4326", "--keep-extra"]
    if "several layers" in err:
        extra += ["--source-layer", reading.ALL_LAYERS]
    if "no name column" in err or "name is empty" in err:
        col = _name_column(path)
        if col:
            extra += ["--map", f"name={col}"]
    return extra


def _check_ending(code: int, out: str, err: str, rel: str) -> None:
    assert code in (0, 2), f"{rel}: exit {code} (1 is a bug): {err}"
    for raw in RAW:
        assert raw not in err, f"{rel}: raw library text {raw!r} on stderr: {err}"
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), f"{rel}: a refusal must be one sentence: {err!r}"
        assert "holds points" not in err, f"{rel}: polygons and lines are assets with outlines now: {err}"
    else:
        assert out.startswith("imported "), (rel, out)
        assert not err.strip(), (rel, err)


def _check_outlines(store, rel: str) -> None:
    """Every outline an import wrote belongs to an imported asset, which lies on or inside it."""
    shapes = outlines.read_outlines(store)
    if shapes.empty:
        return
    assets = store.read("assets", ids=list(shapes.index)).set_index("id")
    assert set(shapes.index) == set(assets.index), f"{rel}: an outline without its asset"
    assert set(shapes.geom_type) <= {"MultiPolygon", "MultiLineString"} and not shapes.has_z.any(), rel
    points = assets.geometry.reindex(shapes.index).to_numpy()
    off = shapely.distance(shapes.to_numpy(), points) > 1e-7  # degrees: about a centimetre
    assert not off.any(), f"{rel}: {int(off.sum())} asset point(s) off their shape"


@pytest.mark.parametrize("rel", FILES)
def test_every_corpus_file_ends_cleanly(rel, gpkg_copy, demo_digest, capfd):
    path = CORPUS / rel
    base = ["import", str(path), "--layer", "assets", "--data", str(gpkg_copy.path), "--actor", "corpus-test"]
    version = gpkg_copy.version()
    code, out, err = _run(base, capfd)
    _check_ending(code, out, err, rel)
    if code == 0:
        _check_outlines(gpkg_copy, rel)
        return
    assert gpkg_copy.version() == version, f"{rel}: the store changed although the file was refused"
    extra = _second_try(err, path)
    if extra is not None:
        code, out, err = _run(base + extra, capfd)
        _check_ending(code, out, err, rel + " " + " ".join(extra))
        if code == 0:
            _check_outlines(gpkg_copy, rel)
            return
    assert store_digest(gpkg_copy) == demo_digest, f"{rel}: the store changed although the file was refused"
