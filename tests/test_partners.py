"""Cross-sector matchmaking on SQLite and PostgreSQL: the partners the database ranks are
those found here by comparing every pair of stored profiles."""

from __future__ import annotations

import html
import random
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import true

from assessment.store import responses
from assessment.store.models import Assessment, store_questionnaire_version
from assessment.workspace.matchmaking import GAP, STRENGTH, suggest_partners
from assessment.workspace.seed import seed_assessments
from questionnaires.compile import BUNDLED, load_bundled
from scoring.synthetic import TendencyAnswers
from tests.assessments import stored_assessment
from tests.database import in_database, in_sessions, latest_of_each_company, run_coroutine, submitted_profiles
from tests.workspace import add_user, sign_in, workspace_settings
from web.app import create_app

NOW = datetime(2026, 6, 1, tzinfo=UTC)
ORGANISER = "organiser@recentre.example"
ADVISOR_X = "advisor@did.example"
ADVISOR_Y = "advisor@cenfim.example"


@pytest.fixture(scope="module")
def bundled():
    return {c.id: c for c in load_bundled()}


@pytest.fixture
def settings(database_url: str, tmp_path: Path, bundled):
    settings = workspace_settings(database_url, BUNDLED, tmp_path / "data")

    async def seed():
        from assessment.store.db import create_engine

        engine = create_engine(database_url)
        try:
            await seed_assessments(engine, list(bundled.values()), 150, seed=21, now=NOW)
        finally:
            await engine.dispose()

    run_coroutine(seed())
    add_user(database_url, ORGANISER, "organiser")
    add_user(database_url, ADVISOR_X, "advisor", "did")
    add_user(database_url, ADVISOR_Y, "advisor", "cenfim")
    return settings


@pytest.fixture
def client(settings):
    with TestClient(app=create_app(settings)) as client:
        yield client


def expected_partners(rows, seeker: Assessment, seeker_profile: dict, may_see) -> list[int]:
    ours = {d: v["score"] for d, v in seeker_profile["dimensions"].items() if v["score"] is not None and v["score"] <= GAP}
    ranked = []
    # A company once, with its latest assessment among those one may see (T1, not also T0).
    latest = {a.id for a, _ in latest_of_each_company([(a, p) for a, p in rows if a.share_with_advisors and may_see(a)])}
    for a, profile in rows:
        if a.id == seeker.id or a.sector == seeker.sector or a.id not in latest:
            continue
        matches = [(d, v["score"]) for d, v in profile["dimensions"].items() if d in ours and v["score"] is not None and v["score"] >= STRENGTH]
        if matches:
            ranked.append((-len(matches), -round(sum(s - ours[d] for d, s in matches), 6), a.id))
    return [aid for _, _, aid in sorted(ranked)[:10]]


