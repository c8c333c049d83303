"""A Bulgarian SME's whole journey through the bundled furniture questionnaire in Chromium:
the browser asks for Bulgarian, the start page preselects it, and every page after it is in
Bulgarian, up to the results and their PDF. Labels are looked up in the catalogs and the
questionnaire's YAML, so the test follows their wording."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin

import pytest

from questionnaires.compile import BUNDLED, compile_questionnaire
from scoring.render.i18n import translations
from scoring.render.labels import Labels
from tests.browser import SQLITE_ONLY, Journey, unanswered

pytestmark = pytest.mark.browser

CYRILLIC = re.compile(r"[\u0400-\u04FF]{4,}")
# Labels of the SME's pages whose English must not show once the page is in Bulgarian.
ENGLISH_LABELS = (
    "Skip to content",
    "Your results",
    "Download the report (PDF)",
    "Strengths and gaps",
    "Your profile by dimension",
    "Twin-transition matrix",
    "Recommendations",
    "Start a re-assessment",
)


@SQLITE_ONLY
def test_a_whole_furniture_assessment_in_bulgarian(browser, bundled_server: str, artefacts: Path):
    bg = translations("bg").gettext
    furniture = compile_questionnaire(BUNDLED / "furniture.yaml")
    context = browser.new_context(locale="bg-BG", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    journey = Journey(page, artefacts, "journey-bg", keys=True, axe=False)

    page.goto(bundled_server)
    assert page.locator("html").get_attribute("lang") == "bg"
    journey.check("landing")
    page.get_by_role("link", name=bg("Start the self-assessment")).click()
    # Accept-Language (bg-BG) is the first guess: Bulgarian is preselected.
    assert page.locator("#f-lang-bg").is_checked()
    journey.check("start")
    journey.press(page.get_by_label(Labels("bg").cluster("green_synergy")))
    journey.press(page.get_by_label(Labels("bg").sector("furniture")))
    journey.press(page.get_by_role("button", name=bg("Continue")), "Enter")
    journey.check("privacy")
    journey.press(page.get_by_label(bg("I have read this privacy notice and accept it.")))
    journey.press(page.get_by_role("button", name=bg("Continue")), "Enter")
    journey.check("company")
    page.get_by_label(bg("Company name")).fill("Мебели Иванов ООД")
    journey.press(page.get_by_label(bg("Small"), exact=True))
    journey.press(page.get_by_role("button", name=bg("Start the questionnaire")), "Enter")

    sections = 0
    while "/s/" in page.url:
        assert page.locator("html").get_attribute("lang") == "bg"
        assert journey.answer_page() > 0
        sections += 1
        journey.check(f"section-{sections:02d}")
        journey.press(page.locator('button[name="action"][value="next"]'), "Enter")
    assert sections >= 10 and page.url.endswith("/review")
    assert unanswered(page) == []
    journey.check("review")
    journey.press(page.get_by_role("button", name=bg("Submit and see my results")), "Enter")

    assert page.url.endswith("/results")
    journey.check("results")
    assert page.locator("html").get_attribute("lang") == "bg"
    assert page.get_by_role("heading", level=1).inner_text() == f"{bg('Your results')}: Мебели Иванов ООД"
    text = page.locator("body").inner_text()
    strategy = furniture.dimensions["strategy"].title.get("bg")
    assert strategy != furniture.dimensions["strategy"].title.get("en") and strategy in text
    assert bg("Strengths and gaps") in text and len(CYRILLIC.findall(text)) > 100
    assert [label for label in ENGLISH_LABELS if label in text] == []
    report = page.request.get(urljoin(page.url, page.get_by_role("link", name=bg("Download the report (PDF)")).get_attribute("href")))
    assert report.ok and report.headers["content-type"] == "application/pdf" and report.body().startswith(b"%PDF")
    context.close()
