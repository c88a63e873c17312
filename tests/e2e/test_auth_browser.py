"""Sign-in, roles and privacy in a real browser, through a real OpenID Connect provider.

One ``oidc-provider-mock`` (PyPI) and one app server in shared mode serve the whole module. Chromium
signs in through the provider's own authorization form; Streamlit's ``st.login`` (Authlib) then does
the code exchange, checks the ID token against the provider's keys and sets its identity cookie.
The store is seeded, before the server starts, with changes made by people whose names must never
reach an anonymous visitor, and with proposals from a contributor and from an editor.

Tests do not depend on each other's order: each one starts in a new tab with no cookies (nobody
signed in), and those that write make their own rows (with names unique to the test). The tests of
what a role may do start signed in with the cookies an earlier real sign-in of that person left
(:func:`signed_in`), as a returning visitor's browser does, or sign in first if there was none.
"""

from __future__ import annotations

import csv
import io
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from geo import auth, editing
from geo.store import open_store
from pages._registry import HEADINGS
from tests.e2e.auth_fixtures import (
    ADMIN,
    ADMIN_GROUP,
    CONTRIBUTOR,
    EDITOR,
    EDITOR_2,
    PEOPLE,
    MockProvider,
    Person,
    mock_provider,
    shared_app_env,
)
from tests.e2e.conftest import (
    TIMEOUT_MS,
    AppPage,
    AppServer,
    _app_page,
    private_store,
    settle,
    start_server,
    visit,
)

pytestmark = [
    pytest.mark.e2e,
    # oidc-provider-mock 0.3.4 runs in this process and uses Authlib APIs that Authlib 1.9 deprecates
    # (the two import-time ones are emitted by authlib.deprecate, which forces "always" for itself).
    pytest.mark.filterwarnings("ignore:.*get_jwt_config.*:DeprecationWarning"),
]

# --- what the store is seeded with ------------------------------------------------------------------

#: A plain-name actor (a trusted local caller, as the command line records) and a community group.
SEED_ACTOR = "Priya Seedname"
SEED_GROUP_PERSON = "Gwen Groupcontact"
SEED_ASSET = "Seeded Community Larder"
#: A contributor's pending proposal (made as CONTRIBUTOR's principal: the app must see it as theirs).
CONTRIBUTOR_PROPOSAL = "Seeded Proposal From Casey"
#: An editor's own pending proposal (the editor may not approve it).
EDITOR_PROPOSAL = "Seeded Proposal From Eden"
WHERE = {"lon": -1.4701, "lat": 53.3811}  # Sheffield city centre

#: Every name, email and ``sub`` that an anonymous visitor must never see.
KNOWN_NAMES = (SEED_ACTOR, SEED_GROUP_PERSON) + tuple(
    text for person in PEOPLE for text in (person.name, person.email, person.sub)
)

PAGES = HEADINGS  # url path -> the page's title (its h1), from the app's one list

WRITE_WORDS = re.compile(
    r"\b(save|add|approve|reject|undo|remove|import|upload|edit|publish|record|send|withdraw|browse files)\b", re.I
)


def _seed(store_path: Path) -> None:
    store = open_store(store_path)
    editing.add_asset(
        store, actor=SEED_ACTOR, name=SEED_ASSET, type_id="community_centre", **WHERE, address="1 Seed Street"
    )
    editing.contribute_asset(
        store,
        actor=SEED_ACTOR,
        contributed_by=SEED_GROUP_PERSON,
        name="Seeded Pending Pantry",
        type_id="community_centre",
        **WHERE,
    )
    editing.contribute_asset(
        store,
        actor=CONTRIBUTOR.principal(auth.Role.CONTRIBUTOR),
        contributed_by=CONTRIBUTOR.name,
        name=CONTRIBUTOR_PROPOSAL,
        type_id="community_centre",
        lon=WHERE["lon"] + 0.01,
        lat=WHERE["lat"],
    )
    editing.contribute_asset(
        store,
        actor=EDITOR.principal(auth.Role.EDITOR),
        contributed_by=EDITOR.name,
        name=EDITOR_PROPOSAL,
        type_id="community_centre",
        lon=WHERE["lon"] - 0.01,
        lat=WHERE["lat"],
    )
    assets = store.read("assets")
    library = assets[assets["name"] == "Firth Park Library"].iloc[0]
    editing.update_asset(store, library["id"], actor=SEED_ACTOR, opening_hours="Mo-Sa 09:00-17:00")


