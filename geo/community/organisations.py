"""Organisations, where they work and on what, and joining them up (overlaps and gaps)."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from geo import schema, validation
from geo.community._common import (
    ENTERED_SOURCE,
    LIVE_ASPIRATION_STATUSES,
    Actor,
    _append,
    _authorise,
    _blank,
    _boundary_layer,
    _new_id,
    _read,
    _row,
    for_area,
    join_themes,
    split_themes,
    visible,
)
from geo.errors import FeatureNotFoundError
from geo.store import Store, Transaction, validation_context

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


#: A link whose themes were inherited from the assets an organisation runs (as the demo's build and
#: imports of services write it: "runs 3 asset(s) located in this area"), not chosen by the organisation.
INHERITED_BASIS = re.compile(r"^\s*runs \d+ asset", re.IGNORECASE)


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
        The themes that two or more organisations chose themselves for this area (or, for links
        entered in Common Ground without themes, in their profile): they should talk to each other.
        Organisations whose themes here only come from the types of the assets they run (a
        pharmacy's "health", say: a link whose ``basis`` is :data:`INHERITED_BASIS`) are not counted:
        sharing a theme by inheritance is not a reason to talk.
    services
        ``{theme: [names]}`` of those inheriting organisations, for a count beside the overlaps.
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
    services: dict[str, list[str]] = field(default_factory=dict)
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
                "inherited": bool(INHERITED_BASIS.match(str(getattr(link, "basis", "") or ""))),
            }
        )
    working = pd.DataFrame(rows, columns=["organisation_id", "name", "kind", "themes", "themes_from", "inherited"])
    working = working.sort_values(["name", "organisation_id"]).reset_index(drop=True)
    by_theme: dict[str, list[str]] = {}
    chosen: dict[str, list[str]] = {}
    services: dict[str, list[str]] = {}
    for r in working.itertuples(index=False):
        for t in split_themes(r.themes):
            by_theme.setdefault(t, []).append(r.name)
            (services if r.inherited else chosen).setdefault(t, []).append(r.name)
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
        overlaps={t: sorted(n) for t, n in sorted(chosen.items()) if len(n) >= 2},
        services={t: sorted(n) for t, n in sorted(services.items())},
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


@dataclass(frozen=True)
class Footprint:
    """Where one organisation works in one boundary layer, and the assets it runs.

    Attributes
    ----------
    organisation
        The organisation's row as text (blank for missing values), ``version`` included: what an
        edit form starts from.
    links
        Its ``organisation_areas`` rows for the boundary layer.
    works
        One boolean per area (the ``areas`` index): does it work there.
    runs
        The active assets it runs (``organisation_id`` is its id; a blank status counts as active).
    """

    organisation: dict[str, str]
    links: pd.DataFrame
    works: pd.Series
    runs: pd.DataFrame


def organisation_choices(organisations: pd.DataFrame) -> dict[str, str]:
    """``{id: "Name (kind)"}`` for a picker, ordered by name (ignoring case), then id."""
    rows = organisations.drop_duplicates("id")
    labels = {
        str(r.id): f"{r.name} ({r.kind if not _blank(r.kind) else 'kind not known'})"
        for r in rows[["id", "name", "kind"]].itertuples(index=False)
    }
    names = dict(zip(rows["id"].astype(str), rows["name"].astype(str), strict=False))
    return {i: labels[i] for i in sorted(labels, key=lambda i: (names[i].casefold(), i))}


def organisation_footprint(
    organisation_id: str,
    *,
    boundary_layer: str,
    organisations: pd.DataFrame,
    organisation_areas: pd.DataFrame,
    areas: pd.DataFrame,
    assets: pd.DataFrame,
) -> Footprint:
    """Where ``organisation_id`` works among ``areas`` (rows of ``boundary_layer``) and what it runs.

    Raises
    ------
    FeatureNotFoundError
        No organisation has that id.
    """
    oid = str(organisation_id)
    rows = organisations[organisations["id"].astype(str) == oid]
    if rows.empty:
        raise FeatureNotFoundError(f"No organisation has the id {oid!r}; choose one from the list, or reload the page.")
    org = {k: "" if _blank(v) else str(v) for k, v in rows.iloc[0].items() if k != "geometry"}
    links = organisation_areas[
        (organisation_areas["organisation_id"].astype(str) == oid)
        & (organisation_areas["boundary_layer"].astype("string").fillna("") == boundary_layer)
    ]
    works = areas["id"].astype(str).isin(set(links["area_id"].astype(str)))
    status = assets["status"].astype("string").fillna("active") if "status" in assets.columns else "active"
    runs = assets[(assets["organisation_id"].astype(str) == oid) & (status == "active")]
    return Footprint(organisation=org, links=links, works=works, runs=runs)
