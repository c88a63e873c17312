"""``python -m geo report --area NAME_OR_ID [--boundaries LAYER] --out FILE.pdf``: the printable area report.

Registered in :mod:`geo.cli` like the other commands. It follows the same contract: returns the
``--json`` document and the text for people, and raises a :class:`~geo.errors.CommonGroundError`
(one sentence, exit code 2) when the area, the layer or the output path is wrong; nothing is written then.
"""

from __future__ import annotations

import argparse

from geo.analysis import access
from geo.errors import LayerNotFoundError
from geo.io import report
from geo.schema import BOUNDARY_LAYERS
from geo.store import open_store


def add_options(p: argparse.ArgumentParser) -> None:
    """Add the ``report`` command's options to its sub-parser (which already has ``--data`` and ``--json``)."""
    p.add_argument("--area", required=True, metavar="NAME_OR_ID", help="the area's name or id, e.g. 'Firth Park'")
    p.add_argument(
        "--boundaries", default="wards", metavar="LAYER", help="wards, lsoas or neighbourhoods (default wards)"
    )
    p.add_argument("--out", required=True, metavar="FILE.pdf", help="the PDF to write (replaced if it exists)")
    p.add_argument(
        "--within",
        type=float,
        default=access.DEFAULT_WITHIN_M,
        metavar="M",
        help="the walk, in metres: a type is a gap when none is in the area or this close to its centre (default 800)",
    )


def cmd_report(args: argparse.Namespace) -> tuple[dict, str]:
    """Write the A4 PDF report of one area.

    Parameters
    ----------
    args
        Parsed options: ``data``, ``area``, ``boundaries``, ``out``, ``within``.
    """
    if not args.within > 0:
        raise report.ReportError(f"--within must be a positive number of metres, not {args.within:g}.")
    store = open_store(args.data)
    if not any(store.has_layer(n) for n in BOUNDARY_LAYERS):  # e.g. the England store: people at points only
        raise LayerNotFoundError(
            f"This store has no boundary layers, so there is no area to report on; import areas first "
            f"(python -m geo import FILE --layer {args.boundaries})."
        )
    result = report.write_report(
        store, args.area, out_path=args.out, boundaries=args.boundaries, within_m=float(args.within)
    )
    area = result.area
    pages = f"{result.pages} page{'s' if result.pages != 1 else ''}"
    text = (
        f"Wrote the report of {area['name']} ({area['layer']} {area['id']}) to {result.path}: "
        f"A4 PDF, {pages}, {result.size_bytes / 1000:.0f} kB."
    )
    return result.as_dict(), text
