"""What leaves the app for the public stays text and withdraws when it should: formula-safe tables,
Markdown with nothing clickable, KML names and extended data escaped for HTML viewers, popup
details published per generation of the assets layer and withdrawn at once."""

from __future__ import annotations

import html
import json
import re
import threading
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from geo import schema, textsafe
from geo.io import exports
from geo.textsafe import WORD_JOINER, defuse_formula, markdown_literal, restore_formula, table_safe
from geo.web import maps, webassets

HOSTILE_IMG = "<img src=x onerror=alert(1)>"
HOSTILE_JINJA = "{{7*7}}"
HOSTILE_FORMULA = '=HYPERLINK("http://evil","x")'
#: The columns that name people (geo.schema.PERSONAL_COLUMNS): never in a public file.
PEOPLE = ("created_by", "updated_by", "contributed_by", "raised_by", "agreed_by", "recorded_by")


# --------------------------------------------------------------------------------------------
# The formula guard
# --------------------------------------------------------------------------------------------

FORMULAS = [
    "=1+1",
    "+1",
    "-1",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    HOSTILE_FORMULA,
    "'=already quoted",
    "''@twice",
    "'-3",
]
NOT_FORMULAS = ["plain", "", "1-2", "a=b", "'plain", " =1"]


@pytest.mark.parametrize("value", FORMULAS)
def test_formula_text_is_defused_and_restored(value):
    out = defuse_formula(value)
    assert out == "'" + value
    assert restore_formula(out) == value


@pytest.mark.parametrize("value", [*NOT_FORMULAS, -3, -2.5, 0, None, np.nan, pd.NA, True])
def test_other_values_pass_unchanged(value):
    assert defuse_formula(value) is value
    assert restore_formula(value) is value


def test_the_formula_guard_has_one_home():
    """Exports defuse and reading an upload restores with geo.textsafe's functions, not copies of them."""
    from geo.io import reading

    assert reading.restore_formula is textsafe.restore_formula
    assert exports.defuse_formula is defuse_formula and exports.table_safe is table_safe


def _table() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["a", "b", "c"],
            "name": [HOSTILE_FORMULA, "Library", None],
            "notes": pd.array(["-3", "+44 114 000", pd.NA], dtype="string"),
            "kind": pd.Categorical(["=cmd|' /C calc'!A0", "park", "park"]),
            "count": [-3, 4, -1],
            "score": [-2.5, np.nan, 1.0],
            "flag": [True, False, True],
            "=SUM(1)": ["x", "y", "z"],
        },
        geometry=[Point(-1.47, 53.38), Point(-1.46, 53.39), None],
        crs=schema.STORAGE_CRS,
    )


def test_table_safe_defuses_every_text_cell_and_drops_geometry():
    frame = _table()
    frame["outline"] = gpd.GeoSeries([Point(0, 0), None, None], crs=schema.STORAGE_CRS)
    before = frame.copy()
    out = table_safe(frame)
    assert type(out) is pd.DataFrame
    assert "geometry" not in out.columns and "outline" not in out.columns
    assert out["name"].tolist()[:2] == ["'" + HOSTILE_FORMULA, "Library"] and out["name"].isna().iloc[2]
    assert out["name"].dtype == frame["name"].dtype
    assert out["notes"].dtype == frame["notes"].dtype  # pandas strings stay pandas strings
    assert out["notes"].tolist()[:2] == ["'-3", "'+44 114 000"] and out["notes"].isna().iloc[2]
    assert out["kind"].tolist() == ["'=cmd|' /C calc'!A0", "park", "park"]
    assert isinstance(out["kind"].dtype, pd.CategoricalDtype)
    # numbers are not text: negative numbers stay numbers
    assert out["count"].tolist() == [-3, 4, -1] and out["count"].dtype == frame["count"].dtype
    assert out["score"].iloc[0] == -2.5 and out["flag"].tolist() == [True, False, True]
    assert "'=SUM(1)" in out.columns  # the header line of a downloaded CSV
    assert out["id"].tolist() == ["a", "b", "c"]
    pd.testing.assert_frame_equal(pd.DataFrame(frame), pd.DataFrame(before))  # the input is untouched


def test_table_safe_csv_has_no_formula_cells():
    raw = table_safe(_table()).to_csv(index=False)
    for line in raw.splitlines():
        for cell in line.split(","):
            cell = cell.strip('"')
            if cell[:1] in ("=", "+", "-", "@") and not re.fullmatch(r"-?\d+(\.\d+)?", cell):
                raise AssertionError(f"a spreadsheet would run {cell!r}")


def test_table_safe_of_a_plain_frame_and_text_index():
    frame = pd.DataFrame({"v": [1, 2]}, index=pd.Index(["=a", "b"], name="area"))
    out = table_safe(frame)
    assert out.index.tolist() == ["'=a", "b"] and out["v"].tolist() == [1, 2]
    assert table_safe(pd.DataFrame()).empty


