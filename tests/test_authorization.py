"""Who may use which route: every route of the app against every role, on SQLite and
PostgreSQL.

The roles: an anonymous visitor; SME A and SME B, each holding the private token of its own
assessment (and nothing else); an advisor of cluster X (did) and one of cluster Y (cenfim);
an organiser. The target of the workspace's assessment routes is SME A's assessment, of
cluster X, shared with advisors.

``ROUTES`` has an entry for every route and method of ``create_app()``: a route added without
an entry fails ``test_every_route_has_an_entry``, so that nobody adds a page without saying
who may open it. An entry says how to call the route and the status each role gets; 2xx
and 3xx mean allowed, 401, 403 and 404 denied.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from litestar.testing import TestClient

from tests.workspace import LOW, PASSWORD, add_user, csrf_token, make_assessment, sign_in, workspace_settings
from web.app import create_app
from web.auth import SESSION_COOKIE

ROLES = ("anonymous", "sme_a", "sme_b", "advisor_x", "advisor_y", "organiser")
ACCOUNTS = {
    "advisor_x": ("advisor.x@did.example", "advisor", "did"),
    "advisor_y": ("advisor.y@cenfim.example", "advisor", "cenfim"),
    "organiser": ("organiser@recentre.example", "organiser", None),
}
API = "/api/v1"


@dataclass
class World:
    """What the roles hold, and what the requests point at."""

    client: TestClient
    database_url: str
    questionnaires: Path
    csrf: str
    sessions: dict[str, str] = field(default_factory=dict)
    """role -> session token (advisors and organiser)."""
    tokens: dict[str, str] = field(default_factory=dict)
    """role -> token of the SME's own submitted assessment."""
    ids: dict[str, int] = field(default_factory=dict)

    def token_of(self, role: str) -> str:
        """The role's own token; others have none, so they try one of their own making."""
        return self.tokens.get(role) or secrets.token_urlsafe(24)

    def draft_token_of(self, role: str) -> str:
        """A new draft of the role's own (SMEs), for the routes that change answers."""
        if role not in self.tokens:
            return secrets.token_urlsafe(24)
        cluster = "did" if role == "sme_a" else "cenfim"
        return make_assessment(self.database_url, self.questionnaires, name=f"Draft of {role}", cluster=cluster, submit=False).token


Call = Callable[[World, str], object]  # (world, role) -> response


@dataclass(frozen=True)
class Entry:
    call: Call
    expect: dict[str, int]


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


def workspace(allowed: int, advisor_y: int | None = None) -> dict[str, int]:
    """Signed-in users get ``allowed`` (advisor Y ``advisor_y``); SMEs and visitors 401."""
    return {
        "anonymous": 401,
        "sme_a": 401,
        "sme_b": 401,
        "advisor_x": allowed,
        "advisor_y": allowed if advisor_y is None else advisor_y,
        "organiser": allowed,
    }


def organisers_only(allowed: int) -> dict[str, int]:
    return {**workspace(403), "organiser": allowed}


def own_token(allowed: int) -> dict[str, int]:
    """SMEs with their own token get ``allowed``; everyone else has no token and gets 404."""
    return {**everyone(404), "sme_a": allowed, "sme_b": allowed}


def get(path: str | Callable[[World, str], str]) -> Call:
    return lambda w, role: w.client.get(path(w, role) if callable(path) else path, follow_redirects=False)


def form(path: str | Callable[[World, str], str], data: dict | None = None) -> Call:
    """A form post with a valid CSRF token: what is tested here is the role, not the token."""

    def call(w: World, role: str):
        target = path(w, role) if callable(path) else path
        return w.client.post(target, data={**(data or {}), "_csrf_token": w.csrf}, follow_redirects=False)

    return call


def after_the_notice(call: Call) -> Call:
    """``call`` once the privacy notice has been accepted in the same browser: the company page
    is reached through it alone."""

    def accepted_first(w: World, role: str):
        assert form("/start/privacy", {**START, "accept": "yes"})(w, role).status_code == 303
        return call(w, role)

    return accepted_first


def json(method: str, path: Callable[[World, str], str], body=None) -> Call:
    return lambda w, role: w.client.request(method, path(w, role), json=body)


def a(suffix: str = "") -> Callable[[World, str], str]:
    """A path on SME A's assessment in the workspace."""
    return lambda w, role: f"/workspace/assessments/{w.ids['sme_a']}{suffix}"


NEW = {
    "questionnaire": "small",
    "cluster": "did",
    "sector": "furniture",
    "language": "en",
    "privacy_accepted": True,
    "share_with_advisors": True,
    "company": {"name": "New Co", "size": "small", "country": "IT"},
}

START = {"q": "small:furniture", "cluster": "did", "lang": "en"}
START_QUERY = "q=small%3Afurniture&cluster=did&lang=en"

