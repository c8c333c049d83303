"""Re-scoring submitted assessments against the questionnaire versions now offered
(``recentre rescore``).

Re-scoring is never automatic: a new version of a questionnaire changes no stored result
until an organiser runs this. Each re-scored assessment gets a new current result; the old
results stay, so that what an SME was shown can always be reproduced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from questionnaires.compile import CompiledQuestionnaire, load_bundled
from scoring.answers import ScoringError

from .models import Assessment, QuestionnaireVersion, Result, store_questionnaire_version
from .responses import ResponseError, rescore

BATCH = 200
"""Assessments re-scored per transaction: a failure or an interruption loses one batch at
most, and a large database is never held in one long transaction."""


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
    """The questionnaires in ``root`` by id, as ``recentre serve`` offers them."""
    offered: dict[str, CompiledQuestionnaire] = {}
    for compiled in load_bundled(root):
        if compiled.id in offered:
            raise ValueError(f"two questionnaires have the id {compiled.id!r}: {offered[compiled.id].file} and {compiled.file}")
        offered[compiled.id] = compiled
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
        outcome.already_current = await _count_current(session, compiled.id, version.id)
    last_id = 0
    while True:
        async with sessions() as session, session.begin():
            ids = (
                await session.scalars(
                    _stale(compiled.id, version.id).where(Assessment.id > last_id).order_by(Assessment.id).limit(BATCH)
                )
            ).all()
            if not ids:
                break
            last_id = ids[-1]
            for assessment in (await session.scalars(select(Assessment).where(Assessment.id.in_(ids)).order_by(Assessment.id))).all():
                try:
                    # A savepoint each, so that one assessment that cannot be scored does not
                    # undo the rest of its batch.
                    async with session.begin_nested():
                        await rescore(session, assessment, version, compiled)
                    outcome.rescored += 1
                except (ResponseError, ScoringError) as exc:
                    outcome.failed.append((assessment.id, str(exc)))
    return outcome


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
