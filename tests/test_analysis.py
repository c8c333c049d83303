"""The sector analysis and the downloads of the workspace, on SQLite and PostgreSQL: the
figures the database aggregates are checked against the stored profiles, counted here in
Python the slow way."""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import random

import msgspec
import pytest
from litestar.testing import TestClient
from openpyxl import load_workbook
from sqlalchemy import select, true

from assessment import responses
from assessment.analysis import DMA_DIMENSIONS, Labels, Scope, analyse
from assessment.compile import BUNDLED, load_bundled
from assessment.db import create_engine, session_factory
from assessment.models import Assessment, QuestionnaireVersion, Result, store_questionnaire_version
from assessment.seed import seed_assessments
from scoring.synthetic import TendencyAnswers
from tests.conftest import run_coroutine
from tests.workspace import add_user, sign_in, workspace_settings
from web.app import create_app

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
SEEDED = 160
ORGANISER = "organiser@recentre.example"
ADVISOR = "advisor@did.example"


@pytest.fixture(scope="module")
def bundled():
    return {c.id: c for c in load_bundled()}


async def _with_session(url: str, work):
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            return await work(session)
    finally:
        await engine.dispose()


def in_database(url: str, work):
    """Run ``work(session)`` in a transaction on ``url`` and return what it returns."""
    return run_coroutine(_with_session(url, work))


@pytest.fixture
def settings(database_url: str, tmp_path: Path):
    """A migrated database with an organiser and two advisors, and no assessment."""
    settings = workspace_settings(database_url, BUNDLED, tmp_path / "data")
    add_user(database_url, ORGANISER, "organiser")
    add_user(database_url, ADVISOR, "advisor", "did")
    return settings


@pytest.fixture
def seeded(settings, bundled):
    """``settings``, with SEEDED assessments of every cluster and sector."""

    async def seed():
        engine = create_engine(settings.database_url)
        try:
            await seed_assessments(engine, list(bundled.values()), SEEDED, seed=7, now=NOW)
        finally:
            await engine.dispose()

    run_coroutine(seed())
    return settings


@pytest.fixture
def client(settings):
    with TestClient(app=create_app(settings)) as client:
        yield client


def signed_in(client: TestClient, email: str) -> TestClient:
    assert sign_in(client, email).status_code == 303
    return client


def stored(url: str) -> list[tuple[Assessment, dict]]:
    """Every submitted assessment with its current profile."""

    async def read(session):
        rows = await session.execute(
            select(Assessment, Result.profile).join(Result, (Result.assessment_id == Assessment.id) & Result.current.is_(True)).where(Assessment.status == "submitted")
        )
        return [(a, msgspec.json.decode(p)) for a, p in rows]

    return in_database(url, read)


def expected_figures(rows: list[tuple[Assessment, dict]]) -> dict:
    """The analysis counted from the profiles, one SME at a time."""
    scores: dict[str, list[float]] = {}
    levels: Counter = Counter()
    gaps: Counter = Counter()
    demand: Counter = Counter()
    for _, profile in rows:
        for d, v in profile["dimensions"].items():
            if v["score"] is not None:
                scores.setdefault(d, []).append(v["score"])
                levels[d, v["level"]] += 1
        gaps.update(profile["gaps"])
        refs = {("instrument", i) for r in profile["recommendations"] for i in r["instruments"]}
        refs |= {("training", t) for r in profile["recommendations"] for t in r["training"]}
        demand.update(refs)
    return {"scores": scores, "levels": levels, "gaps": gaps, "demand": demand, "smes": len(rows)}


def quantile(values: list[float], q: float) -> int:
    ordered = sorted(values)
    return math.floor(ordered[max(1, math.ceil(q * len(ordered))) - 1])


def analysis_of(url: str, scope: Scope):
    labels = Labels.of(load_bundled())
    return in_database(url, lambda session: analyse(session, scope, labels))