ROUTES: dict[tuple[str, str], Entry] = {
    # Public pages and documents.
    ("/", "GET"): Entry(get("/"), everyone(200)),
    ("/healthz", "GET"): Entry(get("/healthz"), everyone(200)),
    ("/static/{file_path:path}", "GET"): Entry(get("/static/app.css"), everyone(200)),
    ("/static/{file_path:path}", "HEAD"): Entry(lambda w, role: w.client.head("/static/app.css"), everyone(200)),
    ("/schema", "GET"): Entry(get("/schema"), everyone(200)),
    ("/schema/openapi.json", "GET"): Entry(get("/schema/openapi.json"), everyone(200)),
    ("/schema/{path:str}", "GET"): Entry(get("/schema/openapi.json"), everyone(200)),
    # The JSON API: questionnaires are public, assessments open with their token only.
    (f"{API}/questionnaires", "GET"): Entry(get(f"{API}/questionnaires"), everyone(200)),
    (f"{API}/questionnaires/{{questionnaire_id:str}}", "GET"): Entry(get(f"{API}/questionnaires/small"), everyone(200)),
    (f"{API}/questionnaires/{{questionnaire_id:str}}/questions", "GET"): Entry(get(f"{API}/questionnaires/small/questions"), everyone(200)),
    (f"{API}/questionnaires/{{questionnaire_id:str}}/score", "POST"): Entry(
        json("POST", lambda w, role: f"{API}/questionnaires/small/score", {"answers": LOW, "company": {"country": "IT"}}), everyone(200)
    ),
    (f"{API}/assessments", "POST"): Entry(json("POST", lambda w, role: f"{API}/assessments", NEW), everyone(201)),
    (f"{API}/assessments/{{token:str}}", "GET"): Entry(json("GET", lambda w, role: f"{API}/assessments/{w.token_of(role)}"), own_token(200)),
    (f"{API}/assessments/{{token:str}}/answers", "PATCH"): Entry(
        json("PATCH", lambda w, role: f"{API}/assessments/{w.draft_token_of(role)}/answers", {"kwh": 50}), own_token(200)
    ),
    (f"{API}/assessments/{{token:str}}/submit", "POST"): Entry(
        json("POST", lambda w, role: f"{API}/assessments/{w.draft_token_of(role)}/submit"), own_token(200)
    ),
    (f"{API}/assessments/{{token:str}}/report.pdf", "GET"): Entry(
        json("GET", lambda w, role: f"{API}/assessments/{w.token_of(role)}/report.pdf"), own_token(200)
    ),
    (f"{API}/assessments/{{token:str}}", "PATCH"): Entry(
        json("PATCH", lambda w, role: f"{API}/assessments/{w.draft_token_of(role)}", {"share_with_advisors": False}), own_token(200)
    ),
    (f"{API}/assessments/{{token:str}}", "DELETE"): Entry(json("DELETE", lambda w, role: f"{API}/assessments/{w.draft_token_of(role)}"), own_token(204)),
    (f"{API}/assessments/{{token:str}}/export", "GET"): Entry(json("GET", lambda w, role: f"{API}/assessments/{w.token_of(role)}/export"), own_token(200)),
    ("/a/{token:str}/data", "GET"): Entry(get(lambda w, role: f"/a/{w.token_of(role)}/data"), own_token(200)),
    ("/a/{token:str}/data.json", "GET"): Entry(get(lambda w, role: f"/a/{w.token_of(role)}/data.json"), own_token(200)),
    ("/a/{token:str}/sharing", "POST"): Entry(form(lambda w, role: f"/a/{w.draft_token_of(role)}/sharing", {"share": "yes"}), own_token(303)),
    ("/a/{token:str}/erase", "GET"): Entry(get(lambda w, role: f"/a/{w.token_of(role)}/erase"), own_token(200)),
    ("/a/{token:str}/erase", "POST"): Entry(form(lambda w, role: f"/a/{w.draft_token_of(role)}/erase", {"confirm": "yes"}), own_token(303)),
    ("/erased", "GET"): Entry(get("/erased"), everyone(200)),
    ("/a/{token:str}/report.pdf", "GET"): Entry(get(lambda w, role: f"/a/{w.token_of(role)}/report.pdf"), own_token(200)),
    # The SME's pages: starting is open to all, an assessment's pages to its token only.
    ("/start", "GET"): Entry(get("/start"), everyone(200)),
    ("/start", "POST"): Entry(form("/start", START), everyone(303)),
    ("/start/privacy", "GET"): Entry(get(f"/start/privacy?{START_QUERY}"), everyone(200)),
    ("/start/privacy", "POST"): Entry(form("/start/privacy", {**START, "accept": "yes"}), everyone(303)),
    ("/start/company", "GET"): Entry(after_the_notice(get(f"/start/company?{START_QUERY}")), everyone(200)),
    ("/start/company", "POST"): Entry(
        after_the_notice(form("/start/company", {**START, "name": "New Co", "size": "small", "country": "IT"})), everyone(303)
    ),
    ("/a/{token:str}", "GET"): Entry(get(lambda w, role: f"/a/{w.token_of(role)}"), own_token(303)),
    ("/a/{token:str}/s/{section_id:str}", "GET"): Entry(get(lambda w, role: f"/a/{w.draft_token_of(role)}/s/data"), own_token(200)),
    ("/a/{token:str}/s/{section_id:str}", "POST"): Entry(
        form(lambda w, role: f"/a/{w.draft_token_of(role)}/s/data", {"tools": "erp"}), own_token(303)
    ),
    ("/a/{token:str}/later", "GET"): Entry(get(lambda w, role: f"/a/{w.token_of(role)}/later"), own_token(200)),
    ("/a/{token:str}/review", "GET"): Entry(get(lambda w, role: f"/a/{w.draft_token_of(role)}/review"), own_token(200)),
    ("/a/{token:str}/submit", "POST"): Entry(form(lambda w, role: f"/a/{w.draft_token_of(role)}/submit"), own_token(303)),
    ("/a/{token:str}/results", "GET"): Entry(get(lambda w, role: f"/a/{w.token_of(role)}/results"), own_token(200)),
    ("/a/{token:str}/reassess", "GET"): Entry(get(lambda w, role: f"/a/{w.token_of(role)}/reassess"), own_token(200)),
    ("/a/{token:str}/reassess", "POST"): Entry(form(lambda w, role: f"/a/{w.token_of(role)}/reassess", {"accept": "yes"}), own_token(303)),
    # The workspace.
    ("/workspace/login", "GET"): Entry(get("/workspace/login"), {**everyone(200), "advisor_x": 303, "advisor_y": 303, "organiser": 303}),
    ("/workspace/password", "GET"): Entry(get("/workspace/password"), workspace(200)),
    ("/workspace/password", "POST"): Entry(
        # Two different new passwords: the handler answers (400) without changing anything.
        form("/workspace/password", {"current_password": PASSWORD, "new_password": "a" * 12, "repeat_password": "b" * 12}),
        workspace(400),
    ),
    ("/workspace", "GET"): Entry(get("/workspace"), workspace(200)),
    ("/workspace/assessments/{assessment_id:int}", "GET"): Entry(get(a()), workspace(200, advisor_y=404)),
    ("/workspace/assessments/{assessment_id:int}/notes", "POST"): Entry(
        form(a("/notes"), {"kind": "note", "text": "Checked"}), workspace(303, advisor_y=404)
    ),
    ("/workspace/assessments/{assessment_id:int}/erase", "GET"): Entry(get(a("/erase")), organisers_only(200)),
    ("/workspace/assessments/{assessment_id:int}/erase", "POST"): Entry(
        # A new assessment of cluster X each time, so that the others' targets stay.
        form(lambda w, role: f"/workspace/assessments/{make_assessment(w.database_url, w.questionnaires, name='To erase').id}/erase",
             {"which": "company", "confirm": "yes"}),
        organisers_only(303),
    ),
    ("/workspace/assessments/{assessment_id:int}/history", "GET"): Entry(get(a("/history")), workspace(200, advisor_y=404)),
    ("/workspace/assessments/{assessment_id:int}/report.pdf", "GET"): Entry(get(a("/report.pdf")), workspace(200, advisor_y=404)),
    ("/workspace/library", "GET"): Entry(get("/workspace/library"), organisers_only(200)),
    ("/workspace/library/{questionnaire_id:str}", "GET"): Entry(get("/workspace/library/small"), organisers_only(200)),
    # Sector analysis, downloads and partners: each signed-in user over what they may see.
    ("/workspace/analysis", "GET"): Entry(get("/workspace/analysis"), workspace(200)),
    ("/workspace/analysis.csv", "GET"): Entry(get("/workspace/analysis.csv?part=dma"), workspace(200)),
    ("/workspace/analysis.xlsx", "GET"): Entry(get("/workspace/analysis.xlsx"), workspace(200)),
    ("/workspace/analysis.pdf", "GET"): Entry(get("/workspace/analysis.pdf"), workspace(200)),
    ("/workspace/assessments.csv", "GET"): Entry(get("/workspace/assessments.csv"), workspace(200)),
    ("/workspace/assessments.xlsx", "GET"): Entry(get("/workspace/assessments.xlsx"), workspace(200)),
    ("/workspace/assessments/{assessment_id:int}/partners", "GET"): Entry(get(a("/partners")), workspace(200, advisor_y=404)),
    # Last for each role: signing in again and out end the session the role came with.
    ("/workspace/login", "POST"): Entry(
        form("/workspace/login", {"email": ACCOUNTS["organiser"][0], "password": PASSWORD}), everyone(303)
    ),
    ("/workspace/logout", "POST"): Entry(form("/workspace/logout"), everyone(303)),
    ("/workspace/language", "POST"): Entry(form("/workspace/language", {"lang": "bg", "next": "/workspace"}), everyone(303)),
}

