"""What every export format shares: the CRS checks, atomic files, the columns never exported."""

from __future__ import annotations

import contextlib
import html
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo import schema
from geo.errors import CRSError, ExportError
from geo.schema import STORAGE_CRS
from geo.store import fsync_file

#: The CRSs a file can be written in: the store's own (GPS degrees) and British National Grid (metres),
#: what planners' GIS uses. GeoJSON (RFC 7946), KML and the HTML map are EPSG:4326 by definition.
CRS_CHOICES: dict[str, str] = {
    "EPSG:4326": "WGS 84 longitude/latitude (GPS, web maps)",
    "EPSG:27700": "British National Grid, metres (planners' GIS)",
}


#: Formats that can be written in another CRS than EPSG:4326.
REPROJECTABLE = ("gpkg", "shp", "csv")


#: Columns that name people (an email, a username); exported only with ``include_contributors=True``.
#: The columns naming people: the data model's one list (left out of exports unless asked for).
PEOPLE_COLUMNS = schema.PERSONAL_COLUMNS


#: Layers that are never exported (the audit log holds people's names and every past value).
NOT_EXPORTED = ("audit_log",)


#: What an assets GeoJSON's geometry is: each asset's point, or its outline where it has one.
GEOMETRIES = ("point", "outline")


#: Statuses exported by default: what the app publishes.
DEFAULT_STATUSES = ("active",)


def in_storage_crs(frame: gpd.GeoDataFrame, crs: str = STORAGE_CRS) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise CRSError("The layer has no CRS; set one with .set_crs() before exporting.")
    return frame.to_crs(crs)


def check_crs(crs: object) -> str:
    """``crs`` as a key of :data:`CRS_CHOICES` (``27700``, ``epsg:27700`` and ``EPSG:27700`` alike), or
    raise :class:`ExportError` naming the choices."""
    text = str(crs or "").strip().upper().replace(" ", "")
    key = f"EPSG:{text}" if text.isdigit() else text
    if key not in CRS_CHOICES:
        raise ExportError(f"Unknown export CRS {crs!r}; choose one of: {', '.join(CRS_CHOICES)}.")
    return key


def has_geometry(geoms: gpd.GeoSeries) -> pd.Series:
    return geoms.notna() & ~geoms.is_empty


def via_file(write, suffix: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="cg-export-") as tmp:
        path = Path(tmp) / f"export{suffix}"
        write(path)
        return path.read_bytes()


@contextlib.contextmanager
def atomic_target(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a private path to write; on success it replaces ``path`` in one ``os.replace``.

    The private path lies in a hidden temporary folder beside ``path`` (so the move never crosses
    file systems); the folder is removed whatever happens.
    """
    target = Path(path)
    if not target.parent.is_dir():
        raise ExportError(f"The folder {target.parent} does not exist; create it or choose another output path.")
    if target.is_dir():
        raise ExportError(f"{target} is a folder; give the output a file name such as {target / 'export'}.")
    tmpdir = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        tmp = tmpdir / target.name
        yield tmp
        if not tmp.is_file():
            raise ExportError(f"Nothing was written for {target.name}; please report this.")
        fsync_file(tmp)
        os.replace(tmp, target)
        with contextlib.suppress(OSError):
            fsync_file(target.parent)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def html_text(value: str) -> str:
    return html.escape(value, quote=True).replace("$", "&#36;").replace("{", "&#123;").replace("}", "&#125;")