def assert_matches(analysis, expected: dict) -> None:
    assert analysis.smes == expected["smes"]
    by_id = {d.dimension: d for d in analysis.dimensions}
    assert set(by_id) == set(expected["scores"])
    for d, values in expected["scores"].items():
        summary = by_id[d]
        assert summary.scored == len(values)
        assert summary.mean == pytest.approx(sum(values) / len(values))
        assert summary.buckets == [sum(1 for v in values if min(9, int(v // 10)) == i) for i in range(10)]
        assert [summary.quantile(q) for q in (0.25, 0.5, 0.75)] == [quantile(values, q) for q in (0.25, 0.5, 0.75)]
        assert summary.levels == {level: n for (dim, level), n in expected["levels"].items() if dim == d}
        assert summary.bottom_three == expected["gaps"][d]
    assert {(x.kind, x.ref): x.smes for x in analysis.demand} == dict(expected["demand"])


# --- The figures ----------------------------------------------------------------------------


def test_the_figures_are_those_of_the_stored_profiles(seeded):
    rows = stored(seeded.database_url)
    assert len(rows) == SEEDED
    assert_matches(analysis_of(seeded.database_url, Scope(true())), expected_figures(rows))


def test_a_sector_and_a_cluster(seeded):
    rows = [(a, p) for a, p in stored(seeded.database_url) if a.sector == "furniture" and a.cluster == "did"]
    assert len(rows) >= 10
    analysis = analysis_of(seeded.database_url, Scope(true(), sector="furniture", cluster="did"))
    assert_matches(analysis, expected_figures(rows))
    assert analysis.counts == {("furniture", "did"): len(rows)}


def test_the_most_common_gaps_come_first(seeded):
    analysis = analysis_of(seeded.database_url, Scope(true()))
    gaps = analysis.gaps()
    assert len(gaps) == 5
    assert [g.bottom_three for g in gaps] == sorted((d.bottom_three for d in analysis.dimensions), reverse=True)[:5]


def test_drafts_and_earlier_results_do_not_count(seeded, bundled):
    url = seeded.database_url
    before = expected_figures(stored(url))

    async def draft_and_rescore(session):
        compiled = bundled["it"]
        version = await store_questionnaire_version(session, compiled)
        draft, _ = await responses.create_assessment(session, version, language="en", cluster="did", sector="it", share_with_advisors=True)
        await responses.save_answers(session, draft, compiled, {"employees": 12})
        assessment = await session.scalar(select(Assessment).where(Assessment.questionnaire_id == "it").limit(1))
        await responses.rescore(session, assessment, await session.get(QuestionnaireVersion, assessment.questionnaire_version_id), compiled)

    in_database(url, draft_and_rescore)
    after = analysis_of(url, Scope(true()))
    assert after.smes == before["smes"] == SEEDED
    assert_matches(after, before)


# --- The page -------------------------------------------------------------------------------


def test_the_page_shows_charts_with_text_and_tables(client, seeded):
    page = signed_in(client, ORGANISER).get("/workspace/analysis")
    assert page.status_code == 200
    text = page.text
    assert f"<strong>{SEEDED}</strong> SMEs" in text
    assert text.count('role="img"') >= 10
    assert '<title id="hist-strategy-title">Digital business strategy: SMEs per 10-point band of the score</title>' in text
    assert '<desc id="hist-strategy-desc">0: ' in text
    assert "Most common gaps" in text and "Innovation vouchers" in text and "Training topics" in text
    assert 'style="' not in text  # the Content-Security-Policy allows no inline style


def test_an_advisor_sees_the_shared_assessments_of_their_cluster_only(client, seeded):
    rows = [(a, p) for a, p in stored(seeded.database_url) if a.cluster == "did" and a.share_with_advisors]
    signed_in(client, ADVISOR)
    smes = client.get("/workspace/analysis.csv?part=smes")
    table = list(csv.reader(io.StringIO(smes.text.lstrip("\ufeff"))))
    assert table[0] == ["Sector", "Cluster", "SMEs"]
    assert {row[1] for row in table[1:]} == {"did"}
    assert sum(int(row[2]) for row in table[1:]) == len(rows)
    page = client.get("/workspace/analysis")
    assert f"<strong>{len(rows)}</strong> SMEs" in page.text
    assert 'name="cluster"' not in page.text


def test_another_cluster_in_the_filter_shows_an_advisor_nothing(client, seeded):
    signed_in(client, ADVISOR)
    page = client.get("/workspace/analysis?cluster=cenfim")
    assert page.status_code == 200 and "No submitted assessment matches" in page.text
    dma = client.get("/workspace/analysis.csv?part=dma&cluster=cenfim")
    assert dma.status_code == 200 and len(dma.text.strip().splitlines()) == 1


def test_a_new_submission_shows_at_once(client, seeded, bundled):
    signed_in(client, ORGANISER)
    assert f"<strong>{SEEDED}</strong> SMEs" in client.get("/workspace/analysis").text

    async def submit_one(session):
        compiled = bundled["energy"]
        version = await store_questionnaire_version(session, compiled)
        assessment, _ = await responses.create_assessment(session, version, language="en", cluster="cenfim", sector="energy", share_with_advisors=False)
        company = responses.company_of(assessment)
        answers = TendencyAnswers(compiled).draw(random.Random(1), company, {d: 0.5 for d in compiled.dimensions})
        await responses.save_answers(session, assessment, compiled, answers)
        await responses.submit(session, assessment, compiled)

    in_database(seeded.database_url, submit_one)
    assert f"<strong>{SEEDED + 1}</strong> SMEs" in client.get("/workspace/analysis").text


BAD_FILTERS = [
    "sector=furniture'%20OR%20'1'='1",
    "sector=%3Cscript%3Ealert(1)%3C/script%3E",
    "cluster=did;DROP%20TABLE%20assessment",
    "cluster=%22%3E%3Csvg%20onload=alert(1)%3E",
    "sector=" + "a" * 5000,
    "sector=%00",
]


@pytest.mark.parametrize("query", BAD_FILTERS)
def test_bad_filter_values_get_a_400_and_are_not_echoed(client, query):
    signed_in(client, ORGANISER)
    for path in ("/workspace/analysis", "/workspace/analysis.csv", "/workspace/analysis.xlsx"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400, path
        assert "<script>" not in response.text and "onload=alert" not in response.text and "DROP TABLE" not in response.text
    in_database(client.app.state.settings.database_url, lambda s: s.scalar(select(Assessment.id).limit(1)))  # still there


@pytest.mark.parametrize("path", ["/workspace/analysis", "/workspace/analysis.csv", "/workspace/analysis.xlsx", "/workspace/assessments.csv", "/workspace/assessments.xlsx"])
def test_signed_out_visitors_get_401(client, path):
    assert client.get(path).status_code == 401


# --- Downloads ------------------------------------------------------------------------------


def read_csv(response) -> list[dict]:
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment; filename=\"recentre-")
    return list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))


def test_the_dma_sheet_has_the_plain_mean_of_the_six_dma_dimensions(client, seeded):
    rows = {a.id: p for a, p in stored(seeded.database_url)}
    signed_in(client, ORGANISER)
    table = read_csv(client.get("/workspace/analysis.csv?part=dma"))
    assert len(table) == SEEDED
    for row in table:
        profile = rows[int(row["Assessment"])]
        scores = [profile["dimensions"][d]["score"] for d in DMA_DIMENSIONS]
        assert float(row["DMA Score"]) == pytest.approx(round(sum(scores) / 6, 2))
        assert float(row["Digital Business Strategy"]) == pytest.approx(scores[0])
        assert row["Company name"]


def test_the_analysis_workbook_has_every_table_and_the_dma_sheet(client, seeded):
    signed_in(client, ORGANISER)
    response = client.get("/workspace/analysis.xlsx?sector=it")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Dimensions", "Histogram", "Gaps", "Demand", "SMEs", "EDIH DMA"]
    dma = list(book["EDIH DMA"].values)
    assert dma[0][:8] == ("Assessment", "Company name", "Sector", "Cluster", "Country", "Submitted (UTC)", "DMA Score", "Digital Business Strategy")
    assert {row[2] for row in dma[1:]} == {"it"}


def test_contact_details_only_where_the_company_agreed(client, seeded):
    shared = {a.id: a.share_with_advisors for a, _ in stored(seeded.database_url)}
    signed_in(client, ORGANISER)
    table = read_csv(client.get("/workspace/assessments.csv"))
    assert len(table) == SEEDED
    for row in table:
        if shared[int(row["Assessment"])]:
            assert row["Shares with advisors"] == "yes" and "@" in row["Contact email"]
        else:
            assert row["Shares with advisors"] == "no" and row["Contact email"] == row["Contact name"] == ""


def test_an_advisors_list_download_holds_their_clusters_shared_assessments(client, seeded):
    expected = {a.id for a, _ in stored(seeded.database_url) if a.cluster == "did" and a.share_with_advisors}
    signed_in(client, ADVISOR)
    assert {int(r["Assessment"]) for r in read_csv(client.get("/workspace/assessments.csv"))} == expected
    book = load_workbook(io.BytesIO(client.get("/workspace/assessments.xlsx").content))
    assert book.sheetnames == ["Assessments", "EDIH DMA"]
    assert {row[0] for row in list(book["Assessments"].values)[1:]} == expected
    assert {row[0] for row in list(book["EDIH DMA"].values)[1:]} == expected
    # The list's filters apply, and another cluster's filter gives nothing.
    assert read_csv(client.get("/workspace/assessments.csv?cluster=cenfim")) == []
    furniture = read_csv(client.get("/workspace/assessments.csv?sector=furniture"))
    assert furniture and {r["Sector"] for r in furniture} == {"furniture"}


@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil.example","Click")', "+1+2", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1"])
def test_names_that_look_like_formulas_stay_text(client, settings, bundled, name):
    async def named(session):
        compiled = bundled["it"]
        version = await store_questionnaire_version(session, compiled)
        assessment, _ = await responses.create_assessment(
            session, version, language="en", cluster="did", sector="it", share_with_advisors=True,
            company=responses.CompanyProfile(name=name, contact_name=name, contact_email="x@y.example"),
        )
        await responses.save_answers(session, assessment, compiled, {"employees": 3})
        await responses.submit(session, assessment, compiled)
        return assessment.id

    made = in_database(settings.database_url, named)
    signed_in(client, ORGANISER)
    rows = [r for r in read_csv(client.get("/workspace/assessments.csv")) if int(r["Assessment"]) == made]
    # Names are stored stripped, so "\t=1" is stored as "=1".
    assert rows[0]["Company"] == rows[0]["Contact name"] == "'" + name.strip()
    book = load_workbook(io.BytesIO(client.get("/workspace/assessments.xlsx").content))
    for sheet in ("Assessments", "EDIH DMA"):
        cells = [row for row in book[sheet].iter_rows(min_row=2) if row[0].value == made]
        assert cells[0][1].data_type == "s" and str(cells[0][1].value).startswith("'")


@pytest.mark.parametrize("query", ["part=../../etc/passwd", "part=%3Cscript%3E", "part=dma&sector=nope"])
def test_unknown_parts_and_filters_of_a_download_get_a_400(client, query):
    signed_in(client, ORGANISER)
    response = client.get(f"/workspace/analysis.csv?{query}")
    assert response.status_code == 400 and "<script>" not in response.text


@pytest.mark.parametrize("query", ["page=999999999999", "level=x'%20OR%201=1--", "q=" + "%25" * 200, "from=2026-13-45"])
def test_the_list_download_refuses_what_the_list_refuses(client, query):
    signed_in(client, ORGANISER)
    assert client.get(f"/workspace/assessments.csv?{query}").status_code == 400
