"""The Common Ground data model, in one place.

Layer names, their geometry and columns, the CRSs, and the asset taxonomy (loaded from
``data/taxonomy.json``, never hard-coded) all live here. Every other module asks this one.

Conventions (``DESIGN.md`` section 2): layers are stored in EPSG:4326, metric work is done in
EPSG:27700 (British National Grid) and reported in metres, every feature has a stable text ``id``,
and every editable layer carries ``created_at``, ``created_by``, ``updated_at`` and ``updated_by``.
Timestamps are ISO 8601 text in UTC.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from geo._lazy import lazy
from geo.errors import SchemaError, TaxonomyError

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

gpd = lazy("geopandas", globals(), "gpd")
pd = lazy("pandas", globals(), "pd")


STORAGE_CRS = "EPSG:4326"
METRIC_CRS = "EPSG:27700"

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
DEMO_GPKG = DATA_DIR / "sheffield.gpkg"
TAXONOMY_FILE = DATA_DIR / "taxonomy.json"

#: ``pending``: a community contribution awaiting an editor; ``removed``: soft-deleted (kept for
#: history and undo, never shown); ``rejected``: a contribution an editor turned down.
ASSET_STATUSES = ("active", "closed", "pending", "removed", "rejected")
ORGANISATION_KINDS = (
    "council",
    "NHS",
    "voluntary",
    "faith",
    "school",
    "business",
    "residents' group",
)
HORIZONS = ("short", "medium", "long")
#: Stories and measure values: ``published`` shows to everyone; ``pending`` is a contributor's
#: proposal awaiting an editor; ``rejected`` and ``withdrawn`` are kept for history, never shown.
#: An empty status (data from before moderation) counts as published.
MODERATION_STATUSES = ("published", "pending", "rejected", "withdrawn")
#: Statuses that are never shown publicly, in any layer that has a ``status``.
HIDDEN_STATUSES = ("pending", "rejected", "withdrawn", "removed")

#: Columns that hold people's names or emails. They reach editors and admins only: never
#: anonymous pages, tables, downloads or public exports (:func:`public_view` drops them). The
#: audit log as a whole (who, before, after) is editors' only too. Not listed: an aspiration's
#: ``raised_by`` and a measure's ``agreed_by``, which name the *groups and partners* behind them
#: (the validator asks for groups, not people): they are the public record of who wants what and
#: who agreed it, which joining up depends on.
PERSONAL_COLUMNS = (
    "created_by",
    "updated_by",
    "contributed_by",
    "recorded_by",
)

EDIT_COLUMNS: dict[str, str] = {
    "created_at": "str",
    "created_by": "str",
    "updated_at": "str",
    "updated_by": "str",
    #: 1 when a feature is added, +1 on every change: an edit names the version it was made from and
    #: is refused when the feature has moved on (optimistic concurrency; see geo.store.base).
    "version": "int",
}
PROVENANCE_COLUMNS: dict[str, str] = {"source": "str", "licence": "str"}


@dataclass(frozen=True)
class LayerSpec:
    """What one layer of the store holds.

    Parameters
    ----------
    name
        The layer (table) name in the GeoPackage.
    geometry
        ``"Point"``, ``"Polygon"`` (also admits MultiPolygon), ``"Geometry"`` (any type: the asset
        outlines, MultiPolygons and MultiLineStrings) or ``None`` for a plain table.
    columns
        Required columns and their kinds (``str``, ``int``, ``float``, ``bool``). A layer may hold
        more columns than these (kept from its source); it may not hold fewer.
    editable
        Whether users edit it (and so it carries the ``EDIT_COLUMNS``).
    description
        One line for people: what the layer is.
    """

    name: str
    geometry: str | None
    columns: dict[str, str]
    editable: bool = True
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def all_columns(self) -> dict[str, str]:
        """Required columns followed by the edit-tracking ones where the layer is editable."""
        cols = dict(self.columns)
        if self.editable:
            cols.update(EDIT_COLUMNS)
        return cols


BOUNDARY_COLUMNS: dict[str, str] = {
    "id": "str",
    "name": "str",
    "population": "float",
    "population_is_estimate": "bool",
    "population_note": "str",
    "imd_decile": "float",
    "imd_rank": "float",
    **PROVENANCE_COLUMNS,
}

#: The layer that holds asset outlines (see its entry in :data:`LAYERS`).
OUTLINES_LAYER = "asset_outlines"
#: Geometry types an outline may have (Polygons and LineStrings are stored as their Multi types).
OUTLINE_GEOMETRIES = ("MultiPolygon", "MultiLineString")

BOUNDARY_LAYERS: dict[str, LayerSpec] = {
    "wards": LayerSpec(
        "wards",
        "Polygon",
        BOUNDARY_COLUMNS,
        editable=False,
        description="Electoral wards",
    ),
    "lsoas": LayerSpec(
        "lsoas",
        "Polygon",
        BOUNDARY_COLUMNS,
        editable=False,
        description="345 Lower Layer Super Output Areas (2011) with IMD 2019",
    ),
    "neighbourhoods": LayerSpec(
        "neighbourhoods",
        "Polygon",
        BOUNDARY_COLUMNS,
        editable=False,
        description="147 community-named neighbourhoods (Data For Action)",
    ),
}

#: The layer of population points (see its entry in :data:`LAYERS`).
POPULATION_LAYER = "population"
POPULATION_COLUMNS: dict[str, str] = {
    "id": "str",
    "name": "str",
    "population": "int",
    "imd_decile": "int",
    "imd_rank": "int",
    **PROVENANCE_COLUMNS,
}

ASSET_COLUMNS: dict[str, str] = {
    "id": "str",
    "name": "str",
    "category": "str",
    "type": "str",
    "description": "str",
    "address": "str",
    "postcode": "str",
    "url": "str",
    "opening_hours": "str",
    "access_notes": "str",
    "organisation_id": "str",
    "status": "str",
    "source": "str",
    "source_ref": "str",
    "licence": "str",
    "verified_on": "str",
    "contributed_by": "str",
}

ORGANISATION_COLUMNS: dict[str, str] = {
    "id": "str",
    "name": "str",
    "kind": "str",
    "charity_number": "str",
    "company_number": "str",
    "themes": "str",
    "url": "str",
    "public_contact": "str",
    **PROVENANCE_COLUMNS,
}

LAYERS: dict[str, LayerSpec] = {
    **BOUNDARY_LAYERS,
    "assets": LayerSpec("assets", "Point", ASSET_COLUMNS, description="Community assets: places and services"),
    "organisations": LayerSpec(
        "organisations",
        "Point",
        ORGANISATION_COLUMNS,
        description="Organisations that run assets or work in areas (point may be empty)",
    ),
    "organisation_areas": LayerSpec(
        "organisation_areas",
        None,
        {
            "organisation_id": "str",
            "boundary_layer": "str",
            "area_id": "str",
            "themes": "str",
            "basis": "str",
            **PROVENANCE_COLUMNS,
        },
        description="Who works where, on what",
    ),
    "aspirations": LayerSpec(
        "aspirations",
        None,
        {
            "id": "str",
            "boundary_layer": "str",
            "area_id": "str",
            "text": "str",
            "theme": "str",
            "raised_by": "str",
            "raised_on": "str",
            "status": "str",
            "asset_ids": "str",
            **PROVENANCE_COLUMNS,
        },
        description="What a community wants for its area, raised by a group",
    ),
    "success_measures": LayerSpec(
        "success_measures",
        None,
        {
            "id": "str",
            "boundary_layer": "str",
            "area_id": "str",
            "aspiration_id": "str",
            "measure": "str",
            "horizon": "str",
            "baseline": "float",
            "target": "float",
            "current": "float",
            "unit": "str",
            "agreed_by": "str",
            "agreed_on": "str",
            **PROVENANCE_COLUMNS,
        },
        description="What success looks like, agreed by partners",
    ),
    "measure_updates": LayerSpec(
        "measure_updates",
        None,
        {
            "id": "str",
            "measure_id": "str",
            "value": "float",
            "recorded_on": "str",
            "recorded_by": "str",
            "note": "str",
            "status": "str",
            **PROVENANCE_COLUMNS,
        },
        description="The history of a success measure's current value",
    ),
    "stories": LayerSpec(
        "stories",
        "Point",
        {
            "id": "str",
            "title": "str",
            "summary": "str",
            "body": "str",
            "boundary_layer": "str",
            "area_id": "str",
            "asset_ids": "str",
            "organisation_ids": "str",
            "themes": "str",
            "method": "str",
            "outcome": "str",
            "date": "str",
            "status": "str",
            **PROVENANCE_COLUMNS,
        },
        description="Stories of success: the evidence base",
    ),
    "taxonomy": LayerSpec(
        "taxonomy",
        None,
        {
            "kind": "str",
            "id": "str",
            "label": "str",
            "category": "str",
            "description": "str",
            "traits": "str",
            "themes": "str",
            "colour": "str",
            "icon": "str",
            "capacity_column": "str",
            "mappable": "bool",
        },
        description="The asset taxonomy: traits, categories (asset families) and types, one row each",
    ),
    "audit_log": LayerSpec(
        "audit_log",
        None,
        {
            "at": "str",
            "by": "str",
            "action": "str",
            "layer": "str",
            "feature_id": "str",
            "before": "str",
            "after": "str",
        },
        editable=False,
        description="Every change: who, when, what, before and after (JSON)",
    ),
    "postcodes": LayerSpec(
        "postcodes",
        None,
        {
            "postcode": "str",
            "lat": "float",
            "lon": "float",
            "easting": "int",
            "northing": "int",
            "positional_quality": "int",
            "admin_district_code": "str",
            "admin_ward_code": "str",
            "in_district": "bool",  # inside the store's own district (the demo's: its city's)
        },
        editable=False,
        description="OS Code-Point Open postcodes for offline lookup",
    ),
    "sources": LayerSpec(
        "sources",
        None,
        {
            "layer": "str",
            "source": "str",
            "licence": "str",
            "attribution": "str",
            "url": "str",
            "vintage": "str",
            "notes": "str",
        },
        editable=False,
        description="Where each layer's data came from and how to credit it",
    ),
    #: Where people live: LSOA population-weighted centroids, one point each, ``id`` = the LSOA code,
    #: with its ``population`` (whole people) and IMD 2019 ``imd_decile`` (1 = most deprived 10%) and
    #: ``imd_rank`` (1 = most deprived), both nullable. Gaps and 2SFCA place people at these points when
    #: the store has them (:func:`geo.analysis.access.measure_gaps`); the boundary layers stay for
    #: display and profiles. Reference data: a store made before it has no such layer, which reads as
    #: none (the area centres are used), and it is created when first written (import or build).
    POPULATION_LAYER: LayerSpec(
        POPULATION_LAYER,
        "Point",
        POPULATION_COLUMNS,
        editable=False,
        description="Where people live: population-weighted centroids (LSOA 2011) with population and IMD 2019",
    ),
    #: The shape of an asset that is an area or a route (a park, allotments, school grounds, a path),
    #: one row per asset, tied to it by ``id`` (the asset's id). The asset itself keeps a point (its
    #: representative point, inside the shape) for clustering, nearest and gaps; the outline is what
    #: maps draw at close zooms and what distances are measured to (:mod:`geo.outlines`). Written
    #: with its asset, in the same transaction; an asset that is removed keeps its outline for undo,
    #: and readers show only the outlines of assets they show. A store made before outlines existed
    #: has no such layer: readers take it as empty, and the first import with shapes creates it.
    OUTLINES_LAYER: LayerSpec(
        OUTLINES_LAYER,
        "Geometry",
        {"id": "str"},
        editable=False,
        description="The outlines of assets that are areas or routes (MultiPolygon or MultiLineString), by asset id",
    ),
}

KNOWLEDGE_LAYERS = ("aspirations", "success_measures", "measure_updates", "stories")

_PANDAS_KIND = {"str": "string", "int": "Int64", "float": "float64", "bool": "boolean"}


def public_view(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without the :data:`PERSONAL_COLUMNS`: what anonymous visitors and contributors
    may see and download. Returns the frame itself when it holds none of them."""
    drop = [c for c in PERSONAL_COLUMNS if c in frame.columns]
    return frame.drop(columns=drop) if drop else frame