# --------------------------------------------------------------------------------------------
# Markdown shows the text, with nothing clickable
# --------------------------------------------------------------------------------------------

# The patterns remark-gfm (mdast-util-gfm-autolink-literal, Streamlit 1.67's renderer) uses to find
# links in text after escapes are resolved; JavaScript's \w is ASCII.
GFM_URL = re.compile(r"(https?://|www(?=\.))([-.\w]+)([^ \t\r\n]*)", re.IGNORECASE | re.ASCII)
GFM_EMAIL = re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)", re.ASCII)
EMOJI = re.compile(r":[\w+-]+:", re.ASCII)
MARKDOWN_HOSTILE = [
    HOSTILE_FORMULA,
    "http://evil.example",
    "HTTPS://EVIL.EXAMPLE/x?y=1",
    "www.evil.example",
    "WwW.Evil.Example",
    "[x](http://evil)",
    "<http://evil>",
    "someone@evil.example",
    "mailto:someone@evil.example",
    "xmpp:me@evil.example",
    "![img](http://evil/x.png)",
    "[ref]\n\n[ref]: http://evil",
    ":smile: $x^2$ :red[hi] :material/home: ~~s~~ **b** _i_ `c`",
    "&lt;script&gt; &amp; <b>bold</b> " + HOSTILE_IMG,
    "# heading\n1. item\n- item\n> quote\n\n| a | b |\n|---|---|",
    "x\n===",
    "back\\slash\\",
]
ASCII_PUNCTUATION = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _resolved(markdown: str) -> str:
    """The text CommonMark makes of ``markdown`` (escapes resolved, hard breaks as newlines)."""
    text = markdown.replace("\\\n", "\n")
    return re.sub(r"\\(.)", r"\1", text)


@pytest.mark.parametrize("text", MARKDOWN_HOSTILE)
def test_markdown_literal_leaves_nothing_to_link_or_format(text):
    md = markdown_literal(text)
    i = 0
    while i < len(md):  # every ASCII punctuation character is escaped
        if md[i] == "\\":
            i += 2
            continue
        assert md[i] not in ASCII_PUNCTUATION, (md, i)
        i += 1
    shown = _resolved(md)
    assert not GFM_URL.search(shown) and not GFM_EMAIL.search(shown) and not EMOJI.search(shown)
    assert shown.replace(WORD_JOINER, "") == text.strip("\n")


def test_markdown_literal_keeps_lines_and_indentation():
    md = markdown_literal("  first\r\nsecond  \n\n\n\tthird\n")
    assert md == "\u00a0\u00a0first\\\nsecond\n\n\u00a0\u00a0\u00a0\u00a0third"
    assert markdown_literal(None) == "" and markdown_literal(np.nan) == "" and markdown_literal("\n \n") == ""
    assert markdown_literal(12) == "12" and markdown_literal("Fish & Chips") == "Fish \\& Chips"


# --------------------------------------------------------------------------------------------
# KML: every text field is HTML-escaped
# --------------------------------------------------------------------------------------------

KML_NS = {"k": "http://www.opengis.net/kml/2.2"}


def _hostile_kml_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["a1", "a2", "a3"],
            "name": [HOSTILE_IMG, HOSTILE_JINJA, HOSTILE_FORMULA],
            "description": ["<b>bold</b> $[name]", "{{ config }}", "plain"],
            "address": [HOSTILE_IMG, "1 Road & Lane", "$[id] {x}"],
            "url": ["https://a.example/?x=1&y=2", None, "javascript:alert(1)"],
            "notes": ["bell\x07here", "'quoted' \"too\"", "fine"],
            "count": [1, -2, 3],
        },
        geometry=[Point(-1.47, 53.38), Point(-1.46, 53.39), Point(-1.45, 53.40)],
        crs=schema.STORAGE_CRS,
    )


