"""What app.py draws around every page: the frame itself (direct links run inside it), the mode check, the
account box, the shared sidebar and local mode's banner."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from geo import settings
from geo.web import maps
from pages import _layers, _map, _people, _show


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


def shared_sidebar() -> None:
    """The sidebar every page shares: the data source, the boundary set and the basemap."""
    s = _layers.store()
    with st.sidebar:
        st.markdown("**Data**")
        label = Path(s.location).name if s.backend == "gpkg" else s.location
        demo = label == "common_ground.gpkg" and settings.data() is None
        st.caption(
            ("Sheffield demo (real open data), working copy " if demo else f"Store ({s.backend}) ")
            + f"`{label}`. Sources and licences: see **About**."
        )
        held = set(s.layer_names())  # one query, not one per boundary set
        present = [n for n in _layers.BOUNDARY_LABELS if n in held]
        if "_boundaries_from_url" not in st.session_state:  # a shared link's ?boundaries=...
            st.session_state["_boundaries_from_url"] = True
            if st.query_params.get("boundaries") in present:
                st.session_state["boundary_layer"] = st.query_params["boundaries"]
        if present:
            if st.session_state.get("boundary_layer") not in present:
                st.session_state["boundary_layer"] = present[0]
            st.selectbox(
                "Boundaries",
                options=present,
                format_func=_layers.boundary_option,
                key="boundary_layer",
                help="The areas used for maps, counts and profiles on every page.",
            )
        else:
            st.caption(
                "This store has no boundaries, so there are no areas to count, shade or profile. "
                "Import wards, LSOAs or neighbourhoods on the **Data** page to add them."
            )
        default_tiles = _map.tiles_choice()
        if "tiles" not in st.session_state:
            st.session_state["tiles"] = default_tiles
        st.selectbox(
            "Basemap",
            options=list(maps.TILE_SOURCES),
            key="tiles",
            help="Tiles come from the internet; choose 'none' when offline. Boundaries and assets show either way.",
        )


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_mode() -> None:
    """Refuse to serve local mode beyond this machine (app.py calls it first)."""
    if _people.mode() != "local":
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
    p = _people.principal()
    with st.sidebar:
        if _people.mode() == "local":
            st.markdown(f":material/lock: **Local mode** · you are **{_show.plain(p.name)}** (admin)")
            st.caption("Only this computer can open the app, and every feature is on.")
            return
        if p.signed_in:
            st.markdown(f"Signed in as **{_show.plain(p.name)}** · {p.role.label}")
            st.button("Sign out", key="cg_sign_out", on_click=st.logout)
            return
        providers = _people.auth_providers()
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
    if _people.mode() == "local":
        st.caption(
            ":material/lock: **Local mode**: this app is open on this computer only, with every feature on. "
            "A shared deployment signs people in instead (see the README)."
        )
