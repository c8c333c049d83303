"""The sector analysis and the downloads of the workspace, on SQLite and PostgreSQL: the
figures the database aggregates are checked against the stored profiles, counted here in
Python the slow way."""

from __future__ import annotations

import csv
import gettext
import io
import math
import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from litestar.testing import TestClient
from markupsafe import escape
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import delete, func, select, true

from assessment.store import responses
from assessment.store.db import create_engine
from assessment.store.models import Assessment, QuestionnaireVersion, Result
from assessment.workspace.analysis import Labels, Scope, analyse
from assessment.workspace.seed import seed_assessments
from questionnaires.compile import BUNDLED, load_bundled
from questionnaires.reference import DMA_DIMENSIONS
from scoring.render import i18n
from scoring.render.i18n import format_score
from scoring.render.labels import Labels as ReportLabels
from scoring.synthetic import TendencyAnswers
from tests.assessments import stored_assessment
from tests.database import in_database, in_sessions, latest_of_each_company, run_coroutine, submitted_profiles
from tests.workspace import add_user, sign_in, workspace_settings
from web.app import create_app
from web.languages import LANGUAGE_COOKIE

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SEEDED = 160
ORGANISER = "organiser@recentre.example"
ADVISOR = "advisor@did.example"


@pytest.fixture(scope="module")
def bundled():
    return {c.id: c for c in load_bundled()}


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


def expected_figures(rows: list[tuple[Assessment, dict]]) -> dict:
    """The analysis counted from the profiles of ``rows`` (one a company), one at a time."""
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


def companies(url: str, keep=lambda assessment: True) -> list[tuple[Assessment, dict]]:
    """Each company's latest submitted assessment among those ``keep`` keeps, with its profile."""
    return latest_of_each_company([(a, p) for a, p in submitted_profiles(url) if keep(a)])


def test_the_figures_are_those_of_the_stored_profiles(seeded):
    rows = submitted_profiles(seeded.database_url)
    assert len(rows) == SEEDED
    latest = latest_of_each_company(rows)
    assert len(latest) < SEEDED  # the seed assesses some companies twice, T0 then T1
    analysis = analysis_of(seeded.database_url, Scope(true()))
    assert_matches(analysis, expected_figures(latest))
    assert (analysis.smes, analysis.assessments) == (len(latest), SEEDED)


def test_a_sector_and_a_cluster(seeded):
    rows = companies(seeded.database_url, lambda a: a.sector == "furniture" and a.cluster == "did")
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
    before = expected_figures(companies(url))

    async def draft(sessions):
        compiled = bundled["it"]
        await stored_assessment(sessions, compiled, {"employees": 12}, submit=False, language="en", cluster="did", sector="it", share_with_advisors=True)

    async def rescore(session):
        assessment = await session.scalar(select(Assessment).where(Assessment.questionnaire_id == "it").limit(1))
        await responses.rescore(session, assessment, await session.get(QuestionnaireVersion, assessment.questionnaire_version_id), bundled["it"])

    in_sessions(url, draft)
    in_database(url, rescore)
    after = analysis_of(url, Scope(true()))
    assert after.smes == before["smes"] and after.assessments == SEEDED
    assert_matches(after, before)


# --- The page -------------------------------------------------------------------------------


def test_the_page_shows_charts_with_text_and_tables(client, seeded):
    page = signed_in(client, ORGANISER).get("/workspace/analysis")
    assert page.status_code == 200
    text = page.text
    assert f"<strong>{len(companies(seeded.database_url))}</strong> companies ({SEEDED} assessments)." in text
    assert text.count('role="img"') >= 10
    assert '<title id="hist-strategy-title">Digital business strategy: SMEs per 10-point band of the score</title>' in text
    assert '<desc id="hist-strategy-desc">0: ' in text
    assert "Most common gaps" in text and "Innovation vouchers" in text and "Training topics" in text
    assert 'style="' not in text  # the Content-Security-Policy allows no inline style


