"""Files in and out of a store.

- :mod:`geo.io.imports`: reading uploads once, planning (validation, duplicates, types) and applying
  an import in one transaction;
- :mod:`geo.io.exports`: layers out as GeoPackage (with QGIS styles), Shapefile, KML, CSV, GeoJSON, HTML;
- :mod:`geo.io.hsds`: the Human Services Data Specification 3.0 export;
- :mod:`geo.io.report`: the printable area report (PDF);
- :mod:`geo.io.naming`: file names after what a file holds.
"""
