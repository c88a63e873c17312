"""One validator per layer (geo.validation): every rule refuses what it should, with a sentence naming
the column and the fix, and accepts and cleans what it should, the same way for one record and a frame.

The context is synthetic: two wards in a box around lon -1.5..-1.4, lat 53.3..53.4, the shipped
taxonomy, ids from dicts and a fixed date. No store is opened; no timing is asserted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import MultiPoint, Point, Polygon

from geo import schema
from geo import validation as v
from geo.errors import (
    AreaNotFoundError,
    CommonGroundError,
    MalformedPostcodeError,
    OutsideAreaError,
    SchemaError,
    TaxonomyError,
)

TODAY = dt.date(2026, 6, 1)
BOUNDS = (-1.5, 53.3, -1.4, 53.4)
IDS: dict[str, set[str]] = {
    "wards": {"W1", "W2"},
    "neighbourhoods": {"N1"},
    "assets": {"a-1", "a-2"},
    "organisations": {"org-1", "org-2"},
    "aspirations": {"asp-1"},
    "success_measures": {"m-1"},
}
TAXONOMY = schema.load_taxonomy(schema.TAXONOMY_FILE)
CTX = v.Context(taxonomy=TAXONOMY, area_bounds=BOUNDS, known_ids=lambda layer: IDS.get(layer, set()), today=TODAY)

VALID: dict[str, dict] = {
    "assets": {"name": "Firth Park Library", "type": "library", "lon": -1.45, "lat": 53.35},
    "organisations": {"name": "Firth Park Forum", "kind": "voluntary"},
    "organisation_areas": {"organisation_id": "org-1", "boundary_layer": "wards", "area_id": "W1"},
    "aspirations": {
        "boundary_layer": "wards",
        "area_id": "W1",
        "text": "A warm space to eat together in winter",
        "theme": "Food",
        "raised_by": "Firth Park Residents' Forum",
        "raised_on": "2025-01-15",
    },
    "success_measures": {
        "aspiration_id": "asp-1",
        "measure": "people sharing a meal each week",
        "horizon": "short",
        "baseline": 0,
        "target": 60,
        "agreed_by": "Firth Park partnership",
        "agreed_on": "2025-02-10",
    },
    "measure_updates": {"measure_id": "m-1", "value": 4, "recorded_on": "2025-03-01"},
    "stories": {
        "title": "The warm space",
        "summary": "Neighbours opened a warm space in the library.",
        "date": "2025-03-01",
        "source": "Firth Park Forum",
    },
    "taxonomy": {
        "kind": "type",
        "id": "repair_cafe",
        "label": "Repair café",
        "category": "associations",
        "colour": "#00AA11",
    },
}


def check(layer: str, ctx: v.Context = CTX, **changes) -> dict:
    """Validate the layer's valid record with some changes (``None`` values kept, ``...`` removes)."""
    record = {**VALID[layer], **changes}
    return v.validate_record(layer, {k: x for k, x in record.items() if x is not ...}, context=ctx)


def refused(layer: str, error: type[Exception] = v.ValidationError, *, ctx: v.Context = CTX, **changes):
    with pytest.raises(error) as info:
        check(layer, ctx, **changes)
    return info.value


def assert_sentence(exc: v.ValidationError, field: str, *fix: str) -> None:
    """One sentence that starts with the column, says what is wrong and, after '; ', how to fix it."""
    text = str(exc)
    assert exc.field == field
    assert text.startswith(field), text
    assert "; " in text and text.endswith("."), text
    assert text.count(". ") == 0 or "e.g." in text, text
    for part in fix:
        assert part in text, (part, text)


# --------------------------------------------------------------------------------------------
# The API
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("layer", v.LAYERS)
def test_every_layer_accepts_its_valid_record(layer):
    out = check(layer)
    for col in VALID[layer]:
        if col not in ("lon", "lat"):
            assert col in out


def test_the_layers_covered():
    assert set(v.LAYERS) == {
        "assets",
        "organisations",
        "organisation_areas",
        "aspirations",
        "success_measures",
        "measure_updates",
        "stories",
        "taxonomy",
    }


@pytest.mark.parametrize("layer", ["wards", "audit_log", "nonsense"])
def test_layers_without_a_validator_are_refused_naming_the_choices(layer):
    with pytest.raises(SchemaError, match="validate one of: assets"):
        v.validate_record(layer, {}, context=CTX)
    with pytest.raises(SchemaError):
        v.validate_frame(layer, pd.DataFrame(), context=CTX)


def test_errors_are_common_ground_errors_with_the_compatible_bases():
    for cls in (
        v.MissingValueError,
        v.InvalidValueError,
        v.PrivateDetailsError,
        v.UnknownReferenceError,
        v.UnknownAreaError,
        v.UnknownTypeError,
        v.InvalidPostcodeError,
        v.CoordinatesError,
    ):
        assert issubclass(cls, v.ValidationError) and issubclass(cls, CommonGroundError) and issubclass(cls, ValueError)
    assert issubclass(v.CoordinatesError, OutsideAreaError)
    assert issubclass(v.UnknownAreaError, AreaNotFoundError)
    assert issubclass(v.UnknownTypeError, TaxonomyError)
    assert issubclass(v.InvalidPostcodeError, MalformedPostcodeError)


def test_required_columns():
    assert v.required_columns("assets") == ("name", "type", "geometry")
    assert v.required_columns("aspirations") == (
        "boundary_layer",
        "area_id",
        "text",
        "theme",
        "raised_by",
        "raised_on",
    )
    assert "status" not in v.required_columns("aspirations")  # it has a default


REQUIRED = [(layer, col) for layer in v.LAYERS for col in v.required_columns(layer) if col != "geometry"]


@pytest.mark.parametrize(("layer", "column"), REQUIRED)
def test_a_missing_required_value_is_refused_naming_it(layer, column):
    for value in (..., None, "   "):
        exc = refused(layer, v.MissingValueError, **{column: value})
        assert_sentence(exc, column, f"{column} is empty; ")


def test_the_missing_value_sentences_say_how_to_fill_them_in():
    assert "name the group" in str(refused("aspirations", raised_by=""))
    assert "YYYY-MM-DD" in str(refused("aspirations", raised_on=None))
    assert "short, medium, long" in str(refused("success_measures", horizon=...))
    assert "wards, lsoas, neighbourhoods" in str(refused("aspirations", boundary_layer=" "))
    assert "choose a type" in str(refused("assets", type=None))


