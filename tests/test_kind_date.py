"""The ``date`` kind, added as one module (questionnaires/kinds/date.py) and one line of the
registry: its YAML and JSON Schema, its answer checks, answers in words, random answers, the
SME's form, the results, the API and the library's preview, on SQLite and PostgreSQL and in
Chromium."""

from __future__ import annotations

import random
import re
from datetime import date
from pathlib import Path

import pytest
from litestar.testing import TestClient

from assessment.settings import Settings
from assessment.store.db import upgrade
from questionnaires.compile import compile_questionnaire
from questionnaires.jsonschema import questionnaire_schema
from questionnaires.kinds import kind_of
from scoring.answers import AnswersError, check_answers
from scoring.check import random_answers, simulate
from scoring.engine import score
from scoring.render.labels import Labels
from scoring.synthetic import TendencyAnswers, company_propensities
from scoring.text import describe_answer
from tests.a11y import assert_accessible
from tests.forms import autosave, post, stored
from tests.helpers import CATALOG, SCORING_MODEL, dedent, diagnostics_of, errors_of
from tests.live_server import recentre_served, sqlite_url
from tests.workspace import add_user, sign_in
from web.app import create_app

SECTIONS = """\
sections:
  - id: company
    title: {en: Your company, it: La vostra impresa}
    questions:
      - kind: date
        id: founded
        text: {en: When was the company founded?, it: Quando è stata fondata l'impresa?}
        min: 1900-01-01
        max: 2026-12-31
        allow_na: true
      - kind: date
        id: audit_date
        text: {en: Date of your last energy audit, it: Data dell'ultima diagnosi energetica}
        required: false
      - {kind: yes_no, id: erp, text: {en: Do you use an ERP?, it: Usate un ERP?}, dimension: data}
      - {kind: yes_no, id: meter, text: {en: Do you meter your energy use?, it: Misurate i consumi?}, dimension: energy}
recommendations:
  - id: young
    title: {en: Grow with support, it: Crescere con un sostegno}
    when: "founded >= '2020-01-01'"
    rationale: {en: "Founded on {founded}.", it: "Fondata il {founded}."}
"""

QUESTIONNAIRE = (
    'kind: questionnaire\nid: dates\nversion: "1"\ntitle: {en: Dates, it: Date}\n'
    "sectors: [furniture]\nlanguages: [en, it]\ncatalog: catalog.yaml\n" + SCORING_MODEL + SECTIONS
)
COMPANY = {"size": "small", "sector": "furniture", "country": "IT", "cluster": "did"}


@pytest.fixture
def questionnaires(tmp_path: Path) -> Path:
    folder = tmp_path / "questionnaires"
    folder.mkdir()
    (folder / "catalog.yaml").write_text(CATALOG, encoding="utf-8")
    (folder / "dates.yaml").write_text(QUESTIONNAIRE, encoding="utf-8")
    return folder


@pytest.fixture
def compiled(questionnaires: Path):
    return compile_questionnaire(questionnaires / "dates.yaml")


# --- The language --------------------------------------------------------------------------


def test_a_date_question_compiles_with_its_bounds(compiled):
    founded = compiled.questions["founded"]
    assert kind_of(founded).tag == "date"
    assert (founded.min, founded.max) == (date(1900, 1, 1), date(2026, 12, 31))
    assert compiled.questions["audit_date"].min is None


def test_the_json_schema_describes_a_date_question():
    schema = questionnaire_schema()
    assert schema["$defs"]["Section"]["properties"]["questions"]["items"]["discriminator"]["mapping"]["date"] == "#/$defs/Date"
    bound = schema["$defs"]["Date"]["properties"]["min"]["anyOf"][0]
    assert bound == {"type": "string", "format": "date"}


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("{kind: date, id: d, text: {en: D}, dimension: data}", "question 'd' has a dimension but a date is never scored"),
        ("{kind: date, id: d, text: {en: D}, min: 2020-01-02, max: 2020-01-01}", "`min` is after `max`"),
        ("{kind: date, id: d, text: {en: D}, min: 2020-02-30}", "invalid RFC3339 encoded date"),
    ],
)
def test_a_bad_date_question_is_refused_with_its_message(tmp_path, question, message):
    body = dedent(
        f"""\
        sections:
          - id: s
            title: {{en: S}}
            questions:
              - {question}
              - {{kind: yes_no, id: erp, text: {{en: ERP?}}, dimension: data}}
              - {{kind: yes_no, id: meter, text: {{en: Meter?}}, dimension: energy}}
        """
    )
    assert errors_of(tmp_path, body) == [message]


