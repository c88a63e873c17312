"""How quickly the app answers, in headless Chromium against a running app (issue 11).

Run on demand from the project root (this is not a test)::

    .venv/bin/python benchmarks/page_speed.py [--url http://127.0.0.1:8501] [--data STORE ...] [--repeat 5]
    .venv/bin/python benchmarks/page_speed.py --data demo --data instance/england.gpkg --explore-only

Without ``--url`` it starts the app itself (``streamlit run app.py`` on a free port of 127.0.0.1)
over a private copy of the demo store (``--data demo``, the default), or over each ``--data`` (a
GeoPackage path, used as it is, or a ``postgresql://`` URL), passed to the app as
``COMMON_GROUND_DATA``. Give ``--data`` more than once to measure several stores in one run: the
table then has a column per store, side by side. The browser is Debian's
``/usr/bin/chromium``; it reaches nothing but 127.0.0.1 (other host names resolve to nothing, so
basemap tiles fail), as in the browser tests. No request is intercepted: a person's browser has no
interception, and Playwright's cost about 2 s of CPU per Explore load and turned off the cache
(figures before 2026-11-30 include it). It measures, in one run:

* **cold load** of each page in a fresh browser (no cache, no session): from ``goto`` until the
  page's script has finished and its map has drawn (Leaflet's container visible, the map's title
  set, and on Explore every point in the clusters' index); pages without a map, until their heading shows
  and the script has finished. The server's very first load (its caches empty) is reported apart.
  Explore's cold load also gives two earlier moments, from the navigation's start: when the map
  itself shows (its frame laid out with Leaflet's container in it: tiles and boundaries), and when
  its first points or clusters show (since the clusters' index is built at once, with every point in it,
  this is also when every point is in; with markercluster the rest came in chunks after that);
* **Explore filter change**: from the click that takes one type out of the Types filter (or puts
  it back) until the table says the new count *and* the map holds exactly that many points;
* **Near me submit**: from the click on "Find what is near" until the table of the nearest assets
  shows the new postcode's answer (and, for information, until its map has drawn);
* **Explore shading change**: from the click on another "Shade areas by" option until the script
  has finished and the map's areas carry the new shading (the map's title names it);
* **bytes per rerun**: the websocket frames the browser received for each of those answers
  (Chrome DevTools Protocol ``Network.webSocketFrameReceived``);
* **the longest main-thread task** (``PerformanceObserver`` ``longtask`` entries of each frame's own
  tasks), in the map's frame and in the page itself (Streamlit's scripts), during Explore's cold
  load and its filter and shading changes;
* **server memory**: the Streamlit process's peak resident set (``VmHWM``) at the end, and its
  resident set (``VmRSS``), when the app was started here;
* **Streamlit's own floor** (a last column, "bare streamlit", unless ``--no-floor`` or ``--url``): the
  same cold load and longest page task for ``benchmarks/bare_page.py``, a page with one title and
  one line of text, served by the same Streamlit with this project's ``.streamlit/config.toml``.
  Whatever Explore's page shows at or under it is Streamlit's own work (evaluating its modules,
  React committing its elements), not this app's.

Then, in this process, with ``streamlit.testing.v1.AppTest``: the Explore page's cold run against a
filter-change rerun (the same change), as a ratio.

Medians of ``--repeat`` runs. Every server is started first and the cold loads take turns, one
load of each column per round, so a busy minute on a shared machine falls on every column alike
(before 2026-12-01 the stores were measured one after the other, and the same build's England
figure moved by 0.8 s between two runs). The last line is machine-readable:
``explore_filter_s=… nearme_submit_s=… explore_cold_s=… rerun_bytes=…`` (``rerun_bytes``: the
median bytes received per Explore filter change).
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    COUNT_POINTS_JS,
    MAP_IFRAME,
    _free_port,
    _healthy,
    private_store,
    start_server,
)
from tests.helpers import wait_until  # noqa: E402

PAGES = {  # path -> heading; the first four draw a map
    "": "Explore community assets",
    "near_me": "What is near me?",
    "gaps": "Gaps",
    "neighbourhood": "One neighbourhood at a time",
    "community": "Aspirations and success",
    "about": "About Common Ground",
}
MAP_PAGES = ("", "gaps", "neighbourhood")  # Near me draws its map once a place is chosen (it shows one anyway)
POSTCODES = ("S5 8NJ", "S1 2HE", "S10 2TN", "S6 2LW", "S2 4SU", "S11 8YA", "S8 0ZB", "S9 1LQ")
TIMEOUT_MS = 120_000
NEXT_FRAMES_JS = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"

SCRIPT_DONE_JS = """() => {
    const app = document.querySelector('[data-testid=stApp]');
    return !!app && app.getAttribute('data-test-script-state') === 'notRunning' && !document.querySelector('[data-stale=true]');
}"""
#: Installed in every frame before its scripts run: the longest main-thread task seen there.
#: Only the frame's own tasks ("self"): a same-origin frame also hears of its parent's and children's.
LONGTASK_INIT = """(() => {
    window.__cgLong = 0;
    try {
        new PerformanceObserver(list => {
            for (const e of list.getEntries()) {
                if (e.name === 'self' || e.name === 'unknown') window.__cgLong = Math.max(window.__cgLong, e.duration);
            }
        }).observe({type: 'longtask', buffered: true});
    } catch (e) {}
})();"""
#: Installed in every frame: when a map's frame first shows the map (its Leaflet container laid out
#: and its iframe taller than 50 px in the page) and its first point or cluster, in milliseconds on
#: the clock of the page (``performance.timeOrigin``: the navigation's start). Polled every 10 ms
#: until both are seen (a task of microseconds; rAF does not run in a hidden frame).
MARKS_INIT = """(() => {
    if (window === window.top) return;
    const marks = window.__cgMarks = {};
    const t0 = performance.timeOrigin, start = performance.now();
    function tick() {
        const now = t0 + performance.now();
        const m = document.querySelector('.leaflet-container');
        const f = window.frameElement;
        if (!marks.map && m && m.getBoundingClientRect().height > 50 && f && f.getBoundingClientRect().height > 50) {
            marks.map = now;
        }
        if (!marks.points && document.querySelector('.marker-cluster, path.cg-pt')) marks.points = now;
        if (!(marks.map && marks.points) && performance.now() - start < 120000) setTimeout(tick, 10);
    }
    setTimeout(tick, 10);
})();"""
SHOWN_JS = """() => {
    for (const el of document.querySelectorAll('[data-testid=stMarkdownContainer] strong')) {
        const m = /^([\\d,]+) assets shown$/.exec(el.textContent.trim());
        if (m) return parseInt(m[1].replace(/,/g, ''), 10);
    }
    return null;
}"""


class Frames:
    """Bytes of websocket frames the page received (CDP), counted from :meth:`reset`."""

    def __init__(self, page) -> None:
        self.bytes = 0
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.webSocketFrameReceived", self._on_frame)
        self._cdp = cdp

    def _on_frame(self, event: dict) -> None:
        resp = event.get("response", {})
        data = resp.get("payloadData", "")
        if resp.get("opcode") == 2:  # binary frames come base64-encoded
            try:
                self.bytes += len(base64.b64decode(data))
            except ValueError:
                self.bytes += len(data) * 3 // 4
        else:
            self.bytes += len(data.encode("utf-8"))

    def reset(self) -> None:
        self.bytes = 0


def new_page(browser, url: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1800}, service_workers="block")
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(LONGTASK_INIT)
    context.add_init_script(MARKS_INIT)
    return context, context.new_page()


def longest_task(page) -> tuple[float, float]:
    """Milliseconds of the longest main-thread task of the map's frame, and of the page itself
    (Streamlit's own scripts) with its other frames; both then reset."""
    worst_map, worst_page = 0.0, 0.0
    for frame in page.frames:
        try:
            v = float(frame.evaluate("() => { const v = window.__cgLong || 0; window.__cgLong = 0; return v; }"))
        except Exception:  # a frame that went away
            continue
        if "streamlit_folium" in (frame.url or ""):
            worst_map = max(worst_map, v)
        else:
            worst_page = max(worst_page, v)
    return worst_map, worst_page


def map_frame(page):
    page.frame_locator(MAP_IFRAME).first.locator(".leaflet-container").wait_for(state="visible")
    frame = page.locator(MAP_IFRAME).first.element_handle().content_frame()
    frame.wait_for_function("() => document.title.startsWith('Map')")
    return frame


def wait_points(frame, n: int) -> None:
    frame.wait_for_function(f"() => ({COUNT_POINTS_JS})() === {int(n)}", timeout=TIMEOUT_MS)


def load(
    browser,
    url: str,
    path: str,
    tasks: list[tuple[float, float]] | None = None,
    marks: list[tuple[float, float]] | None = None,
    *,
    bare: bool = False,
) -> float:
    """Seconds from ``goto`` until the page has answered (see the module's docstring); the longest
    main-thread task of the load is appended to ``tasks``, and on Explore the seconds from the
    navigation's start until the map showed and until its first points showed to ``marks``.
    ``bare``: the page is :data:`BARE_PAGE` (its heading, and no map)."""
    context, page = new_page(browser, url)
    try:
        t0 = time.perf_counter()
        page.goto(f"{url}/{path}", wait_until="domcontentloaded")
        page.get_by_role("heading", name=BARE_HEADING if bare else PAGES[path], exact=True).wait_for()
        page.wait_for_function(SCRIPT_DONE_JS)
        if not bare and (path in MAP_PAGES or path == "near_me"):
            frame = map_frame(page)
            if path == "":
                shown = page.evaluate(SHOWN_JS)
                wait_points(frame, shown)
                if marks is not None:
                    origin = page.evaluate("performance.timeOrigin")
                    got = frame.evaluate("window.__cgMarks || {}")
                    marks.append(((got["map"] - origin) / 1000, (got["points"] - origin) / 1000))
        took = time.perf_counter() - t0
        if tasks is not None:
            page.evaluate(NEXT_FRAMES_JS)
            tasks.append(longest_task(page))
        return took
    finally:
        context.close()


def explore_filter(
    browser, url: str, repeat: int, tasks: list[tuple[float, float]] | None = None
) -> tuple[list[float], list[float], list[int]]:
    """Take a type out of the filter and put it back, ``repeat`` times each way: seconds to the table,
    seconds to the map, bytes received (the longest main-thread task of each change into ``tasks``)."""
    context, page = new_page(browser, url)
    table_s, map_s, sizes = [], [], []
    try:
        frames = Frames(page)
        page.goto(url + "/", wait_until="domcontentloaded")
        page.wait_for_function(SCRIPT_DONE_JS)
        frame = map_frame(page)
        total = page.evaluate(SHOWN_JS)
        wait_points(frame, total)
        longest_task(page)  # the load's tasks are the cold load's measure
        chip = (
            page.locator("[data-testid=stMultiSelect]")
            .filter(has_text="Types")
            .get_by_role("button", name="Remove ")
            .last
        )
        label = chip.get_attribute("aria-label").removeprefix("Remove ")
        n_type = int(label.rsplit("(", 1)[1].rstrip(")"))
        for i in range(2 * repeat):
            removing = i % 2 == 0
            expected = total - n_type if removing else total
            frames.reset()
            t0 = time.perf_counter()
            if removing:
                page.get_by_role("button", name=f"Remove {label}").click()
            else:
                box = page.locator("[data-testid=stMultiSelect]").filter(has_text="Types").locator("input")
                box.click()
                page.get_by_role("option", name=label).click()
                page.keyboard.press("Escape")
                # leave the box, or the next click on a chip only blurs it
                page.get_by_role("heading", name=PAGES[""]).click()
            if os.environ.get("PAGE_SPEED_DEBUG"):
                print(i, removing, expected, label, page.evaluate(SHOWN_JS), flush=True)
            page.wait_for_function(f"() => ({SHOWN_JS})() === {expected} && ({SCRIPT_DONE_JS})()")
            t1 = time.perf_counter()
            frame = page.locator(MAP_IFRAME).first.element_handle().content_frame()
            wait_points(frame, expected)
            t2 = time.perf_counter()
            page.wait_for_function(SCRIPT_DONE_JS)
            table_s.append(t1 - t0)
            map_s.append(t2 - t0)
            sizes.append(frames.bytes)
            if tasks is not None:
                page.evaluate(NEXT_FRAMES_JS)
                tasks.append(longest_task(page))
    finally:
        context.close()
    return table_s, map_s, sizes


SHADINGS = ("Deprivation (IMD 2019 decile)", "Assets per 1,000 residents")


def explore_shading(
    browser, url: str, repeat: int, tasks: list[tuple[float, float]] | None = None
) -> tuple[list[float], list[int]]:
    """Shade the areas by deprivation and back by assets per 1,000 residents, ``repeat`` times each way:
    seconds until the script has finished and the map (every point in it) says the new shading in its
    title, and the bytes received (the longest main-thread task of each change into ``tasks``)."""
    context, page = new_page(browser, url)
    took, sizes = [], []
    try:
        frames = Frames(page)
        page.goto(url + "/", wait_until="domcontentloaded")
        page.wait_for_function(SCRIPT_DONE_JS)
        frame = map_frame(page)
        total = page.evaluate(SHOWN_JS)
        wait_points(frame, total)
        longest_task(page)
        if not page.get_by_role("radiogroup", name="Shade areas by").get_by_text(SHADINGS[0], exact=True).count():
            return took, sizes  # a store without boundary layers: nothing to shade
        for i in range(2 * repeat):
            label = SHADINGS[i % 2]
            frames.reset()
            t0 = time.perf_counter()
            page.get_by_role("radiogroup", name="Shade areas by").get_by_text(label, exact=True).click()
            page.wait_for_function(SCRIPT_DONE_JS)
            frame = map_frame(page)
            frame.wait_for_function("(s) => document.title.includes('shaded by ' + s)", arg=label)
            wait_points(frame, total)
            took.append(time.perf_counter() - t0)
            sizes.append(frames.bytes)
            if tasks is not None:
                page.evaluate(NEXT_FRAMES_JS)
                tasks.append(longest_task(page))
    finally:
        context.close()
    return took, sizes


def server_memory(server) -> tuple[float, float]:
    """The app server's peak and current resident set, in MB (``/proc/<pid>/status``)."""
    if server is None:
        return float("nan"), float("nan")
    fields = {}
    for line in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmHWM"].split()[0]) / 1024, int(fields["VmRSS"].split()[0]) / 1024


def nearme_submit(browser, url: str, repeat: int) -> tuple[list[float], list[float], list[int]]:
    """Submit ``repeat`` postcodes one after another: seconds to the nearest table, to the map, bytes."""
    context, page = new_page(browser, url)
    table_s, map_s, sizes = [], [], []
    try:
        frames = Frames(page)
        page.goto(url + "/near_me", wait_until="domcontentloaded")
        page.wait_for_function(SCRIPT_DONE_JS)
        map_frame(page)
        for i in range(repeat):
            pc = POSTCODES[i % len(POSTCODES)]
            page.get_by_label("Postcode").fill(pc)
            page.wait_for_function(SCRIPT_DONE_JS)
            frames.reset()
            t0 = time.perf_counter()
            page.get_by_role("button", name="Find what is near").click()
            # the table of this postcode's answer (an HTML table, its caption naming the place) once the
            # script has run and the link to the view names it (was a data frame until 2026-11-30)
            page.wait_for_function(
                f"(pc) => ({SCRIPT_DONE_JS})()"
                " && Array.from(document.querySelectorAll('table caption')).some(c => c.textContent.includes(pc))"
                " && location.search.includes('postcode=' + encodeURIComponent(pc).replace(/%20/g, '+'))",
                arg=pc,
            )
            t1 = time.perf_counter()
            frame = map_frame(page)
            frame.wait_for_function("(pc) => document.title.includes(pc)", arg=pc.upper())
            t2 = time.perf_counter()
            table_s.append(t1 - t0)
            map_s.append(t2 - t0)
            sizes.append(frames.bytes)
    finally:
        context.close()
    return table_s, map_s, sizes


def apptest_ratio(data: str | None, repeat: int) -> tuple[float, float]:
    """Explore under AppTest in this process: the cold run, and the median filter-change rerun."""
    from streamlit.testing.v1 import AppTest

    from geo.web import explore

    if data:
        os.environ["COMMON_GROUND_DATA"] = data
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    t0 = time.perf_counter()
    at.run()
    cold = time.perf_counter() - t0
    assert not at.exception, [e.value for e in at.exception]
    categories = at.multiselect(key="explore_categories").value
    key = explore.types_key(list(categories))
    everything = list(at.multiselect(key=key).value)
    reruns = []
    for i in range(2 * repeat):
        value = everything[:-1] if i % 2 == 0 else everything
        t0 = time.perf_counter()
        at.multiselect(key=key).set_value(value).run()
        reruns.append(time.perf_counter() - t0)
        assert not at.exception, [e.value for e in at.exception]
    return cold, statistics.median(reruns)


def _tasks(tasks: list[tuple[float, float]]) -> str:
    return f"{max(t[0] for t in tasks):.0f} / {max(t[1] for t in tasks):.0f} ms"


PAGE_TASK_MEDIAN = "cold load: longest page task, median of the loads"
BARE_PAGE = ROOT / "benchmarks" / "bare_page.py"
BARE_HEADING = "A bare Streamlit page"
BARE_LOAD = "cold load, fresh browser: a bare Streamlit page (one title)"


@dataclass
class Target:
    """One column of the table: an app over a store, or the bare Streamlit page."""

    label: str
    url: str
    data: str | None = None  # the store (COMMON_GROUND_DATA), for AppTest
    server: object = None  # an AppServer started here (its memory is read), or None
    bare_proc: subprocess.Popen | None = None
    rows: list[tuple[str, str]] = field(default_factory=list)
    key: dict[str, float] = field(default_factory=dict)
    cold: dict[str, list[float]] = field(default_factory=dict)
    tasks: list[tuple[float, float]] = field(default_factory=list)
    marks: list[tuple[float, float]] = field(default_factory=list)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        if self.bare_proc is not None:
            self.bare_proc.terminate()
            try:
                self.bare_proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.bare_proc.kill()


def start_bare(work: Path) -> Target:
    """:data:`BARE_PAGE` (one title, one line of text) served by this Streamlit from the project root,
    so with this project's ``.streamlit/config.toml``: Streamlit's own floor, which no page of the
    app can go under."""
    port = _free_port()
    cmd = [str(Path(sys.executable).with_name("streamlit")), "run", str(BARE_PAGE), "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true"]  # fmt: skip
    with open(work / "bare-streamlit.log", "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    target = Target("bare streamlit", f"http://127.0.0.1:{port}", bare_proc=proc)
    try:
        wait_until(lambda: proc.poll() is not None or _healthy(target.url), 60, f"{target.url}/_stcore/health")
        if proc.poll() is not None:
            raise RuntimeError(f"the bare Streamlit page exited: see {work / 'bare-streamlit.log'}")
    except BaseException:
        target.stop()
        raise
    return target


def cold_loads(browser, targets: list[Target], pages: list[str], repeat: int) -> None:
    """Every target's first load, then ``repeat`` rounds of fresh-browser loads of each page, the
    targets taking turns within each round: a shared machine's slow minute then falls on every
    column alike, where measuring one store after the other put it all on one."""
    for t in targets:
        first = load(browser, t.url, "", bare=t.bare_proc is not None)
        if t.bare_proc is None:
            t.rows.append(("Explore, the server's first load (its caches empty)", f"{first:.2f} s"))
    for _ in range(repeat):
        for path in pages:
            for t in targets:
                if t.bare_proc is not None:
                    if path == "":
                        t.cold.setdefault("", []).append(load(browser, t.url, "", t.tasks, bare=True))
                    continue
                explore = path == ""
                took = load(browser, t.url, path, t.tasks if explore else None, t.marks if explore else None)
                t.cold.setdefault(path, []).append(took)
    med = statistics.median
    for t in targets:
        if t.bare_proc is not None:
            t.rows += [
                (BARE_LOAD, f"{med(t.cold['']):.2f} s"),
                ("Explore cold load: longest task, map frame / page", f"- / {max(x[1] for x in t.tasks):.0f} ms"),
                (PAGE_TASK_MEDIAN, f"{med(x[1] for x in t.tasks):.0f} ms"),
            ]
            t.key.update(
                bare_cold_s=med(t.cold[""]),
                page_longtask_ms=max(x[1] for x in t.tasks),
                page_longtask_median_ms=med(x[1] for x in t.tasks),
            )
            continue
        shown_s, first_s = med(m[0] for m in t.marks), med(m[1] for m in t.marks)
        t.rows.append(("Explore cold load -> the map shown (tiles, frame laid out)", f"{shown_s:.2f} s"))
        t.rows.append(("Explore cold load -> its first points or clusters", f"{first_s:.2f} s"))
        for path, runs in t.cold.items():
            t.rows.append((f"cold load, fresh browser: /{path or ''} ({PAGES[path]})", f"{med(runs):.2f} s"))
        t.rows.append(("Explore cold load: longest task, map frame / page", _tasks(t.tasks)))
        t.rows.append((PAGE_TASK_MEDIAN, f"{med(x[1] for x in t.tasks):.0f} ms"))
        t.key.update(
            explore_map_shown_s=shown_s,
            explore_first_points_s=first_s,
            explore_cold_s=med(t.cold[""]),
            page_longtask_median_ms=med(x[1] for x in t.tasks),
        )


def interactions(browser, t: Target, args) -> None:
    """One app's filter and shading changes (and Near me's submit): each store in turn."""
    med = statistics.median
    f_tasks: list[tuple[float, float]] = []
    f_table, f_map, f_bytes = explore_filter(browser, t.url, args.repeat, f_tasks)
    t.rows.append(("Explore filter change -> table", f"{med(f_table):.2f} s"))
    t.rows.append(("Explore filter change -> updated map", f"{med(f_map):.2f} s"))
    t.rows.append(("Explore filter change: bytes received", f"{med(f_bytes):,.0f} B"))
    t.rows.append(("Explore filter change: longest task, map frame / page", _tasks(f_tasks)))
    s_tasks: list[tuple[float, float]] = []
    s_map, s_bytes = explore_shading(browser, t.url, args.repeat, s_tasks)
    if s_map:
        t.rows.append(("Explore shading change -> updated map", f"{med(s_map):.2f} s"))
        t.rows.append(("Explore shading change: bytes received", f"{med(s_bytes):,.0f} B"))
        t.rows.append(("Explore shading change: longest task, map frame / page", _tasks(s_tasks)))
    every = t.tasks + f_tasks + s_tasks
    t.key.update(
        explore_filter_s=med(f_map),
        explore_shading_s=med(s_map) if s_map else float("nan"),
        rerun_bytes=med(f_bytes),
        map_longtask_ms=max(x[0] for x in every),
        page_longtask_ms=max(x[1] for x in every),
    )
    if not args.explore_only:
        n_table, n_map, n_bytes = nearme_submit(browser, t.url, args.repeat)
        t.rows.append(("Near me submit -> nearest table", f"{med(n_table):.2f} s"))
        t.rows.append(("Near me submit -> its map drawn", f"{med(n_map):.2f} s"))
        t.rows.append(("Near me submit: bytes received", f"{med(n_bytes):,.0f} B"))
        t.key.update(nearme_submit_s=med(n_table))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="an app that is already running (default: start one per store)")
    ap.add_argument(
        "--data",
        action="append",
        help="a store: a .gpkg path, a postgresql:// URL, or 'demo' (a private copy of the demo, the default); "
        "give it more than once to compare stores side by side",
    )
    ap.add_argument("--repeat", type=int, default=5, help="runs of each measure (default 5)")
    ap.add_argument("--explore-only", action="store_true", help="measure Explore only (not the other pages)")
    ap.add_argument("--no-apptest", action="store_true", help="skip the in-process AppTest ratio")
    ap.add_argument("--no-floor", action="store_true", help="skip the bare Streamlit page (Streamlit's own floor)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        sys.exit(f"needs {CHROMIUM} (Debian's chromium package)")
    chromium_args = list(CHROMIUM_ARGS)
    host = urlsplit(args.url).hostname if args.url else None
    if host and host != "127.0.0.1":  # an app by name (e.g. localhost): let the browser find it
        chromium_args = [a.replace("EXCLUDE 127.0.0.1", f"EXCLUDE 127.0.0.1 , EXCLUDE {host}") for a in chromium_args]
    targets: list[Target] = []
    try:
        if args.url:
            targets.append(Target(urlsplit(args.url).netloc, args.url.rstrip("/")))
        else:
            for store in args.data or ["demo"]:
                work = Path(tempfile.mkdtemp(prefix="page-speed-"))
                data = str(private_store(work)) if store == "demo" else store
                server = start_server(data, work)  # type: ignore[arg-type]  (a path or a URL, as COMMON_GROUND_DATA)
                label = "demo" if store == "demo" else Path(store).name
                targets.append(Target(label, server.url, data=data, server=server))
            if not args.no_floor:
                targets.append(start_bare(Path(tempfile.mkdtemp(prefix="page-speed-"))))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=chromium_args)
            try:
                cold_loads(browser, targets, [""] if args.explore_only else list(PAGES), args.repeat)
                for t in targets:
                    if t.bare_proc is None:
                        interactions(browser, t, args)
            finally:
                browser.close()
        for t in targets:
            if t.server is not None:
                peak, now = server_memory(t.server)
                t.rows.append(("server memory: peak resident set (VmHWM)", f"{peak:,.0f} MB"))
                t.rows.append(("server memory: resident set at the end", f"{now:,.0f} MB"))
                t.key.update(server_peak_mb=peak)
    finally:
        for t in targets:
            t.stop()
    if not args.no_apptest:
        for t in targets:
            if t.bare_proc is None:
                at_cold, at_rerun = apptest_ratio(t.data, args.repeat)
                t.rows.append(("AppTest Explore cold run", f"{at_cold:.2f} s"))
                t.rows.append(("AppTest Explore filter-change rerun", f"{at_rerun:.3f} s"))
                t.rows.append(("AppTest rerun / cold", f"{at_rerun / at_cold:.1%}"))
    names = list(dict.fromkeys(r[0] for t in targets for r in t.rows))
    width = max(len(n) for n in names)
    print(f"{'measure':<{width}}  " + "  ".join(f"{t.label:>16}" for t in targets))
    print(f"{'-' * width}  " + "  ".join("-" * 16 for _ in targets))
    for name in names:
        print(f"{name:<{width}}  " + "  ".join(f"{dict(t.rows).get(name, ''):>16}" for t in targets))
    for t in targets:
        print(t.label + ": " + " ".join(f"{k}={v:.2f}" for k, v in t.key.items()))


if __name__ == "__main__":
    main()
