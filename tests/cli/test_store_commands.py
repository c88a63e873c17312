"""The store commands (asset, edit, copy) and both backends answering alike, through geo.cli.main in-process."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest

from geo import editing
from geo.cli import main
from geo.store import open_store
from geo.store.copy import copy_store
from tests.conftest import postgis_demo_copy
from tests.helpers import DEMO_ASSETS, store_digest


def cli(capsys, *argv: str) -> tuple[int, dict | None, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip().startswith("{") else None), err


@pytest.fixture
def library(store_copy) -> str:
    assets = store_copy.read("assets", where={"type": "library"})
    return str(assets.sort_values("name")["id"].iloc[0])


def test_asset_shows_every_field_and_its_version(store_copy, library, capsys):
    code, doc, _ = cli(capsys, "asset", library, "--data", store_copy.location, "--json")
    assert code == 0 and doc["id"] == library and doc["version"] == 1 and doc["type"] == "library"
    assert -1.81 < doc["lon"] < -1.32 and 53.30 < doc["lat"] < 53.51
    code, _, err = cli(capsys, "asset", "no-such-id", "--data", store_copy.location)
    assert code == 2 and "no asset with id 'no-such-id'" in err


def test_edit_then_a_stale_edit_is_refused_and_changes_nothing(store_copy, library, capsys):
    code, doc, err = cli(capsys, "edit", library, "--set", "opening_hours=Mon-Fri 9-5", "--actor", "Ana",
                         "--if-version", "1", "--data", store_copy.location, "--json")  # fmt: skip
    assert code == 0, err
    assert doc == {"id": library, "version": 2, "changed": ["opening_hours"]}
    before = store_digest(store_copy)
    code, _, err = cli(capsys, "edit", library, "--set", "name=Ben's name", "--actor", "Ben", "--if-version", "1",
                       "--data", store_copy.location)  # fmt: skip
    assert code == 2
    assert err.count("\n") == 1 and "changed by Ana" in err and "opening_hours" in err and "Reload" in err
    assert store_digest(store_copy) == before
    row = store_copy.get("assets", library)
    assert row["opening_hours"] == "Mon-Fri 9-5" and row["version"] == 2 and row["updated_by"] == "Ana"


def test_edit_validates_like_the_pages(store_copy, library, capsys):
    before = store_digest(store_copy)
    code, _, err = cli(capsys, "edit", library, "--set", "url=javascript:alert(1)", "--actor", "Ana",
                       "--data", store_copy.location)  # fmt: skip
    assert code == 2 and "url" in err.lower()
    code, _, err = cli(capsys, "edit", library, "--set", "nonsense", "--actor", "Ana", "--data", store_copy.location)
    assert code == 2 and "FIELD=VALUE" in err
    assert store_digest(store_copy) == before


def _same_layers(a, b) -> None:
    assert set(a.layer_names()) == set(b.layer_names())
    for name in a.layer_names():
        x = a.read_audit() if name == "audit_log" else a.read(name)
        y = b.read_audit() if name == "audit_log" else b.read(name)
        assert len(x) == len(y), name
        if "id" in x.columns:
            assert list(x["id"]) == list(y["id"]), name
        if isinstance(x, gpd.GeoDataFrame):
            both = x.geometry.notna() & y.geometry.notna()
            assert (x.geometry.isna() == y.geometry.isna()).all(), name
            assert x[both].geometry.geom_equals_exact(y[both].geometry, tolerance=1e-7).all(), name
            x, y = pd.DataFrame(x.drop(columns="geometry")), pd.DataFrame(y.drop(columns="geometry"))
        pd.testing.assert_frame_equal(
            x.reset_index(drop=True), y[list(x.columns)].reset_index(drop=True), check_dtype=False, obj=name
        )


def test_copy_round_trips_gpkg_postgis_gpkg(gpkg_copy, tmp_path, capsys):
    """Every layer, count, id, geometry (1e-7 degrees) and audit entry survives GeoPackage -> PostGIS -> GeoPackage."""
    aid = gpkg_copy.read("assets")["id"].iloc[0]
    editing.update_asset(gpkg_copy, aid, actor="Ana", if_version=1, name="Renamed", lon=-1.47, lat=53.38)
    editing.close_asset(gpkg_copy, aid, actor="Ben")
    with postgis_demo_copy() as url:
        code, doc, err = cli(capsys, "copy", str(gpkg_copy.path), url, "--json")
        assert code == 2 and "already holds data" in err  # the demo is there: refused without --replace
        code, doc, err = cli(capsys, "copy", str(gpkg_copy.path), url, "--replace", "--json")
        assert code == 0, err
        assert doc["layers"]["assets"] == DEMO_ASSETS and doc["layers"]["audit_log"] == len(gpkg_copy.read_audit())
        back = tmp_path / "back.gpkg"
        code, _, err = cli(capsys, "copy", url, str(back))
        assert code == 0, err
        pg = open_store(url)
        _same_layers(gpkg_copy, pg)
        _same_layers(gpkg_copy, open_store(back))
        assert open_store(back).check() == [] and pg.check() == []
        # the copy is a working store: the next edit sees the version history
        with pytest.raises(Exception, match="changed by Ben"):
            editing.update_asset(pg, aid, actor="Cy", if_version=2, name="Stale")


def test_copy_refuses_the_same_store_and_a_bad_target(gpkg_copy, tmp_path):
    with pytest.raises(Exception, match="same store"):
        copy_store(gpkg_copy, gpkg_copy.location)
    with pytest.raises(Exception, match=r"\.gpkg"):
        copy_store(gpkg_copy, str(tmp_path / "out.txt"))


@pytest.mark.parametrize(
    "argv",
    [
        ("near", "--postcode", "S5 8NJ"),
        ("near", "--postcode", "S1 2HE", "--within", "400"),
        ("near", "--lonlat", "-1.55,53.42", "--within", "1600"),
        ("gaps", "--type", "gp_practice"),
        ("gaps", "--type", "food_bank", "--within", "1200", "--boundaries", "wards"),
        ("profile", "--area", "Firth Park", "--boundaries", "wards"),
        ("profile", "--area", "Sheffield 008C"),
    ],
    ids=lambda a: "-".join(a)[:40],
)
def test_near_gaps_and_profile_answer_identically_on_both_backends(argv, demo_path, capsys):
    code, on_gpkg, err = cli(capsys, *argv, "--data", str(demo_path), "--json")
    assert code == 0, err
    with postgis_demo_copy() as url:
        code, on_postgis, err = cli(capsys, *argv, "--data", url, "--json")
    assert code == 0, err
    assert on_postgis == on_gpkg
