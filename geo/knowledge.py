"""Community knowledge: aspirations, agreed success measures, organisations and stories of success.

The *Resilient Communities* framework starts from what a community wants for its area (its
**aspirations**, raised by a group), agrees with partners what **success** looks like (measures with
a baseline, a target and a history of values), **joins up** the organisations already working in the
same place (who overlaps, what nobody covers), and builds **stories of success** as an evidence base.

Every create and update here is one :meth:`geo.store.Store.transaction` with an explicit ``actor``
and an audit entry per change: it lands whole or not at all, and invalid input is rejected before
the store is touched. Knowledge is linked to one area of a boundary layer (``boundary_layer`` and
``area_id``). Themes are comma-separated text in the store; they are stored trimmed and in lower
case, and matched ignoring case and spacing.

Validation
    Every record follows the one validator of its layer, :func:`geo.validation.validate_record`
    (``aspirations``, ``success_measures``, ``measure_updates``, ``organisations``,
    ``organisation_areas``, ``stories``), with the store's :func:`~geo.store.validation_context`,
    and the actor :func:`geo.validation.require_actor`: pages and imports refuse the same values
    with the same sentence. The errors are those of :mod:`geo.validation`;
    :class:`KnowledgeValidationError` is their base, :class:`geo.validation.ValidationError`.

Who may write (enforced here, not only by the pages)
    Every function that writes takes ``actor``: a :class:`geo.auth.Principal`, or a plain name (a
    trusted local caller: the command line, a script, local mode, which is an admin; see
    :func:`geo.auth.as_principal`). It calls :func:`geo.auth.require` before anything else, so a
    refused caller gets :class:`~geo.errors.PermissionDeniedError` and nothing is written. Adding an
    aspiration or a story and recording a measure value need ``contribute``; agreeing a success
    measure and adding or changing organisations need ``edit``. The store records
    :attr:`Principal.actor <geo.auth.Principal.actor>` (``"Name <sub>"``) as ``created_by`` and in
    the audit log.

Moderation
    A contributor's aspiration, story or measure value (anyone below editor) lands as ``pending``:
    hidden from every public read, and a pending measure value does not change the measure's
    ``current``. An editor approves it (:func:`approve_item`: aspirations become ``open``, stories
    and values ``published``, and an approved value is applied to ``current``) or rejects it with a
    reason (:func:`reject_item`), never their own; the contributor may withdraw it while it is
    pending (:func:`withdraw_item`). Editors' and admins' own records are live at once.
    :func:`pending_items` is the moderation queue, :func:`my_contributions` a person's own items.
    Statuses in :data:`geo.schema.HIDDEN_STATUSES` are never shown publicly: the public reads here
    (:func:`for_area`, :func:`measure_progress`, :func:`join_up`, :func:`search_stories`,
    :func:`story_report`) leave them out (:func:`visible`); an empty status counts as published
    (``open`` for an aspiration).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import html
import math
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd
from shapely.geometry.base import BaseGeometry

from geo import auth, schema, validation
from geo.auth import Principal
from geo.errors import (  # noqa: F401 (PermissionDeniedError re-exported for callers)  # noqa: F401 (defined with every error in geo.errors; re-exported here)
    CommonGroundError,
    FeatureNotFoundError,
    ItemNotFoundError,
    ModerationError,
    NotPendingError,
    NotPublishedError,
    PermissionDeniedError,
)
from geo.store import Store, Transaction, validation_context
from geo.textsafe import markdown_literal
from geo.validation import (  # noqa: F401 (re-exported: the errors and the privacy check callers use)
    PrivateDetailsError,
    UnknownAreaError,
    UnknownReferenceError,
    private_details_in,
)

#: ``open``: raised, nothing agreed yet; ``in progress``: partners are working on it; ``achieved``
#: and ``closed`` no longer count as gaps in :func:`join_up`. The validator's list.
ASPIRATION_STATUSES = validation.ASPIRATION_STATUSES
LIVE_ASPIRATION_STATUSES = ("open", "in progress")
ENTERED_SOURCE = "Entered in Common Ground"

#: The layers whose rows contributors propose and editors approve or reject.
MODERATED_LAYERS = ("aspirations", "stories", "measure_updates")
#: The status an approved item gets (and what an empty status means), per moderated layer.
LIVE_STATUS = {"aspirations": "open", "stories": "published", "measure_updates": "published"}
_NOUN = {"aspirations": "aspiration", "stories": "story", "measure_updates": "measure value", "assets": "asset"}

#: A principal's actor, or a plain name (a trusted local caller, an admin: see geo.auth.as_principal).
Actor = Principal | str

_THEME_SPLIT = re.compile(r"[,;]")


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------

#: Every value refused here is a :class:`geo.validation.ValidationError` (missing, invalid, private
#: details, unknown reference or area); the name is kept for callers of this module.
KnowledgeValidationError = validation.ValidationError


# --------------------------------------------------------------------------------------------
# Small shared helpers
# --------------------------------------------------------------------------------------------


def _blank(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def split_themes(text: object) -> list[str]:
    """The themes in comma-separated text (or a list), trimmed, lower case, without repeats.

    >>> split_themes(" Health ,food;  Mental   health, health")
    ['health', 'food', 'mental health']
    """
    if _blank(text):
        return []
    parts = list(text) if isinstance(text, list | tuple | set) else _THEME_SPLIT.split(str(text))
    out: list[str] = []
    for part in parts:
        if _blank(part):
            continue
        theme = " ".join(str(part).split()).casefold()
        if theme and theme not in out:
            out.append(theme)
    return out


def join_themes(themes: object) -> str:
    """Themes as the store keeps them: ``"food, health"`` (normalised, in the given order)."""
    return ", ".join(split_themes(themes))


def split_ids(text: object) -> list[str]:
    """The ids in comma-separated text (or a list), trimmed, without repeats, in order."""
    if _blank(text):
        return []
    parts = list(text) if isinstance(text, list | tuple | set) else str(text).split(",")
    out: list[str] = []
    for part in parts:
        if not _blank(part) and str(part).strip() not in out:
            out.append(str(part).strip())
    return out


def is_hidden(status: object) -> bool:
    """Whether a row with this ``status`` is kept out of public reads (pending, rejected, withdrawn,
    removed: :data:`geo.schema.HIDDEN_STATUSES`). An empty status counts as published."""
    return not _blank(status) and str(status).strip().casefold() in schema.HIDDEN_STATUSES


#: ``frame`` without the rows whose ``status`` is hidden: what the public sees (defined with the
#: data model, :func:`geo.schema.visible_rows`, so profiles and exports use the same rule).
visible = schema.visible_rows


def for_area(
    frame: pd.DataFrame | None, *, boundary_layer: str, area_id: str, include_hidden: bool = False
) -> pd.DataFrame:
    """The rows of a knowledge layer linked to one area (a copy; rows without a layer count as any).

    Rows whose status is hidden (pending, rejected, withdrawn, removed) are left out unless
    ``include_hidden`` (for editors' views).
    """
    if frame is None or frame.empty or "area_id" not in frame.columns:
        return pd.DataFrame() if frame is None else frame.iloc[0:0].copy()
    if not include_hidden:
        frame = visible(frame)
    hit = frame["area_id"].astype("string").fillna("") == str(area_id)
    if "boundary_layer" in frame.columns:
        hit &= frame["boundary_layer"].astype("string").fillna("").isin([boundary_layer, ""])
    return frame[hit.fillna(False).astype(bool)].copy()


def _authorise(actor: object, permission: str) -> tuple[Principal, str]:
    """The principal behind ``actor`` if it has ``permission`` (else PermissionDeniedError), and the
    actor text the store records for it."""
    principal = auth.require(actor, permission)
    return principal, validation.require_actor(principal.actor)


def _proposes(principal: Principal) -> bool:
    """Whether what ``principal`` adds waits for an editor (anyone who cannot moderate)."""
    return not principal.can("moderate")


def _status(layer: str, value: object) -> str:
    """A moderated row's status as text (an empty one is the layer's live status)."""
    return LIVE_STATUS.get(layer, "active") if _blank(value) else str(value).strip().casefold()


def _plain(record: dict) -> dict:
    """A JSON-ready copy of a record for the audit log (geometry as WKT, NaN as null)."""
    out = {}
    for k, v in record.items():
        if hasattr(v, "wkt"):
            v = v.wkt
        elif _blank(v) and not isinstance(v, str):
            v = None
        out[k] = v
    return out


def _read(tx: Transaction, name: str, **query) -> pd.DataFrame:
    if tx.has_layer(name):
        return tx.read(name, **query)
    return schema.empty_layer(name)


def _append(tx: Transaction, name: str, record: dict, *, geometry: BaseGeometry | None = None) -> dict:
    """Insert one validated record (the store stamps it) and audit it; returns the stored row."""
    spec = schema.layer_spec(name)
    row = {k: v for k, v in record.items() if k not in validation.STAMP_COLUMNS}
    if spec.geometry is not None:
        row["geometry"] = geometry if geometry is not None else record.get("geometry")
    (stored,) = tx.insert(name, [row])
    tx.audit("create", name, record.get("id") or record.get("organisation_id"), None, _plain(stored))
    return stored


def _validate(layer: str, record: dict, *, store: Store, tx: Transaction | None = None, **kw) -> dict:
    """``record`` checked and cleaned by the one validator of ``layer`` (ids through ``tx`` when given)."""
    return validation.validate_record(layer, record, context=validation_context(store, tx=tx), **kw)


def _listed(ids: Iterable[str] | str | None) -> list[str] | str | None:
    """Ids as given (text or a list); any other iterable (a generator, a Series) as a list."""
    return ids if ids is None or isinstance(ids, str) else list(ids)


def _boundary_layer(value: object, ctx: validation.Context) -> str:
    """The boundary layer named, as the validator spells it (refused as it refuses any area's layer)."""
    probe = {"boundary_layer": value, "area_id": "-"}  # only the layer is checked: links are not looked up
    plain = dataclasses.replace(ctx, known_ids=None)
    return validation.validate_record("organisation_areas", probe, context=plain, partial=True)["boundary_layer"]


def _new_id() -> str:
    return str(uuid.uuid4())


def _row(frame: pd.DataFrame, ident: object, what: str) -> tuple[int, pd.Series]:
    key = "" if _blank(ident) else str(ident).strip()
    hit = frame.index[frame["id"].astype(str) == key]
    if not key or len(hit) == 0:
        raise UnknownReferenceError(
            f"There is no {what} with id {key!r}; pick one that is in the store.", field="id", value=ident
        )
    return hit[0], frame.loc[hit[0]]


# --------------------------------------------------------------------------------------------
# Aspirations and success measures
# --------------------------------------------------------------------------------------------


def add_aspiration(
    store: Store,
    *,
    actor: Actor,
    boundary_layer: str,
    area_id: str,
    text: str,
    theme: str,
    raised_by: str,
    raised_on: dt.date | str,
    status: str = "open",
    asset_ids: Iterable[str] | str = (),
    source: str = ENTERED_SOURCE,
) -> str:
    """Record what a community wants for its area, in its own words.

    Parameters
    ----------
    store
        The data store.
    actor
        Who is making the change: a :class:`~geo.auth.Principal` (or a trusted local caller's
        name); needs ``contribute``. Recorded as ``created_by`` and in the audit log.
    boundary_layer, area_id
        The area the aspiration is for (e.g. ``"wards"``, ``"E05010868"``).
    text
        The aspiration, in the community's words.
    theme
        What it is about (e.g. ``"food"``); comma-separated if several.
    raised_by
        The group that raised it. Never a private person: text that looks like an email address or
        a phone number is rejected with :class:`PrivateDetailsError`.
    raised_on
        When it was raised (a date, or ``YYYY-MM-DD``).
    status
        One of :data:`ASPIRATION_STATUSES`. A contributor's aspiration is always ``pending`` (an
        editor's approval makes it ``open``); editors' and admins' take this status.
    asset_ids
        Assets it builds on (ids of the ``assets`` layer).
    source
        Where the record comes from.

    Returns
    -------
    str
        The new aspiration's id.

    Raises
    ------
    PermissionDeniedError
        ``actor`` may not contribute (an anonymous visitor); the store is unchanged.
    KnowledgeValidationError
        A value is refused by :func:`geo.validation.validate_record` (``"aspirations"``); the store
        is unchanged.
    """
    principal, who = _authorise(actor, "contribute")
    record = {
        "id": _new_id(),
        "boundary_layer": boundary_layer,
        "area_id": area_id,
        "text": text,
        "theme": theme,
        "raised_by": raised_by,
        "raised_on": raised_on,
        "status": "pending" if _proposes(principal) else status,
        "asset_ids": _listed(asset_ids),
        "source": source,
        "licence": None,
    }
    row = _validate("aspirations", record, store=store)
    with store.transaction(actor=who) as tx:
        _append(tx, "aspirations", row)
    return row["id"]


def add_success_measure(
    store: Store,
    *,
    actor: Actor,
    aspiration_id: str,
    measure: str,
    horizon: str,
    baseline: float,
    target: float,
    current: float | None = None,
    unit: str = "",
    agreed_by: str,
    agreed_on: dt.date | str,
    source: str = ENTERED_SOURCE,
) -> str:
    """Record what success looks like for an aspiration, as agreed with partners.

    The area is copied from the aspiration. When ``current`` differs from ``baseline`` it is also
    written to ``measure_updates`` (dated ``agreed_on``), so the history always explains ``current``.

    Parameters
    ----------
    actor
        Who agrees it: needs ``edit`` (an editor or admin, or a trusted local caller's name).
    aspiration_id
        The aspiration this measures. It must be live: a pending, rejected or withdrawn aspiration
        is refused with :class:`NotPublishedError` (approve it first).
    measure
        What is counted, e.g. ``"households using the community fridge each week"``.
    horizon
        ``short``, ``medium`` or ``long``.
    baseline, target, current
        Numbers in ``unit``; ``current`` defaults to ``baseline``.
    agreed_by
        The partners who agreed it (groups and organisations, never private contact details).
    agreed_on
        When it was agreed.

    Returns
    -------
    str
        The new measure's id.
    """
    _, who = _authorise(actor, "edit")
    record = {
        "id": _new_id(),
        "aspiration_id": aspiration_id,
        "measure": measure,
        "horizon": horizon,
        "baseline": baseline,
        "target": target,
        "current": current,  # the validator starts it at the baseline
        "unit": unit,
        "agreed_by": agreed_by,
        "agreed_on": agreed_on,
        "source": source,
        "licence": None,
    }
    row = _validate("success_measures", record, store=store)
    with store.transaction(actor=who) as tx:
        _, asp = _row(_read(tx, "aspirations", ids=[row["aspiration_id"]]), row["aspiration_id"], "aspiration")
        if is_hidden(asp.get("status")):
            raise NotPublishedError(
                f"The aspiration {_label(asp.get('text'))} is {_status('aspirations', asp.get('status'))}, so no "
                "success measure can be agreed for it; approve it first, or pick a live aspiration."
            )
        row["boundary_layer"], row["area_id"] = str(asp["boundary_layer"]), str(asp["area_id"])
        _append(tx, "success_measures", row)
        if row["current"] != row["baseline"]:
            first = _update_record(row["id"], row["current"], row["agreed_on"], who, "value when the measure was agreed",
                                   row["source"])  # fmt: skip
            _append(tx, "measure_updates", _validate("measure_updates", first, store=store, tx=tx))
    return row["id"]


def _update_record(
    measure_id: str, value: object, on: object, who: str, note: object, source: object, status: str = "published"
) -> dict:
    return {"id": _new_id(), "measure_id": measure_id, "value": value, "recorded_on": on, "recorded_by": who,
            "note": note, "status": status, "source": source, "licence": None}  # fmt: skip


def _apply_current(tx: Transaction, measure_id: str) -> None:
    """Set a measure's ``current`` to its latest published value (latest ``recorded_on``, the newest
    entry on a tie) and audit it; hidden values (pending, rejected, withdrawn) never count."""
    _, row = _row(_read(tx, "success_measures", ids=[measure_id]), measure_id, "success measure")
    history = visible(_read(tx, "measure_updates", where={"measure_id": str(row["id"])})).reset_index(drop=True)
    if history.empty:
        return
    latest = history.assign(_n=range(len(history))).sort_values(["recorded_on", "_n"]).iloc[-1]
    before = {"current": None if pd.isna(row["current"]) else float(row["current"])}
    _, after = tx.update("success_measures", str(row["id"]), {"current": float(latest["value"])})
    tx.audit("update", "success_measures", str(row["id"]), before,
             {"current": after["current"], "version": after["version"]})  # fmt: skip


def record_measure_value(
    store: Store,
    measure_id: str,
    *,
    actor: Actor,
    value: float,
    recorded_on: dt.date | str,
    note: str = "",
    source: str = ENTERED_SOURCE,
) -> str:
    """Record a new value of a success measure: appended to ``measure_updates``, and ``current`` updated.

    The history is never overwritten. ``current`` becomes the published value with the latest
    ``recorded_on`` (the newest entry on a tie), so back-filling an older value keeps the newer one
    current.

    ``actor`` needs ``contribute``. A contributor's value lands as ``pending``: it is kept in the
    history but hidden, and ``current`` does not change until an editor approves it
    (:func:`approve_item`). An editor's or admin's value is ``published`` and applied at once.

    Returns
    -------
    str
        The new update's id.
    """
    principal, who = _authorise(actor, "contribute")
    status = "pending" if _proposes(principal) else "published"
    record = _update_record(measure_id, value, recorded_on, who, note, source, status)
    record = _validate("measure_updates", record, store=store)
    with store.transaction(actor=who) as tx:
        _row(_read(tx, "success_measures", ids=[record["measure_id"]]), record["measure_id"], "success measure")
        _append(tx, "measure_updates", record)
        if status == "published":
            _apply_current(tx, record["measure_id"])
    return record["id"]


def measure_progress(measures: pd.DataFrame, updates: pd.DataFrame, *, include_hidden: bool = False) -> pd.DataFrame:
    """Each measure's baseline and recorded values over time, for charts and tables.

    Parameters
    ----------
    measures
        Rows of ``success_measures`` (one or many).
    updates
        Rows of ``measure_updates``. Hidden values (pending, rejected, withdrawn) are left out
        unless ``include_hidden``.

    Returns
    -------
    DataFrame
        One row per point, ordered by measure then date: ``measure_id``, ``measure``, ``unit``,
        ``kind`` (``baseline`` or ``update``), ``date`` (datetime), ``value``, ``baseline``,
        ``target``, ``progress`` (the share of the way from baseline to target, 1.0 = reached; NaN
        when target equals baseline), ``note`` and ``recorded_by`` (a person's name: drop it with
        :func:`geo.schema.public_view` for anyone who may not see names).
    """
    if not include_hidden:
        updates = visible(updates)
    cols = [
        "measure_id",
        "measure",
        "unit",
        "kind",
        "date",
        "value",
        "baseline",
        "target",
        "progress",
        "note",
        "recorded_by",
    ]
    rows = []
    ups = (
        updates
        if updates is not None and not updates.empty
        else pd.DataFrame(columns=["measure_id", "value", "recorded_on", "note", "recorded_by"])
    )
    for m in measures.itertuples(index=False):
        base, target = float(m.baseline), float(m.target)
        common = {
            "measure_id": str(m.id),
            "measure": m.measure,
            "unit": "" if _blank(m.unit) else m.unit,
            "baseline": base,
            "target": target,
        }
        rows.append(
            {
                **common,
                "kind": "baseline",
                "date": m.agreed_on,
                "value": base,
                "note": "baseline when agreed",
                "recorded_by": m.agreed_by,
                "_n": -1,
            }
        )
        mine = ups[ups["measure_id"].astype(str) == str(m.id)]
        for n, u in enumerate(mine.itertuples(index=False)):
            rows.append(
                {
                    **common,
                    "kind": "update",
                    "date": u.recorded_on,
                    "value": float(u.value),
                    "note": "" if _blank(u.note) else u.note,
                    "recorded_by": u.recorded_by,
                    "_n": n,
                }
            )
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "date" else object) for c in cols})
    out = pd.DataFrame(rows)
    out["date"] = pd.to_datetime(out["date"], errors="coerce")
    span = out["target"] - out["baseline"]
    out["progress"] = ((out["value"] - out["baseline"]) / span.where(span != 0)).astype(float)
    out = out.sort_values(["measure_id", "date", "_n"], kind="mergesort").drop(columns="_n").reset_index(drop=True)
    return out[cols]


