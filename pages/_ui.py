"""Thin Streamlit adapters shared by the pages: cached reads keyed by simple values, the shared
sidebar and widgets, engine errors shown with ``st.error``. Analysis and file formats live in ``geo/``."""

from __future__ import annotations

import getpass
import threading
from pathlib import Path

import streamlit as st

from geo import auth, outlines, schema, settings, textsafe
from geo.analysis import deprivation
from geo.errors import CommonGroundError, VersionConflictError
from geo.geocode import PostcodeIndex, postcode_index
from geo.store import Store, open_store, store_taxonomy
from geo.web import maps, webassets

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
STATIC_URL = "/app/static"
VENDOR_URL = f"{STATIC_URL}/vendor"
DETAILS_KEEP = 200

BOUNDARY_LABELS = {
    "wards": "Wards (28)",
    "neighbourhoods": "Neighbourhoods (147, community-named)",
    "lsoas": "LSOAs (345, with deprivation)",
}


def ensure_frame() -> None:
    """Run every page inside app.py's frame, even when opened by a direct link.

    Because the project has a ``pages/`` folder beside ``app.py``, Streamlit starts each server
    process in its old multipage mode: until ``st.navigation`` has run once, a direct link such as
    ``/near_me`` runs ``pages/near_me.py`` on its own (no sidebar, no page config), and a link to a
    ``url_path`` it does not know hangs. Switching that mode off and rerunning makes Streamlit run
    ``app.py``, whose ``st.navigation`` then opens the linked page. Called first by app.py and by every page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def fail(exc: Exception) -> None:
    """Show an engine error in plain words and stop the page."""
    st.error(str(exc))
    st.stop()


@st.cache_resource(show_spinner=False)
def _install_static(static_dir: str) -> str:
    return str(webassets.install(static_dir))


def static_assets_url() -> str:
    """Copy the map's scripts into ``static/vendor`` once per process; return their base URL."""
    _install_static(str(STATIC_DIR))
    return VENDOR_URL


@st.cache_resource(show_spinner=False)
def _open_store(data: str | None) -> Store:
    return open_store(data)


def _data() -> str | None:
    return settings.data()


def store() -> Store:
    """The data store named by ``$COMMON_GROUND_DATA`` (a GeoPackage or a postgresql:// URL), else
    the demo working copy."""
    try:
        return _open_store(_data())
    except CommonGroundError as exc:
        fail(exc)
        raise


