"""The served application in Debian's Chromium: what a person sees, and axe-core's checks."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import pytest

from questionnaires.compile import CompiledQuestionnaire, compile_questionnaire, find_questionnaire
from tests.a11y import assert_accessible
from tests.browser import NARROWEST_PHONE, SQLITE_ONLY, Journey, no_horizontal_overflow, settle, unanswered

pytestmark = pytest.mark.browser

JS_VIEWPORT = {"width": 1280, "height": 900}


def test_the_landing_page_renders_without_errors(page, live_server: str, artefacts: Path):
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("requestfailed", lambda request: problems.append(f"{request.url}: {request.failure}"))

    response = page.goto(live_server)
    assert response is not None and response.ok
    page.wait_for_load_state("networkidle")
    page.screenshot(path=artefacts / "landing.png", full_page=True)

    assert page.get_by_role("heading", level=1).inner_text() == "How ready is your company for the twin transition?"
    assert page.get_by_role("heading", name="Small twin-transition check").is_visible()
    # htmx loaded and ran: the Content-Security-Policy let our own script through.
    assert page.evaluate("typeof htmx !== 'undefined' && htmx.version") == "2.0.11"
    # A refused script or style would be reported here, as would any other console error.
    assert problems == []


def test_the_landing_page_fits_the_narrowest_phone(page, live_server: str, artefacts: Path):
    page.set_viewport_size(NARROWEST_PHONE)
    page.goto(live_server)
    page.screenshot(path=artefacts / "landing-320.png", full_page=True)
    overflow = no_horizontal_overflow(page)
    assert overflow <= 0, f"the page is {overflow}px wider than a 320px screen"


def test_the_skip_link_is_the_first_stop_and_moves_focus_to_the_content(page, live_server: str):
    page.goto(live_server)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0, "the focused skip link must be on screen"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize("viewport", [None, NARROWEST_PHONE], ids=["desktop", "320px"])
def test_the_landing_page_has_no_accessibility_violations(a11y_page, live_server: str, viewport):
    if viewport:
        a11y_page.set_viewport_size(viewport)
    a11y_page.goto(live_server)
    assert_accessible(a11y_page)


def test_the_accessibility_check_reports_violations(a11y_page):
    a11y_page.set_content('<!doctype html><html lang="en"><title>t</title><main><img src="data:,"></main></html>')
    with pytest.raises(AssertionError, match="image-alt"):
        assert_accessible(a11y_page)


# --- The SME's journey through each bundled questionnaire -------------------------------


@dataclass(frozen=True)
class Offered:
    """A questionnaire the start page offers, as an SME picks it there."""

    id: str
    sector: str
    """Its label under "Your sector"."""
    cluster: str
    """The label, or part of it, of a cluster under "Your cluster"."""
    company: str
    """The company that answers it with JavaScript (a name that must be escaped)..."""
    plain_company: str
    """...and the one that answers it without."""

    @property
    def compiled(self) -> CompiledQuestionnaire:
        return compiled_bundled(self.id)


OFFERED = [
    Offered("furniture", "Furniture and interiors", "dID", "Mobili <Rossi> & Figli", "Atelier Sans Script"),
    Offered("it", "IT and software", "Cluj IT", "Soluții <Cloud> & Date SRL", "Plain Forms Software SRL"),
    Offered("energy", "Energy", "Green Synergy", "Слънце <Енерджи> & Вятър ЕООД", "Solar Without Scripts EOOD"),
]
"""Every questionnaire the start page offers (the test below checks that none is missing),
with the cluster of its sector."""

@functools.cache
def compiled_bundled(questionnaire_id: str) -> CompiledQuestionnaire:
    """The bundled questionnaire, compiled once for all the tests: what to expect of it."""
    return compile_questionnaire(find_questionnaire(questionnaire_id))


EVERY_QUESTIONNAIRE = pytest.mark.parametrize("questionnaire", OFFERED, ids=[q.id for q in OFFERED])
"""Each offered questionnaire, on SQLite and on PostgreSQL by ``bundled_server``'s own
parameters (ids "sqlite-chromium-it"). Not a parametrization of both together: pytest would
then start the servers again and again to run the tests in their order."""


def start(journey: Journey, base: str, questionnaire: Offered, company: str) -> None:
    """From the landing page to the questionnaire's first section: ``questionnaire`` picked
    under its cluster on the start page, the privacy notice accepted, the company described."""
    page = journey.page
    page.goto(base)
    journey.check("landing")
    page.get_by_role("link", name="Start the self-assessment").click()
    journey.check("start")
    journey.press(page.get_by_label(questionnaire.cluster))
    journey.press(page.get_by_label(questionnaire.sector, exact=True))
    journey.press(page.get_by_role("button", name="Continue"), "Enter")
    journey.check("privacy")
    assert not page.get_by_label(re.compile("may see my results")).is_checked()
    journey.press(page.get_by_label("I have read this privacy notice and accept it."))
    journey.press(page.get_by_role("button", name="Continue"), "Enter")
    journey.check("company")
    page.get_by_label("Company name").fill(company)
    journey.press(page.get_by_label("Small", exact=True))
    journey.press(page.get_by_role("button", name="Start the questionnaire"), "Enter")
    assert re.search(r"/a/[A-Za-z0-9_-]{32}/s/company_section$", page.url), page.url
    assert page.locator(".kicker").inner_text() == questionnaire.compiled.meta.title.get("en")


def finish(journey: Journey, stop_after: int | None = None) -> int:
    """Answer the sections from here on; stop (before moving on) after section ``stop_after``."""
    page = journey.page
    while "/s/" in page.url:
        number, count = journey.section_position()
        assert journey.answer_page() > 0
        journey.check(f"section-{number:02d}")
        if number == stop_after:
            return number
        journey.next_page()
        if "revealed=1" in page.url:  # without JavaScript: questions an answer revealed
            assert "Your answers brought up new questions on this page." in page.content()
    return count


def leave_and_come_back(journey: Journey, browser, stopped: int, **context_options):
    """"Continue later" on section ``stopped``, the browser closed, and the private link
    opened in a new one: back on that section, with every answer of it and of the section
    before it there. Returns the new browser context."""
    page = journey.page
    journey.press(page.get_by_role("button", name="Continue later"), "Enter")
    assert page.url.endswith("/later")
    journey.check("later")
    link = page.locator("#resume-link").input_value()
    page.context.close()

    context = browser.new_context(**context_options)
    journey.page = page = context.new_page()
    page.goto(link)
    assert journey.section_position()[0] == stopped
    assert unanswered(page) == []
    journey.press(page.get_by_role("button", name="Previous"), "Enter")
    assert journey.section_position()[0] == stopped - 1
    assert unanswered(page) == []
    return context


def submit_and_check_results(journey: Journey, questionnaire: Offered, company: str) -> None:
    page = journey.page
    assert page.url.endswith("/review")
    journey.check("review")
    missing = page.locator("ul.unanswered").all_inner_texts()
    assert not missing and "You have answered every question." in page.content(), missing
    journey.press(page.get_by_role("button", name="Submit and see my results"), "Enter")
    assert page.url.endswith("/results")
    assert page.get_by_role("heading", level=1).inner_text() == f"Your results: {company}"
    assert page.get_by_role("img", name="Your scores by dimension").is_visible()
    assert page.get_by_role("img", name="Twin-transition matrix").is_visible()
    assert page.locator("ol.recommendations > li").count() > 0
    # How each dimension's score came about, one per dimension of the questionnaire.
    assert page.locator("details.explanation").count() == len(questionnaire.compiled.dimensions)
    journey.check("results")
    report = page.request.get(urljoin(page.url, page.get_by_role("link", name="Download the report (PDF)").get_attribute("href")))
    assert report.ok and report.headers["content-type"] == "application/pdf"


def database_of(request) -> str:
    return request.node.callspec.params["bundled_server"]


@SQLITE_ONLY
def test_the_journeys_cover_every_questionnaire_the_start_page_offers(page, bundled_server: str):
    """OFFERED names every questionnaire of the start page, with its label, and a cluster
    label that picks one cluster: a questionnaire added to the bundle gets its journeys."""
    page.goto(f"{bundled_server}/start")
    sectors = page.locator("input[name=q]").evaluate_all("els => els.map(e => [e.value, e.labels[0].textContent.trim()])")
    assert sectors == [[f"{q.id}:{q.id}", q.sector] for q in OFFERED]
    for q in OFFERED:
        assert page.locator("input[name=cluster]").and_(page.get_by_label(q.cluster)).count() == 1, q.cluster


@EVERY_QUESTIONNAIRE
def test_a_whole_assessment_with_javascript_closed_midway_and_resumed(browser, bundled_server: str, questionnaire: Offered, artefacts: Path, request):
    """With htmx: every answer autosaves. Halfway the SME takes "Continue later", closes the
    browser, and comes back through the private link. axe checks every page (on SQLite; the
    pages are the same on PostgreSQL)."""
    database = database_of(request)
    context = browser.new_context(bypass_csp=True, viewport=JS_VIEWPORT)
    journey = Journey(context.new_page(), artefacts, f"journey-js-{questionnaire.id}-{database}", keys=True, axe=database == "sqlite")
    start(journey, bundled_server, questionnaire, questionnaire.company)
    stopped = finish(journey, stop_after=len(questionnaire.compiled.sections) // 2)
    assert journey.page.locator("#save-status").inner_text() == "Saved."
    context = leave_and_come_back(journey, browser, stopped, bypass_csp=True, viewport=JS_VIEWPORT)
    finish(journey)
    submit_and_check_results(journey, questionnaire, questionnaire.company)
    context.close()


@EVERY_QUESTIONNAIRE
def test_a_whole_assessment_without_javascript_on_the_narrowest_phone(browser, bundled_server: str, questionnaire: Offered, artefacts: Path, request):
    """Plain forms and redirects only, at 320 px: every page fits the screen. Halfway the SME
    leaves and comes back through the private link, as with JavaScript."""
    database = database_of(request)
    company = questionnaire.plain_company
    context = browser.new_context(java_script_enabled=False, viewport=NARROWEST_PHONE)
    journey = Journey(context.new_page(), artefacts, f"journey-nojs-{questionnaire.id}-{database}", keys=False, axe=False, narrow=True)
    start(journey, bundled_server, questionnaire, company)
    stopped = finish(journey, stop_after=len(questionnaire.compiled.sections) // 2)
    context = leave_and_come_back(journey, browser, stopped, java_script_enabled=False, viewport=NARROWEST_PHONE)
    finish(journey)
    # The review open in a second tab too: its submit button is the second submit.
    second = context.new_page()
    second.goto(journey.page.url)
    submit_and_check_results(journey, questionnaire, company)
    second.get_by_role("button", name="Submit and see my results").click()
    assert second.get_by_role("heading", level=1).inner_text() == "This cannot be done now"
    assert "This assessment has already been submitted, so its answers can no longer change." in second.content()
    second.get_by_role("link", name="See your results").click()
    assert second.url == journey.page.url
    context.close()


def tab_to(page, selector: str, limit: int = 60) -> None:
    """Press Tab until the focus is on an element matching ``selector``; every element the
    focus passes shows a focus outline."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        style = page.evaluate("(() => { const e = document.activeElement; const s = getComputedStyle(e); return [e.tagName, s.outlineStyle, s.outlineWidth]; })()")
        assert style[1] != "none" and style[2] != "0px", f"no visible focus on a {style[0]}"
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def enter(page) -> None:
    """Enter on the focused button, and the page it loads."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


@SQLITE_ONLY
def test_the_first_pages_work_with_the_keyboard_alone(page, bundled_server: str):
    page.goto(f"{bundled_server}/start")
    tab_to(page, "input[name=cluster]")
    page.keyboard.press("ArrowDown")  # the second cluster
    tab_to(page, "input[name=q]")
    page.keyboard.press("Space")
    tab_to(page, "button[type=submit]")
    enter(page)
    tab_to(page, "#f-accept")
    page.keyboard.press("Space")
    tab_to(page, "button[type=submit]")
    enter(page)
    tab_to(page, "#f-name")
    page.keyboard.type("Keyboard Ltd")
    tab_to(page, "input[name=size]")
    page.keyboard.press("Space")
    tab_to(page, "button[type=submit]")
    enter(page)
    assert page.url.endswith("/s/company_section")
    tab_to(page, "#f-employees")
    page.keyboard.type("12")
    tab_to(page, "input[name=value_chain_role]")
    page.keyboard.press("Space")
    tab_to(page, "input[name=turnover_trend]")
    page.keyboard.press("ArrowDown")
    settle(page)
    assert page.locator("#save-status").inner_text() == "Saved."
    assert page.locator("input[name=turnover_trend]:checked").get_attribute("value") == "grown"
    tab_to(page, "button[value=next]")
    enter(page)
    assert page.url.endswith("/s/dma_strategy")
    assert page.get_by_role("heading", level=1).inner_text() == "Digital business strategy"


@SQLITE_ONLY
def test_the_flow_runs_under_the_content_security_policy(page, bundled_server: str):
    """htmx at work on the flow's pages, with the policy enforced: no refused script or
    style, no error."""
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{bundled_server}/start")
    page.get_by_label("Cluj IT").check()
    page.get_by_label("IT and software").check()
    page.get_by_label("Română").check()
    page.get_by_role("button").click()
    page.get_by_role("checkbox").nth(1).check()
    page.get_by_role("button").first.click()
    page.locator("#f-name").fill("Cluj Soft SRL")
    page.locator("#f-size-micro").check()
    page.locator("form button[type=submit]").click()
    assert page.locator("html").get_attribute("lang") == "ro"
    page.locator("input[name=value_chain_role]").first.check()
    settle(page)
    assert page.locator("#save-status").inner_text() != ""
    assert problems == []


@SQLITE_ONLY
def test_error_summaries_inline_errors_and_error_pages_are_accessible(a11y_page, bundled_server: str, artefacts: Path):
    page = a11y_page
    page.goto(f"{bundled_server}/start?q=furniture%3Afurniture&cluster=did&lang=en")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("I have read this privacy notice and accept it.").check()
    page.get_by_role("button", name="Continue").click()
    # No name and a malformed e-mail address: the summary links to both fields.
    page.get_by_label("E-mail address").fill("not-an-address")
    page.locator("form").evaluate("form => form.noValidate = true")
    page.get_by_role("button", name="Start the questionnaire").click()
    summary = page.get_by_role("alert")
    assert summary.get_by_role("link", name="Enter the name of your company.").get_attribute("href") == "#f-name"
    page.screenshot(path=artefacts / "errors-company.png", full_page=True)
    assert_accessible(page)
    summary.get_by_role("link", name="Enter the name of your company.").click()
    assert page.evaluate("document.activeElement.id") == "f-name"
    page.get_by_label("Company name").fill("Errors Ltd")
    page.get_by_label("E-mail address").fill("")
    page.get_by_label("Micro").check()
    page.get_by_role("button", name="Start the questionnaire").click()
    # An answer the server refuses, shown at its question by htmx.
    page.locator("#f-employees").fill("-5")
    page.locator("#f-employees").press("Tab")
    page.wait_for_selector("#err-employees")
    assert page.locator("#save-status").inner_text() == "Not saved: see the message at the question."
    assert page.locator("#f-employees").get_attribute("aria-invalid") == "true"
    page.screenshot(path=artefacts / "errors-inline.png", full_page=True)
    assert_accessible(page)
    response = page.goto(f"{bundled_server}/a/{'x' * 32}/s/company_section")
    assert response.status == 404
    page.screenshot(path=artefacts / "errors-404.png", full_page=True)
    assert_accessible(page)