def seekers(rows, count: int = 6):
    """Assessments with gaps, of every sector."""
    with_gaps = [(a, p) for a, p in rows if any(v["score"] is not None and v["score"] <= GAP for v in p["dimensions"].values())]
    by_sector: dict[str, list] = {}
    for a, p in with_gaps:
        by_sector.setdefault(a.sector, []).append((a, p))
    return [pair for pairs in by_sector.values() for pair in pairs[:count // len(by_sector) + 1]]


def titles() -> dict[str, str]:
    return {d.id: d.title.get("en") for c in load_bundled() for d in c.dimensions.values()}


@pytest.mark.parametrize("viewer", ["organiser", "advisor"])
def test_the_partners_are_the_best_matches_among_those_who_share(settings, viewer):
    rows = submitted_profiles(settings.database_url)
    for seeker, profile in seekers(rows):
        if viewer == "organiser":
            visible, may_see = true(), lambda a: True
        else:
            cluster = seeker.cluster
            visible = (Assessment.cluster == cluster) & Assessment.share_with_advisors.is_(True)
            may_see = lambda a, cluster=cluster: a.cluster == cluster  # noqa: E731
        found = in_database(settings.database_url, lambda s, seeker=seeker, visible=visible: suggest_partners(s, seeker, visible, titles()))
        assert [p.assessment_id for p in found] == expected_partners(rows, seeker, profile, may_see)
        by_id = {a.id: (a, p) for a, p in rows}
        for partner in found:
            a, partner_profile = by_id[partner.assessment_id]
            assert a.share_with_advisors and a.sector != seeker.sector
            for m in partner.matches:
                assert m.theirs == partner_profile["dimensions"][m.dimension]["score"] >= STRENGTH
                assert m.ours == profile["dimensions"][m.dimension]["score"] <= GAP
            assert partner.reason().startswith("Strong where you have gaps: ")


def first_seeker(settings, cluster: str, shared: bool = True) -> Assessment:
    rows = submitted_profiles(settings.database_url)
    return next(a for a, p in seekers(rows, 100) if a.cluster == cluster and a.share_with_advisors == shared)


def test_the_page_shows_each_partner_with_its_reason(client, settings):
    seeker = first_seeker(settings, "did")
    assert sign_in(client, ADVISOR_X).status_code == 303
    page = client.get(f"/workspace/assessments/{seeker.id}/partners")
    assert page.status_code == 200
    assert "Partners for an innovation-voucher project" in page.text
    reasons = re.findall(r'<p class="reason">([^<]*)</p>', page.text)
    assert reasons and all(html.unescape(r).startswith("Strong where you have gaps: ") for r in reasons)
    # An advisor's partners are of their own cluster.
    assert " · dID – Distretto Interni e Design" in page.text and " · CENFIM" not in page.text


def test_another_clusters_assessment_answers_404(client, settings):
    seeker = first_seeker(settings, "did")
    assert sign_in(client, ADVISOR_Y).status_code == 303
    assert client.get(f"/workspace/assessments/{seeker.id}/partners").status_code == 404
    hidden = first_seeker(settings, "cenfim", shared=False)
    assert client.get(f"/workspace/assessments/{hidden.id}/partners").status_code == 404
    for bad in ("999999", "99999999999999999999", "0", "-1", "abc", "1%20OR%201=1"):
        assert client.get(f"/workspace/assessments/{bad}/partners").status_code in (400, 404)


def test_companies_that_did_not_share_are_never_suggested_and_names_are_escaped(client, settings, bundled):
    def add(name: str, sector: str, share: bool, lean: float):
        compiled = bundled[sector]

        def answers(company):
            return TendencyAnswers(compiled).draw(random.Random(name), company, {d: lean for d in compiled.dimensions})

        async def work(sessions):
            assessment_id, _ = await stored_assessment(
                sessions, compiled, answers, language="en", cluster="did", sector=sector, share_with_advisors=share,
                company=responses.CompanyProfile(name=name),
            )
            return assessment_id

        return in_sessions(settings.database_url, work)

    weak = add("Weak Furniture", "furniture", True, 0.05)
    add("<script>alert(1)</script> Strong IT", "it", True, 0.97)
    add("Secret Strong Energy", "energy", False, 0.97)
    assert sign_in(client, ORGANISER).status_code == 303
    page = client.get(f"/workspace/assessments/{weak}/partners").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Strong IT" in page and "<script>alert(1)" not in page
    assert "Secret Strong Energy" not in page


def test_a_draft_has_no_partners_yet(client, settings, bundled):
    async def draft(session):
        version = await store_questionnaire_version(session, bundled["it"])
        assessment, _ = await responses.create_assessment(session, version, language="en", cluster="did", sector="it", share_with_advisors=True)
        return assessment.id

    made = in_database(settings.database_url, draft)
    assert sign_in(client, ORGANISER).status_code == 303
    page = client.get(f"/workspace/assessments/{made}/partners")
    assert page.status_code == 200 and "No results yet" in page.text


def test_signed_out_visitors_get_401(client, settings):
    seeker = first_seeker(settings, "did")
    assert client.get(f"/workspace/assessments/{seeker.id}/partners").status_code == 401


def test_the_assessment_page_links_to_its_partners(client, settings):
    seeker = first_seeker(settings, "did")
    assert sign_in(client, ADVISOR_X).status_code == 303
    page = client.get(f"/workspace/assessments/{seeker.id}")
    assert f'<a href="/workspace/assessments/{seeker.id}/partners">Partners for an innovation-voucher project</a>' in page.text


def test_sqlite_matches_partners_from_the_index_alone(tmp_path):
    """The plan SQLite picks for the matching query (PostgreSQL's depends on the data's size,
    see the README): the strong scores come from the covering index, never the table."""
    from sqlalchemy import create_engine as create_sync_engine
    from sqlalchemy import text

    from assessment.store.db import upgrade
    from assessment.workspace.matchmaking import _candidates

    upgrade(f"sqlite+aiosqlite:///{tmp_path / 'plan.db'}")
    engine = create_sync_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    statement = _candidates(Assessment(id=5, sector="it"), 5, true(), 10)
    sql = str(statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    with engine.connect() as connection:
        plan = [row[-1] for row in connection.execute(text("EXPLAIN QUERY PLAN " + sql))]
    assert any("COVERING INDEX ix_dimension_score_dimension_score_result_id (dimension=? AND score>?)" in step for step in plan), plan
