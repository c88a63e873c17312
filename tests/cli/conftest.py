"""The command line runs in this process (``geo.cli.main``); a few tests run it as a real subprocess."""

from __future__ import annotations

import pytest

from tests.helpers import InProcessCLI


@pytest.fixture
def run(capfd, monkeypatch) -> InProcessCLI:
    """``run("info", "--json", env={...})``: ``python -m geo info --json`` in this process."""
    return InProcessCLI(capfd, monkeypatch)
