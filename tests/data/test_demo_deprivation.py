"""Deprivation at every boundary level on the real Sheffield demo data (see tests/unit/test_deprivation.py
for the synthetic cases with known answers)."""

from __future__ import annotations

import pytest

from geo.analysis import deprivation
from geo.schema import DEMO_GPKG
from geo.store import open_store


def test_demo_wards_get_a_decile_and_the_city_share_is_plausible():
    s = open_store(DEMO_GPKG)
    wards = deprivation.boundary_frame("wards", s.read)
    assert wards["imd_decile"].between(1, 10).all()
    lsoas = s.read("lsoas")
    # Residents in the 20% most deprived LSOAs, city-wide, two ways: from the wards and from the LSOAs.
    pop = lsoas["population"].astype(float)
    direct = pop[lsoas["imd_decile"].isin([1, 2])].sum() / pop.sum()
    weighted = (wards["imd_deprived_share"] * wards["population"]).sum() / wards["population"].sum()
    assert weighted == pytest.approx(direct, abs=0.03)


def test_firth_park_lsoas_are_labelled_with_their_ward():
    s = open_store(DEMO_GPKG)
    lsoas = deprivation.boundary_frame("lsoas", s.read)
    assert lsoas["name"].str.fullmatch(r"Sheffield \d{3}[A-Z] \(.+\)").mean() > 0.95
    assert lsoas["name"].str.endswith("(Firth Park)").sum() >= 8