# --- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[MockProvider]:
    """``oidc-provider-mock`` on 127.0.0.1, with the test people registered."""
    with mock_provider() as provider:
        yield provider


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory: pytest.TempPathFactory, oidc_provider: MockProvider) -> Iterator[AppServer]:
    """The app in shared mode over a seeded private store, signing in through :func:`oidc_provider`."""
    work = tmp_path_factory.mktemp("e2e-auth")
    store_path = private_store(work)
    _seed(store_path)
    server = start_server(store_path, work, extra_env=shared_app_env(work, oidc_provider))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def shared_page(browser_context, shared_app: AppServer, oidc_provider: MockProvider) -> Iterator[AppPage]:
    """A new tab on :func:`shared_app` in the module's browser, its cookies cleared, so nobody is
    signed in at the app or at the provider (which is on 127.0.0.1 too, so the browser reaches it)."""
    yield from _app_page(browser_context, shared_app)


# --- helpers ----------------------------------------------------------------------------------------


def _fail(app: AppPage, what: str) -> None:
    app.page.screenshot(path=str(app.server.log_path.with_name(f"auth-{int(time.time() * 1000)}.png")), full_page=True)
    pytest.fail(app.fail_message(f"{what}\nat {app.page.url}"), pytrace=False)


def _account(app: AppPage):
    return app.page.get_by_test_id("stSidebar").get_by_text(re.compile(r"^Signed in as "))


def _wait_idle(app: AppPage) -> None:
    """Wait until the script run has finished and the page has nothing in flight."""
    page = app.page
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for(state="attached")
    settle(app)
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for(state="attached")


def open_app_page(app: AppPage, path: str, *, by_link: bool = False) -> None:
    """Open ``/path`` (a new session), or with ``by_link`` go there by the sidebar's link if the page
    is on screen (the same session, as a visitor moves around), and wait until its script has run
    to the end."""
    if by_link:
        visit(app, path)
    else:
        # Requests the previous document left unfinished never report an end: only this page's count.
        app.watch.in_flight.clear()
        app.page.goto(f"{app.server.url}/{path}", wait_until="domcontentloaded")
    title = PAGES.get(path)
    if title:
        app.page.get_by_role("heading", name=title, exact=True).wait_for()
    _wait_idle(app)


def _sign_in_offered(app: AppPage, where: str) -> None:
    """Wait for the sidebar's Sign in button: the sidebar can still be drawing (or redrawing after a
    rerun the page's own query parameters started) when the page's heading is already there."""
    try:
        app.page.get_by_test_id("stSidebar").get_by_role("button", name="Sign in").wait_for(
            state="visible", timeout=TIMEOUT_MS
        )
    except Exception:
        _fail(app, f"{where}: the sidebar offers no Sign in button to a visitor")


#: The browser's cookies after a real sign-in, by app server and person (see :func:`signed_in`).
_SIGNED_IN: dict[tuple[str, str], list[dict]] = {}


def sign_in(app: AppPage, person: Person, role: str, *, keep: bool = True) -> None:
    """Sign ``person`` in through the provider's form; check the sidebar names them with ``role``.
    With ``keep``, the browser's cookies are kept for :func:`signed_in`."""
    page = app.page
    if not page.url.startswith(app.server.url):  # the lightest page (no map), not Explore
        page.goto(f"{app.server.url}/about", wait_until="domcontentloaded")
    page.get_by_test_id("stSidebar").get_by_role("button", name="Sign in").click()
    sub = page.get_by_placeholder("sub")
    try:
        sub.wait_for()
    except Exception:
        _fail(app, "Sign in did not open the provider's authorization form")
    sub.fill(person.sub)
    page.get_by_role("button", name="Authorize").click()
    try:
        _account(app).wait_for()
    except Exception:
        _fail(app, f"after authorizing at the provider, the app never said 'Signed in as' for {person.sub}")
    assert page.url.startswith(app.server.url), page.url
    assert _account(app).inner_text().strip() == f"Signed in as {person.name} · {role}"
    if keep:
        _SIGNED_IN[app.server.url, person.sub] = page.context.cookies()


