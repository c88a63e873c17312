"""geo.editing: every change audited (who, when, before, after), undo exact, bad input changes nothing."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from geo import editing
from geo.analysis import areas as analysis
from geo.errors import CommonGroundError, MalformedPostcodeError, OutsideAreaError, TaxonomyError
from geo.store import Store
from tests.helpers import store_digest

TOWN_HALL = (-1.4701, 53.3811)
STAMPS = ("updated_at", "updated_by", "version")  # set by the store on every write


def _digest(path) -> str:
    return store_digest(path)


def _asset(store: Store, asset_id: str) -> dict:
    """One asset as the engine snapshots it: every attribute plus lon/lat."""
    assets = store.read("assets")
    idx = assets.index[assets["id"] == asset_id]
    assert len(idx) == 1, f"expected one asset {asset_id}"
    return editing._snapshot(assets, idx[0])


def _log(store: Store) -> pd.DataFrame:
    return store.read("audit_log")


def _last(store: Store) -> dict:
    row = _log(store).iloc[-1].to_dict()
    row["before"] = json.loads(row["before"]) if row["before"] else None
    row["after"] = json.loads(row["after"]) if row["after"] else None
    return row


def _without_stamps(snap: dict) -> dict:
    return {k: v for k, v in snap.items() if k not in STAMPS}


def _recent(ts: str) -> bool:
    at = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return abs(datetime.now(UTC) - at) < timedelta(minutes=5)


@pytest.fixture
def library(store_copy: Store) -> str:
    """The id of a real demo asset (an active library)."""
    assets = store_copy.read("assets")
    return str(assets.loc[assets["type"] == "library", "id"].iloc[0])


@pytest.fixture
def pending(store_copy: Store) -> str:
    return editing.contribute_asset(
        store_copy,
        actor="sam@example.org",
        contributed_by="Pitsmoor Friends",
        name="Pitsmoor Community Garden",
        type_id="allotment",
        lon=-1.4580,
        lat=53.3950,
        description="Open on Saturdays",
    )


# ----------------------------------------------------------------------------- adding


def test_add_asset_is_active_stamped_and_audited(store_copy: Store):
    n = len(store_copy.read("assets"))
    asset_id = editing.add_asset(
        store_copy,
        actor="ed@sheffield.example",
        name="  Town Hall Hub ",
        type_id="community_centre",
        lon=TOWN_HALL[0],
        lat=TOWN_HALL[1],
        postcode="s1 2he",
        url="https://example.org/hub",
        opening_hours="Mon-Fri 9-5",
    )
    assert uuid.UUID(asset_id)
    assets = store_copy.read("assets")
    assert len(assets) == n + 1
    a = _asset(store_copy, asset_id)
    assert a["name"] == "Town Hall Hub" and a["postcode"] == "S1 2HE"
    assert a["category"] == "physical" and a["status"] == "active"
    assert a["created_by"] == a["updated_by"] == "ed@sheffield.example"
    assert _recent(a["created_at"]) and a["created_at"] == a["updated_at"]
    assert (a["lon"], a["lat"]) == TOWN_HALL
    entry = _last(store_copy)
    assert entry["action"] == "add" and entry["by"] == "ed@sheffield.example" and _recent(entry["at"])
    assert entry["layer"] == "assets" and entry["feature_id"] == asset_id
    assert entry["before"] is None and entry["after"] == a
    assert asset_id in set(analysis.filter_assets(assets)["id"])
    assert store_copy.check() == []


def test_add_keeps_every_other_asset_as_it_was(store_copy: Store):
    before = store_copy.read("assets")
    editing.add_asset(store_copy, actor="ed", name="New Park", type_id="park", lon=-1.50, lat=53.40)
    after = store_copy.read("assets")
    pd.testing.assert_frame_equal(after.iloc[: len(before)], before)


def test_contribution_is_pending_until_approved(store_copy: Store, pending: str):
    a = _asset(store_copy, pending)
    assert (
        a["status"] == "pending" and a["contributed_by"] == "Pitsmoor Friends" and a["created_by"] == "sam@example.org"
    )
    assert _last(store_copy)["action"] == "contribute"
    assert pending not in set(analysis.filter_assets(store_copy.read("assets"))["id"])
    assert list(editing.moderation_queue(store_copy)["id"]) == [pending]

    editing.approve(store_copy, pending, actor="editor@example.org")
    assert _asset(store_copy, pending)["status"] == "active"
    assert pending in set(analysis.filter_assets(store_copy.read("assets"))["id"])
    assert editing.moderation_queue(store_copy).empty
    entry = _last(store_copy)
    assert entry["action"] == "approve" and entry["by"] == "editor@example.org"
    assert entry["before"]["status"] == "pending" and entry["after"]["status"] == "active"


def test_contribution_needs_who_it_comes_from(store_copy: Store):
    digest = _digest(store_copy.location)
    with pytest.raises(editing.MissingValueError, match="community group or person"):
        editing.contribute_asset(
            store_copy, actor="sam", contributed_by="  ", name="X", type_id="park", lon=-1.5, lat=53.4
        )
    assert _digest(store_copy.location) == digest


def test_reject_needs_a_reason_and_keeps_it(store_copy: Store, pending: str):
    with pytest.raises(editing.MissingValueError, match="reason"):
        editing.reject(store_copy, pending, actor="editor", reason="")
    editing.reject(store_copy, pending, actor="editor", reason="Already mapped as Pitsmoor Allotments")
    assert _asset(store_copy, pending)["status"] == "rejected"
    entry = _last(store_copy)
    assert entry["action"] == "reject" and entry["after"]["_reason"] == "Already mapped as Pitsmoor Allotments"
    assert pending not in set(analysis.filter_assets(store_copy.read("assets"))["id"])
    with pytest.raises(editing.StatusError, match="not pending"):
        editing.approve(store_copy, pending, actor="editor")


# ----------------------------------------------------------------------------- changing


def test_update_records_before_and_after(store_copy: Store, library: str):
    old = _asset(store_copy, library)
    editing.update_asset(
        store_copy,
        library,
        actor="kim@example.org",
        name="Renamed Library",
        type="community_centre",
        lon=old["lon"] + 0.001,
        opening_hours=old["opening_hours"],
    )
    new = _asset(store_copy, library)
    assert new["name"] == "Renamed Library"
    assert new["type"] == "community_centre" and new["category"] == "physical"  # category follows the type
    assert new["lon"] == pytest.approx(old["lon"] + 0.001) and new["lat"] == old["lat"]
    assert new["updated_by"] == "kim@example.org" and new["created_by"] == old["created_by"]
    entry = _last(store_copy)
    assert entry["action"] == "update" and entry["by"] == "kim@example.org" and entry["feature_id"] == library
    assert entry["before"] == old and entry["after"] == new
    changes = editing.history(store_copy, feature_id=library)["changes"].iloc[0]
    assert "moved" in changes and "'Renamed Library'" in changes and "opening_hours" not in changes


def test_update_rejects_unknown_columns_and_no_change(store_copy: Store, library: str):
    digest = _digest(store_copy.location)
    with pytest.raises(editing.InvalidValueError, match="'status' cannot be edited here; editable columns are: name"):
        editing.update_asset(store_copy, library, actor="kim", status="active")
    name = _asset(store_copy, library)["name"]
    with pytest.raises(editing.NoChangeError, match="nothing was saved"):
        editing.update_asset(store_copy, library, actor="kim", name=f"  {name} ")
    with pytest.raises(editing.MissingValueError, match="name is empty; give the asset a name"):
        editing.update_asset(store_copy, library, actor="kim", name="")
    assert _digest(store_copy.location) == digest


def test_update_validates_only_what_changes(store_copy: Store, library: str):
    with store_copy.transaction(actor="legacy import") as tx:  # a value from before validation existed
        tx.update("assets", library, {"postcode": "S10 ?"})
    editing.update_asset(store_copy, library, actor="kim", name="Broomhill Library (volunteer)", postcode="S10 ?")
    assert _asset(store_copy, library)["name"] == "Broomhill Library (volunteer)"
    with pytest.raises(MalformedPostcodeError):
        editing.update_asset(store_copy, library, actor="kim", postcode="S10 ??")


def test_close_and_remove(store_copy: Store, library: str):
    editing.close_asset(store_copy, library, actor="kim")
    assert _asset(store_copy, library)["status"] == "closed" and _last(store_copy)["action"] == "close"
    with pytest.raises(editing.StatusError, match="already closed"):
        editing.close_asset(store_copy, library, actor="kim")
    n = len(store_copy.read("assets"))
    editing.remove_asset(store_copy, library, actor="kim")
    assets = store_copy.read("assets")
    assert len(assets) == n  # a soft delete: the feature stays, with its history
    assert _asset(store_copy, library)["status"] == "removed"
    assert library not in set(analysis.filter_assets(assets, statuses=("active", "closed", "pending"))["id"])
    assert list(editing.history(store_copy, feature_id=library)["action"]) == ["remove", "close"]
    with pytest.raises(editing.StatusError, match="undo the removal"):
        editing.update_asset(store_copy, library, actor="kim", name="Back again")


# ----------------------------------------------------------------------------- history and undo


def test_history_newest_first_with_keys(store_copy: Store, library: str, pending: str):
    editing.update_asset(store_copy, library, actor="a", description="First")
    editing.update_asset(store_copy, library, actor="b", description="Second")
    h = editing.history(store_copy)
    assert list(h["entry"]) == [2, 1, 0]
    assert list(h["action"]) == ["update", "update", "contribute"]
    assert list(h.columns[:2]) == ["entry", "key"] and all(re.fullmatch(r"\d+-[0-9a-f]{12}", k) for k in h["key"])
    assert list(editing.history(store_copy, feature_id=library, limit=1)["by"]) == ["b"]
    assert editing.history(store_copy, layer="wards").empty
    assert h.loc[0, "name"] == _asset(store_copy, library)["name"]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda s, i: editing.update_asset(s, i, actor="kim", name="Wrong", lon=-1.40, lat=53.42, url=""),
            id="update",
        ),
        pytest.param(lambda s, i: editing.close_asset(s, i, actor="kim"), id="close"),
        pytest.param(lambda s, i: editing.remove_asset(s, i, actor="kim"), id="remove"),
    ],
)
def test_undo_restores_attributes_and_geometry_exactly(store_copy: Store, library: str, change):
    original = _asset(store_copy, library)
    change(store_copy, library)
    assert _asset(store_copy, library) != original
    changed = _asset(store_copy, library)
    key = editing.history(store_copy)["key"].iloc[0]
    editing.undo(store_copy, key, actor="lee@example.org")
    restored = _asset(store_copy, library)
    assert _without_stamps(restored) == _without_stamps(original)  # every attribute, and lon/lat
    assert restored["updated_by"] == "lee@example.org"  # the stamps say who undid it
    assert restored["version"] == changed["version"] + 1  # an undo is a change like any other
    geom = store_copy.read("assets").set_index("id").loc[library, "geometry"]
    assert (geom.x, geom.y) == (original["lon"], original["lat"])
    entry = _last(store_copy)
    assert entry["action"] == "undo" and entry["by"] == "lee@example.org" and entry["feature_id"] == library
    assert entry["before"] == changed and entry["after"]["_undoes"] == key
    assert {k: v for k, v in entry["after"].items() if not k.startswith("_")} == restored
    assert store_copy.check() == []


def test_undo_of_approval_and_rejection_makes_it_pending_again(store_copy: Store, pending: str):
    editing.approve(store_copy, pending, actor="editor")
    editing.undo(store_copy, editing.history(store_copy)["key"].iloc[0], actor="editor")
    assert _asset(store_copy, pending)["status"] == "pending"
    editing.reject(store_copy, pending, actor="editor", reason="duplicate")
    editing.undo(store_copy, editing.history(store_copy)["key"].iloc[0], actor="editor")
    assert list(editing.moderation_queue(store_copy)["id"]) == [pending]


def test_undo_of_an_add_removes_it_softly(store_copy: Store, pending: str):
    editing.undo(store_copy, 0, actor="editor")  # entry 0: the contribution
    assert _asset(store_copy, pending)["status"] == "removed"
    assert editing.moderation_queue(store_copy).empty
    assert _last(store_copy)["action"] == "undo"


def test_undo_order_newest_first_and_undo_of_undo(store_copy: Store, library: str):
    original = _asset(store_copy, library)
    editing.update_asset(store_copy, library, actor="a", name="One")
    editing.update_asset(store_copy, library, actor="b", name="Two")
    digest = _digest(store_copy.location)
    with pytest.raises(editing.UndoError, match="has changed since change 0.*undo the later changes first"):
        editing.undo(store_copy, 0, actor="c")
    assert _digest(store_copy.location) == digest
    editing.undo(store_copy, 1, actor="c")
    assert _asset(store_copy, library)["name"] == "One"
    editing.undo(store_copy, 0, actor="c")
    assert _asset(store_copy, library)["name"] == original["name"]
    editing.undo(store_copy, 3, actor="c")  # undo the last undo: a redo
    assert _asset(store_copy, library)["name"] == "One"
    assert list(editing.history(store_copy)["action"]) == ["undo", "undo", "undo", "update", "update"]
    assert editing.history(store_copy)["changes"].iloc[0].endswith("undoes change 3")


def test_undo_refuses_a_stale_key(store_copy: Store, library: str):
    editing.update_asset(store_copy, library, actor="a", name="One")
    key = editing.history(store_copy)["key"].iloc[0]
    forged = key.split("-")[0] + "-" + "0" * 12
    with pytest.raises(editing.AuditEntryNotFoundError, match="not the one that was shown"):
        editing.undo(store_copy, forged, actor="c")


# ----------------------------------------------------------------------------- bad input changes nothing


def _add(store: Store, **kw):
    args = {"actor": "ed", "name": "Hub", "type_id": "community_centre", "lon": TOWN_HALL[0], "lat": TOWN_HALL[1]}
    return editing.add_asset(store, **{**args, **kw})


BAD = [
    (
        "unknown type",
        lambda s, i: _add(s, type_id="pub"),
        TaxonomyError,
        r"type 'pub' is not an asset type of the taxonomy; choose one of: allotment",
    ),
    ("empty actor", lambda s, i: _add(s, actor="  "), editing.MissingValueError, "who made it"),
    ("no actor on undo", lambda s, i: editing.undo(s, 0, actor=""), editing.MissingValueError, "who made it"),
    ("empty name", lambda s, i: _add(s, name=" "), editing.MissingValueError, "name is empty"),
    ("swapped lon/lat", lambda s, i: _add(s, lon=TOWN_HALL[1], lat=TOWN_HALL[0]), OutsideAreaError, "looks swapped"),
    ("outside", lambda s, i: _add(s, lon=-0.1276, lat=51.5072), editing.CoordinatesError, "outside this store's area"),
    ("not a number", lambda s, i: _add(s, lon="west"), editing.CoordinatesError, "lon 'west' is not a number"),
    ("bad url", lambda s, i: _add(s, url="javascript:alert(1)"), editing.InvalidValueError, "https://"),
    ("bad postcode", lambda s, i: _add(s, postcode="banana"), MalformedPostcodeError, "not a UK postcode"),
    ("unmappable type", lambda s, i: _add(s, type_id="skill_share"), editing.InvalidValueError, "never mapped"),
    ("unknown column", lambda s, i: _add(s, colour="red"), editing.InvalidValueError, "cannot be edited"),
    (
        "update unknown id",
        lambda s, i: editing.update_asset(s, "nope", actor="a", name="X"),
        editing.AssetNotFoundError,
        "no asset with id 'nope'",
    ),
    (
        "move swapped",
        lambda s, i: editing.update_asset(s, i, actor="a", lon=53.38, lat=-1.47),
        editing.CoordinatesError,
        "swapped",
    ),
    (
        "close unknown id",
        lambda s, i: editing.close_asset(s, "nope", actor="a"),
        editing.AssetNotFoundError,
        "no asset with id",
    ),
    (
        "remove unknown id",
        lambda s, i: editing.remove_asset(s, "nope", actor="a"),
        editing.AssetNotFoundError,
        "no asset with id",
    ),
    (
        "approve active",
        lambda s, i: editing.approve(s, i, actor="a"),
        editing.StatusError,
        "only pending contributions",
    ),
    (
        "reject unknown id",
        lambda s, i: editing.reject(s, "nope", actor="a", reason="r"),
        editing.AssetNotFoundError,
        "no asset",
    ),
    (
        "undo unknown entry",
        lambda s, i: editing.undo(s, 99, actor="a"),
        editing.AuditEntryNotFoundError,
        "no change number 99",
    ),
    (
        "undo garbage key",
        lambda s, i: editing.undo(s, "latest", actor="a"),
        editing.AuditEntryNotFoundError,
        "not a history entry",
    ),
]


@pytest.mark.parametrize(("what", "call", "error", "message"), BAD, ids=[b[0] for b in BAD])
def test_invalid_input_raises_clearly_and_leaves_the_store_byte_identical(
    store_copy: Store, library, what, call, error, message
):
    digest = _digest(store_copy.location)
    with pytest.raises(error, match=message) as info:
        call(store_copy, library)
    assert isinstance(info.value, CommonGroundError)
    text = str(info.value)
    assert text.endswith(".") and "\n" not in text  # one sentence a page or the CLI can show
    assert _digest(store_copy.location) == digest
    assert _log(store_copy).empty


def test_undo_refuses_changes_it_did_not_make(store_copy: Store):
    with store_copy.transaction(actor="importer") as tx:
        tx.audit("import", "assets", None, None, {"rows": 3})
    digest = _digest(store_copy.location)
    with pytest.raises(editing.UndoError, match="Only asset changes made in Common Ground"):
        editing.undo(store_copy, 0, actor="a")
    assert _digest(store_copy.location) == digest
