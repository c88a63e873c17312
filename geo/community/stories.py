"""Stories of success: the evidence base (add, search, one-page report)."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Sequence

import pandas as pd

from geo import schema, validation
from geo.community._common import (
    Actor,
    _append,
    _authorise,
    _blank,
    _label,
    _listed,
    _new_id,
    _proposes,
    _status,
    _validate,
    is_hidden,
    join_themes,
    split_ids,
    split_themes,
    visible,
)
from geo.errors import (
    NotPublishedError,
)
from geo.store import Store
from geo.textsafe import markdown_literal

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
