"""The map's scripts and styles, served by the app itself instead of from CDNs.

Folium points every map at jsDelivr, cdnjs and code.jquery.com; if one of them cannot be reached the
map never initialises. Leaflet, Leaflet.markercluster and jQuery come instead from the XStatic
packages installed by pip (``xstatic-leaflet``, ``xstatic-leaflet-markercluster``, ``xstatic-jquery``).
Bootstrap and awesome-markers have no installable local source and Common Ground's maps do not use
them, so they are left out rather than fetched from a CDN.

Two ways to use them:

* in the app, :func:`install` copies the files into Streamlit's ``static/`` folder (served at
  ``/app/static/``) and the map builders get ``assets_base_url="/app/static/vendor"``;
* in a standalone HTML file, :func:`inline_html` puts their text into the page itself.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import xstatic.pkg.jquery as _jquery
import xstatic.pkg.leaflet as _leaflet
import xstatic.pkg.leaflet_markercluster as _markercluster

#: logical name -> (file name under the vendor folder, source path)
JS_FILES: dict[str, tuple[str, Path]] = {
    "leaflet": ("leaflet.js", Path(_leaflet.BASE_DIR) / "leaflet.js"),
    "jquery": ("jquery.min.js", Path(_jquery.BASE_DIR) / "jquery.min.js"),
    "markercluster": (
        "leaflet.markercluster.js",
        Path(_markercluster.BASE_DIR) / "leaflet.markercluster.js",
    ),
}
CSS_FILES: dict[str, tuple[str, Path]] = {
    "leaflet_css": ("leaflet.css", Path(_leaflet.BASE_DIR) / "leaflet.css"),
    "markercluster_css": ("MarkerCluster.css", Path(_markercluster.BASE_DIR) / "MarkerCluster.css"),
    "markercluster_default_css": (
        "MarkerCluster.Default.css",
        Path(_markercluster.BASE_DIR) / "MarkerCluster.Default.css",
    ),
}
IMAGE_DIR = Path(_leaflet.BASE_DIR) / "images"

#: What each kind of map element needs, by logical name.
MAP_JS = ("leaflet", "jquery")
MAP_CSS = ("leaflet_css",)
CLUSTER_JS = ("markercluster",)
CLUSTER_CSS = ("markercluster_css", "markercluster_default_css")


def install(static_dir: str | Path) -> Path:
    """Copy the vendor files into ``static_dir/vendor`` (only those missing or changed).

    Parameters
    ----------
    static_dir
        Streamlit's static folder (``<app dir>/static``).

    Returns
    -------
    Path
        The vendor folder.
    """
    dest = Path(static_dir) / "vendor"
    (dest / "images").mkdir(parents=True, exist_ok=True)
    pairs = [(dest / name, src) for name, src in [*JS_FILES.values(), *CSS_FILES.values()]]
    pairs += [(dest / "images" / p.name, p) for p in IMAGE_DIR.iterdir() if p.is_file()]
    for target, src in pairs:
        if not target.exists() or target.stat().st_size != src.stat().st_size:
            tmp = target.with_suffix(target.suffix + ".tmp")
            shutil.copyfile(src, tmp)
            tmp.replace(target)
    return dest


def links(names: tuple[str, ...], base_url: str) -> list[tuple[str, str]]:
    """``(name, url)`` pairs for folium's ``default_js`` / ``default_css`` from a base URL."""
    table = {**JS_FILES, **CSS_FILES}
    base = base_url.rstrip("/")
    return [(n, f"{base}/{table[n][0]}") for n in names]


def inline_html(names: tuple[str, ...]) -> str:
    """``<script>``/``<style>`` tags holding the named files' text, for a standalone page."""
    parts = []
    for n in names:
        if n in JS_FILES:
            text = JS_FILES[n][1].read_text(encoding="utf-8").replace("</script", "<\\/script")
            parts.append("<script>" + text + "</script>")
        else:
            text = CSS_FILES[n][1].read_text(encoding="utf-8").replace("</style", "<\\/style")
            parts.append("<style>" + text + "</style>")
    return "\n".join(parts)


def publish_details(static_dir: str | Path, details_json: str, *, keep: int = 200) -> str:
    """Write a map's popup details table into ``static_dir/details`` and return its file name.

    Files are named by a hash of their content, so the same table is written once however often a
    page reruns; only the ``keep`` newest are kept (popups of older maps then say where else to look).
    The write is atomic: a reader never sees half a file.
    """
    import hashlib
    import os

    digest = hashlib.sha256(details_json.encode("utf-8")).hexdigest()[:24]
    folder = Path(static_dir) / "details"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{digest}.json"
    if not target.exists():
        tmp = folder / f".{digest}.{os.getpid()}.tmp"
        tmp.write_text(details_json, encoding="utf-8")
        tmp.replace(target)
        files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
        for old in files[:-keep]:
            old.unlink(missing_ok=True)
    return target.name
