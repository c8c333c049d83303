"""`recentre seed`: fake submitted assessments in the real tables, scored by the real engine,
on SQLite and PostgreSQL."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from sqlalchemy import func, select

from assessment.store.db import create_engine, session_factory, upgrade_async
from assessment.store.models import Answer, Assessment, DimensionScore, QuestionnaireVersion, Result, ResultInstrument, ResultRecommendation
from assessment.store.responses import CompanyProfile, create_assessment, load_answers, profile_for, rescore
from assessment.workspace.seed import seed_assessments
from questionnaires.compile import load_bundled
from questionnaires.reference import CLUSTERS
from web import cli

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def bundled():
    return {c.id: c for c in load_bundled()}


@pytest.fixture
async def engine(database_url: str):
    engine = create_engine(database_url)
    await upgrade_async(engine)
    yield engine
    await engine.dispose()


async def rows(engine, statement):
    async with engine.connect() as connection:
        return (await connection.execute(statement)).all()


async def count(engine, model) -> int:
    async with engine.connect() as connection:
        return await connection.scalar(select(func.count()).select_from(model))


async def test_seeded_assessments_are_submitted_scored_and_stored_in_every_table(engine, bundled):
    added = await seed_assessments(engine, list(bundled.values()), 120, seed=5, now=NOW, batch=50)
    assert added == 120
    assert await count(engine, Assessment) == 120
    assert await count(engine, Result) == 120
    assert await count(engine, Answer) > 120 * 30
    assert await count(engine, DimensionScore) >= 120 * 10
    assert await count(engine, ResultRecommendation) > 0
    assert await count(engine, ResultInstrument) > 0
    assessments = await rows(engine, select(Assessment))
    assert {a.status for a in assessments} == {"submitted"}
    assert {a.share_with_advisors for a in assessments} == {True, False}
    assert len({a.sector for a in assessments}) == 3 and len({a.cluster for a in assessments}) == 4
    for a in assessments:
        assert a.country == CLUSTERS[a.cluster].country
        assert a.language in ("en", CLUSTERS[a.cluster].language)
        assert a.company_name and a.contact_email and "@" in a.contact_email
        assert NOW - timedelta(days=549) <= a.created_at <= a.submitted_at <= NOW
        assert a.expires_at > a.submitted_at
    current = await rows(engine, select(Result.assessment_id).where(Result.current.is_(True)))
    assert sorted(r.assessment_id for r in current) == sorted(a.id for a in assessments)


async def test_t1_follows_its_t0_in_the_same_series(engine, bundled):
    await seed_assessments(engine, list(bundled.values()), 200, seed=2, now=NOW)
    assessments = {a.id: a for a in await rows(engine, select(Assessment))}
    repeats = [a for a in assessments.values() if a.previous_id is not None]
    assert len(repeats) >= 10
    for t1 in repeats:
        t0 = assessments[t1.previous_id]
        assert t0.previous_id is None and t0.series_id == t0.id == t1.series_id
        assert (t0.company_name, t0.cluster, t0.sector, t0.questionnaire_id) == (t1.company_name, t1.cluster, t1.sector, t1.questionnaire_id)
        assert t1.created_at > t0.submitted_at
    firsts = [a for a in assessments.values() if a.previous_id is None]
    assert all(a.series_id == a.id for a in firsts)


async def test_the_stored_result_is_what_the_engine_gives_for_the_stored_answers(engine, bundled):
    await seed_assessments(engine, list(bundled.values()), 30, seed=3, now=NOW)
    sessions = session_factory(engine)
    async with sessions() as session:
        for assessment in (await session.scalars(select(Assessment))).all():
            result = await session.scalar(select(Result).where(Result.assessment_id == assessment.id))
            compiled = bundled[assessment.questionnaire_id]
            company = {"size": assessment.size, "sector": assessment.sector, "country": assessment.country, "cluster": assessment.cluster}
            again = profile_for(compiled, await load_answers(session, assessment), company, assessment.language)
            assert msgspec.json.decode(result.profile) == msgspec.to_builtins(again)
            assert result.overall == again.overall.score and result.archetype == (again.archetype.id if again.archetype else None)


async def test_the_rows_are_those_store_result_writes(engine, bundled):
    """Re-scoring goes through responses.store_result: the rows it writes for the same answers
    must equal the seed's own."""
    await seed_assessments(engine, list(bundled.values()), 15, seed=4, now=NOW)
    sessions = session_factory(engine)

    async def rows_of(session, result_id):
        dims = (await session.execute(select(DimensionScore.dimension, DimensionScore.pillar, DimensionScore.score, DimensionScore.level, DimensionScore.gap).where(DimensionScore.result_id == result_id).order_by(DimensionScore.dimension))).all()
        recs = (await session.execute(select(ResultRecommendation.recommendation_id, ResultRecommendation.rank, ResultRecommendation.instruments, ResultRecommendation.training).where(ResultRecommendation.result_id == result_id).order_by(ResultRecommendation.rank))).all()
        refs = (await session.execute(select(ResultInstrument.kind, ResultInstrument.ref).where(ResultInstrument.result_id == result_id).order_by(ResultInstrument.kind, ResultInstrument.ref))).all()
        return dims, recs, refs

    async with sessions() as session, session.begin():
        for assessment in (await session.scalars(select(Assessment))).all():
            seeded = await session.scalar(select(Result).where(Result.assessment_id == assessment.id))
            version = await session.get(QuestionnaireVersion, assessment.questionnaire_version_id)
            again = await rescore(session, assessment, version, bundled[assessment.questionnaire_id])
            await session.flush()
            assert await rows_of(session, again.id) == await rows_of(session, seeded.id)
            assert (again.overall, again.overall_level, again.digital, again.green, again.resilience) == (
                seeded.overall, seeded.overall_level, seeded.digital, seeded.green, seeded.resilience)