def signed_in(app: AppPage, person: Person, role: str) -> None:
    """Start as ``person``, signed in: with the cookies an earlier real sign-in of theirs left in this
    module (as a visitor's browser keeps them between visits: Streamlit's signed identity cookie),
    else by :func:`sign_in`. For the tests of what a role may do; the sign-in tests themselves always
    go through the provider. Checks on About that the app names them with ``role``."""
    cookies = _SIGNED_IN.get((app.server.url, person.sub))
    if cookies is None:
        sign_in(app, person, role)
        return
    app.page.context.add_cookies(cookies)
    open_app_page(app, "about")
    try:
        _account(app).wait_for()
    except Exception:
        _fail(app, f"the kept cookies of {person.sub}'s sign-in did not sign them in")
    assert _account(app).inner_text().strip() == f"Signed in as {person.name} · {role}"


def _controls(app: AppPage) -> list[dict]:
    """Every button, submit and file input in the page (hidden tabs included) with its label; not the
    'Remove <option>' crosses of a multiselect's chosen options, which only change a filter."""
    return app.page.evaluate(
        """() => [...document.querySelectorAll('button, [role=button], input[type=submit], input[type=file]')]
            .filter(el => !el.closest('[data-testid=stMultiSelectTagsContainer]'))
            .map(el => ({
                label: (el.getAttribute('aria-label') || el.innerText || el.value || '').trim(),
                disabled: el.disabled || el.getAttribute('aria-disabled') === 'true',
                file: el.type === 'file',
            }))"""
    )


def _visible_text(app: AppPage) -> str:
    """The page's text, including every data grid cell and header Streamlit put in the DOM."""
    return app.page.evaluate(
        """() => document.body.innerText + '\\n' +
            [...document.querySelectorAll('[role=gridcell], [role=columnheader], th, td')]
              .map(el => el.textContent).join('\\n')"""
    )


def _problems(app: AppPage) -> list[str]:
    """The page's errors, less Streamlit's probes of ``/<page>/_stcore/`` (404 on a direct link to a
    page, then retried at the root) and navigations the browser cut short."""
    probe = re.compile(r"/[\w-]+/_stcore/(health|host-config)\b")
    return [p for p in app.watch.problems() if not probe.search(p) and "ERR_ABORTED" not in p]


def _names_in(text: str) -> list[str]:
    folded = text.casefold()
    return [name for name in KNOWN_NAMES if name.casefold() in folded]


# --- tests ------------------------------------------------------------------------------------------


def test_sign_in_as_contributor_and_sign_out_again(shared_page: AppPage) -> None:
    """The whole OpenID Connect round trip: Sign in → the provider's form → back, named in the sidebar
    with the contributor role; then Sign out → the provider's end-session page → back, signed out."""
    app = shared_page
    page = app.page
    open_app_page(app, "")
    sidebar = page.get_by_test_id("stSidebar")
    _sign_in_offered(app, "/")
    assert "Local mode" not in sidebar.inner_text()
    sign_in(app, CONTRIBUTOR, "contributor", keep=False)  # it signs out below
    # A new session in the same browser (a reload, a new tab) is still signed in: the identity cookie.
    open_app_page(app, "about")
    _account(app).wait_for()
    assert _account(app).inner_text().strip() == f"Signed in as {CONTRIBUTOR.name} · contributor"

    sidebar.get_by_role("button", name="Sign out").click()
    end = page.get_by_role("button", name="End session")
    try:
        end.wait_for()
    except Exception:
        _fail(app, "Sign out did not go to the provider's end-session page")
    end.click()
    try:
        sidebar.get_by_role("button", name="Sign in").wait_for()
    except Exception:
        _fail(app, "after ending the session at the provider, the app did not offer Sign in again")
    assert page.url.startswith(app.server.url)
    assert _account(app).count() == 0
    open_app_page(app, "about")  # and it stays signed out in a new session
    _sign_in_offered(app, "/about")
    assert _account(app).count() == 0
    problems = _problems(app)
    assert not problems, app.fail_message("\n".join(problems))


