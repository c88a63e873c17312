"""One validator per layer: the rules every write follows, whether it comes from the API, a page or an import.

:func:`validate_record` checks and cleans one record (a new feature, or with ``partial=True`` the
fields of an update); :func:`validate_frame` applies the very same rules to every row of a frame
(an import) and collects row-numbered error sentences instead of raising. Both run on one core, so
a value refused by one is refused by the other with the same sentence. The module never touches a
store: what validation needs from one (the taxonomy, the data's extent, the ids of each layer, the
date) is given as a :class:`Context` of plain values and callables. :func:`require_actor` is the
one check of who makes a change.

Layers
    ``assets``, ``organisations``, ``organisation_areas``, ``aspirations``, ``success_measures``,
    ``measure_updates``, ``stories`` and ``taxonomy`` (one row per trait, category or type).

Rules (every message is one sentence naming the column, what is wrong and how to fix it)
    * Text is stripped; empty text (or ``None``/NaN) becomes ``None``. Names, titles, groups, ids
      and other one-line fields hold at most :data:`MAX_NAME_LENGTH` characters and no line
      break; other text at most :data:`MAX_TEXT_LENGTH`; a story's ``body``
      :data:`MAX_BODY_LENGTH`. Invisible control characters (NUL, escape, bidirectional
      overrides) are refused everywhere. Ids hold no comma (lists of ids are comma-separated).
    * Dates are written ``YYYY-MM-DD`` (a ``date``, ``datetime``, or ISO text; a time part is
      dropped) and may not lie after ``context.today``.
    * Choices match ignoring case and spacing and are stored in their canonical spelling:
      ``status`` of assets (:data:`geo.schema.ASSET_STATUSES`) and of aspirations
      (:data:`ASPIRATION_STATUSES`), ``horizon`` (:data:`geo.schema.HORIZONS`), ``kind`` of
      organisations (:data:`geo.schema.ORGANISATION_KINDS`), ``boundary_layer``
      (``context.boundary_layers``) and the taxonomy's ``kind``.
    * Numbers become ``float``; they must be finite and are written with a decimal point and no
      thousands separator (``"1,500"`` is refused: it means 1.5 in half of Europe).
    * Postcodes are normalised with :func:`geo.geocode.normalise_postcode` (``"s58nj"`` ->
      ``"S5 8NJ"``).
    * Web addresses start with ``http://`` or ``https://`` and hold a host name, no whitespace,
      quotes, angle brackets, backticks or backslashes, no user name or password before the host,
      and none of those characters hidden behind percent-encoding (``%3C``, ``%22``, ``%253C``,
      control characters such as ``%0A``); a ``%`` must start a ``%XX`` escape. ``%20`` stays
      allowed.
    * An asset's ``type`` must be a type of ``context.taxonomy`` (its id, or its label, ignoring
      case); its ``category`` is always derived from the type (a given category is overwritten,
      and a category without a type is refused). Types of categories that are never mapped
      (people's skills) are refused.
    * Themes are lower case, trimmed and without repeats, stored as ``"food, health"``; id lists
      (``asset_ids``, ``organisation_ids``) as ``"a, b"``.
    * Links must point at rows that exist, via ``context.known_ids``: ``area_id`` at an area of
      ``boundary_layer`` (the two are given together), ``aspiration_id`` at ``aspirations``,
      ``measure_id`` at ``success_measures``, ``asset_ids`` at ``assets``, ``organisation_id`` and
      ``organisation_ids`` at ``organisations``. A taxonomy type's ``category`` and ``traits``
      must exist in the taxonomy (or in earlier rows of the same frame).
    * Points (``lon``/``lat``, or a shapely ``geometry``; frames may be GeoDataFrames in any CRS)
      must be finite, not swapped, and inside ``context.area_bounds`` widened by
      :data:`AREA_MARGIN_DEG` (without bounds: valid degrees). A one-part MultiPoint is unwrapped.

Decisions
    * **Groups, not people.** ``raised_by`` (aspirations) and ``agreed_by`` (success measures)
      must name a group or organisation: text that looks like an email address or a phone number
      is refused (:func:`private_details_in`). ``contributed_by`` (assets) and ``recorded_by``
      (measure updates) say who contributed or recorded, which may be a person or the actor's
      email exactly like ``created_by``, so they are not checked for contact details; they are
      people columns that only editors see. ``public_contact`` is an organisation's own public
      contact and may hold a phone number.
    * **One margin**: :data:`AREA_MARGIN_DEG` = 0.05 degrees (about 5.5 km north-south, 3.3 km
      east-west at 53°N) around ``context.area_bounds``, for edits and imports
      alike (imports allowed 0.25, edits 0.05).
    * **Stamps** (:data:`STAMP_COLUMNS`: ``created_at``, ``created_by``, ``updated_at``,
      ``updated_by``, ``version``) are set by the store. :func:`validate_record` *refuses* a
      stamp given with a value (an API caller must not claim who or when; empty ones are dropped);
      :func:`validate_frame` *drops* them, because a file exported from Common Ground carries them
      and must import again.
    * **Required fields** are checked when ``partial=False``; with ``partial=True`` only the
      fields present are checked, and a required field present but empty is refused. Defaults
      fill empty fields of new records: an asset's ``status`` is ``active``, an aspiration's
      ``open``, a measure's ``current`` its ``baseline``, a taxonomy type's ``icon`` ``circle``.
      Ids are never generated here.
    * **Columns.** Every schema column of the layer is validated (a column without a rule here
      by its schema kind); extra columns pass through unchanged (imports keep source columns).
      The cleaned record holds a ``geometry`` (a shapely Point in EPSG:4326, or ``None``) for
      point layers, replacing ``lon``/``lat``.

Speed
    :func:`validate_frame` works column by column: plain text, ids, postcodes and web addresses are
    accepted by whole-column scans, other text columns are checked once per distinct value, points
    with shapely's array functions; only the values those fast paths do not accept go through the
    one-value checks (which then give the same answer and sentence as :func:`validate_record`).
    Measured: 200,000 asset rows (a GeoDataFrame with id, name, type, description, address,
    postcode, url, opening hours, access notes, organisation_id, status, source, licence,
    verified_on, contributed_by and points) validate in 1.7 to 2.2 s of CPU time on a shared
    2-vCPU container (Python 3.11, pandas 3.0, shapely 2.0); from EPSG:27700 the reprojection adds
    about 0.3 s, and 10% bad rows change little.

Why this module is long: it is the one place every rule of every layer lives (the pages, the
editing API, the command line and imports all call it), so that one value is refused with one
sentence wherever it is typed. Splitting it by layer would scatter the shared checks (text,
dates, links, places, people's details) that most layers use.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo import schema
from geo.errors import (  # noqa: F401 (defined with every error in geo.errors; re-exported here)
    AreaNotFoundError,
    CommonGroundError,
    CoordinatesError,
    InvalidPostcodeError,
    InvalidValueError,
    MalformedPostcodeError,
    MissingValueError,
    OutsideAreaError,
    PrivateDetailsError,
    SchemaError,
    TaxonomyError,
    UnknownAreaError,
    UnknownReferenceError,
    UnknownTypeError,
    ValidationError,
)
from geo.geocode import normalise_postcode

#: How far (in degrees) a point may lie outside ``Context.area_bounds``: 0.05° is about 5.5 km
#: north-south and 3.3 km east-west at 53°N. The one margin used by edits, pages and imports.
AREA_MARGIN_DEG = 0.05
#: Names, titles, groups, ids and other one-line fields.
MAX_NAME_LENGTH = 200
#: Other free text (descriptions, notes, aspirations, summaries, web addresses).
MAX_TEXT_LENGTH = 4000
#: A story's full account.
MAX_BODY_LENGTH = 20000
#: ``open``: raised, nothing agreed yet; ``in progress``: partners are working on it; ``achieved``
#: and ``closed`` no longer count as gaps.
ASPIRATION_STATUSES = ("open", "in progress", "achieved", "closed", "pending", "rejected", "withdrawn")
#: The rows of the ``taxonomy`` layer.
TAXONOMY_KINDS = ("trait", "category", "type")
#: Set by the store on every write, never by a caller (see the module notes).
STAMP_COLUMNS = ("created_at", "created_by", "updated_at", "updated_by", "version")
#: Columns that must name a group or organisation, never hold a private person's contact details.
GROUP_COLUMNS: dict[str, tuple[str, ...]] = {"aspirations": ("raised_by",), "success_measures": ("agreed_by",)}
#: :func:`validate_frame` lists at most this many problems, then says how many more there are.
MAX_FRAME_ERRORS = 20

Bounds = tuple[float, float, float, float]


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# What validation needs from the store
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What validation needs to know, as plain values, so this module never opens a store.

    Parameters
    ----------
    taxonomy
        The asset taxonomy (types, categories, traits), e.g. :func:`geo.schema.load_taxonomy`.
    area_bounds
        This store's area as ``(minx, miny, maxx, maxy)`` in EPSG:4326 degrees: a configured
        study area, else the union of the boundary layers' bounds (:func:`geo.store.store_extent`).
        Points may lie up to :data:`AREA_MARGIN_DEG` outside it. ``None`` (a store without
        boundaries or a study area) only checks that points are valid degrees.
    known_ids
        ``known_ids(layer)`` returns the ids of a layer (an empty collection when the store has no
        such layer); it is called at most once per layer per validation. ``None`` skips the checks
        of links between layers: only for callers that check links themselves.
    today
        Dates after this are refused as being in the future. It is fixed when the context is made,
        so make a context per request (or per import) rather than keeping one for days.
    boundary_layers
        The boundary layers an ``area_id`` may belong to.
    """

    taxonomy: schema.Taxonomy
    area_bounds: Bounds | None = None
    known_ids: Callable[[str], Collection[str]] | None = None
    today: dt.date = field(default_factory=dt.date.today)
    boundary_layers: tuple[str, ...] = tuple(schema.BOUNDARY_LAYERS)

    def __post_init__(self) -> None:
        if self.area_bounds is not None:
            b = tuple(float(v) for v in self.area_bounds)
            if len(b) != 4 or not all(map(math.isfinite, b)) or b[0] > b[2] or b[1] > b[3]:
                raise SchemaError(
                    f"area_bounds {self.area_bounds!r} is not (minx, miny, maxx, maxy) in degrees; "
                    "give the data's extent, e.g. from the boundary layers' bounds."
                )
            object.__setattr__(self, "area_bounds", b)


