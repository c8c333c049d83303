"""Helpers for tests of the workspace: accounts, signing in through the real forms (with
their CSRF tokens), an app on a migrated database of either kind, and stored assessments."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from litestar.testing import TestClient
from sqlalchemy import update

from assessment.settings import Settings
from assessment.store.db import create_engine, session_factory, upgrade
from assessment.store.models import Result
from assessment.workspace.accounts import create_user
from tests.database import run_coroutine, run_sql

PASSWORD = "correct horse battery staple"
_CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')


def workspace_settings(database_url: str, questionnaires: Path, data_dir: Path) -> Settings:
    """Settings for an app on ``database_url``, migrated here."""
    upgrade(database_url)
    return Settings(database_url=database_url, questionnaires=questionnaires, secret_key="test-key", data_dir=data_dir)


async def _add_user(database_url: str, email: str, role: str, cluster: str | None, password: str) -> int:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            user = await create_user(session, email, role=role, cluster=cluster, password=password)
            return user.id
    finally:
        await engine.dispose()


def add_user(database_url: str, email: str, role: str = "advisor", cluster: str | None = "did", password: str = PASSWORD) -> int:
    """The id of a new account: an advisor of ``cluster``, or an organiser (of no cluster)."""
    return run_coroutine(_add_user(database_url, email, role, cluster if role == "advisor" else None, password))


def csrf_token(client: TestClient, path: str) -> str:
    """The CSRF token of the form on the page at ``path`` (which also sets its cookie); when
    the page redirects (the sign-in page does for those signed in), the token of the cookie
    an earlier page set."""
    page = client.get(path, follow_redirects=False)
    match = _CSRF_INPUT.search(page.text)
    if match is None and page.is_redirect and client.cookies.get("recentre_csrf"):
        return client.cookies["recentre_csrf"]
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD, next_url: str = "/workspace"):
    """The answer to the sign-in form posted as ``email``, with its CSRF token."""
    token = csrf_token(client, "/workspace/login")
    return client.post(
        "/workspace/login",
        data={"email": email, "password": password, "next": next_url, "_csrf_token": token},
        follow_redirects=False,
    )


def post_form(client: TestClient, form_page: str, path: str, data: dict, **kwargs):
    """Post ``data`` to ``path`` with the CSRF token of the form on ``form_page``."""
    return client.post(path, data={**data, "_csrf_token": csrf_token(client, form_page)}, follow_redirects=False, **kwargs)


# --- Assessments -------------------------------------------------------------------------

# Answers to the small questionnaire (tests/small_questionnaire.py) at three levels.
LOW = {"kwh": 10, "audit": False, "tools": "none"}
HIGH = {"kwh": 500, "audit": True, "tools": "erp"}
MIDDLE = {"kwh": 500, "audit": False, "tools": "none"}


@dataclass
class Made:
    """A stored assessment: its id and its private token."""

    id: int
    token: str


async def _make_assessment(database_url: str, questionnaires: Path, spec: dict) -> Made:
    from assessment.store import responses
    from questionnaires.compile import compile_questionnaire
    from tests.assessments import stored_assessment

    compiled = compile_questionnaire(questionnaires / "small.yaml")
    engine = create_engine(database_url)
    try:
        company = responses.CompanyProfile(
            name=spec.get("name", ""),
            size=spec.get("size", "small"),
            country=spec.get("country", "IT"),
            contact_name=spec.get("contact_name", ""),
            contact_email=spec.get("contact_email", ""),
        )
        again = {"share_with_advisors": spec["share"]} if "share" in spec else {}
        created = {"previous": spec["previous"], **again} if spec.get("previous") is not None else {
            "language": "en",
            "cluster": spec.get("cluster", "did"),
            "sector": spec.get("sector", "furniture"),
            "share_with_advisors": spec.get("share", True),
            "company": company,
        }
        assessment_id, token = await stored_assessment(
            session_factory(engine), compiled, spec.get("answers", LOW),
            submit=spec.get("submit", True), created_at=spec.get("created_at"), **created,
        )
        return Made(assessment_id, token)
    finally:
        await engine.dispose()


def make_assessment(database_url: str, questionnaires: Path, **spec) -> Made:
    """A stored assessment of the small questionnaire, submitted unless ``submit=False``.
    ``spec``: name, cluster, sector, size, country, share, contact_name, contact_email,
    answers, created_at, previous (the id of the assessment this one repeats)."""
    return run_coroutine(_make_assessment(database_url, questionnaires, spec))


def add_members(database_url: str, questionnaires: Path) -> dict[str, Made]:
    """Assessments of two clusters, shared or not, by name, and the accounts that look at them:
    advisor@did.example, advisor@cenfim.example and organiser@recentre.example."""
    made = {
        "rossi": make_assessment(database_url, questionnaires, name="Mobili Rossi", cluster="did", answers=HIGH, contact_email="anna@rossi.example", created_at=datetime(2026, 3, 1, tzinfo=UTC)),
        "bianchi": make_assessment(database_url, questionnaires, name="Bianchi Design", cluster="did", size="micro", answers=LOW, created_at=datetime(2026, 5, 1, tzinfo=UTC)),
        "secret": make_assessment(database_url, questionnaires, name="Segreto Srl", cluster="did", share=False, contact_email="ceo@segreto.example", answers=MIDDLE),
        "muebles": make_assessment(database_url, questionnaires, name="Muebles Garcia", cluster="cenfim", country="ES", answers=MIDDLE, contact_email="info@garcia.example"),
        "draft": make_assessment(database_url, questionnaires, name="Arredo Bozza", cluster="did", submit=False),
    }
    # The small questionnaire has no archetypes: give one result one, as a bundled one would.
    run_sql(database_url, update(Result).where(Result.assessment_id == made["rossi"].id).values(archetype="twin_leader"))
    add_user(database_url, "advisor@did.example", "advisor", "did")
    add_user(database_url, "advisor@cenfim.example", "advisor", "cenfim")
    add_user(database_url, "organiser@recentre.example", "organiser")
    return made
