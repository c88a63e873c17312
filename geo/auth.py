"""Who is asking, and what they may do: principals, roles and permissions.

The engine enforces permissions itself: every function in ``geo/`` that writes takes the actor as
a :class:`Principal` (or, from trusted local callers, a plain name: see :func:`as_principal`) and
calls :func:`require` before it touches the store, so hiding a button is never the only guard.

Roles (the README has the same table for people):

============ ============================ ========================================================
role         who                          can
============ ============================ ========================================================
anonymous    anyone not signed in         view maps, profiles, gaps, stories and public exports;
                                          no writes, no uploads, no people's names
contributor  any signed-in person         propose assets, aspirations, stories and measure values
                                          (all land as *pending* until an editor approves them);
                                          see and withdraw their own proposals; small imports
                                          (as pending)
editor       named in the roles file      everything a contributor can; edit, close and remove;
                                          approve or reject others' contributions (never their
                                          own); undo; imports up to the editor row limit; see
                                          names and the audit's before/after
admin        named in the roles file      everything an editor can; the taxonomy; the roles;
                                          imports over the editor row limit
============ ============================ ========================================================

In **local** mode (``COMMON_GROUND_MODE=local``, the default: one person on their own machine,
bound to loopback) the one user is an admin. In **shared** mode people sign in with OpenID Connect
(``st.login``) and the roles file maps their email, email domain or a group claim to a role.

Every write records the principal's :attr:`Principal.actor`: the display name followed by the
stable ``sub`` in angle brackets (``"Ann Lee <3f2a...>"``), so the audit shows both, and
:func:`identity` recovers the ``sub`` to decide whose a contribution is (a renamed account is
still the same person).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path

from geo.errors import PermissionDeniedError, RolesConfigError


class Role(IntEnum):
    """Roles in increasing order of trust: each can do everything the ones below it can."""

    ANONYMOUS = 0
    CONTRIBUTOR = 1
    EDITOR = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()


#: Each permission: the least role that has it, and the words used when it is refused.
PERMISSIONS: dict[str, tuple[Role, str]] = {
    "contribute": (Role.CONTRIBUTOR, "propose a change (it waits for an editor)"),
    "withdraw": (Role.CONTRIBUTOR, "withdraw a proposal"),
    "upload": (Role.CONTRIBUTOR, "upload a file"),
    "edit": (Role.EDITOR, "edit, close or remove features"),
    "moderate": (Role.EDITOR, "approve or reject contributions"),
    "undo": (Role.EDITOR, "undo a change"),
    "import": (Role.EDITOR, "import data straight onto the map"),
    "see_names": (Role.EDITOR, "see who made changes"),
    "history": (Role.EDITOR, "see the change history"),
    "taxonomy": (Role.ADMIN, "change the taxonomy (asset types)"),
    "roles": (Role.ADMIN, "manage roles"),
    "bulk_import": (Role.ADMIN, "import more rows than the editors' limit"),
}

#: The most rows one import may hold, per role (None: only the installation-wide limit applies).
#: Contributors' imports land as pending proposals, one by one for an editor to check.
DEFAULT_ROW_LIMITS: dict[Role, int | None] = {
    Role.ANONYMOUS: 0,
    Role.CONTRIBUTOR: 50,
    Role.EDITOR: 20_000,
    Role.ADMIN: None,
}

_SUB_RE = re.compile(r"<([^<>]+)>\s*$")


@dataclass(frozen=True)
class Principal:
    """Who is making a request.

    Parameters
    ----------
    sub
        The stable subject identifier (OIDC ``sub``); ``""`` for an anonymous visitor.
    name
        The display name recorded with changes.
    role
        What they may do.
    email
        Their email, when known (never shown to anonymous visitors).
    provider
        ``"oidc"``, ``"local"`` (the one user of local mode or a trusted caller) or ``""``.
    """

    sub: str
    name: str
    role: Role
    email: str = ""
    provider: str = ""
    groups: tuple[str, ...] = field(default=())

    @property
    def signed_in(self) -> bool:
        return self.role > Role.ANONYMOUS

    @property
    def actor(self) -> str:
        """What the audit and ``created_by``/``updated_by`` record: ``"Name <sub>"``, or the name alone
        when it is the identity (local mode, the command line)."""
        name = " ".join(self.name.split()) or self.email or self.sub
        if not self.sub or self.sub == name:
            return name
        return f"{name} <{self.sub}>"

    @property
    def identity(self) -> str:
        return identity(self.actor)

    def can(self, permission: str) -> bool:
        """Whether this principal has ``permission`` (one of :data:`PERMISSIONS`)."""
        least, _ = _permission(permission)
        return self.role >= least

    def owns(self, recorded_actor: object) -> bool:
        """Whether a recorded actor (``created_by``, an audit ``by``) is this principal."""
        return self.signed_in and isinstance(recorded_actor, str) and identity(recorded_actor) == self.identity


ANONYMOUS = Principal(sub="", name="visitor", role=Role.ANONYMOUS)


def local_user(name: str) -> Principal:
    """The one user of local mode, or a trusted local caller (the command line, a script): an admin."""
    name = " ".join(str(name).split())
    return Principal(sub=name, name=name, role=Role.ADMIN, provider="local")


def as_principal(actor: object) -> Principal:
    """The principal behind ``actor``.

    A :class:`Principal` is returned as it is. A plain name is a *trusted local caller*: the command
    line run by the machine's operator, a script, local mode. It gets the admin role, exactly like
    local mode's one user. The shared app never passes a plain name: it passes the signed-in
    principal (or :data:`ANONYMOUS`). Anything else (None, a number) is an anonymous caller; an empty
    or malformed name raises :class:`geo.validation.MissingValueError` or ``InvalidValueError``.
    """
    if isinstance(actor, Principal):
        return actor
    if isinstance(actor, str):
        from geo.validation import require_actor  # an empty or malformed name is a plain input error

        return local_user(require_actor(actor))
    return ANONYMOUS


def identity(actor: object) -> str:
    """The stable identity in a recorded actor: the ``sub`` in ``"Name <sub>"``, else the whole text,
    case-folded (``"ed@example.org"`` and ``"Ed@Example.org"`` are one person)."""
    text = "" if actor is None else str(actor).strip()
    m = _SUB_RE.search(text)
    return (m.group(1) if m else text).strip().casefold()


def display_name(actor: object) -> str:
    """The name part of a recorded actor (``"Ann Lee <sub>"`` → ``"Ann Lee"``)."""
    text = "" if actor is None else str(actor).strip()
    return _SUB_RE.sub("", text).strip() or text


def _permission(permission: str) -> tuple[Role, str]:
    try:
        return PERMISSIONS[permission]
    except KeyError:
        raise ValueError(f"unknown permission {permission!r}; known: {', '.join(PERMISSIONS)}") from None


def require(actor: object, permission: str) -> Principal:
    """Return the principal behind ``actor`` if it has ``permission``; else raise.

    Raises
    ------
    PermissionDeniedError
        In one sentence: what was refused, the role the person has, and how to get the right one.
    """
    principal = as_principal(actor)
    least, words = _permission(permission)
    if principal.role >= least:
        return principal
    if not principal.signed_in:
        msg = f"Sign in to {words}: visitors who are not signed in can look at everything public but cannot change it."
    else:
        article = "an" if least.label[0] in "aeiou" else "a"
        msg = (
            f"Your role ({principal.role.label}) cannot {words}, which needs {article} {least.label}: "
            "ask an admin of this Common Ground to add you to the roles file if you should."
        )
    raise PermissionDeniedError(msg, action=words, role=principal.role.label)


def require_not_own(principal: Principal, recorded_actor: object, *, doing: str) -> None:
    """Refuse ``doing`` (e.g. ``"approve"``) a contribution the principal made themselves."""
    if principal.owns(recorded_actor):
        raise PermissionDeniedError(
            f"You cannot {doing} your own contribution; another editor has to, so that every change is seen by two people.",
            action=doing,
            role=principal.role.label,
        )


# --- the roles configuration -----------------------------------------------------------------------


@dataclass(frozen=True)
class RolesConfig:
    """Who is an editor or an admin, from a TOML file. Everyone else who signs in is a contributor.

    The file (see ``roles.example.toml``)::

        [admins]
        emails = ["ada@council.example.gov.uk"]
        domains = []                 # every address at these domains
        groups = ["common-ground-admins"]   # values of the group claim

        [editors]
        emails = ["ed@voluntaryaction.org.uk"]
        domains = ["council.example.gov.uk"]
        groups = []

        [settings]
        group_claim = "groups"       # the ID-token claim that lists a person's groups
        contributor_row_limit = 50
        editor_row_limit = 20000

    Emails and domains only count when the provider has not said the email is unverified
    (``email_verified = false``).
    """

    admins: Mapping[str, frozenset[str]] = field(default_factory=dict)
    editors: Mapping[str, frozenset[str]] = field(default_factory=dict)
    group_claim: str = "groups"
    row_limits: Mapping[Role, int | None] = field(default_factory=lambda: dict(DEFAULT_ROW_LIMITS))
    source: str = ""

    def role_for(self, claims: Mapping[str, object]) -> Role:
        """The role of a signed-in person with these ID-token claims."""
        email = str(claims.get("email") or "").strip().casefold()
        if claims.get("email_verified") is False:
            email = ""
        domain = email.rpartition("@")[2] if "@" in email else ""
        raw_groups = claims.get(self.group_claim) or ()
        groups = (
            {raw_groups}
            if isinstance(raw_groups, str)
            else set(raw_groups)
            if isinstance(raw_groups, list | tuple)
            else set()
        )
        groups = {str(g).strip().casefold() for g in groups}
        for role, table in ((Role.ADMIN, self.admins), (Role.EDITOR, self.editors)):
            if (
                (email and email in table.get("emails", ()))
                or (domain and domain in table.get("domains", ()))
                or (groups & set(table.get("groups", ())))
            ):
                return role
        return Role.CONTRIBUTOR

    def row_limit(self, role: Role) -> int | None:
        return self.row_limits.get(role, DEFAULT_ROW_LIMITS[role])

    def describe(self) -> list[dict[str, str]]:
        """The configuration as rows for a table (role, kind, value): for admins only."""
        rows = []
        for role, table in (("admin", self.admins), ("editor", self.editors)):
            for kind in ("emails", "domains", "groups"):
                for value in sorted(table.get(kind, ())):
                    rows.append({"role": role, "matched by": kind[:-1], "value": value})
        return rows


def _strings(value: object, where: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RolesConfigError(f'{where} must be a list of text in quotes, like ["a@example.org"].')
    return frozenset(v.strip().casefold().lstrip("@") if "domains" in where else v.strip().casefold() for v in value)


def parse_roles(text: str, *, source: str = "roles file") -> RolesConfig:
    """Parse the TOML text of a roles file (see :class:`RolesConfig`)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RolesConfigError(
            f"{source} is not valid TOML ({exc}); fix it, starting from roles.example.toml."
        ) from None
    unknown = set(doc) - {"admins", "editors", "settings"}
    if unknown:
        raise RolesConfigError(
            f"{source} has unknown section(s) {', '.join(sorted(unknown))}; use [admins], [editors] and [settings]."
        )
    tables: dict[str, dict[str, frozenset[str]]] = {}
    for section in ("admins", "editors"):
        table = doc.get(section, {})
        if not isinstance(table, dict):
            raise RolesConfigError(f"{source}: [{section}] must be a table with emails, domains and groups.")
        bad = set(table) - {"emails", "domains", "groups"}
        if bad:
            raise RolesConfigError(
                f"{source}: [{section}] has unknown key(s) {', '.join(sorted(bad))}; use emails, domains, groups."
            )
        tables[section] = {
            k: _strings(table.get(k), f"{source}: {section}.{k}") for k in ("emails", "domains", "groups")
        }
    settings = doc.get("settings", {})
    limits = dict(DEFAULT_ROW_LIMITS)
    for key, role in (("contributor_row_limit", Role.CONTRIBUTOR), ("editor_row_limit", Role.EDITOR)):
        if key in settings:
            value = settings[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise RolesConfigError(f"{source}: settings.{key} must be a whole number, 0 or more.")
            limits[role] = value
    claim = settings.get("group_claim", "groups")
    if not isinstance(claim, str) or not claim.strip():
        raise RolesConfigError(f'{source}: settings.group_claim must be the name of a claim, like "groups".')
    return RolesConfig(
        admins=tables["admins"], editors=tables["editors"], group_claim=claim.strip(), row_limits=limits, source=source
    )


def load_roles(path: str | Path) -> RolesConfig:
    """Read a roles file. A missing file means nobody is an editor or admin yet (everyone who signs
    in is a contributor), which is safe; a malformed one raises :class:`RolesConfigError`."""
    path = Path(path)
    if not path.exists():
        return RolesConfig(source=f"{path} (missing: everyone who signs in is a contributor)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RolesConfigError(
            f"Cannot read the roles file {path} ({exc}); check its permissions and encoding."
        ) from None
    return parse_roles(text, source=str(path))


def principal_from_claims(claims: Mapping[str, object], config: RolesConfig) -> Principal:
    """The principal for a signed-in person's ID-token claims (``st.user``)."""
    sub = str(claims.get("sub") or "").strip()
    email = str(claims.get("email") or "").strip()
    if not sub:
        raise PermissionDeniedError(
            "The sign-in provider did not say who you are (no 'sub' claim); sign in again, or ask the admin to check the provider.",
            action="sign in",
        )
    name = str(claims.get("name") or claims.get("preferred_username") or email or sub).strip()
    raw_groups = claims.get(config.group_claim) or ()
    groups = (
        (raw_groups,)
        if isinstance(raw_groups, str)
        else tuple(str(g) for g in raw_groups)
        if isinstance(raw_groups, list | tuple)
        else ()
    )
    return Principal(sub=sub, name=name, role=config.role_for(claims), email=email, provider="oidc", groups=groups)


def row_limit(principal: Principal, config: RolesConfig | None = None) -> int | None:
    """The most rows ``principal`` may import at once (None: no role limit)."""
    limits = config.row_limits if config is not None else DEFAULT_ROW_LIMITS
    return limits.get(principal.role, DEFAULT_ROW_LIMITS[principal.role])