def visible_rows(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """``frame`` without the rows whose ``status`` is one of :data:`HIDDEN_STATUSES` (pending,
    rejected, withdrawn, removed): what the public sees. An empty status counts as published.

    A frame without a ``status`` column (or ``None``) is returned as it is; otherwise a filtered view
    (the frame itself when nothing is hidden).
    """
    if frame is None or frame.empty or "status" not in frame.columns:
        return frame
    hidden = frame["status"].astype("string").str.strip().str.casefold().isin(HIDDEN_STATUSES)
    hidden = hidden.fillna(False).astype(bool)
    return frame[~hidden] if hidden.any() else frame


def layer_spec(name: str) -> LayerSpec:
    """Return the :class:`LayerSpec` of a layer, or raise naming the valid layers."""
    try:
        return LAYERS[name]
    except KeyError:
        raise SchemaError(
            f"There is no layer called {name!r} in the data model; choose one of: {', '.join(LAYERS)}."
        ) from None


def empty_layer(name: str) -> gpd.GeoDataFrame | pd.DataFrame:
    """Return an empty frame with the full schema of ``name`` (a GeoDataFrame if it has geometry)."""
    spec = layer_spec(name)
    frame = pd.DataFrame({col: pd.Series(dtype=_PANDAS_KIND[kind]) for col, kind in spec.all_columns.items()})
    if spec.geometry is None:
        return frame
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=STORAGE_CRS), crs=STORAGE_CRS)


