"""Shared fixtures: every test that writes works on its own copy of the demo store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from geo import schema
from geo.store import Store, open_store

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def demo_path() -> Path:
    """The shipped demo GeoPackage (read-only: never write to it)."""
    return schema.DEMO_GPKG


@pytest.fixture(scope="session")
def demo_store(demo_path: Path) -> Store:
    """A read-only handle on the shipped demo."""
    return open_store(demo_path)


@pytest.fixture
def store_copy(tmp_path: Path, demo_path: Path) -> Store:
    """A private, writable copy of the demo store."""
    target = tmp_path / "store.gpkg"
    shutil.copyfile(demo_path, target)
    return open_store(target)


@pytest.fixture(scope="session")
def taxonomy() -> schema.Taxonomy:
    return schema.load_taxonomy()


@pytest.fixture(scope="session")
def demo_assets(demo_store: Store):
    return demo_store.read("assets")


@pytest.fixture(scope="session")
def demo_wards(demo_store: Store):
    return demo_store.read("wards")