class _LayerCache:
    """The latest revision of each layer, shared by every session of this server process.

    One frame per layer, replaced when the layer's revision changes, so memory stays flat however
    many writes happen (the old frame is dropped, never kept beside the new one), unlike a cache
    keyed by revision. Reads of a new revision happen once, under a per-layer lock.
    """

    def __init__(self) -> None:
        self._frames: dict[str, tuple[str, object]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def peek(self, name: str, version: str):
        """The cached frame of this revision, or None."""
        hit = self._frames.get(name)
        return hit[1] if hit is not None and hit[0] == version else None

    def get(self, s: Store, name: str, version: str):
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            hit = self._frames.get(name)
            if hit is None or hit[0] != version:
                self._frames.pop(name, None)  # let the old revision go before reading the new one
                hit = (version, s.read(name))
                self._frames[name] = hit
            return hit[1]

    def derive(self, name: str, version: str, build):
        """Like :meth:`get`, for a frame built from layers (``build()``), under its own name."""
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            hit = self._frames.get(name)
            if hit is None or hit[0] != version:
                self._frames.pop(name, None)
                hit = (version, build())
                self._frames[name] = hit
            return hit[1]


@st.cache_resource(show_spinner=False)
def _layer_cache(data: str | None) -> _LayerCache:
    return _LayerCache()


def layer(name: str):
    """A layer of the store at its current revision, shared and read-only: pages must never modify
    what this returns (``geo/`` functions copy)."""
    s = store()
    try:
        cache, version = _layer_cache(_data()), s.version(name)
        frame = cache.peek(name, version)
        if frame is None:
            with st.spinner("Reading the map layers…"):
                frame = cache.get(s, name, version)
        return frame
    except CommonGroundError as exc:
        fail(exc)
        raise


def areas(name: str):
    """A boundary layer as the pages show it: deprivation at its level and LSOA names that carry their
    ward (:func:`geo.analysis.deprivation.boundary_frame`); shared, read-only and cached per revision like :func:`layer`."""
    s = store()
    try:
        cache = _layer_cache(_data())
        version = "|".join(s.version(n) for n in (name, "lsoas", "wards"))
        frame = cache.peek(f"areas:{name}", version)
        if frame is None:
            with st.spinner("Reading the map layers…"):
                frame = cache.derive(
                    f"areas:{name}",
                    version,
                    lambda: deprivation.boundary_frame(name, lambda n: cache.get(s, n, s.version(n))),
                )
        return frame
    except CommonGroundError as exc:
        fail(exc)
        raise


@st.cache_resource(show_spinner=False, max_entries=2)
def _postcodes(data: str | None, version: str) -> PostcodeIndex:
    return postcode_index(_open_store(data))  # the store's table, then Great Britain's (Code-Point Open)


def postcodes() -> PostcodeIndex:
    s = store()
    return _postcodes(_data(), s.version("postcodes"))


def taxonomy() -> schema.Taxonomy:
    """The store's taxonomy (its ``taxonomy`` layer; types added on import show at once)."""
    try:
        return store_taxonomy(store())
    except CommonGroundError as exc:
        fail(exc)
        raise


def details_url(details_json: str) -> str:
    """Publish a map's popup details table in the app's static folder; return its URL.

    Tables are published per store revision: the first map drawn after any write (from any page,
    or the command line) deletes the tables of earlier revisions, so a removed or rejected asset's
    details stop being served; :func:`withdraw_details` does it at once after a page's own write.
    """
    s = store()
    name = webassets.publish_details(
        STATIC_DIR, details_json, keep=DETAILS_KEEP, generation=s.version(), scope=s.location
    )
    return f"{STATIC_URL}/details/{name}"


def asset_outlines():
    """The store's asset outlines (asset id -> shape; empty for a store made before outlines), read
    once per revision like any layer. Pass them to :mod:`geo.analysis.access` and :func:`geo.web.maps.outline_layer`,
    which use only the outlines of the assets they are given."""
    if not store().has_layer(schema.OUTLINES_LAYER):
        return outlines.empty_outlines()
    return outlines.outlines_from_frame(layer(schema.OUTLINES_LAYER))


@st.cache_resource(show_spinner=False, max_entries=8)
def _details_of(data: str | None, version: str, ids: str, _assets, _tax) -> str:
    return maps.asset_details_json(maps.order_for_map(_assets, taxonomy=_tax))


def _details_json(assets, tax) -> str:
    """The popup details table of ``assets`` (:func:`geo.web.maps.asset_details_json`), built once per
    store revision and set of assets (a national store's is 3 MB and took a second on every run)."""
    import hashlib

    import pandas as pd

    ids = pd.util.hash_pandas_object(assets["id"].astype(str), index=False).to_numpy().tobytes() if len(assets) else b""
    digest = hashlib.sha256(ids).hexdigest()
    return _details_of(_data(), store().version(), digest, assets, tax)  # any write: the taxonomy's too


def asset_map(assets, *, details: bool = True, **kwargs):
    """A page's Folium map of ``assets``: the sidebar's basemap, the app's own scripts, and each
    point's popup details published for it (``details=False`` for a map without points). Other
    arguments go to :func:`geo.web.maps.explorer_map` (boundaries, choropleth, bounds, origin, ...).
    The outlines of the assets that have one (parks, grounds, routes) are drawn from close zooms."""
    tax = kwargs.pop("taxonomy", None) or taxonomy()
    with st.spinner("Drawing the map…"):  # shown only if it takes over half a second
        if details:
            kwargs["details_url"] = details_url(_details_json(assets, tax))
        fmap = maps.explorer_map(
            assets, taxonomy=tax, tiles=tiles_choice(), assets_base_url=static_assets_url(), **kwargs
        )
        shapes = asset_outlines()
        if len(shapes) and len(assets):
            maps.outline_layer(assets, shapes, taxonomy=tax).add_to(fmap)
    return fmap


def save(
    action,
    message,
    *,
    clear: tuple[str, ...] = (),
    flash_key: str = "cg_flash",
    conflict_key: str | None = None,
    forget_prefix: str | None = None,
) -> bool:
    """Run one engine write (a callable) for a form.

    On success: drop ``clear`` and every session key starting with ``forget_prefix`` (a form's
    loaded snapshot), keep ``message`` (text, or a function of the write's result) for
    :func:`flash`, and rerun. On an engine error: show it with ``st.error`` and return False, so
    what was typed stays in the form. With ``conflict_key``, a save refused because someone else
    changed the feature first is kept under that key (``{"message", "id"}``) for the page to show
    above its form with a reload button.
    """
    try:
        result = action()
    except VersionConflictError as exc:
        if conflict_key is None:
            st.error(str(exc))
            return False
        st.session_state[conflict_key] = {"message": str(exc), "id": exc.feature_id}
        st.rerun()
    except CommonGroundError as exc:
        st.error(str(exc))
        return False
    forget = [k for k in st.session_state if forget_prefix and str(k).startswith(forget_prefix)]
    for key in (*forget, *([conflict_key] if conflict_key else []), *clear):
        st.session_state.pop(key, None)
    st.session_state[flash_key] = message(result) if callable(message) else message
    st.rerun()
    return True


def view_link(params: dict[str, object]) -> None:
    """Keep a page's state in the URL (``st.query_params``) and offer "Link to this view": the URL,
    with a copy button, that restores the same view in any browser. Empty values are left out."""
    from urllib.parse import urlencode, urlsplit, urlunsplit

    clean = {k: str(v) for k, v in params.items() if v is not None and str(v) != ""}
    if dict(st.query_params) != clean:
        st.query_params.from_dict(clean)
    base = st.context.url or ""
    parts = urlsplit(base)
    link = (
        urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(clean), "")) if base else "?" + urlencode(clean)
    )
    with st.expander("Link to this view", icon=":material/link:"):
        st.caption("Copy it to send someone exactly this view, or to come back to it.")
        st.code(link, language=None, wrap_lines=True)


