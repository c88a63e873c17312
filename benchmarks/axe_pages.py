"""axe-core on every page of a running app, independently of the test suite (issue 11's check).

Start the app (``./run app``), then::

    .venv/bin/python benchmarks/axe_pages.py [--url http://127.0.0.1:8501] [--width 1366 --height 900]

It opens each page in headless Chromium (Debian's ``/usr/bin/chromium``), waits for its heading and
for Streamlit to finish running, runs axe-core (shipped by ``axe-playwright-python``) with the WCAG
2.0, 2.1 and 2.2 A and AA rules in the page and inside every frame (maps, components), and prints one
row per page with its violations by impact, then each serious or critical one. Last line:
``pages=10 serious=0 critical=0``. A figure, never pass/fail: the browser tests are the gate.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pages._registry import HEADINGS  # noqa: E402

PAGES = HEADINGS  # url path -> the page's title (its h1), from the app's one list
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}
IMPACTS = ("minor", "moderate", "serious", "critical")
RUNNING = "() => !document.querySelector('[data-testid=stStatusWidget]')"  # Streamlit's "Running..." widget
MAP_PAGES = ("", "neighbourhood", "near_me", "gaps")  # the pages that always show a map
MAP_IFRAME = "iframe[src*='streamlit_folium.st_folium']"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:8501", help="the running app (default %(default)s)")
    ap.add_argument("--width", type=int, default=1366)
    ap.add_argument("--height", type=int, default=900)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args(argv)
    from axe_playwright_python.sync_playwright import Axe

    script = Axe().axe_script
    totals = dict.fromkeys(IMPACTS, 0)
    details: list[str] = []
    print(f"axe-core on {args.url} at {args.width}x{args.height} (WCAG 2.0-2.2 A and AA)")
    print(f"{'page':<16}" + "".join(f"{i:>10}" for i in IMPACTS) + f"{'frames':>8}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium)
        page = browser.new_page(viewport={"width": args.width, "height": args.height})
        for path, title in PAGES.items():
            page.goto(f"{args.url.rstrip('/')}/{path}", wait_until="domcontentloaded")
            page.get_by_role("heading", name=title).first.wait_for(timeout=120_000)
            page.wait_for_function(RUNNING, timeout=120_000)
            if path in MAP_PAGES:  # the map is drawn inside its frame
                page.frame_locator(MAP_IFRAME).locator(".leaflet-container").wait_for(timeout=120_000)
            time.sleep(2)  # let maps and components draw after the run (a settle, not a condition under test)
            counts = dict.fromkeys(IMPACTS, 0)
            frames = [
                f for f in page.frames if f != page.main_frame and not f.is_detached() and f.url.startswith("http")
            ]
            for where, target in [("page", page.main_frame)] + [(f"frame {f.url[-40:]}", f) for f in frames]:
                try:
                    target.evaluate(script)
                    result = target.evaluate(f"axe.run(document, {json.dumps(AXE_OPTIONS)})")
                except Exception as exc:  # noqa: BLE001 - a frame that went away mid-run: say so, go on
                    details.append(f"/{path} {where}: not checked ({str(exc).splitlines()[0]})")
                    continue
                for v in result["violations"]:
                    impact = v.get("impact") or "minor"
                    counts[impact] += 1
                    if impact in ("serious", "critical"):
                        details.append(
                            f"/{path} {where}: {v['id']} ({impact}, {len(v['nodes'])} elements): {v['help']}"
                        )
            for k in IMPACTS:
                totals[k] += counts[k]
            print(f"{'/' + path:<16}" + "".join(f"{counts[i]:>10}" for i in IMPACTS) + f"{len(frames):>8}")
        browser.close()
    for line in details:
        print(line)
    print(f"pages={len(PAGES)} serious={totals['serious']} critical={totals['critical']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
