"""The SME's web flow through Litestar's test client, on real SQLite and PostgreSQL databases:
start, privacy notice, company profile, every kind of question with and without htmx,
conditions, review, submit, results, re-assessment, and every kind of bad input."""

from __future__ import annotations

import logging
import re
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from litestar.testing import TestClient
from sqlalchemy import select, update

from assessment.settings import Settings
from assessment.store.db import create_engine, session_factory, upgrade
from assessment.store.models import Assessment, utcnow
from assessment.store.responses import hash_token
from scoring.render.i18n import translations
from tests.database import run_coroutine, run_sql
from tests.forms import HTMX, another_browser, autosave, csrf, post, stored
from tests.helpers import CATALOG, SCORING_MODEL, dedent
from web.app import create_app
from web.context import context_of

# Every kind of question. Page "first" holds a yes/no whose answer reveals a number on the
# same page, and an option shown to medium and large companies only; page "second" a matrix
# row shown only after tools == erp; page "third" is shown only with a meter.
KINDS = (
    'kind: questionnaire\nid: kinds\nversion: "1"\ntitle: {en: Every kind, it: Ogni tipo}\n'
    "sectors: [furniture]\nlanguages: [en, it]\nestimated_minutes: 5\ncatalog: catalog.yaml\n"
    + SCORING_MODEL.replace(
        "  - {id: energy, title: {en: Energy}, pillar: green}\n",
        "  - {id: energy, title: {en: Energy}, pillar: green}\n  - {id: skills, title: {en: Skills}, pillar: digital}\n",
    )
    + dedent(
        """
        sections:
          - id: first
            title: {en: First page, it: Prima pagina}
            questions:
              - kind: single_choice
                id: tools
                text: {en: Which tools hold your customer data?, it: Quali strumenti?}
                help: {en: Data you can trust is the base of every digital step.}
                dimension: data
                options:
                  - {id: erp, text: {en: An ERP or CRM, it: Un ERP o CRM}, points: 1}
                  - {id: none, text: {en: None of them, it: Nessuno}}
                  - {id: mes, text: {en: A MES}, points: 1, show_if: "company.size in ['medium', 'large']"}
              - kind: multiple_choice
                id: practices
                text: {en: Which practices do you follow?}
                dimension: data
                allow_na: true
                options:
                  - {id: backups, text: {en: Off-site backups}, points: 1}
                  - {id: dashboards, text: {en: Dashboards}, points: 1}
                  - {id: paper, text: {en: "None: we work on paper"}, exclusive: true}
              - kind: yes_no
                id: has_meter
                text: {en: Do you have an energy meter?}
                dimension: energy
              - kind: number
                id: meter_use
                text: {en: Share of sites with a meter}
                unit: {en: "%"}
                min: 0
                max: 100
                allow_na: true
                show_if: "has_meter == true"
                dimension: energy
                bands: [{at_least: 0, points: 0}, {at_least: 50, points: 1}]
          - id: second
            title: {en: Second page}
            questions:
              - kind: scale
                id: maturity
                text: {en: How mature is your data practice?}
                min: 0
                max: 3
                allow_na: true
                labels: [{value: 0, text: {en: Not at all}}, {value: 3, text: {en: Fully}}]
                dimension: skills
              - kind: matrix
                id: adoption
                text: {en: How far are you with these?}
                dimension: data
                allow_na: true
                rows:
                  - {id: erp, text: {en: ERP system}}
                  - {id: ai, text: {en: AI tools}, show_if: "tools == 'erp'"}
                scale: [{value: 0, text: {en: Not used}}, {value: 1, text: {en: Testing}}, {value: 2, text: {en: In use}}]
              - kind: matrix
                id: invest
                text: {en: Investments}
                dimension: data
                multiple: true
                rows: [{id: cloud, text: {en: Cloud}}, {id: robots, text: {en: Robots}}]
                columns:
                  - {id: done, text: {en: Already invested}, points: 1}
                  - {id: plan, text: {en: Plan to invest}, points: 0.5}
              - kind: text
                id: challenge
                text: {en: Your biggest challenge?}
                required: false
                max_length: 200
          - id: third
            title: {en: Only with a meter}
            show_if: "has_meter == true"
            questions:
              - kind: yes_no
                id: audit
                text: {en: Have you had an energy audit?}
                dimension: energy
        recommendations:
          - id: data_first
            title: {en: Organise your data}
            when: "dimension.data < 50"
            rationale: {en: "Your data score is {dimension.data}."}
            instruments: [iv]
            training: [data_skills]
          - id: meter
            title: {en: Install meters}
            when: "has_meter == false"
            rationale: {en: You have no meter yet.}
            instruments: [mx]
            training: [data_skills]
        """
    )
)

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
# Complete answers to the pages, as the forms post them.
FIRST = {"tools": "erp", "practices": ["backups", "dashboards"], "has_meter": "no"}
AGAIN = {"accept": "yes"}
"""The re-assessment form: the privacy notice accepted again, sharing not chosen."""
SECOND = {"maturity": "2", "adoption.erp": "2", "adoption.ai": "na", "invest.cloud": ["done", "plan"], "challenge": "Finding CAD staff"}


