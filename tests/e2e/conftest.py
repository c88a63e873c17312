"""Browser tests: the real app under ``streamlit run``, driven by headless Debian Chromium.

* Every server runs on a private copy of the demo store (``$COMMON_GROUND_DATA``), on a free port
  of 127.0.0.1, in its own process group; its output goes to a log whose tail is put into failure
  messages. Servers are shared per module, so the suite starts as few as it can.
* The browser can reach nothing but 127.0.0.1: every other host name resolves to nothing
  (``--host-resolver-rules``), and every request to anywhere but the app is recorded. The map must
  render from the app's own assets (basemap tiles are the only thing allowed to be missing). No
  request is intercepted: interception made each request a round trip through this process and
  turned off the browser's cache, about 2 s of CPU per Explore load.
* Each module has one browser context (``browser_context``), and each test a new tab in it, as
  a person opens the app again in their own browser: its cookies and permissions are cleared
  before each test, and its cache kept (a new context loaded and compiled Streamlit's front end
  again: 1.5 s of CPU per load). A test marked ``fresh_browser`` gets a context of its own.
* Uncaught page errors, console errors (other than resources we aborted), failed or error
  responses from the app and JavaScript dialogs are collected for the tests to assert on.

Needs ``/usr/bin/chromium`` (Debian's package); playwright's own browser downloads are never used.
Without it the tests skip, except under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from geo import schema
from tests.helpers import wait_until

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
MISSING_CHROMIUM = "Browser tests need Debian's chromium: `sudo apt-get install -y chromium` (CI installs it)"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Only this machine: any other host fails as unknown (net::ERR_NAME_NOT_RESOLVED), so the tests
    # need no internet and no request leaves it. IP addresses are not looked up, so 127.0.0.1 works.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
#: How the browser reports a request to a host it cannot resolve (anything but 127.0.0.1).
UNREACHABLE = ("net::ERR_NAME_NOT_RESOLVED", "net::ERR_FAILED")
STARTUP_TIMEOUT_S = 60.0
E2E_ACTOR = "editor@sheffield.example"
TIMEOUT_MS = 60_000  # the first page load takes ~15 s on a small CI machine
# Found by its source: the map names its frame (title and aria-label) for what it shows, so not by title.
MAP_IFRAME = "iframe[src*='streamlit_folium.st_folium']"
# Tall enough that the whole map is on screen: a first click on a map that is partly scrolled out of
# view makes the page jump (see test_first_click_on_a_partly_hidden_map_keeps_the_page_still).
VIEWPORT = {"width": 1400, "height": 1800}


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(MISSING_CHROMIUM, pytrace=False)
    pytest.skip(MISSING_CHROMIUM)


@pytest.fixture(scope="session", autouse=True)
def _chromium_available() -> None:
    """Skip (or, under CI, fail) before any server is started if the browser is missing."""
    _require_chromium()


# --------------------------------------------------------------------------------------------
# The app under test
# --------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class AppServer:
    """A running ``streamlit run app.py`` on its own port and store."""

    proc: subprocess.Popen
    port: int
    store_path: Path
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            return f"(no server log: {exc})"
        tail = "\n".join(text.splitlines()[-lines:])
        return f"--- server log {self.log_path} (last {lines} lines) ---\n{tail}\n--- end of server log ---"

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # the group we created with start_new_session
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
            return resp.status == 200 and resp.read().decode().strip() == "ok"
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _serving(server: AppServer) -> bool:
    """Whether *our* streamlit says it serves the port (so a health check answered by another
    process that took the port first is not mistaken for it)."""
    try:
        return f"URL: {server.url}" in server.log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def start_server(store_path: Path, log_dir: Path, *, extra_env: dict[str, str] | None = None) -> AppServer:
    """Start the app on a free port over ``store_path``; return once it answers its health check.

    The port is free when chosen, but another process (another xdist worker's server) may take it
    before streamlit binds it; then streamlit says so and exits, and a new port is tried.
    """
    for _attempt in range(4):
        try:
            return _start_server_once(store_path, log_dir, extra_env=extra_env)
        except _PortTaken:
            continue
    return _start_server_once(store_path, log_dir, extra_env=extra_env)


class _PortTaken(RuntimeError):
    pass


def _start_server_once(store_path: Path, log_dir: Path, *, extra_env: dict[str, str] | None = None) -> AppServer:
    port = _free_port()
    log_path = log_dir / f"streamlit-{port}.log"
    # Local mode (unless extra_env says shared): its one user, an admin, records changes as E2E_ACTOR.
    env = {
        **os.environ,
        "COMMON_GROUND_DATA": str(store_path),
        "PYTHONUNBUFFERED": "1",
        "COMMON_GROUND_ACTOR": E2E_ACTOR,
    }
    env.pop("COMMON_GROUND_TILES", None)
    env.pop("COMMON_GROUND_MODE", None)
    env.update(extra_env or {})
    cmd = [
        str(Path(sys.executable).with_name("streamlit")),
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    log = open(log_path, "wb")  # noqa: SIM115 (the child keeps writing to it)
    try:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    finally:
        log.close()
    server = AppServer(proc=proc, port=port, store_path=store_path, log_path=log_path)

    def ready() -> bool:
        if proc.poll() is not None:
            if any(said in server.log_tail() for said in ("is already in use", "is not available")):
                raise _PortTaken(f"port {port} was taken before streamlit bound it")
            raise RuntimeError(f"streamlit exited with code {proc.returncode} before it was ready\n{server.log_tail()}")
        return _healthy(server.url) and _serving(server)

    try:
        wait_until(ready, STARTUP_TIMEOUT_S, f"{server.url}/_stcore/health")
    except pytest.fail.Exception:
        server.stop()
        raise RuntimeError(
            f"streamlit did not answer {server.url}/_stcore/health within {STARTUP_TIMEOUT_S:.0f} s\n"
            f"{server.log_tail()}"
        ) from None
    return server


def private_store(directory: Path) -> Path:
    """A copy of the shipped demo store that only this test run writes to."""
    target = directory / "sheffield.gpkg"
    shutil.copyfile(schema.DEMO_GPKG, target)
    return target


#: Modules whose tests only read: they share one app server per session (per xdist worker), so its
#: start and its first, cold page loads are paid once. Any other module (one that writes, or a new
#: one not yet checked) gets a server of its own over its own copy of the demo.
READ_ONLY_MODULES = {
    "test_accessibility_browser",
    "test_explore_browser",  # its one writing test has a server of its own (hostile_server)
    "test_explore_scale_browser",
    "test_links_browser",
    "test_maps_fit_browser",
    "test_near_me_browser",
    "test_report_browser",
}


@pytest.fixture(scope="session")
def shared_app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The app over an untouched copy of the demo, for the modules in :data:`READ_ONLY_MODULES`."""
    work = tmp_path_factory.mktemp("e2e-shared-app")
    server = start_server(private_store(work), work)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def app_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The app over an untouched copy of the demo, with the default (OpenStreetMap) basemap: shared
    by the read-only modules, the module's own otherwise."""
    if request.module.__name__.rsplit(".", 1)[-1] in READ_ONLY_MODULES:
        yield request.getfixturevalue("shared_app_server")
        return
    work = tmp_path_factory.mktemp("e2e-app")
    server = start_server(private_store(work), work)
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------------------------
# The browser
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@dataclass
class PageWatch:
    """What a page did that a test may want to fail on."""

    app_url: str
    requests: list[str] = field(default_factory=list)
    #: Requests to anywhere but the app (the browser reaches nothing beyond 127.0.0.1, see
    #: :data:`CHROMIUM_ARGS`; the sign-in tests' provider is on 127.0.0.1 too).
    aborted: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    app_failures: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    in_flight: set = field(default_factory=set)  # requests neither finished nor failed yet

    def reset(self) -> None:
        """Forget everything recorded so far (a tab shared by several tests)."""
        for name in ("requests", "aborted", "page_errors", "console_errors", "app_failures", "dialogs"):
            getattr(self, name).clear()
        self.in_flight.clear()

    def is_local(self, url: str) -> bool:
        return url == self.app_url or url.startswith(self.app_url + "/") or url.startswith(("data:", "about:", "blob:"))

    def unexpected_console_errors(self) -> list[str]:
        # A resource from outside the app that failed to load (a basemap tile, which the browser
        # cannot reach; the sign-in provider's missing favicon) is not the app's error; anything else
        # is a bug (a failed request to the app is also in ``app_failures``).
        def outside(message: str) -> bool:
            url = message.rpartition(" @ ")[2]
            return message.startswith("Failed to load resource: ") and (
                any(e in message for e in UNREACHABLE) or (bool(url) and not self.is_local(url))
            )

        return [m for m in self.console_errors if not outside(m)]

    def problems(self) -> list[str]:
        """Everything that should never happen on a healthy page."""
        out = [f"uncaught page error: {e}" for e in self.page_errors]
        out += [f"console error: {e}" for e in self.unexpected_console_errors()]
        out += [f"request to the app failed: {e}" for e in self.app_failures]
        out += [f"JavaScript dialog opened: {d}" for d in self.dialogs]
        return out


@dataclass
class AppPage:
    page: object
    watch: PageWatch
    server: AppServer

    def fail_message(self, what: str) -> str:
        w = self.watch
        return (
            f"{what}\npage errors: {w.page_errors}\nconsole errors: {w.console_errors}\n"
            f"app failures: {w.app_failures}\naborted: {w.aborted[:20]}\n{self.server.log_tail()}"
        )


def new_context(browser) -> object:
    """A browser context (a profile of its own: cookies, cache, permissions) at :data:`VIEWPORT`."""
    context = browser.new_context(viewport=VIEWPORT, service_workers="block")
    context.set_default_timeout(TIMEOUT_MS)
    return context


def open_page(context, server: AppServer) -> tuple[object, PageWatch]:
    """A new tab in ``context`` for ``server``, with what it does recorded in a :class:`PageWatch`."""
    watch = PageWatch(app_url=server.url)
    page = context.new_page()

    def on_request(req):
        watch.requests.append(req.url)
        watch.in_flight.add(req)
        if not watch.is_local(req.url):
            watch.aborted.append(req.url)

    page.on("request", on_request)
    page.on("pageerror", lambda exc: watch.page_errors.append(f"{exc.name}: {exc.message}"))

    def on_console(msg):
        if msg.type == "error":
            loc = msg.location or {}
            watch.console_errors.append(f"{msg.text} @ {loc.get('url', '')}")

    page.on("console", on_console)

    def on_response(resp):
        if watch.is_local(resp.url) and resp.status >= 400:
            watch.app_failures.append(f"{resp.status} {resp.url}")

    page.on("response", on_response)

    def on_request_failed(req):
        watch.in_flight.discard(req)
        if watch.is_local(req.url):
            watch.app_failures.append(f"{req.failure} {req.url}")

    page.on("requestfailed", on_request_failed)
    page.on("requestfinished", lambda req: watch.in_flight.discard(req))

    def on_dialog(dialog):
        watch.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return page, watch


@pytest.fixture(scope="module")
def browser_context(browser) -> Iterator[object]:
    """The module's browser context: each test opens its own tab in it (:func:`_app_page`)."""
    context = new_context(browser)
    try:
        yield context
    finally:
        context.close()


def _app_page(context, server: AppServer) -> Iterator[AppPage]:
    """A new tab on ``server`` in ``context``, as a visitor who comes back: signed out (no cookies)
    and with no permission granted, the browser's cache kept. Closed afterwards."""
    context.clear_cookies()
    context.clear_permissions()
    page, watch = open_page(context, server)
    try:
        yield AppPage(page=page, watch=watch, server=server)
    finally:
        page.close()


#: Read-only modules whose tests share one browser tab (per module), each test going to its page
#: through the sidebar's links (:func:`visit`) as a person does: a fresh tab loads and compiles
#: Streamlit's whole front end again (about 4-6 s of CPU on this machine), a move between pages
#: costs 1-2 s. A test that fails closes the tab, so the next one starts in a fresh one.
SHARED_TAB_MODULES = {"test_accessibility_browser"}

_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.failed:
        item.stash[_FAILED] = True
    return report


@dataclass
class _Tab:
    app: AppPage | None = None

    def close(self) -> None:
        if self.app is not None:
            self.app.page.close()
        self.app = None


@pytest.fixture(scope="module")
def _module_tab(browser_context) -> Iterator[_Tab]:  # closed before the context is
    tab = _Tab()
    try:
        yield tab
    finally:
        tab.close()


@pytest.fixture
def app_page(request: pytest.FixtureRequest, browser, app_server: AppServer) -> Iterator[AppPage]:
    """A browser tab on :func:`app_server`: a new one (not yet navigated) in the module's context,
    or in a context of its own for a test marked ``fresh_browser`` (a first visit: nothing cached);
    in the modules of :data:`SHARED_TAB_MODULES`, the module's tab (wherever the last test left it)
    with its record of errors and requests emptied and its viewport back to :data:`VIEWPORT`."""
    if request.node.get_closest_marker("fresh_browser"):
        context = new_context(browser)
        try:
            yield from _app_page(context, app_server)
        finally:
            context.close()
        return
    if request.module.__name__.rsplit(".", 1)[-1] not in SHARED_TAB_MODULES:
        yield from _app_page(request.getfixturevalue("browser_context"), app_server)
        return
    tab: _Tab = request.getfixturevalue("_module_tab")
    if tab.app is None:
        page, watch = open_page(request.getfixturevalue("browser_context"), app_server)
        tab.app = AppPage(page=page, watch=watch, server=app_server)
    else:
        tab.app.watch.reset()
        tab.app.page.set_viewport_size(VIEWPORT)
    try:
        yield tab.app
    finally:
        if request.node.stash.get(_FAILED, False):
            tab.close()


def current_path(app: AppPage) -> str | None:
    """The app page the tab shows (``""`` for Explore), or None when it shows none yet."""
    url = app.page.url
    if not url.startswith(app.server.url + "/"):
        return None
    return url[len(app.server.url) + 1 :].split("?", 1)[0].split("#", 1)[0]


def visit(app: AppPage, path: str) -> None:
    """Go to the app's page ``/path``: by its link in the sidebar when the tab already shows another
    page of the app and the link is on screen (as a person moves around), otherwise by loading its
    address. Returns at once; the caller waits for what it needs."""
    page = app.page
    app.watch.in_flight.clear()  # requests the previous document (or page) left unfinished never end
    here = current_path(app)
    if here is not None and here != path:
        link = page.locator(f"[data-testid=stSidebarNav] a[href='{app.server.url}/{path}']")
        box = link.bounding_box() if link.count() == 1 else None
        width = page.viewport_size["width"] if page.viewport_size else 0
        if box and box["x"] >= 0 and box["x"] + box["width"] <= width:
            from playwright.sync_api import TimeoutError as PlaywrightTimeout

            try:
                # A phone's sidebar folds itself away after a page change: a link on screen when it
                # was measured can slide off before the click (a clean-clone run, 2026-11-30): then the
                # address is loaded instead.
                link.click(timeout=10_000)
            except PlaywrightTimeout:
                pass
            else:
                page.wait_for_url(re.compile(rf"^{re.escape(app.server.url)}/{re.escape(path)}([?#].*)?$"))
                return
    page.goto(f"{app.server.url}/{path}", wait_until="domcontentloaded")


# --------------------------------------------------------------------------------------------
# Helpers for the map inside streamlit-folium's iframe
# --------------------------------------------------------------------------------------------

FIND_MAP_JS = """
() => {
    const keys = Object.keys(window).filter(k => k.startsWith('map_') && window[k] instanceof L.Map);
    if (keys.length !== 1) throw new Error('expected one Leaflet map_* global, found: ' + JSON.stringify(keys));
    return window[keys[0]];
}
"""


def in_map(body: str) -> str:
    """A function for ``frame.evaluate`` that runs ``body`` with ``map`` (the Leaflet map) and ``arg``."""
    return f"(arg) => {{ const map = ({FIND_MAP_JS.strip()})(); {body} }}"


def map_frame(app: AppPage):
    """Wait until the Explore page's Leaflet map has drawn clusters; return the iframe's ``Frame``."""
    page = app.page
    iframe = page.locator(MAP_IFRAME)
    try:
        iframe.wait_for(state="attached", timeout=TIMEOUT_MS)
        frame = iframe.element_handle().content_frame()
        assert frame is not None, "the map iframe has no content frame"
        inner = page.frame_locator(MAP_IFRAME)
        inner.locator(".leaflet-container").wait_for(state="visible", timeout=TIMEOUT_MS)
        inner.locator("div.marker-cluster").first.wait_for(state="visible", timeout=TIMEOUT_MS)
    except Exception as exc:  # playwright's TimeoutError, with the context that explains it
        pytest.fail(app.fail_message(f"the map did not render: {exc}"), pytrace=False)
    return frame


COUNT_POINTS_JS = in_map(
    "let n = 0; map.eachLayer(l => { if (l instanceof CgClusterLayer) n += l.cgCount(); }); return n;"
)


def count_asset_points(frame) -> int:
    """Every asset point in the map's cluster index (clustered or not, on screen or not)."""
    return frame.evaluate(COUNT_POINTS_JS)


#: How many asset points the page was sent (the payload ``geo.web.maps.AssetPoints`` puts in ``var d``,
#: or ``cgFillFrom`` fetches into ``window.d``).
SHIPPED_POINTS_JS = "() => (window.d && Array.isArray(window.d.x)) ? window.d.x.length : null"


def wait_for_asset_points(frame, expected: int, timeout_ms: int = TIMEOUT_MS) -> int:
    """Wait until the cluster layer has indexed at least ``expected`` points and every point
    the page was sent (so an excess shows too); return the final count."""
    loaded = f"""() => {{
        const n = ({COUNT_POINTS_JS})(), shipped = ({SHIPPED_POINTS_JS})();
        return n >= {int(expected)} && shipped !== null && n >= shipped;
    }}"""
    try:
        frame.wait_for_function(loaded, timeout=timeout_ms)
    except Exception:
        pass  # the assertion on the returned count says what was there
    return count_asset_points(frame)


NEXT_FRAMES_JS = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"


def settle(app: AppPage, frame=None, timeout_ms: int = TIMEOUT_MS) -> None:
    """Wait until the page has no request in flight (every image has loaded or failed, so its
    ``onload``/``onerror`` has run) and the page, and the map's ``frame`` if given, have drawn two
    more frames: what a test waits for before it asserts that something did *not* happen."""
    for target in (app.page, frame):
        if target is not None:
            target.evaluate(NEXT_FRAMES_JS)
    deadline = time.monotonic() + timeout_ms / 1000
    while app.watch.in_flight:  # wait on each request in flight to finish or fail (no fixed waits)
        if time.monotonic() > deadline:
            pending = [r.url for r in app.watch.in_flight][:10]
            pytest.fail(app.fail_message(f"requests still in flight after {timeout_ms} ms: {pending}"), pytrace=False)
        request = next(iter(app.watch.in_flight))
        try:
            response = request.response()  # returns once the response has come, or None if it failed
            if response is not None:
                response.finished()  # returns once its body has loaded (or failed)
        except Exception:  # the page or its context closed under it: nothing is in flight any more
            pass
        app.watch.in_flight.discard(request)  # finished or failed: requestfinished/failed may come later
    for target in (app.page, frame):
        if target is not None:
            target.evaluate(NEXT_FRAMES_JS)
