"""Companies, not assessments: a company assessed at T0 and again at T1 counts once, with its
latest submitted assessment, in every figure that counts SMEs or averages over them (the
sector analysis and its downloads, the sector report, the dashboard's totals and the SME's
peer comparison), and its own assessments are never its peers; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from litestar.testing import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from assessment.store.models import Assessment, DimensionScore, Result
from assessment.store.responses import CompanyProfile
from questionnaires.compile import BUNDLED, compile_questionnaire
from tests.assessments import ALL_MAXIMUM, ALL_ZERO, stored_assessment
from tests.database import in_database, in_sessions
from tests.pdf import one_line, pdf_text
from tests.workspace import add_user, sign_in, workspace_settings
from web.app import create_app
from web.reports import peer_average

ORGANISER = "organiser@recentre.example"


@pytest.fixture(scope="module")
def furniture():
    return compile_questionnaire(BUNDLED / "furniture.yaml")


@pytest.fixture
def settings(database_url: str, tmp_path: Path):
    settings = workspace_settings(database_url, BUNDLED, tmp_path / "data")
    add_user(database_url, ORGANISER, "organiser")
    return settings


@pytest.fixture
def made(settings, furniture):
    """Six furniture companies of dID: Rossi assessed at T0 (every DMA answer at zero) and T1
    (at its maximum), Bianchi at T0 and T1, and four assessed once: six companies, eight
    assessments."""

    async def make(sessions):
        def first(name: str, answers: dict) -> dict:
            return {"answers": answers, "language": "en", "cluster": "did", "sector": "furniture", "share_with_advisors": True,
                    "company": CompanyProfile(name=name)}

        ids: dict[str, int] = {}
        ids["rossi_t0"], _ = await stored_assessment(sessions, furniture, **first("Mobili Rossi", ALL_ZERO))
        ids["rossi_t1"], _ = await stored_assessment(sessions, furniture, ALL_MAXIMUM, previous=ids["rossi_t0"])
        ids["bianchi_t0"], _ = await stored_assessment(sessions, furniture, **first("Bianchi Design", ALL_ZERO))
        ids["bianchi_t1"], _ = await stored_assessment(sessions, furniture, ALL_MAXIMUM, previous=ids["bianchi_t0"])
        for i in range(4):
            ids[f"other_{i}"], _ = await stored_assessment(sessions, furniture, **first(f"Other {i}", ALL_ZERO))
        return ids

    return in_sessions(settings.database_url, make)


@pytest.fixture
def client(settings):
    with TestClient(app=create_app(settings)) as client:
        assert sign_in(client, ORGANISER).status_code == 303
        yield client


def rows_of(response) -> list[dict]:
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))


def test_a_company_assessed_twice_counts_once_in_the_sector_analysis(client, made):
    page = client.get("/workspace/analysis?sector=furniture")
    assert "<strong>6</strong> companies (8 assessments) in Furniture and interiors." in page.text
    assert rows_of(client.get("/workspace/analysis.csv?part=smes")) == [{"Sector": "furniture", "Cluster": "did", "Companies": "6", "Assessments": "8"}]
    # Each figure is over the six companies: the strategy dimension of Rossi and Bianchi at
    # T1 (100), the four others at 0; never the T0s.
    dimensions = {row["Dimension"]: row for row in rows_of(client.get("/workspace/analysis.csv?part=dimensions"))}
    assert dimensions["strategy"]["SMEs scored"] == "6" and float(dimensions["strategy"]["Mean"]) == pytest.approx(200 / 6, abs=0.01)


def test_a_company_assessed_twice_is_one_row_of_the_dma_sheet_with_its_latest_assessment(client, made):
    dma = {int(row["Assessment"]): row for row in rows_of(client.get("/workspace/analysis.csv?part=dma"))}
    assert set(dma) == {made["rossi_t1"], made["bianchi_t1"], *(made[f"other_{i}"] for i in range(4))}
    assert (dma[made["rossi_t1"]]["DMA Score"], dma[made["rossi_t1"]]["DMA Band"]) == ("100", "Advanced")
    assert (dma[made["other_0"]]["DMA Score"], dma[made["other_0"]]["DMA Band"]) == ("0", "Basic")
    book = load_workbook(io.BytesIO(client.get("/workspace/analysis.xlsx").content))
    assert list(book["SMEs"].values) == [("Sector", "Cluster", "Companies", "Assessments"), ("furniture", "did", 6, 8)]
    assert {row[0] for row in list(book["EDIH DMA"].values)[1:]} == set(dma)


def test_a_company_assessed_twice_counts_once_in_the_sector_report(client, made, tmp_path):
    response = client.get("/workspace/analysis.pdf?sector=furniture")
    assert response.status_code == 200
    text = one_line(pdf_text(response.content, tmp_path))
    assert "6 companies (8 assessments). Submitted assessments of every cluster." in text
    assert "Each company counts once, with its latest submitted assessment" in text


def test_the_dashboard_counts_companies_and_assessments(client, settings, made, furniture):
    assert "6 companies (8 assessments)" in client.get("/workspace").text
    assert "1 company (2 assessments)" in client.get("/workspace", params={"q": "rossi"}).text

    async def draft(sessions):
        await stored_assessment(sessions, furniture, ALL_ZERO, previous=made["rossi_t1"], submit=False)

    in_sessions(settings.database_url, draft)
    # A draft T2 is one assessment more of the same company; the analysis counts submitted ones only.
    assert "1 company (3 assessments)" in client.get("/workspace", params={"q": "rossi"}).text
    assert "6 companies (9 assessments)" in client.get("/workspace").text
    assert "<strong>6</strong> companies (8 assessments)." in client.get("/workspace/analysis").text


def test_peers_are_the_other_companies_each_once_with_its_latest_assessment(settings, made):
    async def peers(session):
        out = {}
        for key in ("rossi_t0", "rossi_t1", "other_0"):
            out[key] = await peer_average(session, await session.get(Assessment, made[key]))
        return out

    def strategy(ids: list[int]) -> float:
        async def mean(session):
            rows = await session.execute(
                select(DimensionScore.score)
                .join(Result, Result.id == DimensionScore.result_id)
                .where(Result.assessment_id.in_(ids), Result.current.is_(True), DimensionScore.dimension == "strategy")
            )
            values = [v for (v,) in rows]
            return sum(values) / len(values)

        return in_database(settings.database_url, mean)

    found = in_database(settings.database_url, peers)
    others = [made[f"other_{i}"] for i in range(4)]
    # Rossi's peers, at T0 and at T1 alike: Bianchi (its T1 only) and the four others; never Rossi itself.
    for key in ("rossi_t0", "rossi_t1"):
        averages, count = found[key]
        assert count == 5
        assert averages["strategy"] == pytest.approx(strategy([made["bianchi_t1"], *others]), abs=0.01) == pytest.approx(20.0)
    # Another's peers: Rossi and Bianchi once each (at T1), and the three others.
    averages, count = found["other_0"]
    assert count == 5 and averages["strategy"] == pytest.approx(40.0)


def test_the_reports_sector_average_names_the_other_companies(client, made, tmp_path):
    response = client.get(f"/workspace/assessments/{made['rossi_t1']}/report.pdf")
    assert response.status_code == 200
    assert "Sector average of 5 other companies" in one_line(pdf_text(response.content, tmp_path))