def write_questionnaires(folder: Path, text: str = KINDS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "catalog.yaml").write_text(CATALOG, encoding="utf-8")
    (folder / "kinds.yaml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def questionnaires(tmp_path: Path) -> Path:
    return write_questionnaires(tmp_path / "questionnaires")


@pytest.fixture
def settings(tmp_path: Path, database_url: str, questionnaires: Path) -> Settings:
    upgrade(database_url)
    return Settings(database_url=database_url, questionnaires=questionnaires, secret_key="test-key", data_dir=tmp_path / "data")


@pytest.fixture
def client(settings: Settings):
    with TestClient(app=create_app(settings)) as client:
        yield client


# --- Helpers ------------------------------------------------------------------------------


START = {"q": "kinds:furniture", "cluster": "did", "lang": "en"}
COMPANY = {"name": "Mobili Rossi", "size": "small", "country": "IT"}


def accept_notice(client: TestClient, values: dict = START, share: bool = False) -> None:
    """The privacy notice's form posted, accepted, sharing with the advisors or not."""
    privacy = {**values, "accept": "yes", **({"share": "yes"} if share else {})}
    assert post(client, "/start/privacy", privacy).status_code == 303


def start(client: TestClient, company: dict | None = None, share: bool = False, lang: str = "en") -> str:
    """Through the three start pages; the new assessment's token."""
    values = {**START, "lang": lang}
    assert post(client, "/start", values).status_code == 303
    accept_notice(client, values, share)
    form = {**values, **COMPANY, **(company or {})}
    response = post(client, "/start/company", form)
    assert response.status_code == 303, response.text
    match = re.match(r"^/a/([A-Za-z0-9_-]{32})/s/first$", response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


def answer_all(client: TestClient, token: str) -> None:
    assert post(client, f"/a/{token}/s/first", FIRST).headers["location"] == f"/a/{token}/s/second"
    assert post(client, f"/a/{token}/s/second", SECOND).headers["location"] == f"/a/{token}/review"


def assessment_row(database_url: str, token: str) -> Assessment:
    async def go():
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                return await session.scalar(select(Assessment).where(Assessment.token_hash == hash_token(token)))
        finally:
            await engine.dispose()

    return run_coroutine(go())


def error_summary_links(page: str) -> list[str]:
    summary = page.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    return re.findall(r'<a href="#([^"]+)">', summary)


# --- Starting -----------------------------------------------------------------------------


def test_the_landing_page_leads_to_the_start_in_each_language(client):
    page = client.get("/").text
    assert 'href="/start?lang=en"' in page
    assert "about 20 minutes" in page
    italian = client.get("/?lang=it").text
    assert '<html lang="it">' in italian
    assert 'href="/start?lang=it"' in italian


def test_the_start_pages_lead_to_the_first_section(client, database_url):
    page = client.get("/start").text
    assert 'name="cluster" value="green_synergy"' in page and 'name="cluster" value="cluster_it"' not in page
    assert "Cluj IT Cluster (Romania)" in page
    assert 'name="q" value="kinds:furniture"' in page
    assert all(f'name="lang" value="{code}"' in page for code in ("en", "bg", "it", "es", "ro"))
    response = post(client, "/start", START)
    assert response.headers["location"] == "/start/privacy?q=kinds%3Afurniture&cluster=did&lang=en"

    privacy = client.get(response.headers["location"]).text
    for words in ("What is stored", "Who sees it", "contact person", "The advisors of dID"):
        assert words in privacy, words
    # The choice to share is a real checkbox, not ticked unless the SME ticks it.
    share = re.search(r'<input type="checkbox" id="f-share"[^>]*>', privacy).group(0)
    assert "checked" not in share
    response = post(client, "/start/privacy", {**START, "accept": "yes"})
    assert response.headers["location"] == "/start/company?q=kinds%3Afurniture&cluster=did&lang=en"

    company = client.get(response.headers["location"]).text
    assert '<option value="IT" selected>Italy</option>' in company  # the cluster's country
    assert "fewer than 10 people" in company and "250 people or more" in company
    token = start(client, {"name": "Mobili Rossi", "nace": "31.01", "contact_name": "Ada", "contact_email": "ada@example.com"})
    row = assessment_row(database_url, token)
    assert (row.company_name, row.size, row.country, row.nace, row.sector, row.cluster, row.language) == (
        "Mobili Rossi", "small", "IT", "31.01", "furniture", "did", "en")
    assert (row.contact_name, row.contact_email, row.share_with_advisors, row.current_section) == ("Ada", "ada@example.com", False, "first")
    assert row.privacy_accepted_at is not None


def test_the_privacy_notice_must_be_accepted(client, database_url):
    response = post(client, "/start/privacy", {**START, "share": "yes"})
    assert response.status_code == 422
    assert "Accept the privacy notice to continue" in response.text
    assert error_summary_links(response.text) == ["f-accept"]
    # The company page cannot be reached around it.
    response = client.get("/start/company?q=kinds%3Afurniture&cluster=did&lang=en", follow_redirects=False)
    assert response.headers["location"] == "/start/privacy?q=kinds%3Afurniture&cluster=did&lang=en"
    response = post(client, "/start/company", {**START, **COMPANY})
    assert response.status_code == 303 and response.headers["location"].startswith("/start/privacy")


def test_a_link_can_neither_skip_the_privacy_notice_nor_switch_sharing_on(client, database_url):
    """The acceptance and the choice to share come from the notice's form alone, posted by
    the SME; a link or a hidden field that carries them counts for nothing."""
    link = "/start/company?q=kinds%3Afurniture&cluster=did&lang=en&privacy=accepted&share=yes"
    response = client.get(link, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/start/privacy?q=kinds%3Afurniture&cluster=did&lang=en")
    # The company form posted with the fields that used to carry the choice: to the notice.
    forged = {**START, "privacy": "accepted", "share": "yes", **COMPANY}
    response = post(client, "/start/company", forged)
    assert (response.status_code, response.headers["location"]) == (303, "/start/privacy?q=kinds%3Afurniture&cluster=did&lang=en")
    assert run_sql(database_url, select(Assessment.id))[0].all() == []

    # Accepted without sharing: the fields cannot switch sharing on.
    accept_notice(client, share=False)
    page = client.get(link).text
    assert 'name="share"' not in page and 'name="privacy"' not in page
    assert "The advisors of dID – Distretto Interni e Design do not see your assessment, as you chose." in page
    token = re.search(r"/a/([^/]+)/s/first", post(client, "/start/company", forged).headers["location"]).group(1)
    assert assessment_row(database_url, token).share_with_advisors is False
    # One acceptance, one assessment: the next one starts at the notice again.
    response = post(client, "/start/company", forged)
    assert response.headers["location"].startswith("/start/privacy?")


def test_sharing_is_what_the_notice_said_and_can_be_changed_there(client, database_url):
    accept_notice(client, share=True)
    page = client.get("/start/company?q=kinds%3Afurniture&cluster=did&lang=en").text
    assert "The advisors of dID – Distretto Interni e Design may see your results, answers and contact details, as you chose." in page
    assert '<a href="/start/privacy?q=kinds%3Afurniture&amp;cluster=did&amp;lang=en">Change</a>' in page
    # Back on the notice, the box is ticked as it was left; unticked, it is no longer shared.
    notice = client.get("/start/privacy?q=kinds%3Afurniture&cluster=did&lang=en").text
    assert re.search(r'<input type="checkbox" id="f-share"[^>]* checked>', notice)
    accept_notice(client, share=False)
    token = re.search(r"/a/([^/]+)/s/first", post(client, "/start/company", {**START, **COMPANY}).headers["location"]).group(1)
    assert assessment_row(database_url, token).share_with_advisors is False


def test_the_acceptance_holds_for_its_cluster_and_cannot_be_forged(client, settings):
    accept_notice(client, share=True)
    # Accepted for dID's advisors: not for another cluster's.
    other = {**START, "cluster": "cenfim"}
    assert client.get(f"/start/company?{urlencode(other)}", follow_redirects=False).headers["location"].startswith("/start/privacy?")
    # A cookie made or changed elsewhere is not signed with this server's key.
    from web.consent import CONSENT_COOKIE, Consent, consent_cookie

    value = client.cookies[CONSENT_COOKIE]
    forged = [
        consent_cookie("another-key", Consent("did", True, int(time.time())), secure=False).value,
        value[:-1] + ("0" if value[-1] != "0" else "1"),
        value.split(".")[0] + ".",
        consent_cookie(settings.secret_key, Consent("did", True, int(time.time()) - 3 * 3600), secure=False).value,  # too old
    ]
    for cookie in forged:
        client.cookies.set(CONSENT_COOKIE, cookie, path="/start")
        response = client.get(f"/start/company?{urlencode(START)}", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/start/privacy?"), cookie


def test_start_choices_are_checked(client):
    response = post(client, "/start", {"q": "core:furniture", "cluster": "nowhere", "lang": "de"})
    assert response.status_code == 422
    for message in ("Choose the questionnaire of your sector.", "Choose your cluster.", "Choose a language."):
        assert message in response.text
    # A later page with bad choices goes back to the start.
    response = client.get("/start/privacy?q=kinds%3Afurniture&cluster=nowhere&lang=en", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/start?")


def test_the_company_profile_is_checked(client, database_url):
    accept_notice(client)
    form = {**START, "name": " ", "size": "huge", "country": "XX", "nace": "furniture", "contact_email": "not-an-address"}
    response = post(client, "/start/company", form)
    assert response.status_code == 422
    assert error_summary_links(response.text) == ["f-name", "f-size-micro", "f-country", "f-nace", "f-contact_email"]
    assert "Enter the name of your company." in response.text
    assert 'value="not-an-address"' in response.text  # what was typed stays


# --- Every kind of question ---------------------------------------------------------------


@pytest.mark.parametrize(
    "field, text, message",
    [
        ("name", "Mobili\x00Rossi", "Remove the tabs, line breaks and other control characters from the name."),
        ("name", "Mobili\tRossi", "Remove the tabs, line breaks and other control characters from the name."),
        ("contact_name", "Ada\x01", "Remove the tabs, line breaks and other control characters from the name."),
        ("contact_email", "ada\x00@example.com", "Enter an e-mail address such as name@example.com, or leave it empty."),
        ("nace", "31\x00.01", "Enter a NACE code such as 31.01, or leave it empty."),
        ("nace", "C\t31.01", "Enter a NACE code such as 31.01, or leave it empty."),
    ],
)
def test_control_characters_in_the_company_profile_are_refused_at_their_field(client, database_url, field, text, message):
    accept_notice(client)
    response = post(client, "/start/company", {**START, **COMPANY, field: text})
    assert response.status_code == 422
    assert error_summary_links(response.text) == [f"f-{field}"]
    assert message in response.text
    assert run_sql(database_url, select(Assessment.id))[0].all() == []


def test_every_kind_of_question_is_drawn_accessibly(client):
    token = start(client)
    first = client.get(f"/a/{token}/s/first").text
    # Single choice: a radio group in a fieldset, help text tied to it.
    assert '<fieldset aria-describedby="help-tools">' in first
    assert '<legend class="question-text">Which tools hold your customer data?</legend>' in first
    assert 'type="radio" id="f-tools-erp" name="tools" value="erp"' in first
    assert '<label for="f-tools-erp">An ERP or CRM</label>' in first
    assert "f-tools-mes" not in first  # an option for medium and large companies only
    # Multiple choice: checkboxes, the exclusive option and "don't know" explained.
    assert 'type="checkbox" id="f-practices-backups" name="practices" value="backups"' in first
    assert "Ticking “None: we work on paper”, “Don&#39;t know / not applicable” clears the other boxes" in first
    assert 'type="checkbox" id="f-practices-na" name="practices" value="na"' in first
    # Yes/no: two radios. The number it reveals is not drawn, only its empty placeholder.
    assert 'id="f-has_meter-yes" name="has_meter" value="yes"' in first and 'id="f-has_meter-no"' in first
    assert '<div id="q-meter_use" hidden></div>' in first and 'name="meter_use"' not in first
    # htmx posts each question with its own fields only.
    assert 'hx-params="_autosave,_shown_error,practices"' in first
    assert "hx-post=\"/a/%s/s/first\"" % token in first

    second = client.get(f"/a/{token}/s/second").text
    # Scale: a row of radios with their labels.
    assert '<label for="f-maturity-0">0: Not at all</label>' in second and '<label for="f-maturity-1">1</label>' in second
    assert 'id="f-maturity-na" name="maturity" value="na"' in second
    # Matrix: column headers, a row header, a radio group per row with a label each; the
    # row shown only after tools == erp is not there yet.
    assert '<th scope="col">Not used</th>' in second and '<th scope="row">ERP system</th>' in second
    assert 'type="radio" id="f-adoption-erp-1" name="adoption.erp" value="1"' in second
    assert '<span class="visually-hidden">ERP system: </span><span class="cell-label">Testing</span>' in second
    assert "adoption.ai" not in second
    # Tick columns: checkboxes per row.
    assert 'type="checkbox" id="f-invest-cloud-done" name="invest.cloud" value="done"' in second
    # Free text: a box with its limit.
    assert 'name="challenge" value="" maxlength="200" aria-describedby="limit-challenge"' in second
    assert "Up to 200 characters." in second


def test_a_number_has_its_unit_range_and_dont_know_box(client):
    token = start(client)
    post(client, f"/a/{token}/s/first", {**FIRST, "has_meter": "yes"})
    page = client.get(f"/a/{token}/s/first").text
    number = re.search(r'<input type="number"[^>]*>', page).group(0)
    for attribute in ('name="meter_use"', 'min="0"', 'max="100"', 'step="any"', 'aria-labelledby="l-meter_use"', 'aria-describedby="u-meter_use"'):
        assert attribute in number, attribute
    assert '<span class="unit" id="u-meter_use">%</span>' in page
    assert 'type="checkbox" id="f-meter_use-na" name="meter_use.na" value="na"' in page


def test_a_whole_page_saves_without_javascript(client, database_url):
    token = start(client)
    answer_all(client, token)
    assert stored(database_url, token) == {
        "tools": "erp",
        "practices": ["backups", "dashboards"],
        "has_meter": False,
        "maturity": 2,
        "adoption": {"erp": 2, "ai": "na"},
        "invest": {"cloud": ["done", "plan"]},
        "challenge": "Finding CAD staff",
    }
    # Drawn again as stored; a question whose fields are all left empty is cleared.
    page = client.get(f"/a/{token}/s/second").text
    assert 'id="f-adoption-erp-2" name="adoption.erp" value="2" checked' in page
    assert 'id="f-invest-cloud-plan" name="invest.cloud" value="plan" checked' in page
    post(client, f"/a/{token}/s/second", {**SECOND, "challenge": "", "invest.cloud": []})
    assert "challenge" not in stored(database_url, token) and "invest" not in stored(database_url, token)


@pytest.mark.parametrize(
    ("question", "fields", "value"),
    [
        ("tools", {"tools": "none"}, "none"),
        ("practices", {"practices": ["dashboards"]}, ["dashboards"]),
        ("practices", {"practices": "na"}, "na"),
        ("has_meter", {"has_meter": "no"}, False),
        ("maturity", {"maturity": "3"}, 3),
        ("maturity", {"maturity": "na"}, "na"),
        ("adoption", {"adoption.erp": "1"}, {"erp": 1}),
        ("invest", {"invest.robots": "plan"}, {"robots": ["plan"]}),
        ("challenge", {"challenge": "Staff"}, "Staff"),
    ],
)
def test_each_kind_autosaves_with_htmx(client, database_url, question, fields, value):
    token = start(client)
    section = "first" if question in ("tools", "practices", "has_meter") else "second"
    response = autosave(client, token, section, question, fields)
    assert response.status_code == 200
    assert stored(database_url, token)[question] == value
    # The browser shows the answer already: the fragment is not swapped, nor even sent; only
    # the progress and the status line, out of band.
    assert response.headers["hx-reswap"] == "none"
    assert f'id="q-{question}"' not in response.text
    assert '<div id="progress" class="progress" hx-swap-oob="innerHTML">' in response.text
    assert "1 of 7 questions answered" in response.text
    assert '<span id="save-status" hx-swap-oob="innerHTML">Saved.</span>' in response.text
    assert assessment_row(database_url, token).current_section == section


def test_a_number_autosaves_and_dont_know_wins_when_ticked_last(client, database_url):
    token = start(client)
    autosave(client, token, "first", "has_meter", {"has_meter": "yes"})
    assert autosave(client, token, "first", "meter_use", {"meter_use": "12,5"}).status_code == 200
    assert stored(database_url, token)["meter_use"] == 12.5
    # Both given: "don't know" was ticked last (the number was stored before).
    response = autosave(client, token, "first", "meter_use", {"meter_use": "12.5", "meter_use.na": "na"})
    assert stored(database_url, token)["meter_use"] == "na"
    assert "hx-reswap" not in response.headers  # the box the server emptied must be drawn
    assert 'name="meter_use" value=""' in response.text
    # Then a number typed while "don't know" is ticked: the number wins.
    autosave(client, token, "first", "meter_use", {"meter_use": "40", "meter_use.na": "na"})
    assert stored(database_url, token)["meter_use"] == 40


def test_an_invalid_answer_shows_its_error_at_the_question_and_stores_nothing(client, database_url):
    token = start(client)
    autosave(client, token, "first", "has_meter", {"has_meter": "yes"})
    response = autosave(client, token, "first", "meter_use", {"meter_use": "140"})
    assert response.status_code == 422
    assert "hx-reswap" not in response.headers
    assert '<p class="field-error" id="err-meter_use"><span class="visually-hidden">Error:</span> Enter a number of 100 or less.</p>' in response.text
    assert 'value="140"' in response.text and 'aria-invalid="true"' in response.text
    assert "err-meter_use" in re.search(r'<input type="number"[^>]*>', response.text).group(0)
    assert "Not saved: see the message at the question." in response.text
    # The fragment remembers that it shows an error, so that the fix takes it away.
    assert '"_shown_error": "1"' in response.text
    assert "meter_use" not in stored(database_url, token)
    fixed = autosave(client, token, "first", "meter_use", {"meter_use": "40"}, _shown_error="1")
    assert fixed.status_code == 200 and "hx-reswap" not in fixed.headers and "field-error" not in fixed.text


def test_a_question_appears_and_disappears_in_place_with_htmx(client, database_url):
    token = start(client)
    response = autosave(client, token, "first", "has_meter", {"has_meter": "yes"})
    # The revealed number comes out of band, ready to use; the progress counts it.
    assert '<div id="q-meter_use" class="question"' in response.text
    assert re.search(r'<div id="q-meter_use" class="question"[^>]*hx-swap-oob="true"', response.text, re.S)
    assert 'name="meter_use"' in response.text
    assert "1 of 9 questions answered" in response.text  # meter_use and the third page's audit
    autosave(client, token, "first", "meter_use", {"meter_use": "30"})
    response = autosave(client, token, "first", "has_meter", {"has_meter": "no"})
    assert '<div id="q-meter_use" hidden hx-swap-oob="true"></div>' in response.text
    assert "1 of 7 questions answered" in response.text
    # The hidden answer stays stored but does not count, and the page no longer draws it.
    assert stored(database_url, token)["meter_use"] == 30
    assert 'name="meter_use"' not in client.get(f"/a/{token}/s/first").text


def test_htmx_autosave_follows_what_a_whole_page_post_stored_meanwhile(client, database_url):
    """Autosave keeps the draft between saves (assessment/store/by_token.py); a whole-page post in
    between, as "Save and continue" sends, is saved the same way. The next autosave is checked
    against what the post stored, in its language."""
    token = start(client)
    autosave(client, token, "first", "has_meter", {"has_meter": "no"})
    # The post reveals meter_use; the kept draft still says it is hidden.
    assert post(client, f"/a/{token}/s/first", {**FIRST, "has_meter": "yes"}).status_code == 303
    response = autosave(client, token, "first", "meter_use", {"meter_use": "30"})
    assert response.status_code == 200 and "cannot be saved" not in response.text, response.text
    assert stored(database_url, token)["meter_use"] == 30
    # A language chosen through the page applies to the autosave that follows.
    post(client, f"/a/{token}/s/first", {**FIRST, "has_meter": "yes", "meter_use": "30", "action": "language", "lang": "it"})
    response = autosave(client, token, "first", "meter_use", {"meter_use": "140"})
    assert response.status_code == 422
    italian = translations("it").gettext
    assert italian("Not saved: see the message at the question.") in response.text
    assert italian("Enter a number of %(max)s or less.") % {"max": "100"} in response.text
    assert stored(database_url, token)["meter_use"] == 30


def test_without_javascript_a_revealed_question_appears_after_the_redirect(client, database_url):
    token = start(client)
    response = post(client, f"/a/{token}/s/first", {**FIRST, "has_meter": "yes"})
    assert response.headers["location"] == f"/a/{token}/s/first?revealed=1#q-meter_use"
    page = client.get(f"/a/{token}/s/first?revealed=1").text
    assert "Your answers brought up new questions on this page." in page
    assert 'name="meter_use"' in page
    # Answered, the page continues, and the third page is now part of the way.
    response = post(client, f"/a/{token}/s/first", {**FIRST, "has_meter": "yes", "meter_use": "55"})
    assert response.headers["location"] == f"/a/{token}/s/second"
    response = post(client, f"/a/{token}/s/second", SECOND)
    assert response.headers["location"] == f"/a/{token}/s/third"


def test_without_javascript_an_answer_below_a_question_that_now_hides_it_is_dropped(client, database_url):
    token = start(client)
    post(client, f"/a/{token}/s/first", {**FIRST, "has_meter": "yes"})
    post(client, f"/a/{token}/s/first", {**FIRST, "has_meter": "yes", "meter_use": "55"})
    # The page showed meter_use; the SME answers "no" above it and leaves the number in.
    response = post(client, f"/a/{token}/s/first", {**FIRST, "has_meter": "no", "meter_use": "60"})
    assert response.status_code == 303
    assert stored(database_url, token)["meter_use"] == 55
    assert stored(database_url, token)["has_meter"] is False


def test_an_exclusive_option_clears_the_others(client, database_url):
    token = start(client)
    autosave(client, token, "first", "practices", {"practices": ["backups", "dashboards"]})
    response = autosave(client, token, "first", "practices", {"practices": ["backups", "dashboards", "paper"]})
    assert stored(database_url, token)["practices"] == ["paper"]
    assert "hx-reswap" not in response.headers
    assert 'value="paper" checked' in response.text and 'value="backups" checked' not in response.text
    # Another box ticked while "paper" is ticked clears "paper".
    autosave(client, token, "first", "practices", {"practices": ["backups", "paper"]})
    assert stored(database_url, token)["practices"] == ["backups"]
    # Without JavaScript too.
    post(client, f"/a/{token}/s/first", {**FIRST, "practices": ["dashboards", "na"]})
    assert stored(database_url, token)["practices"] == "na"


def test_the_progress_shows_the_section_and_the_answered_count(client):
    token = start(client)
    post(client, f"/a/{token}/s/first", FIRST)
    page = client.get(f"/a/{token}/s/second").text
    assert "Section 2 of 2" in page
    assert "3 of 7 questions answered" in page
    assert '<progress max="7" value="3" aria-labelledby="progress-text">' in page


# --- Moving around --------------------------------------------------------------------------


def test_previous_continue_later_and_the_resume_link(client, database_url):
    token = start(client)
    page = client.get(f"/a/{token}/s/first").text
    # The private link is on the first page already.
    assert f'value="http://testserver.local/a/{token}" readonly' in page
    response = post(client, f"/a/{token}/s/first", {**FIRST, "action": "next"})
    assert response.headers["location"] == f"/a/{token}/s/second"
    response = post(client, f"/a/{token}/s/second", {"maturity": "1", "action": "later"})
    assert response.headers["location"] == f"/a/{token}/later"
    later = client.get(f"/a/{token}/later").text
    assert f'value="http://testserver.local/a/{token}" readonly' in later
    assert "This link is the only way back to your assessment." in later
    assert stored(database_url, token)["maturity"] == 1
    # A new browser, with the link only, comes back to the second page.
    with another_browser(client) as other:
        response = other.get(f"/a/{token}", follow_redirects=False)
        assert response.headers["location"] == f"/a/{token}/s/second"
    response = post(client, f"/a/{token}/s/second", {**SECOND, "action": "previous"})
    assert response.headers["location"] == f"/a/{token}/s/first"
    assert client.get(f"/a/{token}", follow_redirects=False).headers["location"] == f"/a/{token}/s/first"


def test_a_hidden_page_is_skipped(client):
    token = start(client)
    post(client, f"/a/{token}/s/first", FIRST)
    response = client.get(f"/a/{token}/s/third", follow_redirects=False)
    assert response.headers["location"] == f"/a/{token}/review"


def test_switching_the_language_keeps_every_answer(client, database_url):
    token = start(client)
    response = post(client, f"/a/{token}/s/first", {**FIRST, "action": "language", "lang": "it"})
    assert response.headers["location"] == f"/a/{token}/s/first"
    assert assessment_row(database_url, token).language == "it"
    page = client.get(f"/a/{token}/s/first").text
    assert '<html lang="it">' in page
    assert "Quali strumenti?" in page and "Un ERP o CRM" in page
    # Texts without an Italian translation fall back to English.
    assert "Which practices do you follow?" in page
    assert 'value="erp" checked' in page and 'value="backups" checked' in page
    assert stored(database_url, token)["practices"] == ["backups", "dashboards"]


# --- Review, submit, results --------------------------------------------------------------


def test_the_review_lists_unanswered_questions_with_the_required_ones_marked(client):
    token = start(client)
    post(client, f"/a/{token}/s/first", {"tools": "erp"})
    page = client.get(f"/a/{token}/review").text
    assert "6 questions have no answer yet." in page
    assert f'<a href="/a/{token}/s/first#q-practices">Which practices do you follow?</a>' in page
    assert f'<a href="/a/{token}/s/second#q-challenge">Your biggest challenge?</a>' in page
    required = re.findall(r'<li id="missing-(\w+)" class="required">', page)
    assert required == ["practices", "has_meter", "maturity", "adoption", "invest"]
    response = post(client, f"/a/{token}/submit")
    assert response.status_code == 422
    assert "5 required questions have no answer yet" in response.text
    assert assessment_row(context_of(client.app).settings.database_url, token).status == "draft"


def test_submit_shows_the_results_and_a_second_submit_is_refused(client, database_url):
    token = start(client, {"name": "Mobili Rossi"})
    answer_all(client, token)
    review = client.get(f"/a/{token}/review").text
    assert "You have answered every question." in review
    response = post(client, f"/a/{token}/submit")
    assert response.headers["location"] == f"/a/{token}/results"
    page = client.get(f"/a/{token}/results").text
    assert "Your results: Mobili Rossi" in page
    # Scores, levels, pillars and the archetype.
    assert "RE-CENTRE twin-transition index" in page and "Twin-transition profile" in page
    assert "EU DMA" not in page  # the small questionnaire declares no DMA dimensions
    assert '<th scope="row">Data <span class="muted">(Digital)</span></th>' in page
    # Both charts, inline, with their text alternatives and tables beside them.
    assert page.count('role="img"') == 2
    assert '<title id="radar-title">Your scores by dimension</title>' in page
    assert '<title id="matrix-title">Twin-transition matrix</title>' in page
    assert '<desc id="matrix-desc">Digital ' in page
    # Recommendations with their instruments and reasons, in words.
    assert "<h3>Install meters</h3>" in page and "Mexico mission" in page
    assert "Do you have an energy meter?: <strong>No</strong>" in page
    assert "Data skills" in page
    # The answers behind each dimension, on demand.
    assert '<details class="explanation">' in page and "An ERP or CRM" in page
    assert f'href="/a/{token}/report.pdf"' in page
    assert f'href="/a/{token}/reassess"' in page
    # The answers can no longer change, and a second submit says so clearly.
    again = post(client, f"/a/{token}/submit")
    assert again.status_code == 409
    assert "This assessment has already been submitted, so its answers can no longer change." in again.text
    assert f'href="/a/{token}/results"' in again.text
    assert post(client, f"/a/{token}/s/first", FIRST).status_code == 409
    assert autosave(client, token, "first", "tools", {"tools": "none"}).status_code == 409
    assert stored(database_url, token)["tools"] == "erp"
    # The section pages and the link lead to the results now.
    assert client.get(f"/a/{token}/s/first", follow_redirects=False).headers["location"] == f"/a/{token}/results"
    assert client.get(f"/a/{token}", follow_redirects=False).headers["location"] == f"/a/{token}/results"


def test_a_reassessment_starts_with_the_previous_answers(client, database_url):
    token = start(client)
    answer_all(client, token)
    post(client, f"/a/{token}/submit")
    response = post(client, f"/a/{token}/reassess", AGAIN)
    assert response.status_code == 303
    new = re.match(r"^/a/([A-Za-z0-9_-]{32})/s/first$", response.headers["location"]).group(1)
    assert new != token
    assert stored(database_url, new) == stored(database_url, token)
    page = client.get(f"/a/{new}/s/first").text
    assert 'value="erp" checked' in page
    row = assessment_row(database_url, new)
    assert row.status == "draft" and row.previous_id == assessment_row(database_url, token).id
    # A draft cannot be re-assessed.
    assert post(client, f"/a/{new}/reassess", AGAIN).status_code == 409


def test_the_library_previews_each_kind_with_the_submitted_answers_counted(client, database_url):
    from tests.workspace import add_user, sign_in

    token = start(client)
    answer_all(client, token)
    post(client, f"/a/{token}/submit")
    add_user(database_url, "organiser@recentre.example", "organiser")
    sign_in(client, "organiser@recentre.example")
    page = client.get("/workspace/library/kinds")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text)

    def counted(label: str, count: str) -> bool:
        return f'{label}</label> <span class="muted" lang="en">· {count}</span>' in text

    def cell(label: str, count: int) -> bool:
        return f'aria-label="{label}"> <span class="muted" lang="en">{count}</span>' in text

    # Choices drawn as the respondent sees them, each with its share of the answers.
    assert counted('<input type="radio"> An ERP or CRM', "1 (100%)") and counted('<input type="radio"> None of them', "0 (0%)")
    assert counted('<input type="checkbox"> Dashboards', "1 (100%)") and counted('<input type="checkbox"> None: we work on paper', "0 (0%)")
    assert counted('<input type="radio"> No', "1 (100%)") and counted('<input type="radio"> Yes', "0 (0%)")
    assert counted('<input type="radio"> 2', "1 (100%)") and counted('<input type="radio"> 0: Not at all', "0 (0%)")
    # Matrix cells, "don't know" among them, and tick columns.
    assert cell("ERP system: In use", 1) and cell("ERP system: Testing", 0)
    assert cell("AI tools: Don&#39;t know / not applicable", 1)
    assert cell("Cloud: Already invested", 1) and cell("Cloud: Plan to invest", 1) and cell("Robots: Plan to invest", 0)
    # A number and a text box.
    assert '<input type="number" aria-label="Share of sites with a meter"> %' in text and "No numbers given yet" in text
    assert '<input type="text" aria-label="Your biggest challenge?">' in text


def test_the_kept_results_page_carries_each_visitors_own_csrf_token(client, settings):
    token = start(client, {"name": "Mobili <Rossi>"})
    answer_all(client, token)
    post(client, f"/a/{token}/submit")
    first = client.get(f"/a/{token}/results").text
    mine = csrf(client)
    with another_browser(client) as other:
        # Same app, so the same kept page; another visitor, so another CSRF cookie.
        page = other.get(f"/a/{token}/results").text
        theirs = other.cookies["recentre_csrf"]
        assert theirs != mine and mine not in page and mine in first
        assert page.count(theirs) == first.count(mine) == 1  # the htmx header
        assert page.replace(theirs, mine) == first
        assert "Your results: Mobili &lt;Rossi&gt;" in page
        reassessed = other.post(f"/a/{token}/reassess", data={"_csrf_token": theirs, **AGAIN}, follow_redirects=False)
        assert reassessed.status_code == 303
    assert post(client, f"/a/{token}/reassess", AGAIN).status_code == 303
    assert client.get(f"/a/{token}/results").headers["cache-control"] == "no-store"


def test_a_form_post_after_a_submit_is_refused_though_an_autosave_kept_the_draft(client, database_url):
    """Issue #13: the page without JavaScript checked the status with a plain read and wrote
    without a condition, so a post racing a submit could store answers after the result was
    scored. Now it saves through the one write path: the draft kept in memory by an earlier
    autosave still says "draft", and the write, made only where the assessment is still a
    draft unchanged since it was read, finds the submission."""
    token = start(client)
    answer_all(client, token)
    assert autosave(client, token, "second", "challenge", {"challenge": "Kept in memory"}).status_code == 200
    assert client.post(f"/api/v1/assessments/{token}/submit").status_code == 200
    kept = context_of(client.app).tokens.drafts[hash_token(token)]
    assert kept.status == "draft" and kept.answers["challenge"] == "Kept in memory"
    before, submitted = stored(database_url, token), assessment_row(database_url, token)
    response = post(client, f"/a/{token}/s/second", {**SECOND, "challenge": "After the submit"})
    assert response.status_code == 409
    assert "This assessment has already been submitted, so its answers can no longer change." in response.text
    assert f'href="/a/{token}/results"' in response.text
    assert stored(database_url, token) == before
    row = assessment_row(database_url, token)
    assert (row.status, row.updated_at, row.current_section) == ("submitted", submitted.updated_at, submitted.current_section)


def test_results_of_a_draft_send_to_the_review(client):
    token = start(client)
    assert client.get(f"/a/{token}/results", follow_redirects=False).headers["location"] == f"/a/{token}/review"


# --- Bad input ----------------------------------------------------------------------------


def test_unknown_and_misplaced_fields_are_refused_and_change_nothing(client, database_url):
    token = start(client)
    post(client, f"/a/{token}/s/first", FIRST)
    before = stored(database_url, token)
    cases = [
        ({**FIRST, "tools": "nonsense"}, "unknown option &#39;nonsense&#39;"),
        ({**FIRST, "sizes": "10"}, "The form held fields that belong to no question: sizes."),
        ({**FIRST, "maturity": "2"}, "“How mature is your data practice?” is on another page."),
        ({**FIRST, "meter_use": "30"}, "“Share of sites with a meter” is not asked with your answers, so it cannot be answered."),
        ({**FIRST, "tools": ["erp", "none"]}, "Choose one answer."),
    ]
    for form, message in cases:
        response = post(client, f"/a/{token}/s/first", {**form, "has_meter": "yes" if "meter_use" not in form else "no"})
        assert response.status_code == 422, form
        assert message in response.text, (form, response.text[:2000])
        assert stored(database_url, token) == before
    # An autosave naming a question that is not on the page.
    assert autosave(client, token, "first", "maturity", {"maturity": "1"}).status_code == 422
    assert stored(database_url, token) == before


def test_thousands_of_unknown_options_ticked_on_a_page_name_a_few(client, database_url):
    token = start(client)
    ticked = ["backupz", *(f"x{i}" for i in range(5000))]
    response = post(client, f"/a/{token}/s/first", {**FIRST, "practices": ticked})
    assert response.status_code == 422
    assert (
        "This answer cannot be saved: unknown options &#39;backupz&#39;; did you mean &#39;backups&#39;?, "
        "&#39;x0&#39;, &#39;x1&#39;, &#39;x2&#39;, &#39;x3&#39; and 4996 more." in response.text
    )
    assert stored(database_url, token) == {}


def test_a_hidden_option_cannot_be_chosen(client, database_url):
    token = start(client)  # a small company: the MES option is for medium and large ones
    response = post(client, f"/a/{token}/s/first", {**FIRST, "tools": "mes"})
    assert response.status_code == 422
    assert "This answer cannot be saved: option &#39;mes&#39; is hidden by its show_if condition." in response.text
    assert "tools" not in stored(database_url, token)


def test_a_number_out_of_range_is_listed_in_the_error_summary(client, database_url):
    token = start(client)
    post(client, f"/a/{token}/s/first", {**FIRST, "has_meter": "yes"})
    post(client, f"/a/{token}/s/first", {**FIRST, "has_meter": "yes", "meter_use": "10"})
    response = post(client, f"/a/{token}/s/first", {**FIRST, "tools": "none", "has_meter": "yes", "meter_use": "-3"})
    assert response.status_code == 422
    assert error_summary_links(response.text) == ["f-meter_use"]
    assert "Share of sites with a meter: Enter a number of 0 or more." in response.text
    # The page shows what was sent, and nothing of it was stored.
    assert 'value="none" checked' in response.text and 'value="-3"' in response.text
    assert stored(database_url, token)["tools"] == "erp" and stored(database_url, token)["meter_use"] == 10
    for typed, message in (("abc", "Enter a number, such as 12 or 12.5."), ("1e999", "Enter a number, such as 12 or 12.5.")):
        response = post(client, f"/a/{token}/s/first", {**FIRST, "has_meter": "yes", "meter_use": typed})
        assert response.status_code == 422 and message in response.text


def test_text_longer_than_its_limit_is_refused(client, database_url):
    token = start(client)
    response = post(client, f"/a/{token}/s/second", {**SECOND, "challenge": "x" * 201})
    assert response.status_code == 422
    assert "Shorten the text to 200 characters or fewer; it has 201." in response.text
    assert stored(database_url, token) == {}


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/a/not-a-token/s/first", 404, "This link is not valid. Check that you copied all of it."),
        ("/a/" + "A" * 32 + "/s/first", 404, "This link is not valid. Check that you copied all of it."),
        ("/a/" + "A" * 32 + "/results", 404, "This link is not valid."),
        ("/a/" + "A" * 32, 404, "This link is not valid."),
    ],
)
def test_unknown_and_malformed_tokens_are_404_pages(client, path, status, message):
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert message in response.text
    assert post(client, path if "/s/" in path else path + "/s/first", FIRST).status_code == 404


@pytest.mark.parametrize(
    ("headers", "path", "message"),
    [
        ({}, "/a/not-a-token/s/first?lang=es", "Este enlace no es válido. Compruebe que lo ha copiado entero."),
        ({"Accept-Language": "bg-BG,bg;q=0.9"}, "/a/" + "A" * 32, "Тази връзка не е валидна. Проверете дали сте я копирали цялата."),
    ],
)
def test_the_stores_refusals_are_shown_in_the_readers_language(client, headers, path, message):
    """The store writes its refusals once, in English, marked for the catalogs where they are
    defined; the error page translates them."""
    response = client.get(path, headers=headers)
    assert response.status_code == 404
    assert message in response.text


def test_an_unknown_section_is_a_404_page(client):
    token = start(client)
    response = client.get(f"/a/{token}/s/nowhere")
    assert response.status_code == 404
    assert "This page of the questionnaire does not exist." in response.text
    assert post(client, f"/a/{token}/s/nowhere", FIRST).status_code == 404


def test_an_expired_link_is_a_410_page(client, database_url):
    token = start(client)
    run_sql(database_url, update(Assessment).where(Assessment.token_hash == hash_token(token)).values(expires_at=utcnow() - timedelta(days=1)))
    for response in (client.get(f"/a/{token}/s/first"), post(client, f"/a/{token}/s/first", FIRST), client.get(f"/a/{token}")):
        assert response.status_code == 410
        assert "This link has expired." in response.text
    assert stored(database_url, token) == {}


def test_another_smes_link_opens_only_that_assessment(client, database_url):
    mine = start(client, {"name": "Mine"})
    theirs = start(client, {"name": "Theirs"})
    post(client, f"/a/{mine}/s/first", FIRST)
    # Each token opens its own answers; posting to one never touches the other.
    assert stored(database_url, theirs) == {}
    assert 'value="erp" checked' not in client.get(f"/a/{theirs}/s/first").text


def test_an_oversized_body_is_a_413_page(client, database_url):
    token = start(client)
    response = post(client, f"/a/{token}/s/second", {**SECOND, "challenge": "x" * (300 * 1024)})
    assert response.status_code == 413
    assert "What was sent is too large: at most 256 KiB." in response.text
    assert stored(database_url, token) == {}


@pytest.mark.parametrize("forged", [None, "0" * 128])
def test_a_form_without_its_csrf_token_is_a_403_page(client, database_url, forged):
    token = start(client)
    data = {**FIRST, **({"_csrf_token": forged} if forged else {})}
    response = client.post(f"/a/{token}/s/first", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "This form has expired or did not come from this site." in response.text
    headers = {**HTMX, **({"x-csrftoken": forged} if forged else {})}
    response = client.post(f"/a/{token}/s/first", data={"tools": "none", "_autosave": "tools"}, headers=headers)
    assert response.status_code == 403
    assert response.headers["hx-refresh"] == "true"
    response = client.post("/start", data=START, follow_redirects=False)
    assert response.status_code == 403
    assert stored(database_url, token) == {}


def test_a_stored_version_no_longer_on_disk_still_opens(tmp_path, database_url, questionnaires):
    upgrade(database_url)
    settings = Settings(database_url=database_url, questionnaires=questionnaires, secret_key="k", data_dir=tmp_path / "data")
    with TestClient(app=create_app(settings)) as client:
        token = start(client)
        post(client, f"/a/{token}/s/first", FIRST)
    # Version 2 replaces the file: the draft keeps its version, read from the database.
    (questionnaires / "kinds.yaml").write_text(KINDS.replace('version: "1"', 'version: "2"').replace("Which tools hold", "What holds"), encoding="utf-8")
    with TestClient(app=create_app(settings)) as client:
        page = client.get(f"/a/{token}/s/first").text
        assert "Which tools hold your customer data?" in page and 'value="erp" checked' in page
        assert post(client, f"/a/{token}/s/second", SECOND).status_code == 303
        assert post(client, f"/a/{token}/submit").status_code == 303
        assert "Your results" in client.get(f"/a/{token}/results").text
        # A re-assessment takes the version offered now.
        new = post(client, f"/a/{token}/reassess", AGAIN).headers["location"].split("/")[2]
        assert "What holds your customer data?" in client.get(f"/a/{new}/s/first").text
    # The questionnaire is withdrawn: its assessments still open, no re-assessment.
    (questionnaires / "other.yaml").write_text(KINDS.replace("id: kinds", "id: other"), encoding="utf-8")
    (questionnaires / "kinds.yaml").unlink()
    with TestClient(app=create_app(settings)) as client:
        assert "Your results" in client.get(f"/a/{token}/results").text
        response = post(client, f"/a/{token}/reassess", AGAIN)
        assert response.status_code == 410
        assert "This questionnaire is no longer offered" in response.text


def test_a_bug_is_a_friendly_500_page_logged_without_the_token(client, caplog, monkeypatch):
    token = start(client)
    from web import flow

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(flow, "question_view", broken)
    with caplog.at_level(logging.INFO):
        response = client.get(f"/a/{token}/s/first")
    assert response.status_code == 500
    assert "Something went wrong on our side, and nothing was changed." in response.text
    assert "a bug" not in response.text
    assert any("GET /a/{token}/s/{section_id} failed" in r.getMessage() for r in caplog.records)
    # (httpx is the test's client, which logs the URLs it asks for.)
    server = [r for r in caplog.records if not r.name.startswith("httpx")]
    assert not any(token in r.getMessage() or token in logging.Formatter().format(r) for r in server)


# --- Escaping, caching, logging -------------------------------------------------------------


def test_free_text_is_escaped_everywhere(client, database_url):
    script = "<script>alert(1)</script>"
    token = start(client, {"name": f"Evil {script} & Co", "contact_name": script})
    post(client, f"/a/{token}/s/first", FIRST)
    post(client, f"/a/{token}/s/second", {**SECOND, "challenge": f"Our {script} challenge"})
    pages = [client.get(f"/a/{token}/s/second").text, client.get(f"/a/{token}/review").text]
    post(client, f"/a/{token}/submit")
    pages.append(client.get(f"/a/{token}/results").text)
    for page in pages:
        assert script not in page
    assert 'value="Our &lt;script&gt;alert(1)&lt;/script&gt; challenge"' in pages[0]
    assert "Evil &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in pages[2]
    # Refused input is shown escaped too.
    accept_notice(client)
    response = post(client, "/start/company", {**START, "name": "", "contact_email": f"x{script}"})
    assert script not in response.text and "x&lt;script&gt;" in response.text


def test_assessment_pages_are_never_cached(client):
    token = start(client)
    for path in (f"/a/{token}/s/first", f"/a/{token}/later", f"/a/{token}/review"):
        assert client.get(path).headers["cache-control"] == "no-store", path
    answer_all(client, token)
    post(client, f"/a/{token}/submit")
    assert client.get(f"/a/{token}/results").headers["cache-control"] == "no-store"


def test_no_route_of_a_private_link_is_kept_by_a_cache(settings):
    """Every GET route that a token opens, pages, PDFs and the API alike, those added later
    too, redirects and refusals included."""
    app = create_app(settings)
    paths = sorted({r.path for r in app.routes if "{token" in r.path and "GET" in getattr(r, "methods", ())})
    assert len(paths) >= 8
    with TestClient(app=app) as client:
        token = start(client)
        answer_all(client, token)
        post(client, f"/a/{token}/submit")
        for template in paths:
            for value in (token, "A" * 32):  # an assessment, and a link that opens none
                path = re.sub(r"\{token:str\}", value, template).replace("{section_id:str}", "first")
                response = client.get(path, follow_redirects=False)
                assert response.headers.get_list("cache-control") == ["no-store"], (path, response.status_code)


def test_no_token_and_no_answer_reaches_the_log(client, caplog):
    with caplog.at_level(logging.DEBUG):
        token = start(client)
        post(client, f"/a/{token}/s/first", {**FIRST, "tools": "nonsense-option"})
        autosave(client, token, "first", "practices", {"practices": "backups"})
        post(client, f"/a/{token}/s/second", {**SECOND, "challenge": "secret challenge"})
        client.get(f"/a/{token}/s/nowhere")
        post(client, f"/a/{token}/submit")
        client.get(f"/a/{token}/results")
    text = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert "refused: 422" in text and "refused: 404" in text
    for secret in (token, "secret challenge", "nonsense-option"):
        assert secret not in text