def test_a_condition_may_compare_a_date_but_it_has_no_score(tmp_path):
    body = SECTIONS.replace("when: \"founded >= '2020-01-01'\"", 'when: "score.founded > 50"')
    assert diagnostics_of(tmp_path, body) == [
        "q.yaml:42:12: error: recommendation 'young' when: question 'founded' is not scored, so it has no score"
    ]


# --- Answers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("2019-05-31", None),
        ("1900-01-01", None),
        ("na", None),
        ("31/05/2019", "founded: expected a date as YYYY-MM-DD, got '31/05/2019'"),
        ("2019-02-30", "founded: expected a date as YYYY-MM-DD, got '2019-02-30'"),
        ("2019-5-31", "founded: expected a date as YYYY-MM-DD, got '2019-5-31'"),
        (20190531, "founded: expected a date as YYYY-MM-DD, got 2.01905e+07"),
        ("1899-12-31", "founded: 1899-12-31 is before the earliest date 1900-01-01"),
        ("2027-01-01", "founded: 2027-01-01 is after the latest date 2026-12-31"),
    ],
)
def test_a_date_answer_is_checked(compiled, value, problem):
    answers = {"founded": value, "erp": True, "meter": False}
    if problem is None:
        assert check_answers(compiled, answers, COMPANY)["founded"] == value
    else:
        with pytest.raises(AnswersError) as raised:
            check_answers(compiled, answers, COMPANY)
        assert [str(p) for p in raised.value.problems] == [problem]


def test_without_allow_na_a_date_cannot_be_dont_know(compiled):
    with pytest.raises(AnswersError) as raised:
        check_answers(compiled, {"audit_date": "na"}, COMPANY)
    assert [str(p) for p in raised.value.problems] == ["audit_date: this question does not offer \"don't know / not applicable\""]


def test_a_date_is_not_scored_but_rules_read_it(compiled):
    young = score(compiled, {"founded": "2021-04-01", "erp": True, "meter": True}, COMPANY)
    assert set(young.questions) == {"erp", "meter"}
    assert [r.id for r in young.recommendations] == ["young"]
    assert young.recommendations[0].rationale == "Founded on 2021-04-01."
    assert [(t.name, t.value) for t in young.recommendations[0].triggered_by] == [("founded", "2021-04-01")]
    old = score(compiled, {"founded": "1998-04-01", "erp": True, "meter": True}, COMPANY)
    assert old.recommendations == [] and old.overall.score == young.overall.score == 100.0


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", "March 31, 2020"), ("it", "31 marzo 2020"), ("bg", "31 март 2020\u202fг."), ("es", "31 de marzo de 2020"), ("ro", "31 martie 2020")],
)
def test_a_date_answer_in_words_is_written_as_each_language_writes_dates(compiled, lang, words):
    assert Labels(lang).answer(compiled, "founded", "2020-03-31") == words
    assert Labels(lang).answer(compiled, "founded", "na") == Labels(lang).gettext("Don't know / not applicable")


def test_a_date_answer_in_the_terminal_stays_iso(compiled):
    assert describe_answer(compiled, "founded", "2020-03-31") == "2020-03-31"
    assert describe_answer(compiled, "founded", None) == "not answered"


