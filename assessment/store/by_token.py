"""The fast path of the requests SMEs send most, by their private token: every save of
answers (``saving.save_answers``: the page without JavaScript, htmx's autosave, the API's
PATCH) reads its draft and writes through here, and the results page looks up the current
result here.

Autosave is sent once per answer, and it was the slowest request for what it does, so these
requests take three short cuts, which ``TokenStore`` keeps together:

- **Their own connections.** Taking a connection from SQLAlchemy's pool and giving it back
  cost more than the queries: some 40 µs on SQLite, and on PostgreSQL a round trip more, for
  the pool's ping. So the store has connections of its own: an asyncpg pool on PostgreSQL
  (whose connections are checked without a round trip, and need no reset: these queries
  change no session state), and on SQLite one ``sqlite3`` connection of its own, used from
  the event loop's thread. The SQL is handed straight to the driver, and datetimes go through
  the column type's own conversion, so what is stored is what the ORM would have stored.
  Rows are read by column name (asyncpg's ``Record``, ``sqlite3.Row``).
- **Drafts kept between saves.** An SME saves one answer after another on the same draft, and
  reading its 50 answers back each time was the larger half of a save. So the store keeps the
  drafts it read or wrote last (``DRAFTS_KEPT``), each with the ``updated_at`` it was read
  at. A save writes only if the row still has that ``updated_at`` (every change of an
  assessment sets it, through the models or here); if another process, or another request
  through the models, changed the assessment meanwhile, nothing is written, the kept draft is
  dropped, and the save is checked again against the stored answers (``save_answers``).
  Answers are refused only on the stored draft, never on a kept one.
- **One save of an assessment at a time in this process** (``turn``). htmx sends one
  autosave per question, and an SME ticks faster than a loaded server saves: saves of one
  draft that overlapped all read the same ``updated_at``, only one of them could write, and
  the others, checked again and again, gave up after ``SAVE_ATTEMPTS`` (409, and the page
  reloaded without their answers). Taking turns, each save starts from the draft the one
  before it wrote; only another process can still change it meanwhile.
- **One transaction, in one statement on PostgreSQL** (a round trip), or in three on SQLite
  with no await between them.

Everything else (creating, submitting and re-scoring assessments, and what the other pages
read) goes through the models (assessment/store/models.py); tests hold the two to agree.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import sqlite3
import time
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from assessment.settings import DatabaseTimeouts

from .db import SQLITE_LOCK_WAIT_S, SQLiteFile, is_busy, postgres_connect_args, sqlite_pragmas
from .models import UTCDateTime, utcnow
from .responses import (
    EXPIRED,
    NOT_VALID,
    SUBMITTED,
    TOKEN_LIFETIME,
    AlreadySubmitted,
    Expired,
    NotFound,
    Saved,
    company_of,
    hash_token,
    looks_like_token,
)

if TYPE_CHECKING:
    import asyncpg

T = TypeVar("T")

RELEASE_S = 1.0
"""How long a PostgreSQL connection may take to go back to the pool (``TokenStore._connection``)."""

DRAFTS_KEPT = 2000
"""Drafts kept between saves, the least recently used dropped first: some 10 kB each."""


@dataclass(frozen=True)
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
    token_hash: str
    updated_at: Any
    """As the database holds it (text on SQLite): a save writes only where it is unchanged."""
    expires_at: datetime
    kept: bool = dataclasses.field(default=False, compare=False)
    """Whether it comes from the store's memory rather than straight from the database."""

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


@dataclass
class StoredResult:
    """What the results page draws once per result: the profile JSON as stored, the
    questionnaire version it was scored with, and the company's name and submission time."""

    profile: str
    version_id: int
    company_name: str | None
    submitted_at: datetime


class DraftChanged(Exception):
    """The assessment changed between reading the draft and writing to it: nothing was written."""


_DRAFT_COLUMNS = (
    "id, questionnaire_version_id AS version_id, status, current_section AS section, "
    "size, sector, country, cluster, language, updated_at, expires_at"
)
_RESULT_COLUMNS = (
    "assessment.id AS assessment_id, status, language, questionnaire_id, result.id AS result_id"
)
_STORED_RESULT = """
SELECT result.profile, result.questionnaire_version_id AS version_id, assessment.company_name, assessment.submitted_at
FROM result JOIN assessment ON assessment.id = result.assessment_id
WHERE result.id = {}
"""

# --- PostgreSQL (asyncpg) -------------------------------------------------------------------
#
# The answers come back as one JSON object, put together as text: each stored value is JSON
# already (msgspec wrote it), so the database need not parse them, only quote the ids.