def test_an_advisor_sees_the_shared_assessments_of_their_cluster_only(client, seeded):
    rows = companies(seeded.database_url, lambda a: a.cluster == "did" and a.share_with_advisors)
    assessments = [a for a, _ in submitted_profiles(seeded.database_url) if a.cluster == "did" and a.share_with_advisors]
    signed_in(client, ADVISOR)
    smes = client.get("/workspace/analysis.csv?part=smes")
    table = list(csv.reader(io.StringIO(smes.text.lstrip("\ufeff"))))
    assert table[0] == ["Sector", "Cluster", "Companies", "Assessments"]
    assert {row[1] for row in table[1:]} == {"did"}
    assert sum(int(row[2]) for row in table[1:]) == len(rows)
    assert sum(int(row[3]) for row in table[1:]) == len(assessments)
    page = client.get("/workspace/analysis")
    assert f"<strong>{len(rows)}</strong> companies ({len(assessments)} assessments)." in page.text
    assert 'name="cluster"' not in page.text
    assert '<th scope="col" class="number">dID – Distretto Interni e Design</th>' in page.text and '<th scope="col" class="number">CENFIM</th>' not in page.text


def test_another_cluster_in_the_filter_shows_an_advisor_nothing(client, seeded):
    signed_in(client, ADVISOR)
    page = client.get("/workspace/analysis?cluster=cenfim")
    assert page.status_code == 200 and "No submitted assessment matches" in page.text
    dma = client.get("/workspace/analysis.csv?part=dma&cluster=cenfim")
    assert dma.status_code == 200 and len(dma.text.strip().splitlines()) == 1


def test_a_new_submission_shows_at_once(client, seeded, bundled):
    signed_in(client, ORGANISER)
    count = len(companies(seeded.database_url))
    assert f"<strong>{count}</strong> companies ({SEEDED} assessments)." in client.get("/workspace/analysis").text

    async def submit_one(sessions):
        compiled = bundled["energy"]

        def answers(company):
            return TendencyAnswers(compiled).draw(random.Random(1), company, {d: 0.5 for d in compiled.dimensions})

        await stored_assessment(sessions, compiled, answers, language="en", cluster="cenfim", sector="energy", share_with_advisors=False)

    in_sessions(seeded.database_url, submit_one)
    assert f"<strong>{count + 1}</strong> companies ({SEEDED + 1} assessments)." in client.get("/workspace/analysis").text


BAD_FILTERS = [
    "sector=furniture'%20OR%20'1'='1",
    "sector=%3Cscript%3Ealert(1)%3C/script%3E",
    "cluster=did;DROP%20TABLE%20assessment",
    "cluster=%22%3E%3Csvg%20onload=alert(1)%3E",
    "sector=" + "a" * 5000,
    "sector=%00",
]


def test_bad_filter_values_get_a_400_and_are_not_echoed(client):
    signed_in(client, ORGANISER)
    for query in BAD_FILTERS:
        for path in ("/workspace/analysis", "/workspace/analysis.csv", "/workspace/analysis.xlsx", "/workspace/analysis.pdf"):
            response = client.get(f"{path}?{query}")
            assert response.status_code == 400, (path, query)
            assert "<script>" not in response.text and "onload=alert" not in response.text and "DROP TABLE" not in response.text


def test_signed_out_visitors_get_401(client):
    for path in ("/workspace/analysis", "/workspace/analysis.csv", "/workspace/analysis.xlsx", "/workspace/analysis.pdf", "/workspace/assessments.csv", "/workspace/assessments.xlsx"):
        assert client.get(path).status_code == 401, path


# --- Downloads ------------------------------------------------------------------------------


def read_csv(response) -> list[dict]:
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment; filename=\"recentre-")
    return list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))


