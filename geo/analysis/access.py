"""Access to services: the nearest asset of every type, gaps, and two-step floating catchment scores.

Distances are straight-line grid distances in EPSG:27700 (British National Grid), in metres, as the
project's conventions require. Near the grid's central meridian (2°W) its scale factor is about 0.9996, so a grid
distance is about 0.04% shorter than the distance on the ground (0.3 m at 800 m, 2 m at 5 km).

Walking times are **estimates** from the straight-line distance: the distance is multiplied by a
detour factor of :data:`DETOUR_FACTOR` (streets are not straight; 1.2 to 1.4 is typical of British
towns) and divided by a walking speed of :data:`WALK_SPEED_M_PER_MIN` metres a minute (4.8 km/h).
They ignore hills, crossings, barriers and the actual street network.

Nearest-neighbour search uses one k-d tree per asset type (``scipy.spatial.cKDTree``) over the
projected coordinates, so nearest-of-every-type for every area of England against a million assets
takes seconds (see ``benchmarks/nearest.py``).

**Assets with outlines** (a park, school grounds, a trail: :mod:`geo.outlines`) are measured to
their outline, 0 inside a polygon, so "the nearest park" is the nearest park *edge*. Pass the
outlines as ``outlines=`` (asset id -> shape, e.g. :func:`geo.outlines.read_outlines`); assets
without one are measured to their point. To keep the k-d tree's speed, each type's outlines are
densified to a vertex every :data:`OUTLINE_VERTEX_SPACING_M` metres (25 m) and those vertices are
indexed in one k-d tree with the type's points; a vertex hit names its asset, whose distance is
then computed exactly (shapely, in EPSG:27700), and an origin inside one of the type's polygons
(an ``STRtree`` ``within`` query) gets 0.

Error bound: the distance reported is always the exact distance to the asset reported. The
search can pick the wrong asset only when an outline's nearest vertex is farther than another
asset's point or vertex but its edge is nearer; since an edge point is never more than half the
spacing from a vertex along its segment, the reported distance exceeds the true nearest distance
``e`` by at most ``sqrt(e**2 + (s/2)**2) - e`` <= :data:`OUTLINE_ERROR_M` = 12.5 m (under 1 m
beyond 80 m; ``benchmarks/nearest.py`` prints how often it happens). 2SFCA catchments are exact
(every vertex within the catchment plus 12.5 m is a candidate, then the exact distance decides).

Why this module is long: nearest, gaps and 2SFCA share the same prepared search (per-type k-d
trees over points and densified outlines, the population basis), and each answer is checked
against the same exact distance; keeping them together keeps that one search.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import CRSError, LayerNotFoundError, OutsideAreaError, SchemaError, TaxonomyError
from geo.outlines import outlines_from_frame
from geo.schema import METRIC_CRS, POPULATION_LAYER, STORAGE_CRS, Taxonomy

if TYPE_CHECKING:
    from scipy.spatial import cKDTree


def _kdtree(points: np.ndarray) -> cKDTree:
    """A k-d tree over ``points``. SciPy's spatial module is imported on first use: most page runs
    (Explore, every map) never search, and the import costs about 0.3 s of CPU in a new process."""
    from scipy.spatial import cKDTree

    return cKDTree(points)


DETOUR_FACTOR = 1.3
WALK_SPEED_M_PER_MIN = 80.0  # 4.8 km/h
DEFAULT_WITHIN_M = 800.0
#: An origin farther than this from every asset is taken to be outside the data's area.
OUTSIDE_AREA_M = 30_000.0
WALK_ESTIMATE_NOTE = (
    f"Estimated walking time: straight-line distance x {DETOUR_FACTOR} (detour factor) at "
    f"{WALK_SPEED_M_PER_MIN * 60 / 1000:.1f} km/h. Not a route: hills, crossings and the street network are ignored."
)


#: Outlines are indexed by their vertices, densified to at most this spacing (metres, EPSG:27700).
OUTLINE_VERTEX_SPACING_M = 25.0
#: The most a distance to the nearest outline can be overstated: half the vertex spacing (module notes).
OUTLINE_ERROR_M = OUTLINE_VERTEX_SPACING_M / 2

#: An outline-aware search: ``outlines`` maps asset ids to shapes (a GeoSeries indexed by id, or the
#: ``asset_outlines`` layer's rows); ``None`` measures every asset to its point.
Outlines = gpd.GeoSeries | gpd.GeoDataFrame | None


def walk_minutes_estimate(distance_m: float | np.ndarray | pd.Series) -> float | np.ndarray | pd.Series:
    """Estimated walking minutes for a straight-line distance in metres (see module notes)."""
    return distance_m * DETOUR_FACTOR / WALK_SPEED_M_PER_MIN


def walk_radius_m(minutes: float) -> float:
    """The straight-line radius that :func:`walk_minutes_estimate` turns into ``minutes``."""
    return minutes * WALK_SPEED_M_PER_MIN / DETOUR_FACTOR


def _metric_xy(geoms: gpd.GeoSeries | gpd.GeoDataFrame, what: str) -> np.ndarray:
    """``(n, 2)`` coordinates in EPSG:27700 of point geometries (reprojected if needed)."""
    if isinstance(geoms, gpd.GeoDataFrame):
        geoms = geoms.geometry
    if not isinstance(geoms, gpd.GeoSeries):
        raise SchemaError(f"{what} must be a GeoSeries or GeoDataFrame; got {type(geoms).__name__}.")
    if geoms.crs is None:
        raise CRSError(f"{what} has no CRS; set one with .set_crs() first.")
    if len(geoms) == 0:
        return np.empty((0, 2))
    arr = geoms.array.to_numpy() if hasattr(geoms.array, "to_numpy") else np.asarray(geoms.array)
    if (shapely.is_missing(arr) | shapely.is_empty(arr)).any():
        raise SchemaError(f"{what} has empty geometries; drop them first.")
    if not (shapely.get_type_id(arr) == 0).all():  # 0 = Point
        raise SchemaError(f"{what} must be points; use area_points() for polygons.")
    if geoms.crs != METRIC_CRS:
        arr = np.asarray(geoms.to_crs(METRIC_CRS).array)
    return shapely.get_coordinates(arr)


def _metric_outlines(assets: gpd.GeoDataFrame, outlines: Outlines) -> np.ndarray | None:
    """Each asset's outline in EPSG:27700 by position in ``assets`` (``None`` where it has none), or
    ``None`` when no asset has one. Outlines are matched to assets by ``id``."""
    if outlines is None or len(outlines) == 0 or "id" not in assets.columns or len(assets) == 0:
        return None
    series = outlines_from_frame(outlines)
    if series.empty:
        return None
    if series.crs is None:
        raise CRSError("outlines has no CRS; set one with .set_crs() first.")
    pos = series.index.get_indexer(assets["id"].to_numpy())
    has = pos >= 0
    if not has.any():
        return None
    geoms = series.iloc[pos[has]]
    if geoms.crs != METRIC_CRS:
        geoms = geoms.to_crs(METRIC_CRS)
    out = np.full(len(assets), None, dtype=object)
    out[has] = geoms.to_numpy()
    return out


def _outline_vertices(shapes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The vertices of ``shapes`` densified to :data:`OUTLINE_VERTEX_SPACING_M`, and the position in
    ``shapes`` each belongs to."""
    dense = shapely.segmentize(shapes, max_segment_length=OUTLINE_VERTEX_SPACING_M)
    return shapely.get_coordinates(dense, return_index=True)


