"""The JSON API under /api/v1, through Litestar's test client, on real SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta
from pathlib import Path

import httpx
import hypothesis
import pypdf
import pytest
from hypothesis import strategies as st
from litestar.testing import TestClient
from sqlalchemy import insert, select, update

from assessment.settings import Settings
from assessment.store.by_token import TokenStore
from assessment.store.db import create_engine, upgrade
from assessment.store.models import Answer, Assessment, QuestionnaireVersion, Result, encode_resolved, utcnow
from questionnaires.compile import compile_questionnaire
from tests.database import query, run_coroutine, run_sql
from tests.helpers import write_conditions
from tests.live_server import recentre_served, sqlite_url
from web.app import create_app
from web.cli import main

API = "/api/v1"


@pytest.fixture
def questionnaires(questionnaire_dir: Path) -> Path:
    """The small questionnaire and ``cond``, a questionnaire with conditions (tests/helpers.py)."""
    return write_conditions(questionnaire_dir)


@pytest.fixture
def settings(tmp_path: Path, database_url: str, questionnaires: Path) -> Settings:
    upgrade(database_url)
    return Settings(database_url=database_url, questionnaires=questionnaires, secret_key="test-key", data_dir=tmp_path / "data")


@pytest.fixture
def client(settings: Settings):
    with TestClient(app=create_app(settings)) as client:
        yield client


def count_rows(url: str, table) -> int:
    return len(query(url, select(table)))


def error(status: int, message: str, problems: list[tuple[str, str]] = ()) -> dict:
    return {"error": {"status": status, "message": message, "problems": [{"question": q, "message": m} for q, m in problems]}}


NEW = {
    "questionnaire": "cond",
    "cluster": "did",
    "sector": "furniture",
    "language": "en",
    "privacy_accepted": True,
    "share_with_advisors": True,
    "company": {"name": "Mobili Rossi", "size": "medium", "country": "it", "contact_email": "info@example.com"},
}


def new_assessment(client, **changes) -> str:
    response = client.post(f"{API}/assessments", json={**NEW, **changes})
    assert response.status_code == 201, response.text
    return response.json()["token"]


def test_an_assessment_from_creation_to_its_result(client):
    base = a_new_draft(client)
    answers_show_and_hide_questions(client, base)
    submitting_stores_the_result_the_stateless_endpoint_gives(client, base)


def a_new_draft(client) -> str:
    """Create an assessment; its draft is empty. Returns its URL."""
    response = client.post(f"{API}/assessments", json=NEW)
    assert response.status_code == 201
    created = response.json()
    token = created["token"]
    assert len(token) == 32
    base = f"{API}/assessments/{token}"
    assert (response.headers["location"], response.headers["cache-control"]) == (base, "no-store")
    assert (created["status"], created["questionnaire"]["id"]) == ("draft", "cond")
    assert created["links"] == {"self": base, "answers": f"{base}/answers", "submit": f"{base}/submit", "report": f"{base}/report.pdf"}

    view = client.get(base).json()
    assert (view["status"], view["answers"], view["result"]) == ("draft", {}, None)
    assert view["company"] == {"name": "Mobili Rossi", "size": "medium", "country": "IT", "nace": None, "contact_name": None, "contact_email": "info@example.com"}
    # meter_use is asked once has_meter is true.
    assert view["hidden"] == ["meter_use"]
    assert view["progress"] == {"answered": 0, "questions": 5, "required_unanswered": ["has_meter", "staff", "tools", "d"]}
    assert view["current_section"] is None
    return base


def answers_show_and_hide_questions(client, base: str) -> None:
    """Answers saved in turn: each answer shows or hides the questions that depend on it."""
    response = client.patch(f"{base}/answers", json={"has_meter": "yes", "meter_use": 3})
    assert response.status_code == 200
    assert response.json() == {
        "hidden": [],
        "progress": {"answered": 2, "questions": 6, "required_unanswered": ["staff", "tools", "d"]},
        "current_section": "s",
    }
    # Answering no hides meter_use; its answer is kept, and counted nowhere.
    response = client.patch(f"{base}/answers", json={"has_meter": False, "staff": 80, "tools": ["erp", "mes"], "d": 2, "note": "Wood & <glue>"})
    assert response.json() == {
        "hidden": ["meter_use"],
        "progress": {"answered": 5, "questions": 5, "required_unanswered": []},
        "current_section": "s2",
    }
    response = client.patch(f"{base}/answers", json={"note": None})
    assert response.json()["progress"]["answered"] == 4

    view = client.get(base).json()
    assert view["answers"] == {"has_meter": False, "meter_use": 3, "staff": 80, "tools": ["erp", "mes"], "d": 2}
    assert (view["hidden"], view["current_section"]) == (["meter_use"], "s2")


def submitting_stores_the_result_the_stateless_endpoint_gives(client, base: str) -> None:
    """Submit; the stored result is the one scoring the same answers without storing them gives."""
    response = client.post(f"{base}/submit")
    assert response.status_code == 200
    submitted = response.json()
    assert submitted["status"] == "submitted"
    result = submitted["result"]
    assert result["dimensions"]["data"]["score"] == 75.0  # tools 2/2, d 2/4
    assert "meter_use" not in result["questions"]

    view = client.get(base).json()
    assert (view["status"], view["submitted_at"], view["result"]) == ("submitted", submitted["submitted_at"], result)
    stateless = client.post(
        f"{API}/questionnaires/cond/score",
        json={"answers": {k: v for k, v in view["answers"].items() if k != "meter_use"},
              "company": {"size": "medium", "sector": "furniture", "country": "IT", "cluster": "did"}, "explain": True},
    )
    assert stateless.json() == result


def test_answers_that_do_not_fit_are_refused_each_with_its_question_and_nothing_is_saved(client, settings):
    token = new_assessment(client)
    base = f"{API}/assessments/{token}"
    client.patch(f"{base}/answers", json={"has_meter": True, "meter_use": 1})
    response = client.patch(f"{base}/answers", json={"has_meter": False, "meter_use": 9, "tools": ["crm"], "zzz": 1, "staff": "many"})
    assert response.status_code == 422
    assert response.json() == error(422, "Some answers could not be saved.", [
        ("meter_use", "9 is outside the scale 0..4"),
        ("tools", "unknown option 'crm'"),
        ("zzz", "unknown question"),
        ("staff", "expected a number, got 'many'"),
    ])
    response = client.patch(f"{base}/answers", json={"tools": ["mes"]})
    assert response.json() == error(422, "Some answers could not be saved.", [("tools", "option 'mes' is hidden by its show_if condition")])
    response = client.patch(f"{base}/answers", json={"has_meter": False})
    response = client.patch(f"{base}/answers", json={"meter_use": 2})
    assert response.json() == error(422, "Some answers could not be saved.", [
        ("meter_use", "this question is hidden by its show_if condition, so it cannot be answered"),
    ])
    assert client.get(base).json()["answers"] == {"has_meter": False, "meter_use": 1}


def test_thousands_of_unknown_answers_get_a_bounded_list_of_problems_and_suggestions(client):
    """Each unknown question id cost a did-you-mean search on the event loop: 10,000 of them
    in one body stalled the server. The problems are capped, and so are the suggestions."""
    unknown = {f"staf_{i:05d}": 1 for i in range(10_000)}
    unknown["stafff"] = 2  # a typo, early enough to be suggested
    bodies = [
        ("POST", f"{API}/questionnaires/cond/score", {"answers": {"stafff": 2, **unknown}}),
        ("PATCH", f"{API}/assessments/{new_assessment(client)}/answers", {"stafff": 2, **unknown}),
        ("PATCH", f"{API}/assessments/{new_assessment(client)}/answers", {f"gone_{i}": None for i in range(10_000)}),
    ]
    for method, path, body in bodies:
        response = client.request(method, path, json=body)
        assert response.status_code == 422, path
        problems = response.json()["error"]["problems"]
        assert len(problems) == 51
        assert problems[-1] == {"question": "answers", "message": f"{len(body.get('answers', body)) - 50} more problems are not listed; fix these first"}
        assert sum("did you mean" in p["message"] for p in problems) <= 10
    assert problems[0] == {"question": "gone_0", "message": "unknown question"}


def test_starting_assessments_is_limited_per_address_and_hour(settings):
    """The API, the start pages and re-assessments count together, in the database."""
    from dataclasses import replace

    from tests.forms import post as post_form

    with TestClient(app=create_app(replace(settings, new_assessments_per_hour=3))) as client:
        token = new_assessment(client)
        client.patch(f"{API}/assessments/{token}/answers", json={"has_meter": False, "staff": 5, "tools": ["erp"], "d": 1})
        assert client.post(f"{API}/assessments/{token}/submit").status_code == 200
        start = {"q": "small:furniture", "cluster": "did", "lang": "it"}
        post_form(client, "/start/privacy", {**start, "accept": "yes"})
        assert post_form(client, "/start/company", {**start, "name": "Rossi", "size": "small", "country": "IT"}).status_code == 303
        assert post_form(client, f"/a/{token}/reassess", {"accept": "yes"}).status_code == 303
        response = client.post(f"{API}/assessments", json=NEW)
        assert (response.status_code, response.json()) == (429, error(429, "Too many assessments were started from your address in the last hour. Try again later."))
        response = post_form(client, f"/a/{token}/reassess", {"accept": "yes"})
        assert response.status_code == 429 and "Dal vostro indirizzo sono state avviate troppe valutazioni" not in response.text
        post_form(client, "/start/privacy", {**start, "accept": "yes"})
        response = post_form(client, "/start/company", {**start, "name": "Rossi", "size": "small", "country": "IT"})
        assert response.status_code == 429 and "Dal vostro indirizzo sono state avviate troppe valutazioni nell&#39;ultima ora." in response.text
    assert count_rows(settings.database_url, Assessment) == 3


def test_a_body_that_is_not_utf8_is_a_400_json_error(client):
    token = new_assessment(client)
    bodies = [
        ("POST", f"{API}/assessments", json.dumps(NEW).replace("Mobili Rossi", "Mobili \udcff").encode("utf-8", "surrogateescape")),
        ("PATCH", f"{API}/assessments/{token}/answers", b'{"note": "caf\xe9"}'),
        ("POST", f"{API}/questionnaires/cond/score", b'{"answers": {"note": "\xff\xfe"}}'),
    ]
    for method, path, body in bodies:
        response = client.request(method, path, content=body, headers={"content-type": "application/json"})
        assert (response.status_code, response.json()) == (400, error(400, "Invalid request: the body is not UTF-8 text.")), path


@pytest.mark.parametrize("field", ["name", "nace", "contact_name", "contact_email"])
@pytest.mark.parametrize("text", ["Ro\x00ssi", "Ro\tssi", "Rossi\x01"])
def test_control_characters_in_the_company_are_refused_by_field(client, settings, field, text):
    response = client.post(f"{API}/assessments", json={**NEW, "company": {**NEW["company"], field: text}})
    assert response.status_code == 422
    assert response.json() == error(422, "The assessment could not be created.", [
        (f"company.{field}", "control characters (such as tabs, line breaks or NUL) are not allowed"),
    ])
    assert count_rows(settings.database_url, Assessment) == 0


def test_an_answer_with_thousands_of_unknown_options_names_a_few(client):
    token = new_assessment(client)
    body = {"tools": ["erpp", *(f"x{i}" for i in range(5000))], "zzz" + "z" * 5000: 1}
    response = client.patch(f"{API}/assessments/{token}/answers", json=body)
    assert response.json()["error"]["problems"] == [
        {"question": "tools", "message": "unknown options 'erpp'; did you mean 'erp'?, 'x0', 'x1', 'x2', 'x3' and 4996 more"},
        {"question": "z" * 61 + "...", "message": "unknown question"},
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "JSON is malformed: object keys must be strings (byte 1)"),
        (b"[1, 2]", "Invalid request: the body: Expected `object`, got `array`"),
        (b'"x"', "Invalid request: the body: Expected `object`, got `str`"),
        (b"", "Invalid request: the body is empty: send a JSON object"),
        (b'{"kwh": ' + b"[" * 5000 + b"]" * 5000 + b"}", "Invalid request: the JSON is nested too deeply."),
    ],
    ids=["not JSON", "an array", "a string", "empty", "nested 5000 deep"],
)
def test_a_malformed_answers_body_is_a_400(client, body, message):
    token = new_assessment(client)
    response = client.patch(f"{API}/assessments/{token}/answers", content=body, headers={"content-type": "application/json"})
    assert (response.status_code, response.json()) == (400, error(400, message))


@pytest.mark.parametrize(
    ("changes", "status", "message", "problems"),
    [
        ({"cluster": 3}, 400, "Invalid request: `cluster`: Expected `str`, got `int`", []),
        ({"cluster": "nowhere"}, 400, "Invalid request: `cluster`: Invalid enum value 'nowhere'", []),
        ({"company": {"size": "huge"}}, 400, "Invalid request: `company.size`: Invalid enum value 'huge'", []),
        ({"company": {"country": "Italy"}}, 400, "Invalid request: `company.country`: Expected `str` matching regex '^([A-Za-z]{2})?$'", []),
        ({"language": "de"}, 400, "Invalid request: `language`: Invalid enum value 'de'", []),
        ({"token": "mine"}, 400, "Invalid request: the body: Object contains unknown field `token`", []),
        ({"privacy_accepted": None}, 400, "Invalid request: `privacy_accepted`: Expected `bool`, got `null`", []),
        ({"questionnaire": "nope", "privacy_accepted": False}, 422, "The assessment could not be created.",
         [("questionnaire", "no questionnaire 'nope' is offered"), ("privacy_accepted", "the privacy notice must be accepted first")]),
        ({"questionnaire": "small", "sector": "energy"}, 422, "The assessment could not be created.",
         [("sector", "this questionnaire is for furniture, agri_food")]),
    ],
)
def test_a_bad_creation_is_refused_and_creates_nothing(client, settings, changes, status, message, problems):
    response = client.post(f"{API}/assessments", json={**NEW, **changes})
    assert (response.status_code, response.json()) == (status, error(status, message, problems))
    assert count_rows(settings.database_url, Assessment) == 0


def test_a_company_without_a_country_is_scored_in_its_clusters_country(client):
    token = submitted(client, cluster="cenfim", company={"name": "Muebles"})
    view = client.get(f"{API}/assessments/{token}").json()
    assert view["company"]["country"] is None
    assert view["result"]["company"] == {"size": "small", "sector": "furniture", "country": "ES", "cluster": "cenfim"}


def test_a_missing_field_is_named(client):
    body = {k: v for k, v in NEW.items() if k != "cluster"}
    response = client.post(f"{API}/assessments", json=body)
    assert response.json() == error(400, "Invalid request: the body: Object missing required field `cluster`")


def test_tokens_that_open_nothing_are_404_and_expired_ones_410(client, settings):
    token = new_assessment(client)
    other = token[:-1] + ("A" if token[-1] != "A" else "B")
    not_found = error(404, "This link is not valid. Check that you copied all of it.")
    for bad in (other, "short", "x" * 40, "%27%3B--"):
        for method, path in [("GET", ""), ("PATCH", "/answers"), ("POST", "/submit")]:
            response = client.request(method, f"{API}/assessments/{bad}{path}", json={} if method == "PATCH" else None)
            assert (response.status_code, response.json()) == (404, not_found), (bad, method)
    run_sql(settings.database_url, update(Assessment).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = client.patch(f"{API}/assessments/{token}/answers", json={"d": 1})
    expired = error(410, "This link has expired. Start a new assessment, or ask your cluster for help.")
    assert (response.status_code, response.json()) == (410, expired)
    assert client.get(f"{API}/assessments/{token}").status_code == 410
    assert count_rows(settings.database_url, Answer) == 0


def test_submit_refuses_missing_answers_then_a_second_submit(client, settings):
    token = new_assessment(client)
    base = f"{API}/assessments/{token}"
    client.patch(f"{base}/answers", json={"has_meter": False, "tools": ["erp"]})
    response = client.post(f"{base}/submit")
    assert (response.status_code, response.json()) == (422, error(422, "Some required questions have no answer yet.", [
        ("staff", "this question needs an answer"),
        ("d", "this question needs an answer"),
    ]))
    assert client.get(base).json()["status"] == "draft"
    client.patch(f"{base}/answers", json={"staff": 3, "d": 0})
    assert client.post(f"{base}/submit").status_code == 200
    response = client.post(f"{base}/submit")
    assert (response.status_code, response.json()) == (409, error(409, "This assessment has been submitted; its answers can no longer change."))
    response = client.patch(f"{base}/answers", json={"d": 4})
    assert (response.status_code, response.json()) == (409, error(409, "This assessment has been submitted; its answers can no longer change."))
    assert count_rows(settings.database_url, Result) == 1
    assert client.get(base).json()["answers"]["d"] == 0


def test_a_version_that_no_longer_compiles_to_its_fingerprint_is_a_409(client, settings, questionnaires):
    token = new_assessment(client, questionnaire="small")
    compiled = compile_questionnaire(questionnaires / "small.yaml")
    tampered = encode_resolved(compiled.resolved).replace("Small twin-transition check", "Changed behind our back")
    [inserted] = run_sql(settings.database_url, insert(QuestionnaireVersion).values(
        questionnaire_id="small", version="1", fingerprint="0" * 64, source=tampered, created_at=utcnow(),
    ).returning(QuestionnaireVersion.id))
    run_sql(settings.database_url, update(Assessment).values(questionnaire_version_id=inserted.scalar_one()))
    response = client.get(f"{API}/assessments/{token}")
    assert (response.status_code, response.json()) == (409, error(409, "The questionnaire version of this assessment is no longer available."))


def test_autosave_reads_a_version_whose_file_is_gone_from_the_database(settings, questionnaires):
    with TestClient(app=create_app(settings)) as client:
        token = new_assessment(client, questionnaire="cond")
    (questionnaires / "cond.yaml").unlink()
    # A new process: the version is no longer compiled in memory, nor offered from the files.
    with TestClient(app=create_app(settings)) as client:
        response = client.patch(f"{API}/assessments/{token}/answers", json={"has_meter": True, "meter_use": 2})
        assert response.status_code == 200, response.text
        assert client.get(f"{API}/assessments/{token}").json()["answers"] == {"has_meter": True, "meter_use": 2}


def test_a_save_that_loses_the_race_to_a_submit_writes_nothing(client, settings):
    """The draft is read, then submitted by another request, then the save writes: the save
    must fail whole (409), not store an answer after the submission."""
    from assessment.store.by_token import DraftChanged
    from assessment.store.responses import AlreadySubmitted, Saved

    token = new_assessment(client)
    base = f"{API}/assessments/{token}"
    client.patch(f"{base}/answers", json={"has_meter": False, "tools": ["erp"], "staff": 3, "d": 0})

    async def race():
        engine = create_engine(settings.database_url)
        stored = await TokenStore.open(engine)
        try:
            draft = await stored.open_draft(token)
            assert draft.status == "draft" and draft.answers["d"] == 0
            assert client.post(f"{base}/submit").status_code == 200
            with pytest.raises(DraftChanged):
                await stored.store_answers(draft, Saved({**draft.answers, "d": 4}, set(), {"d": 4}, ["tools"]), "s1")
            # Checked again, as ``saving`` does: the draft read now is no longer one.
            again = await stored.open_draft(token)
            assert again.status == "submitted"
            with pytest.raises(AlreadySubmitted):
                await stored.store_answers(again, Saved({**again.answers, "d": 4}, set(), {"d": 4}, ["tools"]), "s1")
        finally:
            await stored.close()
            await engine.dispose()

    run_coroutine(race())
    view = client.get(base).json()
    assert view["status"] == "submitted" and view["answers"]["d"] == 0 and view["answers"]["tools"] == ["erp"]
    assert view["current_section"] == "s2"


def test_oversized_bodies_are_refused_with_413(client, settings):
    token = new_assessment(client)
    big = json.dumps({"note": "x" * (300 * 1024)})
    response = client.patch(f"{API}/assessments/{token}/answers", content=big, headers={"content-type": "application/json"})
    assert (response.status_code, response.json()) == (413, error(413, "The request body is too large: at most 256 KiB."))
    assert count_rows(settings.database_url, Answer) == 0


def test_unknown_routes_and_methods_under_the_api_are_json(client):
    assert client.get(f"{API}/nothing").json() == error(404, "Not found.")
    assert client.get("/api").json() == error(404, "Not found.")
    site = client.get("/apiary")  # the site's own 404: a page, not the API's JSON
    assert site.status_code == 404 and site.headers["content-type"].startswith("text/html")
    response = client.delete(f"{API}/assessments")
    assert (response.status_code, response.json()) == (405, error(405, "Method not allowed."))
    response = client.get(f"{API}/questionnaires/nope/questions")
    assert (response.status_code, response.json()) == (404, error(404, "No questionnaire 'nope' is offered."))


def test_refusals_are_logged_by_route_without_tokens_or_answers(client, caplog):
    token = new_assessment(client)
    with caplog.at_level(logging.INFO):
        client.patch(f"{API}/assessments/{token}/answers", json={"staff": "secret-answer"})
        client.get(f"{API}/assessments/{token[:-2]}zz")
        client.get(f"{API}/assessments/{token}/nothing-here")
    server = [r.getMessage() for r in caplog.records if not r.name.startswith("httpx")]
    assert "PATCH /api/v1/assessments/{token}/answers refused: 422" in server
    assert "GET /api/v1/assessments/{token} refused: 404" in server
    assert "GET (no route) refused: 404" in server
    assert not [m for m in server if token in m or token[:-2] in m or "secret-answer" in m]


def test_the_questions_in_one_language(client):
    response = client.get(f"{API}/questionnaires/cond/questions", params={"lang": "it"})
    assert response.status_code == 200
    form = response.json()
    assert form["title"] == "Condizioni" and form["language"] == "it"
    assert [s["id"] for s in form["sections"]] == ["s", "s2"]
    questions = {q["id"]: q for s in form["sections"] for q in s["questions"]}
    assert list(questions) == ["has_meter", "meter_use", "staff", "tools", "d", "note"]
    assert questions["meter_use"] == {
        "id": "meter_use", "kind": "scale", "text": "How much do you use it?", "show_if": "has_meter == true",
        "scale": [{"value": v, "text": str(v)} for v in range(5)],
    }
    assert questions["tools"]["options"] == [{"id": "erp", "text": "ERP"}, {"id": "mes", "text": "MES", "show_if": "staff >= 50"}]
    assert questions["staff"] == {"id": "staff", "kind": "number", "text": "Staff", "min": 1.0, "max": 5000.0, "integer": True}
    assert questions["note"] == {"id": "note", "kind": "text", "text": "Anything else?", "required": False, "max_length": 2000}
    assert client.get(f"{API}/questionnaires/cond/questions", params={"lang": "xx"}).json() == error(
        400, "Invalid request: query parameter `lang`: Invalid enum value 'xx'"
    )


@pytest.mark.parametrize("flags", [[], ["--explain"], ["--explain", "--lang", "it"]])
def test_score_gives_exactly_the_json_of_the_cli(client, questionnaires, tmp_path, capsys, flags):
    answers = {"tools": "erp", "kwh": 150, "audit": False}
    company = {"size": "micro", "sector": "agri_food", "country": "RO", "cluster": "cluj_it"}
    path = tmp_path / "answers.yaml"
    path.write_text(json.dumps({"company": company, **answers}), encoding="utf-8")  # JSON is YAML
    assert main(["score", str(questionnaires / "small.yaml"), str(path), "--json", *flags]) == 0
    printed = capsys.readouterr().out.encode()
    lang = flags[flags.index("--lang") + 1] if "--lang" in flags else "en"
    response = client.post(
        f"{API}/questionnaires/small/score",
        json={"answers": answers, "company": company, "lang": lang, "explain": "--explain" in flags},
    )
    assert response.status_code == 200
    assert response.content + b"\n" == printed


def test_score_without_a_company_is_scored_as_the_cli_does(client, questionnaires, tmp_path, capsys):
    path = tmp_path / "answers.yaml"
    path.write_text("tools: none\n", encoding="utf-8")
    assert main(["score", str(questionnaires / "small.yaml"), str(path), "--json"]) == 0
    response = client.post(f"{API}/questionnaires/small/score", json={"answers": {"tools": "none"}})
    assert response.content + b"\n" == capsys.readouterr().out.encode()


def test_score_refuses_answers_that_do_not_fit(client):
    response = client.post(f"{API}/questionnaires/cond/score", json={"answers": {"has_meter": False, "meter_use": 2, "tools": 5}})
    assert (response.status_code, response.json()) == (422, error(422, "The answers do not fit the questionnaire.", [
        ("tools", "expected a list of option ids, got 5"),
    ]))
    response = client.post(f"{API}/questionnaires/cond/score", json={"answers": {"has_meter": False, "meter_use": 2}})
    assert response.json() == error(422, "The answers do not fit the questionnaire.", [
        ("meter_use", "this question is hidden by its show_if condition, so it cannot be answered"),
    ])
    response = client.post(f"{API}/questionnaires/cond/score", json={"answers": {}, "company": {"country": "Italy"}})
    assert response.json() == error(400, "Invalid request: `company.country`: Expected `str` matching regex '^[A-Z]{2}$'")
    response = client.post(f"{API}/questionnaires/nope/score", json={"answers": {}})
    assert (response.status_code, response.json()) == (404, error(404, "No questionnaire 'nope' is offered."))


def test_the_openapi_description_lists_the_routes_and_their_errors(client):
    schema = client.get("/schema").json()
    paths = schema["paths"]
    assert {
        f"{API}/questionnaires", f"{API}/questionnaires/{{questionnaire_id}}", f"{API}/questionnaires/{{questionnaire_id}}/questions",
        f"{API}/questionnaires/{{questionnaire_id}}/score", f"{API}/assessments", f"{API}/assessments/{{token}}",
        f"{API}/assessments/{{token}}/answers", f"{API}/assessments/{{token}}/submit",
    } <= set(paths)
    patch = paths[f"{API}/assessments/{{token}}/answers"]["patch"]
    assert {"200", "400", "404", "409", "410", "413", "422"} <= set(patch["responses"])
    assert patch["responses"]["422"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert set(paths[f"{API}/assessments"]["post"]["responses"]) >= {"201", "400", "422"}


def submitted(client, **changes) -> str:
    token = new_assessment(client, **changes)
    base = f"{API}/assessments/{token}"
    client.patch(f"{base}/answers", json={"has_meter": True, "meter_use": 3, "staff": 12, "tools": ["erp"], "d": 0})
    assert client.post(f"{base}/submit").status_code == 200
    return token


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_the_report_of_a_submitted_assessment_is_a_pdf_on_both_routes(client):
    token = submitted(client, company={**NEW["company"], "name": "Mobili <Rossi> & Figli"})
    response = client.get(f"{API}/assessments/{token}/report.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"] == 'attachment; filename="recentre-report.pdf"'
    text = pdf_text(response.content)
    assert "Mobili <Rossi> & Figli" in text
    assert "Start with data" in text  # the recommendation that fires at a data score of 50
    assert "Sector average" not in text  # no other assessment of the sector yet
    page = client.get(f"/a/{token}/report.pdf")
    assert page.status_code == 200 and page.content == response.content


def test_the_report_shows_the_sector_average_from_five_other_assessments(client):
    for _ in range(5):
        submitted(client)
    other_sector = submitted(client, questionnaire="cond", sector="agri_food")
    token = submitted(client)
    assert "Sector average" in pdf_text(client.get(f"{API}/assessments/{token}/report.pdf").content)
    assert "Sector average" not in pdf_text(client.get(f"{API}/assessments/{other_sector}/report.pdf").content)


def test_no_report_before_submitting_nor_for_a_bad_token(client):
    token = new_assessment(client)
    response = client.get(f"{API}/assessments/{token}/report.pdf")
    assert (response.status_code, response.json()) == (409, error(409, "This assessment has not been submitted yet: its report comes with its results."))
    assert client.get(f"{API}/assessments/{'x' * 32}/report.pdf").json() == error(404, "This link is not valid. Check that you copied all of it.")
    page = client.get(f"/a/{token}/report.pdf")
    assert page.status_code == 409 and "not been submitted yet" in page.text
    assert client.get(f"/a/{'x' * 32}/report.pdf").status_code == 404


def test_the_served_app_logs_refusals_but_never_a_token(tmp_path, questionnaires):
    """`recentre serve` as deployed: uvicorn's access log would write every path, tokens
    included, so it is off; refusals are logged by route template."""
    with recentre_served(tmp_path, sqlite_url(tmp_path), questionnaires=questionnaires) as server, httpx.Client(base_url=server.url) as http:
        token = http.post(f"{API}/assessments", json=NEW).json()["token"]
        assert http.get(f"{API}/assessments/{token}").status_code == 200
        assert http.patch(f"{API}/assessments/{token}/answers", json={"staff": "secret-answer"}).status_code == 422
        assert http.get(f"{API}/assessments/{token[:-1]}Q/nothing").status_code == 404
    text = server.log.read_text()
    assert "PATCH /api/v1/assessments/{token}/answers refused: 422" in text
    assert token not in text and token[:-1] not in text and "secret-answer" not in text


def test_the_readme_lists_every_api_route(client):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for path, operations in client.get("/schema").json()["paths"].items():
        if path.startswith(API):
            for method in operations:
                route = f"`{method.upper()} {path.replace('{questionnaire_id}', '{id}')}"
                assert route in readme, f"README does not list {route}`"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)
# Per question of CONDITIONS (tests/helpers.py): answers near the valid ones (the right type, out of range, an
# unknown option, "na", "yes"), then anything JSON can say.
NEAR_VALID = {
    "has_meter": st.sampled_from([True, False, "yes", "no", "na", 1, 0, "true"]),
    "meter_use": st.integers(-2, 6) | st.floats(-1, 5) | st.just("na"),
    "staff": st.integers(-5, 6000) | st.floats(allow_nan=False, allow_infinity=False),
    "tools": st.lists(st.sampled_from(["erp", "mes", "crm", "na", ""]), max_size=3) | st.sampled_from(["erp", "na"]),
    "d": st.integers(-1, 5) | st.booleans(),
    "note": st.text(max_size=2100),
    "zzz": st.integers(),
}
ANSWER_PATCHES = st.lists(st.sampled_from(list(NEAR_VALID)), unique=True, max_size=4).flatmap(
    lambda keys: st.fixed_dictionaries({k: st.none() | NEAR_VALID[k] | JSON_VALUES for k in keys})
)


@hypothesis.settings(max_examples=60, deadline=None, suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@hypothesis.given(patch=ANSWER_PATCHES)
def test_any_answers_are_saved_whole_or_refused_whole(client, patch):
    if not hasattr(client, "fuzzed_token"):
        client.fuzzed_token = new_assessment(client)
    base = f"{API}/assessments/{client.fuzzed_token}"
    before = client.get(base).json()["answers"]
    response = client.patch(f"{base}/answers", content=json.dumps(patch), headers={"content-type": "application/json"})
    after = client.get(base).json()["answers"]
    if response.status_code == 200:
        cleared = {q for q, v in patch.items() if v in (None, "", [], {})}  # as null: no answer
        assert set(patch) - cleared <= set(after)
        assert not cleared & set(after)
    else:
        assert response.status_code in (400, 422), response.text  # 400: NaN or infinity, which JSON cannot carry
        body = response.json()["error"]
        assert body["status"] == response.status_code
        assert {p["question"] for p in body["problems"]} <= set(patch)
        assert after == before
