"""The PDF report of a submitted assessment, by its token: ``/api/v1/assessments/{token}/report.pdf``
for API clients (JSON errors) and ``/a/{token}/report.pdf`` for the download link of the
results page (Litestar's errors, as the other pages).

The PDF is rendered in a worker thread (``render_report_async``): a report takes tens of
milliseconds of CPU, which the event loop must not spend while other requests wait.
"""

from __future__ import annotations

from collections.abc import Callable

from litestar import Response, get
from litestar.datastructures import CacheControlHeader
from litestar.params import FromPath
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from assessment.store import responses
from assessment.store.models import Assessment, DimensionScore, Note, Result, User, company_key, latest_of_its_company
from questionnaires.compile import CompiledQuestionnaire
from questionnaires.messages import N_
from scoring.profile import Profile
from scoring.render.report import MIN_PEERS, ActionItem, ReportDetails, render_report_async
from scoring.render.report import Note as ReportNote

from .context import AppContext, Context, ReadSession
from .languages import Refusal


class NotSubmitted(responses.ResponseError):
    status_code = 409


NOT_SUBMITTED = N_("This assessment has not been submitted yet: its report comes with its results.")


async def peer_average(session: AsyncSession, assessment: Assessment) -> tuple[dict[str, float] | None, int]:
    """The mean score per dimension over the *other* companies of the same questionnaire
    and sector, each with the current result of its latest submitted assessment, and how
    many companies there are; the company's own assessments (T0 before its T1) are never
    among them. The averages only from MIN_PEERS up, as the report would not show them anyway."""
    own_company = assessment.series_id or assessment.id
    peers = [Assessment.questionnaire_id == assessment.questionnaire_id, Assessment.sector == assessment.sector]
    others = (
        select(Result.id)
        .join(Assessment, Assessment.id == Result.assessment_id)
        .where(Result.current.is_(True), Assessment.status == "submitted", *peers, company_key() != own_company, latest_of_its_company(*peers))
    )
    count = await session.scalar(select(func.count()).select_from(others.subquery())) or 0
    if count < MIN_PEERS:
        return None, count
    rows = await session.execute(
        select(DimensionScore.dimension, func.avg(DimensionScore.score))
        .where(DimensionScore.result_id.in_(others), DimensionScore.score.is_not(None))
        .group_by(DimensionScore.dimension)
    )
    return {dimension: round(mean, 2) for dimension, mean in rows}, count


async def report_pdf(context: AppContext, session: AsyncSession, token: str) -> bytes:
    """The PDF report of the submitted assessment ``token`` opens, for the SME."""
    assessment = await responses.open_assessment(session, token)
    return await drawn_after_reading(session, *await report_inputs(context, session, assessment))


async def drawn_after_reading(session: AsyncSession, compiled: CompiledQuestionnaire, profile: Profile, details: ReportDetails) -> bytes:
    """The PDF of what was read in ``session``, drawn once the reading is over: the session
    lets its connection go (on SQLite the app's only one) for the tens of milliseconds the
    drawing takes, rather than until the handler returns."""
    await session.close()
    return await render_report_async(compiled, profile, details)


async def report_inputs(
    context: AppContext,
    session: AsyncSession,
    assessment: Assessment,
    *,
    advisor_notes: bool = False,
    previous_allowed: Callable[[Assessment], bool] = lambda _: True,
) -> tuple[CompiledQuestionnaire, Profile, ReportDetails]:
    """What ``render_report`` needs for a submitted assessment. The SME's report carries the
    agreed action plan; the workspace's also the advisors' notes (``advisor_notes``), and
    the previous assessment only where ``previous_allowed`` says the reader may see it."""
    result = await responses.current_result(session, assessment) if assessment.status == "submitted" else None
    if result is None or assessment.submitted_at is None:
        raise NotSubmitted(NOT_SUBMITTED)
    # After a re-scoring the current result belongs to a newer version than the one
    # answered; the report explains it with the questionnaire it was scored against.
    compiled = await context.versions.get(result.questionnaire_version_id, session)
    previous = previous_date = None
    if assessment.previous_id is not None:
        before = await session.get(Assessment, assessment.previous_id)
        if before is not None and before.status == "submitted" and before.submitted_at is not None and previous_allowed(before):
            before_result = await responses.current_result(session, before)
            if before_result is not None:
                previous, previous_date = responses.decode_profile(before_result), before.submitted_at.date()
    averages, peers = await peer_average(session, assessment)
    notes = (
        await session.execute(
            select(Note.kind, Note.text, User.email, Note.created_at)
            .join(User, User.id == Note.author_id)
            .where(Note.assessment_id == assessment.id)
            .order_by(Note.created_at, Note.id)
        )
    ).all()
    profile = responses.decode_profile(result)
    company = responses.company_of(assessment)
    details = ReportDetails(
        company_name=assessment.company_name or "",
        sector=assessment.sector,
        cluster=assessment.cluster,
        country=company["country"],
        assessment_date=assessment.submitted_at.date(),
        language=profile.language,
        previous=previous if previous is not None and previous.language == profile.language else None,
        previous_date=previous_date,
        peer_average=averages,
        peer_count=peers,
        # The steps agreed with the SME; the advisors' own notes stay in their workspace.
        action_plan=[ActionItem(action=text) for kind, text, _, _ in notes if kind == "plan"],
        advisor_notes=[ReportNote(author=email, time=at, text=text) for kind, text, email, at in notes if kind == "note"]
        if advisor_notes
        else [],
    )
    return compiled, profile, details


def pdf_response(pdf: bytes) -> Response[bytes]:
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="recentre-report.pdf"'},
    )


@get("/a/{token:str}/report.pdf", cache_control=CacheControlHeader(no_store=True), include_in_schema=False)
async def page_report(context: Context, session: ReadSession, token: FromPath[str]) -> Response[bytes]:
    """The results page's download link: the same PDF, with the site's error pages."""
    try:
        return pdf_response(await report_pdf(context, session, token))
    except responses.ResponseError as exc:
        raise Refusal(status_code=exc.status_code, detail=exc.message) from None
