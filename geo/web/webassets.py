"""The map's scripts and styles, served by the app itself instead of from CDNs.

Folium points every map at jsDelivr, cdnjs and code.jquery.com; if one of them cannot be reached the
map never initialises. Leaflet comes instead from the XStatic package installed by pip
(``xstatic-leaflet``), and Supercluster (ISC licence, the clusters' index) is vendored beside this
module (``geo/web/js/supercluster.min.js``, unchanged from npm but for its licence comment).
Leaflet.markercluster is no longer used: it made a marker for every point and clustered them at every
zoom before the first showed, 1-2 s of main thread for England's 29,000 points. jQuery, Bootstrap and
awesome-markers are left out: Common Ground's maps use none of them (folium needs jQuery only for
``keep_in_front`` and HTML-element popups, which no map here has; a test renders every kind of map
and finds no call to it). jQuery was 87 KB of the maps' bundle for the browser to parse for nothing.

The maps' own scripts and styles are real files beside this module (``geo/web/js/``): ``cg-map.js``
(keyboard access, framing, the legend, outlines, a page's view applied in place), ``cg-points.js``
(the asset points, their clusters, drawn where in view, and popups) and ``cg-map.css``. They are served
and inlined exactly like the vendored files; a map's own script only gives them data and calls them.

Two ways to use them:

* in the app, :func:`install` copies the files into Streamlit's ``static/`` folder (served at
  ``/app/static/``) and the map builders get ``assets_base_url="/app/static/vendor"``;
* in a standalone HTML file, :func:`inline_html` puts their text into the page itself.

The maps' popup details tables are published beside them (:func:`publish_details`, served at
``/app/static/details/``) and withdrawn when the assets layer changes or an asset is removed
(:func:`withdraw_details`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

import xstatic.pkg.leaflet as _leaflet

#: logical name -> (file name under the vendor folder, source path)
JS_FILES: dict[str, tuple[str, Path]] = {
    "leaflet": ("leaflet.js", Path(_leaflet.BASE_DIR) / "leaflet.js"),
}
CSS_FILES: dict[str, tuple[str, Path]] = {
    "leaflet_css": ("leaflet.css", Path(_leaflet.BASE_DIR) / "leaflet.css"),
}
#: The maps' own scripts and styles (see the module's docstring).
OWN_DIR = Path(__file__).resolve().parent / "js"
JS_FILES.update(
    supercluster=("supercluster.min.js", OWN_DIR / "supercluster.min.js"),
    cg_map=("cg-map.js", OWN_DIR / "cg-map.js"),
    cg_points=("cg-points.js", OWN_DIR / "cg-points.js"),
    cg_prefetch=("cg-prefetch.js", OWN_DIR / "cg-prefetch.js"),  # linked on its own, first: see prefetch_link
)
CSS_FILES.update(cg_map_css=("cg-map.css", OWN_DIR / "cg-map.css"))
IMAGE_DIR = Path(_leaflet.BASE_DIR) / "images"

#: The folder under the static folder that holds the published popup details tables.
DETAILS_FOLDER = "details"

#: What each kind of map element needs, by logical name.
MAP_JS = ("leaflet", "cg_map")
MAP_CSS = ("leaflet_css", "cg_map_css")
CLUSTER_JS = ("supercluster", "cg_points")
CLUSTER_CSS: tuple[str, ...] = ()  # the clusters' styles are in cg-map.css

#: Every script an app map may need, in the order they depend on one another, served as one file
#: (``cg-bundle.js``, see :func:`script_links`). streamlit-folium's frame loads a map's scripts one
#: after another, each waiting for the last to arrive and run: five round trips before the map's
#: own script could start (about 0.45 s of a cold load, README, issue 14); one file is one trip.
BUNDLE_JS = MAP_JS + CLUSTER_JS
BUNDLE_FILE = "cg-bundle.js"


def install(static_dir: str | Path) -> Path:
    """Copy the vendor files and the maps' own into ``static_dir/vendor`` (only those missing or changed).

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
        if not target.exists() or target.read_bytes() != src.read_bytes():
            tmp = target.with_suffix(target.suffix + ".tmp")
            shutil.copyfile(src, tmp)
            tmp.replace(target)
    bundle = dest / BUNDLE_FILE
    text = bundle_text().encode("utf-8")
    if not bundle.exists() or bundle.read_bytes() != text:
        tmp = bundle.with_suffix(".js.tmp")
        tmp.write_bytes(text)
        tmp.replace(bundle)
    return dest


