"""Roles in the knowledge engine: who may write, contributions landing as pending, moderation
(approve, reject, withdraw), the queue, a person's own contributions, and hidden items kept out of
every public read. Runs on both backends (``store_copy``)."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from geo import auth, editing
from geo import community as k
from geo.auth import Principal, Role
from geo.errors import PermissionDeniedError, VersionConflictError
from geo.store import Store
from geo.validation import InvalidValueError, MissingValueError
from tests.helpers import store_digest

FIRTH_PARK = "E05010868"
CARA = Principal(sub="c-1", name="Cara", role=Role.CONTRIBUTOR)
OLU = Principal(sub="c-2", name="Olu", role=Role.CONTRIBUTOR)
EDA = Principal(sub="e-1", name="Eda", role=Role.EDITOR)
ADA = Principal(sub="a-1", name="Ada", role=Role.ADMIN)
LOCAL = "officer@example.org"  # a plain name: a trusted local caller, an admin


def _aspiration(store: Store, actor, **over) -> str:
    kw = dict(boundary_layer="wards", area_id=FIRTH_PARK, text="A warm place to eat together in winter",
              theme="Housing", raised_by="Firth Park Residents' Forum", raised_on="2025-01-15")  # fmt: skip
    return k.add_aspiration(store, actor=actor, **{**kw, **over})


def _story(store: Store, actor, **over) -> str:
    kw = dict(title="A supper club grew out of the pantry queue", summary="Thirty people a week now eat together.",
              body="People said winter was lonely.", boundary_layer="wards", area_id=FIRTH_PARK, themes="food",
              method="Ask the people already queuing", date="2025-08-31", source="Firth Park Residents' Forum")  # fmt: skip
    return k.add_story(store, actor=actor, **{**kw, **over})


def _measure(store: Store, asp: str) -> str:
    return k.add_success_measure(store, actor=LOCAL, aspiration_id=asp, measure="people sharing a meal each week",
                                 horizon="short", baseline=0, target=60, unit="people",
                                 agreed_by="Firth Park partnership", agreed_on="2025-02-10")  # fmt: skip


def _current(store: Store, measure_id: str) -> float:
    return float(store.read("success_measures").set_index("id").loc[measure_id, "current"])


def _status(store: Store, layer: str, item_id: str) -> str:
    return str(store.read(layer).set_index("id").loc[item_id, "status"])


def _one_sentence(exc: BaseException) -> str:
    msg = str(exc)
    assert msg.endswith(".") and not re.search(r"\.\s+[A-Z]", msg), msg
    return msg


def _public_stories(store: Store) -> list[str]:
    return list(k.search_stories(store.read("stories"))["title"])


# ----------------------------------------------------------------------------- who may write


def test_anonymous_and_contributor_writes_refused_and_nothing_written(store_copy):
    asp = _aspiration(store_copy, LOCAL)
    mid = _measure(store_copy, asp)
    org = store_copy.read("organisations")["id"].iloc[0]
    before, audit_rows = store_digest(store_copy), len(store_copy.read("audit_log"))
    anonymous_writes = {
        "add_aspiration": lambda who: _aspiration(store_copy, who),
        "add_story": lambda who: _story(store_copy, who),
        "record_measure_value": lambda who: k.record_measure_value(
            store_copy, mid, actor=who, value=5, recorded_on="2025-03-01"
        ),  # fmt: skip
    }
    editor_writes = {
        "add_success_measure": lambda who: k.add_success_measure(
            store_copy,
            actor=who,
            aspiration_id=asp,
            measure="m",
            horizon="short",
            baseline=0,
            target=1,
            agreed_by="Partners",
            agreed_on="2025-02-10",
        ),  # fmt: skip
        "add_organisation": lambda who: k.add_organisation(store_copy, actor=who, name="Pantry", kind="voluntary"),
        "update_organisation": lambda who: k.update_organisation(store_copy, org, actor=who, name="Renamed"),
        "set_organisation_areas": lambda who: k.set_organisation_areas(
            store_copy, org, actor=who, boundary_layer="wards", areas=[(FIRTH_PARK, "food")]
        ),  # fmt: skip
    }
    for name, write in {**anonymous_writes, **editor_writes}.items():
        with pytest.raises(PermissionDeniedError, match="Sign in") as info:
            write(auth.ANONYMOUS)
        _one_sentence(info.value)
        assert info.value.role == "anonymous", name
    for name, write in editor_writes.items():
        with pytest.raises(PermissionDeniedError, match=r"Your role \(contributor\) cannot") as info:
            write(CARA)
        assert info.value.role == "contributor", name
    assert len(store_copy.read("audit_log")) == audit_rows
    assert store_digest(store_copy) == before


def test_contributor_cannot_moderate_and_anonymous_cannot_withdraw(store_copy):
    sid = _story(store_copy, CARA)
    before = store_digest(store_copy)
    with pytest.raises(PermissionDeniedError, match="approve or reject contributions"):
        k.approve_item(store_copy, "stories", sid, actor=OLU)
    with pytest.raises(PermissionDeniedError, match="approve or reject contributions"):
        k.reject_item(store_copy, "stories", sid, actor=CARA, reason="no")
    with pytest.raises(PermissionDeniedError, match="Sign in to withdraw"):
        k.withdraw_item(store_copy, "stories", sid, actor=auth.ANONYMOUS)
    with pytest.raises(PermissionDeniedError):
        k.pending_items(store_copy, viewer=CARA)  # the queue names people: editors only
    assert store_digest(store_copy) == before


# ----------------------------------------------------------------------------- pending, then approved


def test_contributor_story_is_pending_and_hidden_until_an_editor_approves_it(store_copy):
    sid = _story(store_copy, CARA)
    row = store_copy.read("stories").set_index("id").loc[sid]
    assert row["status"] == "pending" and row["created_by"] == "Cara <c-1>"
    stories = store_copy.read("stories")
    assert _public_stories(store_copy) == []
    assert k.for_area(stories, boundary_layer="wards", area_id=FIRTH_PARK).empty
    assert len(k.for_area(stories, boundary_layer="wards", area_id=FIRTH_PARK, include_hidden=True)) == 1
    assert len(k.search_stories(stories, include_hidden=True)) == 1
    with pytest.raises(k.NotPublishedError, match="approve it first") as info:
        k.story_report(stories.set_index("id").loc[sid], fmt="html")
    _one_sentence(info.value)
    assert "supper club" in k.story_report(stories.set_index("id").loc[sid], include_hidden=True)

    queue = k.pending_items(store_copy, viewer=EDA)
    assert list(queue.columns) == list(k.QUEUE_COLUMNS)
    assert queue[["layer", "id", "title", "area_id", "created_by", "version"]].values.tolist() == [
        ["stories", sid, "A supper club grew out of the pantry queue", FIRTH_PARK, "Cara <c-1>", 1]
    ]
    assert k.approve_item(store_copy, "stories", sid, actor=EDA, if_version=1) == 2
    assert _status(store_copy, "stories", sid) == "published"
    assert _public_stories(store_copy) == ["A supper club grew out of the pantry queue"]
    assert k.pending_items(store_copy).empty
    entry = store_copy.read("audit_log").iloc[-1]
    assert (entry["by"], entry["action"], entry["layer"], entry["feature_id"]) == (
        "Eda <e-1>",
        "approve",
        "stories",
        sid,
    )
    assert json.loads(entry["before"])["status"] == "pending" and json.loads(entry["after"])["status"] == "published"


def test_contributor_aspiration_is_pending_then_open(store_copy):
    aid = _aspiration(store_copy, CARA, status="in progress")  # a contributor cannot choose its status
    assert _status(store_copy, "aspirations", aid) == "pending"

    def gaps() -> list[str]:
        return k.join_up(FIRTH_PARK, boundary_layer="wards", organisations=store_copy.read("organisations"),
                         organisation_areas=store_copy.read("organisation_areas"),
                         aspirations=store_copy.read("aspirations")).gaps  # fmt: skip

    assert "housing" not in gaps()
    assert k.for_area(store_copy.read("aspirations"), boundary_layer="wards", area_id=FIRTH_PARK).empty
    with pytest.raises(k.NotPublishedError, match="approve it first"):
        _measure(store_copy, aid)  # no measures agreed for a proposal nobody has checked
    k.approve_item(store_copy, "aspirations", aid, actor=ADA)
    assert _status(store_copy, "aspirations", aid) == "open"
    assert "housing" in gaps()
    assert len(k.for_area(store_copy.read("aspirations"), boundary_layer="wards", area_id=FIRTH_PARK)) == 1


def test_contributor_value_is_pending_and_only_applied_when_approved(store_copy):
    mid = _measure(store_copy, _aspiration(store_copy, LOCAL))
    k.record_measure_value(store_copy, mid, actor=EDA, value=12, recorded_on="2025-03-31")
    assert _current(store_copy, mid) == 12.0  # an editor's value is live at once
    vid = k.record_measure_value(store_copy, mid, actor=CARA, value=40, recorded_on="2025-05-31", note="May count")
    values = store_copy.read("measure_updates").set_index("id")
    assert values.loc[vid, "status"] == "pending" and values.loc[vid, "recorded_by"] == "Cara <c-1>"
    assert _current(store_copy, mid) == 12.0  # pending: current unchanged

    def points() -> list[float]:
        return list(
            k.measure_progress(store_copy.read("success_measures"), store_copy.read("measure_updates"))["value"]
        )

    assert points() == [0.0, 12.0]
    queue = k.pending_items(store_copy)
    assert queue[["layer", "id", "title", "summary", "area_id"]].values.tolist() == [
        ["measure_updates", vid, "people sharing a meal each week: 40 people on 2025-05-31", "May count", FIRTH_PARK]
    ]
    k.approve_item(store_copy, "measure_updates", vid, actor=EDA)
    assert _current(store_copy, mid) == 40.0 and points() == [0.0, 12.0, 40.0]
    audit = store_copy.read("audit_log")
    assert list(audit["action"].iloc[-2:]) == ["approve", "update"]
    assert json.loads(audit["after"].iloc[-1])["current"] == 40.0

    # A rejected value never counts, even with the latest date.
    late = k.record_measure_value(store_copy, mid, actor=OLU, value=99, recorded_on="2025-09-30")
    k.reject_item(store_copy, "measure_updates", late, actor=EDA, reason="The count was for the whole city")
    assert _current(store_copy, mid) == 40.0 and points() == [0.0, 12.0, 40.0]
    k.record_measure_value(store_copy, mid, actor=EDA, value=30, recorded_on="2025-06-30")
    assert _current(store_copy, mid) == 30.0  # the latest published value, the rejected one ignored


def test_editors_and_local_callers_records_are_live_at_once(store_copy):
    aid = _aspiration(store_copy, EDA, status="in progress")
    sid = _story(store_copy, ADA)
    local = _aspiration(store_copy, LOCAL)
    assert _status(store_copy, "aspirations", aid) == "in progress"
    assert _status(store_copy, "aspirations", local) == "open"
    assert _status(store_copy, "stories", sid) == "published"
    assert k.pending_items(store_copy).empty
    assert store_copy.read("stories").set_index("id").loc[sid, "created_by"] == "Ada <a-1>"


# ----------------------------------------------------------------------------- never one's own


def test_an_editor_cannot_approve_or_reject_their_own_contribution(store_copy):
    sid = _story(store_copy, Principal(sub="e-1", name="Eda", role=Role.CONTRIBUTOR))  # before she was an editor
    before = store_digest(store_copy)
    with pytest.raises(PermissionDeniedError, match="cannot approve your own contribution") as info:
        k.approve_item(store_copy, "stories", sid, actor=EDA)
    _one_sentence(info.value)
    renamed = Principal(sub="e-1", name="Eda Renamed", role=Role.EDITOR)  # the same person by her sub
    with pytest.raises(PermissionDeniedError, match="cannot reject your own contribution"):
        k.reject_item(store_copy, "stories", sid, actor=renamed, reason="second thoughts")
    assert store_digest(store_copy) == before
    k.approve_item(store_copy, "stories", sid, actor=ADA)  # another person can
    assert _status(store_copy, "stories", sid) == "published"


# ----------------------------------------------------------------------------- withdraw


def test_a_contributor_withdraws_their_own_pending_item_only(store_copy):
    mine = _aspiration(store_copy, CARA)
    theirs = _story(store_copy, OLU)
    before = store_digest(store_copy)
    with pytest.raises(PermissionDeniedError, match="only withdraw your own") as info:
        k.withdraw_item(store_copy, "stories", theirs, actor=CARA)
    assert "Olu" not in _one_sentence(info.value)  # never names the other person
    with pytest.raises(PermissionDeniedError, match="only withdraw your own"):
        k.withdraw_item(store_copy, "stories", theirs, actor=EDA)  # editors reject; they do not withdraw
    assert store_digest(store_copy) == before

    assert k.withdraw_item(store_copy, "aspirations", mine, actor=CARA) == 2
    assert _status(store_copy, "aspirations", mine) == "withdrawn"
    assert k.pending_items(store_copy)["id"].tolist() == [theirs]
    entry = store_copy.read("audit_log").iloc[-1]
    assert (entry["by"], entry["action"]) == ("Cara <c-1>", "withdraw")
    with pytest.raises(k.NotPendingError, match="is withdrawn, not pending") as info:
        k.withdraw_item(store_copy, "aspirations", mine, actor=CARA)
    _one_sentence(info.value)
    with pytest.raises(k.NotPendingError, match="only pending contributions can be approved"):
        k.approve_item(store_copy, "aspirations", mine, actor=EDA)

    k.approve_item(store_copy, "stories", theirs, actor=EDA)
    with pytest.raises(k.NotPendingError, match="is published, not pending"):
        k.withdraw_item(store_copy, "stories", theirs, actor=OLU)  # too late once approved


# ----------------------------------------------------------------------------- reject


def test_reject_needs_a_reason_and_hides_the_item(store_copy):
    sid = _story(store_copy, CARA)
    before = store_digest(store_copy)
    for reason in ("", "   ", None):
        with pytest.raises(MissingValueError, match="give a reason") as info:
            k.reject_item(store_copy, "stories", sid, actor=EDA, reason=reason)
        _one_sentence(info.value)
    with pytest.raises(InvalidValueError, match="shorten it"):
        k.reject_item(store_copy, "stories", sid, actor=EDA, reason="x" * 5000)
    assert store_digest(store_copy) == before

    assert k.reject_item(store_copy, "stories", sid, actor=EDA, reason="  It names a child.  ", if_version=1) == 2
    assert _status(store_copy, "stories", sid) == "rejected"
    assert _public_stories(store_copy) == [] and k.pending_items(store_copy).empty
    entry = store_copy.read("audit_log").iloc[-1]
    assert entry["action"] == "reject" and json.loads(entry["after"])["_reason"] == "It names a child."
    with pytest.raises(k.NotPendingError, match="is rejected, not pending"):
        k.approve_item(store_copy, "stories", sid, actor=ADA)


# ----------------------------------------------------------------------------- refusals


def test_stale_unknown_and_unmoderated_items_are_refused(store_copy):
    sid = _story(store_copy, CARA)
    aid = _aspiration(store_copy, OLU)
    k.approve_item(store_copy, "aspirations", aid, actor=EDA)
    before = store_digest(store_copy)
    with pytest.raises(VersionConflictError, match="Eda") as info:
        k.reject_item(store_copy, "aspirations", aid, actor=ADA, reason="duplicate", if_version=1)
    assert info.value.expected == 1 and info.value.current == 2
    with pytest.raises(k.ItemNotFoundError, match="no story with id 'nope'") as info:
        k.approve_item(store_copy, "stories", "nope", actor=EDA)
    _one_sentence(info.value)
    with pytest.raises(InvalidValueError, match="use aspirations, stories or measure_updates") as info:
        k.approve_item(store_copy, "assets", sid, actor=EDA)
    _one_sentence(info.value)
    assert store_digest(store_copy) == before


# ----------------------------------------------------------------------------- my contributions


def test_my_contributions_lists_a_persons_own_items_in_every_layer(store_copy):
    asset = editing.contribute_asset(store_copy, actor=CARA, contributed_by="Firth Park Residents",
                                     name="Community fridge", type_id="library", lon=-1.4701, lat=53.3811)  # fmt: skip
    aid = _aspiration(store_copy, CARA)
    k.approve_item(store_copy, "aspirations", aid, actor=EDA)
    mid = _measure(store_copy, aid)
    vid = k.record_measure_value(store_copy, mid, actor=CARA, value=7, recorded_on="2025-03-01")
    sid = _story(store_copy, CARA)
    k.withdraw_item(store_copy, "stories", sid, actor=CARA)
    _story(store_copy, OLU, title="Not hers")

    mine = k.my_contributions(store_copy, CARA)
    assert list(mine.columns) == list(k.CONTRIBUTION_COLUMNS)
    got = {(r.layer, r.id): (r.status, r.title) for r in mine.itertuples()}
    assert got == {
        ("assets", asset): ("pending", "Community fridge"),
        ("aspirations", aid): ("open", "A warm place to eat together in winter"),
        ("measure_updates", vid): ("pending", "people sharing a meal each week: 7 people on 2025-03-01"),
        ("stories", sid): ("withdrawn", "A supper club grew out of the pantry queue"),
    }
    assert mine["created_at"].is_monotonic_decreasing
    assert (
        k.my_contributions(store_copy, Principal(sub="c-1", name="Cara Renamed", role=Role.CONTRIBUTOR))["id"].tolist()
        == mine["id"].tolist()
    )
    assert k.my_contributions(store_copy, auth.ANONYMOUS).empty
    assert k.my_contributions(store_copy, OLU)["title"].tolist() == ["Not hers"]


# ----------------------------------------------------------------------------- the public reads


def test_hidden_statuses_never_reach_public_reads_and_empty_counts_as_published():
    frame = pd.DataFrame(
        {"id": list("abcdef"), "status": ["published", None, "pending", "Rejected ", "withdrawn", "removed"]}
    )
    assert k.visible(frame)["id"].tolist() == ["a", "b"]
    assert k.visible(frame.drop(columns="status")) is not None and len(k.visible(frame.drop(columns="status"))) == 6
    assert [k.is_hidden(s) for s in ("open", "", None, float("nan"), "PENDING")] == [False, False, False, False, True]
    measures = pd.DataFrame({"id": ["m"], "measure": ["x"], "unit": [""], "baseline": [0.0], "target": [10.0],
                             "agreed_on": ["2025-01-01"], "agreed_by": ["P"]})  # fmt: skip
    updates = pd.DataFrame({"measure_id": ["m"] * 3, "value": [1.0, 2.0, 3.0], "note": ["", "", ""],
                            "recorded_on": ["2025-02-01", "2025-03-01", "2025-04-01"], "recorded_by": ["a", "b", "c"],
                            "status": [pd.NA, "published", "pending"]})  # fmt: skip
    assert k.measure_progress(measures, updates)["value"].tolist() == [0.0, 1.0, 2.0]
    assert k.measure_progress(measures, updates, include_hidden=True)["value"].tolist() == [0.0, 1.0, 2.0, 3.0]
