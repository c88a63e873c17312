"""The sign-in harness for the browser tests: a real OpenID Connect provider and a shared-mode app.

* :func:`mock_provider` runs ``oidc-provider-mock`` (PyPI) on a free port of 127.0.0.1 in a thread
  of the test process. People are registered with their ID-token claims (:meth:`MockProvider.add_user`);
  signing in goes through its real authorization form (type the ``sub``, press **Authorize**), then
  its token endpoint, JWKS and userinfo, exactly as with Entra ID or Google.
* :func:`shared_app_env` is what turns a test server into a shared deployment: ``COMMON_GROUND_MODE=shared``,
  a roles file, and a ``secrets.toml`` whose ``[auth]`` points Streamlit's ``st.login`` at the mock
  (given to ``streamlit run`` as ``STREAMLIT_SECRETS_FILES``, the environment form of ``--secrets.files``).
  The redirect URI says ``{port}``, which Streamlit fills with the port it serves, so the app server
  keeps its retry on a taken port.
* :func:`sign_in` and :func:`sign_out` drive Chromium through the whole round trip.

Everything uses 127.0.0.1 (never ``localhost``), so the browser's cookie host, the redirect URI and
the provider's issuer all agree.
"""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from geo import auth

CLIENT_ID = "common-ground-test"
CLIENT_SECRET = "test-secret"
ADMIN_GROUP = "common-ground-admins"


@dataclass(frozen=True)
class Person:
    """Someone who signs in through the mock provider."""

    sub: str
    name: str
    email: str
    groups: tuple[str, ...] = field(default=())

    @property
    def claims(self) -> dict[str, object]:
        claims: dict[str, object] = {"name": self.name, "email": self.email, "email_verified": True}
        if self.groups:
            claims["groups"] = list(self.groups)
        return claims

    def principal(self, role: auth.Role) -> auth.Principal:
        """The principal the app makes of this person (for seeding the store as them)."""
        return auth.Principal(
            sub=self.sub, name=self.name, role=role, email=self.email, provider="oidc", groups=self.groups
        )


#: Signs in, is in no list of the roles file: a contributor.
CONTRIBUTOR = Person(sub="c-7f3a91", name="Casey Contributor", email="casey@friends-of-parks.example")
#: Named by email under [editors].
EDITOR = Person(sub="e-52b0de", name="Eden Editor", email="eden@voluntary-action.example")
#: A second editor, by email domain under [editors].
EDITOR_2 = Person(sub="e-9c11f4", name="Errol Second", email="errol@council.example")
#: An admin by the group claim only (their email is in no list).
ADMIN = Person(sub="a-0d44c2", name="Ada Admin", email="ada@elsewhere.example", groups=(ADMIN_GROUP,))
PEOPLE = (CONTRIBUTOR, EDITOR, EDITOR_2, ADMIN)

ROLES_TOML = f"""
[admins]
emails = []
domains = []
groups = ["{ADMIN_GROUP}"]

[editors]
emails = ["{EDITOR.email}"]
domains = ["council.example"]
groups = []
"""


@dataclass
class MockProvider:
    """A running ``oidc-provider-mock``."""

    url: str

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    def add_user(self, person: Person) -> None:
        """Register (or replace) a person's claims; the provider's form then signs them in by ``sub``."""
        import httpx

        response = httpx.put(f"{self.url}/users/{quote(person.sub, safe='')}", json=person.claims, timeout=10)
        assert response.status_code == 204, f"the mock provider refused the user {person.sub}: {response.text}"


@contextmanager
def mock_provider() -> Iterator[MockProvider]:
    """``oidc-provider-mock`` on a free port of 127.0.0.1, with :data:`PEOPLE` registered."""
    import authlib.deprecate  # noqa: F401 (importing it adds an "always" filter for its own warnings)

    with warnings.catch_warnings():  # the mock imports Authlib modules that Authlib 1.9 deprecates
        warnings.simplefilter("ignore", DeprecationWarning)
        import oidc_provider_mock

    # Plain http is fine without AUTHLIB_INSECURE_TRANSPORT: Authlib (the provider's and st.login's)
    # accepts http for loopback addresses (RFC 8252 section 7.3), and everything here is 127.0.0.1.
    with oidc_provider_mock.run_server_in_thread() as server:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1", f"the mock provider listens on {host}, not 127.0.0.1"
        provider = MockProvider(url=f"http://127.0.0.1:{port}")
        for person in PEOPLE:
            provider.add_user(person)
        yield provider


def shared_app_env(work: Path, provider: MockProvider) -> dict[str, str]:
    """Write the roles file and ``secrets.toml`` into ``work``; return the app server's environment."""
    roles = work / "roles.toml"
    roles.write_text(ROLES_TOML, encoding="utf-8")
    secrets_toml = work / "secrets.toml"
    secrets_toml.write_text(
        "[auth]\n"
        'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{CLIENT_SECRET}"\n'
        f'server_metadata_url = "{provider.metadata_url}"\n',
        encoding="utf-8",
    )
    assert " " not in str(secrets_toml), "STREAMLIT_SECRETS_FILES is split on whitespace"
    return {
        "COMMON_GROUND_MODE": "shared",
        "COMMON_GROUND_ROLES": str(roles),
        "STREAMLIT_SECRETS_FILES": str(secrets_toml),
    }
