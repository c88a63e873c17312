"""The store interface: what every backend (GeoPackage, PostGIS) offers, defined once.

Everything in Common Ground that reads or writes data goes through :class:`Store` and, for writes,
through one :class:`Transaction`. The backends differ in how they keep the data, never in what a
caller sees:

* **Reads** return a GeoDataFrame in EPSG:4326 (a plain DataFrame for layers without geometry),
  conformed to :mod:`geo.schema`, optionally narrowed by ``ids``, a ``bbox`` and a structured
  ``where`` (``{"status": "active", "type": ["library", "food_bank"], "organisation_id": None}``:
  equality, membership, or missing). Never SQL text: user input cannot reach a query.
* **Writes are row-level.** ``insert`` adds rows, ``update`` changes some fields of one feature,
  ``remove`` soft-deletes one (``status = 'removed'``), ``delete`` drops link rows that have no id.
  Nothing rewrites a layer.
* **Versions.** Every row of an editable layer carries ``version`` (1 when inserted, +1 on every
  update). ``update(..., if_version=V)`` refuses with :class:`~geo.errors.VersionConflictError`
  when the stored version is not ``V``: someone else saved in between. The message names who,
  when and which fields, from the audit log. Stamps (``created_*``, ``updated_*``) and versions are
  set by the store, never by callers.
* **Transactions.** ``with store.transaction(actor=...) as tx:`` is one database transaction:
  everything in it, audit entries included, lands whole or not at all. Writers queue on the
  database's own locking (SQLite's busy handler; PostgreSQL row locks), never on a polling lock.
* **Audit.** ``tx.audit(action, layer, feature_id, before, after)`` appends to ``audit_log`` in the
  same transaction. The audit log is append-only and read in the order it was written.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from geo import schema
from geo._lazy import lazy
from geo.errors import StoreError, VersionConflictError

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

gpd = lazy("geopandas", globals(), "gpd")
pd = lazy("pandas", globals(), "pd")


#: A structured filter: column -> value (equality), a list/tuple/set of values (membership) or
#: ``None`` (missing). Columns are checked against the layer; values are always bound parameters.
Where = Mapping[str, Any]

#: Bump when the store's tables change; each backend migrates older stores on their first write.
SCHEMA_VERSION = 2


def now_iso() -> str:
    """The current time in UTC as ISO 8601 text (the store's timestamp format)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class LayerInfo:
    """What ``python -m geo info`` reports about one layer."""

    name: str
    geometry_type: str | None
    features: int
    crs: str | None
    bounds: tuple[float, float, float, float] | None

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "geometry_type": self.geometry_type,
            "features": self.features,
            "crs": self.crs,
            "bounds": list(self.bounds) if self.bounds else None,
        }


@runtime_checkable
class Transaction(Protocol):
    """Changes that land whole or not at all; see the module notes."""

    actor: str
    #: The transaction's time (``now_iso`` at its start): every row it stamps and every audit entry
    #: it writes carry this one time, so a conflict names the same moment as the row's ``updated_at``.
    now: str

    def has_layer(self, name: str) -> bool: ...

    def read(
        self,
        name: str,
        *,
        ids: Sequence[str] | None = None,
        where: Where | None = None,
        columns: Sequence[str] | None = None,
    ) -> gpd.GeoDataFrame | pd.DataFrame:
        """Rows as they stand inside this transaction (its own writes included)."""
        ...

    def get(self, name: str, feature_id: str) -> dict | None:
        """One feature as a plain dict (every column, ``geometry`` as shapely), or ``None``: no pandas."""
        ...

    def insert(self, name: str, rows: pd.DataFrame | Sequence[Mapping[str, Any]]) -> list[dict]:
        """Add rows; stamps ``created_*``/``updated_*`` with the actor, ``version`` = 1.

        A GeoDataFrame is reprojected to EPSG:4326; a list of dicts may carry a shapely
        ``geometry``. Columns the layer does not have yet are added. Returns the stored rows.
        """
        ...

    def update(
        self, name: str, feature_id: str, changes: Mapping[str, Any], *, if_version: int | None = None
    ) -> tuple[dict, dict]:
        """Change some fields (``geometry`` too) of one feature; returns its rows ``(before, after)``.

        Raises :class:`~geo.errors.FeatureNotFoundError` for an unknown id and
        :class:`~geo.errors.VersionConflictError` when ``if_version`` is given and stale.
        """
        ...

    def remove(self, name: str, feature_id: str, *, if_version: int | None = None) -> tuple[dict, dict]:
        """Soft-delete one feature (``status = 'removed'``): kept for history and undo."""
        ...

    def delete(self, name: str, where: Where) -> int:
        """Delete the rows matching ``where`` (link rows without ids); returns how many."""
        ...

    def audit(
        self, action: str, layer: str, feature_id: str | None, before: Mapping | None, after: Mapping | None
    ) -> None:
        """Append one audit entry, written with the transaction."""
        ...

    def replace(self, name: str, frame: pd.DataFrame) -> None:
        """Bulk: make a layer hold exactly ``frame``'s rows, as given (copy and build only; not audited)."""
        ...


