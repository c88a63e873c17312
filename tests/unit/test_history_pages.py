"""The history is read a page at a time (issue 14, item 5): the store reads one page of the audit
log, newest first, without the rest, on both backends, and the pages add up to the whole history."""

from __future__ import annotations

import pytest

from geo import editing
from geo.errors import StoreError
from geo.store import Store


@pytest.fixture
def edited(store_copy: Store) -> Store:
    library = store_copy.read("assets", where={"type": "library"}).iloc[0]["id"]
    for i in range(7):
        editing.update_asset(store_copy, library, actor=f"editor{i}", description=f"Change {i}")
    editing.add_asset_type(store_copy, actor="admin", type_id="repair_cafe", label="Repair café", category="economic")
    return store_copy


def test_a_store_reads_one_page_of_the_audit_log_newest_first(edited: Store):
    whole = edited.read_audit()
    page, total = edited.read_audit_page(limit=3)
    assert total == len(whole)
    assert list(page["entry"]) == [len(whole) - 1, len(whole) - 2, len(whole) - 3]
    for _, row in page.iterrows():  # each entry is the log's row at that position
        written = whole.iloc[int(row["entry"])]
        assert [str(row[c]) for c in ("at", "by", "action", "layer", "feature_id", "after")] == [
            str(written[c]) for c in ("at", "by", "action", "layer", "feature_id", "after")
        ]
    older, _ = edited.read_audit_page(before=int(page["entry"].iloc[-1]), limit=3)
    assert list(older["entry"]) == [len(whole) - 4, len(whole) - 5, len(whole) - 6]
    assets, n_assets = edited.read_audit_page(layer="assets", limit=100)
    assert n_assets == int((whole["layer"] == "assets").sum()) == len(assets)
    assert set(assets["layer"]) == {"assets"}
    assert edited.read_audit_page(layer="nothing", limit=5)[0].empty
    with pytest.raises(StoreError):
        edited.read_audit_page(limit=-1)


def test_the_history_pages_add_up_to_the_whole_history(edited: Store):
    whole = editing.history(edited, layer=None, limit=None)
    seen: list[str] = []
    page = editing.history_page(edited, limit=3)
    pages = 1
    while True:
        assert page.total == len(whole) and len(page.entries) <= 3
        seen += list(page.entries["key"])
        if page.older is None:
            break
        page = editing.history_page(edited, before=page.older, limit=3)
        pages += 1
    assert seen == list(whole["key"])  # every change once, newest first, keys that undo accepts
    assert pages == -(-len(whole) // 3)
    first = editing.history_page(edited, layer="assets", limit=2)
    assert list(first.entries["changes"]) == list(editing.history(edited, limit=2)["changes"])
    assert first.entries["name"].iloc[0] and first.older is not None
    editing.undo(edited, first.entries["key"].iloc[0], actor="editor")  # a page's key undoes its change
    assert editing.history_page(edited, limit=1).entries["action"].iloc[0] == "undo"