# --------------------------------------------------------------------------------------------
# Organisations and where they work
# --------------------------------------------------------------------------------------------


def add_organisation(
    store: Store,
    *,
    actor: Actor,
    name: str,
    kind: str,
    themes: str | Sequence[str] = "",
    url: str = "",
    public_contact: str = "",
    charity_number: str = "",
    company_number: str = "",
    source: str = ENTERED_SOURCE,
    licence: str = "",
    lon: float | None = None,
    lat: float | None = None,
    boundary_layer: str | None = None,
    areas: Sequence[tuple[str, str | Sequence[str]]] = (),
) -> str:
    """Add an organisation (council, NHS, voluntary, faith, school, business or residents' group).

    Parameters
    ----------
    actor
        Needs ``edit`` (an editor or admin, or a trusted local caller's name).
    name, kind
        Its name and one of :data:`geo.schema.ORGANISATION_KINDS` (matched ignoring case).
    themes
        What it works on, comma-separated (e.g. ``"food, health"``).
    url
        Its website (``https://...``).
    public_contact
        The organisation's own public contact (an office number, a general inbox).
    lon, lat
        Its base, if it has one.
    boundary_layer, areas
        Where it works, in the same transaction: ``[(area_id, themes), ...]`` in that boundary
        layer (see :func:`set_organisation_areas`).

    Returns
    -------
    str
        The new organisation's id.
    """
    _, who = _authorise(actor, "edit")
    ctx = validation_context(store)
    record = {"id": _new_id(), "name": name, "kind": kind, "themes": themes, "url": url, "public_contact": public_contact,
              "charity_number": charity_number, "company_number": company_number, "source": source, "licence": licence,
              "lon": lon, "lat": lat}  # fmt: skip
    row = validation.validate_record("organisations", record, context=ctx)
    wanted = _wanted_areas(areas)
    layer = _boundary_layer(boundary_layer, ctx) if wanted else ""
    with store.transaction(actor=who) as tx:
        _append(tx, "organisations", row)
        if wanted:
            _write_areas(tx, store, row["id"], layer, wanted)
    return row["id"]


