"""Rebuild ``data/sheffield.gpkg``, the demo GeoPackage, from the open data in ``data/sources/``.

Run from the project root::

    .venv/bin/python data/build_demo.py            # writes data/sheffield.gpkg
    .venv/bin/python data/build_demo.py --out /tmp/x.gpkg
    .venv/bin/python data/build_demo.py --add-population data/sheffield.gpkg   # that layer only
    .venv/bin/python data/build_demo.py --refresh-population   # re-extract it from the England file

Every input is committed under ``data/sources/`` (with ``SOURCES.md`` giving each file's origin,
licence and attribution), so this runs without network access. The output is written to a
temporary file and moved into place only when complete. Ids are deterministic (official codes for
boundaries, UUID5 over the source's own key for everything else), so a rebuild gives the same ids.

Nothing here invents community content: aspirations, success measures and stories are empty layers
with their full schema.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import sqlite3
import sys
import tempfile
import uuid
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from geo import schema  # noqa: E402
from geo.store.gpkg import GeoPackageStore  # noqa: E402

SOURCES = ROOT / "data" / "sources"
BOUNDARIES = SOURCES / "sheffield_boundaries.gpkg"
ASSETS = SOURCES / "sheffield_assets.gpkg"
ASSETS_EXTRA = SOURCES / "sheffield_assets_extra.gpkg"
POSTCODES = SOURCES / "postcodes_sheffield_codepoint_open.csv"
MUSEUMS = SOURCES / "museums_sheffield_mappingmuseums.csv"
POPULATION = SOURCES / "population_sheffield_lsoa_points.csv"
#: The national file the Sheffield population points are extracted from (``--refresh-population``),
#: outside the repository: see its SOURCES.md.
ENGLAND_LSOA = ROOT.parent / "shared" / "data" / "england" / "england_lsoa.gpkg"
#: Sheffield's local authority district: its 2019 code (IMD 2019) and its 2025 code (ONS, 2025).
SHEFFIELD_LAD = ("E08000019", "E08000039")

NAMESPACE = uuid.UUID("6f1c1c52-3c1e-4a55-9b0e-2f6f3a1d5c10")  # Common Ground's own namespace
BUILT_BY = "data/build_demo.py"
BUILT_AT = "2026-11-27T00:00:00Z"  # fixed so that rebuilds are byte-stable in their content

OGL = "Open Government Licence v3.0"
CC_BY = "CC BY 4.0"

# One record per source: what the app and README credit. Wording follows data/sources/SOURCES.md.
SOURCE_INFO: dict[str, dict[str, str]] = {
    "wards": {
        "source": "OS Boundary-Line via mySociety MapIt (drj11/sheffield-maps); ONS mid-2020 ward population estimates",
        "licence": OGL,
        "attribution": "Contains OS data © Crown copyright and database right 2016. Contains ONS data licensed under the Open Government Licence v3.0.",
        "url": "https://mapit.mysociety.org/",
        "vintage": "2016 ward boundaries; population mid-2020",
        "notes": "Stocksbridge & Upper Don's 2016 boundary predates the 2025 boundary change.",
    },
    "lsoas": {
        "source": "ONS/OS LSOA 2011 generalised boundaries (martinjc/UK-GeoJSON); MHCLG English Indices of Deprivation 2019; ONS mid-2020 LSOA population",
        "licence": f"{CC_BY} (Martin Chorley) and {OGL}",
        "attribution": "GeoJSON UK Boundary Data by Martin Chorley, CC BY 4.0. Contains Ordnance Survey, Office for National Statistics data © Crown copyright and database right 2016, OGL v3. English Indices of Deprivation 2019, MHCLG, OGL v3.",
        "url": "https://github.com/martinjc/UK-GeoJSON",
        "vintage": "2011 boundaries; IMD 2019; population mid-2020",
        "notes": "IMD decile 1 = most deprived 10% of England's 32,844 LSOAs.",
    },
    "neighbourhoods": {
        "source": "Sheffield Neighbourhoods Archive, Data For Action (dataforaction-tom/sheffield-neighbourhoods-boundaries)",
        "licence": CC_BY,
        "attribution": "Sheffield Neighbourhoods Archive, Data For Action, CC BY 4.0.",
        "url": "https://github.com/dataforaction-tom/sheffield-neighbourhoods-boundaries",
        "vintage": "2022-2025",
        "notes": "Community-named areas covering about 75% of the city (not the rural west). Compiled partly from OpenStreetMap. Population is an estimate by area-weighted interpolation from LSOA mid-2020 populations.",
    },
    "libraries": {
        "source": "Sheffield City Council open data: Libraries",
        "licence": OGL,
        "attribution": "Contains public sector information from Sheffield City Council licensed under the Open Government Licence v3.0.",
        "url": "https://data-sheffieldcc.opendata.arcgis.com/",
        "vintage": "copied May 2025",
        "notes": "Licence believed OGL v3 as for SCC's other open data layers; confirm on the SCC hub.",
    },
    "recycling": {
        "source": "Sheffield City Council open data: Household Waste Recycling Centres",
        "licence": OGL,
        "attribution": "Contains public sector information from Sheffield City Council licensed under the Open Government Licence v3.0.",
        "url": "https://data-sheffieldcc.opendata.arcgis.com/",
        "vintage": "copied May 2025",
        "notes": "Licence believed OGL v3 as for SCC's other open data layers; confirm on the SCC hub.",
    },
    "food_banks": {
        "source": "Give Food (givefood/data foodbanks.csv)",
        "licence": CC_BY,
        "attribution": "Food bank data from Give Food (givefood.org.uk), CC BY 4.0.",
        "url": "https://www.givefood.org.uk/",
        "vintage": "before July 2024",
        "notes": "One main address per food bank organisation, not every distribution point.",
    },
    "gp_practices": {
        "source": "NHS England Organisation Data Service (epraccur); NHS Digital Patients Registered at a GP Practice",
        "licence": OGL,
        "attribution": "Contains public sector information from NHS England (Organisation Data Service) licensed under the Open Government Licence v3.0.",
        "url": "https://digital.nhs.uk/services/organisation-data-service",
        "vintage": "about February 2026",
        "notes": "Points are postcode centroids (OS Code-Point Open).",
    },
    "dental_practices": {
        "source": "NHS England Organisation Data Service (egdpprac)",
        "licence": OGL,
        "attribution": "Contains public sector information from NHS England (Organisation Data Service) licensed under the Open Government Licence v3.0.",
        "url": "https://digital.nhs.uk/services/organisation-data-service",
        "vintage": "about mid-2024",
        "notes": "Points are postcode centroids (OS Code-Point Open).",
    },
    "pharmacies": {
        "source": "NHS Business Services Authority Consolidated Pharmaceutical List 2023/24 Q3",
        "licence": OGL,
        "attribution": "Contains public sector information from the NHS Business Services Authority licensed under the Open Government Licence v3.0.",
        "url": "https://opendata.nhsbsa.net/",
        "vintage": "October-December 2023",
        "notes": "Operators that are private individuals are not named. Points are postcode centroids.",
    },
    "museums": {
        "source": "Mapping Museums project (Birkbeck, University of London), database as of Sept 2021, via rfordatascience/tidytuesday 2022-11-22",
        "licence": "CC BY (version not stated)",
        "attribution": "Museum data: Mapping Museums project, Birkbeck, University of London (www.mappingmuseums.org), CC BY. Data downloaded from the Mapping Museums website at www.mappingmuseums.org, accessed on 2022-11-22.",
        "url": "https://www.mappingmuseums.org/",
        "vintage": "open as of September 2021",
        "notes": "Only the 14 museums and galleries open in 2021. Points are postcode-level; Kelham Island Museum and the Ken Hawley Collection share one. Ruskin Gallery may no longer be a separate venue.",
    },
    "postcodes": {
        "source": "OS Code-Point Open (S postcode area)",
        "licence": OGL,
        "attribution": "Contains OS data © Crown copyright and database right 2025; Contains Royal Mail data © Royal Mail copyright and database right 2025; Contains GeoPlace data © Local Government Information House Limited copyright and database right 2025; Source: Office for National Statistics licensed under the Open Government Licence v.3.0.",
        "url": "https://www.ordnancesurvey.co.uk/products/code-point-open",
        "vintage": "2025 release",
        "notes": "Live postcodes of districts S1-S36 and of Sheffield local authority.",
    },
    "population": {
        "source": "ONS LSOA (December 2011) population-weighted centroids; MHCLG English Indices of Deprivation 2019 (File 1: IMD, File 6: population denominators, ONS mid-2015)",
        "licence": OGL,
        "attribution": "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. Contains OS data © Crown copyright and database right 2011. Contains public sector information licensed under the Open Government Licence v3.0: English Indices of Deprivation 2019, Ministry of Housing, Communities and Local Government.",
        "url": "https://geoportal.statistics.gov.uk/",
        "vintage": "LSOA 2011; IMD 2019; population mid-2015 (excluding prisoners)",
        "notes": "The 345 Sheffield LSOAs (district E08000019, 2025 code E08000039) of the England file england_lsoa.gpkg (lsoa_points). Population is mid-2015; the lsoas layer's is mid-2020.",
    },
    "common_ground": {
        "source": "Derived by Common Ground (data/build_demo.py) from the sources above",
        "licence": "As the sources it is derived from",
        "attribution": "Derived from the sources listed for assets.",
        "url": "",
        "vintage": "built 2026-11-27",
        "notes": "",
    },
}


def _text(value: object) -> str:
    """A source value as stripped text; missing values become ''."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value).strip()


