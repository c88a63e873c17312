"""Editing community assets: add, contribute, update, close, remove, moderate, and undo.

Every function here that writes takes the ``actor`` (who is making the change) as an explicit
argument: a :class:`geo.auth.Principal` (the signed-in person, from the pages), or a plain name from
a trusted local caller (the command line, local mode), which :func:`geo.auth.as_principal` treats as
an admin. It checks the actor's permission first (:func:`geo.auth.require`: contributing needs a
signed-in contributor; editing, moderating and undoing an editor; the taxonomy an admin; nobody
approves or rejects their own contribution), validates its inputs, and then makes its change in **one**
:meth:`geo.store.Store.transaction`, which writes one ``audit_log`` entry with it. A failure at any
point leaves the store file exactly as it was.

Validation
    The values of an asset follow the one validator of the ``assets`` layer,
    :func:`geo.validation.validate_record` (``partial=True`` for an update), with the store's
    :func:`~geo.store.validation_context` (its taxonomy, its extent plus the one margin
    :data:`geo.validation.AREA_MARGIN_DEG`, its ids); the actor follows
    :func:`geo.validation.require_actor`. So a value refused here is refused by the pages and by
    imports with the same sentence. :class:`MissingValueError`, :class:`InvalidValueError` and
    :class:`CoordinatesError` are those of :mod:`geo.validation`. What is checked only here is
    about edits, not values: which columns an edit may set (:data:`EDITABLE_COLUMNS`), that a
    contribution says who it comes from, that a rejection gives a reason.

The audit entries
    ``action`` is one of :data:`ACTIONS`; ``layer`` is ``"assets"``; ``feature_id`` is the asset's
    ``id``; ``before`` and ``after`` are JSON snapshots of the whole feature: every attribute column
    (missing values as ``null``) plus ``lon`` and ``lat``. ``before`` is empty for an add or a
    contribution. Keys starting with ``_`` are notes about the change, not attributes: ``_reason``
    (why a contribution was rejected) and ``_undoes`` (the key of the change an undo reversed).

Statuses
    An editor's asset is ``active`` at once; a community contribution is ``pending`` until an editor
    approves it (``active``) or rejects it (``rejected``). ``closed`` assets are kept (a place that
    has shut); ``removed`` is a soft delete: the feature stays in the layer and in the history, so
    it can be restored, but is never published (:func:`geo.analysis.areas.filter_assets` shows ``active``
    ones by default).

Identifying a change (for :func:`undo`)
    ``audit_log`` has no id column. A change is identified by its **entry**: its 0-based position in
    ``audit_log`` as :meth:`Store.read` returns it, which is SQLite ``fid`` (rowid) order, i.e. the
    order the entries were appended; the log is append-only, so an entry's position never changes.
    :func:`history` also gives each entry a **key**, ``"<entry>-<digest>"``, where the digest is a
    hash of the entry's contents: :func:`undo` given a key checks that the entry at that position is
    still the one that was shown, so even a rewritten log can never make it undo the wrong change.

Undo
    :func:`undo` restores the ``before`` snapshot of one change (for an add or contribution, it marks
    the asset ``removed``) and is itself audited, as action ``"undo"``, so an undo can be undone. It
    refuses when the asset has changed since (its current state differs from that change's
    ``after``): undo later changes first, newest first. Every attribute and the geometry are restored
    exactly, except ``updated_at``/``updated_by``, which record the undo itself (so "last changed"
    stays true for anyone syncing on it).

Why this module is long: every change to an asset (add, edit, move, propose, approve, reject,
withdraw, remove, undo) goes through the same permission, version and audit steps, written once here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import uuid
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from geo import auth, schema, validation
from geo.errors import (  # noqa: F401 (defined with every error in geo.errors; re-exported here)
    AssetNotFoundError,
    AuditEntryNotFoundError,
    CommonGroundError,
    EditError,
    NoChangeError,
    StatusError,
    UndoError,
)
from geo.store import Store, Transaction, validation_context
from geo.store.base import audit_dict, plain_value
from geo.validation import CoordinatesError, InvalidValueError, MissingValueError  # noqa: F401 (re-exported)

LAYER = "assets"

#: The audit ``action`` of each kind of change made here.
ACTIONS = ("add", "contribute", "update", "close", "remove", "approve", "reject", "withdraw", "undo")

#: Columns a user may set when adding or updating an asset (besides ``lon``/``lat``).
#: ``category`` follows from ``type``; ``status`` changes through close/remove/approve/reject/undo.
EDITABLE_COLUMNS = (
    "name",
    "type",
    "description",
    "address",
    "postcode",
    "url",
    "opening_hours",
    "access_notes",
    "organisation_id",
    "source",
    "licence",
    "verified_on",
    "contributed_by",
)

_STAMPS = ("updated_at", "updated_by", "version")
#: Columns the store sets on every write: never restored by undo.
_MANAGED = ("created_at", "created_by", "updated_at", "updated_by", "version")


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def add_asset(
    store: Store,
    *,
    actor: str | auth.Principal,
    name: str,
    type_id: str,
    lon: float,
    lat: float,
    taxonomy: schema.Taxonomy | None = None,
    **attrs: Any,
) -> str:
    """Add an asset as an editor: it is ``active`` (published) at once.

    Parameters
    ----------
    store
        The data store.
    actor
        Who is making the change (name or email); recorded as ``created_by`` and in the audit log.
    name
        The asset's name (required).
    type_id
        A type id of the taxonomy (e.g. ``"library"``); the ``category`` follows from it.
    lon, lat
        Position in EPSG:4326 degrees, longitude first; must lie in the data's area.
    taxonomy
        The taxonomy to validate against; default the store's.
    **attrs
        Any other of :data:`EDITABLE_COLUMNS` (``address``, ``postcode``, ``url``, ...).

    Returns
    -------
    str
        The new asset's id (a UUID).

    Raises
    ------
    geo.validation.UnknownTypeError
        ``type_id`` is unknown (the message lists the choices); a :class:`~geo.errors.TaxonomyError`.
    MissingValueError, InvalidValueError, CoordinatesError
        An input is empty or invalid (see :func:`geo.validation.validate_record`); the store is
        unchanged.
    """
    auth.require(actor, "edit")
    return _create(
        store,
        actor=actor,
        name=name,
        type_id=type_id,
        lon=lon,
        lat=lat,
        taxonomy=taxonomy,
        status="active",
        action="add",
        attrs=attrs,
    )


def contribute_asset(
    store: Store,
    *,
    actor: str | auth.Principal,
    contributed_by: str,
    name: str,
    type_id: str,
    lon: float,
    lat: float,
    taxonomy: schema.Taxonomy | None = None,
    **attrs: Any,
) -> str:
    """Propose an asset from a community group or person: it is ``pending`` until approved.

    Parameters
    ----------
    contributed_by
        The community group or person the contribution comes from (required; shown to editors).
    store, actor, name, type_id, lon, lat, taxonomy, attrs
        As for :func:`add_asset`.

    Returns
    -------
    str
        The new asset's id; it appears in :func:`moderation_queue` until approved or rejected.
    """
    auth.require(actor, "contribute")
    attrs = {**attrs, "contributed_by": contributed_by}
    if _blank(contributed_by):
        raise MissingValueError(
            "contributed_by is empty; a contribution needs the name of the community group or person it comes from.",
            field="contributed_by",
            value=contributed_by,
        )
    return _create(
        store,
        actor=actor,
        name=name,
        type_id=type_id,
        lon=lon,
        lat=lat,
        taxonomy=taxonomy,
        status="pending",
        action="contribute",
        attrs=attrs,
    )


def update_asset(
    store: Store,
    asset_id: str,
    *,
    actor: str | auth.Principal,
    taxonomy: schema.Taxonomy | None = None,
    if_version: int | None = None,
    **changes: Any,
) -> int:
    """Change some of an asset's attributes and/or move it.

    Parameters
    ----------
    store
        The data store.
    asset_id
        The asset's ``id``.
    actor
        Who is making the change; recorded as ``updated_by`` and in the audit log.
    taxonomy
        Validates a new ``type``; default the store's taxonomy.
    if_version
        The ``version`` the editor loaded. When the asset has changed since (someone else saved),
        nothing is saved and :class:`~geo.errors.VersionConflictError` says who changed it, when and
        which fields. ``None`` skips the check (scripts that just read the current row).
    **changes
        New values for :data:`EDITABLE_COLUMNS`, and ``lon``/``lat`` to move the point. Values equal
        to the current ones are ignored (and not validated, so a legacy value elsewhere never blocks
        an edit); the others follow :func:`geo.validation.validate_record` with ``partial=True``. An
        empty text clears the field (except ``name`` and ``type``).

    Returns
    -------
    int
        The asset's new version.

    Raises
    ------
    InvalidValueError
        A column is not editable (the message lists those that are).
    NoChangeError
        Every value equals the current one; nothing is saved.
    AssetNotFoundError, StatusError
        No such asset, or it was removed.
    VersionConflictError
        ``if_version`` is stale.
    """
    actor = _actor(actor, "edit")
    if not changes:
        raise NoChangeError("No changes were given; pass the new values, e.g. name='New name'.")
    point = {k: changes.pop(k) for k in ("lon", "lat") if k in changes}
    _check_columns(changes)
    with store.transaction(actor=actor) as tx:
        before = _current(tx, asset_id)
        _check_version(tx, asset_id, before, if_version)
        if before["status"] == "removed":
            raise StatusError(f"{before['name']!r} was removed; undo the removal in the history before editing it.")
        # Only values that differ are validated, so a legacy value elsewhere never blocks an edit.
        differing = {k: v for k, v in changes.items() if not _same(_stripped(v), before.get(k))}
        if point:
            lon, lat = point.get("lon", before["lon"]), point.get("lat", before["lat"])
            if not (_same(lon, before["lon"]) and _same(lat, before["lat"])):
                differing.update(lon=lon, lat=lat)  # a point is validated whole
        ctx = _context(store, taxonomy, tx=tx)
        values = validation.validate_record(LAYER, differing, context=ctx, partial=True) if differing else {}
        update: dict[str, Any] = {
            col: v for col, v in values.items() if col == "geometry" or not _same(v, before.get(col))
        }
        if not update:
            raise NoChangeError(f"The changes leave {before['name']!r} as it was; nothing was saved.")
        _, row = tx.update(LAYER, asset_id, update, if_version=if_version)
        after = _snap(row)
        tx.audit("update", LAYER, before["id"], before, after)
        return int(after["version"])


def close_asset(store: Store, asset_id: str, *, actor: str | auth.Principal, if_version: int | None = None) -> None:
    """Mark an active asset ``closed`` (it has shut; it stays in the data and the history).

    ``if_version`` (here and for :func:`remove_asset`, :func:`approve`, :func:`reject`) is the
    version the person saw: a stale one is refused, as for :func:`update_asset`.
    """
    _set_status(
        store,
        asset_id,
        actor=_actor(actor, "edit"),
        action="close",
        status="closed",
        allowed=("active",),
        if_version=if_version,
    )


def remove_asset(store: Store, asset_id: str, *, actor: str | auth.Principal, if_version: int | None = None) -> None:
    """Soft-delete an asset: status ``removed``, kept in the layer and the history, never shown.

    Use it for entries that should never have been there (duplicates, mistakes); use
    :func:`close_asset` for a place that has shut. :func:`undo` brings it back.
    """
    _set_status(
        store,
        asset_id,
        actor=_actor(actor, "edit"),
        action="remove",
        status="removed",
        allowed=("active", "closed", "pending", "rejected"),
        if_version=if_version,
    )


def approve(store: Store, asset_id: str, *, actor: str | auth.Principal, if_version: int | None = None) -> None:
    """Publish a pending contribution (status ``active``). Needs an editor, never the contributor.

    Raises
    ------
    geo.errors.PermissionDeniedError
        The actor is not an editor, or made the contribution themselves (a second person checks
        every contribution).
    """
    principal = auth.require(actor, "moderate")
    _set_status(
        store,
        asset_id,
        actor=principal,
        action="approve",
        status="active",
        allowed=("pending",),
        if_version=if_version,
        not_own="approve",
    )


def reject(
    store: Store, asset_id: str, *, actor: str | auth.Principal, reason: str, if_version: int | None = None
) -> None:
    """Turn down a pending contribution (status ``rejected``), saying why.

    Parameters
    ----------
    reason
        Why (required): kept in the audit entry as ``_reason`` so the contributor can be told.
    """
    if _blank(reason):
        raise MissingValueError(
            "reason is empty; say why the contribution is rejected, so the contributor can be told: give a reason.",
            field="reason",
            value=reason,
        )
    principal = auth.require(actor, "moderate")
    _set_status(
        store,
        asset_id,
        actor=principal,
        action="reject",
        status="rejected",
        allowed=("pending",),
        note={"_reason": _reason(reason)},
        if_version=if_version,
        not_own="reject",
    )


def withdraw(store: Store, asset_id: str, *, actor: str | auth.Principal, if_version: int | None = None) -> None:
    """Withdraw one's own pending contribution (status ``removed``, audited as ``withdraw``).

    Raises
    ------
    geo.errors.PermissionDeniedError
        The actor is not signed in, or did not make this contribution.
    StatusError
        It is no longer pending (an editor approved or rejected it already).
    """
    principal = auth.require(actor, "withdraw")
    _set_status(
        store,
        asset_id,
        actor=principal,
        action="withdraw",
        status="removed",
        allowed=("pending",),
        if_version=if_version,
        own_only=True,
    )


def undo(store: Store, entry: int | str, *, actor: str | auth.Principal) -> None:
    """Reverse one audited asset change, restoring its ``before`` state; audited as ``"undo"``.

    Parameters
    ----------
    store
        The data store.
    entry
        The change's entry number (``history()["entry"]``: its position in ``audit_log``, in the
        order entries were written) or, safer, its key (``history()["key"]``), which also checks
        that the entry is still the change that was shown.
    actor
        Who is undoing.

    Raises
    ------
    AuditEntryNotFoundError
        No such entry, or the key no longer matches it.
    UndoError
        The entry is not an asset change made by this module, or the asset has changed since
        (undo the later changes first, newest first).
    """
    actor = _actor(actor, "undo")
    with store.transaction(actor=actor) as tx:
        log = tx.read("audit_log")
        pos = _resolve_entry(log, entry)
        row = {k: "" if _blank(v) else str(v) for k, v in log.iloc[pos].items()}
        label = f"change {pos} ({row['action']} by {row['by']} at {row['at']})"
        if row["layer"] != LAYER or row["action"] not in ACTIONS or not row["feature_id"]:
            raise UndoError(
                f"Only asset changes made in Common Ground ({', '.join(ACTIONS)}) can be undone here; "
                f"{label} is not one."
            )
        before, after = _loads(row["before"]), _loads(row["after"])
        current = _current(tx, row["feature_id"])
        if after is None or not _matches(current, after):
            raise UndoError(
                f"{current['name']!r} has changed since {label}; undo the later changes first, newest first."
            )
        if before is None:
            changes: dict[str, Any] = {"status": "removed"}
        else:
            changes = _restore_changes(current, before)
        _, new = tx.update(LAYER, current["id"], changes, if_version=_version(current))
        tx.audit("undo", LAYER, current["id"], current, {**_snap(new), "_undoes": entry_key(pos, row)})


def add_asset_type(
    store: Store,
    *,
    actor: str | auth.Principal,
    type_id: str,
    label: str,
    category: str,
    traits: list[str] | tuple[str, ...] = (),
    themes: list[str] | tuple[str, ...] = (),
    colour: str | None = None,
    icon: str = "circle",
) -> str:
    """Add an asset type to the store's taxonomy: one validated, audited row, no code or file change.

    Parameters
    ----------
    type_id
        A new slug such as ``"repair_cafe"`` (letters, digits, underscores).
    label, category
        What people read, and one of the taxonomy's categories (e.g. ``"associations"``).
    traits, themes
        The resilience traits it supports (ids of the taxonomy's traits) and its themes.
    colour
        ``#rrggbb``; default the category's colour.

    Raises
    ------
    ValidationError
        A value is invalid, the category or a trait is unknown, or the type already exists.
    """
    who = _actor(actor, "taxonomy")
    tax = validation_context(store).taxonomy
    if str(type_id).strip() in tax.types:
        raise InvalidValueError(
            f"The type {str(type_id).strip()!r} already exists; choose another id or edit that type.",
            field="id",
            value=type_id,
        )
    if str(category).strip() not in tax.categories:
        raise InvalidValueError(
            f"{category!r} is not a category; choose one of: {', '.join(tax.categories)}.",
            field="category",
            value=category,
        )
    record = {
        "kind": "type",
        "id": type_id,
        "label": label,
        "category": category,
        "traits": ", ".join(traits),
        "themes": ", ".join(themes),
        "colour": colour or tax.category(str(category).strip()).colour,
        "icon": icon,
    }
    with store.transaction(actor=who) as tx:
        clean = validation.validate_record("taxonomy", record, context=validation_context(store, tx=tx))
        (stored,) = tx.insert("taxonomy", [clean])
        tx.audit("create", "taxonomy", stored["id"], None, {k: _jsonable(v) for k, v in stored.items()})
    return str(stored["id"])


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def moderation_queue(store: Store, *, viewer: object = None) -> gpd.GeoDataFrame:
    """The pending contributions, oldest first (a copy; empty when there are none).

    The queue says who sent each one, so it is for editors: a ``viewer`` who is not one is refused
    (``None``: a trusted local caller).
    """
    if viewer is not None:
        auth.require(viewer, "moderate")
    pending = store.read(LAYER, where={"status": "pending"})
    return pending.sort_values("created_at", kind="stable").reset_index(drop=True)


def history(
    store: Store,
    *,
    feature_id: str | None = None,
    layer: str | None = "assets",
    limit: int | None = 200,
    viewer: object = None,
) -> pd.DataFrame:
    """The audit log, newest first, with a readable summary of each change.

    The log names people and holds whole before/after snapshots, so it is for editors and admins:
    pass the ``viewer`` (a :class:`geo.auth.Principal`) and anyone else is refused with
    :class:`geo.errors.PermissionDeniedError`. ``None`` is a trusted local caller (the command line).

    Parameters
    ----------
    store
        The data store.
    feature_id
        Only changes to this feature.
    layer
        Only changes to this layer; ``None`` for every layer.
    limit
        At most this many entries (the newest); ``None`` for all.

    Returns
    -------
    pandas.DataFrame
        Columns ``entry`` (position in ``audit_log``; see the module notes), ``key`` (pass it to
        :func:`undo`), ``at``, ``by``, ``action``, ``layer``, ``feature_id``, ``name`` (of the
        feature), ``changes`` (what changed, in words), ``before`` and ``after`` (the JSON).
    """
    if viewer is not None:
        auth.require(viewer, "history")
    if limit is not None and limit < 0:
        raise InvalidValueError(f"limit must be 0 or more (or None for all); got {limit}.", field="limit", value=limit)
    log = store.read("audit_log").reset_index(drop=True)
    log.insert(0, "entry", range(len(log)))
    keep = pd.Series(True, index=log.index)
    if layer is not None:
        keep &= log["layer"].fillna("") == layer
    if feature_id is not None:
        keep &= log["feature_id"].fillna("") == feature_id
    out = log[keep].iloc[::-1]
    if limit is not None:
        out = out.iloc[:limit]
    return _readable(pd.DataFrame(out).reset_index(drop=True))


@dataclasses.dataclass(frozen=True)
class HistoryPage:
    """One page of the history (:func:`history_page`): its entries, newest first, as :func:`history`
    gives them; how many there are in all; and the cursor of the next (older) page, ``None`` at the end."""

    entries: pd.DataFrame
    total: int
    older: int | None


def history_page(
    store: Store,
    *,
    layer: str | None = None,
    before: int | None = None,
    limit: int = 50,
    viewer: object = None,
) -> HistoryPage:
    """A page of the audit log, newest first, read from the store without the rest of it
    (:meth:`geo.store.base.Store.read_audit_page`): what the Edit page shows, however long the log.

    Parameters
    ----------
    store
        The data store.
    layer
        Only changes to this layer; ``None`` for every layer.
    before
        Entries written before this one (a position: the previous page's ``older``); ``None``: the newest.
    limit
        At most this many entries.
    viewer
        As for :func:`history`: the log is for editors and admins.
    """
    if viewer is not None:
        auth.require(viewer, "history")
    if limit < 1:
        raise InvalidValueError(f"limit must be 1 or more; got {limit}.", field="limit", value=limit)
    page, total = store.read_audit_page(layer=layer, before=before, limit=limit + 1)  # one more: is there older?
    older = int(page["entry"].iloc[limit - 1]) if len(page) > limit else None
    return HistoryPage(entries=_readable(page.iloc[:limit].reset_index(drop=True)), total=total, older=older)


def _readable(out: pd.DataFrame) -> pd.DataFrame:
    """Audit entries (with ``entry``) with their ``key``, the feature's ``name`` and the ``changes`` in words."""
    out.insert(1, "key", [entry_key(int(r["entry"]), r) for _, r in out.iterrows()])
    parsed = [(_loads(b), _loads(a)) for b, a in zip(out["before"], out["after"], strict=True)]
    out.insert(7, "name", [str((a or b or {}).get("name") or "") for b, a in parsed])
    out.insert(8, "changes", [describe_change(b, a) for b, a in parsed])
    return out


def entry_key(entry: int, row: Mapping[str, Any]) -> str:
    """The key of an audit entry: its position and a digest of its contents (see the module notes)."""
    cols = ("at", "by", "action", "layer", "feature_id", "before", "after")
    text = json.dumps(["" if _blank(row.get(c)) else str(row.get(c)) for c in cols])
    return f"{entry}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:12]}"


def describe_change(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> str:
    """One line saying what a change did, e.g. ``"name: 'Old' → 'New'; status: active → closed"``."""
    if before is None and after is None:
        return ""
    if before is None:
        return f"new {after.get('type') or 'asset'} ({after.get('status') or 'no status'})"
    if after is None:
        return "deleted"
    parts = []
    if not (_same(before.get("lon"), after.get("lon")) and _same(before.get("lat"), after.get("lat"))):
        parts.append("moved")
    for key, new in after.items():
        if key.startswith("_") or key in ("lon", "lat", *_STAMPS) or _same(before.get(key), new):
            continue
        parts.append(f"{key}: {_short(before.get(key))} → {_short(new)}")
    if after.get("_reason"):
        parts.append(f"reason: {_short(after['_reason'])}")
    if after.get("_undoes"):
        parts.append(f"undoes change {str(after['_undoes']).split('-')[0]}")
    return "; ".join(parts) or "no attribute changed"


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _actor(actor: object, permission: str) -> str:
    """Check ``actor`` may do ``permission``; return what the store records for them."""
    return validation.require_actor(auth.require(actor, permission).actor)


def _create(store, *, actor, name, type_id, lon, lat, taxonomy, status, action, attrs) -> str:
    actor = validation.require_actor(auth.as_principal(actor).actor)
    if "type" in attrs or "name" in attrs:
        raise InvalidValueError(
            "Give the name and type as name= and type_id=, not inside the other attributes.",
            field="type" if "type" in attrs else "name",
        )
    _check_columns(attrs)
    record = {**attrs, "name": name, "type": type_id, "lon": lon, "lat": lat}
    values = validation.validate_record(LAYER, record, context=_context(store, taxonomy))
    default_source = "Community contribution via Common Ground" if status == "pending" else "Added in Common Ground"
    row = {
        **values,  # category follows the type; geometry is the checked point
        "id": str(uuid.uuid4()),
        "status": status,
        "source": values.get("source") or default_source,
    }
    with store.transaction(actor=actor) as tx:
        (stored,) = tx.insert(LAYER, [row])
        tx.audit(action, LAYER, row["id"], None, _snap(stored))
    return row["id"]


def _context(store: Store, taxonomy: schema.Taxonomy | None, *, tx: Transaction | None = None) -> validation.Context:
    """The store's validation context, with ``taxonomy`` instead of the store's when given."""
    ctx = validation_context(store, tx=tx)
    return ctx if taxonomy is None else dataclasses.replace(ctx, taxonomy=taxonomy)


def _set_status(
    store, asset_id, *, actor, action, status, allowed, note=None, if_version=None, not_own=None, own_only=False
) -> None:
    principal = auth.as_principal(actor)
    actor = validation.require_actor(principal.actor)
    verbs = {
        "close": "closed",
        "remove": "removed",
        "approve": "approved",
        "reject": "rejected",
        "withdraw": "withdrawn",
    }
    with store.transaction(actor=actor) as tx:
        before = _current(tx, asset_id)
        _check_version(tx, asset_id, before, if_version)
        if not_own:
            auth.require_not_own(principal, before.get("created_by"), doing=not_own)
        if own_only and not principal.owns(before.get("created_by")):
            raise auth.PermissionDeniedError(
                f"{before['name']!r} is someone else's contribution; you can only withdraw your own (an editor can reject it).",
                action="withdraw",
                role=principal.role.label,
            )
        current, name = before["status"] or "active", before["name"]
        if current not in allowed:
            if action == "withdraw":
                shown = "withdrawn or removed" if current == "removed" else current
                msg = f"{name!r} is {shown}, not pending; only a pending proposal can be withdrawn."
            elif current == "removed":
                msg = f"{name!r} was removed; undo the removal in the history first."
            elif allowed == ("pending",):
                msg = f"{name!r} is {current}, not pending; only pending contributions can be {verbs[action]}."
            elif current == status:
                msg = f"{name!r} is already {status}; nothing was changed."
            elif current == "pending":
                msg = f"{name!r} is a pending contribution; approve or reject it instead."
            else:
                msg = f"{name!r} is {current}; only {' or '.join(allowed)} assets can be {verbs[action]}."
            raise StatusError(msg)
        _, row = tx.update(LAYER, asset_id, {"status": status}, if_version=if_version)
        tx.audit(action, LAYER, before["id"], before, {**_snap(row), **(note or {})})


def _current(tx: Transaction, asset_id: object) -> dict[str, Any]:
    """The asset's snapshot as it stands in the transaction, or :class:`AssetNotFoundError`."""
    row = tx.get(LAYER, str(asset_id))
    if row is None:
        raise AssetNotFoundError(
            f"There is no asset with id {str(asset_id)[:80]!r}; check the id (the history and the search list them)."
        )
    return _snap(row)


def _version(snap: Mapping[str, Any]) -> int:
    v = snap.get("version")
    return 1 if _blank(v) else int(v)


def _check_version(tx: Transaction, asset_id: str, current: Mapping[str, Any], if_version: int | None) -> None:
    """Refuse a stale edit before anything else is checked (the store names who changed it)."""
    if if_version is not None and _version(current) != int(if_version):
        tx.update(LAYER, str(asset_id), {}, if_version=int(if_version))  # raises VersionConflictError


def _snap(row: Mapping[str, Any]) -> dict[str, Any]:
    """A snapshot (every attribute as JSON values, plus lon/lat) of a row dict from the store."""
    snap = {k: _jsonable(v) for k, v in row.items() if k != "geometry"}
    geom = row.get("geometry")
    has_point = geom is not None and not geom.is_empty
    snap["lon"] = float(geom.x) if has_point else None
    snap["lat"] = float(geom.y) if has_point else None
    return snap


def _blank(value: object) -> bool:
    return (
        value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""
    )


def _reason(value: object) -> str:
    """A rejection's reason (kept in the audit entry), stripped and at most a description long."""
    text = str(value).strip()
    if len(text) > validation.MAX_TEXT_LENGTH:
        raise InvalidValueError(
            f"reason is {len(text):,} characters long; shorten it to {validation.MAX_TEXT_LENGTH:,} characters or fewer.",
            field="reason",
            value=value,
        )
    return text


def _check_columns(attrs: Mapping[str, Any]) -> None:
    unknown = [k for k in attrs if k not in EDITABLE_COLUMNS]
    if unknown:
        raise InvalidValueError(
            f"{', '.join(map(repr, unknown))} cannot be edited here; editable columns are: "
            f"{', '.join(EDITABLE_COLUMNS)}, lon and lat.",
            field=str(unknown[0]),
            value=attrs[unknown[0]],
        )


def _stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _locate(assets: pd.DataFrame, asset_id: object) -> Any:
    hits = assets.index[assets["id"].astype("string").fillna("") == str(asset_id)]
    if len(hits) == 0:
        raise AssetNotFoundError(
            f"There is no asset with id {str(asset_id)[:80]!r}; check the id (the history and the search list them)."
        )
    return hits[0]


def _jsonable(value: Any) -> Any:
    value = plain_value(value)
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


def _snapshot(frame: gpd.GeoDataFrame, idx: Any) -> dict[str, Any]:
    """Every attribute of one row (JSON values, missing as ``None``) plus ``lon`` and ``lat``."""
    geom_col = frame.geometry.name
    row = frame.loc[idx]
    snap = {col: _jsonable(row[col]) for col in frame.columns if col != geom_col}
    geom = row[geom_col]
    has_point = geom is not None and not geom.is_empty
    snap["lon"] = float(geom.x) if has_point else None
    snap["lat"] = float(geom.y) if has_point else None
    return snap


def _cell(value: Any) -> Any:
    return pd.NA if value is None else value


def _restore_changes(current: Mapping[str, Any], snap: Mapping[str, Any]) -> dict[str, Any]:
    """The changes that bring ``current`` back to the snapshot ``snap`` (attributes and point)."""
    changes: dict[str, Any] = {}
    for col, value in snap.items():
        if col.startswith("_") or col in ("lon", "lat", *_MANAGED) or col not in current:
            continue
        if not _same(value, current.get(col)):
            changes[col] = value
    lon, lat = snap.get("lon"), snap.get("lat")
    if not (_same(lon, current.get("lon")) and _same(lat, current.get("lat"))):
        changes["geometry"] = Point(lon, lat) if lon is not None and lat is not None else None
    return changes


def _same(a: Any, b: Any) -> bool:
    """Equal as stored values: ``None``, NaN and ``''`` alike; numbers to 1e-9."""
    if _blank(a) or _blank(b):
        return _blank(a) and _blank(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=0.0, abs_tol=1e-9)
    return str(a) == str(b)


def _matches(current: Mapping[str, Any], expected: Mapping[str, Any]) -> bool:
    # The stamps are left out: undoing a later change restores the attributes but stamps the undo.
    return all(
        _same(current[k], v) for k, v in expected.items() if not k.startswith("_") and k in current and k not in _STAMPS
    )


def _loads(text: object) -> dict | None:
    return audit_dict(text)


def _resolve_entry(log: pd.DataFrame, entry: int | str) -> int:
    digest = None
    if isinstance(entry, bool):
        raise AuditEntryNotFoundError(f"{entry!r} is not a history entry; give its number or key from the history.")
    if isinstance(entry, str):
        m = re.fullmatch(r"\s*(\d+)(?:-([0-9a-f]+))?\s*", entry)
        if not m:
            raise AuditEntryNotFoundError(f"{entry[:40]!r} is not a history entry key; copy the key from the history.")
        pos, digest = int(m.group(1)), m.group(2)
    else:
        try:
            pos = int(entry)
        except (TypeError, ValueError):
            raise AuditEntryNotFoundError(f"{entry!r} is not a history entry; give its number or key.") from None
    if not 0 <= pos < len(log):
        raise AuditEntryNotFoundError(
            f"There is no change number {pos} in the history (it holds {len(log)}); reload the history and pick one."
        )
    if digest is not None and entry_key(pos, log.iloc[pos]) != f"{pos}-{digest}":
        raise AuditEntryNotFoundError(
            f"Change {pos} in the history is not the one that was shown (the log has changed); reload it and try again."
        )
    return pos


def _short(value: Any, width: int = 40) -> str:
    if _blank(value):
        return "(empty)"
    text = str(value)
    return repr(text if len(text) <= width else text[: width - 1] + "…")
