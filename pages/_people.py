"""Who is asking: local or shared mode, the roles file, the signed-in person and what they may do, and what they may see."""

from __future__ import annotations

import getpass

import streamlit as st

from geo import auth, schema, settings
from geo.errors import CommonGroundError
from pages import _show


def mode() -> str:
    """``local`` or ``shared`` (``$COMMON_GROUND_MODE``)."""
    try:
        return settings.mode()
    except CommonGroundError as exc:
        _show.fail(exc)
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
        _show.fail(exc)
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
        _show.fail(exc)
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