def bundle_text() -> str:
    """The text of ``cg-bundle.js``: the :data:`BUNDLE_JS` files in order, each ended with ``;`` (so
    that no file's last statement runs into the next) and without source-map comments (the maps
    are not served). Built again only when one of the files changes."""
    stamps = tuple((JS_FILES[n][1].stat().st_mtime_ns, JS_FILES[n][1].stat().st_size) for n in BUNDLE_JS)
    return _bundle_text(stamps)


@functools.lru_cache(maxsize=2)
def _bundle_text(_stamps: tuple) -> str:
    parts = []
    for name in BUNDLE_JS:
        file_name, src = JS_FILES[name]
        lines = src.read_text(encoding="utf-8").splitlines()
        body = "\n".join(line for line in lines if not line.startswith("//# sourceMappingURL="))
        parts.append(f"/* {file_name} */\n{body.rstrip()}\n;\n")
    return "".join(parts)


def script_links(names: tuple[str, ...], base_url: str) -> list[tuple[str, str]]:
    """``(name, url)`` pairs for an app map element's ``default_js``: the scripts of :data:`BUNDLE_JS`
    come as the one bundle, given with Leaflet (which every map's base element has, first); an
    element that needs only later parts of the bundle (the clusters) links nothing more. Other
    scripts are linked one by one (:func:`links`). The bundle's URL carries a digest of its text."""
    rest = tuple(n for n in names if n not in BUNDLE_JS)
    out = []
    if BUNDLE_JS[0] in names:
        digest = _text_digest(bundle_text())
        out.append(("cg_bundle", f"{base_url.rstrip('/')}/{BUNDLE_FILE}?v={digest}"))
    return out + links(rest, base_url)


def prefetch_link(url: str, base_url: str) -> tuple[str, str]:
    """``(name, url)`` of ``cg-prefetch.js`` asking for ``url`` (a map's points file): put first in
    the map's ``default_js``, it starts that fetch while the bundle is on its way, and the map's
    ``cgFillFrom`` takes the answer (streamlit-folium loads a map's scripts one after another, and the
    map's own script, which names the file, runs last)."""
    ((name, link),) = links(("cg_prefetch",), base_url)
    return name, f"{link}&u={quote(url, safe='')}"


def links(names: tuple[str, ...], base_url: str) -> list[tuple[str, str]]:
    """``(name, url)`` pairs for folium's ``default_js`` / ``default_css`` from a base URL.

    The maps' own files carry a digest of their text (``cg-map.js?v=1a2b3c4d``), so that a browser
    never runs a cached copy of an older version against a newer map."""
    table = {**JS_FILES, **CSS_FILES}
    base = base_url.rstrip("/")
    out = []
    for n in names:
        file_name, src = table[n]
        suffix = f"?v={_digest(src)}" if src.parent == OWN_DIR else ""
        out.append((n, f"{base}/{file_name}{suffix}"))
    return out


@functools.lru_cache(maxsize=4)
def _text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


@functools.cache
def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10]


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