def test_kml_escapes_names_and_extended_data_for_html_viewers(tmp_path):
    frame = _hostile_kml_frame()
    out = tmp_path / "h.kml"
    exports.write_kml(frame, out, layer_name="assets")
    raw = out.read_text(encoding="utf-8")
    # As XML text, an escaped "<" is "&amp;lt;": a viewer decodes the XML to "&lt;" and shows "<".
    assert "&amp;lt;img src=x onerror=alert(1)&amp;gt;" in raw
    assert "&lt;img" not in raw.replace("&amp;lt;img", "") and "<img" not in raw
    assert "{" not in raw and "}" not in raw and "$[" not in raw and "\x07" not in raw
    placemarks = ET.parse(out).getroot().findall(".//k:Placemark", KML_NS)
    names = [p.findtext("k:name", namespaces=KML_NS) for p in placemarks]
    assert names == [
        "&lt;img src=x onerror=alert(1)&gt;",
        "&#123;&#123;7*7&#125;&#125;",
        "=HYPERLINK(&quot;http://evil&quot;,&quot;x&quot;)",
    ]
    data = {
        (i, d.get("name")): d.findtext("k:value", namespaces=KML_NS)
        for i, p in enumerate(placemarks)
        for d in p.iter("{http://www.opengis.net/kml/2.2}Data")
    }
    data.update(
        {
            (i, d.get("name")): d.text
            for i, p in enumerate(placemarks)
            for d in p.iter("{http://www.opengis.net/kml/2.2}SimpleData")
        }
    )
    assert data[(0, "address")] == "&lt;img src=x onerror=alert(1)&gt;"
    assert data[(1, "address")] == "1 Road &amp; Lane" and data[(2, "address")] == "&#36;[id] &#123;x&#125;"
    assert data[(0, "url")] == "https://a.example/?x=1&amp;y=2"
    assert data[(1, "notes")] == "&#x27;quoted&#x27; &quot;too&quot;"
    for value in [*names, *data.values()]:
        assert value is None or not re.search(r"[<>{}$]", value)


def test_kml_round_trip_gives_the_original_text(tmp_path):
    frame = _hostile_kml_frame()
    out = tmp_path / "h.kml"
    exports.write_kml(frame, out, layer_name="assets")
    back = exports.read_kml_export(out).set_index("id").loc[frame["id"]]
    for col in ("name", "description", "address"):
        assert back[col].tolist() == frame[col].tolist(), col
    assert back["url"].iloc[0] == frame["url"].iloc[0] and back["url"].iloc[2] == "javascript:alert(1)"
    assert back["notes"].tolist() == ["bellhere", "'quoted' \"too\"", "fine"]  # control characters removed
    assert pd.to_numeric(back["count"]).tolist() == [1, -2, 3]


def test_kml_text_escapes_like_the_writer():
    assert exports.kml_text("a<b>&{c}$\x00") == "a&lt;b&gt;&amp;&#123;c&#125;&#36;"
    assert html.unescape(exports.kml_text(HOSTILE_FORMULA)) == HOSTILE_FORMULA
    assert exports.kml_text(-3) == -3 and exports.kml_text(None) is None


# --------------------------------------------------------------------------------------------
# Popup details: no people's names; published per generation; withdrawn at once
# --------------------------------------------------------------------------------------------


def _assets(ids: list[str]) -> gpd.GeoDataFrame:
    n = len(ids)
    frame = gpd.GeoDataFrame(
        {
            "id": ids,
            "name": [f"Asset {i}" for i in ids],
            "type": ["library"] * n,
            "address": [f"{k} Road" for k in range(n)],
            "opening_hours": ["Mo-Fr 09:00-17:00"] * n,
            "url": ["https://example.org"] * n,
            "status": ["active"] * n,
            "description": ["A place"] * n,
        },
        geometry=[Point(-1.47 + k / 1000, 53.38) for k in range(n)],
        crs=schema.STORAGE_CRS,
    )
    for col in PEOPLE:
        frame[col] = "Alice Private <alice@example.org>"
    return frame


def _details(ids: list[str]) -> str:
    return maps.asset_details_json(maps.order_for_map(_assets(ids), taxonomy=schema.load_taxonomy()))


def test_details_hold_ids_and_no_peoples_names():
    assert not set(PEOPLE) & set(maps.DETAIL_FIELDS)
    if hasattr(schema, "PERSONAL_COLUMNS"):
        assert not set(schema.PERSONAL_COLUMNS) & set(maps.DETAIL_FIELDS)
    text = _details(["x1", "x2"])
    doc = json.loads(text)
    assert sorted(doc["ids"]) == ["x1", "x2"] and len(doc["rows"]) == 2
    assert "Alice" not in text and "alice@" not in text
    for col in PEOPLE:
        assert col not in doc["fields"]


def _files(static) -> set[str]:
    return {p.name for p in (static / webassets.DETAILS_FOLDER).glob("*.json")}


def test_a_new_generation_withdraws_every_other_generations_details(tmp_path):
    legacy = webassets.publish_details(tmp_path, _details(["old"]))  # the signature before generations
    a1 = webassets.publish_details(tmp_path, _details(["a", "b"]), generation="r1")
    a2 = webassets.publish_details(tmp_path, _details(["a"]), generation="r1")
    assert webassets.publish_details(tmp_path, _details(["a", "b"]), generation="r1") == a1
    assert _files(tmp_path) == {a1, a2}  # one generation's tables live side by side; the legacy one went
    assert legacy not in _files(tmp_path)
    b1 = webassets.publish_details(tmp_path, _details(["a"]), generation="r2")
    assert _files(tmp_path) == {b1} and b1 != a2  # same table, new generation: a new name
    assert json.loads((tmp_path / "details" / b1).read_text(encoding="utf-8"))["ids"] == ["a"]
    # a token that is no file name (a path, a URL) still makes a safe one
    odd = webassets.publish_details(tmp_path, _details(["a"]), generation="postgresql://x/y?z=1 ../..")
    assert re.fullmatch(r"g[0-9a-f]{16}-[0-9a-f]{24}\.json", odd) and _files(tmp_path) == {odd}


