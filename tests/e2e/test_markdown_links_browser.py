"""``geo.textsafe.markdown_literal`` in the real renderer: ``st.markdown`` in Chromium shows hostile text
as typed, with no link, image or formatting.

Streamlit renders Markdown in the browser (react-markdown with remark-gfm, remark-math, remark-emoji
and its own directives), and remark-gfm links bare URLs, ``www.`` and emails after escapes are
resolved, so only a browser shows whether the output is inert. A tiny script renders every case
twice, through ``markdown_literal`` and as given; the raw renders of the linkable cases must hold a
link (so the check can see one) and the safe renders none.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    ROOT,
    STARTUP_TIMEOUT_S,
    TIMEOUT_MS,
    AppServer,
    _free_port,
    _healthy,
    _serving,
    open_page,
)
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e

CASES = [
    '=HYPERLINK("http://evil.example","x")',
    "http://evil.example",
    "HTTPS://EVIL.EXAMPLE/path?q=1",
    "www.evil.example",
    "[x](http://evil.example)",
    "<http://evil.example>",
    "someone@evil.example",
    "mailto:someone@evil.example",
    "see (http://evil.example/a_b) now",
    "![img](http://evil.example/x.png)",
    "[ref]\n\n[ref]: http://evil.example",
    ":smile: $x^2$ :red[hi] :material/home: ~~s~~ **b** _i_ `c`",
    "&lt;script&gt; &amp; <b>bold</b> <img src=x onerror=alert(1)> <a href='http://evil.example'>a</a>",
    "# heading\n1. item\n- item\n> quote\n\n| a | b |\n|---|---|\n| 1 | 2 |",
    "x\n===",
    "$$\nx\n$$",
    "back\\slash\\",
]
#: Cases that plain st.markdown turns into a link (the control that the check sees links).
LINKED_RAW = [1, 2, 3, 4, 5, 6, 8]

SCRIPT = """
import json

import streamlit as st

from geo.textsafe import markdown_literal

CASES = json.loads({cases!r})
for i, text in enumerate(CASES):
    with st.container(key=f"safe_{{i}}"):
        st.markdown(markdown_literal(text))
    with st.container(key=f"raw_{{i}}"):
        st.markdown(text)
with st.container(key="rendered"):
    st.write("every case rendered")
"""

INSPECT_JS = """(el) => {
    const box = el.querySelector('[data-testid="stMarkdownContainer"]');
    if (!box) return null;
    return {
        links: box.querySelectorAll('a, [href]').length,
        tags: [...new Set([...box.querySelectorAll('*')].map(e => e.tagName.toLowerCase()))],
        text: box.innerText,
    };
}"""


def _start(script: Path, log_dir: Path) -> AppServer:
    """``streamlit run script`` on a free port (retried if another process takes it first)."""
    for _attempt in range(4):
        port = _free_port()
        log_path = log_dir / f"streamlit-md-{port}.log"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        cmd = [str(Path(sys.executable).with_name("streamlit")), "run", str(script), "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]  # fmt: skip
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        server = AppServer(proc=proc, port=port, store_path=script, log_path=log_path)
        with contextlib.suppress(pytest.fail.Exception):  # the health check, or the process exiting
            wait_until(
                lambda: proc.poll() is not None or (_healthy(server.url) and _serving(server)),  # noqa: B023
                STARTUP_TIMEOUT_S,
                "the markdown test app",
            )
        if proc.poll() is None and _healthy(server.url) and _serving(server):
            return server
        server.stop()
        if not any(said in server.log_tail() for said in ("is already in use", "is not available")):
            raise RuntimeError(f"the markdown test app did not start\n{server.log_tail()}")
    raise RuntimeError("no free port for the markdown test app after 4 tries")


@pytest.fixture(scope="module")
def markdown_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    work = tmp_path_factory.mktemp("e2e-markdown")
    script = work / "markdown_cases.py"
    script.write_text(SCRIPT.format(cases=json.dumps(CASES)), encoding="utf-8")
    server = _start(script, work)
    try:
        yield server
    finally:
        server.stop()


def test_markdown_literal_shows_hostile_text_with_nothing_clickable(
    browser_context, markdown_server: AppServer
) -> None:
    page, watch = open_page(browser_context, markdown_server)
    try:
        page.goto(markdown_server.url, wait_until="domcontentloaded")
        page.locator(".st-key-rendered").get_by_text("every case rendered").wait_for(timeout=TIMEOUT_MS)
        found = {}
        for kind in ("safe", "raw"):
            for i in range(len(CASES)):
                box = page.locator(f".st-key-{kind}_{i}")
                box.locator('[data-testid="stMarkdownContainer"]').wait_for(state="attached", timeout=TIMEOUT_MS)
                found[kind, i] = box.evaluate(INSPECT_JS)
        failures = []
        for i, text in enumerate(CASES):
            safe = found["safe", i]
            if safe["links"] or set(safe["tags"]) - {"p", "br"}:
                failures.append(f"{text!r} rendered with {safe['tags']} and {safe['links']} link(s)")
            shown = " ".join(safe["text"].replace("\u2060", "").split())
            if shown != " ".join(text.split()):
                failures.append(f"{text!r} was shown as {shown!r}")
        for i in LINKED_RAW:
            if not found["raw", i]["links"]:
                failures.append(f"control: plain st.markdown of {CASES[i]!r} made no link (the check cannot see links)")
        assert not failures, "\n".join(failures)
        assert not watch.page_errors and not watch.dialogs, (watch.page_errors, watch.dialogs)
    finally:
        page.close()