# --------------------------------------------------------------------------------------------
# Rules per layer
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    """How one column is checked. ``kind`` names the check (see :func:`_scalar`)."""

    kind: str
    required: bool = False
    cap: int = MAX_TEXT_LENGTH
    choices: tuple[str, ...] = ()
    target: str | None = None
    default: Any = None
    hint: str = ""


@dataclass(frozen=True)
class _Layer:
    fields: dict[str, _Rule]
    point: str | None = None  # None, "optional" or "required"


def _r(kind: str, **kw: Any) -> _Rule:
    if kind in ("line", "id", "ref", "area_id", "group", "slug", "slugs", "icon") and "cap" not in kw:
        kw["cap"] = MAX_NAME_LENGTH
    return _Rule(kind, **kw)


_SOURCE = _r("text")
_LICENCE = _r("line")
_AREA = {
    "boundary_layer": _r("boundary_layer"),
    "area_id": _r("area_id"),
}
_AREA_REQUIRED = {
    "boundary_layer": _r("boundary_layer", required=True),
    "area_id": _r("area_id", required=True),
}

_LAYERS: dict[str, _Layer] = {
    "assets": _Layer(
        point="required",
        fields={
            "id": _r("id"),
            "name": _r("line", required=True, hint="give the asset a name"),
            "category": _r("derived"),
            "type": _r("type", required=True),
            "description": _r("text"),
            "address": _r("text"),
            "postcode": _r("postcode"),
            "url": _r("url"),
            "opening_hours": _r("text"),
            "access_notes": _r("text"),
            "organisation_id": _r("ref", target="organisations"),
            "status": _r("choice", choices=schema.ASSET_STATUSES, default="active"),
            "source": _SOURCE,
            "source_ref": _r("line"),
            "licence": _LICENCE,
            "verified_on": _r("date"),
            "contributed_by": _r("line"),
        },
    ),
    "organisations": _Layer(
        point="optional",
        fields={
            "id": _r("id"),
            "name": _r("line", required=True, hint="give the organisation's name"),
            "kind": _r("choice", required=True, choices=schema.ORGANISATION_KINDS),
            "charity_number": _r("line"),
            "company_number": _r("line"),
            "themes": _r("themes"),
            "url": _r("url"),
            "public_contact": _r("line"),
            "source": _SOURCE,
            "licence": _LICENCE,
        },
    ),
    "organisation_areas": _Layer(
        fields={
            "organisation_id": _r("ref", required=True, target="organisations"),
            **_AREA_REQUIRED,
            "themes": _r("themes"),
            "basis": _r("text"),
            "source": _SOURCE,
            "licence": _LICENCE,
        },
    ),
    "aspirations": _Layer(
        fields={
            "id": _r("id"),
            **_AREA_REQUIRED,
            "text": _r("text", required=True, hint="write what the community wants, in its own words"),
            "theme": _r("themes", required=True, hint="say what it is about, e.g. 'food' or 'green space'"),
            "raised_by": _r(
                "group", required=True, hint="name the group that raised it, e.g. 'Firth Park Residents' Association'"
            ),
            "raised_on": _r("date", required=True),
            "status": _r("choice", choices=ASPIRATION_STATUSES, default="open"),
            "asset_ids": _r("ids", target="assets"),
            "source": _SOURCE,
            "licence": _LICENCE,
        },
    ),
    "success_measures": _Layer(
        fields={
            "id": _r("id"),
            **_AREA,
            "aspiration_id": _r("ref", required=True, target="aspirations"),
            "measure": _r(
                "text", required=True, hint="say what will be counted, e.g. 'households using the fridge each week'"
            ),
            "horizon": _r("choice", required=True, choices=schema.HORIZONS),
            "baseline": _r("number", required=True),
            "target": _r("number", required=True),
            "current": _r("number"),
            "unit": _r("line"),
            "agreed_by": _r(
                "group", required=True, hint="name the partners who agreed it (groups or organisations, not people)"
            ),
            "agreed_on": _r("date", required=True),
            "source": _SOURCE,
            "licence": _LICENCE,
        },
    ),
    "measure_updates": _Layer(
        fields={
            "id": _r("id"),
            "measure_id": _r("ref", required=True, target="success_measures"),
            "value": _r("number", required=True),
            "recorded_on": _r("date", required=True),
            "recorded_by": _r("line"),
            "note": _r("text"),
            "status": _r("choice", choices=schema.MODERATION_STATUSES, default="published"),
            "source": _SOURCE,
            "licence": _LICENCE,
        },
    ),
    "stories": _Layer(
        point="optional",
        fields={
            "id": _r("id"),
            "title": _r("line", required=True, hint="give the story a title"),
            "summary": _r("text", required=True, hint="say in a sentence or two what happened"),
            "body": _r("text", cap=MAX_BODY_LENGTH),
            **_AREA,
            "asset_ids": _r("ids", target="assets"),
            "organisation_ids": _r("ids", target="organisations"),
            "themes": _r("themes"),
            "method": _r("text"),
            "outcome": _r("text"),
            "date": _r("date", required=True),
            "status": _r("choice", choices=schema.MODERATION_STATUSES, default="published"),
            "source": _r("text", required=True, hint="say where the story comes from, e.g. the group that told it"),
            "licence": _LICENCE,
        },
    ),
    "taxonomy": _Layer(
        fields={
            "kind": _r("choice", required=True, choices=TAXONOMY_KINDS),
            "id": _r("slug", required=True),
            "label": _r("line", required=True, hint="give the label people see, e.g. 'Food bank'"),
            "description": _r("text"),
            "category": _r("slug", hint="a type needs the category it belongs to, e.g. physical"),
            "colour": _r("colour", hint="give its map colour as #rrggbb, e.g. #1565c0"),
            "mappable": _r("bool"),
            "traits": _r("slugs"),
            "themes": _r("themes"),
            "icon": _r("icon"),
            "capacity_column": _r("slug"),
        },
    ),
}

