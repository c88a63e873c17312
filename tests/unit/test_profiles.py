"""Area profiles and finding areas by name or id."""

from __future__ import annotations

import pytest

from geo.analysis import profiles
from geo.errors import AreaNotFoundError
from tests.helpers import DEMO_ASSETS

_CONTEXT = ("organisations", "organisation_areas", "aspirations", "success_measures", "stories")


def _profile(store, taxonomy, layer, name, *, layers: dict | None = None):
    """The profile of one area; ``layers`` (layer name -> frame) saves reading them again for each
    area of a layer."""
    layers = layers or {}

    def read(name):
        return layers[name] if name in layers else store.read(name)

    areas = read(layer)
    area = profiles.find_area(areas, name, layer=layer)
    return profiles.area_profile(
        area,
        layer=layer,
        areas=areas,
        assets=read("assets"),
        taxonomy=taxonomy,
        **{name: read(name) for name in _CONTEXT},
    )


def test_find_area(demo_wards):
    assert profiles.find_area(demo_wards, "E05010868")["name"] == "Firth Park"
    assert profiles.find_area(demo_wards, "  firth   PARK ")["id"] == "E05010868"
    assert profiles.find_area(demo_wards, "Arbourthorne")["name"] == "Park & Arbourthorne"
    with pytest.raises(AreaNotFoundError, match="matches several areas of wards: Firth Park, Graves Park"):
        profiles.find_area(demo_wards, "park", layer="wards")
    with pytest.raises(AreaNotFoundError, match="No area of wards is called 'Atlantis'"):
        profiles.find_area(demo_wards, "Atlantis", layer="wards")


def test_ward_profile(demo_store, taxonomy):
    p = _profile(demo_store, taxonomy, "wards", "Firth Park")
    d = p.as_dict()
    assert d["area"]["population"] == 22_347 and d["area"]["layer"] == "wards"
    assets = d["assets"]
    assert assets["total"] == sum(assets["by_type"].values()) == sum(assets["by_category"].values())
    assert assets["per_1000"] == pytest.approx(assets["total"] / 22.347, abs=1e-3)
    assert assets["city_per_1000"] == pytest.approx(DEMO_ASSETS / 589.214, abs=1e-3)
    assert assets["per_km2"] > 0
    # every organisation listed runs an asset here, per organisation_areas
    assert len(d["organisations"]) > 0
    run_here = set(p.assets_in_area["organisation_id"].dropna())
    assert {o["id"] for o in d["organisations"]} == run_here
    assert d["aspirations"] == [] and d["success_measures"] == [] and d["stories"] == []


def test_ward_profile_has_the_four_traits(demo_store, taxonomy):
    """The traits' asset counts agree with the profile's own count by type and the taxonomy."""
    p = _profile(demo_store, taxonomy, "wards", "Firth Park")
    d = p.as_dict()
    assert [t["trait"] for t in d["traits"]] == list(taxonomy.traits)
    by_type = d["assets"]["by_type"]
    for entry in d["traits"]:
        want = sum(n for t, n in by_type.items() if entry["trait"] in taxonomy.type(t).traits)
        assert entry["assets"] == want, entry["trait"]
        assert entry["per_1000"] == pytest.approx(want / 22.347, abs=1e-3)
        assert entry["organisations"] == len(p.traits.traits[list(taxonomy.traits).index(entry["trait"])].organisations)
    assert d["traits"][3]["in_words"].startswith("No asset that supports it is mapped in any of the 28 wards")
    # a neighbourhood (estimated population) and an LSOA compare with their own boundary sets
    n = _profile(demo_store, taxonomy, "neighbourhoods", "Batemoor").as_dict()
    assert all(t["other_areas_compared"] == 146 for t in n["traits"] if t["standing"] != "unknown")
    lsoa = _profile(demo_store, taxonomy, "lsoas", "E01007823").as_dict()
    assert all(t["other_areas_compared"] == 344 for t in lsoa["traits"])
    assert any("LSOAs" in t["in_words"] for t in lsoa["traits"])


@pytest.mark.slow  # 8-17 s: out of the inner loop, in the full suite
def test_profiles_add_up_across_a_layer(demo_store, taxonomy):
    wards = demo_store.read("wards")
    layers = {name: demo_store.read(name) for name in ("wards", "assets", *_CONTEXT)}
    total = sum(_profile(demo_store, taxonomy, "wards", i, layers=layers).totals["total"] for i in wards["id"])
    assert total == DEMO_ASSETS


def test_lsoa_profile_has_deprivation_and_estimate_flags(demo_store, taxonomy):
    d = _profile(demo_store, taxonomy, "lsoas", "E01007823").as_dict()
    assert 1 <= d["area"]["imd_decile"] <= 10
    n = _profile(demo_store, taxonomy, "neighbourhoods", "Batemoor").as_dict()
    assert n["area"]["population_is_estimate"] is True


def test_area_at(demo_wards):
    row = profiles.area_at(demo_wards, -1.4701, 53.3811)  # Sheffield city centre
    assert row is not None and row["name"] == "City"
    assert profiles.area_at(demo_wards, 0.0, 51.5) is None
