"""SQLite used from the event loop's thread (assessment/store/db.py), behind SQLAlchemy's aiosqlite
dialect: what the program relies on still holds."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import exc, insert, select, text

from assessment.store.db import create_engine, upgrade_async
from assessment.store.models import QuestionnaireVersion, utcnow


@pytest.fixture
async def engine(sqlite_database):
    engine = create_engine(sqlite_database)
    await upgrade_async(engine)
    yield engine
    await engine.dispose()


def version(fingerprint: str) -> dict:
    return {"questionnaire_id": "q", "version": "1", "fingerprint": fingerprint, "source": "{}", "created_at": utcnow()}


async def test_queries_start_no_thread(engine):
    await engine.dispose()  # a new connection, made below
    before = {t.ident for t in threading.enumerate()}
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT 41 + 1"))).scalar_one() == 42
        assert (await connection.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
        assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
    assert {t.ident for t in threading.enumerate()} == before


async def test_a_failed_transaction_leaves_nothing_and_errors_keep_their_kind(engine):
    async with engine.begin() as connection:
        await connection.execute(insert(QuestionnaireVersion).values(**version("a" * 64)))
    with pytest.raises(exc.IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(insert(QuestionnaireVersion).values(**version("b" * 64)))
            await connection.execute(insert(QuestionnaireVersion).values(**version("a" * 64)))
    async with engine.connect() as connection:
        stored = (await connection.execute(select(QuestionnaireVersion.fingerprint))).scalars().all()
    assert stored == ["a" * 64]


async def test_streaming_and_autocommit_work(engine):
    async with engine.begin() as connection:
        await connection.execute(insert(QuestionnaireVersion), [version(c * 64) for c in "abc"])
    async with engine.connect() as connection:
        result = await connection.stream(select(QuestionnaireVersion.fingerprint).order_by(QuestionnaireVersion.fingerprint))
        assert [row[0][0] async for row in result] == ["a", "b", "c"]
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("DELETE FROM questionnaire_version WHERE fingerprint LIKE 'c%'"))
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM questionnaire_version"))).scalar_one() == 2