def stable_id(*parts: object) -> str:
    """A deterministic UUID (version 5) from a source key, so rebuilds keep ids."""
    return str(uuid.uuid5(NAMESPACE, "|".join(str(p) for p in parts)))


def _edit_stamp(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["created_at"] = BUILT_AT
    out["created_by"] = BUILT_BY
    out["updated_at"] = BUILT_AT
    out["updated_by"] = BUILT_BY
    out["version"] = 1
    return out


def _provenance(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    out = frame.copy()
    out["source"] = SOURCE_INFO[key]["source"]
    out["licence"] = SOURCE_INFO[key]["licence"]
    return out


_TAG = re.compile(r"<[^>]+>")
_HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def strip_html(text: object) -> str:
    """Plain text from a snippet of source HTML (links reduced to their text)."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return ""
    s = _TAG.sub("", str(text))
    s = html.unescape(s)
    lines = [re.sub(r"[ \t]+", " ", ln).strip() for ln in s.replace("\r", "").split("\n")]
    return "; ".join(ln for ln in lines if ln)


def first_href(text: object) -> str:
    """The first link target in a snippet of source HTML, or ''."""
    if not isinstance(text, str):
        return ""
    m = _HREF.search(text)
    return m.group(1).strip() if m else ""


_SMALL = {"and", "of", "the", "at", "on", "in", "for", "by"}
_KEEP_UPPER = {"NHS", "GP", "UK", "PCN", "MC", "M.C", "S2", "S6", "S20", "II", "III", "LLP", "CIC", "UPS"}


def _cap(word: str) -> str:
    """'(DENTAL' -> '(Dental': upper-case the first letter, lower-case the rest."""
    low = word.lower()
    for i, ch in enumerate(low):
        if ch.isalpha():
            return low[:i] + ch.upper() + low[i + 1 :]
    return low


def tidy_name(name: object) -> str:
    """Title-case an all-capitals official name for display ('NORFOLK PARK HEALTH CENTRE')."""
    s = "" if name is None or (isinstance(name, float) and pd.isna(name)) else str(name).strip()
    if not s or not s.isupper():
        return s
    words = []
    for i, w in enumerate(s.split()):
        if w in _KEEP_UPPER:
            words.append(w)
        elif i and w.lower() in _SMALL:
            words.append(w.lower())
        else:
            words.append("-".join(_cap(p) for p in w.split("-")))
    return " ".join(words).replace("'S ", "'s ").replace("&Amp;", "&")


_COMPANY = re.compile(r"\b(LTD|LIMITED|PLC|LLP|CIC|STORES|SUPERMARKETS)\b\.?", re.IGNORECASE)


def company_key(name: str) -> str:
    """A key that treats 'X LTD' and 'X LIMITED' as one company."""
    s = re.sub(r"\bLIMITED\b", "LTD", name.upper())
    return re.sub(r"[^A-Z0-9]+", " ", s).strip()


# --------------------------------------------------------------------------------------------
# Boundaries
# --------------------------------------------------------------------------------------------


def build_boundaries() -> dict[str, gpd.GeoDataFrame]:
    """The three boundary layers, in EPSG:4326, with population and deprivation where known."""
    wards_src = gpd.read_file(BOUNDARIES, layer="wards_2016")
    wards = gpd.GeoDataFrame(
        {
            "id": wards_src["ward_code"],
            "name": wards_src["ward_name"],
            "population": wards_src["pop_mid2020"].astype(float),
            "population_is_estimate": False,
            "population_note": "ONS mid-2020 ward population estimate",
            "imd_decile": float("nan"),
            "imd_rank": float("nan"),
            "lac_name": wards_src["lac_name"],
        },
        geometry=wards_src.geometry,
        crs=schema.STORAGE_CRS,
    )
    lsoa_src = gpd.read_file(BOUNDARIES, layer="lsoa_2011")
    lsoas = gpd.GeoDataFrame(
        {
            "id": lsoa_src["LSOA11CD"],
            "name": lsoa_src["LSOA11NM"],
            "population": lsoa_src["pop_mid2020"].astype(float),
            "population_is_estimate": False,
            "population_note": "ONS mid-2020 small-area population estimate",
            "imd_decile": lsoa_src["imd2019_decile"].astype(float),
            "imd_rank": lsoa_src["imd2019_rank"].astype(float),
        },
        geometry=lsoa_src.geometry,
        crs=schema.STORAGE_CRS,
    )
    nb_src = gpd.read_file(BOUNDARIES, layer="neighbourhoods_dfa")
    nb = gpd.GeoDataFrame(
        {
            "id": ["nbhd-" + re.sub(r"[^a-z0-9]+", "-", n.lower()).strip("-") for n in nb_src["name"]],
            "name": nb_src["name"],
        },
        geometry=nb_src.geometry,
        crs=schema.STORAGE_CRS,
    )
    if nb["id"].duplicated().any():
        raise SystemExit("neighbourhood ids collide; make the slug rule stricter")
    nb["population"] = area_weighted_population(nb, lsoas)
    nb["population_is_estimate"] = True
    nb["population_note"] = (
        "Estimate: LSOA mid-2020 populations shared out by the share of each LSOA's area that "
        "falls in the neighbourhood (area-weighted interpolation)"
    )
    nb["imd_decile"] = float("nan")
    nb["imd_rank"] = float("nan")
    out = {}
    for key, frame in {"wards": wards, "lsoas": lsoas, "neighbourhoods": nb}.items():
        frame = _provenance(frame, key)
        out[key] = schema.conform(frame, key)
    return out


def area_weighted_population(target: gpd.GeoDataFrame, source: gpd.GeoDataFrame) -> pd.Series:
    """Population of each target polygon, sharing each source polygon's population by area.

    Done in EPSG:27700. Returns a Series on ``target``'s index, rounded to whole people.
    """
    t = target[[target.geometry.name]].to_crs(schema.METRIC_CRS)
    t["_t"] = range(len(t))
    s = source[["population", source.geometry.name]].to_crs(schema.METRIC_CRS)
    s["_src_area"] = s.geometry.area
    pieces = gpd.overlay(t, s, how="intersection", keep_geom_type=True)
    pieces["_share"] = pieces.geometry.area / pieces["_src_area"]
    est = (pieces["population"] * pieces["_share"]).groupby(pieces["_t"]).sum()
    return pd.Series(est.reindex(range(len(t))).fillna(0.0).round(0).to_numpy(), index=target.index)


# --------------------------------------------------------------------------------------------
# Assets and organisations
# --------------------------------------------------------------------------------------------


def _asset_frame(rows: list[dict], geometry, key: str, verified_on: str) -> gpd.GeoDataFrame:
    g = gpd.GeoDataFrame(rows, geometry=list(geometry), crs=schema.STORAGE_CRS)
    g = _provenance(g, key)
    g["status"] = g.get("status", "active")
    g["verified_on"] = verified_on
    return g


def build_assets_and_organisations() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """All 336 real assets and the organisations that run them, linked by ``organisation_id``."""
    orgs: dict[str, dict] = {}

    def org(key: str, **fields) -> str:
        oid = stable_id("organisation", key)
        if oid not in orgs:
            orgs[oid] = {"id": oid, **fields}
        return oid

    scc = org(
        "sheffield-city-council",
        name="Sheffield City Council",
        kind="council",
        url="https://www.sheffield.gov.uk/",
        public_contact="0114 273 4567",
        source_key="libraries",
        geometry=None,
    )

    frames = []

    # Libraries (SCC open data). Council-run hubs belong to SCC; co-delivered and associate
    # libraries are run by independent volunteer groups the source does not name.
    lib = gpd.read_file(ASSETS, layer="libraries_scc")
    rows = []
    for r in lib.itertuples():
        number = _text(r.number)
        street = " ".join(p for p in [number, _text(r.street)] if p)
        name = r.library.strip()
        if name not in ("Archives", "Local Studies"):
            name = f"{name} Library"
        elif name == "Archives":
            name = "Sheffield City Archives"
        else:
            name = "Sheffield Local Studies Library"
        volunteer = r.delivery != "Council"
        rows.append(
            {
                "id": stable_id("scc-library", r.objectid),
                "name": name,
                "type": "library",
                "description": (
                    f"{r.delivery} library ({'run by volunteers' if volunteer else 'council hub library'})"
                ),
                "address": ", ".join(p for p in [street, _text(r.town), r.postcode] if p),
                "postcode": r.postcode,
                "url": first_href(r.url),
                "opening_hours": strip_html(r.open),
                "access_notes": "",
                "public_contact": strip_html(r.contact),
                "organisation_id": None if volunteer else scc,
                "source_ref": f"SCC Libraries objectid {r.objectid}",
                "delivery_model": r.delivery,
                "library_kind": r.type,
            }
        )
    frames.append(_asset_frame(rows, lib.geometry, "libraries", "2025-05"))

    # Household waste recycling centres (SCC open data).
    hw = gpd.read_file(ASSETS, layer="household_waste_recycling_centres_scc")
    material_cols = [c for c in hw.columns if c not in ("easting", "northing", "objectid", "name", "geometry")]
    rows = []
    for r in hw.itertuples():
        text = r.name.strip()
        m = re.search(r"(S\d{1,2}\s*\d[A-Z]{2})\s*$", text)
        postcode = m.group(1) if m else ""
        place = text[: m.start()].rstrip(", ") if m else text
        accepted = [c for c in material_cols if getattr(r, c) == "Yes"]
        rows.append(
            {
                "id": stable_id("scc-hwrc", r.objectid),
                "name": f"{place.split(',')[0].strip()} Recycling Centre",
                "type": "recycling_centre",
                "description": "Household waste recycling centre; accepts " + ", ".join(accepted),
                "address": text,
                "postcode": postcode,
                "url": "https://www.sheffield.gov.uk/bins-recycling/recycling-centres",
                "opening_hours": "",
                "access_notes": "",
                "public_contact": "",
                "organisation_id": scc,
                "source_ref": f"SCC HWRC objectid {r.objectid}",
                "materials_accepted": ", ".join(accepted),
            }
        )
    frames.append(_asset_frame(rows, hw.geometry, "recycling", "2025-05"))

    # Food banks (Give Food): each food bank is its own voluntary organisation.
    fb = gpd.read_file(ASSETS, layer="food_banks_givefood")
    rows = []
    for r in fb.itertuples():
        charity = "" if pd.isna(r.charity_number) else str(r.charity_number).strip()
        name = f"{r.name} Food Bank"
        oid = org(
            f"givefood-{r.slug}",
            name=name,
            kind="voluntary" if r.network != "Independent" or charity else "voluntary",
            charity_number=charity,
            url=r.url,
            public_contact="",
            source_key="food_banks",
            network=r.network,
            geometry=r.geometry,
        )
        rows.append(
            {
                "id": stable_id("givefood", r.slug),
                "name": name,
                "type": "food_bank",
                "description": f"Food bank ({r.network} network)",
                "address": r.address,
                "postcode": r.postcode,
                "url": r.url,
                "opening_hours": "",
                "access_notes": "Most food banks need a referral (a voucher) from an agency; check with the food bank.",
                "public_contact": "",
                "organisation_id": oid,
                "status": "closed" if bool(r.closed) else "active",
                "source_ref": f"Give Food slug {r.slug}",
                "network": r.network,
                "charity_number": charity,
            }
        )
    frames.append(_asset_frame(rows, fb.geometry, "food_banks", "2024-06"))

    # GP practices (NHS ODS): each practice is an NHS provider organisation.
    gp = gpd.read_file(ASSETS_EXTRA, layer="gp_practices_nhs_ods")
    rows = []
    for r in gp.itertuples():
        name = tidy_name(r.name)
        oid = org(
            f"ods-{r.org_code}",
            name=name,
            kind="NHS",
            url="",
            public_contact=_text(r.phone),
            source_key="gp_practices",
            ods_code=r.org_code,
            geometry=r.geometry,
        )
        rows.append(
            {
                "id": stable_id("ods", r.org_code),
                "name": name,
                "type": "gp_practice",
                "description": f"GP practice with {int(r.list_size):,} registered patients",
                "address": f"{r.address}, {r.postcode}",
                "postcode": r.postcode,
                "url": "",
                "opening_hours": "",
                "access_notes": "",
                "public_contact": _text(r.phone),
                "organisation_id": oid,
                "source_ref": f"ODS {r.org_code}",
                "list_size": float(r.list_size),
                "pct_over_65": r.pct_over_65,
                "pct_under_5": r.pct_under_5,
            }
        )
    frames.append(_asset_frame(rows, gp.geometry, "gp_practices", "2026-02"))

    # Dental practices (NHS ODS): NHS providers, or businesses where private only.
    dn = gpd.read_file(ASSETS_EXTRA, layer="dental_practices_nhs_ods")
    rows = []
    for r in dn.itertuples():
        name = tidy_name(r.name)
        private = r.nhs_or_private == "Private only"
        oid = org(
            f"ods-{r.org_code}",
            name=name,
            kind="business" if private else "NHS",
            url="",
            public_contact="",
            source_key="dental_practices",
            ods_code=r.org_code,
            geometry=r.geometry,
        )
        rows.append(
            {
                "id": stable_id("ods", r.org_code),
                "name": name,
                "type": "dental_practice",
                "description": f"Dental practice ({r.nhs_or_private})",
                "address": f"{r.address}, {r.postcode}",
                "postcode": r.postcode,
                "url": "",
                "opening_hours": "",
                "access_notes": "Private patients only" if private else "",
                "public_contact": "",
                "organisation_id": oid,
                "source_ref": f"ODS {r.org_code}",
                "nhs_or_private": r.nhs_or_private,
            }
        )
    frames.append(_asset_frame(rows, dn.geometry, "dental_practices", "2024-08"))

    # Community pharmacies (NHSBSA): the operating company where it is a company.
    ph = gpd.read_file(ASSETS_EXTRA, layer="pharmacies_nhsbsa")
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    rows = []
    for r in ph.itertuples():
        operator = _text(r.operator)
        oid = None
        if operator and _COMPANY.search(operator):
            oid = org(
                f"company-{company_key(operator)}",
                name=tidy_name(operator),
                kind="business",
                url="",
                public_contact="",
                source_key="pharmacies",
                geometry=None,
            )
        hours = "; ".join(f"{d.title()} {getattr(r, 'hours_' + d)}" for d in days)
        rows.append(
            {
                "id": stable_id("nhsbsa", r.ods_code),
                "name": tidy_name(r.name),
                "type": "pharmacy",
                "description": f"Community pharmacy, {r.weekly_hours:g} contracted hours a week",
                "address": f"{r.address}, {r.postcode}",
                "postcode": r.postcode,
                "url": "",
                "opening_hours": hours,
                "access_notes": "",
                "public_contact": "",
                "organisation_id": oid,
                "source_ref": f"ODS {r.ods_code}",
                "weekly_hours": float(r.weekly_hours),
            }
        )
    frames.append(_asset_frame(rows, ph.geometry, "pharmacies", "2023-12"))

    # Museums and galleries (Mapping Museums, open in 2021). The file names no operator, so none is
    # invented; the caveats of data/sources/SOURCES.md travel with the rows that need them.
    mu = pd.read_csv(MUSEUMS, dtype=str)
    mu = mu[mu["status_2021"].str.strip().str.lower() == "open"]
    rows = []
    for r in mu.itertuples():
        notes = []
        if r.name == "Ruskin Gallery":
            notes.append(
                "Listed as open in 2021, but may no longer be a separate venue (the Ruskin collection is "
                "shown at the Millennium Gallery); check before visiting."
            )
        if r.postcode.strip() == "S3 8RY":
            notes.append("Kelham Island Museum and the Ken Hawley Collection share this site.")
        subject = _text(r.type_detail).replace("-", ": ")
        governance = "" if _text(r.governance) in ("", "Unknown") else f", {_text(r.governance).replace('-', ': ')}"
        rows.append(
            {
                "id": stable_id("mappingmuseums", r.source_id),
                "name": r.name.strip(),
                "type": "museum",
                "description": f"Museum or gallery ({subject}; {_text(r.accreditation).lower()}{governance})",
                "address": f"{r.address}, {r.postcode}",
                "postcode": r.postcode.strip(),
                "url": "",
                "opening_hours": "",
                "access_notes": " ".join(notes),
                "public_contact": "",
                "organisation_id": None,
                "source_ref": f"Mapping Museums {r.source_id}",
                "accreditation": _text(r.accreditation),
                "year_opened": _text(r.year_opened),
            }
        )
    points = gpd.points_from_xy(mu["lon"].astype(float), mu["lat"].astype(float))
    frames.append(_asset_frame(rows, points, "museums", "2021-09"))

    assets = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=schema.STORAGE_CRS)
    taxonomy = schema.load_taxonomy()
    assets["category"] = [taxonomy.type(t).category for t in assets["type"]]
    assets = _edit_stamp(assets)
    assets = schema.conform(assets, "assets")

    org_rows = []
    for o in orgs.values():
        info = SOURCE_INFO[o.pop("source_key")]
        o["source"], o["licence"] = info["source"], info["licence"]
        org_rows.append(o)
    organisations = gpd.GeoDataFrame(org_rows, geometry="geometry", crs=schema.STORAGE_CRS)
    themes = (
        assets.dropna(subset=["organisation_id"])
        .assign(_themes=lambda a: [taxonomy.type(t).themes for t in a["type"]])
        .groupby("organisation_id")["_themes"]
        .agg(lambda s: ", ".join(sorted({th for ts in s for th in ts})))
    )
    organisations["themes"] = organisations["id"].map(themes).fillna("")
    organisations = _edit_stamp(organisations)
    organisations = schema.conform(organisations, "organisations")
    return assets, organisations


def build_organisation_areas(assets: gpd.GeoDataFrame, boundaries: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """Who works where: every area (of each boundary layer) holding an organisation's assets."""
    taxonomy = schema.load_taxonomy()
    linked = assets.dropna(subset=["organisation_id"])[["organisation_id", "type", "geometry"]]
    out = []
    for layer, areas in boundaries.items():
        hit = gpd.sjoin(linked, areas[["id", "geometry"]], how="inner", predicate="within")
        for (oid, area_id), grp in hit.groupby(["organisation_id", "id"]):
            themes = sorted({th for t in grp["type"] for th in taxonomy.type(t).themes})
            out.append(
                {
                    "organisation_id": oid,
                    "boundary_layer": layer,
                    "area_id": area_id,
                    "themes": ", ".join(themes),
                    "basis": f"runs {len(grp)} asset(s) located in this area",
                }
            )
    frame = pd.DataFrame(out)
    frame = _provenance(frame, "common_ground")
    frame = _edit_stamp(frame)
    return schema.conform(frame, "organisation_areas")


def build_postcodes() -> pd.DataFrame:
    pc = pd.read_csv(POSTCODES, dtype={"postcode": str, "admin_district_code": str, "admin_ward_code": str})
    # The store's flag for postcodes inside its own district (geo.geocode), from the extract's Sheffield one.
    pc["in_district"] = pc.pop("in_sheffield_lad").astype(str).str.lower() == "true"
    return schema.conform(pc, "postcodes")


def refresh_population(national: Path = ENGLAND_LSOA, out: Path = POPULATION) -> int:
    """Extract Sheffield's LSOA population-weighted centroids from the England file into ``out``
    (a CSV committed under data/sources/). Returns the number of points."""
    if not national.exists():
        raise SystemExit(
            f"{national} is missing; it is the England data folder's england_lsoa.gpkg (see its SOURCES.md)."
        )
    cols = ["lsoa11cd", "lsoa11nm", "lad19cd", "lad25cd", "pop_mid2015", "imd19_rank", "imd19_decile"]
    g = pyogrio.read_dataframe(national, layer="lsoa_points", columns=cols)
    g = g[g["lad19cd"].isin(SHEFFIELD_LAD) | g["lad25cd"].isin(SHEFFIELD_LAD)].sort_values("lsoa11cd")
    frame = pd.DataFrame(g[cols])
    frame["lon"] = g.geometry.x.to_numpy()
    frame["lat"] = g.geometry.y.to_numpy()
    frame.to_csv(out, index=False, float_format="%.7f")
    return len(frame)


def build_population() -> gpd.GeoDataFrame:
    """The ``population`` layer: Sheffield's 345 LSOA population-weighted centroids (id = LSOA code)."""
    src = pd.read_csv(POPULATION, dtype={"lsoa11cd": str, "lsoa11nm": str})
    info = SOURCE_INFO["population"]
    frame = gpd.GeoDataFrame(
        {
            "id": src["lsoa11cd"],
            "name": src["lsoa11nm"],
            "population": src["pop_mid2015"].astype("Int64"),
            "imd_decile": src["imd19_decile"].astype("Int64"),
            "imd_rank": src["imd19_rank"].astype("Int64"),
            "source": info["source"],
            "licence": info["licence"],
        },
        geometry=gpd.points_from_xy(src["lon"], src["lat"]),
        crs=schema.STORAGE_CRS,
    )
    return schema.conform(frame, schema.POPULATION_LAYER)


def add_population(path: Path) -> int:
    """Write the ``population`` layer and its ``sources`` row into an existing store, changing no
    other layer (the demo's assets and areas stay as they are). Returns the number of points."""
    frame = build_population()
    schema.validate_layer(frame, schema.POPULATION_LAYER)
    row = build_sources()
    row = row[row["layer"] == schema.POPULATION_LAYER]
    store = GeoPackageStore(path)
    with store.transaction(actor=BUILT_BY) as tx:
        tx.replace(schema.POPULATION_LAYER, frame)
        if len(tx.read("sources", where={"layer": schema.POPULATION_LAYER})):
            tx.delete("sources", {"layer": schema.POPULATION_LAYER})
        tx.insert("sources", row.to_dict("records"))
    store.close()
    _finish_store(path)
    return len(frame)


def build_sources() -> pd.DataFrame:
    rows = []
    for layer, key in [
        ("wards", "wards"),
        ("lsoas", "lsoas"),
        ("neighbourhoods", "neighbourhoods"),
        ("assets", "libraries"),
        ("assets", "recycling"),
        ("assets", "food_banks"),
        ("assets", "gp_practices"),
        ("assets", "dental_practices"),
        ("assets", "pharmacies"),
        ("assets", "museums"),
        ("postcodes", "postcodes"),
        ("organisations", "common_ground"),
        ("organisation_areas", "common_ground"),
        (schema.POPULATION_LAYER, "population"),  # last: as --add-population appends it
    ]:
        rows.append({"layer": layer, **SOURCE_INFO[key]})
    return schema.conform(pd.DataFrame(rows), "sources")


def build(out: Path) -> dict[str, int]:
    """Build every layer and write the GeoPackage atomically to ``out``. Returns feature counts."""
    boundaries = build_boundaries()
    assets, organisations = build_assets_and_organisations()
    layers: dict[str, pd.DataFrame] = {
        **boundaries,
        "assets": assets,
        "organisations": organisations,
        "organisation_areas": build_organisation_areas(assets, boundaries),
        "aspirations": schema.empty_layer("aspirations"),
        "success_measures": schema.empty_layer("success_measures"),
        "measure_updates": schema.empty_layer("measure_updates"),
        "stories": schema.empty_layer("stories"),
        "taxonomy": _edit_stamp(schema.taxonomy_rows(schema.taxonomy_document(schema.TAXONOMY_FILE))),
        "audit_log": schema.empty_layer("audit_log"),
        "postcodes": build_postcodes(),
        schema.POPULATION_LAYER: build_population(),
        "sources": build_sources(),
    }
    for name, frame in layers.items():
        schema.validate_layer(frame, name)

    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".build-", suffix=".gpkg", dir=out.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        for name, frame in layers.items():
            spec = schema.layer_spec(name)
            kwargs = {"layer": name, "driver": "GPKG", "append": False}
            if spec.geometry is None:
                pyogrio.write_dataframe(pd.DataFrame(frame), tmp, **kwargs)
            else:
                geometry_type = "MultiPolygon" if spec.geometry == "Polygon" else spec.geometry
                g = frame
                if spec.geometry == "Polygon":
                    g = frame.copy()
                    g.geometry = gpd.GeoSeries([_as_multi(geom) for geom in g.geometry], crs=g.crs)
                pyogrio.write_dataframe(g, tmp, geometry_type=geometry_type, spatial_index=True, **kwargs)
        _finish_store(Path(tmp))
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return {name: len(frame) for name, frame in layers.items()}


def _finish_store(path: Path) -> None:
    """Bring the file to the store's current schema (indexes, versions, revision counter), then
    leave it as one self-contained file (rollback journal, not WAL) fit to commit."""
    store = GeoPackageStore(path)
    store.migrate()
    store.close()
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=DELETE")
        con.execute("UPDATE cg_meta SET value = 0 WHERE key = 'revision'")
        con.execute("DELETE FROM cg_meta WHERE key LIKE 'revision:%'")  # as shipped: no layer written since
        con.execute("VACUUM")
    finally:
        con.close()


def _as_multi(geom):
    from shapely.geometry import MultiPolygon

    if geom is None or geom.geom_type == "MultiPolygon":
        return geom
    return MultiPolygon([geom])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=schema.DEMO_GPKG, help="where to write the GeoPackage")
    parser.add_argument(
        "--add-population",
        type=Path,
        metavar="GPKG",
        help="write only the population layer (and its sources row) into an existing store",
    )
    parser.add_argument(
        "--refresh-population",
        action="store_true",
        help=f"re-extract {POPULATION.name} from the England file ({ENGLAND_LSOA})",
    )
    args = parser.parse_args(argv)
    if args.refresh_population:
        print(f"{refresh_population()} Sheffield population points -> {POPULATION}")
        return 0
    if args.add_population:
        print(f"{add_population(args.add_population)} population points -> {args.add_population}")
        return 0
    counts = build(args.out)
    for name, n in counts.items():
        print(f"{name:20s} {n:6d}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