def update_organisation(
    store: Store,
    organisation_id: str,
    *,
    actor: Actor,
    name: str | None = None,
    kind: str | None = None,
    themes: str | Sequence[str] | None = None,
    url: str | None = None,
    public_contact: str | None = None,
    charity_number: str | None = None,
    company_number: str | None = None,
    source: str | None = None,
    licence: str | None = None,
    if_version: int | None = None,
) -> dict:
    """Change an organisation's details; only the fields given (not ``None``) change.

    ``actor`` needs ``edit``. ``if_version``, when given, is the version the editor loaded: a stale one is refused with
    :class:`~geo.errors.VersionConflictError` and nothing is saved.

    Returns
    -------
    dict
        ``{field: new value}`` for what actually changed (empty when nothing did; then nothing is
        written). A cleared field's new value is ``None``.

    Notes
    -----
    Only values that differ from the stored ones are validated (with
    :func:`geo.validation.validate_record`, ``partial=True``), so a legacy value the form sends
    back unchanged never blocks an edit.
    """
    _, who = _authorise(actor, "edit")
    given = {k: v for k, v in dict(name=name, kind=kind, themes=themes, url=url, public_contact=public_contact,
                                   charity_number=charity_number, company_number=company_number, source=source,
                                   licence=licence).items() if v is not None}  # fmt: skip
    ctx = validation_context(store)

    def changes(orgs: pd.DataFrame) -> tuple[int, pd.Series, dict, dict]:
        idx, row = _row(orgs, organisation_id, "organisation")
        old = {k: "" if _blank(row[k]) else str(row[k]) for k in given}
        differing = {k: v for k, v in given.items() if not (isinstance(v, str) and v.strip() == old[k])}
        clean = validation.validate_record("organisations", differing, context=ctx, partial=True) if differing else {}
        return idx, row, old, {k: v for k, v in clean.items() if k in given and ("" if v is None else v) != old[k]}

    oid = "" if _blank(organisation_id) else str(organisation_id).strip()
    if if_version is None and not changes(store.read("organisations", ids=[oid]))[3]:
        return {}  # nothing to change: nothing written, no audit entry
    with store.transaction(actor=who) as tx:
        _, row, old, changed = changes(tx.read("organisations", ids=[oid]))
        if not changed:
            stored = 1 if _blank(row.get("version")) else int(row["version"])
            if if_version is not None and stored != int(if_version):  # a stale form is refused, change or not
                tx.update("organisations", str(row["id"]), {}, if_version=if_version)  # raises the conflict
            return {}
        _, after = tx.update("organisations", str(row["id"]), changed, if_version=if_version)
        tx.audit("update", "organisations", str(row["id"]), {k: old[k] for k in changed},
                 {**changed, "version": after["version"]})  # fmt: skip
    return changed


