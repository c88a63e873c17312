"""Heavy libraries imported on first use rather than when a module loads.

The store and the data model are needed by every command, but reading ``python -m geo info`` or
``--help`` needs none of pandas, geopandas, numpy or shapely, whose import costs about a second of
CPU. A module that wants them lazily writes::

    gpd = lazy("geopandas", globals(), "gpd")

and uses ``gpd`` as before. The first attribute read imports the real module and puts it in the
module's globals under the same name, so every later use is a plain global lookup of the module
itself (no proxy in hot loops). Annotations are strings (``from __future__ import annotations``),
so they never trigger the import; type checkers see the real imports under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule:
    __slots__ = ("_name", "_namespace", "_alias")

    def __init__(self, name: str, namespace: dict[str, Any], alias: str) -> None:
        self._name = name
        self._namespace = namespace
        self._alias = alias

    def _load(self) -> ModuleType:
        module = importlib.import_module(self._name)
        if self._namespace.get(self._alias) is self:
            self._namespace[self._alias] = module
        return module

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._load(), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy(name: str, namespace: dict[str, Any], alias: str) -> Any:
    """A stand-in for module ``name`` bound to ``alias`` in ``namespace`` (a module's ``globals()``)
    that imports it, and takes its place there, on first use."""
    return _LazyModule(name, namespace, alias)
