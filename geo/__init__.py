"""Common Ground's engine: pure functions over GeoDataFrames. Never imports streamlit.

Modules: :mod:`geo.schema` (the data model and taxonomy), :mod:`geo.store` (the GeoPackage store),
:mod:`geo.web.maps` (Folium maps), :mod:`geo.geocode` (offline postcodes), :mod:`geo.analysis.areas`,
:mod:`geo.web.webassets` (the map's local scripts), :mod:`geo.errors`, :mod:`geo.cli`.
"""

__version__ = "0.1.0"

from geo import projection as _projection  # noqa: E402 (standard library only)

_projection.install_on_import()  # every reprojection in one thread (see geo/projection.py)
