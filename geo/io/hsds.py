"""Organisations, their services and where they work, as HSDS 3.0 / Open Referral UK JSON.

The Human Services Data Specification (HSDS, Open Referral; Open Referral UK is a profile of it)
describes who provides which service where. Common Ground maps onto five of its tables:

===================== ==========================================================================
HSDS table            from
===================== ==========================================================================
``organization``      each organisation (charity and company numbers as
                      ``organization_identifiers``, a public phone number as ``phones``)
``service``           each asset an organisation runs (active → ``active``, closed → ``inactive``;
                      pending, removed and rejected assets are not published)
``location``          the asset's point (``physical``, with latitude and longitude)
``service_at_location`` the link between the two
``service_area``      ``organisation_areas``: for each area an organisation works in, one row per
                      service of it located in that area (or its only service); where it has
                      none there, one row without a ``service_id`` naming the organisation in
                      the description. ``name`` is the area's name, ``uri`` the ONS statistical
                      geography for ward and LSOA codes
===================== ==========================================================================

HSDS identifiers are UUIDs. Common Ground ids that already are UUIDs are kept; any other id (and
every derived record) gets a stable name-based UUID (:func:`uuid.uuid5`), so exporting twice gives
the same identifiers.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import uuid
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo import schema
from geo.community import join_themes, private_details_in
from geo.errors import (  # noqa: F401 (defined with every error in geo.errors; re-exported here)
    CommonGroundError,
    HsdsExportError,
)
from geo.store import Store, now_iso

HSDS_TABLES = ("organization", "service", "location", "service_at_location", "service_area")
SERVICE_STATUS = {"active": "active", "closed": "inactive"}
NAMESPACE = uuid.UUID("6f1c1e0e-3b7a-5d51-9a53-6c6f6d6d6f6e")  # fixed: ids stay stable between exports
ONS_URI = "http://statistics.data.gov.uk/id/statistical-geography/"
_ONS_CODE = re.compile(r"^[EWSN]\d{8}$")
_LAYER_NOUN = {"wards": "Ward", "lsoas": "LSOA", "neighbourhoods": "Neighbourhood"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _uuid(value: object, kind: str) -> str:
    text = str(value).strip()
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return str(uuid.uuid5(NAMESPACE, f"{kind}:{text}"))


def _derived(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "|".join(str(p) for p in parts)))


def _s(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    return str(value).strip()


def _web(value: object) -> str:
    s = _s(value)
    return s if re.match(r"^https?://\S+$", s, re.I) else ""


def _organization(row: pd.Series) -> dict:
    oid = _uuid(row["id"], "organisation")
    kind = _s(row.get("kind"))
    themes = join_themes(row.get("themes"))
    description = (f"{kind} organisation" if kind else "Organisation") + (f" working on {themes}." if themes else ".")
    rec: dict = {
        "id": oid,
        "name": _s(row["name"]) or "(unnamed)",
        "description": description[0].upper() + description[1:],
    }
    if _web(row.get("url")):
        rec["website"] = _web(row.get("url"))
    contact = _s(row.get("public_contact"))
    if _EMAIL.match(contact):
        rec["email"] = contact
    elif private_details_in(contact) == "a phone number":
        rec["phones"] = [{"id": _derived(oid, "phone"), "organization_id": oid, "number": contact}]
    ids = []
    for col, scheme, label in (
        ("charity_number", "GB-CHC", "Charity number"),
        ("company_number", "GB-COH", "Company number"),
    ):
        number = _s(row.get(col))
        if number:
            ids.append(
                {
                    "id": _derived(oid, scheme),
                    "organization_id": oid,
                    "identifier_scheme": scheme,
                    "identifier_type": label,
                    "identifier": number,
                }
            )
    if ids:
        rec["organization_identifiers"] = ids
    return rec


def hsds_document(store: Store, *, taxonomy: schema.Taxonomy | None = None) -> dict:
    """The store's organisations, services, locations and service areas as an HSDS 3.0 document.

    Parameters
    ----------
    store
        The data store.
    taxonomy
        Names asset types in service descriptions; default the project's taxonomy.

    Returns
    -------
    dict
        ``{"about": {...}, "organization": [...], "service": [...], "location": [...],
        "service_at_location": [...], "service_area": [...]}``: every record follows the HSDS 3.0
        table schema of the same name; ``about`` names the standard and credits the sources.
    """
    tax = taxonomy or schema.load_taxonomy()
    orgs = store.read("organisations")
    orgs = orgs[orgs["id"].notna()].drop_duplicates("id")
    org_uuid = {str(i): _uuid(i, "organisation") for i in orgs["id"]}
    organization = [_organization(r) for _, r in orgs.iterrows()]

    assets = store.read("assets")
    assets = assets[
        assets["organisation_id"].astype("string").isin(list(org_uuid))
        & assets["status"].astype("string").fillna("active").isin(list(SERVICE_STATUS))
    ]
    service, location, service_at_location = [], [], []
    services_of: dict[str, list[str]] = {}
    for _, a in assets.to_crs(schema.STORAGE_CRS).iterrows():
        sid = _uuid(a["id"], "asset")
        oid = org_uuid[str(a["organisation_id"])]
        services_of.setdefault(str(a["organisation_id"]), []).append(sid)
        srv = {
            "id": sid,
            "organization_id": oid,
            "name": _s(a["name"]) or tax.label(_s(a["type"])),
            "status": SERVICE_STATUS[_s(a["status"]) or "active"],
            "description": _s(a.get("description")) or tax.label(_s(a["type"])),
        }
        if _web(a.get("url")):
            srv["url"] = _web(a.get("url"))
        if _s(a.get("updated_at")):
            srv["last_modified"] = _s(a.get("updated_at"))
        service.append(srv)
        g = a.geometry
        if g is None or g.is_empty:
            continue
        lid = _derived(sid, "location")
        loc = {
            "id": lid,
            "location_type": "physical",
            "name": srv["name"],
            "organization_id": oid,
            "latitude": round(float(g.y), 6),
            "longitude": round(float(g.x), 6),
        }
        address, postcode = _s(a.get("address")), _s(a.get("postcode"))
        if postcode and postcode.replace(" ", "").upper() not in address.replace(" ", "").upper():
            address = ", ".join(p for p in (address, postcode) if p)
        if address:
            loc["description"] = f"Address: {address}"
        location.append(loc)
        service_at_location.append({"id": _derived(sid, "service_at_location"), "service_id": sid, "location_id": lid})

    service_area = []
    links = store.read("organisation_areas")
    area_names: dict[tuple[str, str], str] = {}
    located: dict[tuple[str, str, str], list[str]] = {}  # (organisation, layer, area) -> services there
    points = gpd.GeoDataFrame(
        {"sid": [_uuid(i, "asset") for i in assets["id"]], "org": assets["organisation_id"].astype(str).to_numpy()},
        geometry=assets.geometry.to_crs(schema.STORAGE_CRS).to_numpy(),
        crs=schema.STORAGE_CRS,
    )
    points = points[points.geometry.notna() & ~points.geometry.is_empty]
    for layer in schema.BOUNDARY_LAYERS:
        if not store.has_layer(layer):
            continue
        b = store.read(layer)
        area_names.update({(layer, str(i)): str(n) for i, n in zip(b["id"], b["name"], strict=False)})
        hits = gpd.sjoin(points, b[["id", b.geometry.name]].to_crs(schema.STORAGE_CRS), predicate="within")
        for h in hits.itertuples(index=False):
            located.setdefault((h.org, layer, str(h.id)), []).append(h.sid)
    org_names = dict(zip(orgs["id"].astype(str), orgs["name"].astype("string").fillna(""), strict=False))
    for r in links.itertuples(index=False):
        oid = str(r.organisation_id)
        layer, aid = _s(r.boundary_layer), _s(r.area_id)
        if oid not in org_uuid or (layer, aid) not in area_names:
            continue
        name = area_names[(layer, aid)]
        themes = join_themes(r.themes)
        about = f"{_LAYER_NOUN.get(layer, layer)} {name} ({aid})" + (f"; works here on {themes}" if themes else "")
        base = {"name": name, **({"uri": ONS_URI + aid} if _ONS_CODE.match(aid) else {})}
        sids = located.get((oid, layer, aid)) or (services_of[oid] if len(services_of.get(oid, [])) == 1 else [])
        for sid in sids:
            service_area.append(
                {"id": _derived(sid, layer, aid, "service_area"), "service_id": sid, **base, "description": about}
            )
        if not sids:
            service_area.append(
                {
                    "id": _derived(org_uuid[oid], layer, aid, "service_area"),
                    **base,
                    "description": f"{org_names.get(oid, '')}: {about}",
                }
            )

    return {
        "about": _about(store),
        "organization": organization,
        "service": service,
        "location": location,
        "service_at_location": service_at_location,
        "service_area": service_area,
    }


def _about(store: Store) -> dict:
    credits: list[str] = []
    if store.has_layer("sources"):
        src = store.read("sources")
        for text in src[src["layer"].isin(["organisations", "assets", "organisation_areas"])]["attribution"]:
            if _s(text) and _s(text) not in credits:
                credits.append(_s(text))
    return {
        "standard": "Human Services Data Specification (HSDS) 3.0, Open Referral (https://openreferral.org/); "
        "compatible with the Open Referral UK profile",
        "tables": list(HSDS_TABLES),
        "generated_by": "Common Ground",
        "generated_at": now_iso(),
        "attribution": credits,
    }


def write_hsds(store: Store, out_path: str | os.PathLike, *, document: dict | None = None) -> Path:
    """Write :func:`hsds_document` as UTF-8 JSON to ``out_path``, atomically (whole or not at all).

    Parameters
    ----------
    store
        The data store.
    out_path
        The JSON file to write (its folder must exist); an existing file is replaced.
    document
        An already built :func:`hsds_document` of ``store`` (built here when not given).

    Returns
    -------
    Path
        The file written.
    """
    out = Path(out_path).expanduser()
    if not out.parent.is_dir():
        raise HsdsExportError(f"The folder {out.parent} does not exist; create it or choose another --out path.")
    if out.is_dir():
        raise HsdsExportError(f"{out} is a folder; give a file name such as {out / 'hsds.json'}.")
    text = json.dumps(document if document is not None else hsds_document(store), ensure_ascii=False, indent=1)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out
