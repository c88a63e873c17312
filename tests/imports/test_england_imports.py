"""Import checks that assumed one city (issue 14): each flag switches off its own check and no other,
rows without a geometry are skipped and listed only on request, and the area is this store's."""

from __future__ import annotations

import json

import pytest

from tests.helpers import store_digest

PARSON_CROSS = (-1.485627, 53.425171)  # S5 8NJ, where the demo's Parson Cross Food Bank is
LONDON = (-0.1276, 51.5072)


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    from geo.cli import main

    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _geojson(path, features: list[tuple[dict, tuple[float, float] | None]]):
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": props,
                "geometry": None if xy is None else {"type": "Point", "coordinates": list(xy)},
            }
            for props, xy in features
        ],
    }
    path.write_text(json.dumps(doc))
    return path


def _names(store) -> list[str]:
    return store.read("assets")["name"].tolist()


def test_rows_without_a_geometry_refuse_the_file_in_one_sentence_that_names_the_flag(store_copy, tmp_path, capsys):
    p = _geojson(
        tmp_path / "halls.geojson",
        [
            ({"name": "Hall A", "type": "community_centre"}, (-1.47, 53.38)),
            ({"name": "Hall B", "type": "community_centre"}, None),
            ({"name": "Hall C", "type": "community_centre"}, (-1.46, 53.39)),
            ({"name": "Hall D", "type": "community_centre"}, None),
        ],
    )
    before = store_digest(store_copy)
    code, _out, err = _cli(capsys, "import", str(p), "--layer", "assets", "--data", store_copy.location)
    assert code == 2
    assert err == (
        "error: halls.geojson was not imported: 2 of 4 row(s) have no geometry (rows 2, 4); give them a location, "
        "or skip them with --skip-invalid (they are listed in the report).\n"
    )
    assert store_digest(store_copy) == before


def test_skip_invalid_skips_and_lists_them_and_keeps_the_files_row_numbers(store_copy, tmp_path, capsys):
    bad_url = _geojson(
        tmp_path / "bad.geojson",
        [
            ({"name": "Hall A", "type": "community_centre"}, None),
            ({"name": "Hall B", "type": "community_centre"}, (-1.47, 53.38)),
            ({"name": "Hall C", "type": "community_centre", "url": "not a link"}, (-1.46, 53.39)),
        ],
    )
    code, _out, err = _cli(
        capsys, "import", str(bad_url), "--layer", "assets", "--data", store_copy.location, "--skip-invalid"
    )
    assert code == 2 and "row 3: url" in err and "row 2: url" not in err  # the file's numbers, not the kept rows'
    good = _geojson(
        tmp_path / "good.geojson",
        [
            ({"name": "Hall A", "type": "community_centre"}, None),
            ({"name": "Hall B", "type": "community_centre"}, (-1.47, 53.38)),
            ({"name": "Hall C", "type": "community_centre"}, (-1.46, 53.39)),
        ],
    )
    code, out, _err = _cli(
        capsys, "import", str(good), "--layer", "assets", "--data", store_copy.location, "--skip-invalid", "--dry-run"
    )
    assert code == 0 and "would import 2 of 3 row(s)" in out and "skipped row 1: no geometry" in out
    code, out, err = _cli(
        capsys, "import", str(good), "--layer", "assets", "--data", store_copy.location, "--skip-invalid", "--json"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["imported"] == 2 and doc["report"]["rows_skipped"] == [{"row": 1, "reason": "no geometry"}]
    assert {"Hall B", "Hall C"} <= set(_names(store_copy)) and "Hall A" not in _names(store_copy)


def test_each_flag_switches_off_its_own_check_only(store_copy, tmp_path, capsys):
    p = _geojson(
        tmp_path / "mixed.geojson",
        [
            ({"name": "Parson Cross Food Bank", "type": "food_bank"}, PARSON_CROSS),  # already in the demo
            ({"name": "Far Away Hall", "type": "community_centre"}, LONDON),
        ],
    )
    base = ("import", str(p), "--layer", "assets", "--data", store_copy.location, "--json")
    before = store_digest(store_copy)
    code, _out, err = _cli(capsys, *base, "--allow-duplicates")  # London is still outside the area
    assert code == 2 and "outside this store's area (lon " in err and "--allow-outside-area" in err
    assert store_digest(store_copy) == before
    for flag in ("--allow-outside-area", "--force"):  # --force: the deprecated name of the same flag
        code, out, err = _cli(capsys, *base, flag, "--dry-run")
        assert code == 0, err
        report = json.loads(out)["report"]
        assert report["rows_to_import"] == 1 and report["duplicates_skipped"] == ["Parson Cross Food Bank"]
    assert any("--force is deprecated" in n for n in report["notes"])
    code, out, err = _cli(capsys, *base, "--allow-outside-area", "--allow-duplicates")
    assert code == 0, err
    assert json.loads(out)["imported"] == 2
    assert _names(store_copy).count("Parson Cross Food Bank") == 2 and "Far Away Hall" in _names(store_copy)


def test_a_configured_study_area_is_the_area(store_copy, tmp_path, capsys, monkeypatch):
    p = _geojson(tmp_path / "london.geojson", [({"name": "Far Away Hall", "type": "community_centre"}, LONDON)])
    monkeypatch.setenv("COMMON_GROUND_STUDY_AREA", "-6.4,49.8,1.8,55.9")  # England
    code, out, err = _cli(capsys, "import", str(p), "--layer", "assets", "--data", store_copy.location, "--dry-run")
    assert code == 0, err
    monkeypatch.setenv("COMMON_GROUND_STUDY_AREA", "-1.6,53.3,-1.3,53.5")
    code, _out, err = _cli(capsys, "import", str(p), "--layer", "assets", "--data", store_copy.location)
    assert code == 2 and "outside this store's area (lon -1.65 to -1.25, lat 53.25 to 53.55" in err
    assert "Sheffield" not in err


@pytest.mark.parametrize("value", ["-1.6,53.3,-1.3", "a,b,c,d", "-1.3,53.3,-1.6,53.5"])
def test_a_malformed_study_area_is_a_settings_error(value, monkeypatch):
    from geo import settings
    from geo.errors import SettingsError

    monkeypatch.setenv("COMMON_GROUND_STUDY_AREA", value)
    with pytest.raises(SettingsError, match="COMMON_GROUND_STUDY_AREA .* minx,miny,maxx,maxy in degrees"):
        settings.study_area()