def test_the_validators_rules_name_only_columns_of_the_data_model():
    for layer, lay in v._LAYERS.items():
        if layer in schema.LAYERS:
            assert set(lay.fields) <= set(schema.layer_spec(layer).columns), layer


def test_schema_columns_without_a_rule_are_checked_by_their_kind(monkeypatch):
    spec = schema.LAYERS["assets"]
    wider = dataclasses.replace(spec, columns={**spec.columns, "capacity": "float", "notes2": "str"})
    monkeypatch.setitem(schema.LAYERS, "assets", wider)
    out = v.validate_record("assets", {"capacity": " 12 ", "notes2": "  x "}, context=CTX, partial=True)
    assert out == {"capacity": 12.0, "notes2": "x"}
    with pytest.raises(v.InvalidValueError, match="capacity 'lots' is not a number"):
        v.validate_record("assets", {"capacity": "lots"}, context=CTX, partial=True)


def test_the_record_is_not_modified_and_extra_columns_pass_through():
    record = {**VALID["assets"], "name": "  Hall  ", "my_source_column": "  keep me  ", "n": 3}
    before = dict(record)
    out = v.validate_record("assets", record, context=CTX)
    assert record == before
    assert out["name"] == "Hall"
    assert out["my_source_column"] == "  keep me  " and out["n"] == 3


def test_a_record_must_be_a_mapping():
    with pytest.raises(TypeError, match="mapping"):
        v.validate_record("assets", [("name", "x")], context=CTX)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Actor
# --------------------------------------------------------------------------------------------


def test_require_actor():
    assert v.require_actor("  officer@example.org ") == "officer@example.org"
    for bad in ("", "   ", None, 5, ["jo"]):
        with pytest.raises(v.MissingValueError, match="give your name or email as the actor") as info:
            v.require_actor(bad)
        assert info.value.field == "actor"
    with pytest.raises(v.InvalidValueError, match="shorten it to 200"):
        v.require_actor("x" * 201)
    assert v.require_actor("x" * 200) == "x" * 200
    with pytest.raises(v.InvalidValueError, match="line break"):
        v.require_actor("Jo\nBloggs")


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------


def test_text_is_stripped_and_empty_text_becomes_none():
    out = check("assets", name="  Hall  ", description="   ", address=None, opening_hours=float("nan"))
    assert out["name"] == "Hall"
    assert out["description"] is None and out["address"] is None and out["opening_hours"] is None


@pytest.mark.parametrize(
    ("layer", "column", "cap"),
    [
        ("assets", "name", 200),
        ("assets", "contributed_by", 200),
        ("organisations", "name", 200),
        ("stories", "title", 200),
        ("aspirations", "raised_by", 200),
        ("assets", "description", 4000),
        ("aspirations", "text", 4000),
        ("stories", "summary", 4000),
        ("stories", "body", 20000),
    ],
)
def test_lengths_are_capped(layer, column, cap):
    assert check(layer, **{column: "x" * cap})[column] == "x" * cap
    exc = refused(layer, v.InvalidValueError, **{column: "x" * (cap + 1)})
    assert_sentence(exc, column, f"is {cap + 1:,} characters long", f"shorten it to {cap:,} characters or fewer")


def test_control_characters_are_refused_everywhere():
    for text in ("Hall\x00", "Hall\x1b[31m", "evil\u202etxt.exe"):
        exc = refused("assets", v.InvalidValueError, name=text)
        assert_sentence(exc, "name", "control characters", "remove them")
        refused("assets", v.InvalidValueError, description=text)


def test_one_line_fields_refuse_line_breaks_but_descriptions_keep_them():
    exc = refused("assets", v.InvalidValueError, name="Firth Park\nLibrary")
    assert_sentence(exc, "name", "line break", "write it on one line")
    refused("aspirations", v.InvalidValueError, raised_by="Forum\r\nof Firth Park")
    assert check("assets", description="Line one.\nLine two.")["description"] == "Line one.\nLine two."


def test_numbers_in_text_columns_become_text():
    out = check("organisations", charity_number=1234567, company_number=7654321.0)
    assert out["charity_number"] == "1234567" and out["company_number"] == "7654321"


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["not-a-date", "15/01/2025", "2025-1-5", "2025-01-15garbage", "yesterday", 20250115])
def test_dates_must_be_written_yyyy_mm_dd(value):
    exc = refused("aspirations", v.InvalidValueError, raised_on=value)
    assert_sentence(exc, "raised_on", "is not a date", "write it as YYYY-MM-DD")


def test_a_date_must_exist_in_the_calendar():
    exc = refused("measure_updates", v.InvalidValueError, recorded_on="2025-02-30")
    assert_sentence(exc, "recorded_on", "not a day of the calendar", "check the month and the day")


def test_dates_may_not_lie_in_the_future():
    exc = refused("success_measures", v.InvalidValueError, agreed_on=TODAY + dt.timedelta(days=1))
    assert_sentence(exc, "agreed_on", "2026-06-02 is in the future", "give the date it happened")
    assert check("success_measures", agreed_on=TODAY)["agreed_on"] == "2026-06-01"
    refused("assets", v.InvalidValueError, verified_on="2030-01-01")


@pytest.mark.parametrize(
    "value",
    [
        dt.date(2025, 1, 15),
        dt.datetime(2025, 1, 15, 10, 30),
        pd.Timestamp("2025-01-15 10:30"),
        " 2025-01-15 ",
        "2025-01-15T10:30:00Z",
        "2025-01-15 10:30:00+01:00",
    ],
)
def test_dates_are_stored_as_iso_text(value):
    assert check("aspirations", raised_on=value)["raised_on"] == "2025-01-15"
    assert check("stories", date=value)["date"] == "2025-01-15"


# --------------------------------------------------------------------------------------------
# Choices
# --------------------------------------------------------------------------------------------


def test_choices_match_ignoring_case_and_spacing():
    assert check("aspirations", status=" In   Progress ")["status"] == "in progress"
    assert check("assets", status="CLOSED")["status"] == "closed"
    assert check("organisations", kind="nhs")["kind"] == "NHS"
    assert check("organisations", kind="Residents\u2019 Group")["kind"] == "residents' group"
    assert check("success_measures", horizon="Long")["horizon"] == "long"
    assert check("taxonomy", kind="TYPE")["kind"] == "type"


