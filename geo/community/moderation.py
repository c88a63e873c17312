"""Moderation of contributors' aspirations, stories and measure values; a person's own contributions."""

from __future__ import annotations

import pandas as pd

from geo import auth, schema, validation
from geo.auth import Principal
from geo.community._common import (
    _NOUN,
    LIVE_STATUS,
    MODERATED_LAYERS,
    Actor,
    _authorise,
    _blank,
    _label,
    _plain,
    _status,
)
from geo.community.aspirations import _apply_current
from geo.errors import (
    ItemNotFoundError,
    NotPendingError,
    PermissionDeniedError,
)
from geo.store import Store

# --------------------------------------------------------------------------------------------
# Moderation: contributors' aspirations, stories and measure values
# --------------------------------------------------------------------------------------------

#: The columns of :func:`pending_items` (``created_by`` is a person's name: editors only).
QUEUE_COLUMNS = ("layer", "id", "title", "summary", "boundary_layer", "area_id", "created_at", "created_by", "version")
#: The columns of :func:`my_contributions`.
CONTRIBUTION_COLUMNS = ("layer", "id", "title", "status", "created_at", "version")


def _title(layer: str, row: dict) -> str:
    """A short title of an item for people: an aspiration's text, a story's title, a value and its date."""
    if layer == "aspirations":
        text = row.get("text")
    elif layer == "measure_updates":
        value = row.get("value")
        shown = f"{float(value):g}" if not _blank(value) else "?"
        text = f"value {shown} recorded on {row.get('recorded_on') or '?'}"
    else:
        text = row.get("title") if layer == "stories" else row.get("name")
    text = "" if _blank(text) else " ".join(str(text).split())
    return text if len(text) <= 80 else text[:79] + "…"


def _value_title(row: dict, measure: dict) -> str:
    """A measure value for people: ``"people sharing a meal: 40 people on 2025-03-31"``."""
    what = " ".join(str(measure.get("measure") or row.get("measure_id") or "a measure").split())
    what = what if len(what) <= 60 else what[:59] + "…"
    value = row.get("value")
    shown = f"{float(value):g}" if not _blank(value) else "?"
    unit = "" if _blank(measure.get("unit")) else f" {measure['unit']}"
    return f"{what}: {shown}{unit} on {row.get('recorded_on') or '?'}"


def _version(row: dict) -> int:
    v = row.get("version")
    return 1 if _blank(v) else int(v)


def _moderated_layer(layer: object) -> str:
    if layer not in MODERATED_LAYERS:
        raise validation.InvalidValueError(
            f"{str(layer)[:40]!r} is not a layer whose contributions are moderated here; use aspirations, stories or "
            "measure_updates (assets are moderated with geo.editing).",
            field="layer",
            value=layer,
        )
    return str(layer)


def _reason(value: object) -> str:
    """A rejection's reason, stripped: required, and at most a description long."""
    if _blank(value):
        raise validation.MissingValueError(
            "reason is empty; say why the contribution is rejected, so the contributor can be told: give a reason.",
            field="reason",
            value=value,
        )
    text = str(value).strip()
    if len(text) > validation.MAX_TEXT_LENGTH:
        raise validation.InvalidValueError(
            f"reason is {len(text):,} characters long; shorten it to {validation.MAX_TEXT_LENGTH:,} characters or fewer.",
            field="reason",
            value=value,
        )
    return text


def _moderate(
    store: Store,
    layer: str,
    item_id: object,
    *,
    principal: Principal,
    who: str,
    action: str,
    if_version: int | None,
    note: dict | None = None,
) -> int:
    """Move one pending item to its next status in one transaction, audited as ``action``."""
    new_status = {"approve": LIVE_STATUS[layer], "reject": "rejected", "withdraw": "withdrawn"}[action]
    done = {"approve": "approved", "reject": "rejected", "withdraw": "withdrawn"}[action]
    key = "" if _blank(item_id) else str(item_id).strip()
    noun = _NOUN[layer]
    with store.transaction(actor=who) as tx:
        before = tx.get(layer, key) if key and tx.has_layer(layer) else None
        if before is None:
            raise ItemNotFoundError(
                f"There is no {noun} with id {key[:80]!r}; pick one from the moderation queue or from your contributions."
            )
        if if_version is not None and _version(before) != int(if_version):
            tx.update(layer, key, {}, if_version=int(if_version))  # raises VersionConflictError, naming who
        label = _label(_title(layer, before))
        if action == "withdraw":
            if not principal.owns(before.get("created_by")):
                raise PermissionDeniedError(
                    f"You can only withdraw your own contributions, and the {noun} {label} was proposed by someone "
                    "else; ask an editor to reject it if it is wrong.",
                    action="withdraw a proposal",
                    role=principal.role.label,
                )
        else:
            auth.require_not_own(principal, before.get("created_by"), doing=action)
        status = _status(layer, before.get("status"))
        if status != "pending":
            raise NotPendingError(
                f"The {noun} {label} is {status}, not pending; only pending contributions can be {done}, so nothing "
                "was changed."
            )
        _, after = tx.update(layer, key, {"status": new_status}, if_version=if_version)
        tx.audit(action, layer, key, _plain(before), {**_plain(after), **(note or {})})
        if layer == "measure_updates" and action == "approve":
            _apply_current(tx, str(after["measure_id"]))
        return _version(after)