async def test_the_same_seed_gives_the_same_companies_with_or_without_worker_processes(tmp_path, bundled):
    engines = [create_engine(f"sqlite+aiosqlite:///{tmp_path / f'{i}.db'}") for i in range(2)]
    try:
        for engine, workers in zip(engines, (0, 2), strict=True):
            await upgrade_async(engine)
            await seed_assessments(engine, list(bundled.values()), 60, seed=9, now=NOW, batch=25, workers=workers)
        statement = select(Assessment.id, Assessment.company_name, Assessment.sector, Result.overall).join(Result).order_by(Assessment.id)
        first, second = [await rows(e, statement) for e in engines]
        assert first == second and len(first) == 60
    finally:
        for engine in engines:
            await engine.dispose()


async def test_seeding_again_adds_after_what_is_there_and_real_submissions_still_get_ids(engine, bundled):
    await seed_assessments(engine, list(bundled.values()), 10, seed=1, now=NOW)
    await seed_assessments(engine, list(bundled.values()), 10, seed=2, now=NOW)
    assert await count(engine, Assessment) == 20
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        version = await session.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.questionnaire_id == "it"))
        assessment, _ = await create_assessment(
            session, version, language="en", cluster="did", sector="it", share_with_advisors=True, company=CompanyProfile(name="Real one")
        )
    assert assessment.id == 21


async def test_answers_lean_the_way_sectors_do(engine, bundled):
    await seed_assessments(engine, list(bundled.values()), 400, seed=11, now=NOW)
    statement = (
        select(Assessment.sector, DimensionScore.dimension, DimensionScore.score)
        .join(Result, Result.assessment_id == Assessment.id)
        .join(DimensionScore, DimensionScore.result_id == Result.id)
        .where(DimensionScore.dimension.in_(["data", "energy"]))
    )
    scores: dict[tuple[str, str], list[float]] = {}
    for sector, dimension, score in await rows(engine, statement):
        if score is not None:
            scores.setdefault((sector, dimension), []).append(score)
    mean = {key: statistics.mean(values) for key, values in scores.items()}
    assert mean["it", "data"] > mean["furniture", "data"] + 15
    assert mean["energy", "energy"] > mean["it", "energy"] + 15
    # Not uniform: a dimension's scores spread over most of the range.
    assert max(scores["furniture", "data"]) - min(scores["furniture", "data"]) > 60


async def test_only_the_questionnaires_named(engine, bundled):
    await seed_assessments(engine, [bundled["it"]], 25, seed=1, now=NOW)
    assert {(r.questionnaire_id, r.sector) for r in await rows(engine, select(Assessment))} == {("it", "it")}


def test_the_command_seeds_the_configured_database(tmp_path, monkeypatch, capsys):
    url = f"sqlite+aiosqlite:///{tmp_path / 'seeded.db'}"
    monkeypatch.setenv("RECENTRE_DATABASE_URL", url)
    assert cli.main(["seed", "--assessments", "12", "--questionnaire", "furniture", "--questionnaire", "energy", "--seed", "3"]) == 0
    assert "added 12 submitted assessments" in capsys.readouterr().err

    async def sectors():
        engine = create_engine(url)
        try:
            return {s for (s,) in await rows(engine, select(Assessment.sector))}
        finally:
            await engine.dispose()

    from tests.database import run_coroutine

    assert run_coroutine(sectors()) <= {"furniture", "energy"}


def test_the_command_refuses_an_unknown_questionnaire_and_a_count_below_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RECENTRE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    assert cli.main(["seed", "--assessments", "5", "--questionnaire", "furnitur"]) == 1
    assert capsys.readouterr().err == "error: unknown questionnaire 'furnitur'; offered: core, energy, furniture, it\n"
    assert cli.main(["seed", "--assessments", "0"]) == 1
    assert capsys.readouterr().err == "error: --assessments must be at least 1\n"
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize("lean", [0.02, 0.5, 0.98])
def test_drawn_answers_are_valid_for_every_bundled_questionnaire(bundled, lean):
    import random

    from scoring.answers import check_answers
    from scoring.synthetic import TendencyAnswers

    rng = random.Random(lean)
    for compiled in bundled.values():
        drawer = TendencyAnswers(compiled)
        for sector in compiled.meta.sectors:
            for cluster in CLUSTERS.values():
                company = {"size": rng.choice(["micro", "large"]), "sector": sector, "country": cluster.country, "cluster": cluster.id}
                for propensities in ({d: lean for d in compiled.dimensions}, {d: rng.random() for d in compiled.dimensions}):
                    answers = drawer.draw(rng, company, propensities)
                    # The seed scores them unchecked: they must be exactly what checking keeps.
                    assert check_answers(compiled, answers, company) == answers
