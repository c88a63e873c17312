"""Offline postcode lookup from the shipped OS Code-Point Open table (the store's ``postcodes``).

No network is used: a postcode is normalised (spacing and case) and looked up in the table. A
malformed postcode, or one not in the table (outside the data's area, or not live), raises an error
that says which and what to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from geo.errors import MalformedPostcodeError, PostcodeNotFoundError

# The UK postcode shape: outward code (area letters, district digit(s), optional letter) and inward
# code (a digit and two letters).
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")


def normalise_postcode(text: str) -> str:
    """``' s58nj '`` -> ``'S5 8NJ'``; raise :class:`MalformedPostcodeError` if it is not a postcode."""
    if not isinstance(text, str):
        raise MalformedPostcodeError(f"A postcode must be text such as 'S1 2HE'; got {type(text).__name__}.")
    compact = re.sub(r"\s+", "", text).upper()
    m = _POSTCODE.match(compact)
    if not m:
        shown = text.strip()[:20]
        raise MalformedPostcodeError(
            f"{shown!r} is not a UK postcode; type it like 'S5 8NJ' (letters, digits, a space, a digit and two letters)."
        )
    return f"{m.group(1)} {m.group(2)}"


@dataclass(frozen=True)
class PostcodePoint:
    """A postcode's centroid."""

    postcode: str
    lon: float
    lat: float
    in_area: bool


class PostcodeIndex:
    """Postcode -> centroid, built once from the ``postcodes`` table.

    Parameters
    ----------
    table
        Columns ``postcode``, ``lon``, ``lat`` and optionally ``in_sheffield_lad``.
    area_name
        Named in messages about postcodes outside the data's area.
    """

    def __init__(self, table: pd.DataFrame, *, area_name: str = "Sheffield"):
        missing = {"postcode", "lon", "lat"} - set(table.columns)
        if missing:
            raise PostcodeNotFoundError(
                f"The postcode table lacks {', '.join(sorted(missing))}; rebuild the store with data/build_demo.py."
            )
        keys = table["postcode"].astype(str).str.replace(r"\s+", "", regex=True).str.upper()
        self._lon = dict(zip(keys, table["lon"].astype(float), strict=True))
        self._lat = dict(zip(keys, table["lat"].astype(float), strict=True))
        flag = table["in_sheffield_lad"] if "in_sheffield_lad" in table else pd.Series(True, index=table.index)
        self._in = dict(zip(keys, flag.fillna(False).astype(bool), strict=True))
        self.area_name = area_name

    def __len__(self) -> int:
        return len(self._lon)

    def lookup(self, text: str) -> PostcodePoint:
        """The centroid of a postcode; raises if malformed or not in the table."""
        pc = normalise_postcode(text)
        key = pc.replace(" ", "")
        if key not in self._lon:
            raise PostcodeNotFoundError(
                f"{pc} is not in the postcode table, which covers {self.area_name} (S1 to S36) only; "
                "check it, or click the map instead."
            )
        return PostcodePoint(pc, self._lon[key], self._lat[key], self._in[key])
