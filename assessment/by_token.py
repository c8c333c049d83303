"""The requests SMEs send most, by their private token: autosave's read of a draft with its
answers and its write of the answers ``responses.checked_updates`` accepted, and the results
page's look-up of the current result. Their SQL is handed straight to the driver.

Autosave is sent once per answer, and it was the slowest request for what it does: SQLAlchemy's
async layer costs some 30 µs a statement here, and the ORM's load and flush of the assessment
more than everything else the request did. So autosave reads one row (the assessment, its
answers aggregated into one JSON object by the database) and writes with one statement on
PostgreSQL (a round trip) or three on SQLite (in this thread, a few µs each); the results page,
whose drawing is kept (web/page_cache.py), needs one row. The connection still comes from the
engine's pool (which pings PostgreSQL connections before handing them out), and datetimes go
through the column type's own conversion, so what is stored is what the ORM would have stored.
Everything else reads and writes through the models (assessment/models.py); tests hold the two
to agree.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from .models import UTCDateTime, utcnow
from .responses import (
    EXPIRED,
    NOT_VALID,
    TOKEN_LIFETIME,
    AlreadySubmitted,
    Expired,
    NotFound,
    Saved,
    company_of,
    hash_token,
    looks_like_token,
)


@dataclass
class Draft:
    """What saving answers needs of an assessment (its status may no longer be draft)."""

    id: int
    version_id: int
    status: str
    section: str | None
    size: str | None
    sector: str
    country: str | None
    cluster: str
    language: str
    answers: dict

    @property
    def company(self) -> dict:
        return company_of(self)


@dataclass
class ResultRef:
    """What the results page needs to find its kept drawing."""

    assessment_id: int
    status: str
    language: str
    questionnaire_id: str
    result_id: int | None


SUBMITTED = "This assessment has been submitted; its answers can no longer change."

_COLUMNS = "id, questionnaire_version_id, status, current_section, size, sector, country, cluster, language"

# --- PostgreSQL (asyncpg) -------------------------------------------------------------------
#
# The answers come back as one JSON object, put together as text: each stored value is JSON
# already (msgspec wrote it), so the database need not parse them, only quote the ids.

_PG_READ = f"""
SELECT {_COLUMNS},
       (SELECT '{{' || string_agg(to_json(question_id)::text || ':' || value, ',') || '}}' FROM answer WHERE assessment_id = assessment.id),
       expires_at < $2
