"""File names that say what a file holds: ``firth-park_ward_assets_2026-11-29.gpkg``.

Pure functions: no store, no clock unless no date is given. A name made here is safe on every
common file system (ASCII letters, digits, ``-`` and ``_`` only, no leading dot, not a reserved
Windows device name, at most :data:`MAX_SLUG` characters per part), whatever the area is called.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

#: The longest slug of one part of a name (an area called something very long is cut at a hyphen).
MAX_SLUG = 48
#: How each boundary layer is named in a file name (one area of it).
LAYER_WORDS = {"wards": "ward", "lsoas": "lsoa", "neighbourhoods": "neighbourhood"}
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}


def slugify(text: object, *, fallback: str = "area", max_length: int = MAX_SLUG) -> str:
    """``text`` as a lower-case ASCII slug of letters, digits and single hyphens.

    Accents are dropped (``Bürngreave`` -> ``burngreave``), ``&`` reads as ``and``, everything else
    that is not a letter or digit becomes one hyphen; a slug longer than ``max_length`` is cut at a
    hyphen where it can be. Text with nothing usable (``"///"``, ``"😀"``, ``None``) gives ``fallback``.

    Examples
    --------
    >>> slugify("Firth Park")
    'firth-park'
    >>> slugify("Beauchief & Greenhill")
    'beauchief-and-greenhill'
    >>> slugify("../../etc/passwd")
    'etc-passwd'
    """
    raw = "" if text is None else str(text)
    ascii_text = unicodedata.normalize("NFKD", raw.replace("&", " and ")).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > max_length:
        cut = slug[:max_length]
        slug = cut.rsplit("-", 1)[0] if "-" in cut[max_length // 2 :] else cut
        slug = slug.strip("-")
    if not slug:
        slug = fallback
    if slug in _WINDOWS_RESERVED:
        slug = f"{slug}-{fallback}"
    return slug


def export_filename(
    area_name: str | None,
    *,
    layer: str | None = None,
    what: str,
    ext: str,
    crs: str | None = None,
    type_id: str | None = None,
    today: dt.date | None = None,
) -> str:
    """A file name after what the file holds: ``<area>_<layer>_<what>[_<type>][_<crs>]_<date><ext>``.

    Parameters
    ----------
    area_name
        The area the file is about (its name), or ``None`` for every area.
    layer
        The boundary layer the area is from (``wards`` -> ``ward``); left out without an area.
    what
        What the file holds: a layer (``assets``), or ``report``.
    ext
        The file's ending, with or without the dot (``.gpkg``, ``zip``).
    crs
        The file's CRS when it is not EPSG:4326 (``EPSG:27700`` -> ``epsg27700``).
    type_id
        The one asset type the file holds, if it was filtered to one.
    today
        The date in the name (default today).

    Examples
    --------
    >>> export_filename("Firth Park", layer="wards", what="assets", ext=".gpkg", today=dt.date(2026, 11, 29))
    'firth-park_ward_assets_2026-11-29.gpkg'
    """
    parts = []
    if area_name is not None and str(area_name).strip():
        parts.append(slugify(area_name))
        if layer:
            parts.append(LAYER_WORDS.get(layer, slugify(layer, fallback="areas")))
    parts.append(slugify(what, fallback="export"))
    if type_id:
        parts.append(slugify(type_id, fallback="type"))
    if crs and str(crs).strip().upper().replace(" ", "") not in ("EPSG:4326", "4326"):
        parts.append(slugify(str(crs).replace(":", ""), fallback="crs"))
    parts.append((today or dt.date.today()).isoformat())
    ending = "." + slugify(str(ext).lstrip("."), fallback="bin")
    return "_".join(parts) + ending