_PG_READ = f"""
SELECT {_DRAFT_COLUMNS},
       (SELECT '{{' || string_agg(to_json(question_id)::text || ':' || value, ',') || '}}' FROM answer WHERE assessment_id = assessment.id) AS answers
FROM assessment WHERE token_hash = $1
"""

# One statement, so one round trip and its own transaction. Its UPDATE takes the row's lock
# first: a save racing a submit waits for the submit to commit, then finds no draft (nor the
# updated_at it read), and the answers are not written either.
_PG_WRITE = """
WITH touched AS (
    UPDATE assessment SET updated_at = $2, expires_at = $3, current_section = $4, language = $9
    WHERE id = $1 AND status = 'draft' AND updated_at = $8 RETURNING id
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

_PG_RESULT = f"""
SELECT {_RESULT_COLUMNS}, expires_at < $2 AS expired
FROM assessment LEFT JOIN result ON result.assessment_id = assessment.id AND result.current
WHERE token_hash = $1
"""
_PG_STORED_RESULT = _STORED_RESULT.format("$1")

# --- SQLite (sqlite3, in this thread) --------------------------------------------------------

_SQLITE_READ = f"""
SELECT {_DRAFT_COLUMNS},
       (SELECT '{{' || group_concat(json_quote(question_id) || ':' || value, ',') || '}}' FROM answer WHERE assessment_id = assessment.id) AS answers
