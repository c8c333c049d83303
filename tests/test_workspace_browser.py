"""An advisor's journey through the workspace in Debian's Chromium, on a served app: sign in,
find a member, review and annotate its results, compare T0 with T1; and axe-core's checks of
every workspace page."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect

from assessment.store.db import upgrade
from tests.a11y import assert_accessible
from tests.browser import NARROWEST_PHONE, no_horizontal_overflow, sign_in_as, watch_for_errors
from tests.live_server import recentre_served, sqlite_url
from tests.small_questionnaire import write_small_questionnaire
from tests.workspace import HIGH, LOW, MIDDLE, add_user, make_assessment

pytestmark = pytest.mark.browser

ADVISOR = "advisor@did.example"
ORGANISER = "organiser@recentre.example"


@pytest.fixture(scope="module")
def workspace_server(tmp_path_factory: pytest.TempPathFactory):
    """`recentre serve` on a database with accounts and members: Mobili Rossi assessed twice
    (T0, T1), two other companies of cluster did, one of cenfim."""
    home = tmp_path_factory.mktemp("workspace_server")
    questionnaires = home / "questionnaires"
    write_small_questionnaire(questionnaires)
    url = sqlite_url(home)
    # In a thread of its own: Playwright may already run an event loop in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(upgrade, url).result()
    t0 = make_assessment(url, questionnaires, name="Mobili Rossi", answers=LOW, contact_email="anna@rossi.example", created_at=datetime(2025, 11, 3, tzinfo=UTC))
    t1 = make_assessment(url, questionnaires, previous=t0.id, answers=HIGH)
    make_assessment(url, questionnaires, name="Bianchi Design", answers=MIDDLE)
    make_assessment(url, questionnaires, name="Arredo Bozza", submit=False)
    make_assessment(url, questionnaires, name="Muebles Garcia", cluster="cenfim", country="ES")
    add_user(url, ADVISOR, "advisor", "did")
    add_user(url, ORGANISER, "organiser")
    with recentre_served(home, url, questionnaires=questionnaires) as server:
        yield {"url": server.url, "t0": t0.id, "t1": t1.id}


def test_an_advisor_finds_a_member_annotates_its_results_and_compares_t0_with_t1(page, workspace_server, artefacts: Path):
    base = workspace_server["url"]
    problems = watch_for_errors(page)

    # Sign in: the workspace asks for it, then brings the advisor where they were going.
    sign_in_as(page, base, ADVISOR)
    assert page.get_by_role("heading", level=1).inner_text() == "Assessments"
    assert page.get_by_text("Signed in as advisor@did.example (advisor, dID – Distretto Interni e Design)").is_visible()
    assert page.get_by_role("link", name="Muebles Garcia").count() == 0  # another cluster's

    # Find the member: typing filters the list in place (htmx), and the address follows.
    page.get_by_label("Company").fill("rossi")
    expect(page).to_have_url(base + "/workspace?q=rossi")
    expect(page.locator("#results tbody tr")).to_have_count(2)
    page.screenshot(path=artefacts / "workspace-list.png", full_page=True)
    assert page.get_by_role("link", name="Bianchi Design").count() == 0

    # Review the latest assessment (T1): its results and their explanation.
    page.locator(f'a[href="/workspace/assessments/{workspace_server["t1"]}"]').click()
    expect(page).to_have_url(base + f"/workspace/assessments/{workspace_server['t1']}")  # the click only starts the navigation
    assert page.get_by_role("heading", level=1).inner_text().startswith("Mobili Rossi")
    assert page.get_by_text("this is T1").is_visible()
    assert page.get_by_role("heading", name="Recommendations").is_visible()
    page.get_by_text("Energy: 100.0").click()  # opens the explanation of a dimension
    assert page.get_by_role("cell", name="Yearly electricity use in kWh").is_visible()

    # Annotate: a note, then a step of the action plan.
    page.get_by_label("Text").fill("Owner wants to add a CNC line next year.")
    page.get_by_role("button", name="Add").click()
    assert page.locator("#notes ~ ul.notes").first.get_by_text("Owner wants to add a CNC line next year.").is_visible()
    page.get_by_label("Action plan step").check()
    page.get_by_label("Text").fill("Apply for an innovation voucher with an IT partner.")
    page.get_by_role("button", name="Add").click()
    plan = page.locator("#plan + ul.notes")
    assert plan.get_by_text("Apply for an innovation voucher with an IT partner.").is_visible()
    assert plan.get_by_text("advisor@did.example").is_visible()
    page.screenshot(path=artefacts / "workspace-assessment.png", full_page=True)

    # Compare T0 with T1.
    page.get_by_role("link", name="Progress over time").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Progress of Mobili Rossi"
    energy = page.get_by_role("row", name="Energy")
    assert energy.get_by_role("cell").all_inner_texts() == ["0.0", "100.0", "+100.0"]
    page.screenshot(path=artefacts / "workspace-history.png", full_page=True)

    # Sign out: the workspace asks to sign in again.
    page.get_by_role("button", name="Sign out").click()
    page.goto(base + "/workspace")
    assert page.get_by_role("button", name="Sign in").is_visible()
    assert problems == []


def test_filters_work_without_javascript(browser, workspace_server):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in_as(page, workspace_server["url"], ADVISOR)
        page.get_by_label("Status").select_option("draft")
        page.get_by_role("button", name="Show").click()
        assert "status=draft" in page.url
        assert page.locator("#results tbody tr").count() == 1
        assert page.get_by_role("link", name="Arredo Bozza").is_visible()
    finally:
        context.close()


def test_the_list_fits_the_narrowest_phone(page, workspace_server, artefacts: Path):
    page.set_viewport_size(NARROWEST_PHONE)
    sign_in_as(page, workspace_server["url"], ADVISOR)
    page.screenshot(path=artefacts / "workspace-list-320.png", full_page=True)
    overflow = no_horizontal_overflow(page)
    assert overflow <= 0, f"the page is {overflow}px wider than a 320px screen"


@pytest.mark.parametrize(
    "path",
    [
        "/workspace/login",
        "/workspace",
        "/workspace?status=nonsense",
        "/workspace/assessments/{t1}",
        "/workspace/assessments/{t1}/history",
        "/workspace/password",
        "/workspace/library",
        "/workspace/library/small",
    ],
)
def test_workspace_pages_have_no_accessibility_violations(a11y_page, workspace_server, path):
    base = workspace_server["url"]
    if path != "/workspace/login":
        sign_in_as(a11y_page, base, ORGANISER)
    a11y_page.goto(base + path.format(**workspace_server))
    assert_accessible(a11y_page)