@pytest.mark.parametrize(
    ("layer", "column", "value", "choices"),
    [
        ("aspirations", "status", "banana", "open, in progress, achieved, closed"),
        ("assets", "status", "open", "active, closed, pending, removed, rejected"),
        ("organisations", "kind", "charity", "council, NHS, voluntary"),
        ("success_measures", "horizon", "soon", "short, medium, long"),
        ("taxonomy", "kind", "tag", "trait, category, type"),
    ],
)
def test_values_outside_the_choices_are_refused_listing_them(layer, column, value, choices):
    exc = refused(layer, v.InvalidValueError, **{column: value})
    assert_sentence(exc, column, f"{column} {value!r} is not allowed", f"choose one of: {choices}")


def test_statuses_default_for_new_records_only():
    assert check("assets")["status"] == "active"
    assert check("aspirations")["status"] == "open"
    assert "status" not in v.validate_record("assets", {"name": "x"}, context=CTX, partial=True)


def test_aspiration_statuses_match_the_knowledge_module():
    try:
        from geo import community
    except ImportError:  # pragma: no cover - only while geo.store is being reorganised
        pytest.skip("geo.community cannot be imported right now")
    assert tuple(community.ASPIRATION_STATUSES) == v.ASPIRATION_STATUSES


def test_the_writing_modules_use_these_rules_and_errors():
    """editing, knowledge and imports hold no rules of their own: one margin, one set of error classes."""
    from geo import community, editing
    from geo.io import imports

    assert (editing.MissingValueError, editing.InvalidValueError, editing.CoordinatesError) == (
        v.MissingValueError,
        v.InvalidValueError,
        v.CoordinatesError,
    )
    assert community.KnowledgeValidationError is v.ValidationError
    assert (community.PrivateDetailsError, community.UnknownReferenceError, community.UnknownAreaError) == (
        v.PrivateDetailsError,
        v.UnknownReferenceError,
        v.UnknownAreaError,
    )
    assert community.private_details_in is v.private_details_in
    sources = {p.name: p.read_text(encoding="utf-8") for p in (schema.PROJECT_ROOT / "geo").rglob("*.py")}
    assert [name for name, text in sources.items() if re.search(r"^AREA_MARGIN_DEG\s*=", text, re.M)] == [
        "validation.py"
    ]
    for module in (editing, community, imports):
        assert not hasattr(module, "AREA_MARGIN_DEG"), module.__name__


# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------


def test_numbers_become_floats():
    out = check("success_measures", baseline="12", target=np.int64(60), current=" 3.5 ")
    assert out["baseline"] == 12.0 and type(out["baseline"]) is float
    assert out["target"] == 60.0 and type(out["target"]) is float
    assert out["current"] == 3.5
    assert check("measure_updates", value="-1e3")["value"] == -1000.0


@pytest.mark.parametrize("value", ["lots", "12 people", "1_000", "0x10", "nan", True])
def test_things_that_are_not_numbers_are_refused(value):
    exc = refused("success_measures", v.InvalidValueError, target=value)
    assert_sentence(exc, "target", "is not a number", "give a number such as 12 or 3.5")


def test_numbers_with_commas_are_refused_as_ambiguous():
    for value in ("1,500", "1,5"):
        exc = refused("measure_updates", v.InvalidValueError, value=value)
        assert_sentence(exc, "value", "holds a comma", "decimal point and no thousands separator")


def test_numbers_must_be_finite():
    for value in (float("inf"), -np.inf):
        exc = refused("success_measures", v.InvalidValueError, baseline=value)
        assert_sentence(exc, "baseline", "must be a finite number")


def test_a_measures_current_value_starts_at_its_baseline():
    assert check("success_measures", baseline=5)["current"] == 5.0
    assert check("success_measures", baseline=5, current=7)["current"] == 7.0
    out = v.validate_record("success_measures", {"baseline": 5}, context=CTX, partial=True)
    assert "current" not in out


# --------------------------------------------------------------------------------------------
# Postcodes, web addresses
# --------------------------------------------------------------------------------------------


def test_postcodes_are_normalised():
    assert check("assets", postcode=" s58nj ")["postcode"] == "S5 8NJ"
    assert check("assets", postcode="S1  2HE")["postcode"] == "S1 2HE"
    exc = refused("assets", v.InvalidPostcodeError, postcode="banana")
    assert isinstance(exc, MalformedPostcodeError)
    assert_sentence(exc, "postcode", "'banana' is not a UK postcode", "type it like 'S5 8NJ'")


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org",
        "HTTP://Example.org/path?q=1#top",
        "https://www.sheffield.gov.uk/libraries/firth-park",
        "https://example.org/Opening%20hours.pdf",
        "https://example.org/a%2Fb?x=%E2%9C%93",
        "https://example.org:8443/x",
        "https://café.example/menu",
    ],
)
def test_safe_web_addresses_are_accepted(url):
    assert check("assets", url=f"  {url} ")["url"] == url
    assert check("organisations", url=url)["url"] == url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("javascript:alert(1)", "is not a safe web address"),
        ("ftp://example.org/file", "is not a safe web address"),
        ("www.example.org", "is not a safe web address"),
        ("https://exa mple.org", "is not a safe web address"),
        ('https://example.org/"onmouseover="alert(1)', "is not a safe web address"),
        ("https://example.org/'x'", "is not a safe web address"),
        ("https://example.org/<script>", "is not a safe web address"),
        ("https://example.org/a`b", "is not a safe web address"),
        ("https://example.org\\@evil.example", "is not a safe web address"),
        ("https://", "is not a safe web address"),
        ("https://:80/x", "has no host name"),
        ("https://[::1/x", "is not a safe web address"),
        ("https://sheffield.gov.uk@evil.example/", "user name or password"),
        ("https://example.org/%3Cscript%3E", "percent-encoding"),
        ("https://example.org/a%22b", "percent-encoding"),
        ("https://example.org/a%27b", "percent-encoding"),
        ("https://example.org/%253Cscript", "percent-encoding"),
        ("https://example.org/x%0Aheader", "percent-encoding"),
        ("https://example.org/x%5Cy", "percent-encoding"),
        ("https://example.org/50%", "not followed by two hex digits"),
        ("https://example.org/50%zz", "not followed by two hex digits"),
        ("https://example.org/\nx", "line break"),
    ],
)
def test_unsafe_web_addresses_are_refused(url, why):
    exc = refused("assets", v.InvalidValueError, url=url)
    assert_sentence(exc, "url", why)
    if why == "is not a safe web address":
        assert "starts with https://" in str(exc)