FROM assessment WHERE token_hash = ?
"""
_SQLITE_RESULT = f"""
SELECT {_RESULT_COLUMNS}, expires_at < ? AS expired
FROM assessment LEFT JOIN result ON result.assessment_id = assessment.id AND result.current
WHERE token_hash = ?
"""
_SQLITE_STORED_RESULT = _STORED_RESULT.format("?")
_SQLITE_TOUCH = (
    "UPDATE assessment SET updated_at = ?, expires_at = ?, current_section = ?, language = ? "
    "WHERE id = ? AND status = 'draft' AND updated_at = ?"
)
_SQLITE_CLEAR = "DELETE FROM answer WHERE assessment_id = ? AND question_id = ?"
_SQLITE_SAVE = """
INSERT INTO answer (assessment_id, question_id, value, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (assessment_id, question_id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
"""

# asyncpg's pool would otherwise send a reset query (a round trip) each time a connection
# goes back; these queries leave no session state behind, and asyncpg still rolls back a
# transaction left open.
async def _no_reset(connection) -> None:
    pass


class TokenStore:
    """The token requests' connections and kept drafts, for the life of the app: ``await
    TokenStore.open(engine)``, then its methods, then ``await store.close()``."""

    def __init__(self, engine: AsyncEngine, timeouts: DatabaseTimeouts | None = None):
        self.engine = engine
        self.postgresql = engine.dialect.name == "postgresql"
        self.drafts: OrderedDict[str, Draft] = OrderedDict()
        self._turns: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._pool: asyncpg.Pool | None = None
        self._sqlite: sqlite3.Connection | None = None
        self._file: SQLiteFile | None = None
        # How long to wait for a PostgreSQL connection of the pool, or for SQLite's lock.
        self._wait_s: float = timeouts.statement if timeouts else SQLITE_LOCK_WAIT_S

    @classmethod
    async def open(cls, engine: AsyncEngine, *, pool_size: int = 5, timeouts: DatabaseTimeouts | None = None) -> TokenStore:
        """A store beside ``engine``'s pool, with up to ``pool_size`` PostgreSQL connections of
        its own (opened when needed), or one SQLite connection; its waits bounded by
        ``timeouts`` as the engine's are (``db.create_engine``)."""
        store = cls(engine, timeouts)
        if store.postgresql:
            import asyncpg

            _args, options = engine.dialect.create_connect_args(engine.url)
            for sqlalchemy_only in ("prepared_statement_cache_size", "prepared_statement_name_func", "async_fallback"):
                options.pop(sqlalchemy_only, None)
            options.update(postgres_connect_args(timeouts))
            # No floor of connections (min_size=0): asyncpg would restore it in the background
            # while the database is down, logging a traceback at every attempt.
            store._pool = await asyncpg.create_pool(**options, min_size=0, max_size=pool_size, reset=_no_reset)
        else:
            # A connection of its own to the same file (db.create_engine serves no in-memory
            # database). Autocommit, with BEGIN IMMEDIATE where it writes; a busy database is
            # waited for asleep, not in SQLite's busy_timeout, which would stall the event
            # loop, and with it the request of this process that holds the lock.
            assert engine.url.database, "db.create_engine serves SQLite from a file"
            store._sqlite = sqlite3.connect(engine.url.database, check_same_thread=False, isolation_level=None)
            store._sqlite.row_factory = sqlite3.Row
            store._file = SQLiteFile(engine.url.database)
            sqlite_pragmas(store._sqlite)
        return store

    async def check(self) -> None:
        """Returns once the database has answered a query on the store's connections (and, on
        SQLite, its file is still the one opened); raises what went wrong otherwise."""
        if self.postgresql:
            async with self._connection() as connection:
                await connection.fetchval("SELECT 1")
        else:
            assert self._file is not None
            self._file.check()
            await self._on_sqlite(lambda db: db.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        self.drafts.clear()
        if self._pool is not None:
            await self._pool.close()
        if self._sqlite is not None:
            self._sqlite.close()

    # --- Saving answers ---------------------------------------------------------------------

    def turn(self, token: str) -> asyncio.Lock:
        """The lock that the saves of this token's assessment take in turn in this process
        (held by ``save_answers`` from reading the draft to writing it); NotFound for what
        cannot be a token. Kept only while a save holds it or waits for it."""
        key = _key_of(token)
        lock = self._turns.get(key)
        if lock is None:
            lock = self._turns[key] = asyncio.Lock()
        return lock

    async def open_draft(self, token: str, *, now: datetime | None = None) -> Draft:
        """The assessment this token opens, with its answers; the errors of ``open_assessment``."""
        key = _key_of(token)
        now = now or utcnow()
        draft = self.drafts.get(key)
        if draft is not None and draft.expires_at >= now:
            self.drafts.move_to_end(key)
            return draft
        # Not kept, or kept since before it expired: another process may have saved since.
        draft = await self._read_draft(key)
        if draft.expires_at < now:
            self.drafts.pop(key, None)
            raise Expired(EXPIRED)
        if draft.status == "draft":
            self._keep(draft)
        return draft

    async def store_answers(self, draft: Draft, saved: Saved, section: str | None, language: str | None = None) -> Draft:
        """Write what ``checked_updates`` accepted, where the SME left off and (with
        ``language``) the assessment's new language, in one transaction, and return the
        draft as it is now. AlreadySubmitted if it is no longer a draft; DraftChanged, and
        nothing written, if it changed since it was read."""
        if draft.status != "draft":
            raise AlreadySubmitted(SUBMITTED)
        now = utcnow()
        expires = now + TOKEN_LIFETIME
        version: datetime | str  # as Draft.updated_at holds it
        language = language or draft.language
        given = {q: msgspec.json.encode(v).decode() for q, v in saved.given.items()}
        if self.postgresql:
            async with self._connection() as connection:
                touched = await connection.fetchval(
                    _PG_WRITE, draft.id, now, expires, section, saved.cleared, list(given), list(given.values()), draft.updated_at, language
                )
            version = now
        else:
            version = self._sqlite_time(now)
            touched = await self._on_sqlite(
                _sqlite_write, draft.id, version, self._sqlite_time(expires), section, language, saved.cleared, given, draft.updated_at, self._file
            )
        if touched != 1:
            self.forget(draft)
            raise DraftChanged
        stored = dataclasses.replace(
            draft, answers=saved.answers, section=section, language=language, updated_at=version, expires_at=expires, kept=True
        )
        self._keep(stored)
        return stored

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection of the PostgreSQL pool, waited for up to the statement timeout. It goes
        back within RELEASE_S: one whose statement timed out waits for the cancellation
        PostgreSQL acknowledges, which a frozen server never does; then it is closed."""
        connection = await self._postgres.acquire(timeout=self._wait_s)
        try:
            yield connection
        except asyncio.CancelledError:
            # Cut off (by the request's deadline): waiting for PostgreSQL to acknowledge the
            # cancelled statement would outlast the deadline. Closed, it is replaced later.
            connection.terminate()
            raise
        finally:
            await self._postgres.release(connection, timeout=RELEASE_S)

    @property
    def _postgres(self) -> asyncpg.Pool:
        """The pool of PostgreSQL connections that ``open`` made."""
        assert self._pool is not None, "TokenStore.open makes the pool on PostgreSQL"
        return self._pool

    def forget(self, draft: Draft) -> None:
        """Drop the kept copy of ``draft``: the next ``open_draft`` reads what is stored."""
        self.drafts.pop(draft.token_hash, None)

    def _keep(self, draft: Draft) -> None:
        """Keep ``draft``, marked as kept."""
        self.drafts[draft.token_hash] = draft if draft.kept else dataclasses.replace(draft, kept=True)
        self.drafts.move_to_end(draft.token_hash)
        while len(self.drafts) > DRAFTS_KEPT:
            self.drafts.popitem(last=False)

    async def _read_draft(self, key: str) -> Draft:
        if self.postgresql:
            async with self._connection() as connection:
                row = await connection.fetchrow(_PG_READ, key)
        else:
            row = await self._on_sqlite(lambda db: db.execute(_SQLITE_READ, (key,)).fetchone())
        if row is None:
            raise NotFound(NOT_VALID)
        answers = row["answers"]
        return Draft(
            id=row["id"],
            version_id=row["version_id"],
            status=row["status"],
            section=row["section"],
            size=row["size"],
            sector=row["sector"],
            country=row["country"],
            cluster=row["cluster"],
            language=row["language"],
            answers=msgspec.json.decode(answers) if answers else {},
            token_hash=key,
            updated_at=row["updated_at"],
            expires_at=self._read_time(row["expires_at"]),
        )

    # --- The results page -----------------------------------------------------------------

    async def current_result(self, token: str, *, now: datetime | None = None) -> ResultRef:
        """The assessment this token opens, and the id of its current result (None before it
        is submitted), without loading either; the errors of ``open_assessment``."""
        key = _key_of(token)
        now = now or utcnow()
        if self.postgresql:
            async with self._connection() as connection:
                row = await connection.fetchrow(_PG_RESULT, key, now)
        else:
            at = self._sqlite_time(now)
            row = await self._on_sqlite(lambda db: db.execute(_SQLITE_RESULT, (at, key)).fetchone())
        if row is None:
            raise NotFound(NOT_VALID)
        if row["expired"]:
            raise Expired(EXPIRED)
        return ResultRef(
            assessment_id=row["assessment_id"],
            status=row["status"],
            language=row["language"],
            questionnaire_id=row["questionnaire_id"],
            result_id=row["result_id"],
        )

    async def stored_result(self, result_id: int) -> StoredResult:
        """The result ``result_id`` (one that ``current_result`` found), as the results page draws it."""
        if self.postgresql:
            async with self._connection() as connection:
                row = await connection.fetchrow(_PG_STORED_RESULT, result_id)
        else:
            row = await self._on_sqlite(lambda db: db.execute(_SQLITE_STORED_RESULT, (result_id,)).fetchone())
        return StoredResult(
            profile=row["profile"],
            version_id=row["version_id"],
            company_name=row["company_name"],
            submitted_at=self._read_time(row["submitted_at"]),
        )

    # --- SQLite -----------------------------------------------------------------------------

    async def _on_sqlite(self, work: Callable[..., T], *args) -> T:
        """``work(connection, *args)``, waited for while another connection holds the write
        lock (as SQLite's busy_timeout would, but asleep), up to the statement timeout.
        ``work`` leaves no transaction open when it fails, so it can always run again."""
        deadline = time.monotonic() + self._wait_s
        pause = 0.001
        while True:
            try:
                return work(self._sqlite, *args)
            except sqlite3.OperationalError as exc:
                if not is_busy(exc) or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)

    def _sqlite_time(self, moment: datetime) -> str:
        """``moment`` as the column type stores it in SQLite (UTC, in text), so that comparisons
        in SQL and later reads through the models see what the ORM would have written."""
        return _sqlite_time_writer(self.engine.dialect)(moment)

    def _read_time(self, stored: Any) -> datetime:
        """A datetime column as the models read it: asyncpg gives one already; SQLite, text."""
        return stored if self.postgresql else _sqlite_time_reader(self.engine.dialect)(stored)


def _key_of(token: str) -> str:
    if not looks_like_token(token):
        raise NotFound(NOT_VALID)
    return hash_token(token)


def _sqlite_write(db: sqlite3.Connection, assessment_id: int, now: str, expires: str, section: str | None, language: str,
                  cleared: list[str], given: dict, read_at: str, file: SQLiteFile) -> int:
    # No await from BEGIN to COMMIT: the write lock is held for microseconds.
    db.execute("BEGIN IMMEDIATE")
    try:
        touched = db.execute(_SQLITE_TOUCH, (now, expires, section, language, assessment_id, read_at)).rowcount
        if touched == 1:
            if cleared:
                db.executemany(_SQLITE_CLEAR, [(assessment_id, q) for q in cleared])
            if given:
                db.executemany(_SQLITE_SAVE, [(assessment_id, q, v, now) for q, v in given.items()])
        # Written into a file that was deleted, answers would be acknowledged and lost.
        file.check()
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return touched


@functools.cache
def _sqlite_time_writer(dialect):
    return UTCDateTime().dialect_impl(dialect).bind_processor(dialect)


@functools.cache
def _sqlite_time_reader(dialect):
    return UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)