def withdraw_details(ids) -> None:
    """Stop serving the published popup details of these features at once (after a remove/reject)."""
    webassets.withdraw_details(STATIC_DIR, ids)


def boundary_choice() -> str:
    """The boundary set chosen in the sidebar (default wards)."""
    choice = st.session_state.get("boundary_layer", "wards")
    return choice if choice in BOUNDARY_LABELS else "wards"


def tiles_choice() -> str:
    """The basemap chosen in the sidebar; default from ``$COMMON_GROUND_TILES`` or OpenStreetMap."""
    default = settings.tiles() or maps.DEFAULT_TILES
    if default not in maps.TILE_SOURCES:
        default = maps.DEFAULT_TILES
    choice = st.session_state.get("tiles", default)
    return choice if choice in maps.TILE_SOURCES else default


def shared_sidebar() -> None:
    """The sidebar every page shares: the data source, the boundary set and the basemap."""
    s = store()
    with st.sidebar:
        st.markdown("**Data**")
        label = Path(s.location).name if s.backend == "gpkg" else s.location
        demo = label == "common_ground.gpkg" and settings.data() is None
        st.caption(
            ("Sheffield demo (real open data), working copy " if demo else f"Store ({s.backend}) ")
            + f"`{label}`. Sources and licences: see **About**."
        )
        if "_boundaries_from_url" not in st.session_state:  # a shared link's ?boundaries=...
            st.session_state["_boundaries_from_url"] = True
            if st.query_params.get("boundaries") in BOUNDARY_LABELS:
                st.session_state["boundary_layer"] = st.query_params["boundaries"]
        st.selectbox(
            "Boundaries",
            options=list(BOUNDARY_LABELS),
            format_func=BOUNDARY_LABELS.get,
            key="boundary_layer",
            help="The areas used for maps, counts and profiles on every page.",
        )
        default_tiles = tiles_choice()
        if "tiles" not in st.session_state:
            st.session_state["tiles"] = default_tiles
        st.selectbox(
            "Basemap",
            options=list(maps.TILE_SOURCES),
            key="tiles",
            help="Tiles come from the internet; choose 'none' when offline. Boundaries and assets show either way.",
        )