@pytest.mark.parametrize(
    ("person", "role"),
    [(EDITOR, "editor"), (EDITOR_2, "editor"), (ADMIN, "admin")],
    ids=["editor_by_email", "editor_by_domain", "admin_by_group_claim"],
)
def test_role_comes_from_the_roles_file(shared_page: AppPage, person: Person, role: str) -> None:
    """The roles file maps the ID token's email, email domain or group claim to a role."""
    sign_in(shared_page, person, role)


def _tabs(app: AppPage) -> list[str]:
    return [t.inner_text().strip() for t in app.page.get_by_role("tab").all()]


def _asset(app: AppPage, name: str) -> dict:
    assets = open_store(app.server.store_path).read("assets")
    rows = assets[assets["name"] == name]
    assert len(rows) == 1, f"expected one asset named {name!r} in the store, found {len(rows)}"
    return rows.iloc[0].to_dict()


def _wait_text(app: AppPage, pattern: str, what: str) -> None:
    try:
        app.page.get_by_text(re.compile(pattern)).first.wait_for()
    except Exception:
        _fail(app, what)


def test_role_contributor_proposal_waits_for_review_and_can_be_withdrawn(shared_page: AppPage) -> None:
    """A contributor's asset lands as pending (recorded with their name and sub, not typed), shows
    under My proposals with Withdraw; they get no editing, moderation or history tabs."""
    app = shared_page
    page = app.page
    name = f"Browser Proposal {uuid.uuid4().hex[:6]}"
    signed_in(app, CONTRIBUTOR, "contributor")
    open_app_page(app, "edit", by_link=True)
    page.get_by_role("tab", name="Add an asset").wait_for()
    assert _tabs(app) == ["Add an asset", "My proposals"]
    assert page.get_by_role("textbox", name="Your name or email").count() == 0  # nobody types who they are

    page.get_by_role("textbox", name="Name", exact=True).fill(name)
    page.get_by_role("textbox", name="Postcode", exact=True).fill("S10 5BR")
    page.get_by_role("button", name="Send it for review").click()
    _wait_text(app, "was sent for review", "the contribution was not confirmed as sent for review")
    row = _asset(app, name)
    assert row["status"] == "pending"
    assert row["created_by"] == CONTRIBUTOR.principal(auth.Role.CONTRIBUTOR).actor
    assert (auth.display_name(row["created_by"]), auth.identity(row["created_by"])) == (
        CONTRIBUTOR.name,
        CONTRIBUTOR.sub,
    )
    assert row["contributed_by"] == CONTRIBUTOR.name  # the form's default: their own name

    page.get_by_role("tab", name="My proposals").click()
    mine = (
        page.get_by_test_id("stHorizontalBlock")
        .filter(has_text=name)
        .filter(has=page.get_by_role("button", name="Withdraw"))
        .last
    )
    try:
        mine.wait_for()
    except Exception:
        _fail(app, f"My proposals does not list {name!r} with a Withdraw button")
    mine.get_by_role("button", name="Withdraw").click()
    _wait_text(app, f"^Withdrew {re.escape(name)}", "withdrawing the proposal was not confirmed")
    assert _asset(app, name)["status"] == "removed"
    assert _problems(app) == [], app.fail_message("\n".join(_problems(app)))


def _queue_item(app: AppPage, name: str):
    """The moderation queue's box for the contribution called ``name``: the innermost block holding
    both its name and an Approve button."""
    page = app.page
    return (
        page.get_by_test_id("stVerticalBlock")
        .filter(has_text=name)
        .filter(has=page.get_by_role("button", name="Approve"))
        .last
    )