def column_dtypes(name: str) -> dict[str, str]:
    """The pandas dtype of each of layer ``name``'s columns in the data model."""
    return {col: _PANDAS_KIND[kind] for col, kind in layer_spec(name).all_columns.items()}


def conform(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Return a copy of ``frame`` with every schema column present, in order, with its dtype.

    Missing columns are added empty; extra columns are kept after the schema columns, and the
    geometry column last. The input is never modified.
    """
    geom = _geometry_name(frame)
    columns = {c: frame[c] for c in frame.columns if c != geom}
    return assemble(columns, name, index=frame.index, geometry=frame[geom] if geom else None)


def assemble(
    columns: dict[str, pd.Series],
    name: str,
    *,
    index: pd.Index,
    geometry: gpd.GeoSeries | None = None,
) -> pd.DataFrame:
    """A frame of layer ``name`` from its columns, built once: the schema's columns in order, each
    with its dtype (missing ones empty), then the extra columns as given, then ``geometry`` under
    its own name. What :func:`conform` returns, and what the stores build their reads with.

    It sets no column on a frame one at a time: pandas copies and checks the whole frame on each,
    which made conforming a read a quarter of the time the page tests spent reading stores.
    """
    spec = layer_spec(name)
    out: dict[str, pd.Series] = {}
    for col, kind in spec.all_columns.items():
        dtype = _PANDAS_KIND[kind]
        if col not in columns:
            out[col] = pd.Series(index=index, dtype=dtype)
            continue
        values = columns[col]
        if str(values.dtype) != dtype:
            try:
                values = values.astype(dtype)
            except (TypeError, ValueError) as exc:
                raise SchemaError(
                    f"Column {col!r} of layer {name!r} must hold {kind} values; fix the values that are not ({exc})."
                ) from None
        out[col] = values
    for col, values in columns.items():
        if col not in out:
            out[col] = values
    if geometry is not None:
        out[geometry.name] = geometry
    # every column on the same index object: the frame is then built without aligning them (which
    # fails when a label repeats), and object columns stay objects (arrays would be inferred as str)
    frame = pd.DataFrame({c: v if v.index is index else v.set_axis(index) for c, v in out.items()})
    return frame if geometry is None else gpd.GeoDataFrame(frame, geometry=geometry.name)


def _geometry_name(frame: pd.DataFrame) -> str | None:
    """The active geometry column's name, or None for a plain table (or a GeoDataFrame without one)."""
    if not isinstance(frame, gpd.GeoDataFrame):
        return None
    name = frame.active_geometry_name
    return name if name in frame.columns else None


def validate_layer(frame: pd.DataFrame, name: str) -> None:
    """Raise :class:`SchemaError` if ``frame`` lacks a required column, ids, or a CRS.

    Parameters
    ----------
    frame
        The layer's rows.
    name
        The layer name in :data:`LAYERS`.
    """
    spec = layer_spec(name)
    missing = [c for c in spec.columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"Layer {name!r} is missing the column(s) {', '.join(missing)}; "
            "add them (they may be empty) before writing."
        )
    if spec.geometry is not None:
        if not isinstance(frame, gpd.GeoDataFrame):
            raise SchemaError(f"Layer {name!r} needs geometry; expected a GeoDataFrame.")
        if frame.crs is None:
            raise SchemaError(f"Layer {name!r} has no CRS; set one with .set_crs() before writing.")
    if "id" in spec.columns:
        ids = frame["id"]
        if ids.isna().any() or (ids.astype(str).str.strip() == "").any():
            raise SchemaError(f"Every feature of {name!r} needs an id; some are empty.")
        dup = ids[ids.duplicated()]
        if len(dup):
            raise SchemaError(f"Layer {name!r} has duplicate ids (e.g. {dup.iloc[0]!r}); ids must be unique.")


# --------------------------------------------------------------------------------------------
# Taxonomy
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssetType:
    """One asset type of the taxonomy."""

    id: str
    label: str
    category: str
    traits: tuple[str, ...]
    themes: tuple[str, ...]
    colour: str
    icon: str
    capacity_column: str | None = None


@dataclass(frozen=True)
class Category:
    """One of the six asset families."""

    id: str
    label: str
    description: str
    colour: str
    mappable: bool = True


@dataclass(frozen=True)
class TraitRule:
    """Which organisations and stories count towards one trait (``trait_rules`` in the taxonomy).

    All values are kept case-folded. An organisation counts when its kind is one of
    ``organisation_kinds`` or one of its themes is one of ``themes``; a story counts when one of its
    themes is one of ``themes`` or its method contains one of ``story_methods`` at the start of a word.
    """

    organisation_kinds: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    story_methods: tuple[str, ...] = ()


#: The fields of one trait's entry under ``trait_rules``, and the prefix each has in the store (a
#: trait row's ``themes`` column holds ``kind:…``, ``theme:…`` and ``method:…`` entries).
TRAIT_RULE_FIELDS = {"organisation_kinds": "kind", "themes": "theme", "story_methods": "method"}


@dataclass(frozen=True)
class Taxonomy:
    """The asset taxonomy: categories, types and the resilience traits they support.

    ``trait_rules`` maps trait ids to :class:`TraitRule`; it is empty for a store whose taxonomy was
    made before the rules existed (:func:`geo.analysis.traits.trait_rules` then uses the seed file's).
    """

    traits: dict[str, str]
    categories: dict[str, Category]
    types: dict[str, AssetType]
    trait_rules: dict[str, TraitRule] = field(default_factory=dict)

    def type(self, type_id: str) -> AssetType:
        """Return a type by id, or raise naming the valid choices."""
        try:
            return self.types[type_id]
        except KeyError:
            raise TaxonomyError(
                f"Unknown asset type {type_id!r}; choose one of: {', '.join(sorted(self.types))}, "
                "or add it to data/taxonomy.json."
            ) from None

    def category(self, category_id: str) -> Category:
        """Return a category by id, or raise naming the valid choices."""
        try:
            return self.categories[category_id]
        except KeyError:
            raise TaxonomyError(
                f"Unknown asset category {category_id!r}; choose one of: {', '.join(self.categories)}."
            ) from None

    def types_in(self, category_id: str) -> list[AssetType]:
        """The types that belong to a category, in file order."""
        self.category(category_id)
        return [t for t in self.types.values() if t.category == category_id]

    def label(self, type_id: str) -> str:
        """The human label of a type id (the id itself if unknown)."""
        t = self.types.get(type_id)
        return t.label if t else str(type_id)

    def themes(self) -> list[str]:
        """Every service theme the types name (``themes`` of each type in the taxonomy file: health,
        food, learning, ...), sorted; a filter people think in, beside the six asset families."""
        return sorted({th for t in self.types.values() for th in t.themes})

    def types_with_theme(self, themes) -> list[str]:
        """The ids of the types that name any of ``themes``, in file order."""
        wanted = set(themes)
        return [t.id for t in self.types.values() if wanted & set(t.themes)]

    def unknown(self, values) -> list[str]:
        """The distinct values (trimmed, sorted) that are neither a type id nor a type's label (ignoring
        case): the types of a file that an import has to map or add."""
        labels = {t.label.casefold() for t in self.types.values()}
        found = {str(v).strip() for v in values if v is not None and v == v and str(v).strip()}
        return sorted(v for v in found if v not in self.types and v.casefold() not in labels)


def _hex(value: str, where: str) -> str:
    if not (isinstance(value, str) and len(value) == 7 and value.startswith("#")):
        raise TaxonomyError(f"{where}: colour {value!r} must be a hex colour such as '#1565c0'.")
    int(value[1:], 16)
    return value


def parse_taxonomy(doc: dict) -> Taxonomy:
    """Build a :class:`Taxonomy` from its JSON document, checking every reference."""
    try:
        traits = dict(doc["traits"])
        categories = {
            c["id"]: Category(
                id=c["id"],
                label=c["label"],
                description=c.get("description", ""),
                colour=_hex(c["colour"], f"category {c['id']!r}"),
                mappable=bool(c.get("mappable", True)),
            )
            for c in doc["categories"]
        }
        types: dict[str, AssetType] = {}
        for t in doc["types"]:
            where = f"type {t.get('id')!r}"
            if t["id"] in types:
                raise TaxonomyError(f"{where} appears twice in the taxonomy; keep one.")
            if t["category"] not in categories:
                raise TaxonomyError(
                    f"{where} names category {t['category']!r}, which is not one of {', '.join(categories)}."
                )
            bad = [tr for tr in t.get("traits", []) if tr not in traits]
            if bad:
                raise TaxonomyError(f"{where} names unknown trait(s) {', '.join(bad)}; use: {', '.join(traits)}.")
            types[t["id"]] = AssetType(
                id=t["id"],
                label=t["label"],
                category=t["category"],
                traits=tuple(t.get("traits", [])),
                themes=tuple(t.get("themes", [])),
                colour=_hex(t["colour"], where),
                icon=t.get("icon", "circle"),
                capacity_column=t.get("capacity_column"),
            )
    except KeyError as exc:
        raise TaxonomyError(
            f"The taxonomy is missing the field {exc.args[0]!r}; see data/taxonomy.json for the shape."
        ) from None
    except ValueError as exc:
        if isinstance(exc, TaxonomyError):
            raise
        raise TaxonomyError(f"The taxonomy has a bad value: {exc}.") from None
    rules = _parse_trait_rules(doc.get("trait_rules") or {}, traits)
    return Taxonomy(traits=traits, categories=categories, types=types, trait_rules=rules)


def _rule_values(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise TaxonomyError(f'{where} must be a list of texts, e.g. ["community", "young people"].')
    out: list[str] = []
    for item in value:
        text = " ".join(str(item).split()).casefold() if isinstance(item, str) else ""
        if not text or any(c in text for c in ",;:"):
            raise TaxonomyError(
                f"{where} holds {item!r}; give each entry as its own text, without commas, semicolons or colons."
            )
        if text not in out:
            out.append(text)
    return tuple(out)


def _parse_trait_rules(section: object, traits: dict[str, str]) -> dict[str, TraitRule]:
    """The ``trait_rules`` section: ``{trait: {"organisation_kinds": [...], "themes": [...], "story_methods": [...]}}``."""
    if not isinstance(section, dict):
        raise TaxonomyError("trait_rules must map trait ids to their rules; see data/taxonomy.json for the shape.")
    kinds = {k.casefold() for k in ORGANISATION_KINDS}
    rules: dict[str, TraitRule] = {}
    for trait, entry in section.items():
        if trait not in traits:
            raise TaxonomyError(f"trait_rules names unknown trait {trait!r}; use: {', '.join(traits)}.")
        if not isinstance(entry, dict):
            raise TaxonomyError(f"trait_rules for {trait!r} must be an object with {', '.join(TRAIT_RULE_FIELDS)}.")
        unknown = sorted(set(entry) - set(TRAIT_RULE_FIELDS))
        if unknown:
            raise TaxonomyError(
                f"trait_rules for {trait!r} has unknown field(s) {', '.join(unknown)}; use: {', '.join(TRAIT_RULE_FIELDS)}."
            )
        values = {f: _rule_values(entry.get(f, []), f"trait_rules {trait!r} {f}") for f in TRAIT_RULE_FIELDS}
        bad = [k for k in values["organisation_kinds"] if k not in kinds]
        if bad:
            raise TaxonomyError(
                f"trait_rules {trait!r} names organisation kind {bad[0]!r}, which is not one of: {', '.join(ORGANISATION_KINDS)}."
            )
        rules[trait] = TraitRule(**values)
    return rules


@lru_cache(maxsize=8)
def _load_taxonomy_cached(path: str, mtime_ns: int) -> Taxonomy:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise TaxonomyError(
            f"The taxonomy file {path} is not valid JSON (line {exc.lineno}): fix it or restore it from git."
        ) from None
    return parse_taxonomy(doc)


def taxonomy_path() -> Path:
    """The taxonomy file in use: ``$COMMON_GROUND_TAXONOMY`` if set, else ``data/taxonomy.json``."""
    from geo import settings

    env = settings.taxonomy_file()
    return Path(env) if env else TAXONOMY_FILE


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Load the asset taxonomy.

    Parameters
    ----------
    path
        A taxonomy JSON file; default :func:`taxonomy_path`.
    """
    p = Path(path) if path is not None else taxonomy_path()
    if not p.exists():
        raise TaxonomyError(f"The taxonomy file {p} does not exist; restore it from git.")
    return _load_taxonomy_cached(str(p), p.stat().st_mtime_ns)


# --------------------------------------------------------------------------------------------
# The taxonomy as rows of the store's ``taxonomy`` layer (``data/taxonomy.json`` seeds new stores)
# --------------------------------------------------------------------------------------------

TAXONOMY_KINDS = ("trait", "category", "type")


def taxonomy_rows(doc: dict) -> pd.DataFrame:
    """The ``taxonomy`` layer's rows for a taxonomy document (the shape of ``data/taxonomy.json``).

    One row per trait, category and type, in document order; lists (traits, themes) are stored as
    comma-separated text. The document is checked first (:func:`parse_taxonomy`).
    """
    parse_taxonomy(doc)
    rules = _parse_trait_rules(doc.get("trait_rules") or {}, dict(doc["traits"]))
    rows: list[dict] = []
    for tid, label in doc["traits"].items():
        row = {"kind": "trait", "id": tid, "label": label}
        if tid in rules:
            row["themes"] = trait_rule_text(rules[tid])
        rows.append(row)
    for c in doc["categories"]:
        rows.append(
            {
                "kind": "category",
                "id": c["id"],
                "label": c["label"],
                "description": c.get("description", ""),
                "colour": c["colour"],
                "mappable": bool(c.get("mappable", True)),
            }
        )
    for t in doc["types"]:
        rows.append(
            {
                "kind": "type",
                "id": t["id"],
                "label": t["label"],
                "category": t["category"],
                "traits": ", ".join(t.get("traits", [])),
                "themes": ", ".join(t.get("themes", [])),
                "colour": t["colour"],
                "icon": t.get("icon", "circle"),
                "capacity_column": t.get("capacity_column") or "",
            }
        )
    frame = pd.DataFrame(rows)
    frame["mappable"] = frame["mappable"].astype("boolean")
    return frame


def taxonomy_doc(rows: pd.DataFrame) -> dict:
    """The taxonomy document held by the ``taxonomy`` layer's rows (inverse of :func:`taxonomy_rows`)."""

    def text(v: object) -> str:
        return "" if v is None or v is pd.NA or (isinstance(v, float) and v != v) else str(v)

    def split(v: object) -> list[str]:
        return [p.strip() for p in text(v).split(",") if p.strip()]

    doc: dict = {"traits": {}, "categories": [], "types": []}
    rules: dict[str, dict] = {}
    for r in rows.to_dict("records"):
        kind = text(r.get("kind"))
        if kind == "trait":
            doc["traits"][text(r["id"])] = text(r.get("label"))
            if text(r.get("themes")):
                rules[text(r["id"])] = trait_rule_from_text(text(r.get("themes")))
        elif kind == "category":
            m = r.get("mappable")
            doc["categories"].append(
                {
                    "id": text(r["id"]),
                    "label": text(r.get("label")),
                    "description": text(r.get("description")),
                    "colour": text(r.get("colour")),
                    "mappable": True if m is None or m is pd.NA else bool(m),
                }
            )
        elif kind == "type":
            entry = {
                "id": text(r["id"]),
                "label": text(r.get("label")),
                "category": text(r.get("category")),
                "traits": split(r.get("traits")),
                "themes": split(r.get("themes")),
                "colour": text(r.get("colour")),
                "icon": text(r.get("icon")) or "circle",
            }
            if text(r.get("capacity_column")):
                entry["capacity_column"] = text(r.get("capacity_column"))
            doc["types"].append(entry)
    if rules:
        doc["trait_rules"] = rules
    return doc


def trait_rule_text(rule: TraitRule) -> str:
    """One trait's rules as its row's ``themes`` text: ``"kind:residents' group, theme:community, method:volunteer"``."""
    return ", ".join(f"{prefix}:{v}" for f, prefix in TRAIT_RULE_FIELDS.items() for v in getattr(rule, f))


def trait_rule_from_text(text: str) -> dict[str, list[str]]:
    """The inverse of :func:`trait_rule_text`, as a ``trait_rules`` entry (an entry without a prefix
    is a theme)."""
    by_prefix = {prefix: f for f, prefix in TRAIT_RULE_FIELDS.items()}
    entry: dict[str, list[str]] = {f: [] for f in TRAIT_RULE_FIELDS}
    for part in text.replace(";", ",").split(","):
        prefix, sep, value = part.partition(":")
        field_name = by_prefix.get(prefix.strip().casefold()) if sep else "themes"
        if field_name is None:
            raise TaxonomyError(
                f"A trait's rule {part.strip()!r} in the taxonomy layer starts with an unknown prefix; "
                f"use {', '.join(p + ':' for p in by_prefix)}."
            )
        value = (value if sep else prefix).strip()
        if value:
            entry[field_name].append(value)
    return entry


def taxonomy_document(path: str | Path | None = None) -> dict:
    """The seed taxonomy document (``$COMMON_GROUND_TAXONOMY`` or ``data/taxonomy.json``)."""
    p = Path(path) if path is not None else taxonomy_path()
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TaxonomyError(f"The taxonomy file {p} does not exist; restore it from git.") from None
    except json.JSONDecodeError as exc:
        raise TaxonomyError(
            f"The taxonomy file {p} is not valid JSON (line {exc.lineno}): fix it or restore it from git."
        ) from None
