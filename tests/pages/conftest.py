"""Page tests read a private copy of the demo store, never the developer's working copy."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def private_store(store_copy, monkeypatch):
    """Point the app at ``store_copy`` and use the default basemap unless a test says otherwise."""
    monkeypatch.setenv("COMMON_GROUND_DATA", store_copy.location)
    monkeypatch.delenv("COMMON_GROUND_TILES", raising=False)
    return store_copy