# --------------------------------------------------------------------------------------------
# Asset types
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "type_id"),
    [
        ("library", "library"),
        ("Library", "library"),
        ("community centre", "community_centre"),
        ("Community-Centre", "community_centre"),
        ("Park or green space", "park"),
    ],
)
def test_asset_types_are_found_by_id_or_label(given, type_id):
    out = check("assets", type=given)
    assert out["type"] == type_id
    assert out["category"] == TAXONOMY.types[type_id].category


def test_unknown_types_are_refused_listing_the_choices():
    exc = refused("assets", v.UnknownTypeError, type="pub")
    assert isinstance(exc, TaxonomyError)
    assert_sentence(exc, "type", "'pub' is not an asset type of the taxonomy", "choose one of: allotment, ")


def test_types_of_unmappable_categories_are_refused():
    assert not TAXONOMY.categories[TAXONOMY.types["skill_share"].category].mappable
    exc = refused("assets", v.InvalidValueError, type="skill_share")
    assert_sentence(exc, "type", "never mapped to a place", "choose a type whose category is mapped")


def test_the_category_follows_the_type():
    assert check("assets", type="park", category="economic")["category"] == "physical"
    out = v.validate_record("assets", {"type": "museum"}, context=CTX, partial=True)
    assert out == {"type": "museum", "category": "culture"}
    with pytest.raises(v.InvalidValueError, match="category follows from the type; set type instead") as info:
        v.validate_record("assets", {"category": "culture"}, context=CTX, partial=True)
    assert info.value.field == "category"


def test_types_added_to_the_taxonomy_are_accepted():
    doc = {
        "traits": {"sense_of_place": "Sense of place"},
        "categories": [{"id": "physical", "label": "Physical", "colour": "#2e7d32"}],
        "types": [{"id": "bench", "label": "Bench", "category": "physical", "colour": "#2e7d32"}],
    }
    ctx = dataclasses.replace(CTX, taxonomy=schema.parse_taxonomy(doc))
    assert check("assets", ctx, type="Bench")["category"] == "physical"
    refused("assets", v.UnknownTypeError, ctx=ctx, type="library")


# --------------------------------------------------------------------------------------------
# Groups, not people
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("jo.bloggs@example.com", "an email address"),
        ("Contact Jo on 0114 496 0123", "a phone number"),
        ("+44 (0)7700 900123", "a phone number"),
        ("Firth Park Residents' Forum", None),
        ("Since 2019, 40 members", None),
        (None, None),
        ("", None),
    ],
)
def test_private_details_in(text, found):
    assert v.private_details_in(text) == found


@pytest.mark.parametrize(
    ("layer", "column", "value", "found"),
    [
        ("aspirations", "raised_by", "jo.bloggs@example.com", "an email address"),
        ("aspirations", "raised_by", "Jo, 0114 496 0123", "a phone number"),
        ("success_measures", "agreed_by", "ring 07700 900123", "a phone number"),
    ],
)
def test_group_columns_refuse_contact_details(layer, column, value, found):
    exc = refused(layer, v.PrivateDetailsError, **{column: value})
    assert_sentence(exc, column, f"looks like it holds {found}", "name the group or organisation instead")


def test_the_group_columns_are_the_ones_documented():
    groups = {
        layer: tuple(c for c, r in lay.fields.items() if r.kind == "group")
        for layer, lay in v._LAYERS.items()
        if any(r.kind == "group" for r in lay.fields.values())
    }
    assert groups == v.GROUP_COLUMNS == {"aspirations": ("raised_by",), "success_measures": ("agreed_by",)}


def test_people_columns_may_hold_who_contributed_or_recorded():
    assert check("assets", contributed_by="jo@example.org")["contributed_by"] == "jo@example.org"
    assert check("measure_updates", recorded_by="officer@example.org")["recorded_by"] == "officer@example.org"
    assert check("organisations", public_contact="0114 273 4567")["public_contact"] == "0114 273 4567"


# --------------------------------------------------------------------------------------------
# Themes and lists of ids
# --------------------------------------------------------------------------------------------


def test_themes_are_normalised():
    assert (
        check("aspirations", theme=" Health ,food;  Mental   HEALTH, health,")["theme"] == "health, food, mental health"
    )
    assert check("organisations", themes=["Food ", "food", "Green  Space"])["themes"] == "food, green space"
    exc = refused("aspirations", v.MissingValueError, theme=" , ;")
    assert_sentence(exc, "theme", "theme is empty", "say what it is about")


def test_id_lists_are_normalised_and_checked():
    assert check("aspirations", asset_ids=" a-1, a-2 ,a-1,")["asset_ids"] == "a-1, a-2"
    assert check("stories", asset_ids=["a-2", "a-1"], organisation_ids=("org-1",))["asset_ids"] == "a-2, a-1"
    assert check("stories", asset_ids="")["asset_ids"] is None
    exc = refused("aspirations", v.UnknownReferenceError, asset_ids="a-1, zzz")
    assert_sentence(exc, "asset_ids", "names an unknown assets id 'zzz'", "import it first")
    exc = refused("stories", v.UnknownReferenceError, organisation_ids="org-1, org-9")
    assert_sentence(exc, "organisation_ids", "unknown organisations id 'org-9'")


def test_ids_hold_no_comma_nor_line_break():
    exc = refused("assets", v.InvalidValueError, id="a,b")
    assert_sentence(exc, "id", "holds a comma", "lists of ids are comma-separated")
    refused("assets", v.InvalidValueError, id="a\nb")
    assert check("assets", id="  E05010868 ")["id"] == "E05010868"


