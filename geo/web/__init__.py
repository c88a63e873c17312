"""The map in the browser: Folium map builders and what they need.

- :mod:`geo.web.maps`: the map builders (markers, clusters, choropleths, legends, fit, keyboard access);
- :mod:`geo.web.webassets`: the vendored Leaflet scripts and the map's own scripts, served locally,
  and the published popup details;
- :mod:`geo.web.mapview`: what a drawn map shows, as a view applied in the browser without redrawing it;
- :mod:`geo.web.explore`: the Explore page's shadings, reuse between reruns and its link.
"""
