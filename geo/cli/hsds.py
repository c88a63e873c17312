"""``python -m geo export --layer organisations --format hsds --out PATH``: the HSDS 3.0 export.

Kept apart from :mod:`geo.cli` so the command can be routed there with one line; it follows the
same contract (returns the JSON document and the human text; raises a
:class:`~geo.errors.CommonGroundError` with one sentence on failure).
"""

from __future__ import annotations

import argparse

from geo.io import hsds
from geo.store import open_store


def write_hsds_cli(args: argparse.Namespace) -> tuple[dict, str]:
    """Write the store's organisations, services and service areas as HSDS 3.0 JSON to ``args.out``.

    Parameters
    ----------
    args
        ``data`` (the store, or ``None`` for the default) and ``out`` (the JSON file to write);
        ``layer`` must be ``organisations`` when given, and ``area`` and ``type`` must be unset.

    Returns
    -------
    tuple[dict, str]
        The ``--json`` document (``out``, ``format``, ``counts`` per HSDS table) and a short text.
    """
    if not getattr(args, "out", None):
        raise hsds.HsdsExportError("Give the file to write with --out PATH, e.g. --out organisations-hsds.json.")
    if getattr(args, "layer", None) not in (None, "organisations"):
        raise hsds.HsdsExportError(
            f"The HSDS format exports organisations with their services and areas, not {args.layer!r}; use --layer organisations."
        )
    if getattr(args, "area", None) or getattr(args, "type", None):
        raise hsds.HsdsExportError("The HSDS export covers the whole store; leave out --area and --type.")
    store = open_store(args.data)
    doc = hsds.hsds_document(store)
    path = hsds.write_hsds(store, args.out, document=doc)
    counts = {t: len(doc[t]) for t in hsds.HSDS_TABLES}
    text = f"Wrote HSDS 3.0 JSON to {path}: " + ", ".join(f"{n:,} {t}" for t, n in counts.items()) + "."
    return {"out": str(path), "format": "hsds", "standard": "HSDS 3.0", "counts": counts}, text
