"""Issue 14: "nothing in geo/ names Sheffield except the demo's build script and its data". The engine
works for any place; the demo's city is named only by its data file (``data/sheffield.gpkg``)."""

from __future__ import annotations

import re

from geo.schema import PROJECT_ROOT

DEMO_FILE = re.compile(r"sheffield\.gpkg", re.IGNORECASE)


def test_no_file_of_the_engine_names_the_demos_city():
    found = []
    for path in sorted((PROJECT_ROOT / "geo").rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix in {".pyc", ".gpkg"}:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if "sheffield" in DEMO_FILE.sub("", line).lower():
                found.append(f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}")
    assert not found, "the engine names a place (say it of any store, or move it to data/):\n" + "\n".join(found)
