"""Unit tests that write run on the tiny synthetic store (``tests/fixture_store.py``), not the demo.

A few tests still assert what only the demo holds (its wards' organisations, its counts); they get
a copy of the demo until they are rewritten for the tiny store or moved to ``tests/data/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from geo.store import Store
from tests.conftest import demo_copy_on, tiny_copy_on

#: Tests (module file::function) that still need the demo's own data.
STILL_ON_THE_DEMO = {
    "test_exports.py::test_html_map_shows_hostile_names_as_text",
    "test_exports.py::test_status_filter_and_people_columns",
    "test_hsds.py::test_every_record_is_valid_hsds",
    "test_hsds.py::test_mapping_and_links",
    "test_hsds.py::test_write_hsds_atomically_and_cli",
    "test_knowledge.py::test_add_and_update_organisation",
    "test_knowledge.py::test_join_up_on_the_demo_store",
    "test_knowledge.py::test_measure_copies_area_and_keeps_history",
    "test_knowledge.py::test_search_stories",
    "test_knowledge.py::test_set_organisation_areas_replaces_one_layer_only",
    "test_knowledge.py::test_story_report_escapes_user_text",
    "test_store.py::test_structured_where_never_runs_text_as_sql",
    "test_store.py::test_transaction_commits_changes_with_audit",
    "test_traits.py::test_gaps_list_the_strengths_within_reach",
    "test_traits.py::test_only_active_assets_count",
}


@pytest.fixture
def store_copy(request: pytest.FixtureRequest, backend: str, tmp_path: Path, tiny_path: Path) -> Iterator[Store]:
    """A private, writable copy of the tiny synthetic store, once per backend (the demo for the
    tests in :data:`STILL_ON_THE_DEMO`)."""
    key = f"{request.node.path.name}::{getattr(request.node, 'originalname', request.node.name)}"
    if key in STILL_ON_THE_DEMO:
        with demo_copy_on(backend, tmp_path) as store:
            yield store
    else:
        with tiny_copy_on(backend, tmp_path, tiny_path) as store:
            yield store