# Beyond the matrix: ids of other assessments typed into the workspace's URLs.
TAMPERED = {
    # SME C: cluster X, not shared. SME B: cluster Y, shared.
    "sme_c": {"advisor_x": 404, "advisor_y": 404, "organiser": 200},
    "sme_b": {"advisor_x": 404, "advisor_y": 200, "organiser": 200},
}


def app_routes() -> set[tuple[str, str]]:
    app = create_app()
    return {(route.path, method) for route in app.routes for method in route.methods if method != "OPTIONS"}


def test_every_route_has_an_entry():
    routes = app_routes()
    missing = sorted(routes - ROUTES.keys())
    stale = sorted(ROUTES.keys() - routes)
    assert not missing, f"routes without an entry in tests/test_authorization.py ROUTES: {missing}"
    assert not stale, f"entries for routes that no longer exist: {stale}"


def test_every_entry_covers_every_role():
    for key, entry in ROUTES.items():
        assert set(entry.expect) == set(ROLES), key


@pytest.fixture
def world(database_url: str, questionnaire_dir: Path, tmp_path: Path):
    settings = workspace_settings(database_url, questionnaire_dir, tmp_path / "data")
    made_a = make_assessment(database_url, questionnaire_dir, name="SME A", cluster="did", share=True)
    made_b = make_assessment(database_url, questionnaire_dir, name="SME B", cluster="cenfim", country="ES", share=True)
    made_c = make_assessment(database_url, questionnaire_dir, name="SME C", cluster="did", share=False)
    for email, role, cluster in ACCOUNTS.values():
        add_user(database_url, email, role, cluster)
    with TestClient(app=create_app(settings)) as client:
        w = World(client=client, database_url=database_url, questionnaires=questionnaire_dir, csrf=csrf_token(client, "/workspace/login"))
        w.tokens = {"sme_a": made_a.token, "sme_b": made_b.token}
        w.ids = {"sme_a": made_a.id, "sme_b": made_b.id, "sme_c": made_c.id}
        for role, (email, _, _) in ACCOUNTS.items():
            sign_in(client, email)
            w.sessions[role] = client.cookies[SESSION_COOKIE]
            client.cookies.delete(SESSION_COOKIE)
        yield w