def test_the_dma_sheet_has_the_plain_mean_of_the_six_dma_dimensions(client, seeded, bundled):
    rows = {a.id: p for a, p in companies(seeded.database_url)}
    signed_in(client, ORGANISER)
    table = read_csv(client.get("/workspace/analysis.csv?part=dma"))
    assert len(table) == len(rows) < SEEDED  # a company once, with its latest assessment
    assert list(table[0])[6:] == ["DMA Score", "DMA Band", "Digital Business Strategy", "Digital Readiness", "Human-Centric Digitalisation",
                                  "Data Management and Connectedness", "Automation and Artificial Intelligence", "Green Digitalisation"]
    bands = {"Basic": (0, 25), "Average": (25.1, 50), "Moderately advanced": (50.1, 75), "Advanced": (75.1, 100)}
    for row in table:
        profile = rows[int(row["Assessment"])]
        dma_ids = bundled[profile["questionnaire"]["id"]].dma
        scores = [profile["dimensions"][dma_ids[key]]["score"] for key in DMA_DIMENSIONS]
        assert float(row["DMA Score"]) == profile["dma"]["score"] == pytest.approx(sum(scores) / 6, abs=0.06)
        low, high = bands[row["DMA Band"]]
        assert low <= float(row["DMA Score"]) <= high
        assert float(row["Digital Business Strategy"]) == pytest.approx(scores[0], abs=0.051)
        assert row["Company name"]


def test_the_analysis_workbook_has_every_table_and_the_dma_sheet(client, seeded):
    signed_in(client, ORGANISER)
    response = client.get("/workspace/analysis.xlsx?sector=it")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Dimensions", "Histogram", "Gaps", "Demand", "SMEs", "EDIH DMA"]
    dma = list(book["EDIH DMA"].values)
    assert dma[0][:9] == ("Assessment", "Company name", "Sector", "Cluster", "Country", "Submitted (UTC)", "DMA Score", "DMA Band", "Digital Business Strategy")
    assert {row[2] for row in dma[1:]} == {"it"}


def test_rows_of_a_workbook_need_a_sheet_first():
    from assessment.workspace.exports import XlsxBook

    book = XlsxBook()
    with pytest.raises(RuntimeError) as raised:
        book.add_rows([["a row before any sheet"]])
    assert str(raised.value) == "XlsxBook.add_rows: no sheet to add rows to; add_sheet makes one"
    book.add_sheet("Sheet", ["Heading"])
    book.add_rows([["a row"]])
    assert list(load_workbook(io.BytesIO(book.to_bytes()))["Sheet"].values) == [("Heading",), ("a row",)]


def test_contact_details_only_where_the_company_agreed(client, seeded):
    shared = {a.id: a.share_with_advisors for a, _ in submitted_profiles(seeded.database_url)}
    signed_in(client, ORGANISER)
    table = read_csv(client.get("/workspace/assessments.csv"))
    assert len(table) == SEEDED
    for row in table:
        if shared[int(row["Assessment"])]:
            assert row["Shares with advisors"] == "yes" and "@" in row["Contact email"]
        else:
            assert row["Shares with advisors"] == "no" and row["Contact email"] == row["Contact name"] == ""


def test_an_advisors_list_download_holds_their_clusters_shared_assessments(client, seeded):
    expected = {a.id for a, _ in submitted_profiles(seeded.database_url) if a.cluster == "did" and a.share_with_advisors}
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