# --------------------------------------------------------------------------------------------
# Links between layers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "column", "target"),
    [
        ("success_measures", "aspiration_id", "aspirations"),
        ("measure_updates", "measure_id", "success_measures"),
        ("organisation_areas", "organisation_id", "organisations"),
        ("assets", "organisation_id", "organisations"),
    ],
)
def test_links_must_name_rows_that_exist(layer, column, target):
    exc = refused(layer, v.UnknownReferenceError, **{column: "no-such-id"})
    assert_sentence(
        exc, column, f"names an unknown {target} id 'no-such-id'", f"use the id of one of the store's {target}"
    )
    known = sorted(IDS[target])[0]
    assert check(layer, **{column: known})[column] == known


def test_areas_must_be_areas_of_their_boundary_layer():
    exc = refused("aspirations", v.UnknownAreaError, area_id="E99999999")
    assert isinstance(exc, AreaNotFoundError)
    assert_sentence(exc, "area_id", "'E99999999' is not an area of wards", "use the id of one of its areas")
    refused("organisation_areas", v.UnknownAreaError, area_id="N1")  # an area of another layer
    assert (
        check("organisation_areas", boundary_layer="Neighbourhoods", area_id="N1")["boundary_layer"] == "neighbourhoods"
    )
    exc = refused("aspirations", v.UnknownAreaError, boundary_layer="zones")
    assert_sentence(exc, "boundary_layer", "'zones' is not one of wards, lsoas, neighbourhoods", "choose one of them")


def test_an_area_is_given_whole():
    assert check("stories").get("area_id") is None  # optional for stories and measures
    assert check("stories", boundary_layer="wards", area_id="W2")["area_id"] == "W2"
    exc = refused("stories", v.MissingValueError, area_id="W2")
    assert_sentence(exc, "boundary_layer", "give boundary_layer and area_id together")
    exc = refused("success_measures", v.MissingValueError, boundary_layer="wards")
    assert exc.field == "area_id"
    with pytest.raises(v.MissingValueError) as info:
        v.validate_record("aspirations", {"area_id": "W1"}, context=CTX, partial=True)
    assert info.value.field == "boundary_layer"


def test_without_known_ids_links_are_not_checked():
    ctx = dataclasses.replace(CTX, known_ids=None)
    assert check("aspirations", ctx, area_id="anything", asset_ids="any")["area_id"] == "anything"
    refused("aspirations", v.UnknownAreaError, ctx=ctx, boundary_layer="zones")  # still one of the layers


def test_known_ids_is_asked_once_per_layer():
    asked: list[str] = []

    def known_ids(layer: str) -> set[str]:
        asked.append(layer)
        return IDS.get(layer, set())

    ctx = dataclasses.replace(CTX, known_ids=known_ids)
    frame = pd.DataFrame([{**VALID["aspirations"], "asset_ids": "a-1"}] * 100)
    _, errors = v.validate_frame("aspirations", frame, context=ctx)
    assert errors == []
    assert sorted(asked) == ["assets", "wards"]


# --------------------------------------------------------------------------------------------
# Points
# --------------------------------------------------------------------------------------------


def test_points_become_a_geometry():
    out = check("assets", lon="-1.45", lat=" 53.35 ")
    assert "lon" not in out and "lat" not in out
    assert out["geometry"].equals(Point(-1.45, 53.35))
    out = check("assets", lon=..., lat=..., geometry=Point(-1.42, 53.31, 80))
    assert out["geometry"].equals(Point(-1.42, 53.31)) and not out["geometry"].has_z
    out = check("assets", lon=..., lat=..., geometry=MultiPoint([(-1.42, 53.31)]))
    assert out["geometry"].geom_type == "Point"


def test_swapped_coordinates_are_refused_saying_so():
    exc = refused("assets", v.CoordinatesError, lon=53.35, lat=-1.45)
    assert isinstance(exc, OutsideAreaError)
    assert_sentence(exc, "geometry", "looks swapped", "give the longitude first (lon -1.45, lat 53.35)")


def test_points_outside_the_area_are_refused():
    exc = refused("assets", v.CoordinatesError, lon=-0.1276, lat=51.5072)
    assert_sentence(exc, "geometry", "outside this store's area", "check the coordinates (longitude first)")
    refused("stories", v.CoordinatesError, lon=-0.1276, lat=51.5072)
    refused("organisations", v.CoordinatesError, geometry=Point(2.35, 48.85))


def test_one_margin_around_the_area():
    assert v.AREA_MARGIN_DEG == 0.05
    maxx, maxy = BOUNDS[2], BOUNDS[3]
    assert check("assets", lon=maxx + 0.049, lat=maxy + 0.049)["geometry"] is not None
    refused("assets", v.CoordinatesError, lon=maxx + 0.051, lat=53.35)
    refused("assets", v.CoordinatesError, lon=-1.45, lat=BOUNDS[1] - 0.051)


def test_without_bounds_points_must_be_degrees():
    ctx = dataclasses.replace(CTX, area_bounds=None)
    assert check("assets", ctx, lon=-0.1276, lat=51.5072)["geometry"].equals(Point(-0.1276, 51.5072))
    exc = refused("assets", v.CoordinatesError, ctx=ctx, lon=-1.45, lat=95)
    assert_sentence(exc, "geometry", "not a longitude/latitude in degrees")
    assert "longitude first" in str(refused("assets", v.CoordinatesError, ctx=ctx, lon=200, lat=53.3))


@pytest.mark.parametrize("value", ["west", True, "1,5"])
def test_coordinates_must_be_numbers(value):
    exc = refused("assets", v.CoordinatesError, lon=value)
    assert exc.field == "lon" and "-1.47" in str(exc)


def test_coordinates_must_be_finite():
    exc = refused("assets", v.CoordinatesError, lon=float("inf"))
    assert_sentence(exc, "geometry", "not a finite number")
    refused("assets", v.CoordinatesError, geometry=Point(float("nan"), 53.3), lon=..., lat=...)


def test_lon_and_lat_come_together():
    exc = refused("assets", v.MissingValueError, lat=None)
    assert_sentence(exc, "lat", "give both lon and lat")
    with pytest.raises(v.MissingValueError) as info:
        v.validate_record("assets", {"lon": -1.45}, context=CTX, partial=True)
    assert info.value.field == "lat"


def test_a_point_is_given_one_way_only():
    exc = refused("assets", v.InvalidValueError, geometry=Point(-1.45, 53.35))
    assert_sentence(exc, "geometry", "both given", "give the point one way only")


