"""Copy a whole store between backends: every layer, the audit log and the taxonomy, as they are.

``python -m geo copy SRC DST`` calls :func:`copy_store`. Rows are copied as they stand (ids,
versions, stamps and audit entries unchanged), in one transaction on the target: the copy lands
whole or not at all. A target that already holds data is refused unless ``replace=True``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geo import schema
from geo.errors import StoreError
from geo.store import GeoPackageStore, Store, is_postgres_url, open_store

COPY_ACTOR = "Common Ground (geo copy)"


@dataclass
class CopyResult:
    """What :func:`copy_store` copied: rows per layer, in the source's layer order."""

    source: str
    target: str
    layers: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"source": self.source, "target": self.target, "layers": self.layers}


def copy_store(
    source: str | os.PathLike | Store,
    target: str | os.PathLike | Store,
    *,
    replace: bool = False,
) -> CopyResult:
    """Copy every layer of ``source`` into ``target`` (GeoPackage or PostGIS, either way).

    Parameters
    ----------
    source
        A store, a GeoPackage path or a ``postgresql://`` URL.
    target
        The same; a GeoPackage path that does not exist yet is created.
    replace
        Overwrite a target that already holds rows. Without it such a target is refused and left
        as it was.

    Raises
    ------
    StoreError
        The target holds data and ``replace`` is false, or source and target are the same store.
    """
    src = open_store(source)
    dst = _open_target(target)
    if src.location == dst.location:
        raise StoreError("The source and the target are the same store; give a different target.")
    if not replace:
        held = _rows_held(dst)
        if held:
            raise StoreError(
                f"The target {dst.location} already holds data ({held}); pass --replace to overwrite it, "
                "or give an empty target."
            )
    result = CopyResult(source=src.location, target=dst.location)
    names = src.layer_names()
    frames: dict[str, pd.DataFrame] = {}
    for name in names:
        frames[name] = src.read_audit() if name == "audit_log" else src.read(name)
        result.layers[name] = len(frames[name])
    with dst.transaction(actor=COPY_ACTOR) as tx:
        for name in names:
            tx.replace(name, frames[name])
        if replace:  # layers the target had and the source has not are emptied, not left stale
            for name in dst.layer_names():
                if name not in frames and name in schema.LAYERS and tx.has_layer(name):
                    tx.replace(name, schema.empty_layer(name))
    return result


def _open_target(target: str | os.PathLike | Store) -> Store:
    if not isinstance(target, (str, os.PathLike)):
        return target
    if is_postgres_url(target):
        return open_store(target)
    path = Path(target).expanduser()
    if not path.exists():
        if path.suffix.lower() != ".gpkg":
            raise StoreError(f"The target {path} should be a .gpkg file (or a postgresql:// URL).")
        create_geopackage(path)
    return GeoPackageStore(path)


def create_geopackage(path: Path) -> GeoPackageStore:
    """A new, empty Common Ground GeoPackage at ``path`` (every editable layer, the taxonomy seeded)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    empty = schema.empty_layer("assets")
    assert isinstance(empty, gpd.GeoDataFrame)
    pyogrio.write_dataframe(empty, path, layer="assets", driver="GPKG", geometry_type="Point", spatial_index=True)
    store = GeoPackageStore(path)
    store.migrate()
    return store


def _rows_held(store: Store) -> str:
    """A short description of the data a store holds ('' when none beyond its seed)."""
    held = []
    for info in store.info():
        if info.features and info.name not in ("taxonomy", "audit_log"):
            held.append(f"{info.features:,} {info.name}")
        elif info.name == "audit_log" and info.features:
            log = store.read_audit()
            real = log[log["action"].astype(str) != "seed"]
            if len(real):
                held.append(f"{len(real):,} audit entries")
    return ", ".join(held[:4]) + (", ..." if len(held) > 4 else "")
