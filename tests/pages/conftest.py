"""Page tests read a private copy of the demo store, never the developer's working copy."""

from __future__ import annotations

import functools

import pytest


@pytest.fixture(autouse=True, scope="session")
def _components_scanned_once():
    """Each ``AppTest`` run scans every installed distribution's metadata for Streamlit components
    (``discover_and_register_components``): about 0.6 s a run, a quarter of a page test. The installed
    packages do not change during a test session, so the scan's answer is kept for the session."""
    from streamlit.components.v2 import manifest_scanner

    real = manifest_scanner.scan_component_manifests
    manifest_scanner.scan_component_manifests = functools.cache(real)
    try:
        yield
    finally:
        manifest_scanner.scan_component_manifests = real


@pytest.fixture(autouse=True)
def private_store(store_copy, monkeypatch):
    """Point the app at ``store_copy`` and use the default basemap unless a test says otherwise."""
    monkeypatch.setenv("COMMON_GROUND_DATA", store_copy.location)
    monkeypatch.delenv("COMMON_GROUND_TILES", raising=False)
    # Local mode (the default): its one user, an admin, is recorded under this name.
    monkeypatch.setenv("COMMON_GROUND_ACTOR", "tester@example.org")
    monkeypatch.delenv("COMMON_GROUND_MODE", raising=False)
    return store_copy


@pytest.fixture
def sign_in(monkeypatch, tmp_path):
    """``sign_in(at, "kim@example.org", role="editor")``: shared mode, with that person signed in (their
    ``sub`` is what was given, so the store records exactly that) and the role given by a roles file
    written for the test. ``role="anonymous"`` signs nobody in."""
    roles = tmp_path / "roles.toml"
    people: dict[str, set[str]] = {"admin": set(), "editor": set()}
    monkeypatch.setenv("COMMON_GROUND_MODE", "shared")
    monkeypatch.setenv("COMMON_GROUND_ROLES", str(roles))

    def _sign_in(at, who: str = "", role: str = "editor", name: str | None = None):
        if role == "anonymous" or not who:
            at.user = {"is_logged_in": False}
            return at
        email = who if "@" in who else f"{who}@example.org"
        for r, emails in people.items():
            emails.discard(email)
            if r == role:
                emails.add(email)
        roles.write_text(
            f"[admins]\nemails = {sorted(people['admin'])!r}\n[editors]\nemails = {sorted(people['editor'])!r}\n"
        )
        at.user = {"is_logged_in": True, "sub": who, "email": email, "name": name or who}
        return at

    return _sign_in
