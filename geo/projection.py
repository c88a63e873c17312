"""Every reprojection of the process runs in one long-lived thread, where pyproj keeps what it built.

pyproj makes the working object of a transformation (PROJ's ``PJ``, found by a search of
``proj.db``) once per thread: 30-60 ms for EPSG:4326 to EPSG:27700, and as much for each other pair.
Streamlit runs every page run in a new thread (so does ``AppTest``), so every run of a page paid that
again for each pair of CRSs it used: 100-250 ms of the run for Explore, Neighbourhood, Near me and
Gaps. A transformation used from one thread costs about a millisecond after its first use.

:func:`install` gives geopandas (``GeoSeries.to_crs``, ``GeoDataFrame.to_crs``) transformers whose
``transform`` runs in this module's one thread (:func:`run`), so each pair is built once per
process. The transformers are pyproj's own (cached by geopandas by CRS pair), and the numbers are
pyproj's: only the thread that computes them changes. ``tests/unit/test_projection.py`` fails if
geopandas stops reaching its transformers through ``geopandas.array.TransformerFromCRS``.

A forked child (the crash tests' writers) gets a thread of its own on first use.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

_LOCK = threading.Lock()
_EXECUTOR: ThreadPoolExecutor | None = None
_PID: int | None = None
_THREAD_NAME = "cg-projection"


def _executor() -> ThreadPoolExecutor:
    global _EXECUTOR, _PID
    with _LOCK:
        if _EXECUTOR is None or _PID != os.getpid():  # none yet, or a forked child's copy without its thread
            _EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix=_THREAD_NAME)
            _PID = os.getpid()
        return _EXECUTOR


def in_projection_thread() -> bool:
    return threading.current_thread().name.startswith(_THREAD_NAME) and _PID == os.getpid()


def run(func, *args, **kwargs):
    """``func(*args, **kwargs)`` in the projection thread (directly when already in it)."""
    if in_projection_thread():
        return func(*args, **kwargs)
    return _executor().submit(func, *args, **kwargs).result()


class OneThreadTransformer:
    """A ``pyproj.Transformer`` whose ``transform`` runs in the projection thread; everything else is
    the transformer's own."""

    def __init__(self, transformer) -> None:
        self._transformer = transformer

    def transform(self, *args, **kwargs):
        return run(self._transformer.transform, *args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._transformer, name)


@functools.lru_cache(maxsize=64)
def transformer_from_crs(*args, **kwargs) -> OneThreadTransformer:
    """``pyproj.Transformer.from_crs(...)`` (made in the projection thread), used from it."""
    from pyproj import Transformer

    return OneThreadTransformer(run(Transformer.from_crs, *args, **kwargs))


def install() -> None:
    """Make geopandas reproject through :func:`transformer_from_crs` (idempotent)."""
    import geopandas.array

    geopandas.array.TransformerFromCRS = transformer_from_crs


class _AfterGeopandasArray(importlib.abc.MetaPathFinder):
    """Runs :func:`install` right after ``geopandas.array`` is imported (by anyone), so that importing
    ``geo`` does not import geopandas (``python -m geo info`` needs none of it)."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "geopandas.array":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader = spec.loader

        class _Loader(importlib.abc.Loader):
            def create_module(self, spec):
                return loader.create_module(spec)

            def exec_module(self, module):
                loader.exec_module(module)
                module.TransformerFromCRS = transformer_from_crs

        spec.loader = _Loader()
        return spec


def install_on_import() -> None:
    """:func:`install` now if geopandas is loaded, else as soon as it is (idempotent)."""
    if "geopandas.array" in sys.modules:
        install()
    elif not any(isinstance(f, _AfterGeopandasArray) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterGeopandasArray())
