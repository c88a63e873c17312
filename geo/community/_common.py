"""What the community modules share: statuses, themes, ids, permission checks, reads and writes."""

from __future__ import annotations

import dataclasses
import math
import re
import uuid
from collections.abc import Iterable

import pandas as pd
from shapely.geometry.base import BaseGeometry

from geo import auth, schema, validation
from geo.auth import Principal
from geo.store import Store, Transaction, validation_context
from geo.validation import (
    UnknownReferenceError,
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


def _label(value: object, width: int = 60) -> str:
    text = "" if _blank(value) else " ".join(str(value).split())
    return repr(text if len(text) <= width else text[: width - 1] + "…")