def approve_item(store: Store, layer: str, item_id: str, *, actor: Actor, if_version: int | None = None) -> int:
    """Publish a contributor's pending aspiration (``open``), story or measure value (``published``).

    An approved measure value is applied to its measure's ``current`` in the same transaction (the
    latest published value by ``recorded_on`` wins, as for :func:`record_measure_value`).

    Parameters
    ----------
    layer
        ``"aspirations"``, ``"stories"`` or ``"measure_updates"`` (:data:`MODERATED_LAYERS`).
    item_id
        The item's id (:func:`pending_items` lists them).
    actor
        Needs ``moderate`` (an editor or admin), and may not approve their own contribution.
    if_version
        The version the editor saw (``pending_items()["version"]``): a stale one is refused with
        :class:`~geo.errors.VersionConflictError` and nothing is saved.

    Returns
    -------
    int
        The item's new version.

    Raises
    ------
    PermissionDeniedError
        ``actor`` cannot moderate, or made the contribution.
    ItemNotFoundError, NotPendingError
        No such item, or it is not pending (already approved, rejected or withdrawn).
    """
    layer = _moderated_layer(layer)
    principal, who = _authorise(actor, "moderate")
    return _moderate(store, layer, item_id, principal=principal, who=who, action="approve", if_version=if_version)


def reject_item(
    store: Store, layer: str, item_id: str, *, actor: Actor, reason: str, if_version: int | None = None
) -> int:
    """Turn down a contributor's pending item (status ``rejected``: kept for history, never shown).

    ``reason`` is required (a :class:`~geo.validation.MissingValueError` without it) and is kept in
    the audit entry as ``_reason``, so the contributor can be told. Otherwise as :func:`approve_item`
    (``moderate``; never one's own contribution; ``if_version``). Returns the item's new version.
    """
    layer = _moderated_layer(layer)
    principal, who = _authorise(actor, "moderate")
    note = {"_reason": _reason(reason)}
    return _moderate(store, layer, item_id, principal=principal, who=who, action="reject", if_version=if_version,
                     note=note)  # fmt: skip


def withdraw_item(store: Store, layer: str, item_id: str, *, actor: Actor, if_version: int | None = None) -> int:
    """Withdraw one's own pending contribution (status ``withdrawn``: kept for history, never shown).

    ``actor`` needs ``withdraw`` (any signed-in person) and must be the contributor who made it
    (:meth:`geo.auth.Principal.owns` of its ``created_by``); only a pending item can be withdrawn.
    Returns the item's new version.

    Raises
    ------
    PermissionDeniedError
        Not signed in, or someone else's contribution.
    ItemNotFoundError, NotPendingError
        No such item, or it is no longer pending (an editor has approved or rejected it).
    """
    layer = _moderated_layer(layer)
    principal, who = _authorise(actor, "withdraw")
    return _moderate(store, layer, item_id, principal=principal, who=who, action="withdraw", if_version=if_version)


def _layer_rows(store: Store, name: str, **query) -> pd.DataFrame:
    return store.read(name, **query) if store.has_layer(name) else schema.empty_layer(name)


def _records(frame: pd.DataFrame) -> list[dict]:
    plain = pd.DataFrame(frame.drop(columns=[c for c in ("geometry",) if c in frame.columns]))
    return [
        {k: (None if _blank(v) and not isinstance(v, str) else v) for k, v in r.items()}
        for r in plain.to_dict("records")
    ]