def test_a_new_generation_of_one_store_leaves_another_stores_details(tmp_path):
    """Two app servers (or a test run beside one) sharing a static folder over different stores."""
    mine = webassets.publish_details(tmp_path, _details(["a"]), generation="r1", scope="/data/one.gpkg")
    theirs = webassets.publish_details(tmp_path, _details(["b"]), generation="r7", scope="/data/two.gpkg")
    assert _files(tmp_path) == {mine, theirs}
    newer = webassets.publish_details(tmp_path, _details(["a"]), generation="r2", scope="/data/one.gpkg")
    assert _files(tmp_path) == {newer, theirs}  # only the same store's older generation went
    assert webassets.withdraw_details(tmp_path, ["b"], scope="/data/one.gpkg") == []  # not one's asset
    assert webassets.withdraw_details(tmp_path, ["b"], scope="/data/two.gpkg") == [theirs]
    assert webassets.withdraw_details(tmp_path, ["a"]) == [newer]  # no scope: every store's files


def test_withdrawing_from_one_store_leaves_another_stores_points_and_details(tmp_path):
    """Regression: two servers on copies of the demo (the same ids) share a static folder. A remove on
    one deleted the other's details (same id) and its points file (no ids: "it may hold them"), so
    the other's page, loading its map just then, got a 404 and showed no places."""
    points = '{"x0": 0, "y0": 0, "x": [], "y": [], "n": []}'
    mine = [webassets.publish_details(tmp_path, t, generation="r1", scope="/a.gpkg") for t in (points, _details(["x"]))]
    theirs = [
        webassets.publish_details(tmp_path, t, generation="r1", scope="/b.gpkg") for t in (points, _details(["x"]))
    ]
    legacy = webassets.publish_details(tmp_path, _details(["x", "y"]))  # published without a scope
    assert sorted(webassets.withdraw_details(tmp_path, ["x"], scope="/a.gpkg")) == sorted([*mine, legacy])
    assert _files(tmp_path) == set(theirs)


def test_keep_counts_within_a_generation(tmp_path):
    names = [webassets.publish_details(tmp_path, _details([f"i{k}"]), generation="r5", keep=3) for k in range(5)]
    assert _files(tmp_path) == set(names[-3:])
    # publishing an existing table again marks it as recently used, so it is not the next to go
    webassets.publish_details(tmp_path, _details(["i2"]), generation="r5", keep=3)
    webassets.publish_details(tmp_path, _details(["i9"]), generation="r5", keep=3)
    assert names[2] in _files(tmp_path) and names[3] not in _files(tmp_path)


def test_withdraw_details_deletes_every_file_holding_the_ids(tmp_path):
    both = webassets.publish_details(tmp_path, _details(["gone", "stays"]), generation="r1")
    only_gone = webassets.publish_details(tmp_path, _details(["gone"]), generation="r1")
    other = webassets.publish_details(tmp_path, _details(["stays", "also"]), generation="r1")
    assert webassets.withdraw_details(tmp_path, ["nobody"]) == []
    assert sorted(webassets.withdraw_details(tmp_path, ["gone"])) == sorted([both, only_gone])
    assert _files(tmp_path) == {other}
    assert webassets.withdraw_details(tmp_path, "also") == [other]  # one id as a string
    assert webassets.withdraw_details(tmp_path / "nowhere", ["x"]) == []


def test_withdraw_details_deletes_files_whose_ids_it_cannot_read(tmp_path):
    old = webassets.publish_details(tmp_path, '{"rows": [["1 Road"]]}')  # a table from before ids
    kept = webassets.publish_details(tmp_path, _details(["b"]))
    (tmp_path / "details" / "broken.json").write_text("{not json", encoding="utf-8")
    assert sorted(webassets.withdraw_details(tmp_path, ["a"])) == sorted([old, "broken.json"])
    assert _files(tmp_path) == {kept}


def test_concurrent_publishing_of_one_table_never_fails(tmp_path):
    text = _details(["a", "b", "c"])
    errors: list[BaseException] = []
    names: set[str] = set()

    def publish():
        try:
            for _ in range(20):
                names.add(webassets.publish_details(tmp_path, text, generation="r1"))
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=publish) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(names) == 1 and _files(tmp_path) == names
    assert not list((tmp_path / "details").glob(".*.tmp"))
