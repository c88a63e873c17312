"""Analysis over assets and areas: pure functions over GeoDataFrames, metric work in EPSG:27700.

- :mod:`geo.analysis.areas`: which area each asset lies in, counts and rates per area, filters;
- :mod:`geo.analysis.access`: nearest assets, gaps (people beyond a distance), 2SFCA;
- :mod:`geo.analysis.profiles`: one area's profile (assets, organisations, community knowledge);
- :mod:`geo.analysis.traits`: the four resilience traits of an area;
- :mod:`geo.analysis.deprivation`: population-weighted deprivation for wards and neighbourhoods.
"""
