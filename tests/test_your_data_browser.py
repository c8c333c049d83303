"""An SME's data in Debian's Chromium, on a served app: from its results to *Your data*, a
withdrawal the advisor sees at once, the download, a re-assessment that asks again, erasure
after its confirmation; and an organiser erasing a company from the workspace."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import expect

from assessment.store.db import upgrade
from tests.a11y import assert_accessible
from tests.browser import sign_in_as, watch_for_errors
from tests.live_server import recentre_served, sqlite_url
from tests.small_questionnaire import write_small_questionnaire
from tests.workspace import HIGH, LOW, add_user, make_assessment

pytestmark = pytest.mark.browser

ADVISOR = "advisor@did.example"
ORGANISER = "organiser@recentre.example"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("your_data_server")
    questionnaires = home / "questionnaires"
    write_small_questionnaire(questionnaires)
    url = sqlite_url(home)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(upgrade, url).result()
    rossi = make_assessment(url, questionnaires, name="Mobili Rossi", answers=HIGH, contact_email="anna@rossi.example")
    bianchi = make_assessment(url, questionnaires, name="Bianchi Design", answers=LOW)
    bianchi_t1 = make_assessment(url, questionnaires, previous=bianchi.id, answers=HIGH)
    add_user(url, ADVISOR, "advisor", "did")
    add_user(url, ORGANISER, "organiser")
    with recentre_served(home, url, questionnaires=questionnaires, env={"RECENTRE_RETAIN_DRAFT_DAYS": "90"}) as server:
        yield {"url": server.url, "rossi": rossi, "bianchi": bianchi, "bianchi_t1": bianchi_t1}


def test_an_sme_withdraws_downloads_reassesses_and_erases(browser, served, artefacts: Path):
    base, rossi = served["url"], served["rossi"]
    advisor = browser.new_page()
    sign_in_as(advisor, base, ADVISOR)
    assert advisor.get_by_role("link", name="Mobili Rossi").count() == 1

    # The Content-Security-Policy bypassed for axe-core alone, as the a11y_page fixture does.
    sme = browser.new_context(bypass_csp=True, accept_downloads=True).new_page()
    problems = watch_for_errors(sme)
    sme.goto(f"{base}/a/{rossi.token}/results")
    sme.get_by_role("link", name="Your data: download, sharing, erasure").click()
    expect(sme.get_by_role("heading", level=1)).to_have_text("Your data")
    assert "erased 90 days after your last change" in sme.locator("main").inner_text()
    assert_accessible(sme)
    # Withdraw: the advisor's next page no longer shows the company.
    share = sme.get_by_label("The advisors of dID – Distretto Interni e Design may see my results, answers and contact details.")
    expect(share).to_be_checked()
    share.uncheck()
    sme.get_by_role("button", name="Save my choice").click()
    expect(sme.get_by_role("status")).to_contain_text("no longer see your assessment")
    advisor.reload()
    assert advisor.get_by_role("link", name="Mobili Rossi").count() == 0
    # The download.
    with sme.expect_download() as download:
        sme.get_by_role("link", name="Download (JSON)").click()
    data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert data["company"]["name"] == "Mobili Rossi" and data["assessment"]["share_with_advisors"] is False
    # A re-assessment asks for the notice and the sharing again.
    sme.goto(f"{base}/a/{rossi.token}/results")
    sme.get_by_role("link", name="Start a re-assessment").click()
    expect(sme.get_by_role("heading", level=1)).to_have_text("Assess again: your data and who sees it")
    sme.get_by_role("button", name="Start the re-assessment").click()
    expect(sme.get_by_text("Accept the privacy notice to continue").first).to_be_visible()
    sme.get_by_label("I have read this privacy notice and accept it.").check()
    sme.get_by_role("button", name="Start the re-assessment").click()
    sme.wait_for_url(lambda url: "/s/" in url)
    t1_link = sme.url.split("/s/")[0]
    # Erase the T1: refused without the box, done with it; the link then opens nothing.
    sme.goto(f"{t1_link}/data")
    sme.get_by_role("link", name="Erase this assessment…").click()
    expect(sme.get_by_role("heading", level=1)).to_have_text("Erase your assessment?")
    assert_accessible(sme)
    sme.get_by_role("button", name="Erase for good").click()
    expect(sme.get_by_text("Tick the box to confirm").first).to_be_visible()
    sme.get_by_label("Yes, erase this assessment and everything stored with it.").check()
    sme.get_by_role("button", name="Erase for good").click()
    expect(sme.get_by_role("heading", level=1)).to_have_text("Assessment erased")
    sme.screenshot(path=artefacts / "your-data-erased.png", full_page=True)
    assert sme.goto(t1_link).status == 404
    assert sme.goto(f"{base}/a/{rossi.token}/results").status == 200  # T0 stays
    assert problems == []


def test_an_organiser_erases_a_company_from_the_workspace(a11y_page, served):
    page = a11y_page
    base = served["url"]
    sign_in_as(page, base, ORGANISER, f"/workspace/assessments/{served['bianchi_t1'].id}")
    page.get_by_role("link", name="Erase…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Erase assessments of Bianchi Design")
    assert_accessible(page)
    page.get_by_label("All 2 assessments of this company").check()
    page.get_by_label("I confirm: erase them for good.").check()
    page.get_by_role("button", name="Erase", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Erased: 2 assessment(s), with their answers, results and notes.")
    assert page.get_by_role("link", name="Bianchi Design").count() == 0
    assert page.goto(f"{base}/workspace/assessments/{served['bianchi'].id}").status == 404
