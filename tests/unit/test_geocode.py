"""Offline postcode lookup."""

from __future__ import annotations

import pytest

from geo.errors import MalformedPostcodeError, PostcodeNotFoundError
from geo.geocode import PostcodeIndex, normalise_postcode


@pytest.fixture(scope="module")
def index(demo_store):
    return PostcodeIndex(demo_store.read("postcodes"))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("S5 8NJ", "S5 8NJ"),
        ("s58nj", "S5 8NJ"),
        ("  s5   8nj ", "S5 8NJ"),
        ("S10 2TN", "S10 2TN"),
        ("sw1a1aa", "SW1A 1AA"),
    ],
)
def test_normalise(text, expected):
    assert normalise_postcode(text) == expected


@pytest.mark.parametrize("text", ["", "hello", "S5", "5S 8NJ", "S5 8NJX", "S5-8NJ!", "'; DROP TABLE x"])
def test_malformed_postcodes_get_a_clear_message(text):
    with pytest.raises(MalformedPostcodeError, match="not a UK postcode"):
        normalise_postcode(text)


def test_lookup_a_real_postcode(index, demo_assets):
    pt = index.lookup("s5 8nj")
    assert pt.postcode == "S5 8NJ" and pt.in_area
    # Parson Cross food bank is at S5 8NJ; its point is that postcode's centroid.
    fb = demo_assets[demo_assets["name"] == "Parson Cross Food Bank"].iloc[0]
    assert abs(fb.geometry.x - pt.lon) < 1e-3 and abs(fb.geometry.y - pt.lat) < 1e-3


def test_unknown_or_outside_postcode(index):
    with pytest.raises(PostcodeNotFoundError, match="SW1A 1AA is not in this store's postcode table.*S1 to S"):
        index.lookup("SW1A 1AA")
    assert len(index) == 14_875