FROM assessment WHERE token_hash = $1
"""

# One statement, so one round trip and its own transaction. Its UPDATE takes the row's lock
# first: a save racing a submit waits for the submit to commit, then finds no draft, and the
# answers are not written either.
_PG_WRITE = """
WITH touched AS (
    UPDATE assessment SET updated_at = $2, expires_at = $3, current_section = $4
    WHERE id = $1 AND status = 'draft' RETURNING id
), cleared AS (
    DELETE FROM answer WHERE assessment_id IN (SELECT id FROM touched) AND question_id = ANY($5::varchar[])
), saved AS (
    INSERT INTO answer (assessment_id, question_id, value, updated_at)
    SELECT touched.id, given.question_id, given.value, $2
    FROM touched, unnest($6::varchar[], $7::text[]) AS given(question_id, value)
    ON CONFLICT (assessment_id, question_id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
)
SELECT count(*) FROM touched
"""

_PG_RESULT = """
SELECT assessment.id, status, language, questionnaire_id, result.id, expires_at < $2
FROM assessment LEFT JOIN result ON result.assessment_id = assessment.id AND result.current
WHERE token_hash = $1
"""

# --- SQLite (sqlite3, in this thread: assessment/db.py) ---------------------------------------

_SQLITE_READ = f"""
SELECT {_COLUMNS},
       (SELECT '{{' || group_concat(json_quote(question_id) || ':' || value, ',') || '}}' FROM answer WHERE assessment_id = assessment.id),
       expires_at < ?
FROM assessment WHERE token_hash = ?
"""
_SQLITE_RESULT = """
SELECT assessment.id, status, language, questionnaire_id, result.id, expires_at < ?
FROM assessment LEFT JOIN result ON result.assessment_id = assessment.id AND result.current
WHERE token_hash = ?
"""
_SQLITE_TOUCH = "UPDATE assessment SET updated_at = ?, expires_at = ?, current_section = ? WHERE id = ? AND status = 'draft'"
_SQLITE_CLEAR = "DELETE FROM answer WHERE assessment_id = ? AND question_id = ?"
_SQLITE_SAVE = """
INSERT INTO answer (assessment_id, question_id, value, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (assessment_id, question_id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
"""


class ByToken:
    """A connection for these requests: ``async with ByToken(engine) as stored``, then its
    methods. One connection from the pool serves a whole request, since taking one and giving
    it back costs as much as a statement."""

    def __init__(self, engine: AsyncEngine):
        self.engine = engine
        self.postgresql = engine.dialect.name == "postgresql"

    async def __aenter__(self) -> ByToken:
        self.connection = await self.engine.connect()
        self.driver = (await self.connection.get_raw_connection()).driver_connection
        return self

    async def __aexit__(self, *exc) -> None:
        await self.connection.close()

    async def open_draft(self, token: str, *, now: datetime | None = None) -> Draft:
        """The assessment this token opens, with its answers; the errors of ``open_assessment``."""
        *columns, answers = await self._row(token, now, _PG_READ, _SQLITE_READ)
        return Draft(*columns, answers=msgspec.json.decode(answers) if answers else {})

    async def store_answers(self, draft: Draft, saved: Saved, section: str | None) -> None:
        """Write what ``checked_updates`` accepted, and where the SME left off, in one
        transaction; AlreadySubmitted, and nothing written, if it is no longer a draft."""
        now = utcnow()
        expires = now + TOKEN_LIFETIME
        given = {q: msgspec.json.encode(v).decode() for q, v in saved.given.items()}
        if self.postgresql:
            touched = await self.driver.fetchval(
                _PG_WRITE, draft.id, now, expires, section, saved.cleared, list(given), list(given.values())
            )
        else:
            times = self._sqlite_time(now), self._sqlite_time(expires)
            touched = _sqlite_write(self.driver.sqlite3, draft.id, *times, section, saved.cleared, given)
        if touched != 1:
            raise AlreadySubmitted(SUBMITTED)

    async def current_result(self, token: str, *, now: datetime | None = None) -> ResultRef:
        """The assessment this token opens, and the id of its current result (None before it
        is submitted), without loading either; the errors of ``open_assessment``."""
        return ResultRef(*await self._row(token, now, _PG_RESULT, _SQLITE_RESULT))

    async def _row(self, token: str, now: datetime | None, postgresql: str, sqlite: str) -> list:
        """The columns of the query for this token, whose last column says whether the token
        has expired at ``now`` (and is left out); NotFound or Expired as ``open_assessment``."""
        if not looks_like_token(token):
            raise NotFound(NOT_VALID)
        now = now or utcnow()
        if self.postgresql:
            row = await self.driver.fetchrow(postgresql, hash_token(token), now)
        else:
            row = self.driver.sqlite3.execute(sqlite, (self._sqlite_time(now), hash_token(token))).fetchone()
        if row is None:
            raise NotFound(NOT_VALID)
        *columns, expired = row
        if expired:
            raise Expired(EXPIRED)
        return columns

    def _sqlite_time(self, moment: datetime) -> str:
        """``moment`` as the column type stores it in SQLite (UTC, in text), so that comparisons
        in SQL and later reads through the models see what the ORM would have written."""
        return _sqlite_time_converter(self.engine.dialect)(moment)


def _sqlite_write(db, assessment_id: int, now: str, expires: str, section: str | None, cleared: list[str], given: dict) -> int:
    # No await from here to the commit: the transaction holds SQLite's write lock briefly.
    with db:  # commits, or rolls back on an exception
        touched = db.execute(_SQLITE_TOUCH, (now, expires, section, assessment_id)).rowcount
        if touched != 1:
            return touched
        if cleared:
            db.executemany(_SQLITE_CLEAR, [(assessment_id, q) for q in cleared])
        if given:
            db.executemany(_SQLITE_SAVE, [(assessment_id, q, v, now) for q, v in given.items()])
    return touched


@functools.cache
def _sqlite_time_converter(dialect):
    return UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