def publish_details(
    static_dir: str | Path,
    details_json: str,
    *,
    keep: int = 200,
    generation: str | None = None,
    scope: str | None = None,
) -> str:
    """Write a map's popup details table into ``static_dir/details`` and return its file name.

    Parameters
    ----------
    static_dir
        Streamlit's static folder; the file is served at ``/app/static/details/<name>``.
    details_json
        The table (:func:`geo.web.maps.asset_details_json`).
    keep
        How many files to keep; the least recently published go first (popups of older maps then
        say where else to look).
    generation
        The revision of the assets layer the table was built from (``store.version("assets")``).
        The file name carries it, and publishing a table of one generation deletes the files of
        every other generation (and those published without one): after any write to the assets
        layer, from a page or the command line, details of removed, rejected or changed assets
        stop being served the next time any page publishes a map. ``None`` (the old behaviour)
        leaves other files to ``keep``.
    scope
        Which store the generation belongs to (its location). Several app servers (and test runs)
        may share one static folder over different stores: a new generation then deletes only the
        older generations *of the same store*, never another store's current files. Files of other
        scopes are left to ``keep``.

    Returns
    -------
    str
        The file name: ``<digest>.json``, or ``<generation tag>-<digest>.json``.

    Notes
    -----
    Files are named by a hash of their content, so the same table is written once however often a
    page reruns (publishing it again marks it as recently used). The write is atomic: a reader never
    sees half a file. A page that read the store just before a write and publishes just after it
    brings its older generation back (and removes the newer one's files) until the next map is
    published; :func:`withdraw_details` removes a withdrawn asset at once either way.
    """
    digest = hashlib.sha256(details_json.encode("utf-8")).hexdigest()[:24]
    folder = Path(static_dir) / DETAILS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    scope_tag = "" if scope is None else _scope_tag(scope)
    prefix = "" if generation is None else scope_tag + _generation_tag(generation) + "-"
    target = folder / f"{prefix}{digest}.json"
    if target.exists():
        with contextlib.suppress(FileNotFoundError):
            os.utime(target)
    else:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(details_json)
            os.chmod(tmp, 0o644)  # served by the app, like the rest of static/
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    published = []
    for path in folder.glob("*.json"):
        ours = not scope_tag or path.name.startswith(scope_tag)  # this store's (or every file, unscoped)
        if generation is not None and ours and not path.name.startswith(prefix):
            path.unlink(missing_ok=True)  # another generation's, or from before generations
        elif path != target:
            published.append((_mtime(path), path))
    published.sort()
    for _, old in published[: max(len(published) - (keep - 1), 0)]:
        old.unlink(missing_ok=True)
    return target.name


def withdraw_details(static_dir: str | Path, asset_ids: Iterable[str] | str, *, scope: str | None = None) -> list[str]:
    """Delete at once every published details file of a store that holds any of ``asset_ids``.

    Call it right after assets are removed or rejected, so their popup details stop being served
    before any map is published again. A file whose ids cannot be read (a map's points, one written
    before tables carried ids, or a damaged one) is deleted too: it may hold them.

    Parameters
    ----------
    static_dir
        Streamlit's static folder (as given to :func:`publish_details`).
    asset_ids
        The assets' ids (one id may be given as a string).
    scope
        The store the assets were withdrawn from (its location, as given to
        :func:`publish_details`). Only that store's files, and files published without a scope, are
        looked at: an id names an asset of one store, and another store's files (another app server,
        or another test run, sharing the folder) are that store's business. Before this, withdrawing
        one demo copy's asset deleted every other server's points file (it has no ids), and a page
        loading one then got a 404. ``None`` looks at every file.

    Returns
    -------
    list of str
        The names of the files deleted.
    """
    wanted = {asset_ids} if isinstance(asset_ids, str) else {str(i) for i in asset_ids}
    folder = Path(static_dir) / DETAILS_FOLDER
    if not wanted or not folder.is_dir():
        return []
    removed = []
    ours = None if scope is None else _scope_tag(scope)
    for path in sorted(folder.glob("*.json")):
        if ours and _SCOPED.match(path.name) and not path.name.startswith(ours):
            continue  # another store's
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue  # deleted meanwhile (by a publish)
        except (ValueError, UnicodeDecodeError):
            doc = None
        ids = doc.get("ids") if isinstance(doc, dict) else None
        if not isinstance(ids, list) or not wanted.isdisjoint(str(i) for i in ids):
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


#: A file published with a scope: ``s<12 hex>_...``.
_SCOPED = re.compile(r"s[0-9a-f]{12}_")


def _scope_tag(scope: str) -> str:
    return "s" + hashlib.sha256(str(scope).encode("utf-8")).hexdigest()[:12] + "_"


def _generation_tag(generation: str) -> str:
    # A hash keeps any token (a revision such as "r12", a path, a URL) safe in a file name.
    return "g" + hashlib.sha256(str(generation).encode("utf-8")).hexdigest()[:16]


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0
