"""Helpers shared by tests of any backend."""

from __future__ import annotations

import hashlib
import os

import geopandas as gpd
import pandas as pd

from geo.store import Store, open_store


def store_digest(store: Store | str | os.PathLike) -> str:
    """A digest of everything a store holds (every layer's rows, geometry included, and the audit log).

    It compares content, not file bytes: a GeoPackage in WAL mode keeps recent commits in its
    ``-wal`` file, so the main file's bytes can stay the same across a write, and a byte digest
    would then pass whether or not anything changed.
    """
    s = open_store(store)
    h = hashlib.sha256()
    for name in s.layer_names():
        frame = s.read(name)
        h.update(name.encode())
        h.update(str(len(frame)).encode())
        if isinstance(frame, gpd.GeoDataFrame):
            h.update(b"".join(g.wkb if g is not None else b"-" for g in frame.geometry))
            frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        h.update(frame.to_csv(index=False).encode())
    return h.hexdigest()