def _pending(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty or "status" not in frame.columns:
        return frame.iloc[0:0]
    hit = frame["status"].astype("string").str.strip().str.casefold() == "pending"
    return frame[hit.fillna(False).astype(bool)]


def pending_items(store: Store, *, viewer: object = None) -> pd.DataFrame:
    """The moderation queue of knowledge: every pending aspiration, story and measure value, oldest first.

    The queue says who sent each item, so it is for editors: a ``viewer`` (a
    :class:`~geo.auth.Principal`) who cannot moderate is refused with
    :class:`~geo.errors.PermissionDeniedError` (``None``: a trusted local caller).

    Returns
    -------
    DataFrame
        One row per item, with :data:`QUEUE_COLUMNS`: ``layer``, ``id``, ``title`` (an aspiration's
        text, a story's title, a measure value as "<measure>: value V recorded on D"), ``summary``
        (the aspiration's theme, the story's summary, the value's note), ``boundary_layer`` and
        ``area_id`` (a value's are its measure's), ``created_at``, ``created_by`` (a person's name:
        for editors only) and ``version`` (pass it as ``if_version``). Empty when nothing waits.
        Pending assets are :func:`geo.editing.moderation_queue`'s.
    """
    if viewer is not None:
        auth.require(viewer, "moderate")
    rows: list[dict] = []
    for r in _records(_pending(_layer_rows(store, "aspirations"))):
        rows.append({**r, "layer": "aspirations", "title": _title("aspirations", r), "summary": r.get("theme")})
    for r in _records(_pending(_layer_rows(store, "stories"))):
        rows.append({**r, "layer": "stories", "title": _title("stories", r), "summary": r.get("summary")})
    values = _records(_pending(_layer_rows(store, "measure_updates")))
    if values:
        measures = {str(m["id"]): m for m in _records(_layer_rows(store, "success_measures"))}
        for r in values:
            m = measures.get(str(r.get("measure_id")), {})
            rows.append({**r, "layer": "measure_updates", "title": _value_title(r, m), "summary": r.get("note"),
                         "boundary_layer": m.get("boundary_layer"), "area_id": m.get("area_id")})  # fmt: skip
    out = pd.DataFrame(rows, columns=list(QUEUE_COLUMNS))
    out["version"] = out["version"].astype("Int64")
    return out.sort_values("created_at", kind="stable", na_position="first").reset_index(drop=True)


def my_contributions(store: Store, principal: Principal | str) -> pd.DataFrame:
    """Everything ``principal`` added (``created_by`` is theirs): assets, aspirations, stories and
    measure values, newest first, so a contributor can follow and withdraw their own.

    Returns
    -------
    DataFrame
        :data:`CONTRIBUTION_COLUMNS`: ``layer``, ``id``, ``title``, ``status`` (an empty status is
        shown as the layer's live one: ``active``, ``open`` or ``published``), ``created_at`` and
        ``version``. Empty for a visitor who is not signed in. Rows of
        :data:`MODERATED_LAYERS` whose status is ``pending`` can be withdrawn with
        :func:`withdraw_item`.
    """
    principal = auth.as_principal(principal)
    rows: list[dict] = []
    if principal.signed_in:
        sources = [("assets", {"columns": ["id", "name", "status", "created_at", "created_by", "version"]})]
        sources += [(layer, {}) for layer in MODERATED_LAYERS]
        measures: dict[str, dict] | None = None
        for layer, query in sources:
            frame = _layer_rows(store, layer, **query)
            if frame.empty or "created_by" not in frame.columns:
                continue
            mine = frame[frame["created_by"].map(principal.owns).astype(bool)]
            if layer == "measure_updates" and len(mine):
                measures = {str(m["id"]): m for m in _records(_layer_rows(store, "success_measures"))}
            for r in _records(mine):
                if layer == "measure_updates":
                    title = _value_title(r, (measures or {}).get(str(r.get("measure_id")), {}))
                else:
                    title = _title(layer, r)
                rows.append({"layer": layer, "id": r.get("id"), "title": title,
                             "status": _status(layer, r.get("status")), "created_at": r.get("created_at"),
                             "version": r.get("version")})  # fmt: skip
    out = pd.DataFrame(rows, columns=list(CONTRIBUTION_COLUMNS))
    out["version"] = out["version"].astype("Int64")
    return out.sort_values("created_at", ascending=False, kind="stable").reset_index(drop=True)