@runtime_checkable
class Store(Protocol):
    """A Common Ground data store; see the module notes."""

    #: ``"gpkg"`` or ``"postgis"``.
    backend: str
    #: Where it is, for people (a path, or a URL without its password).
    location: str

    def version(self, layer: str | None = None) -> str:
        """A token that changes on every committed write (to ``layer``, when given): a cache key."""
        ...

    def revisions(self) -> dict[str, str]:
        """Every layer's :meth:`version` token at once (``""``: the store's), in one query."""
        ...

    def layer_names(self) -> list[str]: ...

    def has_layer(self, name: str) -> bool: ...

    def read(
        self,
        name: str,
        *,
        ids: Sequence[str] | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        where: Where | None = None,
        columns: Sequence[str] | None = None,
    ) -> gpd.GeoDataFrame | pd.DataFrame: ...

    def get(self, name: str, feature_id: str) -> dict | None:
        """One feature as a plain dict (every column, ``geometry`` as shapely), or ``None``: no pandas."""
        ...

    def info(self) -> list[LayerInfo]: ...

    def check(self) -> list[str]:
        """Health problems found (empty when healthy)."""
        ...

    def transaction(self, *, actor: str) -> AbstractContextManager[Transaction]: ...

    def replace_layer(self, name: str, frame: pd.DataFrame, *, actor: str) -> None:
        """Bulk: replace a whole layer, rows as given (building and copying stores only; not audited)."""
        ...

    def read_audit(self) -> pd.DataFrame:
        """The whole audit log, in the order it was written."""
        ...

    def read_audit_page(
        self, *, layer: str | None = None, before: int | None = None, limit: int = 50
    ) -> tuple[pd.DataFrame, int]:
        """One page of the audit log, newest first, read without the rest (:func:`audit_page_sql`).

        At most ``limit`` entries (of ``layer``; ``None``: every layer) written before the entry at
        position ``before`` (the cursor of the next page: the last ``entry`` of this one; ``None``:
        from the newest), with their position in the whole log in column ``entry`` (as
        ``read_audit().index``); and how many entries (of ``layer``) the log holds in all.
        """
        ...


# --------------------------------------------------------------------------------------------
# Shared by the backends
# --------------------------------------------------------------------------------------------


AUDIT_COLUMNS = ("at", "by", "action", "layer", "feature_id", "before", "after")


def audit_page_sql(*, layer: bool, before: bool, mark: str = "?") -> tuple[str, str]:
    """The two queries of :meth:`Store.read_audit_page`, in SQL that SQLite and PostgreSQL share:
    the page (parameters: ``layer`` if filtered, ``before`` if given, ``limit``) and the count
    (``layer`` if filtered). Positions are numbered over the whole log by ``fid`` (the order of
    writing) on the narrow columns only; the before/after JSON is read for the page's rows alone."""
    terms = ['"layer" = ' + mark] if layer else []
    if before:
        terms.append("entry < " + mark)
    where = ("WHERE " + " AND ".join(terms)) if terms else ""
    cols = ", ".join(f'a."{c}"' for c in AUDIT_COLUMNS)
    page = (
        f'SELECT p.entry, {cols} FROM (SELECT fid, entry FROM (SELECT fid, "layer", '
        f"row_number() OVER (ORDER BY fid) - 1 AS entry FROM audit_log) n {where} "
        f"ORDER BY entry DESC LIMIT {mark}) p JOIN audit_log a ON a.fid = p.fid ORDER BY p.entry DESC"
    )
    count = "SELECT count(*) FROM audit_log" + (' WHERE "layer" = ' + mark if layer else "")
    return page, count


def audit_page_frame(rows: Sequence[Sequence[Any]]) -> pd.DataFrame:
    """The rows of :func:`audit_page_sql`'s page as a frame: ``entry`` (int) and the audit columns (text)."""
    frame = pd.DataFrame.from_records(list(rows), columns=["entry", *AUDIT_COLUMNS])
    frame["entry"] = frame["entry"].astype("int64")
    for c in AUDIT_COLUMNS:
        frame[c] = frame[c].astype(object)
    return frame


def check_page(before: int | None, limit: int) -> None:
    """Refuse a page that cannot be read (a negative size or cursor)."""
    if int(limit) < 0 or (before is not None and int(before) < 0):
        raise StoreError(f"An audit page needs limit >= 0 and before >= 0 (or None); got {limit}, {before}.")