def plain(text: object) -> str:
    """Text shown through ``st.markdown`` literally: Markdown and HTML characters escaped, and
    nothing that could become a link (:func:`geo.textsafe.markdown_literal`)."""
    return textsafe.markdown_literal(text)


#: The most rows a table sends to the browser on a run (a national store has 30,000 assets).
TABLE_ROWS = 500


def table(frame, *, limit: int | None = None, narrow: str = "", **kwargs) -> None:
    """``st.dataframe`` for any table of the store: people's names left out unless this session may
    see them, and every text cell guarded so that the table's own CSV download cannot run a formula
    in a spreadsheet (:func:`geo.textsafe.table_safe`; the geometry column is dropped).

    At most ``limit`` rows are sent (default :data:`TABLE_ROWS`): above it, the first ``limit`` are shown with a
    line that says how many there are, how to narrow them (``narrow``, e.g. "Choose fewer types or
    search by name") and that the page's download holds them all."""
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    total, limit = len(frame), TABLE_ROWS if limit is None else limit
    if total > limit:
        hint = (narrow.rstrip(". ") + ". ") if narrow else ""
        st.caption(f"Showing the first {limit:,} of {total:,} rows. {hint}The download has all {total:,}.")
        frame = frame.head(limit)
    st.dataframe(textsafe.table_safe(public(frame)), **kwargs)


def download(label: str, build, file_name: str, mime: str, **kwargs) -> None:
    """A download button whose file is built by ``build()`` only when it is clicked (Streamlit's
    deferred download), never on a rerun: Explore's files of a national store are 70 MB. ``build``
    must use only what it was given (it runs later, outside this run)."""
    st.download_button(label, build, file_name, mime, **kwargs)


def area_picker(prefix: str):
    """The area selectbox for the sidebar's boundary set; returns ``(layer, areas, area_row)``.

    The choice is kept per boundary set under ``{prefix}_area_{layer}``.
    """
    from geo.analysis import profiles

    name = boundary_choice()
    areas = layer(name)
    names = sorted(areas["name"].astype(str))
    key = f"{prefix}_area_{name}"
    if st.session_state.get(key) not in names:
        st.session_state[key] = names[0]
    chosen = st.selectbox(f"Area ({BOUNDARY_LABELS[name]})", names, key=key)
    try:
        return name, areas, profiles.find_area(areas, chosen, layer=name)
    except CommonGroundError as exc:
        fail(exc)
        raise


# --- who is asking -------------------------------------------------------------------------------

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def mode() -> str:
    """``local`` or ``shared`` (``$COMMON_GROUND_MODE``)."""
    try:
        return settings.mode()
    except CommonGroundError as exc:
        fail(exc)
        raise


@st.cache_resource(show_spinner=False, max_entries=4)
def _roles(path: str, mtime: float) -> auth.RolesConfig:
    return auth.load_roles(path)


def roles_config() -> auth.RolesConfig:
    """The roles file, re-read whenever it changes (an admin's edit applies at the next click)."""
    path = settings.roles_file()
    try:
        mtime = path.stat().st_mtime if path.exists() else 0.0
        return _roles(str(path), mtime)
    except CommonGroundError as exc:
        fail(exc)
        raise