def set_organisation_areas(
    store: Store,
    organisation_id: str,
    *,
    actor: Actor,
    boundary_layer: str,
    areas: Sequence[tuple[str, str | Sequence[str]]],
) -> pd.DataFrame:
    """Say where an organisation works in one boundary layer, and on what: replaces its rows there.

    Rows for an area that stays keep their ``basis`` and ``source``; new areas are marked as
    entered in Common Ground. An empty ``areas`` removes the organisation from every area of the
    layer. Areas of other boundary layers are left alone. ``actor`` needs ``edit``.

    Parameters
    ----------
    organisation_id
        The organisation.
    boundary_layer
        ``wards``, ``lsoas`` or ``neighbourhoods``.
    areas
        ``[(area_id, themes), ...]``: themes comma-separated (or a list); an area named twice gets
        the themes of both.

    Returns
    -------
    DataFrame
        The organisation's rows of ``organisation_areas`` in that layer after the change.
    """
    _, who = _authorise(actor, "edit")
    wanted = _wanted_areas(areas)
    layer = _boundary_layer(boundary_layer, validation_context(store))
    oid = "" if _blank(organisation_id) else str(organisation_id).strip()
    with store.transaction(actor=who) as tx:
        _, org = _row(tx.read("organisations", ids=[oid]), oid, "organisation")
        return _write_areas(tx, store, str(org["id"]), layer, wanted)