def test_random_dates_are_valid_and_within_the_bounds(compiled):
    rng = random.Random(3)
    drawer = TendencyAnswers(compiled)
    seen = set()
    for _ in range(200):
        uniform = random_answers(compiled, rng, COMPANY)
        leaning = drawer.draw(rng, COMPANY, company_propensities(compiled, rng, COMPANY))
        for answers in (uniform, leaning):
            check_answers(compiled, answers, COMPANY)
            if answers.get("founded") not in (None, "na"):
                assert "1900-01-01" <= answers["founded"] <= "2026-12-31"
                seen.add(answers["founded"][:4])
    assert len(seen) > 50  # spread over the years, not one date
    assert simulate(compiled, 100).simulation == []


# --- The SME's form, the results, the API and the library ------------------------------------


@pytest.fixture
def settings(tmp_path: Path, database_url: str, questionnaires: Path) -> Settings:
    upgrade(database_url)
    return Settings(database_url=database_url, questionnaires=questionnaires, secret_key="test-key", data_dir=tmp_path / "data")


@pytest.fixture
def client(settings: Settings):
    with TestClient(app=create_app(settings)) as client:
        yield client


def start(client: TestClient, lang: str = "en") -> str:
    """Through the start pages to the first section; the new assessment's token."""
    values = {"q": "dates:furniture", "cluster": "did", "lang": lang}
    assert post(client, "/start", values).status_code == 303
    assert post(client, "/start/privacy", {**values, "accept": "yes"}).status_code == 303
    response = post(client, "/start/company", {**values, "name": "Rossi", "size": "small", "country": "IT"})
    return re.match(r"^/a/([A-Za-z0-9_-]{32})/s/company$", response.headers["location"]).group(1)


def test_a_date_is_asked_in_a_date_box_with_its_bounds_and_dont_know_box(client):
    token = start(client)
    page = client.get(f"/a/{token}/s/company").text
    box = re.search(r'<input type="date" id="f-founded"[^>]*>', page).group(0)
    assert box == (
        '<input type="date" id="f-founded" name="founded" value="" min="1900-01-01" max="2026-12-31" aria-labelledby="l-founded">'
    )
    assert 'type="checkbox" id="f-founded-na" name="founded.na" value="na"' in page
    assert 'hx-params="_autosave,_shown_error,founded,founded.na"' in page
    assert re.search(r'<input type="date" id="f-audit_date" name="audit_date" value="">', page)


def test_a_date_autosaves_and_a_bad_one_is_refused_in_the_smes_language(client, database_url):
    token = start(client, lang="it")
    response = autosave(client, token, "company", "founded", {"founded": "2019-05-31"})
    assert response.status_code == 200 and stored(database_url, token)["founded"] == "2019-05-31"
    response = autosave(client, token, "company", "founded", {"founded": "31/05/2019"})
    assert response.status_code == 422
    assert "Inserite una data nel formato anno-mese-giorno, ad esempio 2026-03-31." in response.text
    assert 'name="founded" value="31/05/2019"' in response.text  # what was typed, shown again
    response = autosave(client, token, "company", "founded", {"founded": "1850-01-01"})
    assert "Inserite una data non anteriore al 1900-01-01." in response.text
    response = autosave(client, token, "company", "founded", {"founded": ["2019-05-31", "2019-06-01"]})
    assert "Inserite una sola data." in response.text
    assert stored(database_url, token)["founded"] == "2019-05-31"
    # "Don't know", ticked last, wins over the date in the box.
    response = autosave(client, token, "company", "founded", {"founded": "2019-05-31", "founded.na": "na"})
    assert response.status_code == 200 and stored(database_url, token)["founded"] == "na"
    assert 'name="founded" value=""' in response.text


def test_a_whole_page_saves_a_date_and_the_results_give_it_in_words(client, database_url):
    token = start(client)
    response = post(client, f"/a/{token}/s/company", {"founded": "2021-04-01", "erp": "yes", "meter": "no"})
    assert response.status_code == 303
    assert stored(database_url, token) == {"founded": "2021-04-01", "erp": True, "meter": False}
    page = client.get(f"/a/{token}/s/company").text
    assert 'name="founded" value="2021-04-01" min="1900-01-01"' in page
    assert post(client, f"/a/{token}/submit").headers["location"] == f"/a/{token}/results"
    results = client.get(f"/a/{token}/results").text
    assert "<h3>Grow with support</h3>" in results
    assert "When was the company founded?: <strong>April 1, 2021</strong>" in results