def auth_providers() -> list[str]:
    """The OpenID Connect providers configured under ``[auth]`` in secrets.toml (``[]``: none;
    ``[""]``: one unnamed provider, the default)."""
    try:
        section = st.secrets.get("auth")
    except Exception:  # no secrets.toml at all, or an unreadable one
        return []
    if not section:
        return []
    named = [
        k
        for k, v in section.items()
        if isinstance(v, dict | type(section)) and hasattr(v, "get") and v.get("client_id")
    ]
    if named:
        return named
    return [""] if section.get("client_id") else []


def principal() -> auth.Principal:
    """Who is using this session: local mode's one user (an admin), the signed-in person, or
    :data:`geo.auth.ANONYMOUS`. Every write passes this to ``geo/``, which checks it."""
    if mode() == "local":
        return auth.local_user(settings.cli_actor() or getpass.getuser())
    claims = st.user.to_dict()
    if not claims.get("is_logged_in"):
        return auth.ANONYMOUS
    try:
        return auth.principal_from_claims(claims, roles_config())
    except CommonGroundError as exc:
        fail(exc)
        raise


def can(permission: str) -> bool:
    return principal().can(permission)


def names_visible() -> bool:
    """Whether this session may see people's names (editors and admins)."""
    return can("see_names")


def public(frame):
    """``frame`` as this session may see it: without the columns that name people unless the session
    is an editor's or an admin's (:data:`geo.schema.PERSONAL_COLUMNS`)."""
    return frame if names_visible() else schema.public_view(frame)


def check_mode() -> None:
    """Refuse to serve local mode beyond this machine (app.py calls it first)."""
    if mode() != "local":
        return
    address = (st.get_option("server.address") or "").strip().strip("[]")
    if address in LOOPBACK or address.startswith("127."):
        return
    st.error(
        "Common Ground is in local mode, which gives every feature to whoever opens it, but this server "
        f"listens on {address or 'every network interface'}. Start it with `./run app` (which binds "
        "127.0.0.1), or set `COMMON_GROUND_MODE=shared` and configure sign-in (see the README) to serve other people."
    )
    st.stop()


def account_sidebar() -> None:
    """The sidebar's account box: local mode's banner, or sign in / signed in as / sign out."""
    p = principal()
    with st.sidebar:
        if mode() == "local":
            st.markdown(f":material/lock: **Local mode** · you are **{plain(p.name)}** (admin)")
            st.caption("Only this computer can open the app, and every feature is on.")
            return
        if p.signed_in:
            st.markdown(f"Signed in as **{plain(p.name)}** · {p.role.label}")
            st.button("Sign out", key="cg_sign_out", on_click=st.logout)
            return
        providers = auth_providers()
        if not providers:
            st.warning(
                "Sign-in is not configured, so everyone can only view. An admin adds an `[auth]` section "
                "to `.streamlit/secrets.toml` (see `.streamlit/secrets.example.toml` and the README)."
            )
            return
        st.caption("Not signed in: you can view everything public. Sign in to propose or edit.")
        for name in providers:
            label = "Sign in" if not name else f"Sign in with {name.replace('_', ' ').title()}"
            kwargs = {"args": (name,)} if name else {}
            st.button(label, key=f"cg_sign_in_{name or 'default'}", on_click=st.login, type="primary", **kwargs)


def local_banner() -> None:
    """The line at the top of every page in local mode."""
    if mode() == "local":
        st.caption(
            ":material/lock: **Local mode**: this app is open on this computer only, with every feature on. "
            "A shared deployment signs people in instead (see the README)."
        )


def require_ui(permission: str, doing: str) -> bool:
    """Whether this session may do ``permission``; if not, say why (and how to get it) once."""
    p = principal()
    if p.can(permission):
        return True
    if not p.signed_in:
        st.info(f"Sign in to {doing}. Visitors can look at everything public.", icon=":material/login:")
    else:
        st.info(f"Your role ({p.role.label}) cannot {doing}. Ask an admin if you should.", icon=":material/lock:")
    return False


def flash(key: str) -> None:
    """Show (once) the message a write left before its rerun."""
    if st.session_state.get(key):
        st.success(st.session_state.pop(key))