def test_other_geometries_are_refused():
    square = Polygon([(-1.45, 53.35), (-1.44, 53.35), (-1.44, 53.36), (-1.45, 53.35)])
    exc = refused("assets", v.InvalidValueError, lon=..., lat=..., geometry=square)
    assert_sentence(exc, "geometry", "is a Polygon, but assets are points")
    refused("assets", v.InvalidValueError, lon=..., lat=..., geometry="POINT (-1.45 53.35)")


def test_assets_need_a_point_and_others_may_have_one():
    exc = refused("assets", v.MissingValueError, lon=..., lat=...)
    assert_sentence(exc, "geometry", "geometry is empty", "lon and lat")
    refused("assets", v.MissingValueError, lon=None, lat=None)
    assert check("organisations")["geometry"] is None
    assert check("stories", lon=-1.41, lat=53.39)["geometry"].equals(Point(-1.41, 53.39))
    assert "geometry" not in v.validate_record("assets", {"name": "x"}, context=CTX, partial=True)
    moved = v.validate_record("assets", {"lon": -1.41, "lat": 53.39}, context=CTX, partial=True)
    assert moved == {"geometry": Point(-1.41, 53.39)}


def test_context_checks_its_bounds():
    with pytest.raises(SchemaError, match="area_bounds"):
        v.Context(taxonomy=TAXONOMY, area_bounds=(-1.4, 53.3, -1.5, 53.4))
    with pytest.raises(SchemaError):
        v.Context(taxonomy=TAXONOMY, area_bounds=(float("nan"), 53.3, -1.4, 53.4))
    assert v.Context(taxonomy=TAXONOMY).today == dt.date.today()


# --------------------------------------------------------------------------------------------
# Stamps
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stamp", v.STAMP_COLUMNS)
def test_stamps_are_refused_from_callers(stamp):
    exc = refused("aspirations", v.InvalidValueError, **{stamp: "2025-01-01T00:00:00Z"})
    assert_sentence(exc, stamp, "set by the store", "leave it out")
    assert stamp not in check("aspirations", **{stamp: None})


def test_stamps_are_dropped_from_frames():
    frame = pd.DataFrame([{**VALID["measure_updates"], "created_by": "x", "version": 3, "updated_at": "t"}])
    out, errors = v.validate_frame("measure_updates", frame, context=CTX)
    assert errors == []
    assert not set(v.STAMP_COLUMNS) & set(out.columns)


# --------------------------------------------------------------------------------------------
# Partial updates
# --------------------------------------------------------------------------------------------


def test_partial_updates_check_only_the_fields_given():
    assert v.validate_record("assets", {"name": "  New name "}, context=CTX, partial=True) == {"name": "New name"}
    assert v.validate_record("aspirations", {"status": "Achieved"}, context=CTX, partial=True) == {"status": "achieved"}
    assert v.validate_record("taxonomy", {"colour": "#ABCDEF"}, context=CTX, partial=True) == {"colour": "#abcdef"}
    with pytest.raises(v.InvalidValueError) as info:
        v.validate_record("aspirations", {"raised_on": "not-a-date"}, context=CTX, partial=True)
    assert info.value.field == "raised_on"


def test_partial_updates_cannot_empty_a_required_field():
    for layer, column in (("assets", "name"), ("assets", "type"), ("aspirations", "raised_by"), ("assets", "status")):
        with pytest.raises(v.MissingValueError) as info:
            v.validate_record(layer, {column: "  "}, context=CTX, partial=True)
        assert_sentence(info.value, column, f"{column} is empty")
    assert v.validate_record("assets", {"description": ""}, context=CTX, partial=True) == {"description": None}


def test_the_first_problem_in_column_order_is_raised():
    with pytest.raises(v.ValidationError) as info:
        check("aspirations", status="banana", raised_on="not-a-date", text="")
    assert info.value.field == "text"


# --------------------------------------------------------------------------------------------
# The taxonomy layer
# --------------------------------------------------------------------------------------------


def test_taxonomy_rows():
    out = check("taxonomy", traits="sense_of_place, active_citizens", themes="Repair, Waste")
    assert out["colour"] == "#00aa11" and out["icon"] == "circle"
    assert out["traits"] == "sense_of_place, active_citizens" and out["themes"] == "repair, waste"
    assert check("taxonomy", kind="trait", id="green_skills", category=..., colour=...)["id"] == "green_skills"
    assert check("taxonomy", kind="category", id="digital", category=..., mappable="no")["mappable"] is False
    assert check("taxonomy", icon="screwdriver-wrench")["icon"] == "screwdriver-wrench"


@pytest.mark.parametrize(
    ("changes", "error", "field", "text"),
    [
        ({"id": "Repair Cafe"}, v.InvalidValueError, "id", "lower-case letters, digits and underscores"),
        ({"category": "hobbies"}, v.UnknownReferenceError, "category", "is not a category of the taxonomy"),
        ({"category": ...}, v.MissingValueError, "category", "a type needs the category it belongs to"),
        ({"colour": "red"}, v.InvalidValueError, "colour", "write it as #rrggbb"),
        ({"colour": "#12345"}, v.InvalidValueError, "colour", "is not a hex colour"),
        ({"colour": ...}, v.MissingValueError, "colour", "colour is empty"),
        ({"kind": "category", "category": ..., "colour": None}, v.MissingValueError, "colour", "colour is empty"),
        ({"traits": "kindness"}, v.UnknownReferenceError, "traits", "'kindness', which is not a trait"),
        ({"icon": "<svg>"}, v.InvalidValueError, "icon", "Font Awesome name"),
        ({"mappable": "maybe"}, v.InvalidValueError, "mappable", "write true or false"),
        ({"label": None}, v.MissingValueError, "label", "label is empty"),
    ],
)
def test_bad_taxonomy_rows_are_refused(changes, error, field, text):
    exc = refused("taxonomy", error, **changes)
    assert_sentence(exc, field, text)


