"""Storage on real SQLite and PostgreSQL databases: migrations and questionnaire versions."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC
from pathlib import Path

import pytest
from sqlalchemy import func, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from assessment.store.db import (
    DatabaseFileGone,
    DatabaseNotMigrated,
    create_engine,
    current_revisions,
    ensure_migrated,
    head_revisions,
    session_factory,
    unavailable_reason,
    upgrade,
    upgrade_async,
)
from assessment.store.models import (
    QuestionnaireVersion,
    Result,
    load_questionnaire_version,
    store_questionnaire_version,
)
from assessment.store.responses import CompanyProfile
from questionnaires.compile import compile_questionnaire
from tests.assessments import stored_assessment
from tests.database import in_sessions, query, run_coroutine, run_sql
from web import cli


@pytest.fixture
async def engine(database_url: str):
    engine = create_engine(database_url)
    await upgrade_async(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine):
    return session_factory(engine)


@pytest.fixture
def compiled(questionnaire_dir: Path):
    return compile_questionnaire(questionnaire_dir / "small.yaml")


async def table_names(engine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def count_versions(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(QuestionnaireVersion))


async def test_migrations_create_the_tables(database_url: str):
    engine = create_engine(database_url)
    try:
        assert await table_names(engine) == set()
        with pytest.raises(DatabaseNotMigrated, match="recentre db upgrade"):
            await ensure_migrated(engine)
        await upgrade_async(engine)
        assert {"alembic_version", "questionnaire_version"} <= await table_names(engine)
        assert await current_revisions(engine) == head_revisions()
        await ensure_migrated(engine)
        await upgrade_async(engine)  # a second run finds nothing to do
        assert await current_revisions(engine) == head_revisions()
    finally:
        await engine.dispose()


def test_cli_db_upgrade_migrates_the_database_of_the_environment(database_url: str, monkeypatch, tmp_path):
    monkeypatch.setenv("RECENTRE_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)  # the command must not depend on the current directory
    assert cli.main(["db", "upgrade"]) == 0

    async def revisions():
        engine = create_engine(database_url)
        try:
            return await current_revisions(engine)
        finally:
            await engine.dispose()

    assert run_coroutine(revisions()) == head_revisions()


async def test_storing_a_version_twice_keeps_one_row(sessions, compiled):
    async with sessions() as session, session.begin():
        first = await store_questionnaire_version(session, compiled)
    async with sessions() as session, session.begin():
        second = await store_questionnaire_version(session, compiled)
    assert first.id == second.id
    assert await count_versions(sessions) == 1
    assert (first.questionnaire_id, first.version, first.fingerprint) == ("small", "1", compiled.fingerprint)


async def test_the_stored_source_hashes_to_the_fingerprint(sessions, compiled):
    async with sessions() as session, session.begin():
        stored = await store_questionnaire_version(session, compiled)
    assert hashlib.sha256(stored.source.encode("utf-8")).hexdigest() == compiled.fingerprint


async def test_created_at_comes_back_in_utc(sessions, compiled):
    async with sessions() as session, session.begin():
        await store_questionnaire_version(session, compiled)
    async with sessions() as session:
        stored = await session.scalar(select(QuestionnaireVersion))
    assert stored.created_at.tzinfo is not None
    assert stored.created_at.utcoffset() == UTC.utcoffset(None)


async def test_a_loaded_version_is_the_stored_questionnaire(sessions, compiled):
    async with sessions() as session, session.begin():
        await store_questionnaire_version(session, compiled)
    async with sessions() as session:
        loaded = await load_questionnaire_version(session, compiled.fingerprint)
    assert loaded is not None
    assert loaded.fingerprint == compiled.fingerprint
    assert loaded.resolved == compiled.resolved
    assert list(loaded.questions) == ["tools", "kwh", "audit"]
    assert set(loaded.instruments) == {"iv"}


async def test_loading_an_unknown_fingerprint_gives_none(sessions):
    async with sessions() as session:
        assert await load_questionnaire_version(session, "0" * 64) is None


async def test_a_stored_version_outlives_its_files(sessions, questionnaire_dir: Path):
    path = questionnaire_dir / "small.yaml"
    original = compile_questionnaire(path)
    async with sessions() as session, session.begin():
        await store_questionnaire_version(session, original)

    path.write_text(path.read_text().replace("Small twin-transition check", "Renamed check"))
    edited = compile_questionnaire(path)
    assert edited.fingerprint != original.fingerprint
    async with sessions() as session, session.begin():
        await store_questionnaire_version(session, edited)
    for file in questionnaire_dir.rglob("*.yaml"):
        file.unlink()

    async with sessions() as session:
        old = await load_questionnaire_version(session, original.fingerprint)
        new = await load_questionnaire_version(session, edited.fingerprint)
    assert old.meta.title.en == "Small twin-transition check"
    assert new.meta.title.en == "Renamed check"
    assert "tools" in old.questions  # from the module file, deleted above
    assert await count_versions(sessions) == 2


async def test_the_synchronous_upgrade_explains_itself_inside_an_event_loop(sqlite_database: str):
    with pytest.raises(RuntimeError, match="upgrade_async"):
        upgrade(sqlite_database)


def test_the_database_holds_one_current_result_per_assessment(database_url: str, questionnaire_dir: Path):
    """Migration 0009: where two re-scorings at once had left two current results, the newest
    stays current; after it, a second current result cannot be stored."""
    upgrade(database_url, "0008")
    compiled = compile_questionnaire(questionnaire_dir / "small.yaml")

    async def submitted(sessions) -> int:
        assessment_id, _ = await stored_assessment(
            sessions, compiled, {"kwh": 50, "audit": True, "tools": "erp"},
            language="en", cluster="did", sector="furniture", share_with_advisors=False, company=CompanyProfile(),
        )
        return assessment_id

    assessment_id = in_sessions(database_url, submitted)
    # A copy of its current result, current too.
    twice = insert(Result).from_select(
        ["assessment_id", "questionnaire_version_id", "current", "profile", "created_at"],
        select(Result.assessment_id, Result.questionnaire_version_id, Result.current, Result.profile, Result.created_at)
        .where(Result.assessment_id == assessment_id, Result.current.is_(True))
        .limit(1),
    )
    run_sql(database_url, twice)
    assert len(query(database_url, select(Result.id).where(Result.current.is_(True)))) == 2

    upgrade(database_url)
    rows = query(database_url, select(Result.id, Result.current).order_by(Result.id))
    assert [current for _, current in rows] == [False, True]
    with pytest.raises(IntegrityError):
        run_sql(database_url, twice)
    # Not current, any number of results may be kept.
    earlier = insert(Result).from_select(
        ["assessment_id", "questionnaire_version_id", "current", "profile", "created_at"],
        select(Result.assessment_id, Result.questionnaire_version_id, False, Result.profile, Result.created_at).where(Result.assessment_id == assessment_id),
    )
    run_sql(database_url, earlier)
    assert len(query(database_url, select(Result.id).where(Result.current.is_(False)))) == 3


def _sqlite_error(statement: str) -> Exception:
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute(statement)
    except sqlite3.Error as exc:
        return exc
    raise AssertionError(f"{statement} did not fail")


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)"), "cannot reach the database: Connect call failed ('127.0.0.1', 5432)"),
        (OSError("Multiple exceptions: [Errno 111] Connect call failed"), "cannot reach the database: Multiple exceptions: [Errno 111] Connect call failed"),
        (TimeoutError(), "the database did not answer in time"),
        (sqlite3.OperationalError("database is locked"), None),  # no result code: not SQLite's own
        (DatabaseFileGone("the database file x.db was deleted"), "SQLite: the database file x.db was deleted"),
        # Bugs are not outages: they stay 500s, with their traceback in the log.
        (_sqlite_error("SELECT * FROM no_such_table"), None),
        (_sqlite_error("SELEC 1"), None),
        (FileNotFoundError(2, "No such file or directory", "report.pdf"), None),
        (ValueError("bad"), None),
    ],
)
def test_only_a_database_that_cannot_serve_is_unavailable(error: Exception, reason: str | None):
    assert unavailable_reason(error) == reason


def test_a_locked_sqlite_database_is_unavailable(tmp_path: Path):
    path = tmp_path / "x.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        assert unavailable_reason(exc) == "SQLite: database is locked"
    else:
        raise AssertionError("the second writer was let in")
    finally:
        other.close()
        holder.close()
