"""Roles, permissions and the roles file (geo.auth), and their enforcement by the asset engine."""

from __future__ import annotations

import pytest

from geo import auth, community, editing, schema
from geo.auth import Principal, Role
from geo.errors import PermissionDeniedError, RolesConfigError
from tests.helpers import store_digest

CONTRIBUTOR = Principal(sub="sub-cara", name="Cara Contributor", role=Role.CONTRIBUTOR, email="cara@example.org")
OTHER = Principal(sub="sub-olu", name="Olu Other", role=Role.CONTRIBUTOR)
EDITOR = Principal(sub="sub-eda", name="Eda Editor", role=Role.EDITOR)
ADMIN = Principal(sub="sub-ada", name="Ada Admin", role=Role.ADMIN)
POINT = {"lon": -1.4701, "lat": 53.3811}

ROLES_TOML = """
[admins]
emails = ["Ada@Sheffield.gov.uk"]
groups = ["cg-admins"]

[editors]
domains = ["@voluntaryaction.example"]
emails = ["ed@example.org"]

[settings]
contributor_row_limit = 10
editor_row_limit = 1000
"""


def test_roles_file_maps_emails_domains_and_groups_to_roles():
    config = auth.parse_roles(ROLES_TOML)
    assert config.role_for({"sub": "1", "email": "ada@sheffield.gov.uk"}) is Role.ADMIN
    assert config.role_for({"sub": "2", "groups": ["CG-Admins", "x"]}) is Role.ADMIN
    assert config.role_for({"sub": "3", "email": "kim@voluntaryaction.example"}) is Role.EDITOR
    assert config.role_for({"sub": "4", "email": "ED@example.org"}) is Role.EDITOR
    assert config.role_for({"sub": "5", "email": "someone@gmail.example"}) is Role.CONTRIBUTOR
    # An address the provider says is unverified never grants a role.
    assert config.role_for({"sub": "6", "email": "ada@sheffield.gov.uk", "email_verified": False}) is Role.CONTRIBUTOR
    assert config.row_limits[Role.CONTRIBUTOR] == 10 and config.row_limits[Role.EDITOR] == 1000
    assert {"role": "admin", "matched by": "group", "value": "cg-admins"} in config.describe()


@pytest.mark.parametrize(
    "text, words",
    [
        ("[admins\nemails=1", "not valid TOML"),
        ("[owners]\nemails=[]", "unknown section"),
        ("[editors]\nemail=['a@b']", "unknown key"),
        ("[editors]\nemails='a@b'", "must be a list"),
        ("[settings]\ncontributor_row_limit=-1", "whole number"),
    ],
)
def test_a_malformed_roles_file_is_refused_with_the_fix(text, words):
    with pytest.raises(RolesConfigError, match=words):
        auth.parse_roles(text)


def test_a_missing_roles_file_makes_everyone_a_contributor(tmp_path):
    config = auth.load_roles(tmp_path / "nope.toml")
    assert config.role_for({"sub": "x", "email": "ada@sheffield.gov.uk"}) is Role.CONTRIBUTOR


def test_principal_from_claims_records_name_and_sub():
    p = auth.principal_from_claims({"sub": "abc", "name": "Ann Lee", "email": "ann@example.org"}, auth.RolesConfig())
    assert p.actor == "Ann Lee <abc>" and p.role is Role.CONTRIBUTOR
    assert auth.identity("Ann Renamed <abc>") == p.identity  # a renamed account is the same person
    assert auth.display_name(p.actor) == "Ann Lee"
    with pytest.raises(PermissionDeniedError, match="did not say who you are"):
        auth.principal_from_claims({"name": "x"}, auth.RolesConfig())


def test_permissions_grow_with_the_role():
    assert not auth.ANONYMOUS.can("contribute")
    assert CONTRIBUTOR.can("contribute") and not CONTRIBUTOR.can("moderate")
    assert EDITOR.can("moderate") and EDITOR.can("undo") and not EDITOR.can("taxonomy")
    assert ADMIN.can("taxonomy") and ADMIN.can("bulk_import")
    assert auth.as_principal("ed@example.org").role is Role.ADMIN  # a trusted local caller
    with pytest.raises(PermissionDeniedError, match="Sign in to"):
        auth.require(auth.ANONYMOUS, "contribute")
    with pytest.raises(
        PermissionDeniedError, match=r"Your role \(contributor\) cannot approve.*which needs an editor: ask an admin"
    ):
        auth.require(CONTRIBUTOR, "moderate")


def test_an_anonymous_write_is_refused_and_changes_nothing(gpkg_copy):
    before = store_digest(gpkg_copy)
    with pytest.raises(PermissionDeniedError, match="Sign in"):
        editing.contribute_asset(
            gpkg_copy, actor=auth.ANONYMOUS, contributed_by="x", name="X", type_id="library", **POINT
        )
    with pytest.raises(PermissionDeniedError):
        editing.add_asset(gpkg_copy, actor=None, name="X", type_id="library", **POINT)
    assert store_digest(gpkg_copy) == before


