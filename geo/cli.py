"""The command line: ``python -m geo <command> [--data PATH] [--json]``.

A stable contract (DESIGN.md section 3): ``--json`` prints exactly one JSON document on stdout;
errors go to stderr as one clear sentence and the exit code is non-zero (2 for a usage or data
error, 1 for anything unexpected). Commands never change the store unless they say they do.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from geo.errors import CommonGroundError
from geo.store import ENV_VAR, Store

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one sentence on stderr, exit 2
        sys.stderr.write(f"error: {message}. Run `python -m geo {self.prog.split()[-1]} --help` for usage.\n")
        raise SystemExit(EXIT_USAGE)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data",
        metavar="PATH",
        help=f"the GeoPackage to use (default: ${ENV_VAR}, else the demo working copy under instance/)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def cmd_info(args: argparse.Namespace) -> tuple[dict, str]:
    """Layers, geometry types, feature counts, CRS and bounds."""
    store = Store.open(args.data)
    layers = [i.as_dict() for i in store.info()]
    doc = {"path": str(store.path), "layers": layers}
    lines = [f"{store.path}"]
    width = max(len(layer["name"]) for layer in layers) if layers else 10
    for layer in layers:
        gtype = layer["geometry_type"] or "table"
        crs = layer["crs"] or "-"
        b = layer["bounds"]
        bounds = f"[{b[0]:.4f}, {b[1]:.4f}, {b[2]:.4f}, {b[3]:.4f}]" if b else ""
        lines.append(f"  {layer['name']:<{width}}  {gtype:<13} {layer['features']:>7,}  {crs:<10} {bounds}")
    return doc, "\n".join(lines)


COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], tuple[dict, str]], str]] = {
    "info": (cmd_info, "list the store's layers: geometry type, feature count, CRS and bounds"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m geo", description="Common Ground: community asset mapping from the command line.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (_func, helptext) in COMMANDS.items():
        p = sub.add_parser(name, help=helptext, description=helptext)
        _add_common(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    func = COMMANDS[args.command][0]
    try:
        doc, text = func(args)
    except CommonGroundError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    except Exception as exc:  # an unexpected failure: still one sentence, never a traceback
        sys.stderr.write(f"error: {args.command} failed unexpectedly ({type(exc).__name__}: {exc}); please report it.\n")
        return EXIT_UNEXPECTED
    if args.json:
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, default=str) + "\n")
    else:
        sys.stdout.write(text + "\n")
    return EXIT_OK