def test_a_taxonomy_frame_may_define_a_category_before_its_types():
    rows = [
        {"kind": "trait", "id": "care", "label": "Care"},
        {"kind": "category", "id": "digital", "label": "Digital", "colour": "#123456"},
        {
            "kind": "type",
            "id": "laptop_loan",
            "label": "Laptop loan",
            "category": "digital",
            "colour": "#123456",
            "traits": "care",
        },
        {"kind": "type", "id": "repair_cafe", "label": "Repair café", "category": "makers", "colour": "#123456"},
        {"kind": "type", "id": "laptop_loan", "label": "Again", "category": "digital", "colour": "#123456"},
    ]
    out, errors = v.validate_frame("taxonomy", pd.DataFrame(rows), context=CTX)
    assert errors == [
        "row 4: category 'makers' is not a category of the taxonomy; choose one of: associations, culture, digital, "
        "economic, institutions, physical, skills (or add the category first)",
        "row 5: kind 'type' and id 'laptop_loan' already appear on row 3; give every row its own, or merge the two rows",
    ]
    assert list(out["icon"]) == [None, None, "circle", "circle", "circle"]


# --------------------------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------------------------


def _aspirations(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame([{**VALID["aspirations"], "id": f"asp-{i + 10}"} for i in range(n)])


def test_a_valid_frame_is_cleaned_on_its_own_index_and_never_modified():
    frame = _aspirations(3)
    frame.index = [10, 20, 30]
    frame["theme"] = [" Food", "FOOD, health", "food;food"]
    frame["raised_on"] = ["2025-01-15", dt.date(2025, 1, 16), "2025-01-17T09:00:00"]
    frame["source_column"] = ["a", None, 3]
    before = frame.copy()
    out, errors = v.validate_frame("aspirations", frame, context=CTX)
    assert errors == []
    pd.testing.assert_frame_equal(frame, before)
    assert list(out.index) == [10, 20, 30]
    assert list(out["theme"]) == ["food", "food, health", "food"]
    assert list(out["raised_on"]) == ["2025-01-15", "2025-01-16", "2025-01-17"]
    assert list(out["status"]) == ["open"] * 3
    assert list(out["source_column"]) == ["a", None, 3]


@pytest.mark.parametrize("rows", [5, 100])  # small frames go value by value, large ones by distinct value
@pytest.mark.parametrize(("column", "value"), [("raised_on", "not-a-date"), ("status", "banana")])
def test_imports_refuse_what_the_api_refuses_with_the_same_sentence(column, value, rows):
    with pytest.raises(v.InvalidValueError) as info:
        check("aspirations", **{column: value})
    frame = _aspirations(rows)
    frame.loc[3, column] = value
    out, errors = v.validate_frame("aspirations", frame, context=CTX)
    assert errors == [f"row 4: {str(info.value)[:-1]}"]
    assert out.loc[3, column] == value  # what was given is kept where it failed


def test_frame_errors_are_numbered_by_row_and_ordered():
    frame = _aspirations(4)
    frame.loc[1, "raised_on"] = "not-a-date"
    frame.loc[1, "status"] = "banana"
    frame.loc[3, "raised_by"] = "jo.bloggs@example.com"
    frame.loc[0, "area_id"] = "E99999999"
    _, errors = v.validate_frame("aspirations", frame, context=CTX)
    assert errors == [
        "row 1: area_id 'E99999999' is not an area of wards; use the id of one of its areas (e.g. a ward's E05 code)",
        "row 2: raised_on 'not-a-date' is not a date; write it as YYYY-MM-DD, e.g. 2025-03-14",
        "row 2: status 'banana' is not allowed; choose one of: open, in progress, achieved, closed, pending, rejected, withdrawn",
        "row 4: raised_by looks like it holds an email address; name the group or organisation instead, never a "
        "private person's contact details",
    ]


def test_a_missing_required_column_is_one_problem_for_the_frame():
    frame = _aspirations(30).drop(columns=["raised_on"])
    _, errors = v.validate_frame("aspirations", frame, context=CTX)
    assert errors == [
        "every row needs raised_on, and there is no raised_on column; add one (give the date as YYYY-MM-DD, "
        "e.g. 2025-03-14)"
    ]
    out, errors = v.validate_frame("aspirations", frame.iloc[0:0], context=CTX)
    assert errors == [] and len(out) == 0


def test_frame_errors_are_capped():
    frame = _aspirations(100)
    frame["status"] = "banana"
    _, errors = v.validate_frame("aspirations", frame, context=CTX)
    assert len(errors) == v.MAX_FRAME_ERRORS + 1
    assert errors[0].startswith("row 1: status 'banana'") and errors[19].startswith("row 20: ")
    assert errors[-1] == "and 80 more problems; fix these and check the file again to see them"


def test_duplicate_ids_and_columns_in_a_frame():
    frame = _aspirations(3)
    frame.loc[2, "id"] = "asp-10"
    _, errors = v.validate_frame("aspirations", frame, context=CTX)
    assert errors == ["row 3: id 'asp-10' already appears on row 1; give every row its own, or merge the two rows"]
    links = pd.DataFrame([VALID["organisation_areas"]] * 2)
    _, errors = v.validate_frame("organisation_areas", links, context=CTX)
    assert errors and errors[0].startswith("row 2: organisation_id 'org-1' and boundary_layer 'wards' and area_id 'W1'")
    twice = pd.concat([_aspirations(1), _aspirations(1)[["text"]]], axis=1)
    _, errors = v.validate_frame("aspirations", twice, context=CTX)
    assert errors == ["the column 'text' appears more than once; keep one of them"]


def test_frames_with_lon_lat_columns_become_geodataframes():
    frame = pd.DataFrame(
        {
            "name": ["A", "B", "C"],
            "type": ["library", "Park or green space", "pub"],
            "lon": [-1.45, -1.41, 53.4],
            "lat": [53.35, 53.31, -1.45],
        }
    )
    out, errors = v.validate_frame("assets", frame, context=CTX)
    assert isinstance(out, gpd.GeoDataFrame) and out.crs.to_epsg() == 4326
    assert "lon" not in out.columns and "lat" not in out.columns
    assert out.geometry.iloc[0].equals(Point(-1.45, 53.35))
    assert list(out["category"]) == ["institutions", "physical", None]
    assert list(out["status"]) == ["active"] * 3
    assert errors[0].startswith("row 3: type 'pub' is not an asset type") and "looks swapped" in errors[1]


def test_geodataframes_are_reprojected_and_need_a_crs():
    points = gpd.GeoDataFrame(
        {"name": ["A", "B"], "type": ["library", "park"]},
        geometry=[Point(-1.45, 53.35), Point(-1.41, 53.39)],
        crs=4326,
    )
    out, errors = v.validate_frame("assets", points.to_crs(27700), context=CTX)
    assert errors == [] and out.crs.to_epsg() == 4326
    assert out.geometry.iloc[0].distance(Point(-1.45, 53.35)) < 1e-7
    _, errors = v.validate_frame("assets", points.set_crs(None, allow_override=True), context=CTX)
    assert errors[0].startswith("geometry has no CRS; say which CRS")
    _, errors = v.validate_frame("assets", pd.DataFrame(points.drop(columns="geometry")), context=CTX)
    assert errors == [
        "every row needs a point, and there is no geometry (nor lon and lat columns); give each row's position as "
        "lon and lat (longitude first)"
    ]
    far = points.copy()
    far.loc[1, "geometry"] = Point(-0.13, 51.5)
    _, errors = v.validate_frame("assets", far, context=CTX)
    assert len(errors) == 1 and errors[0].startswith("row 2: geometry (lon -0.13, lat 51.5) is outside this store")


def test_optional_points_in_frames():
    stories = pd.DataFrame([VALID["stories"]] * 2)
    out, errors = v.validate_frame("stories", stories, context=CTX)
    assert errors == [] and isinstance(out, gpd.GeoDataFrame) and out.geometry.isna().all()


# --------------------------------------------------------------------------------------------
# One record and a frame of records give the same answers (large frames take a faster path)
# --------------------------------------------------------------------------------------------

TRICKY = {
    "name": [
        "  plain  ",
        "",
        "   ",
        None,
        float("nan"),
        "a\x00b",
        "line\nbreak",
        "tab\tinside",
        "x" * 200,
        "y" * 201,
        12,
        12.5,
        "café",
        "\u202eevil",
        "a,b",
        " \x1c ",
        "u\u2028v",
        np.str_(" numpy "),
    ],
    "description": ["ok", " two\nlines ", "z" * 4000, "w" * 4001, "bell\x07", 7.0, "\r\n"],
    "id": [" id-1 ", "id,2", "id\n3", "i" * 201, 44, "id-5", "  "],
    "organisation_id": ["org-1", " org-2 ", "org-9", "org,1", None],
    "postcode": [
        "s58nj",
        " S1  2HE ",
        "banana",
        "S5\n8NJ",
        "sw1a1aa",
        "S1 2HE 3",
        "",
        12345,
        "\u00df1 2AB",
        "S1\x002HE",
    ],
    "url": [
        "https://example.org",
        " http://EXAMPLE.org/a?b=c#d ",
        "https://example.org/%3C",
        "https://x.org/a%20b",
        "https://example.org:99999/",
        "https://example.org:8080/p",
        "javascript:alert(1)",
        "https://u@x.org",
        "https://x.org/\u00e9",
        "https://x.org/a b",
        "https://x.org/" + "p" * 4000,
        "https://x.org/\x7f",
    ],
    "status": ["Active", " closed ", "banana", "PENDING", "", 1, True],
    "verified_on": ["2025-01-15", "2025-02-30", "not-a-date", " 2025-01-15T10:00 ", "2027-01-01", "", 2025],
    "type": ["Library", "park", "pub", "skill_share", "community centre", 3],
}
#: Columns of text only (and missing values) are checked once per distinct value.
TEXT_ONLY = {
    "status": ["Active", " closed ", "banana", "PENDING", "", None, float("nan"), "  "],
    "verified_on": ["2025-01-15", "2025-02-30", "not-a-date", " 2025-01-15T10:00 ", "2027-01-01", "", None],
    "type": ["Library", "park", "pub", "skill_share", "community centre", " Park or green space "],
    "contributed_by": [None] * 3 + ["Jo"],
}
GOOD_URLS = [
    "https://example.org",
    "HTTP://EXAMPLE.org/a?b=c#d",
    "https://x.org:8080",
    "https://x.org#top",
    "http://x.org?q",
]
CASES = [
    *TRICKY.items(),
    *TEXT_ONLY.items(),
    ("url", GOOD_URLS),
    ("url", [*GOOD_URLS, "https://example.org:99999/"]),
    ("url", [*GOOD_URLS, "https://example.org/a b"]),
    ("url", [*GOOD_URLS, "https://example.org\nhttps://x.org"]),
    ("url", [*GOOD_URLS, "https://ex_ample.org/", "https://x.org/%3C"]),
]


@pytest.mark.parametrize(("column", "values"), CASES, ids=[f"{c}-{i}" for i, (c, _) in enumerate(CASES)])
def test_a_frame_gives_the_same_answers_as_each_record(column, values, monkeypatch):
    monkeypatch.setattr(v, "MAX_FRAME_ERRORS", 10_000)
    rows = []
    for i in range(80):  # more rows than the fast path's threshold
        value = values[i % len(values)]
        row = {"name": f"Asset {i}", "type": "library", "lon": -1.45, "lat": 53.35, "id": f"id-{i + 100}"}
        if column == "id" and i >= len(values):
            value = f"more-{i}"
        row[column] = value
        rows.append(row)
    assert len(rows) >= v._VECTOR_MIN_ROWS
    frame = pd.DataFrame(rows)
    frame[column] = pd.Series([r[column] for r in rows], dtype=object)
    out, errors = v.validate_frame("assets", frame, context=CTX)
    by_row: dict[int, list[str]] = {}
    for e in errors:
        m = re.match(r"row (\d+): (.*)", e)
        assert m, e
        by_row.setdefault(int(m.group(1)) - 1, []).append(m.group(2))
    for i, row in enumerate(rows):
        try:
            expected = v.validate_record("assets", row, context=CTX)
        except v.ValidationError as exc:
            assert by_row.get(i) == [str(exc)[:-1]], (i, row[column])
        else:
            assert i not in by_row, (i, row[column], by_row.get(i))
            got = out.iloc[i][column]
            assert got == expected[column] or (got is None and expected[column] is None), (i, row[column], got)


def test_validate_frame_takes_a_dataframe():
    with pytest.raises(TypeError, match="DataFrame"):
        v.validate_frame("assets", [{"name": "x"}], context=CTX)  # type: ignore[arg-type]