def test_the_api_describes_a_date_question_and_refuses_a_bad_date(client):
    questions = client.get("/api/v1/questionnaires/dates/questions", params={"lang": "it"}).json()["sections"][0]["questions"]
    assert questions[0] == {
        "kind": "date", "id": "founded", "text": "Quando è stata fondata l'impresa?", "allow_na": True, "min": "1900-01-01", "max": "2026-12-31",
    }
    assert questions[1] == {"kind": "date", "id": "audit_date", "text": "Data dell'ultima diagnosi energetica", "required": False}
    created = client.post("/api/v1/assessments", json={
        "questionnaire": "dates", "cluster": "did", "sector": "furniture", "language": "en", "privacy_accepted": True,
        "company": {"name": "Rossi", "size": "small", "country": "IT"},
    }).json()
    answers = f"/api/v1/assessments/{created['token']}/answers"
    response = client.patch(answers, json={"founded": "2019-02-30", "audit_date": "2031-01-01"})
    assert response.status_code == 422
    assert response.json() == {"error": {"status": 422, "message": "Some answers could not be saved.", "problems": [
        {"question": "founded", "message": "expected a date as YYYY-MM-DD, got '2019-02-30'"},
    ]}}
    response = client.patch(answers, json={"founded": "2019-02-28", "audit_date": "2031-01-01"})
    assert response.status_code == 200
    assert client.get(f"/api/v1/assessments/{created['token']}").json()["answers"] == {"founded": "2019-02-28", "audit_date": "2031-01-01"}
    assert response.json()["progress"]["required_unanswered"] == ["erp", "meter"]


def test_the_library_previews_a_date_question_and_counts_its_answers(client, database_url):
    token = start(client)
    post(client, f"/a/{token}/s/company", {"founded": "2021-04-01", "erp": "yes", "meter": "no"})
    post(client, f"/a/{token}/submit")
    add_user(database_url, "organiser@recentre.example", "organiser")
    sign_in(client, "organiser@recentre.example")
    text = re.sub(r"\s+", " ", client.get("/workspace/library/dates").text)
    assert '<legend>When was the company founded?</legend> <p><input type="date" aria-label="When was the company founded?"></p>' in text
    assert "Answered in 1 submitted assessment." in text


# --- In Chromium ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def date_server(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("date_server")
    folder = home / "questionnaires"
    folder.mkdir()
    (folder / "catalog.yaml").write_text(CATALOG, encoding="utf-8")
    (folder / "dates.yaml").write_text(QUESTIONNAIRE, encoding="utf-8")
    (home / "data").mkdir()
    with recentre_served(home, sqlite_url(home), questionnaires=folder) as server:
        yield server.url


@pytest.mark.browser
def test_an_sme_picks_a_date_and_finds_it_again(a11y_page, date_server: str, artefacts: Path):
    page = a11y_page
    page.goto(f"{date_server}/start?lang=en")
    page.get_by_label("dID", exact=False).check()
    page.get_by_label("Furniture and interiors", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("I have read this privacy notice and accept it.").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Company name").fill("Mobili <Rossi>")
    page.get_by_label("Small", exact=True).check()
    page.get_by_role("button", name="Start the questionnaire").click()
    box = page.get_by_label("When was the company founded?")
    assert box.get_attribute("type") == "date" and box.evaluate("box => [box.min, box.max]") == ["1900-01-01", "2026-12-31"]
    with page.expect_response(lambda r: r.url.endswith("/s/company") and r.request.method == "POST") as saved:
        box.fill("2021-04-01")
    assert saved.value.ok
    page.screenshot(path=artefacts / "date-question.png", full_page=True)
    assert_accessible(page)
    page.reload()
    assert page.get_by_label("When was the company founded?").input_value() == "2021-04-01"
