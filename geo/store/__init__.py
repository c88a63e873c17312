"""The Common Ground data store: one interface (:mod:`geo.store.base`), two backends.

Where the store is
    ``--data`` / ``data=`` if given, else ``$COMMON_GROUND_DATA``, else a working copy at
    ``instance/common_ground.gpkg`` created from the shipped demo (``data/sheffield.gpkg``) on first
    use (``instance/`` is ignored by git, so the demo itself is never edited). A value starting with
    ``postgresql://`` opens the PostGIS backend (:mod:`geo.store.postgis`); anything else is the path
    of a GeoPackage (:mod:`geo.store.gpkg`).

>>> store = open_store()                                     # doctest: +SKIP
>>> assets = store.read("assets", where={"status": "active"})  # doctest: +SKIP
>>> with store.transaction(actor="officer@example.org") as tx:  # doctest: +SKIP
...     before, after = tx.update("assets", asset_id, {"name": "New"}, if_version=3)
...     tx.audit("update", "assets", asset_id, before, after)
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from geo import schema, settings
from geo.errors import StoreNotFoundError
from geo.store.base import SCHEMA_VERSION, LayerInfo, Store, Transaction, Where, now_iso
from geo.store.gpkg import GeoPackageStore

__all__ = [
    "ENV_VAR",
    "SCHEMA_VERSION",
    "GeoPackageStore",
    "LayerInfo",
    "Store",
    "Transaction",
    "Where",
    "ensure_working_copy",
    "fsync_file",
    "is_postgres_url",
    "now_iso",
    "open_store",
    "release_store",
    "resolve_path",
    "store_taxonomy",
]

ENV_VAR = settings.DATA_ENV
INSTANCE_DIR = schema.PROJECT_ROOT / "instance"
WORKING_COPY = INSTANCE_DIR / "common_ground.gpkg"

_pg_stores: dict[tuple[int, str], Any] = {}
_pg_lock = threading.Lock()


def is_postgres_url(value: object) -> bool:
    """Whether ``value`` names a PostGIS store (``postgresql://...`` or ``postgres://...``)."""
    return isinstance(value, str) and value.strip().lower().startswith(("postgresql://", "postgres://"))


def open_store(data: str | os.PathLike | Store | None = None) -> Store:
    """The store named by ``data``, else ``$COMMON_GROUND_DATA``, else the demo working copy.

    Parameters
    ----------
    data
        A GeoPackage path, a ``postgresql://`` URL, or an open store (returned as it is).
    """
    if data is not None and not isinstance(data, (str, os.PathLike)):
        return data  # already a store
    if data is None:
        data = settings.data()
    if is_postgres_url(data):
        url = str(data).strip()
        key = (os.getpid(), url)  # a forked child never shares its parent's connections
        with _pg_lock:  # one connection pool per URL per process
            if key not in _pg_stores:
                from geo.store.postgis import PostGISStore

                _pg_stores[key] = PostGISStore(url)
            return _pg_stores[key]
    return GeoPackageStore(resolve_path(data))


def release_store(data: str | Store) -> None:
    """Close a PostGIS store's connections (e.g. before its database is dropped); a no-op otherwise."""
    url = data if isinstance(data, str) else getattr(data, "url", None) or getattr(data, "location", "")
    with _pg_lock:
        for key in [k for k in _pg_stores if k[1] == str(url).strip() or _pg_stores[k] is data]:
            store = _pg_stores.pop(key)
            if key[0] == os.getpid():
                store.close()


def resolve_path(data: str | os.PathLike | None = None) -> Path:
    """The GeoPackage path for ``--data`` / ``data=``, else ``$COMMON_GROUND_DATA``, else the working copy.

    The working copy is created from the demo GeoPackage if it does not exist yet. A path given
    explicitly (argument or environment) must exist.
    """
    if data is None:
        data = settings.data()
    if data is not None:
        p = Path(data).expanduser()
        if not p.exists():
            raise StoreNotFoundError(
                f"The data store {p} does not exist; check the path given by --data or "
                f"{ENV_VAR}, or unset it to use the demo working copy."
            )
        if not p.is_file():
            raise StoreNotFoundError(f"The data store {p} is not a file; give the path of a .gpkg file.")
        return p
    return ensure_working_copy()


def ensure_working_copy(path: Path = WORKING_COPY, demo: Path = schema.DEMO_GPKG) -> Path:
    """Create ``path`` as a copy of the demo GeoPackage if it is missing; return it.

    The copy is made under a temporary name and moved into place, so two processes starting at
    once never see half a file.
    """
    if path.exists():
        return path
    if not demo.exists():
        raise StoreNotFoundError(
            f"The demo GeoPackage {demo} is missing; restore it from git or rebuild it with "
            "`python data/build_demo.py`."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".copy-", suffix=".gpkg", dir=path.parent)
    os.close(fd)
    try:
        shutil.copyfile(demo, tmp)
        os.chmod(tmp, 0o644)
        fsync_file(tmp)
        if not path.exists():
            os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def fsync_file(path: str | Path) -> None:
    """Flush a file (or a folder's entries) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def store_taxonomy(store: Store, *, revisions: dict[str, str] | None = None) -> schema.Taxonomy:
    """The taxonomy a store holds (its ``taxonomy`` layer), else the seed file for older stores.

    Cached per store and revision of the taxonomy layer, so asking costs one small query while the
    taxonomy has not changed (none when the caller passes :meth:`Store.revisions` it already has).
    """
    revs = revisions if revisions is not None else store.revisions()
    key = (store.location, revs.get("taxonomy", "r0"))
    tax = _tax_cache.get(key)
    if tax is not None:
        return tax
    rows = store.read("taxonomy") if store.has_layer("taxonomy") else None
    if rows is None or not len(rows):
        return schema.load_taxonomy()
    tax = schema.parse_taxonomy(schema.taxonomy_doc(rows))
    if len(_tax_cache) > 16:
        _tax_cache.clear()
    _tax_cache[key] = tax
    return tax


_tax_cache: dict[tuple[str, str], schema.Taxonomy] = {}


_extent_cache: dict[tuple, tuple[float, float, float, float] | None] = {}


def store_extent(
    store: Store, *, revisions: dict[str, str] | None = None, layers: list[str] | None = None
) -> tuple[float, float, float, float] | None:
    """The store's area: the configured study area, else the lon/lat extent of its boundary layers.

    This is the area new points must fall in (plus :data:`geo.validation.AREA_MARGIN_DEG`), taken
    from the data itself or from ``$COMMON_GROUND_STUDY_AREA`` (:func:`geo.settings.study_area`),
    never from a place name. ``None`` (no area check, only valid degrees) for a store with neither:
    its assets do not fence it in, so that a national layer can go into a new store. Cached per layer
    revision: two small queries (none when the caller passes the store's revisions and layer names).
    """
    configured = settings.study_area()
    if configured is not None:
        return configured
    present = layers if layers is not None else store.layer_names()
    revs = revisions if revisions is not None else store.revisions()
    names = [n for n in schema.BOUNDARY_LAYERS if n in present]
    key = (store.location, *((n, revs.get(n, "r0")) for n in names))
    if key in _extent_cache:
        return _extent_cache[key]
    boxes = []
    for n in names:
        frame = store.read(n, columns=["id"])
        geoms = frame.geometry[frame.geometry.notna() & ~frame.geometry.is_empty] if hasattr(frame, "geometry") else []
        if len(geoms):
            boxes.append(tuple(float(v) for v in geoms.total_bounds))
    extent = (
        (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
        if boxes
        else None
    )
    if len(_extent_cache) > 32:
        _extent_cache.clear()
    _extent_cache[key] = extent
    return extent


def validation_context(store: Store, *, tx: Transaction | None = None):
    """The :class:`geo.validation.Context` for writes to ``store``: its taxonomy, extent and ids.

    Ids are looked up through ``tx`` when given (so a check sees the transaction's own writes),
    else through the store, once per layer per validation.
    """
    from geo import validation

    source = tx if tx is not None else store

    def known_ids(layer: str) -> set[str]:
        if not source.has_layer(layer):
            return set()
        return set(source.read(layer, columns=["id"])["id"].astype(str))

    revs, layers = store.revisions(), store.layer_names()
    return validation.Context(
        taxonomy=store_taxonomy(store, revisions=revs),
        area_bounds=store_extent(store, revisions=revs, layers=layers),
        known_ids=known_ids,
    )