def test_a_contributor_proposes_but_cannot_publish_edit_or_undo(gpkg_copy):
    asset_id = editing.contribute_asset(
        gpkg_copy,
        actor=CONTRIBUTOR,
        contributed_by="Firth Park Residents",
        name="Tool library",
        type_id="library",
        **POINT,
    )
    row = gpkg_copy.get("assets", asset_id)
    assert row["status"] == "pending" and row["created_by"] == "Cara Contributor <sub-cara>"
    before = store_digest(gpkg_copy)
    for call in (
        lambda: editing.add_asset(gpkg_copy, actor=CONTRIBUTOR, name="X", type_id="library", **POINT),
        lambda: editing.update_asset(gpkg_copy, asset_id, actor=CONTRIBUTOR, name="Renamed"),
        lambda: editing.approve(gpkg_copy, asset_id, actor=CONTRIBUTOR),
        lambda: editing.remove_asset(gpkg_copy, asset_id, actor=CONTRIBUTOR),
        lambda: editing.undo(gpkg_copy, 0, actor=CONTRIBUTOR),
        lambda: editing.history(gpkg_copy, viewer=CONTRIBUTOR),
        lambda: editing.moderation_queue(gpkg_copy, viewer=CONTRIBUTOR),
        lambda: editing.add_asset_type(
            gpkg_copy, actor=EDITOR, type_id="tool_library", label="Tool library", category="physical"
        ),
    ):
        with pytest.raises(PermissionDeniedError):
            call()
    assert store_digest(gpkg_copy) == before
    mine = community.my_contributions(gpkg_copy, CONTRIBUTOR)
    assert list(mine["id"]) == [asset_id] and list(mine["layer"]) == ["assets"]
    assert community.my_contributions(gpkg_copy, OTHER).empty


def test_nobody_approves_their_own_contribution_but_another_editor_can(gpkg_copy):
    # An editor's own proposal (e.g. made before they became an editor) waits for someone else.
    own = editing.contribute_asset(
        gpkg_copy,
        actor=Principal(sub="sub-eda", name="Eda (old name)", role=Role.CONTRIBUTOR),
        contributed_by="Eda",
        name="Community fridge",
        type_id="library",
        **POINT,
    )
    with pytest.raises(PermissionDeniedError, match="your own contribution"):
        editing.approve(gpkg_copy, own, actor=EDITOR)
    with pytest.raises(PermissionDeniedError, match="your own contribution"):
        editing.reject(gpkg_copy, own, actor=EDITOR, reason="duplicate")
    assert gpkg_copy.get("assets", own)["status"] == "pending"
    editing.approve(gpkg_copy, own, actor=ADMIN)
    assert gpkg_copy.get("assets", own)["status"] == "active"
    entry = editing.history(gpkg_copy, feature_id=own, viewer=EDITOR).iloc[0]
    assert entry["action"] == "approve" and entry["by"] == "Ada Admin <sub-ada>"


def test_a_contributor_withdraws_their_own_pending_proposal_only(gpkg_copy):
    mine = editing.contribute_asset(
        gpkg_copy, actor=CONTRIBUTOR, contributed_by="Cara", name="Bench", type_id="library", **POINT
    )
    theirs = editing.contribute_asset(
        gpkg_copy, actor=OTHER, contributed_by="Olu", name="Garden", type_id="library", **POINT
    )
    with pytest.raises(PermissionDeniedError, match="someone else's contribution"):
        editing.withdraw(gpkg_copy, theirs, actor=CONTRIBUTOR)
    editing.withdraw(gpkg_copy, mine, actor=CONTRIBUTOR)
    assert gpkg_copy.get("assets", mine)["status"] == "removed"
    assert gpkg_copy.get("assets", theirs)["status"] == "pending"
    with pytest.raises(editing.StatusError, match="not pending"):
        editing.withdraw(gpkg_copy, mine, actor=CONTRIBUTOR)


def test_public_view_drops_every_column_that_names_people():
    import pandas as pd

    frame = pd.DataFrame({c: ["Ann"] for c in (*schema.PERSONAL_COLUMNS, "name")})
    assert list(schema.public_view(frame).columns) == ["name"]


def test_the_example_configuration_files_are_valid():
    import tomllib

    from geo.schema import PROJECT_ROOT

    roles = auth.load_roles(PROJECT_ROOT / "roles.example.toml")
    assert roles.role_for({"sub": "x", "email": "someone@sheffield.example"}) is Role.EDITOR
    secrets = tomllib.loads((PROJECT_ROOT / ".streamlit" / "secrets.example.toml").read_text())["auth"]
    assert secrets["redirect_uri"].endswith("/oauth2callback") and secrets["cookie_secret"]
    for provider in ("microsoft", "google"):
        assert {"client_id", "client_secret", "server_metadata_url"} <= set(secrets[provider])
    assert not (PROJECT_ROOT / ".streamlit" / "secrets.toml").exists()  # never a real secret in the repo
