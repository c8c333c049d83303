"""The sector analysis, its downloads and the partners page in Debian's Chromium, on a served
app with seeded assessments of the bundled questionnaires: an organiser's and an advisor's
journeys, the narrowest phone, the Content-Security-Policy, and axe-core's checks."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from openpyxl import load_workbook

from assessment.store.db import upgrade
from tests.a11y import assert_accessible
from tests.browser import NARROWEST_PHONE, no_horizontal_overflow, sign_in_as, watch_for_errors
from tests.database import run_coroutine
from tests.live_server import recentre_served, sqlite_url
from tests.workspace import add_user

pytestmark = pytest.mark.browser

ADVISOR = "advisor@did.example"
ORGANISER = "organiser@recentre.example"


async def _seed(url: str) -> int:
    from sqlalchemy import select

    from assessment.store.db import create_engine, session_factory
    from assessment.store.models import Assessment, Result
    from assessment.workspace.seed import seed_assessments
    from questionnaires.compile import load_bundled

    engine = create_engine(url)
    try:
        await seed_assessments(engine, list(load_bundled()), 300, seed=3)
        async with session_factory(engine)() as session:
            # The weakest furniture member of did that shares its results: the advisor's
            # example, with gaps for partners to fill.
            return await session.scalar(
                select(Assessment.id)
                .join(Result, (Result.assessment_id == Assessment.id) & Result.current.is_(True))
                .where(Assessment.cluster == "did", Assessment.sector == "furniture", Assessment.share_with_advisors.is_(True))
                .order_by(Result.overall, Assessment.id)
                .limit(1)
            )
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def analysis_server(tmp_path_factory: pytest.TempPathFactory):
    """`recentre serve` offering the bundled questionnaires, on a database with 300 seeded
    assessments, an advisor of did and an organiser."""
    home = tmp_path_factory.mktemp("analysis_server")
    url = sqlite_url(home)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(upgrade, url).result()
    member = run_coroutine(_seed(url))
    add_user(url, ADVISOR, "advisor", "did")
    add_user(url, ORGANISER, "organiser")
    with recentre_served(home, url) as server:
        yield {"url": server.url, "member": member}


def test_an_organiser_reads_a_sectors_analysis_and_downloads_it(page, analysis_server, artefacts: Path):
    base = analysis_server["url"]
    problems = watch_for_errors(page)
    sign_in_as(page, base, ORGANISER)
    page.get_by_role("link", name="Sector analysis").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Sector analysis"
    assert page.get_by_text("companies (300 assessments).").is_visible()  # a company assessed twice counts once

    page.get_by_label("Sector", exact=True).select_option("furniture")
    page.get_by_label("Cluster", exact=True).select_option("did")
    page.get_by_role("button", name="Show").click()
    assert "sector=furniture" in page.url and "cluster=did" in page.url
    # Every chart is an image with a name a screen reader reads.
    charts = page.get_by_role("img")
    assert charts.count() >= 20
    assert page.get_by_role("img", name="Digital business strategy: SMEs per 10-point band of the score").is_visible()
    assert page.get_by_role("heading", name="Most common gaps").is_visible()
    assert page.get_by_role("heading", name="Innovation vouchers").is_visible()
    page.screenshot(path=artefacts / "analysis-furniture-did.png", full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="all tables (XLSX)").click()
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert "EDIH DMA" in book.sheetnames
    assert {row[2] for row in list(book["EDIH DMA"].values)[1:]} == {"furniture"}
    with page.expect_download() as download:
        page.get_by_role("link", name="sector report (PDF)").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    assert download.value.suggested_filename.startswith("recentre-sector-report-furniture-did-")
    assert problems == []


def test_an_advisor_finds_partners_for_a_member(page, analysis_server, artefacts: Path):
    base = analysis_server["url"]
    problems = watch_for_errors(page)
    sign_in_as(page, base, ADVISOR, f"/workspace/assessments/{analysis_server['member']}")
    page.get_by_role("link", name="Partners for an innovation-voucher project").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Partners for an innovation-voucher project"
    reasons = page.locator(".partners .reason")
    assert reasons.count() > 0
    assert reasons.first.inner_text().startswith("Strong where you have gaps: ")
    page.screenshot(path=artefacts / "partners.png", full_page=True)
    # A suggested partner's own page opens: it is one the advisor may see.
    page.locator(".partners a").first.click()
    assert page.get_by_role("heading", level=1).is_visible()
    assert problems == []


def test_the_analysis_fits_the_narrowest_phone(page, analysis_server, artefacts: Path):
    page.set_viewport_size(NARROWEST_PHONE)
    sign_in_as(page, analysis_server["url"], ORGANISER, "/workspace/analysis")
    page.screenshot(path=artefacts / "analysis-320.png", full_page=True)
    overflow = no_horizontal_overflow(page)
    assert overflow <= 0, f"the page is {overflow}px wider than a 320px screen"


@pytest.mark.parametrize("path", ["/workspace/analysis", "/workspace/analysis?sector=it", "/workspace/analysis?sector=nope", "/workspace/assessments/{member}/partners"])
def test_analysis_pages_have_no_accessibility_violations(a11y_page, analysis_server, path):
    base = analysis_server["url"]
    sign_in_as(a11y_page, base, ORGANISER)
    a11y_page.goto(base + path.format(**analysis_server))
    assert_accessible(a11y_page)