def _wanted_areas(areas: Sequence[tuple[str, str | Sequence[str]]]) -> dict[str, list[str]]:
    wanted: dict[str, list[str]] = {}
    for item in areas:
        try:
            aid, themes = item
        except (TypeError, ValueError):
            raise validation.InvalidValueError(
                "areas must be (area id, themes) pairs, e.g. [('E05010868', 'food')].", field="areas", value=item
            ) from None
        key = "" if _blank(aid) else str(aid).strip()  # an empty one is refused by the validator
        wanted[key] = split_themes(wanted.get(key, []) + split_themes(themes))
    return wanted


def _write_areas(tx: Transaction, store: Store, oid: str, layer: str, wanted: dict[str, list[str]]) -> pd.DataFrame:
    ctx = validation_context(store, tx=tx)
    ctx = dataclasses.replace(ctx, known_ids=functools.cache(ctx.known_ids))  # nothing is written while checking
    themes_of = {
        aid: validation.validate_record(
            "organisation_areas",
            {"organisation_id": oid, "boundary_layer": layer, "area_id": aid, "themes": themes},
            context=ctx,
        )["themes"]
        or ""
        for aid, themes in wanted.items()
    }
    mine = {"organisation_id": oid, "boundary_layer": layer}
    old = _read(tx, "organisation_areas", where=mine)
    before = {str(r.area_id): join_themes(r.themes) for r in old.itertuples()}
    # Link rows have no id: a dropped area's row is deleted, a new area's row inserted, and a row
    # whose themes change is replaced (keeping its basis and source).
    gone = [a for a in before if a not in wanted]
    changed = [a for a in wanted if a in before and before[a] != themes_of[a]]
    if gone or changed:
        tx.delete("organisation_areas", {**mine, "area_id": gone + changed})
    fresh = []
    for aid in wanted:
        if aid in before and aid not in changed:
            continue
        prev = old[old["area_id"].astype(str) == aid]
        keep = prev.iloc[0].to_dict() if len(prev) else {}
        fresh.append({"organisation_id": oid, "boundary_layer": layer, "area_id": aid, "themes": themes_of[aid] or None,
                      "basis": keep.get("basis") or "entered in Common Ground",
                      "source": keep.get("source") or ENTERED_SOURCE, "licence": keep.get("licence") or None})  # fmt: skip
    if fresh:
        tx.insert("organisation_areas", fresh)
    new = _read(tx, "organisation_areas", where=mine)
    new = new.set_index(new["area_id"].astype(str)).loc[[a for a in wanted]] if len(new) else new
    new = schema.conform(new.reset_index(drop=True), "organisation_areas")
    after = dict(themes_of)
    tx.audit(
        "set_areas",
        "organisation_areas",
        oid,
        {"boundary_layer": layer, "areas": before},
        {"boundary_layer": layer, "areas": after},
    )
    return new.reset_index(drop=True)


