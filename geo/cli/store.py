"""Command group for single features and whole stores: ``asset``, ``edit`` and ``copy``.

``asset ID`` shows one asset with its ``version``; ``edit ID --set FIELD=VALUE ... --actor NAME
[--if-version V]`` changes it through :func:`geo.editing.update_asset` (validated, audited, refused
with exit code 2 and the store unchanged when the version is stale); ``copy SRC DST [--replace]``
copies a whole store between GeoPackage and PostGIS (:func:`geo.store.copy.copy_store`).
"""

from __future__ import annotations

import argparse
import getpass
from typing import Any

from geo import editing, settings
from geo.errors import (  # noqa: F401 (defined with every error in geo.errors; re-exported here)
    CommonGroundError,
    FeatureArgumentError,
)
from geo.store import open_store


def add_asset_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("id", metavar="ID", help="the asset's id (from search, export or the history)")


def add_edit_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("id", metavar="ID", help="the asset's id")
    p.add_argument("--set", dest="sets", action="append", required=True, metavar="FIELD=VALUE",
                   help="a new value (repeatable); FIELD is one of: " + ", ".join(editing.EDITABLE_COLUMNS)
                   + ", lon, lat; an empty VALUE clears the field")  # fmt: skip
    p.add_argument("--actor", default=settings.cli_actor() or f"{getpass.getuser()} (command line)",
                   help="who is making the change (recorded in the audit log)")  # fmt: skip
    p.add_argument("--if-version", type=int, metavar="V",
                   help="the version you read (from `asset ID`): refused if the asset has changed since")  # fmt: skip


def add_copy_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="SRC", help="a GeoPackage path or a postgresql:// URL")
    p.add_argument("target", metavar="DST", help="a GeoPackage path (created if missing) or a postgresql:// URL")
    p.add_argument("--replace", action="store_true", help="overwrite a target that already holds data")


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if value is not None and not isinstance(value, (str, int, float, bool)):
        try:
            import pandas as pd

            if pd.isna(value):
                return None
        except (TypeError, ValueError):
            pass
        return str(value)
    return value


def cmd_asset(args: argparse.Namespace) -> tuple[dict, str]:
    """One asset, every field, with its version."""
    store = open_store(args.data)
    frame = store.read("assets", ids=[args.id])
    if frame.empty:
        raise editing.AssetNotFoundError(
            f"There is no asset with id {args.id[:80]!r}; find ids with `python -m geo export --layer assets --format csv`."
        )
    row = frame.iloc[0]
    geom = row[frame.geometry.name]
    doc = {k: _plain(v) for k, v in row.items() if k != frame.geometry.name}
    doc["lon"] = float(geom.x) if geom is not None and not geom.is_empty else None
    doc["lat"] = float(geom.y) if geom is not None and not geom.is_empty else None
    width = max(len(k) for k in doc)
    lines = [f"{k:<{width}}  {'' if v is None else v}" for k, v in doc.items()]
    return doc, "\n".join(lines)


def _sets(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise FeatureArgumentError(
                f"--set {pair!r} is not FIELD=VALUE; write it like --set name='Firth Park Library'."
            )
        k, _, v = pair.partition("=")
        if not k.strip():
            raise FeatureArgumentError(f"--set {pair!r} names no field; write it like --set name='Firth Park Library'.")
        out[k.strip()] = v
    return out


def cmd_edit(args: argparse.Namespace) -> tuple[dict, str]:
    """Change fields of one asset (validated and audited); a stale --if-version is refused."""
    store = open_store(args.data)
    changes: dict[str, Any] = _sets(args.sets)
    for key in ("lon", "lat"):
        if key in changes:
            try:
                changes[key] = float(changes[key])
            except ValueError:
                raise FeatureArgumentError(f"--set {key}={changes[key]!r} is not a number of degrees.") from None
    version = editing.update_asset(store, args.id, actor=args.actor, if_version=args.if_version, **changes)
    doc = {"id": args.id, "version": version, "changed": sorted(changes)}
    return doc, f"saved {args.id}: {', '.join(sorted(changes))} (now version {version})"


def cmd_copy(args: argparse.Namespace) -> tuple[dict, str]:
    """Copy a whole store (every layer, the audit log, the taxonomy) between GeoPackage and PostGIS."""
    from geo.store.copy import copy_store

    result = copy_store(args.source, args.target, replace=args.replace)
    lines = [f"copied {result.source} -> {result.target}"]
    lines += [f"  {name:<20} {n:>8,}" for name, n in result.layers.items()]
    return result.as_dict(), "\n".join(lines)