#: The layers :func:`validate_record` and :func:`validate_frame` know.
LAYERS = tuple(_LAYERS)
_GEOMETRY_KEYS = ("geometry", "lon", "lat")
_KIND_FROM_SCHEMA = {"str": "text", "float": "number", "int": "number", "bool": "bool"}


def _rules(layer: str) -> _Layer:
    """The rules of a layer, with any schema column that has no rule here checked by its kind."""
    try:
        lay = _LAYERS[layer]
    except (KeyError, TypeError):
        raise SchemaError(
            f"There is no validator for the layer {layer!r}; validate one of: {', '.join(LAYERS)}."
        ) from None
    spec = schema.LAYERS.get(layer)
    if spec is None:
        return lay
    extra = {
        col: _Rule(_KIND_FROM_SCHEMA.get(kind, "text"))
        for col, kind in spec.columns.items()
        if col not in lay.fields and col not in STAMP_COLUMNS
    }
    return _Layer(fields={**lay.fields, **extra}, point=lay.point) if extra else lay


def required_columns(layer: str) -> tuple[str, ...]:
    """The columns a new record of ``layer`` must have (``geometry`` stands for a point).

    Parameters
    ----------
    layer
        One of :data:`LAYERS`.

    Returns
    -------
    tuple of str
        In the layer's column order; columns with a default (such as ``status``) are not listed.
    """
    lay = _rules(layer)
    cols = tuple(c for c, r in lay.fields.items() if r.required)
    return cols + (("geometry",) if lay.point == "required" else ())