FORMULA_NAMES = ['=HYPERLINK("http://evil.example","Click")', "+1+2", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1"]


def test_names_that_look_like_formulas_stay_text(client, settings, bundled):
    made = named_assessments(settings, bundled, FORMULA_NAMES)
    signed_in(client, ORGANISER)
    rows = {int(r["Assessment"]): r for r in read_csv(client.get("/workspace/assessments.csv"))}
    for aid, name in made.items():
        # Names are stored stripped, so "\t=1" is stored as "=1".
        assert rows[aid]["Company"] == rows[aid]["Contact name"] == "'" + name.strip()
    book = load_workbook(io.BytesIO(client.get("/workspace/assessments.xlsx").content))
    for sheet in ("Assessments", "EDIH DMA"):
        cells = {row[0].value: row[1] for row in book[sheet].iter_rows(min_row=2)}
        for aid, name in made.items():
            assert cells[aid].data_type == "s" and cells[aid].value == "'" + name.strip()
    dma = {int(r["Assessment"]): r for r in read_csv(client.get("/workspace/analysis.csv?part=dma"))}
    assert all(dma[aid]["Company name"] == "'" + name.strip() for aid, name in made.items())


def named_assessments(settings, bundled, names: list[str]) -> dict[int, str]:
    """Submitted assessments of companies (and contacts) named ``names``, by id."""

    async def named(sessions):
        made = {}
        for name in names:
            assessment_id, _ = await stored_assessment(
                sessions, bundled["it"], {"employees": 3}, language="en", cluster="did", sector="it", share_with_advisors=True,
                company=responses.CompanyProfile(name=name, contact_name=name, contact_email="x@y.example"),
            )
            made[assessment_id] = name
        return made

    return in_sessions(settings.database_url, named)


SEPARATED_FORMULAS = {
    "Name;=1+2;x": "Name;'=1+2;x",
    "A,+B": "A,'+B",
    "Tab\tname": "Tab\tname",
    "Pipe|@SUM(A1)": "Pipe|'@SUM(A1)",
    "Line\n-1+1": "Line\n'-1+1",
    "Spaced; =1": "Spaced; '=1",
    'Quote";=1;"': 'Quote";\'=1;"',
    "Rossi - Bianchi, s.r.l.": "Rossi - Bianchi, s.r.l.",
}


def test_formulas_after_a_separator_stay_text_however_the_csv_is_split(client, settings, bundled):
    """Excel splits a CSV file on ';' in it/es/bg/ro: a cell must not become a formula there."""
    made = named_assessments(settings, bundled, list(SEPARATED_FORMULAS))
    signed_in(client, ORGANISER)
    response = client.get("/workspace/assessments.csv")
    rows = {int(r["Assessment"]): r for r in read_csv(response)}
    for aid, name in made.items():
        assert rows[aid]["Company"] == rows[aid]["Contact name"] == SEPARATED_FORMULAS[name]
    # Split on any separator, as a program that ignores quotes would: no piece starts a formula.
    for separator in (",", ";", "\t", "|", "\n"):
        for line in response.text.lstrip("\ufeff").split("\r\n"):
            for piece in line.split(separator):
                assert not piece.strip(' \t"').startswith(("=", "+", "@")), (separator, piece)
                assert not piece.strip(' \t"').startswith("-") or piece.strip(' \t"')[1:2] == "", (separator, piece)
    # Text is quoted, numbers are not.
    line = next(line for line in response.text.splitlines() if "Name;" in line)
    assert line.startswith(f'{next(a for a, n in made.items() if n == "Name;=1+2;x")},"Name;\'=1+2;x","did","it",')


def test_control_characters_in_a_name_do_not_break_the_xlsx_downloads(client, settings, bundled, caplog):
    """openpyxl refuses most control characters, and with them the whole file (a 500)."""
    name = "Mobili\x01Rossi\x02"
    (aid,) = named_assessments(settings, bundled, [name])
    signed_in(client, ORGANISER)
    for path in ("/workspace/assessments.xlsx", "/workspace/analysis.xlsx"):
        response = client.get(path)
        assert response.status_code == 200, path
        book = load_workbook(io.BytesIO(response.content))
        names = [row[1].value for row in book["EDIH DMA"].iter_rows(min_row=2) if row[0].value == aid]
        assert names == ["Mobili\ufffdRossi\ufffd"]
    row = next(r for r in read_csv(client.get("/workspace/assessments.csv")) if int(r["Assessment"]) == aid)
    assert row["Company"] == name
    assert "Mobili" not in caplog.text


def test_unknown_parts_and_filters_of_a_download_get_a_400(client):
    signed_in(client, ORGANISER)
    for query in ("part=../../etc/passwd", "part=%3Cscript%3E", "part=dma&sector=nope", "part=" + "x" * 10000):
        response = client.get(f"/workspace/analysis.csv?{query}")
        assert response.status_code == 400 and "<script>" not in response.text


def test_the_list_download_refuses_what_the_list_refuses(client):
    signed_in(client, ORGANISER)
    for query in ("page=999999999999", "level=x'%20OR%201=1--", "q=" + "%25" * 200, "from=2026-13-45", "cluster=%3Cscript%3E"):
        for path in ("/workspace/assessments.csv", "/workspace/assessments.xlsx"):
            response = client.get(f"{path}?{query}")
            assert response.status_code == 400 and "<script>" not in response.text, (path, query)


def test_the_list_links_its_downloads_with_its_filters_and_the_menu_links_the_analysis(client, seeded):
    signed_in(client, ORGANISER)
    page = client.get("/workspace?sector=it&cluster=did")
    assert '<a href="/workspace/assessments.csv?cluster=did&amp;sector=it">CSV</a>' in page.text
    assert '<a href="/workspace/assessments.xlsx?cluster=did&amp;sector=it">XLSX</a>' in page.text
    assert '<a href="/workspace/analysis">Sector analysis</a>' in page.text


# --- Kept between requests ------------------------------------------------------------------


def submit_new(url: str, bundled, n: int, cluster: str = "did") -> None:
    async def work(sessions):
        for i in range(n):
            compiled = bundled[("furniture", "it", "energy")[i % 3]]
            leaning = {d: 0.3 + 0.1 * (i % 5) for d in compiled.dimensions}

            def answers(company, compiled=compiled, i=i, leaning=leaning):
                return TendencyAnswers(compiled).draw(random.Random(i), company, leaning)

            await stored_assessment(
                sessions, compiled, answers, language="en", cluster=cluster, sector=compiled.meta.sectors[0], share_with_advisors=bool(i % 2)
            )

    in_sessions(url, work)


def reassess(url: str, bundled) -> int:
    """The id of a new, submitted re-assessment (T1) of the first did company assessed once."""

    async def work(sessions):
        async with sessions() as session:
            repeated = select(Assessment.previous_id).where(Assessment.previous_id.is_not(None))
            first = await session.scalar(
                select(Assessment).where(Assessment.cluster == "did", Assessment.status == "submitted", Assessment.id.not_in(repeated),
                                         Assessment.previous_id.is_(None)).order_by(Assessment.id).limit(1)
            )
        compiled = bundled[first.questionnaire_id]
        answers = TendencyAnswers(compiled).draw(random.Random(5), responses.company_of(first), {d: 0.9 for d in compiled.dimensions})
        assessment_id, _ = await stored_assessment(sessions, compiled, answers, previous=first.id)
        return assessment_id

    return in_sessions(url, work)


def cached_analysis(url: str, cache, scope: Scope):
    """What ``cache`` gives, on a database of its own each time, as a request would see it."""
    labels = Labels.of(load_bundled())

    async def get(sessions):
        cache.sessions = sessions
        return await cache.get(("organiser", scope.sector, scope.cluster), scope, labels)

    return in_sessions(url, get)


@pytest.mark.parametrize("scope", [Scope(true()), Scope(true(), sector="it"), Scope(Assessment.cluster == "did", cluster="did")])
def test_the_kept_analysis_follows_submissions_and_rescoring(seeded, bundled, scope):
    from assessment.workspace.analysis import AnalysisCache

    url = seeded.database_url
    cache = AnalysisCache(sessions=None)  # given the sessions of each request by cached_analysis

    def expected():
        rows = companies(url, lambda a: (not scope.sector or a.sector == scope.sector) and (not scope.cluster or a.cluster == scope.cluster))
        return expected_figures(rows)

    assert_matches(cached_analysis(url, cache, scope), expected())
    submit_new(url, bundled, 7)  # only additions: counted alone and added
    assert_matches(cached_analysis(url, cache, scope), expected())
    reassess(url, bundled)  # a T1 takes the place of its company's T0: everything is counted again
    assert_matches(cached_analysis(url, cache, scope), expected())

    async def rescore_some(session):
        for assessment in (await session.scalars(select(Assessment).where(Assessment.questionnaire_id == "it").limit(3))).all():
            version = await session.get(QuestionnaireVersion, assessment.questionnaire_version_id)
            await responses.rescore(session, assessment, version, bundled["it"])

    in_database(url, rescore_some)  # a retired result: everything is counted again
    submit_new(url, bundled, 2)
    assert_matches(cached_analysis(url, cache, scope), expected())


def test_only_additions_are_told_apart_from_retirements_and_removals(seeded, bundled):
    from assessment.workspace.analysis import current_results_between, data_version, only_added, repeats_between

    url = seeded.database_url
    before = in_database(url, data_version)
    submit_new(url, bundled, 3)
    after = in_database(url, data_version)
    added = in_database(url, lambda s: current_results_between(s, before.last_result, after.last_result))
    assert added == 3 and only_added(before, after, added)

    reassess(url, bundled)
    reassessed = in_database(url, data_version)
    added = in_database(url, lambda s: current_results_between(s, after.last_result, reassessed.last_result))
    repeats = in_database(url, lambda s: repeats_between(s, after.last_result, reassessed.last_result))
    assert (added, repeats) == (1, 1) and not only_added(after, reassessed, added, repeats)
    after = reassessed

    async def rescore_one(session):
        assessment = await session.scalar(select(Assessment).where(Assessment.questionnaire_id == "energy").limit(1))
        await responses.rescore(session, assessment, await session.get(QuestionnaireVersion, assessment.questionnaire_version_id), bundled["energy"])

    in_database(url, rescore_one)
    rescored = in_database(url, data_version)
    added = in_database(url, lambda s: current_results_between(s, after.last_result, rescored.last_result))
    assert added == 1 and not only_added(after, rescored, added)

    async def remove_one(session):
        repeated = select(Assessment.previous_id).where(Assessment.previous_id.is_not(None))
        single = await session.scalar(select(func.min(Assessment.id)).where(Assessment.id.not_in(repeated), Assessment.previous_id.is_(None)))
        await session.execute(delete(Assessment).where(Assessment.id == single))

    in_database(url, remove_one)
    removed = in_database(url, data_version)
    assert removed.current_results == rescored.current_results - 1
    assert not only_added(rescored, removed, 0)


def one_line(text: str) -> str:
    """``text`` with every run of white space (no-break spaces too) as one space."""
    return " ".join(text.split())


def pdf_text(pdf: bytes) -> str:
    return one_line(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


def sector_report(client: TestClient, query: str = "", lang: str | None = None) -> tuple[bytes, list]:
    """The sector report downloaded with the workspace in ``lang`` (the chooser's cookie), and
    the days it may be dated (the download may cross midnight)."""
    if lang:
        client.cookies.set(LANGUAGE_COOKIE, lang, path="/workspace")
    before = datetime.now(UTC).date()
    response = client.get(f"/workspace/analysis.pdf{query}")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    return response.content, sorted({before, datetime.now(UTC).date()})


def test_the_sector_report_holds_the_figures_of_its_view(client, seeded):
    signed_in(client, ADVISOR)
    response = client.get("/workspace/analysis.pdf?sector=it")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith('attachment; filename="recentre-sector-report-it-')
    text = pdf_text(response.content)
    def keep(a):
        return a.cluster == "did" and a.share_with_advisors and a.sector == "it"

    rows = companies(seeded.database_url, keep)
    every = [a for a, _ in submitted_profiles(seeded.database_url) if keep(a)]
    assert "Sector analysis" in text and "IT and software, dID – Distretto Interni e Design" in text
    companies_said = f"{len(rows)} compan{'y' if len(rows) == 1 else 'ies'} ({len(every)} assessment{'' if len(every) == 1 else 's'})."
    assert f"{companies_said} Submitted assessments whose companies agreed to share them with advisors." in text
    for heading in ("SMEs by sector and cluster", "Scores by dimension", "Most common gaps", "Demand for instruments and training", "Green software and sustainable IT"):
        assert heading in text


def test_the_sector_report_is_in_the_workspace_language(client, seeded, bundled):
    """Downloaded from the analysis page in Bulgarian, the report is in Bulgarian: the
    catalog's headings, the questionnaire's titles, and numbers and dates written the
    Bulgarian way (a decimal comma)."""
    bg = i18n.translations("bg")
    L = ReportLabels("bg")
    signed_in(client, ADVISOR)
    pdf, days = sector_report(client, "?sector=it", "bg")
    text = pdf_text(pdf)
    for heading in ("Sector analysis", "SMEs by sector and cluster", "Scores by dimension", "Lower quartile", "Most common gaps",
                    "Demand for instruments and training",
                    "Each company counts once, with its latest submitted assessment: a re-assessment (T1) takes the place of the one before it (T0).",
                    "Submitted assessments whose companies agreed to share them with advisors."):
        assert bg.gettext(heading) in text, heading
        assert heading not in text, heading
    assert f"{L.sector('it')}, dID – Distretto Interni e Design" in text
    assert any(one_line(bg.gettext("Figures as of %(date)s.") % {"date": L.date(day)}) in text for day in days)
    rows = companies(seeded.database_url, lambda a: a.cluster == "did" and a.share_with_advisors and a.sector == "it")
    expected = expected_figures(rows)
    assert one_line(bg.ngettext("%(count)s company", "%(count)s companies", len(rows)) % {"count": L.count(len(rows))}) in text
    # Each dimension's title in Bulgarian, with its mean written the Bulgarian way: 47,2.
    titles = {d.id: d.title.get("bg") for d in bundled["it"].dimensions.values()}
    for d, values in expected["scores"].items():
        mean = format_score(sum(values) / len(values), "bg")
        assert "," in mean and f"{titles[d]} {one_line(L.count(len(values)))} {mean} " in text, (d, mean)
    level = bundled["it"].levels[0].title.get("bg")
    assert bg.gettext("At the level: %(level)s") % {"level": level} in text
    assert PdfReader(io.BytesIO(pdf)).metadata.title == f"{bg.gettext('Sector analysis')}: {L.sector('it')}, dID – Distretto Interni e Design"
    # The tables for other tools keep their English headings and titles.
    table = read_csv(client.get("/workspace/analysis.csv?part=dimensions&sector=it"))
    assert "Green software and sustainable IT" in {row["Title"] for row in table} and "Mean" in table[0]


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_a_sector_report_in_every_language(client, seeded, lang):
    _ = i18n.translations(lang).gettext
    L = ReportLabels(lang)
    signed_in(client, ORGANISER)
    pdf, days = sector_report(client, "", lang)
    text = pdf_text(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.trailer["/Root"]["/Lang"] == lang
    assert reader.metadata.title.startswith(_("Sector analysis") + ": ")
    for heading in ("Sector analysis", "SMEs by sector and cluster", "Scores by dimension", "Most common gaps", "Demand for instruments and training",
                    "Submitted assessments of every cluster."):
        assert _(heading) in text, (lang, heading)
    assert any(one_line(_("Figures as of %(date)s.") % {"date": L.date(day)}) in text for day in days)
    assert one_line(L.count(SEEDED)) in text
    # The link on the analysis page says in which language the report is.
    assert f'hreflang="{lang}">{escape(_("sector report (PDF)"))}</a>' in client.get("/workspace/analysis").text


def test_every_label_the_sector_report_asks_for_is_in_the_template(monkeypatch):
    """Catches labels that extraction cannot see, such as a _() inside an f-string; the
    headings of the demand groups are marked where the page shows them (web/analysis.py)."""
    from datetime import date

    from babel.messages.pofile import read_po

    from assessment.workspace.analysis import Aggregates, shape
    from assessment.workspace.sector_report import SectorReportDetails, render_sector_report
    from scoring.render import labels as report_labels

    asked: set = set()

    class Recording(gettext.NullTranslations):
        def gettext(self, message):
            asked.add(message)
            return message

        def ngettext(self, singular, plural, n):
            asked.add((singular, plural))
            return singular if n == 1 else plural

    monkeypatch.setattr(report_labels, "translations", lambda lang: Recording())
    labels = Labels({"x": ("X", "digital")}, [("basic", "Basic")], {("instrument", "v"): "V", ("training", "t"): "T"}, ["furniture"])
    aggregates = Aggregates(Counter({("furniture", "did"): 2}), {("x", 40, "basic"): (2, 81.0, 2)}, Counter({("instrument", "v"): 2, ("training", "t"): 1}))
    analysis = shape(aggregates, Scope(true()), labels)
    render_sector_report(analysis, SectorReportDetails(created=date(2026, 1, 1), language="bg"))
    render_sector_report(analysis, SectorReportDetails(created=date(2026, 1, 1), sector="furniture", cluster="did", shared_only=True, language="bg"))
    render_sector_report(shape(Aggregates(Counter(), {}, Counter()), Scope(true()), Labels({}, [], {}, [])), SectorReportDetails(created=date(2026, 1, 1)))
    template = {m.id for m in read_po((Path(__file__).resolve().parent.parent / "messages.pot").open("rb")) if m.id}
    assert asked - template == set()
    assert len(asked) > 20


def test_escaping_in_the_sector_report():
    from datetime import date

    from assessment.workspace.analysis import Aggregates, shape
    from assessment.workspace.sector_report import SectorReportDetails, render_sector_report

    labels = Labels({"x": ("<b>Bold</b> & <i>co</i>", "digital")}, [("basic", "Basic")], {("instrument", "v"): "Voucher <script>"}, ["furniture"])
    aggregates = Aggregates(Counter({("furniture", "did"): 2}), {("x", 40, "basic"): (2, 81.0, 2)}, Counter({("instrument", "v"): 2}))
    pdf = render_sector_report(shape(aggregates, Scope(true()), labels), SectorReportDetails(sector="<Furniture> & co", cluster="<did>", created=date(2026, 1, 1)))
    text = pdf_text(pdf)
    assert "<b>Bold</b> & <i>co</i>" in text and "Voucher <script>" in text and "<Furniture> & co, <did>" in text


# Downgrading drops the column in batch mode, which reflects the tables; SQLite cannot
# reflect the expression index on company names, and says so.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_gaps_of_stored_results_are_filled_from_their_profiles(seeded):
    """Migration 0007 adds dimension_score.gap and fills it from each profile's gaps."""
    from alembic import command

    from assessment.store.db import alembic_config, upgrade
    from assessment.store.models import DimensionScore

    url = seeded.database_url
    run_coroutine_sync = lambda f: ThreadPoolExecutor(1).submit(f).result()  # noqa: E731 - Alembic runs its own loop
    run_coroutine_sync(lambda: command.downgrade(alembic_config(url), "0006"))
    run_coroutine_sync(lambda: upgrade(url))

    async def flagged(session):
        rows = await session.execute(
            select(Result.assessment_id, DimensionScore.dimension).join(Result, Result.id == DimensionScore.result_id).where(DimensionScore.gap.is_(True))
        )
        return {(a, d) for a, d in rows}

    expected = {(a.id, d) for a, p in submitted_profiles(url) for d in p["gaps"]}
    assert expected and in_database(url, flagged) == expected


async def test_a_csv_download_cut_by_an_error_logs_it_without_the_values_it_quotes(caplog):
    import sqlite3

    from web.downloads import DownloadCut, csv_stream

    quoted = "Failing row contains (2, " + "ana@example.org)"  # (the traceback shows the line that raises)

    async def chunks():
        yield [(1, "Mobili Rossi")]
        raise sqlite3.IntegrityError(quoted)

    sent = []
    with pytest.raises(DownloadCut) as cut:
        async for text in csv_stream(["Assessment", "Company"], chunks()):
            sent.append(text)
    assert sent == ['\ufeff"Assessment","Company"\r\n', '1,"Mobili Rossi"\r\n']
    assert cut.value.__suppress_context__ and cut.value.__cause__ is None  # what uvicorn logs ends here
    assert "sqlite3.IntegrityError: (its message is left out: it can quote stored values)" in caplog.text
    assert "ana@example.org" not in caplog.text
