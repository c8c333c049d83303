"""The web application through Litestar's test client, on a real SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.engine import make_url

from assessment.settings import Settings, SettingsError
from assessment.store.db import DatabaseNotMigrated, create_engine, session_factory, upgrade
from assessment.store.models import QuestionnaireVersion
from questionnaires.compile import compile_questionnaire
from tests.database import run_coroutine
from web.app import create_app


@pytest.fixture
def settings(tmp_path: Path, sqlite_database: str, questionnaire_dir: Path) -> Settings:
    upgrade(sqlite_database)
    return Settings(
        database_url=sqlite_database,
        questionnaires=questionnaire_dir,
        secret_key="test-key",
        data_dir=tmp_path / "data",
    )


@pytest.fixture
def client(settings: Settings):
    with TestClient(app=create_app(settings)) as client:
        yield client


def test_the_landing_page_says_what_this_is_and_lists_the_questionnaires(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "twin transition" in page
    assert "<strong>digital</strong>" in page and "<strong>green</strong>" in page
    assert "about 20 minutes" in page
    assert "What happens to your answers" in page
    assert "Small twin-transition check" in page
    assert "Furniture and interiors, agri food" in page


def test_pages_carry_the_security_headers(client):
    for path in ("/", "/healthz", "/api/v1/questionnaires/unknown", "/no/such/page", "/static/app.css"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"], path
        assert "unsafe-inline" not in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path
        for name in ("content-security-policy", "x-content-type-options", "referrer-policy"):
            assert len(headers.get_list(name)) == 1, (path, name)


def test_the_pages_have_no_inline_script(client):
    page = client.get("/").text
    assert page.count("<script") == page.count('<script src="/static/')


def test_htmx_2_is_served_from_this_site(client):
    response = client.get("/static/htmx.min.js")
    assert response.status_code == 200
    assert 'version:"2.0.11"' in response.text


@pytest.mark.parametrize("path", ["/static/app.css%00", "/static/app.css%00.js", "/static/" + "a" * 5000, "/static/%2e%2e/app.py", "/static/nope.css"])
def test_static_names_that_cannot_be_files_are_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "This page does not exist." in response.text
    assert client.get("/static/app.css").status_code == 200


def test_healthz_answers_after_a_database_round_trip(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "questionnaires": 1}


def test_healthz_fails_once_the_database_file_is_deleted(client, settings: Settings, caplog):
    Path(make_url(settings.database_url).database).unlink()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json() == {"status": "unavailable", "database": "unavailable", "questionnaires": 1}
    assert "was deleted or replaced while the server ran" in caplog.text


def test_the_api_lists_the_questionnaires(client, questionnaire_dir: Path):
    compiled = compile_questionnaire(questionnaire_dir / "small.yaml")
    response = client.get("/api/v1/questionnaires")
    assert response.status_code == 200
    assert response.json() == [
        {
            "id": "small",
            "version": "1",
            "fingerprint": compiled.fingerprint,
            "title": {"en": "Small twin-transition check"},
            "description": {"en": "A short check used by the tests."},
            "sectors": ["furniture", "agri_food"],
            "languages": ["en"],
            "estimated_minutes": 20,
        }
    ]


def test_the_api_describes_one_questionnaire(client):
    response = client.get("/api/v1/questionnaires/small")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "small"
    assert body["sections"] == [
        {"id": "data", "title": {"en": "Data"}, "questions": 1},
        {"id": "energy", "title": {"en": "Energy"}, "questions": 2},
    ]
    assert body["pillars"] == ["digital", "green"]
    assert [d["id"] for d in body["dimensions"]] == ["data", "energy"]


def test_an_unknown_questionnaire_is_a_json_404(client):
    response = client.get("/api/v1/questionnaires/nope")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"error": {"status": 404, "message": "No questionnaire 'nope' is offered.", "problems": []}}


def test_the_openapi_description_is_at_schema(client):
    response = client.get("/schema")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/questionnaires", "/api/v1/questionnaires/{questionnaire_id}", "/healthz"} <= set(paths)
    assert "/" not in paths


def test_start_up_stores_the_offered_versions(settings: Settings, questionnaire_dir: Path):
    compiled = compile_questionnaire(questionnaire_dir / "small.yaml")
    with TestClient(app=create_app(settings)):
        pass
    with TestClient(app=create_app(settings)):
        pass

    async def stored():
        engine = create_engine(settings.database_url)
        try:
            async with session_factory(engine)() as session:
                return (await session.scalars(select(QuestionnaireVersion.fingerprint))).all()
        finally:
            await engine.dispose()

    assert run_coroutine(stored()) == [compiled.fingerprint]


def test_start_up_refuses_a_database_without_migrations(tmp_path: Path, questionnaire_dir: Path):
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}",
        questionnaires=questionnaire_dir,
        secret_key="test-key",
        data_dir=tmp_path,
    )
    with pytest.raises(BaseExceptionGroup) as raised, TestClient(app=create_app(settings)):
        pass
    assert raised.group_contains(DatabaseNotMigrated, match="recentre db upgrade", depth=None)


def test_start_up_refuses_a_broken_questionnaire(settings: Settings, questionnaire_dir: Path):
    path = questionnaire_dir / "small.yaml"
    path.write_text(path.read_text().replace('when: "dimension.data < 50"', 'when: "dimension.dta < 50"'))
    with pytest.raises(BaseExceptionGroup) as raised, TestClient(app=create_app(settings)):
        pass
    assert raised.group_contains(SettingsError, match=r"^RECENTRE_QUESTIONNAIRES: .*small.yaml:\d+:\d+: error: recommendation 'data_first' when: unknown dimension 'dta'", depth=None)