@dataclass
class JoinUp:
    """Who works in one area and on what; where they overlap and what nobody covers.

    Attributes
    ----------
    working
        One row per organisation working there: ``organisation_id``, ``name``, ``kind``, ``themes``
        (text) and ``themes_from`` (``"this area"``, or ``"its profile"`` when no themes were given
        for the area and the organisation's own themes are used).
    by_theme
        ``{theme: [organisation names]}`` for every theme worked on there.
    overlaps
        The themes with two or more organisations: they should talk to each other.
    gaps
        Themes of the area's live aspirations (open or in progress) that no organisation works on.
    aspiration_themes
        ``{theme: number of live aspirations}``.
    """

    boundary_layer: str
    area_id: str
    working: pd.DataFrame
    by_theme: dict[str, list[str]] = field(default_factory=dict)
    overlaps: dict[str, list[str]] = field(default_factory=dict)
    gaps: list[str] = field(default_factory=list)
    aspiration_themes: dict[str, int] = field(default_factory=dict)


def join_up(
    area_id: str,
    *,
    boundary_layer: str,
    organisations: pd.DataFrame,
    organisation_areas: pd.DataFrame,
    aspirations: pd.DataFrame,
) -> JoinUp:
    """Join up one area: who works there on which themes, the overlaps, and the gaps.

    Parameters
    ----------
    area_id
        The area's id in ``boundary_layer``.
    boundary_layer
        ``wards``, ``lsoas`` or ``neighbourhoods``.
    organisations, organisation_areas, aspirations
        The layers of the same names (hidden aspirations, e.g. pending ones, never count).

    Returns
    -------
    JoinUp
        Overlaps are themes with two or more organisations working on them in the area ("talk to
        each other"); gaps are themes of the area's open or in-progress aspirations that no
        organisation works on there. Themes match ignoring case and spacing.
    """
    links = for_area(organisation_areas, boundary_layer=boundary_layer, area_id=area_id)
    orgs = pd.DataFrame(organisations.drop(columns=[c for c in ("geometry",) if c in organisations.columns]))
    info = orgs.drop_duplicates("id").set_index(orgs.drop_duplicates("id")["id"].astype(str))
    rows = []
    for link in links.drop_duplicates("organisation_id").itertuples(index=False):
        oid = str(link.organisation_id)
        org = info.loc[oid] if oid in info.index else None
        here = split_themes(link.themes)
        own = split_themes(org["themes"]) if org is not None else []
        rows.append(
            {
                "organisation_id": oid,
                "name": str(org["name"]) if org is not None else oid,
                "kind": "" if org is None or _blank(org["kind"]) else str(org["kind"]),
                "themes": join_themes(here or own),
                "themes_from": "this area" if here else "its profile",
            }
        )
    working = pd.DataFrame(rows, columns=["organisation_id", "name", "kind", "themes", "themes_from"])
    working = working.sort_values(["name", "organisation_id"]).reset_index(drop=True)
    by_theme: dict[str, list[str]] = {}
    for r in working.itertuples(index=False):
        for t in split_themes(r.themes):
            by_theme.setdefault(t, []).append(r.name)
    by_theme = {t: sorted(names) for t, names in sorted(by_theme.items())}
    asp = for_area(visible(aspirations), boundary_layer=boundary_layer, area_id=area_id)
    if not asp.empty:
        status = asp["status"].astype("string").fillna("open").str.casefold()
        asp = asp[status.isin(LIVE_ASPIRATION_STATUSES)]
    counts: dict[str, int] = {}
    for theme in asp.get("theme", pd.Series(dtype=object)):
        for t in split_themes(theme):
            counts[t] = counts.get(t, 0) + 1
    return JoinUp(
        boundary_layer=boundary_layer,
        area_id=str(area_id),
        working=working,
        by_theme=by_theme,
        overlaps={t: n for t, n in by_theme.items() if len(n) >= 2},
        gaps=sorted(t for t in counts if t not in by_theme),
        aspiration_themes=dict(sorted(counts.items())),
    )