def test_role_editor_approves_a_contribution_but_never_their_own(shared_page: AppPage) -> None:
    """An editor has the editing, moderation and history tabs; approves a contributor's proposal (the
    audit records the editor's name and sub); cannot approve or reject their own."""
    app = shared_page
    page = app.page
    signed_in(app, EDITOR, "editor")
    open_app_page(app, "edit", by_link=True)
    queue_tab = page.get_by_role("tab", name="Moderation queue", exact=True)
    queue_tab.wait_for()
    tabs = _tabs(app)
    assert tabs[0] == "Add an asset" and tabs[1] == "Edit, close or remove" and tabs[3] == "History and undo", tabs
    assert len(tabs) == 4 and "My proposals" not in tabs
    assert page.get_by_role("button", name="Add the asset").count() == 1

    queue_tab.click()
    own = _queue_item(app, EDITOR_PROPOSAL)
    theirs = _queue_item(app, CONTRIBUTOR_PROPOSAL)
    try:
        own.wait_for()
        theirs.wait_for()
    except Exception:
        _fail(app, "the moderation queue does not show both seeded proposals")
    assert own.get_by_role("button", name="Approve").is_disabled()
    assert own.get_by_role("button", name="Reject").is_disabled()
    assert "another editor must" in own.inner_text()
    assert theirs.get_by_role("button", name="Reject").is_enabled()
    approve = theirs.get_by_role("button", name="Approve")
    assert approve.is_enabled()
    approve.click()
    _wait_text(app, f"^Approved {re.escape(CONTRIBUTOR_PROPOSAL)}", "approving the contribution was not confirmed")
    # The queue's count changed with the decision, and the page stays on the queue's tab.
    page.get_by_role("tab", name="Moderation queue", exact=True, selected=True).wait_for()

    row = _asset(app, CONTRIBUTOR_PROPOSAL)
    assert row["status"] == "active"
    assert row["created_by"] == CONTRIBUTOR.principal(auth.Role.CONTRIBUTOR).actor  # still the contributor's
    editor_actor = EDITOR.principal(auth.Role.EDITOR).actor
    assert row["updated_by"] == editor_actor
    log = open_store(app.server.store_path).read("audit_log")
    entries = log[log["feature_id"] == row["id"]]
    assert list(entries["action"]) == ["contribute", "approve"], entries
    last = entries.iloc[-1]
    assert last["by"] == editor_actor
    assert (auth.display_name(last["by"]), auth.identity(last["by"])) == (EDITOR.name, EDITOR.sub)
    assert _asset(app, EDITOR_PROPOSAL)["status"] == "pending"  # their own is still waiting
    assert _problems(app) == [], app.fail_message("\n".join(_problems(app)))


@pytest.mark.parametrize(
    ("person", "role"),
    [(CONTRIBUTOR, "contributor"), (EDITOR_2, "editor")],
    ids=["contributor", "editor"],
)
def test_role_below_admin_gets_no_admin_controls_on_the_data_page(
    shared_page: AppPage, person: Person, role: str
) -> None:
    """Contributors and editors may upload a file, but neither the taxonomy nor the roles are theirs."""
    app = shared_page
    page = app.page
    signed_in(app, person, role)
    open_app_page(app, "data", by_link=True)
    page.get_by_test_id("stFileUploader").wait_for()
    text = page.inner_text("body")
    assert "Admin: asset types and roles" not in text
    assert "Add an asset type" not in text
    assert page.get_by_role("button", name="Add the type").count() == 0
    assert not [n for n in (ADMIN_GROUP, EDITOR.email) if n in _visible_text(app)], "the roles table is shown"