def _nearest_with_outlines(
    oxy: np.ndarray,
    opoints: np.ndarray,
    members: np.ndarray,
    axy: np.ndarray,
    shapes: np.ndarray,
    has_shape: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Distance to, and position of, the nearest of ``members`` (asset positions) for each origin,
    measuring assets with a shape to the shape (module notes).

    One k-d tree holds the type's points and its outlines' densified vertices; the nearest item
    names the asset; where it is a vertex, the distance to that asset's outline is computed exactly;
    origins inside one of the type's polygons get 0.
    """
    shaped_mask = has_shape[members]
    plain = members[~shaped_mask]
    shaped = members[shaped_mask]
    geoms = shapes[shaped]
    verts, owner = _outline_vertices(geoms)
    d, i = _kdtree(np.concatenate([axy[plain], verts])).query(oxy, k=1)
    dist = np.asarray(d, dtype=float).copy()
    is_vertex = i >= len(plain)
    best = np.empty(len(oxy), dtype=np.int64)
    best[~is_vertex] = plain[i[~is_vertex]]
    hit = np.flatnonzero(is_vertex)
    cand = owner[i[hit] - len(plain)]
    best[hit] = shaped[cand]
    dist[hit] = shapely.distance(opoints[hit], geoms[cand])  # exact, never more than the vertex's distance
    polygonal = np.flatnonzero(np.isin(shapely.get_type_id(geoms), (3, 6)))  # (Multi)Polygons; lines are 1, 5
    if len(polygonal):
        oi, pi = shapely.STRtree(geoms[polygonal]).query(opoints, predicate="within")
        dist[oi] = 0.0
        best[oi] = shaped[polygonal[pi]]
    return dist, best


def area_points(areas: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """One point per area: its centroid, or a representative point where the centroid falls outside.

    Returned in EPSG:27700 on ``areas``' index.
    """
    if areas.crs is None:
        raise CRSError("areas has no CRS; set one with .set_crs() first.")
    polys = areas.geometry.to_crs(METRIC_CRS)
    cent = polys.centroid
    inside = cent.within(polys)
    return cent.where(inside, polys.representative_point()).set_crs(METRIC_CRS, allow_override=True)


class _TypeIndex:
    """An assets frame prepared for nearest-of-type searches: its points in EPSG:27700, its rows
    grouped by type, and one k-d tree per type (built when first asked for)."""

    def __init__(self, assets: gpd.GeoDataFrame, type_column: str) -> None:
        self.xy = _metric_xy(assets, "assets")
        codes, uniques = pd.factorize(assets[type_column], sort=True)
        self.types: list = list(uniques)
        self.present = {t: i for i, t in enumerate(self.types)}
        self.order = np.argsort(codes, kind="stable")
        self.bounds = np.searchsorted(codes[self.order], np.arange(len(self.types) + 1))
        self._trees: dict[int, cKDTree] = {}

    def members(self, code: int) -> np.ndarray:
        """Positions in the frame of the assets of one type (by its code)."""
        return self.order[self.bounds[code] : self.bounds[code + 1]]

    def tree(self, code: int) -> cKDTree:
        """The k-d tree over the points of one type (positions into :meth:`members`)."""
        tree = self._trees.get(code)
        if tree is None:
            tree = self._trees[code] = _kdtree(self.xy[self.members(code)])
        return tree


#: Prepared assets frames, by the frame's content (module notes): the few most recent only.
_INDEX_CACHE: OrderedDict[bytes, _TypeIndex] = OrderedDict()
_INDEX_CACHE_SIZE = 8
_INDEX_LOCK = threading.Lock()


def _frame_key(assets: gpd.GeoDataFrame, type_column: str) -> bytes:
    """A digest of what a :class:`_TypeIndex` depends on: the CRS, every point's coordinates and
    every row's type. Any change to them, in place or not, gives a new key, so a cached index is
    never stale; it costs a hash of the columns, far less than reprojecting and building trees."""
    geoms = assets.geometry.array
    arr = geoms.to_numpy() if hasattr(geoms, "to_numpy") else np.asarray(geoms)
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{assets.crs}|{len(assets)}|{type_column}".encode())
    h.update(np.ascontiguousarray(shapely.get_coordinates(arr)).tobytes())
    h.update(np.ascontiguousarray(shapely.get_type_id(arr)).tobytes())
    h.update(pd.util.hash_pandas_object(assets[type_column], index=False).to_numpy().tobytes())
    return h.digest()


def clear_index_cache() -> None:
    """Forget every prepared assets frame (benchmarks time the cold search with it)."""
    with _INDEX_LOCK:
        _INDEX_CACHE.clear()


def _type_index(assets: gpd.GeoDataFrame, type_column: str) -> _TypeIndex:
    """The :class:`_TypeIndex` of ``assets``, reused while the frame's points and types are the same."""
    if len(assets) == 0 or assets.crs is None:
        return _TypeIndex(assets, type_column)  # raises the plain errors, or is trivial
    key = _frame_key(assets, type_column)
    with _INDEX_LOCK:
        index = _INDEX_CACHE.get(key)
        if index is not None:
            _INDEX_CACHE.move_to_end(key)
            return index
    index = _TypeIndex(assets, type_column)
    with _INDEX_LOCK:
        _INDEX_CACHE[key] = index
        while len(_INDEX_CACHE) > _INDEX_CACHE_SIZE:
            _INDEX_CACHE.popitem(last=False)
    return index


@dataclass(frozen=True)
class NearestTable:
    """Nearest asset of each type for many origins, as parallel arrays (long format).

    ``origin`` holds positions into the origins, ``asset`` positions into the assets (``-1`` where
    a type has no asset at all), ``type_code`` positions into ``types``.
    """

    types: list[str]
    origin: np.ndarray
    type_code: np.ndarray
    asset: np.ndarray
    distance_m: np.ndarray

    def frame(
        self, origins_index: pd.Index, assets: gpd.GeoDataFrame | None = None, columns=("id", "name")
    ) -> pd.DataFrame:
        """As a DataFrame: ``origin`` (labels of the origins' index), ``type``, ``distance_m`` and the
        chosen asset columns."""
        out = pd.DataFrame(
            {
                "origin": origins_index.to_numpy()[self.origin],
                "type": np.asarray(self.types, dtype=object)[self.type_code],
                "distance_m": self.distance_m,
            }
        )
        if assets is not None:
            ok = self.asset >= 0
            for col in columns:
                values = pd.Series(pd.NA, index=out.index, dtype="object")
                values[ok] = assets[col].iloc[self.asset[ok]].to_numpy(dtype=object)  # the rows used, not the column
                out[col] = values
        return out


def nearest_of_each_type(
    origins: gpd.GeoSeries | gpd.GeoDataFrame,
    assets: gpd.GeoDataFrame,
    *,
    types: list[str] | None = None,
    type_column: str = "type",
    outlines: Outlines = None,
) -> NearestTable:
    """For every origin, the nearest asset of every type and its straight-line distance in metres.

    Parameters
    ----------
    origins
        Points (any CRS; reprojected to EPSG:27700).
    assets
        Points with a ``type`` column (any CRS).
    types
        The types to report, in this order; default every type present in ``assets`` (sorted).
        A listed type with no assets gets distance ``inf`` and asset ``-1``.
    outlines
        Asset id -> outline (any CRS): those assets are measured to their outline, 0 inside, with
        the error bound of the module notes (at most :data:`OUTLINE_ERROR_M`). Types with no
        outline take the plain k-d tree path.

    Returns
    -------
    NearestTable
        ``len(origins) * len(types)`` rows.
    """
    if type_column not in assets.columns:
        raise SchemaError(f"assets needs a {type_column!r} column.")
    oxy = _metric_xy(origins, "origins")
    index = _type_index(assets, type_column)
    axy, present, order, bounds = index.xy, index.present, index.order, index.bounds
    wanted = list(index.types) if types is None else list(types)
    n = len(oxy)
    origin_idx = np.tile(np.arange(n), len(wanted))
    type_code = np.repeat(np.arange(len(wanted)), n)
    asset_idx = np.full(n * len(wanted), -1, dtype=np.int64)
    dist = np.full(n * len(wanted), np.inf)
    shapes = _metric_outlines(assets, outlines) if n else None
    has_shape = shapes != None if shapes is not None else None  # noqa: E711 (elementwise on objects)
    opoints = shapely.points(oxy) if shapes is not None else None
    for k, t in enumerate(wanted):
        c = present.get(t)
        if c is None or n == 0:
            continue
        members = order[bounds[c] : bounds[c + 1]]
        if has_shape is not None and has_shape[members].any():
            d, j = _nearest_with_outlines(oxy, opoints, members, axy, shapes, has_shape)
            asset_idx[k * n : (k + 1) * n] = j
            dist[k * n : (k + 1) * n] = d
            continue
        d, j = index.tree(c).query(oxy, k=1)
        asset_idx[k * n : (k + 1) * n] = members[j]
        dist[k * n : (k + 1) * n] = d
    return NearestTable(wanted, origin_idx, type_code, asset_idx, dist)


@dataclass
class NearResult:
    """What is near one origin, and what is missing within ``within_m``."""

    lon: float
    lat: float
    within_m: float
    nearest: pd.DataFrame  # one row per type with assets: type, category, id, name, distance_m, ...
    missing: list[str]
    not_mapped: list[str] = field(default_factory=list)  # taxonomy types with no data at all
    postcode: str | None = None

    def as_dict(self) -> dict:
        """The JSON document of ``python -m geo near --json``."""
        rows = [
            {
                "type": r.type,
                "category": r.category,
                "id": r.id,
                "name": r.name,
                "distance_m": round(float(r.distance_m), 1),
                "walk_minutes_estimate": round(float(r.walk_minutes_estimate), 1),
            }
            for r in self.nearest.itertuples()
        ]
        return {
            "origin": {"lon": self.lon, "lat": self.lat, "postcode": self.postcode},
            "within_m": self.within_m,
            "nearest": rows,
            "missing": self.missing,
            "not_mapped": self.not_mapped,
            "walk_estimate_note": WALK_ESTIMATE_NOTE,
        }


def near(
    lon: float,
    lat: float,
    assets: gpd.GeoDataFrame,
    *,
    taxonomy: Taxonomy,
    within_m: float = DEFAULT_WITHIN_M,
    postcode: str | None = None,
    outlines: Outlines = None,
) -> NearResult:
    """The nearest asset of every type from a point, and the types with none within ``within_m``.

    Parameters
    ----------
    lon, lat
        The origin in EPSG:4326.
    assets
        The assets to search (filter them first, e.g. to active ones).
    within_m
        The distance that counts as near, in metres (straight line).
    outlines
        Asset id -> outline: those assets are measured to their edge, 0 inside (module notes).

    Returns
    -------
    NearResult
        ``nearest`` is sorted by distance; ``missing`` lists the types that have assets somewhere
        but none within ``within_m``, in taxonomy order; ``not_mapped`` lists taxonomy types with no
        asset in the data at all (absent from the data, which is not the same as absent from the place).
    """
    if not (np.isfinite(lon) and np.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise SchemaError(f"The origin ({lon}, {lat}) is not a longitude, latitude pair.")
    if within_m is None or not np.isfinite(within_m) or within_m <= 0:
        raise SchemaError(f"The distance must be a positive number of metres; got {within_m!r}.")
    origin = gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs=STORAGE_CRS)
    if "type" not in assets.columns:
        raise SchemaError("assets needs a 'type' column.")
    present = set(_type_index(assets, "type").types)  # once per frame (cached): iterating the column is slow
    order = [t for t in taxonomy.types if t in present]
    extra = sorted(present - set(order), key=str)
    table = nearest_of_each_type(origin, assets, types=order + extra, outlines=outlines)
    frame = table.frame(pd.RangeIndex(1), assets, columns=("id", "name", "category"))
    frame = frame.drop(columns="origin")
    frame["walk_minutes_estimate"] = walk_minutes_estimate(frame["distance_m"])
    frame["within"] = frame["distance_m"] <= within_m
    frame["label"] = frame["type"].map(taxonomy.label)
    frame = frame.sort_values("distance_m", kind="stable").reset_index(drop=True)
    if len(frame) and frame["distance_m"].min() > OUTSIDE_AREA_M:
        raise OutsideAreaError(
            f"The point ({lon:.5f}, {lat:.5f}) is {frame['distance_m'].min() / 1000:,.0f} km from every asset in the "
            "data, outside the area it covers; check the coordinates (longitude first, then latitude)."
        )
    reached = set(frame.loc[frame["within"], "type"])
    missing = [t for t in order + extra if t not in reached]
    not_mapped = [
        t.id for t in taxonomy.types.values() if t.id not in present and taxonomy.category(t.category).mappable
    ]
    return NearResult(float(lon), float(lat), float(within_m), frame, missing, not_mapped, postcode)


#: ``GapsResult.basis`` when people are placed at the store's population points.
BASIS_POINTS = "population points"
#: ``GapsResult.basis`` when people are placed at each area's centre (no population layer).
BASIS_AREAS = "area centres"


def read_population(store) -> gpd.GeoDataFrame | None:
    """The store's population points (:data:`geo.schema.POPULATION_LAYER`) with a known, positive
    population and a point, or ``None`` when the store has no such layer or it holds none (a store
    made before the layer existed reads as none)."""
    try:
        has = store.has_layer(POPULATION_LAYER)
    except AttributeError:
        has = True
    if not has:
        return None
    try:
        frame = store.read(POPULATION_LAYER)
    except LayerNotFoundError:
        return None
    return _usable_population(frame)


def _usable_population(frame: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if frame is None or len(frame) == 0:
        return None
    if not isinstance(frame, gpd.GeoDataFrame) or frame.crs is None:
        raise CRSError("population points need a CRS; set one with .set_crs() first.")
    if "population" not in frame.columns:
        raise SchemaError("population points need a 'population' column (people at each point).")
    geoms = frame.geometry
    ok = geoms.notna().to_numpy() & ~geoms.is_empty.to_numpy() & (geoms.geom_type == "Point").to_numpy()
    pop = pd.to_numeric(frame["population"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    ok &= np.isfinite(pop) & (pop > 0)
    return frame[ok] if ok.any() else None


@dataclass(frozen=True)
class GapsResult:
    """What :func:`measure_gaps` found.

    ``areas`` has one row per area (see :func:`measure_gaps`); ``points`` one row per population
    point inside an area (``None`` on the area-centre basis); ``basis`` is :data:`BASIS_POINTS` or
    :data:`BASIS_AREAS`; ``points_outside`` counts population points in no area (not counted).
    """

    areas: pd.DataFrame
    points: pd.DataFrame | None
    basis: str
    points_outside: int = 0

    @property
    def basis_note(self) -> str:
        """One plain sentence: where people were placed."""
        if self.basis == BASIS_POINTS:
            n = 0 if self.points is None else len(self.points)
            out = (
                f"People are placed at {n:,} population-weighted centroids (the store's population layer), "
                "each counted in the area it lies in; an area's people beyond the distance are those at its points beyond it."
            )
            if self.points_outside:
                out += f" {self.points_outside:,} points lie in none of these areas and are not counted."
            return out
        return (
            "People are placed at each area's centre (its centroid, or a point inside it where the centroid falls "
            "outside): the store has no population points."
        )


def _supply_of(assets: gpd.GeoDataFrame, type_id: str) -> gpd.GeoDataFrame:
    if "type" not in assets.columns:
        raise SchemaError("assets needs a 'type' column.")
    supply = assets[(assets["type"] == type_id).to_numpy(dtype=bool, na_value=False)]
    if supply.empty:
        known = ", ".join(sorted(str(t) for t in _type_index(assets, "type").types)) if len(assets) else "none"
        raise TaxonomyError(
            f"There are no assets of type {type_id!r} to measure gaps from; types with assets: {known}."
        )
    return supply


def gaps(
    areas: gpd.GeoDataFrame,
    assets: gpd.GeoDataFrame,
    *,
    type_id: str,
    within_m: float = DEFAULT_WITHIN_M,
    capacity_column: str | None = None,
    outlines: Outlines = None,
    population: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """The per-area table of :func:`measure_gaps` (its ``areas``), with the basis in
    ``attrs["population_basis"]``."""
    return measure_gaps(
        areas,
        assets,
        type_id=type_id,
        within_m=within_m,
        capacity_column=capacity_column,
        outlines=outlines,
        population=population,
    ).areas


def measure_gaps(
    areas: gpd.GeoDataFrame | None,
    assets: gpd.GeoDataFrame,
    *,
    type_id: str,
    within_m: float = DEFAULT_WITHIN_M,
    capacity_column: str | None = None,
    outlines: Outlines = None,
    population: gpd.GeoDataFrame | None = None,
) -> GapsResult:
    """How far people are from the nearest asset of ``type_id``, per area, and the 2SFCA score.

    Two bases, said in the result's ``basis``:

    - **Population points** (``population`` given and not empty: the store's population layer, see
      :func:`read_population`): people are placed at the points, each point is assigned to the
      area it lies in, and an area's ``population_beyond`` is the sum over its points farther than
      ``within_m``. ``distance_m`` is the distance of its farthest point (so an area is ``beyond``
      exactly when ``distance_m`` exceeds ``within_m``), ``mean_distance_m`` its points'
      population-weighted mean, ``nearest_*`` the nearest asset of its most populous point, ``score_2sfca`` the
      population-weighted mean of its points' scores (2SFCA over every point). An area with no point
      has population 0 and its centre's distance. With ``areas=None`` each point is its own area.
    - **Area centres** (no population points): each area's centroid, or a point inside it where the
      centroid falls outside; its own ``population`` is beyond or not as a whole.

    Assets with an outline in ``outlines`` (asset id -> shape) are measured to their edge, 0 inside
    (module notes), for the distance and the 2SFCA catchments alike.

    Returns
    -------
    GapsResult
        ``areas`` on ``areas``' index with ``id``, ``name``, ``population``, ``population_beyond``,
        ``share_beyond``, ``imd_decile`` (when the layer has it), ``distance_m``, ``nearest_id``,
        ``nearest_name``, ``beyond`` (some of its people are beyond ``within_m``) and ``score_2sfca``
        (supply per 1,000 residents within the catchment; see :func:`two_step_fca`); on the points basis
        also ``mean_distance_m`` and ``points`` (how many). ``areas.attrs["population_basis"]`` is the basis.
    """
    if within_m is None or not np.isfinite(within_m) or within_m <= 0:
        raise SchemaError(f"The distance must be a positive number of metres; got {within_m!r}.")
    supply = _supply_of(assets, type_id)
    capacity = None
    if capacity_column and capacity_column in supply.columns:
        capacity = pd.to_numeric(supply[capacity_column], errors="coerce").fillna(0.0)
    people = _usable_population(population)
    if people is None:
        if areas is None:
            raise SchemaError("gaps needs boundary areas or population points; import one of them first.")
        table = _centre_gaps(areas, supply, within_m=within_m, capacity=capacity, outlines=outlines)
        table.attrs["population_basis"] = BASIS_AREAS
        return GapsResult(table, None, BASIS_AREAS)

    points = _point_gaps(people, supply, within_m=within_m, capacity=capacity, outlines=outlines)
    if areas is None:
        table = points.copy()
        table.attrs["population_basis"] = BASIS_POINTS
        return GapsResult(table, points, BASIS_POINTS)
    pos = _area_of_points(people, areas)
    inside = pos >= 0
    points = points[inside].copy()
    points["area_id"] = areas["id"].to_numpy()[pos[inside]]
    table = _aggregate_points(areas, points, pos[inside], supply, within_m=within_m, outlines=outlines)
    table.attrs["population_basis"] = BASIS_POINTS
    return GapsResult(table, points, BASIS_POINTS, int((~inside).sum()))


def _centre_gaps(
    areas: gpd.GeoDataFrame,
    supply: gpd.GeoDataFrame,
    *,
    within_m: float,
    capacity: pd.Series | None,
    outlines: Outlines,
) -> pd.DataFrame:
    """The area-centre basis of :func:`measure_gaps`."""
    pts = area_points(areas)
    type_id = supply["type"].iloc[0]
    table = nearest_of_each_type(pts, supply, types=[type_id], outlines=outlines)
    out = pd.DataFrame(index=areas.index)
    out["id"] = areas["id"].to_numpy()
    out["name"] = areas["name"].to_numpy()
    out["population"] = (
        pd.to_numeric(areas["population"], errors="coerce").to_numpy() if "population" in areas else np.nan
    )
    if "imd_decile" in areas.columns:
        out["imd_decile"] = pd.to_numeric(areas["imd_decile"], errors="coerce").to_numpy()
    out["distance_m"] = table.distance_m
    out["nearest_id"] = supply["id"].to_numpy()[table.asset]
    out["nearest_name"] = supply["name"].to_numpy()[table.asset]
    out["beyond"] = out["distance_m"] > within_m
    out["population_beyond"] = out["population"].where(out["beyond"], 0.0)
    out["share_beyond"] = out["beyond"].astype(float).where(out["population"].notna())
    out["score_2sfca"] = two_step_fca(
        pts, out["population"].fillna(0.0), supply, catchment_m=within_m, capacity=capacity, outlines=outlines
    ).to_numpy()
    return out


def _point_gaps(
    people: gpd.GeoDataFrame,
    supply: gpd.GeoDataFrame,
    *,
    within_m: float,
    capacity: pd.Series | None,
    outlines: Outlines,
) -> pd.DataFrame:
    """One row per population point: its people, decile, distance, nearest asset, beyond, 2SFCA."""
    type_id = supply["type"].iloc[0]
    geoms = people.geometry
    table = nearest_of_each_type(geoms, supply, types=[type_id], outlines=outlines)
    pop = pd.to_numeric(people["population"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    out = pd.DataFrame(index=people.index)
    out["id"] = people["id"].to_numpy() if "id" in people else people.index.astype(str)
    out["name"] = people["name"].to_numpy() if "name" in people else out["id"]
    out["population"] = pop
    for col in ("imd_decile", "imd_rank"):
        if col in people.columns:
            out[col] = pd.to_numeric(people[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    out["distance_m"] = table.distance_m
    out["nearest_id"] = supply["id"].to_numpy()[table.asset]
    out["nearest_name"] = supply["name"].to_numpy()[table.asset]
    out["beyond"] = out["distance_m"] > within_m
    out["population_beyond"] = np.where(out["beyond"], pop, 0.0)
    out["share_beyond"] = out["beyond"].astype(float)
    out["score_2sfca"] = two_step_fca(
        geoms, pd.Series(pop, index=people.index), supply, catchment_m=within_m, capacity=capacity, outlines=outlines
    ).to_numpy()
    return out


def _area_of_points(points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> np.ndarray:
    """The position in ``areas`` of the area each point lies in (the first, on a shared edge), or -1."""
    if areas.crs is None:
        raise CRSError("areas has no CRS; set one with .set_crs() first.")
    geoms = points.geometry.to_crs(areas.crs) if points.crs != areas.crs else points.geometry
    polys = np.asarray(areas.geometry.array)
    pi, ai = shapely.STRtree(polys).query(np.asarray(geoms.array), predicate="intersects")
    out = np.full(len(points), -1, dtype=np.int64)
    order = np.lexsort((ai, pi))  # each point's lowest area position first
    pi, ai = pi[order], ai[order]
    first = np.ones(len(pi), dtype=bool)
    first[1:] = pi[1:] != pi[:-1]
    out[pi[first]] = ai[first]
    return out


def _aggregate_points(
    areas: gpd.GeoDataFrame,
    points: pd.DataFrame,
    pos: np.ndarray,
    supply: gpd.GeoDataFrame,
    *,
    within_m: float,
    outlines: Outlines,
) -> pd.DataFrame:
    """The points basis of :func:`measure_gaps`: the points' figures summed per area."""
    n = len(areas)
    pop = points["population"].to_numpy(dtype=float)
    dist = points["distance_m"].to_numpy(dtype=float)
    population = np.bincount(pos, weights=pop, minlength=n)
    beyond_pop = np.bincount(pos, weights=points["population_beyond"].to_numpy(dtype=float), minlength=n)
    count = np.bincount(pos, minlength=n)
    weighted = np.bincount(pos, weights=pop * dist, minlength=n)
    scored = np.bincount(pos, weights=pop * points["score_2sfca"].to_numpy(dtype=float), minlength=n)
    has = count > 0
    farthest = np.full(n, -np.inf)
    np.maximum.at(farthest, pos, dist)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_dist = np.where(population > 0, weighted / population, np.nan)
        share = np.where(population > 0, beyond_pop / population, np.nan)
        score = np.where(population > 0, scored / population, 0.0)
    # each area's most populous point names its nearest asset
    order = np.lexsort((-pop, pos))
    first = np.ones(len(order), dtype=bool)
    first[1:] = pos[order][1:] != pos[order][:-1]
    top = np.full(n, -1, dtype=np.int64)
    top[pos[order][first]] = order[first]
    nearest_id = np.full(n, None, dtype=object)
    nearest_name = np.full(n, None, dtype=object)
    nearest_id[has] = points["nearest_id"].to_numpy()[top[has]]
    nearest_name[has] = points["nearest_name"].to_numpy()[top[has]]
    if (~has).any():  # areas where no one is placed: their centre's distance, no people
        empty = areas[~has]
        centre = nearest_of_each_type(area_points(empty), supply, types=[supply["type"].iloc[0]], outlines=outlines)
        mean_dist[~has] = centre.distance_m
        farthest[~has] = centre.distance_m
        nearest_id[~has] = supply["id"].to_numpy()[centre.asset]
        nearest_name[~has] = supply["name"].to_numpy()[centre.asset]
    out = pd.DataFrame(index=areas.index)
    out["id"] = areas["id"].to_numpy()
    out["name"] = areas["name"].to_numpy()
    out["population"] = population
    if "imd_decile" in areas.columns:
        out["imd_decile"] = pd.to_numeric(areas["imd_decile"], errors="coerce").to_numpy()
    out["distance_m"] = farthest
    out["mean_distance_m"] = mean_dist
    out["nearest_id"] = nearest_id
    out["nearest_name"] = nearest_name
    out["beyond"] = beyond_pop > 0
    out["population_beyond"] = beyond_pop
    out["share_beyond"] = share
    out["score_2sfca"] = score
    out["points"] = count
    return out


def gap_summary(table: pd.DataFrame) -> dict:
    """Population beyond the distance, out of the total (from :func:`gaps`), and the basis."""
    pop = table["population"].fillna(0)
    if "population_beyond" in table:
        affected = table["population_beyond"].fillna(0).sum()
    else:
        affected = pop[table["beyond"]].sum()
    return {
        "areas_total": int(len(table)),
        "areas_beyond": int(table["beyond"].sum()),
        "population_affected": int(round(affected)),
        "population_total": int(round(pop.sum())),
        "population_basis": table.attrs.get("population_basis", BASIS_AREAS),
    }


def two_step_fca(
    demand_points: gpd.GeoSeries,
    population: pd.Series,
    supply: gpd.GeoDataFrame,
    *,
    catchment_m: float,
    capacity: pd.Series | None = None,
    per: float = 1000.0,
    outlines: Outlines = None,
) -> pd.Series:
    """Two-step floating catchment area accessibility (Luo and Wang, 2003).

    Step 1: each supply site *j* gets a ratio ``R_j = S_j / sum(P_k)`` over the demand points *k*
    within ``catchment_m`` of it (``S_j`` its capacity, 1 if none given). Step 2: each demand point
    *i* scores ``A_i = sum(R_j)`` over the sites within ``catchment_m`` of it. Sites with no demand in
    reach contribute nothing. Scores are multiplied by ``per`` (default: supply per 1,000 people), so
    an area reached by one GP practice shared with 4,000 people scores 0.25.

    A supply site with an outline in ``outlines`` (asset id -> shape) is within reach of the demand
    points within ``catchment_m`` of its edge, and of those inside it (exact: see the module notes).

    Returns a Series on ``demand_points``' index.
    """
    dxy = _metric_xy(demand_points, "demand points")
    sxy = _metric_xy(supply, "supply")
    pop = pd.to_numeric(population, errors="coerce").fillna(0.0).to_numpy(dtype=float)
    cap = (
        np.ones(len(sxy))
        if capacity is None
        else pd.to_numeric(capacity, errors="coerce").fillna(0.0).to_numpy(dtype=float)
    )
    if len(dxy) == 0 or len(sxy) == 0:
        return pd.Series(0.0, index=demand_points.index, name="score_2sfca")
    # every (demand, supply) pair within the catchment, distance 0 and exactly catchment_m included
    shapes = _metric_outlines(supply, outlines)
    if shapes is None:
        pairs = _kdtree(dxy).sparse_distance_matrix(_kdtree(sxy), max_distance=catchment_m, output_type="ndarray")
        i = pairs["i"].astype(np.int64)
        j = pairs["j"].astype(np.int64)
    else:
        i, j = _pairs_with_outlines(dxy, sxy, shapes, catchment_m)
    demand_in_reach = np.bincount(j, weights=pop[i], minlength=len(sxy))
    ratio = np.divide(cap, demand_in_reach, out=np.zeros(len(sxy)), where=demand_in_reach > 0)
    score = np.bincount(i, weights=ratio[j], minlength=len(dxy)) * per
    return pd.Series(score, index=demand_points.index, name="score_2sfca")


def _pairs_with_outlines(
    dxy: np.ndarray, sxy: np.ndarray, shapes: np.ndarray, catchment_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Every (demand, supply) position pair within ``catchment_m``, supply sites with a shape
    measured to it: points by k-d tree; shapes by their densified vertices within the catchment
    plus :data:`OUTLINE_ERROR_M` (no pair within reach is missed), then exact distance, plus
    demand points inside a polygon."""
    has = np.array([g is not None for g in shapes], dtype=bool)
    dtree = _kdtree(dxy)
    i_parts, j_parts = [], []
    plain = np.flatnonzero(~has)
    if len(plain):
        pairs = dtree.sparse_distance_matrix(_kdtree(sxy[plain]), max_distance=catchment_m, output_type="ndarray")
        i_parts.append(pairs["i"].astype(np.int64))
        j_parts.append(plain[pairs["j"].astype(np.int64)])
    shaped = np.flatnonzero(has)
    geoms = shapes[shaped]
    verts, owner = _outline_vertices(geoms)
    near = dtree.sparse_distance_matrix(
        _kdtree(verts), max_distance=catchment_m + OUTLINE_ERROR_M, output_type="ndarray"
    )
    key = np.unique(near["i"].astype(np.int64) * len(geoms) + owner[near["j"].astype(np.int64)])
    ci, cs = key // len(geoms), key % len(geoms)
    dpoints = shapely.points(dxy)
    close = shapely.distance(dpoints[ci], geoms[cs]) <= catchment_m
    inside_i, inside_s = shapely.STRtree(geoms).query(dpoints, predicate="within")
    key = np.unique(np.concatenate([ci[close] * len(geoms) + cs[close], inside_i * len(geoms) + inside_s]))
    i_parts.append(key // len(geoms))
    j_parts.append(shaped[key % len(geoms)])
    return np.concatenate(i_parts), np.concatenate(j_parts)


def assets_within(
    lon: float, lat: float, assets: gpd.GeoDataFrame, *, within_m: float, outlines: Outlines = None
) -> gpd.GeoDataFrame:
    """The assets within ``within_m`` metres (straight line) of a point, nearest first, with
    ``distance_m`` and ``walk_minutes_estimate`` columns (a copy). Assets with an outline in
    ``outlines`` are measured exactly to its edge, 0 inside."""
    origin = gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs=STORAGE_CRS)
    oxy = _metric_xy(origin, "origin")
    axy = _metric_xy(assets, "assets")
    d = np.hypot(axy[:, 0] - oxy[0, 0], axy[:, 1] - oxy[0, 1]) if len(axy) else np.empty(0)
    shapes = _metric_outlines(assets, outlines)
    if shapes is not None:
        has = np.flatnonzero([g is not None for g in shapes])
        d[has] = shapely.distance(shapely.points(oxy[0]), shapes[has])
    out = assets.copy()
    out["distance_m"] = d
    out["walk_minutes_estimate"] = walk_minutes_estimate(d)
    return out[out["distance_m"] <= within_m].sort_values("distance_m", kind="stable")


def bounds_around(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """Lon/lat bounds of a square of ``radius_m`` around a point (to frame a map on it)."""
    origin = gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs=STORAGE_CRS).to_crs(METRIC_CRS)
    return tuple(origin.buffer(max(radius_m, 50.0) * 1.1, quad_segs=2).to_crs(STORAGE_CRS).total_bounds)


# --------------------------------------------------------------------------------------------
# A shared view of Near me (its link)
# --------------------------------------------------------------------------------------------

MINUTES_RANGE = (5, 30)


@dataclass(frozen=True)
class NearView:
    """What a Near me link asks for: ``?postcode=S5+8NJ&minutes=15`` or ``?lonlat=-1.47,53.38``."""

    postcode: str | None = None
    lonlat: tuple[float, float] | None = None
    minutes: int | None = None
    problems: tuple[str, ...] = ()


def parse_view(params: dict[str, str]) -> NearView:
    """Read a Near me link's parameters; anything unusable is left out and said in ``problems``
    (one plain sentence each), so a mistyped link still opens the page."""
    problems: list[str] = []
    minutes = None
    raw = str(params.get("minutes", "")).strip()
    if raw:
        try:
            minutes = int(float(raw))
        except ValueError:
            minutes = None
        if minutes is None or not MINUTES_RANGE[0] <= minutes <= MINUTES_RANGE[1]:
            problems.append(
                f"The link's walking time {raw!r} is not a whole number of minutes from {MINUTES_RANGE[0]} to "
                f"{MINUTES_RANGE[1]}, so the default is used."
            )
            minutes = None
    postcode = str(params.get("postcode", "")).strip() or None
    lonlat = None
    raw = str(params.get("lonlat", "")).strip()
    if raw and postcode is None:
        try:
            lon, lat = (float(v) for v in raw.split(","))
            if not (np.isfinite(lon) and np.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
                raise ValueError
            lonlat = (lon, lat)
        except ValueError:
            problems.append(
                f"The link's point {raw!r} is not 'longitude,latitude' (e.g. -1.47,53.38), so no point is chosen."
            )
    return NearView(postcode=postcode, lonlat=lonlat, minutes=minutes, problems=tuple(problems))


def view_params(origin: dict | None, minutes: int) -> dict[str, object]:
    """The link parameters of a Near me view (the inverse of :func:`parse_view`)."""
    params: dict[str, object] = {}
    if origin and origin.get("postcode"):
        params["postcode"] = origin["postcode"]
    elif origin:
        params["lonlat"] = f"{origin['lon']:.5f},{origin['lat']:.5f}"
    params["minutes"] = int(minutes)
    return params


@dataclass(frozen=True)
class GapsView:
    """What a Gaps link asks for, as the page's widget state, plus what could not be used."""

    state: dict = field(default_factory=dict)
    problems: tuple[str, ...] = ()


GAPS_WITHIN_RANGE = (200, 5000)
GAPS_VIEWS = ("beyond", "distance", "score")


def parse_gaps_view(params: dict[str, str], *, types: list[str]) -> GapsView:
    """Read a Gaps link (``?type=gp_practice&within=800&view=beyond``) into the page's widget state
    (``gaps_type``, ``gaps_within``, ``gaps_view``); unusable values are left out and explained."""
    state: dict = {}
    problems: list[str] = []
    type_id = str(params.get("type", "")).strip()
    if type_id:
        if type_id in types:
            state["gaps_type"] = type_id
        else:
            problems.append(f"The link's type {type_id!r} has no assets here, so the first type is shown.")
    raw = str(params.get("within", "")).strip()
    if raw:
        try:
            within = int(float(raw))
        except ValueError:
            within = -1
        lo, hi = GAPS_WITHIN_RANGE
        if lo <= within <= hi:
            state["gaps_within"] = int(round(within / 100) * 100) or lo
        else:
            problems.append(
                f"The link's distance {raw!r} is not a number of metres from {lo:,} to {hi:,}, so 800 m is used."
            )
    view = str(params.get("view", "")).strip()
    if view in GAPS_VIEWS:
        state["gaps_view"] = view
    return GapsView(state=state, problems=tuple(problems))


def population_by_decile(table: pd.DataFrame) -> pd.DataFrame:
    """Residents beyond and within the distance per IMD decile (1 = most deprived), deciles in order;
    the index is labelled for a chart.

    ``table`` is a :func:`gaps` table with ``imd_decile`` (each area under its own decile), or the
    ``points`` of a :class:`GapsResult` (each population point under its own LSOA's decile: the finer
    answer where the store has population points). ``population_beyond`` is used where present.
    """
    t = table.dropna(subset=["imd_decile"])
    if "population_beyond" in t:
        beyond = t["population_beyond"].fillna(0)
    else:
        beyond = t["population"].where(t["beyond"], 0)
    out = pd.DataFrame(
        {"People beyond": beyond, "People within": t["population"] - beyond, "decile": t["imd_decile"].astype(int)}
    )
    out = out.groupby("decile")[["People beyond", "People within"]].sum().sort_index()
    out.index = out.index.map(str).rename("IMD decile (1 = most deprived)")
    return out
