"""Aspirations (what a community wants for its area) and agreed success measures with their values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd

from geo.community._common import (
    ENTERED_SOURCE,
    Actor,
    _append,
    _authorise,
    _blank,
    _label,
    _listed,
    _new_id,
    _proposes,
    _read,
    _row,
    _status,
    _validate,
    is_hidden,
    split_ids,
    visible,
)
from geo.errors import (
    NotPublishedError,
)
from geo.store import Store, Transaction

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


def aspirations_table(aspirations: pd.DataFrame, assets: pd.DataFrame) -> pd.DataFrame:
    """An area's aspirations for people to read, newest first: ``Aspiration``, ``Theme``, ``Raised by``,
    ``Raised on``, ``Status`` and ``Assets that could help`` (the linked assets' names; an id that
    is no longer an asset is shown as the id). ``id`` is kept as the index."""
    names = dict(zip(assets["id"].astype(str), assets["name"].astype(str), strict=False))

    def helpers(ids: object) -> str:
        return ", ".join(names.get(i, i) for i in split_ids(ids))

    ordered = aspirations.sort_values("raised_on", ascending=False, kind="stable")
    out = ordered[["text", "theme", "raised_by", "raised_on", "status"]].assign(helps=ordered["asset_ids"].map(helpers))
    out.index = pd.Index(ordered["id"].astype(str), name="id")
    return out.rename(
        columns={
            "text": "Aspiration",
            "theme": "Theme",
            "raised_by": "Raised by",
            "raised_on": "Raised on",
            "status": "Status",
            "helps": "Assets that could help",
        }
    )


def measures_for(success_measures: pd.DataFrame, aspiration_id: str) -> pd.DataFrame:
    """The success measures agreed for one aspiration."""
    return success_measures[success_measures["aspiration_id"].astype(str) == str(aspiration_id)]
