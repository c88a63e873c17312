"""Every environment variable Common Ground reads, with its default, in one place.

Each is read when asked for (never frozen at import), so a test or a long-running server sees the
value of the moment. Other modules call these functions instead of ``os.environ``.

=============================== ==================================================================
variable                        meaning
=============================== ==================================================================
``COMMON_GROUND_MODE``          ``local`` (default: one person on their own machine, every feature,
                                loopback only) or ``shared`` (a deployment: sign-in and roles)
``COMMON_GROUND_ROLES``         the roles file of a shared deployment (default ``instance/roles.toml``)
``COMMON_GROUND_DATA``          the store: a ``.gpkg`` path or a ``postgresql://`` URL
``COMMON_GROUND_TILES``         the default basemap
``COMMON_GROUND_TAXONOMY``      a taxonomy JSON file instead of ``data/taxonomy.json``
``COMMON_GROUND_ACTOR``         the name the command line records with its changes
``COMMON_GROUND_SQLITE_SYNC``   SQLite's ``synchronous`` setting for GeoPackage stores (``NORMAL``)
``COMMON_GROUND_MAX_IMPORT_MB`` the largest upload an import reads (100)
``COMMON_GROUND_MAX_IMPORT_ROWS`` the most rows one import may hold (200,000; see also the roles'
                                row limits in :mod:`geo.auth`)
``COMMON_GROUND_STUDY_AREA``    the area new points must fall in, ``minx,miny,maxx,maxy`` in degrees
                                (e.g. ``-6.4,49.8,1.8,55.9`` for England); unset: the store's boundary
                                layers' extent, and no area check for a store without boundaries
``COMMON_GROUND_POSTCODES``     where the national postcode table (Code-Point Open) is cached
                                (default ``instance/postcodes_gb.sqlite``)
=============================== ==================================================================
"""

from __future__ import annotations

import os
from pathlib import Path

from geo.errors import SettingsError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

MODE_ENV = "COMMON_GROUND_MODE"
ROLES_ENV = "COMMON_GROUND_ROLES"
DATA_ENV = "COMMON_GROUND_DATA"
TILES_ENV = "COMMON_GROUND_TILES"
TAXONOMY_ENV = "COMMON_GROUND_TAXONOMY"
ACTOR_ENV = "COMMON_GROUND_ACTOR"
SQLITE_SYNC_ENV = "COMMON_GROUND_SQLITE_SYNC"
MAX_IMPORT_MB_ENV = "COMMON_GROUND_MAX_IMPORT_MB"
MAX_IMPORT_ROWS_ENV = "COMMON_GROUND_MAX_IMPORT_ROWS"
STUDY_AREA_ENV = "COMMON_GROUND_STUDY_AREA"
POSTCODES_ENV = "COMMON_GROUND_POSTCODES"

MODES = ("local", "shared")
DEFAULT_ROLES_FILE = PROJECT_ROOT / "instance" / "roles.toml"


def _get(name: str) -> str:
    return os.environ.get(name, "").strip()


def mode() -> str:
    """``local`` or ``shared``, from ``$COMMON_GROUND_MODE`` (default ``local``)."""
    value = _get(MODE_ENV).casefold() or "local"
    if value not in MODES:
        raise SettingsError(
            f"{MODE_ENV} is {value!r}; set it to 'local' (one person, this machine) or 'shared' (a deployment with sign-in)."
        )
    return value


def roles_file() -> Path:
    """The roles file of a shared deployment (``$COMMON_GROUND_ROLES``, else ``instance/roles.toml``)."""
    value = _get(ROLES_ENV)
    return Path(value).expanduser() if value else DEFAULT_ROLES_FILE


def data() -> str | None:
    """The store named by ``$COMMON_GROUND_DATA`` (a path or a URL), or None for the demo."""
    return _get(DATA_ENV) or None


def tiles() -> str | None:
    """The default basemap named by ``$COMMON_GROUND_TILES``, or None."""
    return _get(TILES_ENV) or None


def taxonomy_file() -> str | None:
    return _get(TAXONOMY_ENV) or None


def cli_actor() -> str | None:
    return _get(ACTOR_ENV) or None


def sqlite_sync() -> str:
    return (_get(SQLITE_SYNC_ENV) or "NORMAL").upper()


def _positive_int(name: str, default: int) -> int:
    raw = _get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise SettingsError(f"{name} is {raw!r}; set it to a whole number above 0, or unset it for {default:,}.")
    return value


def max_import_mb() -> int:
    return _positive_int(MAX_IMPORT_MB_ENV, 100)


def max_import_rows() -> int:
    return _positive_int(MAX_IMPORT_ROWS_ENV, 200_000)


def study_area() -> tuple[float, float, float, float] | None:
    """The configured study area ``(minx, miny, maxx, maxy)`` in degrees (``$COMMON_GROUND_STUDY_AREA``), or None."""
    raw = _get(STUDY_AREA_ENV)
    if not raw:
        return None
    try:
        minx, miny, maxx, maxy = (float(v) for v in raw.split(","))
    except ValueError:
        minx = miny = maxx = maxy = float("nan")
    ok = -180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90
    if not ok:
        raise SettingsError(
            f"{STUDY_AREA_ENV} is {raw!r}; set it to minx,miny,maxx,maxy in degrees (longitude first), "
            "e.g. -6.4,49.8,1.8,55.9 for England, or unset it to use the store's boundary layers."
        )
    return (minx, miny, maxx, maxy)


def postcodes_cache() -> Path:
    """The national postcode table's cache file (``$COMMON_GROUND_POSTCODES``, else ``instance/postcodes_gb.sqlite``)."""
    value = _get(POSTCODES_ENV)
    return Path(value).expanduser() if value else PROJECT_ROOT / "instance" / "postcodes_gb.sqlite"