def organisation_matrix(
    organisations: pd.DataFrame,
    organisation_areas: pd.DataFrame,
    *,
    boundary_layer: str,
    areas: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Organisations × areas of one boundary layer: the themes each works on in each area.

    Parameters
    ----------
    organisations, organisation_areas
        The layers of the same names.
    boundary_layer
        Only links to areas of this layer count.
    areas
        The boundary layer's rows; when given, columns are named by area name (else by id) and
        ordered by name.

    Returns
    -------
    DataFrame
        Indexed by organisation id: ``organisation``, ``kind``, ``areas`` (how many), then one column
        per area holding the themes there (``"✓"`` when none were given; ``""`` where it does not
        work). Organisations working in no area of the layer are left out. Sorted by ``areas``
        (most first), then name.
    """
    links = organisation_areas[organisation_areas["boundary_layer"].astype("string").fillna("") == boundary_layer]
    empty = pd.DataFrame(
        {"organisation": pd.Series(dtype="string"), "kind": pd.Series(dtype="string"), "areas": pd.Series(dtype=int)},
        index=pd.Index([], name="organisation_id", dtype="string"),
    )
    if areas is not None:
        labels = dict(zip(areas["id"].astype(str), areas["name"].astype(str), strict=False))
    else:
        labels = {a: a for a in links["area_id"].astype(str).unique()}
    links = links[links["area_id"].astype(str).isin(labels)]
    if links.empty:
        return empty
    names = organisations.drop_duplicates("id").set_index(organisations.drop_duplicates("id")["id"].astype(str))
    cell = links.assign(
        organisation_id=links["organisation_id"].astype(str),
        area=links["area_id"].astype(str).map(labels),
        value=links["themes"].map(lambda t: join_themes(t) or "✓"),
    )
    wide = cell.pivot_table(index="organisation_id", columns="area", values="value", aggfunc="first")
    columns = sorted(wide.columns, key=lambda c: str(c).casefold())
    wide = wide.reindex(columns=columns).fillna("")
    wide.columns.name = None
    head = pd.DataFrame(index=wide.index)
    head["organisation"] = [str(names.loc[i, "name"]) if i in names.index else i for i in wide.index]
    head["kind"] = [
        str(names.loc[i, "kind"]) if i in names.index and not _blank(names.loc[i, "kind"]) else "" for i in wide.index
    ]
    head["areas"] = (wide != "").sum(axis=1).astype(int)
    out = pd.concat([head, wide], axis=1)
    out.index.name = "organisation_id"
    order = (
        out.assign(_key=out["organisation"].str.casefold())
        .sort_values(["areas", "_key"], ascending=[False, True])
        .index
    )
    return out.loc[order]


# --------------------------------------------------------------------------------------------
# Stories of success
# --------------------------------------------------------------------------------------------


def add_story(
    store: Store,
    *,
    actor: Actor,
    title: str,
    summary: str,
    body: str,
    boundary_layer: str,
    area_id: str,
    asset_ids: Iterable[str] | str = (),
    organisation_ids: Iterable[str] | str = (),
    themes: str | Sequence[str] = "",
    method: str = "",
    outcome: str = "",
    date: dt.date | str,
    source: str,
    lon: float | None = None,
    lat: float | None = None,
) -> str:
    """Record a story of success for the evidence base.

    Parameters
    ----------
    actor
        Needs ``contribute``. A contributor's story lands as ``pending`` (hidden until an editor
        approves it); an editor's or admin's is ``published`` at once.
    title, summary, body
        The story: a title, one or two sentences, and the full account.
    boundary_layer, area_id
        Where it happened.
    asset_ids, organisation_ids
        The assets it built on and the organisations involved (ids; all must exist).
    themes
        Comma-separated themes.
    method
        How it was done: what others could reuse.
    outcome
        What changed.
    date
        When it happened.
    source
        Where the story comes from (e.g. the group that told it).
    lon, lat
        A point for the map (inside the data's area, as every point); when not given and assets are
        named, the first asset's point is used.

    Returns
    -------
    str
        The new story's id.
    """
    principal, who = _authorise(actor, "contribute")
    record = {
        "id": _new_id(),
        "title": title,
        "summary": summary,
        "body": body,
        "boundary_layer": boundary_layer,
        "area_id": area_id,
        "asset_ids": _listed(asset_ids),
        "organisation_ids": _listed(organisation_ids),
        "themes": themes,
        "method": method,
        "outcome": outcome,
        "date": date,
        "status": "pending" if _proposes(principal) else "published",
        "source": source,
        "licence": None,
        "lon": lon,
        "lat": lat,
    }
    row = _validate("stories", record, store=store)
    geom = row.pop("geometry", None)
    assets_named = split_ids(row["asset_ids"])
    with store.transaction(actor=who) as tx:
        if geom is None and assets_named:
            first = tx.read("assets", ids=[assets_named[0]]).geometry
            if len(first) and first.iloc[0] is not None and not first.iloc[0].is_empty:
                geom = first.to_crs(schema.STORAGE_CRS).iloc[0]
        _append(tx, "stories", row, geometry=geom)
    return row["id"]


_STORY_TEXT = ("title", "summary", "body", "method", "outcome", "themes")


def search_stories(
    stories: pd.DataFrame,
    *,
    text: str = "",
    theme: str | None = None,
    method: str | None = None,
    area_id: str | None = None,
    include_hidden: bool = False,
) -> pd.DataFrame:
    """The published stories matching every filter given, newest first (a copy).

    Parameters
    ----------
    text
        Words that must all appear (ignoring case) in the title, summary, body, method, outcome or
        themes. Matched literally, never as a pattern.
    theme
        A theme the story has (ignoring case and spacing).
    method
        Text that must appear in the method (ignoring case).
    area_id
        Only stories of this area.
    include_hidden
        Also pending, rejected and withdrawn stories (for editors' views); left out by default.
    """
    if not include_hidden:
        stories = visible(stories)
    keep = pd.Series(True, index=stories.index)
    words = str(text or "").casefold().split()
    if words:
        hay = pd.Series("", index=stories.index, dtype="string")
        for col in _STORY_TEXT:
            if col in stories.columns:
                hay = hay + " " + stories[col].astype("string").fillna("")
        hay = hay.str.casefold()
        for w in words:
            keep &= hay.str.contains(w, regex=False).fillna(False)
    wanted = split_themes(theme)
    if wanted:
        keep &= stories["themes"].map(lambda t: wanted[0] in split_themes(t))
    m = " ".join(str(method or "").split()).casefold()
    if m:
        keep &= stories["method"].astype("string").fillna("").str.casefold().str.contains(m, regex=False)
    if not _blank(area_id):
        keep &= stories["area_id"].astype("string").fillna("") == str(area_id)
    out = stories[keep.fillna(False).astype(bool)].copy()
    return out.sort_values("date", ascending=False, kind="mergesort") if "date" in out.columns else out


def _names(ids: object, frame: pd.DataFrame | None) -> list[str]:
    named = split_ids(ids)
    if frame is None or frame.empty:
        return named
    lookup = dict(zip(frame["id"].astype(str), frame["name"].astype(str), strict=False))
    return [lookup.get(i, i) for i in named]


def _md(value: object) -> str:
    """User text for a Markdown report: shown literally, nothing turned into a link."""
    return "" if _blank(value) else markdown_literal(value)


def story_report(
    story: pd.Series | dict,
    *,
    fmt: str = "markdown",
    assets: pd.DataFrame | None = None,
    organisations: pd.DataFrame | None = None,
    area_name: str | None = None,
    include_hidden: bool = False,
) -> str:
    """A one-page report of a published story, as Markdown or as a standalone HTML page.

    Every piece of user text is escaped: HTML output passes it through :func:`html.escape`, and
    Markdown output backslash-escapes the characters that would format it or start HTML.

    Parameters
    ----------
    story
        A row of ``stories``.
    fmt
        ``"markdown"`` or ``"html"``.
    assets, organisations
        The layers of the same names, to name the linked assets and organisations (ids are shown
        when not given).
    area_name
        The name of the story's area (its id is shown when not given).
    include_hidden
        Allow a pending, rejected or withdrawn story (an editor's preview); otherwise such a story
        is refused with :class:`NotPublishedError`.
    """
    if not include_hidden and is_hidden(dict(story).get("status")):
        raise NotPublishedError(
            f"The story {_label(dict(story).get('title'))} is {_status('stories', dict(story).get('status'))}, "
            "not published, so it has no public report; approve it first."
        )
    if fmt not in ("markdown", "html"):
        raise validation.InvalidValueError(
            f"The report format {fmt!r} is not offered; choose 'markdown' or 'html'.", field="fmt", value=fmt
        )
    s = dict(story)
    where = area_name or s.get("area_id") or ""
    facts = [
        ("Where", f"{where} ({s.get('boundary_layer') or ''} {s.get('area_id') or ''})".replace(" ()", "")),
        ("When", s.get("date")),
        ("Themes", join_themes(s.get("themes"))),
        ("Organisations", ", ".join(_names(s.get("organisation_ids"), organisations))),
        ("Assets it built on", ", ".join(_names(s.get("asset_ids"), assets))),
        ("Source", s.get("source")),
    ]
    facts = [(k, v) for k, v in facts if not _blank(v)]
    sections = [
        ("What happened", s.get("body")),
        ("How it was done (what others could reuse)", s.get("method")),
        ("What changed", s.get("outcome")),
    ]
    sections = [(k, v) for k, v in sections if not _blank(v)]
    footer = "Story of success recorded in Common Ground (Resilient Communities evidence base)."
    if fmt == "markdown":
        lines = [f"# {_md(s.get('title'))}", "", f"*{_md(s.get('summary'))}*", ""]
        lines += [f"- **{k}:** {_md(v)}" for k, v in facts]
        for k, v in sections:
            lines += ["", f"## {k}"]
            for p in str(v).splitlines():
                if p.strip():
                    lines += ["", _md(p.strip())]
        lines += ["", "---", footer, ""]
        return "\n".join(lines)
    esc = html.escape

    def paras(v: object) -> str:
        return "".join(f"<p>{esc(p)}</p>" for p in str(v).split("\n") if p.strip())

    parts = [
        "<!DOCTYPE html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        f"<title>{esc(str(s.get('title') or 'Story'))}</title>",
        "<style>body{font:15px/1.5 sans-serif;max-width:46em;margin:2em auto;padding:0 1em;color:#222}"
        "h1{font-size:1.6em;margin-bottom:.2em}.summary{font-style:italic;font-size:1.1em}"
        "dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:bold}dd{margin:0}"
        "footer{margin-top:2em;border-top:1px solid #ccc;font-size:.85em;color:#555}"
        "@media print{body{margin:0}}</style></head><body>",
        f"<h1>{esc(str(s.get('title') or ''))}</h1>",
        f"<p class='summary'>{esc(str(s.get('summary') or ''))}</p>",
        "<dl>" + "".join(f"<dt>{esc(k)}</dt><dd>{esc(str(v))}</dd>" for k, v in facts) + "</dl>",
    ]
    parts += [f"<h2>{esc(k)}</h2>{paras(v)}" for k, v in sections]
    parts += [f"<footer>{esc(footer)}</footer>", "</body></html>"]
    return "\n".join(parts)


# --------------------------------------------------------------------------------------------
# Moderation: contributors' aspirations, stories and measure values
# --------------------------------------------------------------------------------------------

#: The columns of :func:`pending_items` (``created_by`` is a person's name: editors only).
QUEUE_COLUMNS = ("layer", "id", "title", "summary", "boundary_layer", "area_id", "created_at", "created_by", "version")
#: The columns of :func:`my_contributions`.
CONTRIBUTION_COLUMNS = ("layer", "id", "title", "status", "created_at", "version")


def _label(value: object, width: int = 60) -> str:
    text = "" if _blank(value) else " ".join(str(value).split())
    return repr(text if len(text) <= width else text[: width - 1] + "…")


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