def test_role_admin_by_group_claim_adds_an_asset_type_and_sees_the_roles(shared_page: AppPage) -> None:
    """An admin (by the ID token's group claim) sees the roles table and adds a type to the taxonomy."""
    from geo.store import store_taxonomy

    app = shared_page
    page = app.page
    type_id = f"e2e_type_{uuid.uuid4().hex[:6]}"
    signed_in(app, ADMIN, "admin")
    open_app_page(app, "data")
    page.get_by_text("Admin: asset types and roles").click()
    page.get_by_text("Add an asset type").wait_for()
    page.wait_for_function(
        "(names) => names.every(n => [...document.querySelectorAll('[role=gridcell]')].some(td => td.textContent.includes(n)))",
        arg=[ADMIN_GROUP, EDITOR.email, "council.example"],
    )
    page.get_by_role("textbox", name="Id (letters, digits, _)").fill(type_id)
    page.get_by_role("textbox", name="Label").fill("Repair cafe (browser test)")
    page.get_by_role("button", name="Add the type").click()
    _wait_text(app, r"^Added the type Repair cafe", "adding the asset type was not confirmed")
    tax = store_taxonomy(open_store(app.server.store_path))
    assert type_id in tax.types and tax.label(type_id) == "Repair cafe (browser test)"
    assert _problems(app) == [], app.fail_message("\n".join(_problems(app)))


def test_role_anonymous_gets_no_write_control_and_no_names_on_any_page(shared_page: AppPage) -> None:
    """Nobody signed in: on every page no enabled write control, no file upload, no person's name
    (in the page, its tables or any of its downloads), and Edit assets asks to sign in."""
    app = shared_page
    page = app.page
    found: list[str] = []
    for path, title in PAGES.items():
        open_app_page(app, path, by_link=True)
        where = f"/{path} ({title})"
        _sign_in_offered(app, where)
        for control in _controls(app):
            if control["file"] and not control["disabled"]:
                found.append(f"{where}: an enabled file upload")
            elif WRITE_WORDS.search(control["label"]) and not control["disabled"]:
                found.append(f"{where}: an enabled write control {control['label']!r}")
        if page.get_by_test_id("stFileUploader").count():
            found.append(f"{where}: a file uploader")
        found += [f"{where}: the name {name!r} in the page" for name in _names_in(_visible_text(app))]
        found += _names_in_downloads(app, where)
        found += _names_in_map_details(app, where)
        if path == "edit":
            if not page.get_by_text(re.compile(r"^Sign in to ")).count():
                found.append(f"{where}: no 'Sign in to ...' message")
            if page.get_by_role("textbox", name="Name", exact=True).count():
                found.append(f"{where}: the add-an-asset form is there")
    found += _problems(app)
    assert not found, app.fail_message("\n".join(found))


def _names_in_downloads(app: AppPage, where: str) -> list[str]:
    """Download every file the page offers (outside tabs only visible ones can be clicked); return any
    person's name or personal column found in one."""
    from geo import schema

    found = []
    buttons = app.page.get_by_test_id("stDownloadButton").filter(visible=True)
    for i in range(buttons.count()):
        button = buttons.nth(i).get_by_role("button")
        label = button.inner_text().strip()
        try:
            with app.page.expect_download(timeout=TIMEOUT_MS) as info:
                button.click()
            data = Path(info.value.path()).read_bytes()
        except Exception as exc:  # noqa: BLE001 (the failure says which download)
            found.append(f"{where}: the download {label!r} failed: {exc}")
            continue
        _wait_idle(app)
        text = data.decode("utf-8", errors="replace")
        found += [f"{where}: the name {name!r} in the download {label!r}" for name in _names_in(text)]
        if text[:1] not in "{[" and "\n" in text:  # a CSV: check its header
            header = next(csv.reader(io.StringIO(text)), [])
            found += [
                f"{where}: the column {c!r} in the download {label!r}" for c in header if c in schema.PERSONAL_COLUMNS
            ]
        else:
            found += [
                f"{where}: the field {c!r} in the download {label!r}"
                for c in schema.PERSONAL_COLUMNS
                if f'"{c}"' in text
            ]
    return found


def _names_in_map_details(app: AppPage, where: str) -> list[str]:
    """The map's own HTML and the popup details tables it would fetch."""
    found = []
    for frame in app.page.frames:
        if frame == app.page.main_frame:
            continue
        html = frame.content()
        found += [f"{where}: the name {name!r} in the map" for name in _names_in(html)]
        for url in set(re.findall(r"/app/static/details/[\w.-]+", html)):
            body = app.page.request.get(app.server.url + url).text()
            found += [f"{where}: the name {name!r} in the popup details {url}" for name in _names_in(body)]
    return found
