"""The code's own rules, checked: where errors and settings live, the one private Streamlit hook, lint."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from geo.schema import PROJECT_ROOT

GEO = PROJECT_ROOT / "geo"


def _modules(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_error_class_is_defined_in_geo_errors():
    stray = []
    for path in _modules(GEO):
        if path.name == "errors.py" and path.parent == GEO:
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef) and (node.name.endswith("Error") or node.name.endswith("Exception")):
                stray.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} {node.name}")
    assert not stray, "define these in geo/errors.py (and re-export them): " + ", ".join(stray)


def test_environment_variables_are_read_only_in_geo_settings():
    readers = []
    for path in [*_modules(GEO), *_modules(PROJECT_ROOT / "pages"), PROJECT_ROOT / "app.py"]:
        if path == GEO / "settings.py":
            continue
        text = path.read_text()
        if "os.environ" in text or "os.getenv" in text:
            readers.append(str(path.relative_to(PROJECT_ROOT)))
    assert not readers, "read environment variables through geo.settings: " + ", ".join(readers)


def test_ensure_frame_still_finds_the_private_streamlit_switch_it_relies_on():
    """pages/_frame.ensure_frame flips ``PagesManager.uses_pages_directory`` (see its docstring): the
    user's layout needs a ``pages/`` folder beside ``app.py``, which puts Streamlit in its old
    multipage mode until ``st.navigation`` runs. If Streamlit renames or drops that switch, this
    fails loudly here (and the direct-link browser tests fail) rather than pages silently losing
    their frame."""
    from streamlit.runtime.pages_manager import PagesManager

    assert "uses_pages_directory" in PagesManager.__annotations__, (
        "Streamlit no longer has PagesManager.uses_pages_directory: revisit pages/_frame.ensure_frame"
    )
    assert PagesManager.uses_pages_directory in (None, True, False)


def _ruff() -> str:
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed (it is in requirements-dev.txt)")
    return ruff


def test_the_code_passes_ruff_check():
    done = subprocess.run([_ruff(), "check", "--quiet", "."], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, "ruff check found problems (fix them, or run `ruff check --fix`):\n" + done.stdout


def test_the_code_is_formatted_with_ruff_format():
    done = subprocess.run([_ruff(), "format", "--check", "."], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, "run `.venv/bin/ruff format .`; these files are not formatted:\n" + done.stdout


def test_the_page_registry_names_every_page_with_the_heading_it_shows():
    """pages/_registry.PAGES is the one list of pages (app.py's menu, the browser tests, the
    benchmarks): every file in pages/ that is a page is in it, and each page's st.title is its heading."""
    import ast

    from pages._registry import HEADINGS, PAGES

    pages_dir = PROJECT_ROOT / "pages"
    on_disk = {p.name for p in pages_dir.glob("*.py") if not p.name.startswith("_")}
    assert on_disk == {p.file for p in PAGES}
    assert len(HEADINGS) == len(PAGES) and [p.url_path for p in PAGES].count("") == 1
    for entry in PAGES:
        tree = ast.parse((pages_dir / entry.file).read_text(encoding="utf-8"))
        titles = [
            node.args[0].value
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and getattr(node.func, "attr", None) == "title"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ]
        assert titles == [entry.heading], f"pages/{entry.file}: st.title {titles} is not {entry.heading!r}"
