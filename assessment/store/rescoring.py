"""Re-scoring submitted assessments against the questionnaire versions now offered
(``recentre rescore``).

Re-scoring is never automatic: a new version of a questionnaire changes no stored result
until an organiser runs this. Each re-scored assessment gets a new current result; the old
results stay, so that what an SME was shown can always be reproduced.

It runs beside the live server, and may run twice at once. So each batch is read and scored
first, with no transaction open, then its results are written in one short transaction that
first takes the write lock (SQLite: ``begin_writing``) or the assessments' rows (PostgreSQL:
``FOR UPDATE``) and checks again which of them still need it: what another run stored
meanwhile is skipped. The database allows one current result per assessment (migration
0009); a batch that meets one all the same is tried again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import msgspec
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from assessment.settings import SettingsError
from questionnaires.compile import CompiledQuestionnaire, load_bundled
from questionnaires.diagnostics import QuestionnaireError
from scoring.answers import ScoringError
from scoring.profile import Profile

from .db import begin_writing
from .models import Answer, Assessment, QuestionnaireVersion, Result, store_questionnaire_version
from .responses import ResponseError, company_of, rescored_profile, store_result

BATCH = 200
"""Assessments re-scored per transaction: a failure or an interruption loses one batch at
most, and a large database is never held in one long transaction."""

WRITE_ATTEMPTS = 3
"""How often a batch's results are written again after finding a current result that
another process stored meanwhile."""


@dataclass
class Outcome:
    """What re-scoring did (or, in a dry run, would do) for one questionnaire."""

    questionnaire: str
    version: str
    fingerprint: str
    rescored: int = 0
    already_current: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)
    """(assessment id, reason) for answers that could not be scored against this version."""


def offered_questionnaires(root: Path) -> dict[str, CompiledQuestionnaire]:
    """The questionnaires in ``root`` by id, as ``recentre serve`` offers them. A folder
    that is missing, offers nothing, or holds a file with errors is a SettingsError naming
    RECENTRE_QUESTIONNAIRES, the cause and the fix, in one line."""
    if not root.is_dir():
        raise SettingsError(f"RECENTRE_QUESTIONNAIRES: no folder {root}: name the folder that holds the questionnaires (unset, the bundled ones are offered)")
    try:
        found = load_bundled(root)
    except QuestionnaireError as exc:
        more = f" (and {len(exc.diagnostics) - 1} more)" if len(exc.diagnostics) > 1 else ""
        raise SettingsError(f"RECENTRE_QUESTIONNAIRES: {exc.diagnostics[0]}{more}; `recentre validate {root}` shows every problem") from None
    offered: dict[str, CompiledQuestionnaire] = {}
    for compiled in found:
        if compiled.id in offered:
            raise SettingsError(
                f"RECENTRE_QUESTIONNAIRES: two questionnaires have the id {compiled.id!r}: {offered[compiled.id].file} and {compiled.file}; rename one"
            )
        offered[compiled.id] = compiled
    if not offered:
        raise SettingsError(
            f"RECENTRE_QUESTIONNAIRES: {root} offers no questionnaire (no file of kind: questionnaire there): "
            "add one, or name the folder that holds them"
        )
    return offered


def _stale(questionnaire_id: str, version_id: int | None):
    """Submitted assessments of the questionnaire whose current result was not scored
    against ``version_id`` (or that have no result at all)."""
    current = and_(Result.assessment_id == Assessment.id, Result.current.is_(True))
    query = (
        select(Assessment.id)
        .outerjoin(Result, current)
        .where(Assessment.questionnaire_id == questionnaire_id, Assessment.status == "submitted")
    )
    if version_id is None:
        return query
    return query.where(or_(Result.id.is_(None), Result.questionnaire_version_id != version_id))


async def _count_current(session: AsyncSession, questionnaire_id: str, version_id: int | None) -> int:
    if version_id is None:
        return 0
    count = await session.scalar(
        select(func.count())
        .select_from(Assessment)
        .join(Result, and_(Result.assessment_id == Assessment.id, Result.current.is_(True)))
        .where(
            Assessment.questionnaire_id == questionnaire_id,
            Assessment.status == "submitted",
            Result.questionnaire_version_id == version_id,
        )
    )
    return count or 0


async def rescore_questionnaire(
    sessions: async_sessionmaker[AsyncSession], compiled: CompiledQuestionnaire, *, dry_run: bool = False
) -> Outcome:
    outcome = Outcome(compiled.id, compiled.version, compiled.fingerprint)
    if dry_run:
        # Nothing is written, not even the version: an assessment cannot be on a version
        # that is not stored yet, so all of them would be re-scored.
        async with sessions() as session:
            version_id = await session.scalar(
                select(QuestionnaireVersion.id).where(QuestionnaireVersion.fingerprint == compiled.fingerprint)
            )
            stale = await session.scalar(select(func.count()).select_from(_stale(compiled.id, version_id).subquery()))
            outcome.rescored = stale or 0
            outcome.already_current = await _count_current(session, compiled.id, version_id)
        return outcome

    async with sessions() as session, session.begin():
        version = await store_questionnaire_version(session, compiled)
    last_id = 0
    while True:
        async with sessions() as session:
            batch = await _stale_batch(session, compiled.id, version.id, last_id)
        if not batch:
            break
        last_id = batch[-1][0].id
        scored: dict[int, Profile] = {}
        for assessment, answers in batch:
            try:
                scored[assessment.id] = rescored_profile(compiled, answers, company_of(assessment), assessment.language)
            except (ResponseError, ScoringError) as exc:
                outcome.failed.append((assessment.id, str(exc)))
        if not scored:
            continue
        stored = await _store_results(sessions, compiled.id, version.id, scored)
        if stored is None:
            outcome.failed += [(i, "another process kept storing results for it meanwhile: run this again") for i in scored]
            continue
        outcome.rescored += stored
    # Counted at the end: those another run re-scored meanwhile are current too.
    async with sessions() as session:
        outcome.already_current = await _count_current(session, compiled.id, version.id) - outcome.rescored
    return outcome


async def _stale_batch(session: AsyncSession, questionnaire_id: str, version_id: int, after: int) -> list[tuple[Assessment, dict]]:
    """The next BATCH assessments after id ``after`` that need re-scoring, with their answers."""
    ids = (await session.scalars(_stale(questionnaire_id, version_id).where(Assessment.id > after).order_by(Assessment.id).limit(BATCH))).all()
    if not ids:
        return []
    answers: dict[int, dict] = {i: {} for i in ids}
    rows = await session.execute(select(Answer.assessment_id, Answer.question_id, Answer.value).where(Answer.assessment_id.in_(ids)))
    for assessment_id, question_id, value in rows:
        answers[assessment_id][question_id] = msgspec.json.decode(value)
    assessments = (await session.scalars(select(Assessment).where(Assessment.id.in_(ids)).order_by(Assessment.id))).all()
    return [(a, answers[a.id]) for a in assessments]


async def _store_results(
    sessions: async_sessionmaker[AsyncSession], questionnaire_id: str, version_id: int, scored: dict[int, Profile]
) -> int | None:
    """Each profile of ``scored`` stored as its assessment's new current result, in one
    transaction, where the assessment still needs it once its row is locked; how many were
    stored, or None if other processes kept storing results for them meanwhile."""
    ids = sorted(scored)
    for _ in range(WRITE_ATTEMPTS):
        try:
            async with sessions() as session, session.begin():
                await begin_writing(session)
                locked = (await session.scalars(select(Assessment).where(Assessment.id.in_(ids)).order_by(Assessment.id).with_for_update())).all()
                still = set((await session.scalars(_stale(questionnaire_id, version_id).where(Assessment.id.in_(ids)))).all())
                stored = 0
                for assessment in locked:
                    if assessment.id in still:
                        await store_result(session, assessment, version_id, scored[assessment.id])
                        stored += 1
            return stored
        except IntegrityError:
            continue  # a current result stored meanwhile without the row's lock: read again
    return None


async def not_offered(session: AsyncSession, offered: dict[str, CompiledQuestionnaire]) -> dict[str, int]:
    """Submitted assessments of questionnaires no longer offered, by questionnaire id: they
    keep their results, as nothing offered can re-score them."""
    rows = await session.execute(
        select(Assessment.questionnaire_id, func.count())
        .where(Assessment.status == "submitted", Assessment.questionnaire_id.not_in(list(offered) or [""]))
        .group_by(Assessment.questionnaire_id)
        .order_by(Assessment.questionnaire_id)
    )
    return {qid: n for qid, n in rows}
