"""Erasing assessments, retention and sharing choices in the store and from the CLI
(`recentre erase`, `recentre purge`), on SQLite and PostgreSQL: everything that belongs to
an erased assessment goes, in one transaction, and nothing else does."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, true, update

from assessment.store.erasure import erase, expired, export_of, set_sharing
from assessment.store.models import (
    Answer,
    Assessment,
    DimensionScore,
    Note,
    Result,
    ResultInstrument,
    ResultRecommendation,
    utcnow,
)
from assessment.workspace.analysis import AnalysisCache, Labels, Scope
from questionnaires.compile import compile_questionnaire
from tests.database import in_database, in_sessions, query, run_sql
from tests.workspace import HIGH, LOW, add_user, make_assessment, workspace_settings

TABLES_OF_AN_ASSESSMENT = {
    "answer": lambda ids: select(func.count()).select_from(Answer).where(Answer.assessment_id.in_(ids)),
    "result": lambda ids: select(func.count()).select_from(Result).where(Result.assessment_id.in_(ids)),
    "dimension_score": lambda ids: select(func.count()).select_from(DimensionScore).join(Result, Result.id == DimensionScore.result_id).where(Result.assessment_id.in_(ids)),
    "result_recommendation": lambda ids: select(func.count()).select_from(ResultRecommendation).join(Result, Result.id == ResultRecommendation.result_id).where(Result.assessment_id.in_(ids)),
    "result_instrument": lambda ids: select(func.count()).select_from(ResultInstrument).join(Result, Result.id == ResultInstrument.result_id).where(Result.assessment_id.in_(ids)),
    "note": lambda ids: select(func.count()).select_from(Note).where(Note.assessment_id.in_(ids)),
    "assessment": lambda ids: select(func.count()).select_from(Assessment).where(Assessment.id.in_(ids)),
}


def rows_of(url: str, ids: list[int]) -> dict[str, int]:
    """How many rows of each table belong to the assessments ``ids``."""
    return {table: query(url, statement(ids))[0][0] for table, statement in TABLES_OF_AN_ASSESSMENT.items()}


def add_note(url: str, assessment_id: int, author_id: int, text: str = "Call back in May") -> None:
    run_sql(url, Note.__table__.insert().values(assessment_id=assessment_id, author_id=author_id, kind="note", text=text, created_at=utcnow()))


@pytest.fixture
def world(database_url: str, questionnaire_dir: Path, tmp_path: Path):
    """A company assessed three times (T0, T1, T2), another company, and a draft; notes."""
    workspace_settings(database_url, questionnaire_dir, tmp_path / "data")  # migrates
    t0 = make_assessment(database_url, questionnaire_dir, name="Mobili Rossi", answers=LOW)
    t1 = make_assessment(database_url, questionnaire_dir, previous=t0.id, answers=HIGH)
    t2 = make_assessment(database_url, questionnaire_dir, previous=t1.id, answers=HIGH)
    other = make_assessment(database_url, questionnaire_dir, name="Bianchi Design", answers=LOW)
    draft = make_assessment(database_url, questionnaire_dir, name="Arredo Bozza", submit=False)
    advisor = add_user(database_url, "advisor@did.example")
    for made in (t0, t1, other):
        add_note(database_url, made.id, advisor)
    return {"t0": t0, "t1": t1, "t2": t2, "other": other, "draft": draft, "url": database_url}


def chain(url: str) -> dict[int, tuple[int | None, int | None]]:
    return {id_: (previous, series) for id_, previous, series in query(url, select(Assessment.id, Assessment.previous_id, Assessment.series_id))}


def test_erasing_removes_every_row_of_the_assessment_and_nothing_else(world):
    url, t0, other = world["url"], world["t0"], world["other"]
    before = rows_of(url, [t0.id])
    assert before["answer"] and before["result"] and before["dimension_score"] and before["result_recommendation"]
    assert before["result_instrument"] and before["note"] == 1
    others = [world[k].id for k in ("t1", "t2", "other", "draft")]
    kept = rows_of(url, others)

    assert in_database(url, lambda s: erase(s, [t0.id, 999_999, 2**40])) == [t0.id]

    assert rows_of(url, [t0.id]) == dict.fromkeys(TABLES_OF_AN_ASSESSMENT, 0)
    assert rows_of(url, others) == kept
    assert in_database(url, lambda s: erase(s, [t0.id])) == []  # twice is harmless
    assert other.id in chain(url)


def test_erasing_a_t0_leaves_its_t1_and_t2_a_company_of_their_own(world):
    url, t0, t1, t2 = world["url"], world["t0"], world["t1"], world["t2"]
    assert chain(url)[t1.id] == (t0.id, t0.id) and chain(url)[t2.id] == (t1.id, t0.id)
    in_database(url, lambda s: erase(s, [t0.id]))
    assert chain(url)[t1.id] == (None, t1.id)
    assert chain(url)[t2.id] == (t1.id, t1.id)


def test_erasing_the_middle_of_a_series_links_the_next_to_the_one_before(world):
    url, t0, t1, t2 = world["url"], world["t0"], world["t1"], world["t2"]
    in_database(url, lambda s: erase(s, [t1.id]))
    assert chain(url)[t2.id] == (t0.id, t0.id)
    in_database(url, lambda s: erase(s, [t0.id, t2.id]))
    assert t0.id not in chain(url) and t2.id not in chain(url)


def test_an_erasure_rolled_back_removes_nothing(world):
    url, t0 = world["url"], world["t0"]
    before = rows_of(url, [t0.id])

    class Stop(Exception):
        pass

    async def erase_then_fail(session):
        await erase(session, [t0.id])
        raise Stop

    with pytest.raises(Stop):
        in_database(url, erase_then_fail)
    assert rows_of(url, [t0.id]) == before


def test_the_retention_periods_pick_old_drafts_and_old_submissions(world):
    url = world["url"]
    now = utcnow()
    run_sql(
        url,
        update(Assessment).where(Assessment.id == world["draft"].id).values(updated_at=now - timedelta(days=31)),
        update(Assessment).where(Assessment.id == world["other"].id).values(submitted_at=now - timedelta(days=400), updated_at=now - timedelta(days=400)),
    )
    assert in_database(url, lambda s: expired(s, draft_days=30, submitted_days=365)) == sorted([world["draft"].id, world["other"].id])
    assert in_database(url, lambda s: expired(s, draft_days=32, submitted_days=365)) == [world["other"].id]
    assert in_database(url, lambda s: expired(s, draft_days=32, submitted_days=401)) == []


def test_the_export_holds_the_profile_answers_results_and_notes(world):
    url, t0 = world["url"], world["t0"]

    async def exported(session):
        return await export_of(session, await session.get(Assessment, t0.id))

    data = in_database(url, exported)
    assert data["company"]["name"] == "Mobili Rossi"
    assert data["answers"] == LOW
    assert data["assessment"]["status"] == "submitted" and data["assessment"]["share_with_advisors"] is True
    assert [r["current"] for r in data["results"]] == [True]
    assert set(data["results"][0]["profile"]["dimensions"]) == {"data", "energy"}
    assert [n["text"] for n in data["notes"]] == ["Call back in May"]


def test_the_kept_analysis_sees_a_withdrawal_and_an_erasure_at_once(world, questionnaire_dir):
    url = world["url"]
    labels = Labels.of([compile_questionnaire(questionnaire_dir / "small.yaml")])
    cache = AnalysisCache(sessions=None)

    def smes_seen(scope: Scope, key: tuple) -> int:
        async def get(sessions):
            cache.sessions = sessions
            return await cache.get(key, scope, labels)

        return in_sessions(url, get).smes

    from assessment.workspace.accounts import CurrentUser
    from web.auth import visible_assessments

    advisor = Scope(visible_assessments(CurrentUser(1, "a@did.example", "advisor", "did")))
    assert smes_seen(advisor, ("advisor", "did")) == 2  # the company of T0-T2, and the other one
    assert smes_seen(Scope(true()), ("organiser",)) == 2

    async def withdraw(session):
        await set_sharing(session, await session.get(Assessment, world["other"].id), False)

    in_database(url, withdraw)
    assert smes_seen(advisor, ("advisor", "did")) == 1
    # Erased, then a new submission: on SQLite the new result may take the erased one's id.
    in_database(url, lambda s: erase(s, [world["t2"].id]))
    new = make_assessment(url, questionnaire_dir, name="Nuovo", answers=HIGH)
    assert smes_seen(Scope(true()), ("organiser",)) == 3
    in_database(url, lambda s: erase(s, [new.id]))
    assert smes_seen(Scope(true()), ("organiser",)) == 2


# --- The CLI --------------------------------------------------------------------------------


def run_cli(url: str, tmp_path: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "web.cli", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "RECENTRE_DATABASE_URL": url, **(env or {})},
        timeout=120,
    )


def test_cli_erase_erases_the_assessments_named(world, tmp_path):
    url, t0, other = world["url"], world["t0"], world["other"]
    done = run_cli(url, tmp_path, "erase", "--assessment", str(t0.id), "--assessment", str(other.id))
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"2 assessment(s) erased, with their answers, results and notes: {t0.id}, {other.id}\n"
    assert rows_of(url, [t0.id, other.id]) == dict.fromkeys(TABLES_OF_AN_ASSESSMENT, 0)
    assert chain(url)[world["t1"].id] == (None, world["t1"].id)

    again = run_cli(url, tmp_path, "erase", "--assessment", str(t0.id))
    assert (again.returncode, again.stdout, again.stderr) == (1, "0 assessment(s) erased, with their answers, results and notes\n", f"error: no assessment has the id {t0.id}\n")


def test_cli_erase_refuses_an_id_that_is_not_a_number(world, tmp_path):
    done = run_cli(world["url"], tmp_path, "erase", "--assessment", "x1")
    assert done.returncode == 2 and "argument --assessment: a whole number from 1 up, not 'x1'" in done.stderr


def test_cli_purge_with_dry_run_changes_nothing_and_without_erases(world, tmp_path):
    url = world["url"]
    old = datetime.now(UTC) - timedelta(days=2000)
    run_sql(
        url,
        update(Assessment).where(Assessment.id == world["draft"].id).values(updated_at=old),
        update(Assessment).where(Assessment.id == world["t0"].id).values(submitted_at=old),
    )
    expected = f"drafts unchanged for more than 365 days, assessments submitted more than 1826 days ago: 2 assessment(s) %s: {world['t0'].id}, {world['draft'].id}\n"
    dry = run_cli(url, tmp_path, "purge", "--dry-run")
    assert (dry.returncode, dry.stdout, dry.stderr) == (0, expected % "would be erased", "dry run: nothing was changed\n")
    assert rows_of(url, [world["t0"].id])["assessment"] == 1

    done = run_cli(url, tmp_path, "purge")
    assert (done.returncode, done.stdout, done.stderr) == (0, expected % "erased", "")
    assert rows_of(url, [world["t0"].id, world["draft"].id]) == dict.fromkeys(TABLES_OF_AN_ASSESSMENT, 0)
    assert len(chain(url)) == 3

    shorter = run_cli(url, tmp_path, "purge", env={"RECENTRE_RETAIN_SUBMITTED_DAYS": "1", "RECENTRE_RETAIN_DRAFT_DAYS": "1"})
    assert shorter.stdout.startswith("drafts unchanged for more than 1 days, assessments submitted more than 1 days ago: 0 assessment(s) erased")


def test_cli_purge_refuses_a_bad_period(world, tmp_path):
    done = run_cli(world["url"], tmp_path, "purge", env={"RECENTRE_RETAIN_DRAFT_DAYS": "0"})
    assert (done.returncode, done.stderr) == (2, "error: RECENTRE_RETAIN_DRAFT_DAYS: a whole number from 1 to 36500, not '0'\n")
