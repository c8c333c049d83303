"""`recentre rescore` on real SQLite and PostgreSQL: only when asked, old results kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from assessment.store import responses as r
from assessment.store.db import upgrade
from assessment.store.models import Assessment, Result
from questionnaires.compile import compile_questionnaire
from tests.assessments import stored_assessment
from tests.database import in_database, in_sessions
from tests.helpers import CONDITIONS, write_conditions
from tests.small_questionnaire import write_small_questionnaire
from web.cli import main


def write_folder(folder: Path, conditions: str | None) -> Path:
    write_small_questionnaire(folder)
    if conditions is not None:
        write_conditions(folder, conditions)
    return folder


def submitted_assessments(url: str, compiled, answer_sets: list[dict], drafts: int = 0) -> list[int]:
    async def work(sessions):
        ids = []
        for answers in answer_sets + [None] * drafts:
            assessment_id, _ = await stored_assessment(
                sessions, compiled, answers, submit=answers is not None,
                language="en", cluster="did", sector="furniture", share_with_advisors=False, company=r.CompanyProfile(country="IT"),
            )
            ids.append(assessment_id)
        return ids

    return in_sessions(url, work)


def results(url: str) -> list[tuple[int, bool, str, float]]:
    """(assessment id, current, fingerprint scored against, data score), oldest first."""

    async def work(session):
        rows = (await session.scalars(select(Result).order_by(Result.assessment_id, Result.id))).all()
        return [(x.assessment_id, x.current, r.decode_profile(x).questionnaire.fingerprint[:12], r.decode_profile(x).dimensions["data"].score) for x in rows]

    return in_database(url, work)


@pytest.fixture
def env(monkeypatch, database_url: str) -> str:
    upgrade(database_url)
    monkeypatch.setenv("RECENTRE_DATABASE_URL", database_url)
    return database_url


def rescore(monkeypatch, capsys, folder: Path, *args: str) -> tuple[int, str, str]:
    monkeypatch.setenv("RECENTRE_QUESTIONNAIRES", str(folder))
    code = main(["rescore", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_rescoring_only_what_a_new_version_changes_keeping_old_results(env, tmp_path, monkeypatch, capsys):
    v1 = write_folder(tmp_path / "v1", CONDITIONS)
    # Version 2 scores the scale d out of 8 instead of 4.
    v2 = write_folder(tmp_path / "v2", CONDITIONS.replace('version: "1"', 'version: "2"').replace("min: 0, max: 4}\n      - {kind: text", "min: 0, max: 8}\n      - {kind: text"))
    old, new = compile_questionnaire(v1 / "cond.yaml"), compile_questionnaire(v2 / "cond.yaml")
    assert old.fingerprint != new.fingerprint
    answers = {"has_meter": False, "staff": 3, "tools": ["erp"], "d": 4}
    first, second, _draft = submitted_assessments(env, old, [answers, {**answers, "d": 2}], drafts=1)
    before = [(first, True, old.fingerprint[:12], 100.0), (second, True, old.fingerprint[:12], 75.0)]
    assert results(env) == before

    assert rescore(monkeypatch, capsys, v1, "--all") == (0, f"cond 1 ({old.fingerprint[:12]}): 0 re-scored, 2 already current\nsmall 1 ({compile_questionnaire(v1 / 'small.yaml').fingerprint[:12]}): 0 re-scored, 0 already current\n", "")

    code, out, err = rescore(monkeypatch, capsys, v2, "--questionnaire", "cond", "--dry-run")
    assert (code, out, err) == (0, f"cond 2 ({new.fingerprint[:12]}): 2 would be re-scored, 0 already current\n", "dry run: nothing was changed\n")
    assert results(env) == before

    code, out, _ = rescore(monkeypatch, capsys, v2, "--questionnaire", "cond")
    assert (code, out) == (0, f"cond 2 ({new.fingerprint[:12]}): 2 re-scored, 0 already current\n")
    assert results(env) == [
        (first, False, old.fingerprint[:12], 100.0),
        (first, True, new.fingerprint[:12], 75.0),  # tools 1/1, d 4/8
        (second, False, old.fingerprint[:12], 75.0),
        (second, True, new.fingerprint[:12], 62.5),
    ]
    code, out, _ = rescore(monkeypatch, capsys, v2, "--questionnaire", "cond")
    assert out == f"cond 2 ({new.fingerprint[:12]}): 0 re-scored, 2 already current\n"

    async def statuses(session):
        return sorted((await session.scalars(select(Assessment.status))).all())

    assert in_database(env, statuses) == ["draft", "submitted", "submitted"]


def test_questionnaires_no_longer_offered_are_reported_and_left_alone(env, tmp_path, monkeypatch, capsys):
    v1 = write_folder(tmp_path / "v1", CONDITIONS)
    submitted_assessments(env, compile_questionnaire(v1 / "cond.yaml"), [{"has_meter": False, "staff": 3, "tools": [], "d": 0}])
    without = write_folder(tmp_path / "without", None)
    code, out, _ = rescore(monkeypatch, capsys, without, "--all")
    assert code == 0
    assert out.splitlines()[-1] == "cond: 1 submitted, no longer offered: results kept as they are"
    assert len(results(env)) == 1


def test_rescore_must_be_told_what(env, tmp_path, monkeypatch, capsys):
    folder = write_folder(tmp_path / "q", None)
    with pytest.raises(SystemExit) as exited:
        rescore(monkeypatch, capsys, folder)
    assert exited.value.code == 2
    assert "one of the arguments --questionnaire --all is required" in capsys.readouterr().err
    code, out, err = rescore(monkeypatch, capsys, folder, "--questionnaire", "nope")
    assert (code, out) == (1, "")
    assert err == f"error: no questionnaire 'nope' is offered in {folder} (offered: small)\n"
