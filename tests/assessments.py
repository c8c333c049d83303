"""Stored assessments for tests, made as the app makes them: created by the service, their
answers saved through the one write path (``saving.save_answers``, as the API's PATCH saves
them), then submitted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from assessment.store import responses
from assessment.store.by_token import TokenStore
from assessment.store.models import Assessment, store_questionnaire_version
from assessment.store.saving import answers_patch, save_answers
from questionnaires.compile import CompiledQuestionnaire

Sessions = async_sessionmaker[AsyncSession]


async def save_as_the_api(sessions: Sessions, token: str, updates: dict) -> responses.Saved:
    """``updates`` saved to the draft ``token`` opens, as the API's PATCH saves them, by a
    TokenStore of its own (another server process, as far as the app can tell)."""
    tokens = await TokenStore.open(sessions.kw["bind"])
    try:
        written = await save_answers(tokens, responses.Versions(sessions), token, answers_patch(updates))
    finally:
        await tokens.close()
    return written.change.saved


async def stored_assessment(
    sessions: Sessions,
    compiled: CompiledQuestionnaire,
    answers: dict | Callable[[dict], dict] | None = None,
    *,
    submit: bool = True,
    previous: int | None = None,
    created_at: datetime | None = None,
    **create,
) -> tuple[int, str]:
    """A new assessment of ``compiled`` and its token: ``create`` are the arguments of
    ``create_assessment`` (or ``previous``, the id of the assessment it repeats), ``answers``
    its answers (or a function of its company that gives them), submitted unless ``submit``
    is false."""
    async with sessions() as session, session.begin():
        version = await store_questionnaire_version(session, compiled)
        if previous is not None:
            assessment, token = await responses.start_reassessment(session, await session.get(Assessment, previous), version, compiled)
        else:
            assessment, token = await responses.create_assessment(session, version, **create)
        if created_at is not None:
            assessment.created_at = created_at
    if callable(answers):
        answers = answers(responses.company_of(assessment))
    if answers:
        await save_as_the_api(sessions, token, answers)
    if submit:
        async with sessions() as session, session.begin():
            await responses.submit(session, await responses.open_assessment(session, token), compiled)
    return assessment.id, token