# --------------------------------------------------------------------------------------------
# Single values
# --------------------------------------------------------------------------------------------

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAK = re.compile("[\r\n\u2028\u2029]")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_URL = re.compile(r"https?://[^\s<>\"'`\\]+", re.IGNORECASE)
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_HIDDEN = re.compile("[<>\"'`\\\\\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_SLUG = re.compile(r"[a-z0-9_]+")
_ICON = re.compile(r"[a-z0-9-]+")
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_THEME_SPLIT = re.compile(r"[,;]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?\(?\d[\d\s\-().]{6,}\d")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


def _blank(value: Any) -> bool:
    """``None``, NaN, NA, NaT, empty or whitespace-only text, an empty geometry or an empty list."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float | np.floating):
        return bool(np.isnan(value))
    if isinstance(value, np.datetime64 | np.timedelta64):
        return bool(np.isnat(value))
    if isinstance(value, BaseGeometry):
        return value.is_empty
    if isinstance(value, list | tuple | set | frozenset):
        return all(_blank(v) for v in value)
    return False


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)


def _show(value: Any) -> str:
    """A value quoted for a message, cut to 60 characters."""
    text = _as_text(value).strip()
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _fail(cls: type[ValidationError], column: str, text: str, value: Any = None) -> ValidationError:
    return cls(text + ".", field=column, value=value)


def private_details_in(text: object) -> str | None:
    """``"an email address"`` or ``"a phone number"`` if the text looks like it holds one, else ``None``.

    Parameters
    ----------
    text
        Any value; ``None`` and empty text hold nothing.

    Examples
    --------
    >>> private_details_in("Jo, 0114 496 0123")
    'a phone number'
    >>> private_details_in("Firth Park Residents' Forum") is None
    True
    """
    if _blank(text):
        return None
    s = _as_text(text)
    if _EMAIL.search(s):
        return "an email address"
    for match in _PHONE.finditer(s):
        if sum(ch.isdigit() for ch in match.group()) >= 9:
            return "a phone number"
    return None


def require_actor(actor: object) -> str:
    """The one check of who makes a change: a name or email, returned stripped.

    Parameters
    ----------
    actor
        Who is making the change (recorded as ``created_by``/``updated_by`` and in the audit log).

    Returns
    -------
    str
        The actor, stripped.

    Raises
    ------
    MissingValueError
        The actor is not text, or is empty.
    InvalidValueError
        The actor is longer than :data:`MAX_NAME_LENGTH`, or holds a line break or control characters.
    """
    if not isinstance(actor, str) or not actor.strip():
        raise _fail(
            MissingValueError,
            "actor",
            "actor is empty; every change needs to say who made it, so give your name or email as the actor",
            actor,
        )
    return _text(actor, "actor", cap=MAX_NAME_LENGTH, one_line=True)


def _text(value: Any, column: str, *, cap: int, one_line: bool = False, no_comma: bool = False) -> str | None:
    s = _as_text(value).strip()
    if not s:
        return None
    if _CONTROL.search(s):
        raise _fail(
            InvalidValueError,
            column,
            f"{column} holds invisible control characters; remove them (retype the text if it was pasted)",
            value,
        )
    if one_line and _LINE_BREAK.search(s):
        raise _fail(InvalidValueError, column, f"{column} holds a line break; write it on one line", value)
    if no_comma and "," in s:
        raise _fail(
            InvalidValueError,
            column,
            f"{column} {_show(s)} holds a comma; ids cannot contain commas, because lists of ids are comma-separated",
            value,
        )
    if len(s) > cap:
        raise _fail(
            InvalidValueError,
            column,
            f"{column} is {len(s):,} characters long; shorten it to {cap:,} characters or fewer",
            value,
        )
    return s


def _choice(value: Any, column: str, choices: tuple[str, ...], cls: type[ValidationError] = InvalidValueError) -> str:
    key = " ".join(_as_text(value).replace("\u2019", "'").split()).casefold()
    for c in choices:
        if c.casefold() == key:
            return c
    raise _fail(cls, column, f"{column} {_show(value)} is not allowed; choose one of: {', '.join(choices)}", value)


def _date(value: Any, column: str, today: dt.date) -> str:
    if isinstance(value, dt.datetime):
        d = value.date()
    elif isinstance(value, dt.date):
        d = value
    else:
        m = _DATE.fullmatch(_as_text(value).strip())
        if not m:
            raise _fail(
                InvalidValueError,
                column,
                f"{column} {_show(value)} is not a date; write it as YYYY-MM-DD, e.g. 2025-03-14",
                value,
            )
        try:
            d = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            raise _fail(
                InvalidValueError,
                column,
                f"{column} {_show(value)} is not a day of the calendar; check the month and the day (YYYY-MM-DD)",
                value,
            ) from None
    if d > today:
        raise _fail(
            InvalidValueError,
            column,
            f"{column} {d.isoformat()} is in the future; give the date it happened ({today.isoformat()} or earlier)",
            value,
        )
    return d.isoformat()


def _number(
    value: Any, column: str, cls: type[ValidationError] = InvalidValueError, example: str = "12 or 3.5"
) -> float:
    if isinstance(value, bool | np.bool_):
        raise _fail(cls, column, f"{column} {value!r} is not a number; give a number such as {example}", value)
    if isinstance(value, int | float | np.integer | np.floating):
        x = float(value)
    else:
        s = _as_text(value).strip()
        if "," in s:
            raise _fail(
                cls,
                column,
                f"{column} {_show(value)} holds a comma; write the number with a decimal point and no thousands "
                f"separator, e.g. {example}",
                value,
            )
        if not _NUMBER.fullmatch(s):
            raise _fail(cls, column, f"{column} {_show(value)} is not a number; give a number such as {example}", value)
        x = float(s)
    if not math.isfinite(x):
        raise _fail(
            cls, column, f"{column} must be a finite number, not {_show(value)}; give a number such as {example}"
        )
    return x


def _url(value: Any, column: str) -> str | None:
    s = _text(value, column, cap=MAX_TEXT_LENGTH, one_line=True)
    if s is None:
        return None
    how = "give a web address that starts with https:// (or http://), without spaces, quotes or angle brackets"
    if not _URL.fullmatch(s):
        raise _fail(InvalidValueError, column, f"{column} {_show(s)} is not a safe web address; {how}", value)
    try:
        parts = urlsplit(s)
        _ = parts.port
    except ValueError:
        raise _fail(InvalidValueError, column, f"{column} {_show(s)} is not a safe web address; {how}", value) from None
    if "@" in parts.netloc:
        raise _fail(
            InvalidValueError,
            column,
            f"{column} {_show(s)} puts a user name or password before the host; give the plain address, "
            "e.g. https://example.org/page",
            value,
        )
    if not parts.hostname:
        raise _fail(InvalidValueError, column, f"{column} {_show(s)} has no host name; {how}", value)
    if "%" in s:
        if _STRAY_PERCENT.search(s):
            raise _fail(
                InvalidValueError,
                column,
                f"{column} {_show(s)} has a % that is not followed by two hex digits; write %25 for a percent sign",
                value,
            )
        current = s
        for _ in range(5):  # %253C decodes to %3C, then to <
            decoded = unquote(current)
            if _HIDDEN.search(decoded):
                raise _fail(
                    InvalidValueError,
                    column,
                    f"{column} {_show(s)} hides a quote, angle bracket, backslash or control character behind "
                    "percent-encoding (such as %3C or %22); remove it",
                    value,
                )
            if decoded == current:
                break
            current = decoded
    return s


def _themes(value: Any, column: str) -> str | None:
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        value = ",".join(_as_text(v) for v in items if not _blank(v))
    out: list[str] = []
    for part in _THEME_SPLIT.split(_as_text(value)):
        theme = " ".join(part.split()).casefold()
        if theme and theme not in out:
            out.append(theme)
    return _text(", ".join(out), column, cap=MAX_TEXT_LENGTH, one_line=True) if out else None


def _id_list(value: Any, column: str, *, slug: bool = False) -> str | None:
    if isinstance(value, list | tuple | set | frozenset):
        parts = sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
    else:
        parts = _as_text(value).split(",")
    out: list[str] = []
    for part in parts:
        if _blank(part):
            continue
        one = _slug(part, column) if slug else _text(part, column, cap=MAX_NAME_LENGTH, one_line=True, no_comma=True)
        if one and one not in out:
            out.append(one)
    return ", ".join(out) or None


def _split_ids(text: Any) -> list[str]:
    return [] if _blank(text) else [p.strip() for p in str(text).split(",") if p.strip()]


def _slug(value: Any, column: str) -> str | None:
    s = _text(value, column, cap=MAX_NAME_LENGTH, one_line=True)
    if s is not None and not _SLUG.fullmatch(s):
        raise _fail(
            InvalidValueError,
            column,
            f"{column} {_show(s)} is not a valid id; use lower-case letters, digits and underscores only, e.g. food_bank",
            value,
        )
    return s


def _asset_type(value: Any, column: str, taxonomy: schema.Taxonomy) -> str:
    s = _text(value, column, cap=MAX_NAME_LENGTH, one_line=True) or ""
    types = taxonomy.types
    key = re.sub(r"[\s-]+", "_", s.lower())
    found = s if s in types else key if key in types else None
    if found is None:
        found = next((t.id for t in types.values() if t.label.casefold() == s.casefold()), None)
    if found is None:
        raise _fail(
            UnknownTypeError,
            column,
            f"{column} {_show(value)} is not an asset type of the taxonomy; choose one of: "
            f"{', '.join(sorted(types))} (or add the type to the taxonomy first)",
            value,
        )
    category = taxonomy.categories.get(types[found].category)
    if category is not None and not category.mappable:
        raise _fail(
            InvalidValueError,
            column,
            f"{column} {found!r} belongs to {category.label!r}, which is never mapped to a place; choose a type "
            "whose category is mapped",
            value,
        )
    return found


def _scalar(value: Any, column: str, rule: _Rule, ctx: Context) -> Any:
    """Check and clean one non-blank value; ``None`` means it is empty after cleaning."""
    kind = rule.kind
    if kind in ("text", "line"):
        return _text(value, column, cap=rule.cap, one_line=kind == "line")
    if kind in ("id", "ref", "area_id"):
        return _text(value, column, cap=rule.cap, one_line=True, no_comma=True)
    if kind == "group":
        s = _text(value, column, cap=rule.cap, one_line=True)
        found = private_details_in(s)
        if found:
            raise _fail(
                PrivateDetailsError,
                column,
                f"{column} looks like it holds {found}; name the group or organisation instead, never a private "
                "person's contact details",
                value,
            )
        return s
    if kind == "choice":
        return _choice(value, column, rule.choices)
    if kind == "boundary_layer":
        key = _as_text(value).strip().casefold()
        for layer in ctx.boundary_layers:
            if layer.casefold() == key:
                return layer
        raise _fail(
            UnknownAreaError,
            column,
            f"{column} {_show(value)} is not one of {', '.join(ctx.boundary_layers)}; choose one of them",
            value,
        )
    if kind == "date":
        return _date(value, column, ctx.today)
    if kind == "number":
        return _number(value, column)
    if kind == "postcode":
        s = _as_text(value).strip()
        if not s:
            return None
        try:
            return normalise_postcode(s)
        except MalformedPostcodeError:
            raise _fail(
                InvalidPostcodeError,
                column,
                f"{column} {_show(s)} is not a UK postcode; type it like 'S5 8NJ' (letters and digits, a space, "
                "then a digit and two letters)",
                value,
            ) from None
    if kind == "url":
        return _url(value, column)
    if kind == "themes":
        return _themes(value, column)
    if kind == "ids":
        return _id_list(value, column)
    if kind == "type":
        return _asset_type(value, column, ctx.taxonomy)
    if kind == "slug":
        return _slug(value, column)
    if kind == "slugs":
        return _id_list(value, column, slug=True)
    if kind == "colour":
        s = _as_text(value).strip()
        if not _COLOUR.fullmatch(s):
            raise _fail(
                InvalidValueError,
                column,
                f"{column} {_show(value)} is not a hex colour; write it as #rrggbb, e.g. #1565c0",
                value,
            )
        return s.lower()
    if kind == "icon":
        s = _text(value, column, cap=rule.cap, one_line=True)
        if s is not None and not _ICON.fullmatch(s):
            raise _fail(
                InvalidValueError,
                column,
                f"{column} {_show(s)} is not an icon name; use a Font Awesome name such as 'book' or 'house-chimney'",
                value,
            )
        return s
    if kind == "bool":
        if isinstance(value, bool | np.bool_):
            return bool(value)
        key = _as_text(value).strip().casefold()
        if key in _TRUE or key in _FALSE:
            return key in _TRUE
        raise _fail(InvalidValueError, column, f"{column} {_show(value)} is not yes or no; write true or false", value)
    raise AssertionError(f"unknown rule kind {kind!r}")  # pragma: no cover


def _missing_hint(column: str, rule: _Rule, ctx: Context, layer: str) -> str:
    if rule.hint:
        return rule.hint
    kind = rule.kind
    if kind == "choice":
        return f"choose one of: {', '.join(rule.choices)}"
    if kind == "date":
        return "give the date as YYYY-MM-DD, e.g. 2025-03-14"
    if kind == "number":
        return "give a number, e.g. 12 or 3.5"
    if kind == "type":
        return "choose a type of the taxonomy, e.g. library or community_centre"
    if kind == "boundary_layer":
        return f"choose one of: {', '.join(ctx.boundary_layers)}"
    if kind == "area_id":
        return "give the id of an area of the boundary layer (e.g. a ward's E05 code)"
    if kind == "ref":
        return f"give the id of one of the store's {rule.target}"
    if kind == "slug":
        return f"give the {layer} row an id of lower-case letters, digits and underscores"
    return "fill it in"


# --------------------------------------------------------------------------------------------
# Columns
# --------------------------------------------------------------------------------------------

#: Below this many rows, columns are checked value by value (vectorising costs more than it saves).
_VECTOR_MIN_ROWS = 64
_TEXT_FAST = {"text", "line", "id", "ref", "area_id"}
_FAST_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,4})?(?:[/?#][^\s<>\"'`\\%\x00-\x1f\x7f]*)?", re.IGNORECASE)
_URL_STARTS = re.compile(r"^https?://[A-Za-z0-9.-]+(?::[0-9]{1,4})?(?:[/?#]|$)", re.IGNORECASE | re.MULTILINE)
_URL_FORBIDDEN = re.compile("[ \t\r\f\v<>\"'`\\\\%\x00-\x09\x0b-\x1f\x7f]")
_FAST_POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_SPACES = re.compile(r"\s+")
_BLANK = object()


@dataclass
class _Column:
    values: np.ndarray  # cleaned values (object); unchecked where blank or bad
    blank: np.ndarray  # bool: empty after cleaning
    errors: dict[int, ValidationError]


def _clean_column(raw: np.ndarray, column: str, rule: _Rule, ctx: Context) -> _Column:
    n = len(raw)
    col = _Column(np.empty(n, dtype=object), np.zeros(n, dtype=bool), {})
    items = raw.tolist()
    todo: Any = range(n)
    if n >= _VECTOR_MIN_ROWS and rule.kind in (*_TEXT_FAST, "postcode", "url"):
        todo = _fast_strings(items, rule, col)
    elif n >= _VECTOR_MIN_ROWS and _only_text(items):
        return _by_distinct_value(items, column, rule, ctx, col)
    cache: dict[tuple[type, Any], Any] = {}
    for i in todo:
        v = items[i]
        try:
            key = (type(v), v)
            result = cache[key]
        except KeyError:
            result = cache[key] = _BLANK if _blank(v) else _attempt(v, column, rule, ctx)
        except TypeError:  # unhashable (a list of ids)
            result = _BLANK if _blank(v) else _attempt(v, column, rule, ctx)
        if result is _BLANK or result is None:
            col.blank[i] = True
        elif isinstance(result, ValidationError):
            col.errors[i] = result
        else:
            col.values[i] = result
    return col


def _only_text(items: list[Any]) -> bool:
    """Whether every value is text or missing (then equal values are equal text, never 1 == 1.0 == True)."""
    kinds = set(map(type, items))
    if not kinds <= {str, float, type(None)}:
        return False
    return float not in kinds or all(v != v for v in items if type(v) is float)


def _by_distinct_value(items: list[Any], column: str, rule: _Rule, ctx: Context, col: _Column) -> _Column:
    """Check each distinct value of a text column once and spread the results over the rows."""
    codes, uniques = pd.factorize(np.asarray(items, dtype=object), use_na_sentinel=True)
    results = [_BLANK if _blank(u) else _attempt(u, column, rule, ctx) for u in uniques]
    cleaned = np.empty(len(results) + 1, dtype=object)  # the last one stands for missing (code -1)
    blank = np.ones(len(results) + 1, dtype=bool)
    for k, r in enumerate(results):
        if isinstance(r, ValidationError):
            blank[k] = False
        elif r is not _BLANK and r is not None:
            cleaned[k], blank[k] = r, False
    col.values[:] = cleaned[codes]
    col.blank[:] = blank[codes]
    failed = [k for k, r in enumerate(results) if isinstance(r, ValidationError)]
    if failed:
        for i in np.flatnonzero(np.isin(codes, failed)):
            col.errors[int(i)] = results[codes[i]]
    return col


def _attempt(v: Any, column: str, rule: _Rule, ctx: Context) -> Any:
    try:
        return _scalar(v, column, rule, ctx)
    except ValidationError as exc:
        return exc


def _fast_strings(items: list[Any], rule: _Rule, col: _Column) -> list[int]:
    """Accept the plain, valid strings of a text, id, postcode or web address column quickly.

    Only values :func:`_scalar` would accept, cleaned exactly as it would clean them, are accepted
    here; the positions of every other value (not text, or failing a check) are returned for
    :func:`_scalar`, which then gives the same result or the message. The tests compare both paths.
    """
    values, blank = col.values, col.blank
    if rule.kind == "postcode":
        seen: dict[str, str | None] = {}
        todo = []
        for i, v in enumerate(items):
            if type(v) is not str:
                todo.append(i)
                continue
            if v not in seen:
                m = _FAST_POSTCODE.match(_SPACES.sub("", v).upper())
                seen[v] = f"{m.group(1)} {m.group(2)}" if m else None
            pc = seen[v]
            if pc is not None:
                values[i] = pc
            elif v.strip():
                todo.append(i)
            else:
                blank[i] = True
        return todo
    bad = _CONTROL.pattern[:-1]
    if rule.kind != "text":
        bad += "\r\n\u2028\u2029"
    if rule.kind in ("id", "ref", "area_id"):
        bad += ","
    search = re.compile(bad + "]").search
    cap = MAX_TEXT_LENGTH if rule.kind == "url" else rule.cap
    if set(map(type, items)) == {str}:
        stripped: list[str | None] = list(map(str.strip, items))
        present: list[str] = stripped  # type: ignore[assignment]
        todo = []
    else:
        stripped = [v.strip() if type(v) is str else "" if v is None else None for v in items]
        present = [s for s in stripped if s is not None]
        todo = [i for i, s in enumerate(stripped) if s is None]
    # One scan of all the text for characters that are never allowed; the rare column that has
    # some, or overlong values, is checked value by value.
    if present and (max(map(len, present)) > cap or search("\t".join(present)) is not None):
        todo += [i for i, s in enumerate(stripped) if s and (len(s) > cap or search(s) is not None)]
    if rule.kind == "url":
        # All the addresses at once: one line each, each line a plain http(s) address.
        urls = [s for s in present if s]
        text = "\n".join(urls)
        if not (text.isascii() and _URL_FORBIDDEN.search(text) is None and len(_URL_STARTS.findall(text)) == len(urls)):
            url = _FAST_URL.fullmatch
            todo += [i for i, s in enumerate(stripped) if s and not (s.isascii() and url(s) is not None)]
    values[:] = stripped
    if "" in present:
        blank[[i for i, s in enumerate(stripped) if s == ""]] = True
    return sorted(set(todo))


# --------------------------------------------------------------------------------------------
# The core: one record or a frame of them
# --------------------------------------------------------------------------------------------


class _Problems:
    """The problems found: (row, or -1 for the whole frame; the column's order; the error)."""

    def __init__(self, order: dict[str, int]):
        self.order = order
        self.items: list[tuple[int, int, ValidationError]] = []

    def add(self, row: Any, exc: ValidationError) -> None:
        self.items.append((int(row), self.order.get(exc.field, len(self.order)), exc))

    def fail(self, row: Any, cls: type[ValidationError], column: str, text: str, value: Any = None) -> None:
        self.add(row, _fail(cls, column, text, value))


@dataclass
class _Result:
    columns: dict[str, np.ndarray]  # cleaned values of the rule columns present, and added ones
    numeric: set[str]
    geometry: np.ndarray | None  # shapely Points / None, for point layers when given
    problems: list[tuple[int, int, ValidationError]]  # (row or -1 for the whole frame, column order, error)
    dropped: list[str]  # input columns not passed through (stamps, lon/lat)


def _core(
    layer: str,
    data: dict[str, np.ndarray],
    n: int,
    *,
    ctx: Context,
    partial: bool,
    frame_mode: bool,
    geoms: np.ndarray | None,
) -> _Result:
    lay = _rules(layer)
    problems = _Problems({c: i for i, c in enumerate(lay.fields)})
    dropped: list[str] = []
    ids_cache: dict[str, set[str]] = {}

    def known(target: str) -> set[str] | None:
        if ctx.known_ids is None:
            return None
        if target not in ids_cache:
            ids_cache[target] = {str(i) for i in ctx.known_ids(target)}
        return ids_cache[target]

    for stamp in STAMP_COLUMNS:
        if stamp in data:
            dropped.append(stamp)
            if not frame_mode:
                for i in range(n):
                    if not _blank(data[stamp][i]):
                        problems.fail(
                            i,
                            InvalidValueError,
                            stamp,
                            f"{stamp} is set by the store on every write, not by the caller; leave it out "
                            "(say who acts as the actor)",
                            data[stamp][i],
                        )

    cols: dict[str, _Column] = {}
    for column, rule in lay.fields.items():
        if column in data and rule.kind != "derived":
            cols[column] = _clean_column(data[column], column, rule, ctx)
            for i, exc in cols[column].errors.items():
                problems.add(i, exc)

    def ok(column: str) -> np.ndarray:
        """Rows whose cleaned value in ``column`` is present and valid."""
        c = cols.get(column)
        if c is None:
            return np.zeros(n, dtype=bool)
        mask = ~c.blank
        if c.errors:
            mask[list(c.errors)] = False
        return mask

    # Required columns and defaults.
    for column, rule in lay.fields.items():
        if rule.kind == "derived" or not (rule.required or rule.default is not None):
            continue
        hint = _missing_hint(column, rule, ctx, layer)
        if column not in cols:
            if partial or n == 0:
                continue
            if rule.default is not None:
                cols[column] = _Column(np.full(n, rule.default, dtype=object), np.zeros(n, dtype=bool), {})
            elif frame_mode:
                problems.fail(
                    -1,
                    MissingValueError,
                    column,
                    f"every row needs {column}, and there is no {column} column; add one ({hint})",
                )
            else:
                problems.fail(0, MissingValueError, column, f"{column} is empty; {hint}")
            continue
        empty = np.flatnonzero(cols[column].blank)
        if not len(empty):
            continue
        if rule.default is not None and not partial:
            cols[column].values[empty] = rule.default
            cols[column].blank[empty] = False
        else:
            exc = _fail(MissingValueError, column, f"{column} is empty; {hint}")
            for i in empty:
                problems.add(i, exc)

    # An asset's category follows from its type.
    if layer == "assets":
        if "category" in data and "type" not in data:
            has = [i for i in range(n) if not _blank(data["category"][i])]
            for i in has:
                problems.fail(
                    i,
                    InvalidValueError,
                    "category",
                    "category follows from the type; set type instead",
                    data["category"][i],
                )
        if "type" in cols:
            good = ok("type")
            cat = np.empty(n, dtype=object)
            cat[good] = [ctx.taxonomy.types[t].category for t in cols["type"].values[good]]
            cols["category"] = _Column(cat, ~good, {})
        elif "category" in data:
            dropped.append("category")

    # An area is a boundary layer and an area id, given together.
    if "boundary_layer" in lay.fields and ("boundary_layer" in data or "area_id" in data):
        bl_ok, aid_ok = ok("boundary_layer"), ok("area_id")
        for have, lacking in (("area_id", "boundary_layer"), ("boundary_layer", "area_id")):
            c = cols.get(lacking)
            missing_rows = ok(have) & (np.ones(n, dtype=bool) if c is None else c.blank)
            if lay.fields[lacking].required and not partial:
                continue  # already reported as required
            for i in np.flatnonzero(missing_rows):
                problems.fail(
                    i,
                    MissingValueError,
                    lacking,
                    f"{lacking} is empty; give boundary_layer and area_id together, so the area can be found",
                )
        both = bl_ok & aid_ok
        if both.any() and ctx.known_ids is not None:
            bls, aids = cols["boundary_layer"].values, cols["area_id"].values
            for i in np.flatnonzero(both):
                areas = known(bls[i])
                if areas is not None and aids[i] not in areas:
                    problems.fail(
                        i,
                        UnknownAreaError,
                        "area_id",
                        f"area_id {_show(aids[i])} is not an area of {bls[i]}; use the "
                        "id of one of its areas (e.g. a ward's E05 code)",
                        aids[i],
                    )

    # Links to other layers.
    for column, rule in lay.fields.items():
        if rule.kind not in ("ref", "ids") or column not in cols or ctx.known_ids is None:
            continue
        rows = np.flatnonzero(ok(column))
        if not len(rows):
            continue
        targets = known(rule.target or "")
        assert targets is not None
        values = cols[column].values
        if rule.kind == "ref":
            hit = np.fromiter((v in targets for v in values[rows]), dtype=bool, count=len(rows))
            bad_rows = [(int(i), values[i]) for i in rows[~hit]]
        else:
            bad_rows = []
            for i in rows:
                unknown = [x for x in _split_ids(values[i]) if x not in targets]
                if unknown:
                    bad_rows.append((int(i), unknown[0]))
        for i, value in bad_rows:
            problems.fail(
                i,
                UnknownReferenceError,
                column,
                f"{column} names an unknown {rule.target} id {_show(value)}; use the "
                f"id of one of the store's {rule.target} (add or import it first if it is new)",
                value,
            )

    # A measure's current value starts at its baseline.
    if layer == "success_measures" and not partial and "baseline" in cols:
        cur = cols.get("current")
        if cur is None:
            cur = cols["current"] = _Column(np.empty(n, dtype=object), np.ones(n, dtype=bool), {})
        fill = cur.blank & ok("baseline")
        cur.values[fill] = cols["baseline"].values[fill]
        cur.blank[fill] = False

    if layer == "taxonomy":
        _check_taxonomy_rows(cols, ok, problems, ctx, n, partial=partial)

    # Ids are unique within a frame.
    if frame_mode and n > 1:
        keys = {"taxonomy": ("kind", "id"), "organisation_areas": ("organisation_id", "boundary_layer", "area_id")}
        key_cols = keys.get(layer, ("id",))
        if all(c in cols for c in key_cols):
            good = np.flatnonzero(np.logical_and.reduce([ok(c) for c in key_cols]))
            table = pd.DataFrame({c: pd.Series(cols[c].values[good], dtype=object) for c in key_cols})
            repeated = table.duplicated(keep=False).to_numpy()
            first: dict[tuple, int] = {}
            for i in good[repeated]:
                key = tuple(cols[c].values[i] for c in key_cols)
                if key not in first:
                    first[key] = int(i)
                    continue
                what = " and ".join(f"{c} {_show(v)}" for c, v in zip(key_cols, key, strict=True))
                what += " already appears" if len(key_cols) == 1 else " already appear"
                problems.fail(
                    i,
                    InvalidValueError,
                    key_cols[-1],
                    f"{what} on row {first[key] + 1}; give every row its own, or merge the two rows",
                )

    geometry = None
    if lay.point is not None:
        geometry = _check_points(
            layer, lay, data, geoms, n, ctx=ctx, partial=partial, frame_mode=frame_mode, problems=problems
        )
        dropped += [c for c in ("lon", "lat") if c in data]

    # Keep what was given where it could not be cleaned, so the caller sees it.
    for column, c in cols.items():
        c.values[c.blank] = None
        if column in data and c.errors:
            rows = list(c.errors)
            c.values[rows] = data[column][rows]
    numeric = {c for c, r in lay.fields.items() if r.kind == "number" and c in cols and not cols[c].errors}
    problems.items.sort(key=lambda p: (p[0], p[1]))
    return _Result({c: v.values for c, v in cols.items()}, numeric, geometry, problems.items, dropped)


def _check_taxonomy_rows(
    cols: dict[str, _Column],
    ok: Callable[[str], np.ndarray],
    problems: _Problems,
    ctx: Context,
    n: int,
    *,
    partial: bool,
) -> None:
    kind = cols["kind"].values if "kind" in cols else np.full(n, None, dtype=object)
    kind_ok = ok("kind")
    ids = cols["id"].values if "id" in cols else np.full(n, None, dtype=object)
    id_ok, category_ok, traits_ok = ok("id"), ok("category"), ok("traits")
    categories = set(ctx.taxonomy.categories)
    traits = set(ctx.taxonomy.traits)
    for i in range(n):
        is_type = kind_ok[i] and kind[i] == "type"
        if kind_ok[i] and id_ok[i] and kind[i] == "category":
            categories.add(ids[i])
        if kind_ok[i] and id_ok[i] and kind[i] == "trait":
            traits.add(ids[i])
        if category_ok[i]:
            cat = cols["category"].values[i]
            if cat not in categories:
                problems.fail(
                    i,
                    UnknownReferenceError,
                    "category",
                    f"category {cat!r} is not a category of the taxonomy; choose "
                    f"one of: {', '.join(sorted(categories))} (or add the category first)",
                    cat,
                )
        elif is_type and not partial and ("category" not in cols or cols["category"].blank[i]):
            problems.fail(
                i,
                MissingValueError,
                "category",
                "category is empty; a type needs the category it belongs to, e.g. physical",
            )
        if traits_ok[i]:
            unknown = [t for t in _split_ids(cols["traits"].values[i]) if t not in traits]
            if unknown:
                problems.fail(
                    i,
                    UnknownReferenceError,
                    "traits",
                    f"traits names {unknown[0]!r}, which is not a trait of the "
                    f"taxonomy; use: {', '.join(sorted(traits))}",
                    unknown[0],
                )
        needs_colour = kind_ok[i] and kind[i] in ("category", "type") and not partial
        if needs_colour and ("colour" not in cols or cols["colour"].blank[i]):
            problems.fail(
                i, MissingValueError, "colour", "colour is empty; give its map colour as #rrggbb, e.g. #1565c0"
            )
        if is_type and not partial:
            icon = cols.get("icon")
            if icon is None:
                icon = cols["icon"] = _Column(np.full(n, None, dtype=object), np.ones(n, dtype=bool), {})
            if icon.blank[i]:
                icon.values[i], icon.blank[i] = "circle", False


def _check_points(
    layer: str,
    lay: _Layer,
    data: dict[str, np.ndarray],
    geoms: np.ndarray | None,
    n: int,
    *,
    ctx: Context,
    partial: bool,
    frame_mode: bool,
    problems: _Problems,
) -> np.ndarray | None:
    lon, lat = data.get("lon"), data.get("lat")
    given_any = geoms is not None or lon is not None or lat is not None
    if not given_any:
        if lay.point == "required" and not partial and n:
            if frame_mode:
                problems.fail(
                    -1,
                    MissingValueError,
                    "geometry",
                    "every row needs a point, and there is no geometry (nor lon and "
                    "lat columns); give each row's position as lon and lat (longitude first)",
                )
            else:
                problems.fail(
                    0,
                    MissingValueError,
                    "geometry",
                    "geometry is empty; give the position as lon and lat (longitude first)",
                )
        return None if partial else np.full(n, None, dtype=object)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    has = np.zeros(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    if geoms is not None:
        arr = np.empty(n, dtype=object)
        for i, g in enumerate(geoms):
            if isinstance(g, BaseGeometry):
                arr[i] = g
            elif not _blank(g):
                bad[i] = True
                problems.fail(
                    i,
                    InvalidValueError,
                    "geometry",
                    f"geometry {_show(g)} is not a shapely geometry; give lon and lat instead, or a shapely Point",
                    g,
                )
        tid = shapely.get_type_id(arr)
        present = (tid >= 0) & ~shapely.is_empty(arr)
        multi1 = present & (tid == 4)
        if multi1.any():
            multi1 &= shapely.get_num_geometries(arr) == 1
            arr[multi1] = shapely.get_geometry(arr[multi1], 0)
            tid[multi1] = 0
        wrong = present & (tid != 0)
        for i in np.flatnonzero(wrong):
            problems.fail(
                i,
                InvalidValueError,
                "geometry",
                f"geometry is a {arr[i].geom_type}, but {layer} are points; give a point (its longitude and latitude)",
            )
        pts = present & (tid == 0)
        x[pts] = shapely.get_x(arr[pts])
        y[pts] = shapely.get_y(arr[pts])
        has |= pts
        bad |= wrong
    if lon is not None or lat is not None:
        _lonlat(lon, lat, n, x, y, has, bad, problems)
    fin = np.isfinite(x) & np.isfinite(y)
    for i in np.flatnonzero(has & ~fin):
        problems.fail(
            i,
            CoordinatesError,
            "geometry",
            "geometry has a longitude or latitude that is not a finite number; give the point's position in degrees",
        )
    check = has & fin
    if ctx.area_bounds is not None:
        minx, miny, maxx, maxy = ctx.area_bounds
        m = AREA_MARGIN_DEG
        minx, miny, maxx, maxy = minx - m, miny - m, maxx + m, maxy + m
    else:
        minx, miny, maxx, maxy = -180.0, -90.0, 180.0, 90.0
    with np.errstate(invalid="ignore"):
        inside = (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)
        swapped = (y >= minx) & (y <= maxx) & (x >= miny) & (x <= maxy)
    where = f"lon {minx:.2f} to {maxx:.2f}, lat {miny:.2f} to {maxy:.2f}"
    for i in np.flatnonzero(check & ~inside):
        xi, yi = float(x[i]), float(y[i])
        if swapped[i] and ctx.area_bounds is not None:
            text = (
                f"geometry (lon {xi:g}, lat {yi:g}) looks swapped: this store's area is {where}; give the longitude "
                f"first (lon {yi:g}, lat {xi:g})"
            )
        elif ctx.area_bounds is None:
            text = (
                f"geometry (lon {xi:g}, lat {yi:g}) is not a longitude/latitude in degrees; give the longitude first "
                "(-180 to 180), then the latitude (-90 to 90)"
            )
        else:
            text = (
                f"geometry (lon {xi:g}, lat {yi:g}) is outside this store's area ({where}); check the "
                "coordinates (longitude first) or the postcode"
            )
        problems.fail(i, CoordinatesError, "geometry", text, (xi, yi))
    good = check & inside
    if lay.point == "required" and not partial:
        for i in np.flatnonzero(~has & ~bad):
            problems.fail(
                i,
                MissingValueError,
                "geometry",
                "geometry is empty; give the position as lon and lat (longitude first)",
            )
    out = np.full(n, None, dtype=object)
    if good.any():
        out[good] = shapely.points(x[good], y[good])
    return out


def _lonlat(
    lon: np.ndarray | None,
    lat: np.ndarray | None,
    n: int,
    x: np.ndarray,
    y: np.ndarray,
    has: np.ndarray,
    bad: np.ndarray,
    problems: _Problems,
) -> None:
    parsed: dict[str, np.ndarray] = {}
    for name, raw, example in (("lon", lon, "-1.47"), ("lat", lat, "53.38")):
        vals = np.full(n, np.nan)
        if raw is not None:
            try:  # the common case: a numeric column
                if any(isinstance(v, bool | np.bool_ | str) for v in raw):
                    raise TypeError
                vals = np.asarray(raw, dtype=float)
            except (TypeError, ValueError):
                for i, v in enumerate(raw):
                    if _blank(v):
                        continue
                    try:
                        vals[i] = _number(v, name, CoordinatesError, example)
                    except ValidationError as exc:
                        problems.add(i, exc)
                        bad[i] = True
                        vals[i] = np.inf  # not blank: no "give both" message
        parsed[name] = vals
    x_new, y_new = parsed["lon"], parsed["lat"]
    gx, gy = ~np.isnan(x_new), ~np.isnan(y_new)
    for i in np.flatnonzero(gx ^ gy):
        missing = "lat" if gx[i] else "lon"
        if not bad[i]:
            problems.fail(
                i,
                MissingValueError,
                missing,
                f"{missing} is empty; give both lon and lat (longitude first), or neither",
            )
        bad[i] = True
    both = gx & gy & ~bad
    for i in np.flatnonzero(both & has):
        problems.fail(
            i, InvalidValueError, "geometry", "geometry and lon/lat are both given; give the point one way only"
        )
    both &= ~has
    x[both], y[both] = x_new[both], y_new[both]
    has |= both


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------


def validate_record(
    layer: str,
    record: Mapping[str, Any],
    *,
    context: Context,
    partial: bool = False,
) -> dict[str, Any]:
    """Check one record of ``layer`` and return a cleaned copy; raise on the first problem.

    Parameters
    ----------
    layer
        One of :data:`LAYERS`.
    record
        Column -> value. Point layers take ``lon`` and ``lat`` (EPSG:4326 degrees, longitude first)
        or ``geometry`` (a shapely Point in EPSG:4326). Columns that are not in the layer's schema
        pass through unchanged.
    context
        The taxonomy, the data's extent, the ids of other layers and today's date.
    partial
        ``True`` for an update: only the columns present are checked (an area and a point must
        still be given whole: ``boundary_layer`` with ``area_id``, ``lon`` with ``lat``), required
        columns may be absent but not emptied, and no defaults are filled.

    Returns
    -------
    dict
        The record with every schema column cleaned (see the module notes): text stripped, empty
        values ``None``, dates ``YYYY-MM-DD``, choices canonical, numbers ``float``. For assets
        ``category`` follows ``type``; point layers hold ``geometry`` (a Point or ``None``) instead
        of ``lon``/``lat``; empty stamp columns are dropped.

    Raises
    ------
    ValidationError
        The first problem, in column order; a subclass says which kind (:class:`MissingValueError`,
        :class:`InvalidValueError`, :class:`PrivateDetailsError`, :class:`UnknownTypeError`,
        :class:`InvalidPostcodeError`, :class:`CoordinatesError`, :class:`UnknownReferenceError`,
        :class:`UnknownAreaError`), and ``.field`` names the column.
    SchemaError
        ``layer`` has no validator.

    Examples
    --------
    >>> ctx = Context(taxonomy=schema.load_taxonomy(), today=dt.date(2026, 1, 1))
    >>> validate_record("assets", {"status": " Closed "}, context=ctx, partial=True)
    {'status': 'closed'}
    """
    if not isinstance(record, Mapping):
        raise TypeError(f"record must be a mapping of column -> value, not {type(record).__name__}")
    lay = _rules(layer)
    data: dict[str, np.ndarray] = {}
    for key, value in record.items():
        cell = np.empty(1, dtype=object)
        cell[0] = value
        data[str(key)] = cell
    geoms = data.pop("geometry", None) if lay.point is not None else None
    result = _core(layer, data, 1, ctx=context, partial=partial, frame_mode=False, geoms=geoms)
    if result.problems:
        raise result.problems[0][2]
    out: dict[str, Any] = {}
    for key, value in record.items():
        key = str(key)
        if key in result.dropped or (lay.point is not None and key in _GEOMETRY_KEYS):
            continue
        out[key] = result.columns[key][0] if key in result.columns else value
    for key, values in result.columns.items():
        if key not in out and key not in result.dropped:
            out[key] = values[0]
    if result.geometry is not None:
        out["geometry"] = result.geometry[0]
    return out


def validate_frame(
    layer: str,
    frame: pd.DataFrame,
    *,
    context: Context,
) -> tuple[pd.DataFrame, list[str]]:
    """Check every row of ``frame`` as :func:`validate_record` would; collect the problems.

    Parameters
    ----------
    layer
        One of :data:`LAYERS`.
    frame
        The rows, e.g. an import mapped onto the layer's columns. For point layers, a
        GeoDataFrame (any CRS; it is reprojected to EPSG:4326) or ``lon``/``lat`` columns in
        EPSG:4326 degrees. Never modified.
    context
        The taxonomy, the data's extent, the ids of other layers and today's date.

    Returns
    -------
    frame : DataFrame or GeoDataFrame
        A cleaned copy on the same index: schema columns cleaned, extra columns unchanged, stamp
        columns dropped, defaults filled (``status``, ``current``, ``icon``), an asset's
        ``category`` derived from its type. Point layers give a GeoDataFrame in EPSG:4326 (the
        ``lon``/``lat`` columns become its geometry). Cells that failed keep the value given.
    errors : list of str
        Empty when every row is valid; else problems about the whole frame (a missing column)
        first, then ``"row N: ..."`` sentences (N counts data rows from 1: line N+1 of a CSV with
        a header), at most :data:`MAX_FRAME_ERRORS` of them plus ``"and K more problems ..."``.

    Raises
    ------
    SchemaError
        ``layer`` has no validator.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, not {type(frame).__name__}")
    lay = _rules(layer)
    n = len(frame)
    head: list[str] = []
    dup = frame.columns[frame.columns.duplicated()]
    if len(dup):
        head.append(f"the column {str(dup[0])!r} appears more than once; keep one of them")
        frame = frame.loc[:, ~frame.columns.duplicated()]
    geom_name = None
    geoms = None
    if lay.point is not None:
        try:
            series = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else None
        except AttributeError:  # a GeoDataFrame without an active geometry column
            series = None
        if series is not None:
            geom_name = series.name
            if series.crs is None and series.notna().any():
                head.append(
                    "geometry has no CRS; say which CRS the coordinates are in (e.g. EPSG:27700 for British "
                    "National Grid) before validating"
                )
                series = gpd.GeoSeries([None] * n, index=frame.index, crs=schema.STORAGE_CRS)
            elif series.crs is not None and series.crs.to_epsg() != 4326:
                series = series.to_crs(schema.STORAGE_CRS)
            geoms = np.asarray(series.array, dtype=object)
        elif "geometry" in frame.columns:
            geom_name = "geometry"
            geoms = frame["geometry"].to_numpy(dtype=object)
    skip = {geom_name} if geom_name else set()
    data = {str(c): frame[c].to_numpy(dtype=object) for c in frame.columns if c not in skip and isinstance(c, str)}
    result = _core(layer, data, n, ctx=context, partial=False, frame_mode=True, geoms=geoms)

    out = pd.DataFrame(frame.drop(columns=[*skip, *[c for c in result.dropped if c in frame.columns]]))
    for column, values in result.columns.items():
        if column in result.numeric:
            out[column] = pd.Series(values, index=frame.index, dtype=object).astype("float64")
        else:
            out[column] = pd.Series(values, index=frame.index, dtype=object)
    if lay.point is not None:
        name = geom_name or "geometry"
        geometry = result.geometry if result.geometry is not None else np.full(n, None, dtype=object)
        out[name] = gpd.GeoSeries(geometry, index=frame.index, crs=schema.STORAGE_CRS)
        out = gpd.GeoDataFrame(out, geometry=name, crs=schema.STORAGE_CRS)

    messages = head + [
        (str(exc)[:-1] if str(exc).endswith(".") else str(exc)) if row < 0 else f"row {row + 1}: {str(exc)[:-1]}"
        for row, _, exc in result.problems
    ]
    if len(messages) > MAX_FRAME_ERRORS:
        more = len(messages) - MAX_FRAME_ERRORS
        messages = messages[:MAX_FRAME_ERRORS] + [
            f"and {more:,} more problem{'s' if more != 1 else ''}; fix these and check the file again to see them"
        ]
    return out, messages


__all__ = [
    "AREA_MARGIN_DEG",
    "ASPIRATION_STATUSES",
    "GROUP_COLUMNS",
    "LAYERS",
    "MAX_BODY_LENGTH",
    "MAX_FRAME_ERRORS",
    "MAX_NAME_LENGTH",
    "MAX_TEXT_LENGTH",
    "STAMP_COLUMNS",
    "TAXONOMY_KINDS",
    "Context",
    "CoordinatesError",
    "InvalidPostcodeError",
    "InvalidValueError",
    "MissingValueError",
    "PrivateDetailsError",
    "UnknownAreaError",
    "UnknownReferenceError",
    "UnknownTypeError",
    "ValidationError",
    "private_details_in",
    "require_actor",
    "required_columns",
    "validate_frame",
    "validate_record",
]