def act_as(w: World, role: str) -> None:
    w.client.cookies.delete(SESSION_COOKIE)
    if role in w.sessions:
        w.client.cookies.set(SESSION_COOKIE, w.sessions[role])


def test_the_authorization_matrix(world: World):
    wrong = []
    for role in ROLES:
        for key, entry in ROUTES.items():
            act_as(world, role)
            response = entry.call(world, role)
            if response.status_code != entry.expect[role]:
                wrong.append(f"{role:10} {key[1]:5} {key[0]}: expected {entry.expect[role]}, got {response.status_code}")
    assert not wrong, "\n".join(["", *wrong])


def test_an_sme_token_opens_its_own_assessment_only(world: World):
    for role, name in (("sme_a", "SME A"), ("sme_b", "SME B")):
        act_as(world, role)
        view = world.client.get(f"{API}/assessments/{world.tokens[role]}").json()
        assert view["company"]["name"] == name


def test_ids_of_other_assessments_typed_into_urls(world: World):
    wrong = []
    for target, expected in TAMPERED.items():
        for role, status in expected.items():
            act_as(world, role)
            for suffix in ("", "/history", "/report.pdf"):
                path = f"/workspace/assessments/{world.ids[target]}{suffix}"
                got = world.client.get(path).status_code
                if got != status:
                    wrong.append(f"{role} GET {path}: expected {status}, got {got}")
            got = world.client.post(
                f"/workspace/assessments/{world.ids[target]}/notes",
                data={"kind": "note", "text": "x", "_csrf_token": world.csrf},
                follow_redirects=False,
            ).status_code
            if got != (303 if status == 200 else status):
                wrong.append(f"{role} POST notes on {target}: expected {303 if status == 200 else status}, got {got}")
    assert not wrong, "\n".join(["", *wrong])


def test_the_list_shows_each_role_what_it_may_see(world: World):
    seen = {}
    for role in ("advisor_x", "advisor_y", "organiser"):
        act_as(world, role)
        page = world.client.get("/workspace").text
        seen[role] = {name for name in ("SME A", "SME B", "SME C") if f">{name}</a>" in page}
    assert seen == {"advisor_x": {"SME A"}, "advisor_y": {"SME B"}, "organiser": {"SME A", "SME B", "SME C"}}