def require_actor(actor: object) -> str:
    """The actor as stored (stripped), or a :class:`StoreError` saying one is needed."""
    if not isinstance(actor, str) or not actor.strip():
        raise StoreError("Every change needs an actor (who made it); pass actor='name or email'.")
    return actor.strip()


def check_where(where: Where | None, columns: Sequence[str], layer: str) -> list[tuple[str, str, list]]:
    """Validate a structured filter; returns ``[(column, op, values)]`` with op ``=``, ``in`` or ``null``."""
    out: list[tuple[str, str, list]] = []
    if not where:
        return out
    if not isinstance(where, Mapping):
        raise StoreError(
            f"where= must be a mapping of column to value(s), e.g. {{'status': 'active'}}; got {type(where).__name__}."
        )
    for col, value in where.items():
        if col not in columns:
            raise StoreError(f"Layer {layer!r} has no column {col!r} to filter on; it has: {', '.join(columns)}.")
        if value is None:
            out.append((col, "null", []))
        elif isinstance(value, (list, tuple, set, frozenset, pd.Index, pd.Series)):
            vals = [plain_value(v) for v in value]
            out.append((col, "in", vals))
        else:
            out.append((col, "=", [plain_value(value)]))
    return out


def plain_value(value: Any) -> Any:
    """A Python scalar for a database parameter: numpy scalars unwrapped, NA and NaN as ``None``."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def is_editable(name: str) -> bool:
    spec = schema.LAYERS.get(name)
    return bool(spec and spec.editable)


def conflict_error(
    *,
    layer: str,
    feature_id: str,
    label: str,
    expected: int,
    current: Mapping[str, Any],
    audit: pd.DataFrame,
) -> VersionConflictError:
    """The refusal of a stale edit: who changed the feature since ``expected``, when, which fields.

    ``audit`` holds the feature's audit entries (any order of columns ``at``, ``by``, ``before``,
    ``after``) in the order written. Entries whose ``after`` carries a ``version`` newer than
    ``expected`` are the changes the editor did not see; without them (older stores), the row's own
    ``updated_by``/``updated_at`` name the last change.
    """
    now_version = int(current.get("version") or 0)
    newer: list[tuple[str, str, dict, dict]] = []
    for _, entry in audit.iterrows():
        after = audit_dict(entry.get("after"))
        if after is None:
            continue
        v = after.get("version")
        try:
            v = int(v)
        except (TypeError, ValueError):
            continue
        if v > expected:
            newer.append(
                (str(entry.get("by") or ""), str(entry.get("at") or ""), audit_dict(entry.get("before")) or {}, after)
            )
    if newer:
        who = sorted({n[0] for n in newer if n[0]})
        when = max(n[1] for n in newer)
        fields: list[str] = []
        for _, _, before, after in newer:
            for k, v in after.items():
                if k.startswith("_") or k in ("version", "updated_at", "updated_by", "created_at", "created_by"):
                    continue
                if k in before and _same_json(before.get(k), v):
                    continue
                if k not in fields:
                    fields.append(k)
    else:
        who = [str(current.get("updated_by") or "someone")]
        when = str(current.get("updated_at") or "recently")
        fields = []
    what = ", ".join(fields) if fields else "some fields"
    people = " and ".join(who) if who else "someone"
    n = now_version - expected
    times = "" if n <= 1 else f" ({n} changes)"
    msg = (
        f"{label} was changed by {people} at {when}{times} after you loaded it ({what}); your edit was not "
        "saved. Reload it to see their change, then make your edit again."
    )
    return VersionConflictError(
        msg,
        layer=layer,
        feature_id=feature_id,
        expected=expected,
        current=now_version,
        changed_by=people,
        changed_at=when,
        fields=tuple(fields),
    )


def feature_label(row: Mapping[str, Any], layer: str) -> str:
    for key in ("name", "title", "measure", "text"):
        v = row.get(key)
        if isinstance(v, str) and v.strip():
            text = v.strip()
            return repr(text if len(text) <= 60 else text[:59] + "…")
    return f"{layer} feature {row.get('id')!r}"


def audit_json(value: Mapping | None) -> str:
    return json.dumps(value, default=str, ensure_ascii=False) if value is not None else ""


def audit_dict(text: Any) -> dict | None:
    """The dict an audit entry's ``before``/``after`` JSON holds, or ``None`` (blank, malformed, not a dict)."""
    if text is None or (isinstance(text, float) and math.isnan(text)) or text is pd.NA or str(text) == "":
        return None
    try:
        value = json.loads(str(text))
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _same_json(a: Any, b: Any) -> bool:
    if a in (None, "") and b in (None, ""):
        return True
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), abs_tol=1e-9)
    return a == b


def iter_chunks(items: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
