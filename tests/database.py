"""A test's database reached from synchronous test code, on connections of its own beside
the app's: statements run and committed, queries, work done in a session (or in sessions),
and the stored profiles."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from assessment.store.db import create_engine, session_factory
from assessment.store.models import Assessment, Result

T = TypeVar("T")


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """What ``coroutine`` returns, run to completion in a thread of its own so as not to
    disturb the event loop that pytest-asyncio (or Playwright) keeps in this thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _in_session(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            return await work(session)
    finally:
        await engine.dispose()


def in_database(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """What ``work(session)`` returns, run in a transaction on ``url`` that is then committed."""
    return run_coroutine(_in_session(url, work))


def in_sessions(url: str, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """What ``work(sessions)`` returns, given a session factory on ``url``: for work that
    commits in steps, such as saving answers between creating and submitting."""

    async def run() -> T:
        engine = create_engine(url)
        try:
            return await work(session_factory(engine))
        finally:
            await engine.dispose()

    return run_coroutine(run())


def query(url: str, statement: Any) -> list[Any]:
    """The rows ``statement`` selects on ``url`` (ORM entities where it selects them)."""

    async def rows(session: AsyncSession) -> list[Any]:
        return list((await session.execute(statement)).all())

    return in_database(url, rows)


async def _run_sql(url: str, statements: tuple[Any, ...]) -> list[Any]:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            return [await connection.execute(s) for s in statements]
    finally:
        await engine.dispose()


def run_sql(url: str, *statements: Any) -> list[Any]:
    """The results of ``statements``, run in order in one transaction on ``url`` and committed."""
    return run_coroutine(_run_sql(url, statements))


def submitted_profiles(url: str) -> list[tuple[Assessment, dict[str, Any]]]:
    """Every submitted assessment with its current profile, as JSON decoded."""

    async def read(session: AsyncSession) -> list[tuple[Assessment, dict[str, Any]]]:
        current = (Result.assessment_id == Assessment.id) & Result.current.is_(True)
        rows = await session.execute(select(Assessment, Result.profile).join(Result, current).where(Assessment.status == "submitted"))
        return [(a, msgspec.json.decode(p)) for a, p in rows]

    return in_database(url, read)


def latest_of_each_company(rows: list[tuple[Assessment, dict[str, Any]]]) -> list[tuple[Assessment, dict[str, Any]]]:
    """Of ``submitted_profiles``, each company's latest submitted assessment only: its series
    (T0, T1, ...) counted the slow way, as the sector analysis must count it."""
    latest: dict[int, tuple[Assessment, dict[str, Any]]] = {}
    for assessment, profile in rows:
        company = assessment.series_id or assessment.id
        if company not in latest or latest[company][0].id < assessment.id:
            latest[company] = (assessment, profile)
    return sorted(latest.values(), key=lambda row: row[0].id)
