"""What an SME, an organiser or the retention periods may ask of the stored data: a copy of
an assessment (``export_of``), a change of its sharing choice (``set_sharing``), its erasure
(``erase``), and the assessments the retention periods have run out for (``expired``).

Each function takes the session first and leaves committing to the caller: an erasure is
one transaction, which removes everything or nothing.

What an assessment leaves in the database, and so what ``erase`` removes: its row; its
answers; its results, with each result's dimension scores, recommendations and instruments;
the advisors' notes and plan steps on it. Other assessments of the same company (a T1 after
this T0) stay whole: one that repeated the erased one is linked to the assessment the erased
one repeated, if any; and when the erased one began its company's series, the next one
begins it, so that the company is still counted once.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .models import (
    Answer,
    Assessment,
    DimensionScore,
    Note,
    QuestionnaireVersion,
    Result,
    ResultInstrument,
    ResultRecommendation,
    company_key,
    count_data_change,
    utcnow,
)

MAX_ID = 2**31 - 1
"""The largest id the columns hold (PostgreSQL's integer): no assessment has a larger one."""
CHUNK = 500
"""Ids per statement: both databases cap the parameters of one statement (some 32,000)."""


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


# --- Erasing -------------------------------------------------------------------------------


async def erase(session: AsyncSession, ids: Collection[int]) -> list[int]:
    """Remove the assessments ``ids`` and all that belongs to them (see the module's text);
    returns the ids that existed, in order. Ids that do not exist are left out, so that
    erasing twice is harmless."""
    found: dict[int, tuple[int | None, int]] = {}
    for chunk in _chunks(sorted({i for i in ids if 1 <= i <= MAX_ID})):
        rows = await session.execute(select(Assessment.id, Assessment.previous_id, company_key()).where(Assessment.id.in_(chunk)))
        found.update({id_: (previous, series) for id_, previous, series in rows})
    erased = sorted(found)
    if not erased:
        return []
    # Those that repeated an erased assessment now repeat what it repeated, if that stays.
    def kept_previous(previous: int | None) -> int | None:
        while previous in found:
            previous = found[previous][0]
        return previous

    for chunk in _chunks(erased):
        repeats = await session.execute(
            select(Assessment.id, Assessment.previous_id).where(Assessment.previous_id.in_(chunk), Assessment.id.not_in(chunk))
        )
        for id_, previous in repeats.all():
            if id_ not in found:
                await session.execute(update(Assessment).where(Assessment.id == id_).values(previous_id=kept_previous(previous)))
    # A series whose first assessment goes is begun by the first one that stays.
    heads = sorted({series for id_, (_previous, series) in found.items() if series == id_})
    for chunk in _chunks(heads):
        staying = await session.execute(
            select(Assessment.series_id, Assessment.id).where(Assessment.series_id.in_(chunk)).order_by(Assessment.id)
        )
        members: dict[int | None, list[int]] = {}
        for series, id_ in staying:
            if id_ not in found:
                members.setdefault(series, []).append(id_)
        for series, kept in members.items():
            # The erased members change too, for the moment they have left.
            await session.execute(update(Assessment).where(Assessment.series_id == series).values(series_id=kept[0]))
    for chunk in _chunks(erased):
        results = select(Result.id).where(Result.assessment_id.in_(chunk)).scalar_subquery()
        for table in (DimensionScore, ResultRecommendation, ResultInstrument):
            await session.execute(delete(table).where(table.result_id.in_(results)))
        await session.execute(delete(Result).where(Result.assessment_id.in_(chunk)))
        await session.execute(delete(Answer).where(Answer.assessment_id.in_(chunk)))
        await session.execute(delete(Note).where(Note.assessment_id.in_(chunk)))
        await session.execute(delete(Assessment).where(Assessment.id.in_(chunk)))
    await count_data_change(session)
    # The ORM's copies of the rows removed or changed here are stale now.
    session.expire_all()
    return erased


# --- Retention -----------------------------------------------------------------------------


async def expired(session: AsyncSession, *, draft_days: int, submitted_days: int, now: datetime | None = None) -> list[int]:
    """The assessments to erase under the retention periods: drafts not changed for more
    than ``draft_days``, and assessments submitted more than ``submitted_days`` ago."""
    now = now or utcnow()
    rows = await session.scalars(
        select(Assessment.id)
        .where(
            or_(
                and_(Assessment.status == "draft", Assessment.updated_at < now - timedelta(days=draft_days)),
                and_(Assessment.status == "submitted", Assessment.submitted_at < now - timedelta(days=submitted_days)),
            )
        )
        .order_by(Assessment.id)
    )
    return list(rows)


# --- The SME's choices and copy ------------------------------------------------------------


async def set_sharing(session: AsyncSession, assessment: Assessment, share: bool) -> bool:
    """Record the SME's sharing choice; True if it changed. From the commit on, the
    workspace shows the assessment to its cluster's advisors, and its contact details to
    anyone, only if ``share``: each view reads the choice, and the kept analyses count
    again (``count_data_change``)."""
    if bool(assessment.share_with_advisors) == share:
        return False
    assessment.share_with_advisors = share
    await session.flush()
    await count_data_change(session)
    return True


EXPORT_FORMAT = 1
"""The version of ``export_of``'s layout, for programs that read it."""


async def export_of(session: AsyncSession, assessment: Assessment) -> dict[str, Any]:
    """All that is stored about ``assessment``, as JSON-ready data: its company profile and
    choices, its answers, every result (each with its profile JSON) and the advisors' notes."""
    version = await session.get(QuestionnaireVersion, assessment.questionnaire_version_id)
    answers = await session.execute(select(Answer.question_id, Answer.value, Answer.updated_at).where(Answer.assessment_id == assessment.id).order_by(Answer.question_id))
    results = await session.scalars(select(Result).where(Result.assessment_id == assessment.id).order_by(Result.id))
    notes = await session.execute(select(Note.kind, Note.text, Note.created_at).where(Note.assessment_id == assessment.id).order_by(Note.id))

    def when(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "format": EXPORT_FORMAT,
        "exported_at": when(utcnow()),
        "assessment": {
            "questionnaire": assessment.questionnaire_id,
            "questionnaire_version": version.version if version else None,
            "language": assessment.language,
            "cluster": assessment.cluster,
            "sector": assessment.sector,
            "status": assessment.status,
            "share_with_advisors": bool(assessment.share_with_advisors),
            "privacy_accepted_at": when(assessment.privacy_accepted_at),
            "created_at": when(assessment.created_at),
            "updated_at": when(assessment.updated_at),
            "submitted_at": when(assessment.submitted_at),
            "link_expires_at": when(assessment.expires_at),
            "is_reassessment": assessment.previous_id is not None,
        },
        "company": {
            "name": assessment.company_name,
            "size": assessment.size,
            "country": assessment.country,
            "nace": assessment.nace,
            "contact_name": assessment.contact_name,
            "contact_email": assessment.contact_email,
        },
        "answers": {question: msgspec.json.decode(value) for question, value, _at in answers},
        "results": [
            {"scored_at": when(r.created_at), "current": bool(r.current), "profile": msgspec.json.decode(r.profile)} for r in results
        ],
        "notes": [{"kind": kind, "text": text, "created_at": when(at)} for kind, text, at in notes],
    }
