"""Database engines and migrations, for SQLite (one file, the default) and PostgreSQL."""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from assessment.settings import DatabaseTimeouts, StartupError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

SQLITE_LOCK_WAIT_S = 30
"""How long work with no timeouts of its own (migrations, the tests' helpers) waits for
another connection's write lock on SQLite; the server and the CLI wait their statement
timeout (``DatabaseTimeouts.statement``)."""

T = TypeVar("T")


ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}


def async_url(url: str) -> str:
    """``url`` with the async driver this project uses, so that a plain ``postgresql://``
    or ``sqlite:///`` URL works too."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in ASYNC_DRIVERS:
        raise ValueError(f"unsupported database {backend!r}: use SQLite or PostgreSQL")
    return parsed.set(drivername=f"{backend}+{ASYNC_DRIVERS[backend]}").render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, echo: bool = False, pool_size: int = 5, timeouts: DatabaseTimeouts | None = None) -> AsyncEngine:
    """An engine for ``url``; on PostgreSQL, with ``pool_size`` connections kept open. A
    request that finds them all busy waits for one. No more are opened for bursts: under
    steady load such extra connections were closed and opened again at every request, and
    each costs PostgreSQL a new process, which took autosave from 2,500 to 1,000 a second.

    The engine hides the parameters of its statements (``hide_parameters``): SQLAlchemy puts
    them in the message of every database error, and so in the log of a failed request,
    where they are emails, company names and notes.

    ``timeouts`` bound every wait (``postgres_connect_args``; on SQLite, the wait for
    another connection's write lock): without them, as for migrations, a statement may
    take as long as it needs."""
    url = async_url(url)
    # Waiting for a connection of the pool is bounded like a statement.
    pool_timeout = timeouts.statement if timeouts else 30
    if is_sqlite(url):
        return _sqlite_engine(url, echo, timeouts.statement if timeouts else SQLITE_LOCK_WAIT_S, pool_timeout)
    return create_async_engine(
        url, echo=echo, pool_pre_ping=True, pool_size=pool_size, max_overflow=0, pool_timeout=pool_timeout,
        connect_args=postgres_connect_args(timeouts), hide_parameters=True,
    )


def postgres_connect_args(timeouts: DatabaseTimeouts | None) -> dict[str, Any]:
    """asyncpg's connection arguments: a new connection is waited for at most the connect
    timeout; with ``timeouts``, PostgreSQL cancels a statement after the statement timeout
    (``statement_timeout``, which covers waiting for row locks), and so does the client, for
    a server that answers nothing at all (frozen, or cut off)."""
    if timeouts is None:
        return {"timeout": DatabaseTimeouts().connect}
    return {
        "timeout": timeouts.connect,
        "command_timeout": timeouts.statement,
        "server_settings": {"statement_timeout": str(timeouts.statement * 1000)},
    }


def _sqlite_engine(url: str, echo: bool, lock_wait_s: float, pool_timeout: float) -> AsyncEngine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # SQLite allows one writer at a time. With one pooled connection, the writers of this
    # process queue in the pool (in order, without error) instead of racing for the file
    # lock and failing with "database is locked"; reads are short, so sharing it costs little.
    engine = create_async_engine(
        url, echo=echo, pool_size=1, max_overflow=0, pool_timeout=pool_timeout, hide_parameters=True,
        async_creator=partial(_connect_in_this_thread, database or ":memory:", lock_wait_s),
    )
    event.listen(engine.sync_engine, "connect", _on_connect)
    return engine


# --- SQLite in the event loop's thread ------------------------------------------------------
#
# aiosqlite runs each call (cursor, execute, fetch, close) in a thread of its own, and the
# hand-over to that thread and back costs some 50 µs, where the statements of this program
# take a few µs in SQLite itself: a request's queries spent most of their time changing
# threads. So the SQLite connection is used directly from the event loop's thread, behind
# the interface SQLAlchemy's aiosqlite dialect expects. A statement blocks the loop only as
# long as SQLite takes to run it.
#
# Never as long as another connection holds the write lock: SQLite's busy_timeout, which
# sleeps inside the statement, would stall the whole server (every request of this process)
# for as long as it waited. So busy_timeout is 0, and a statement that finds the database
# busy is run again after an asyncio sleep (``when_free``), up to the lock wait. Writes
# begin with BEGIN IMMEDIATE (sqlite3's ``isolation_level``), which takes the write lock
# before the transaction has read anything: only that BEGIN can find the database busy, and
# it is safe to run again. (A deferred transaction that read first could only fail with
# SQLITE_BUSY_SNAPSHOT once another connection had written, which no wait can cure.)


class _ImmediateConnection(sqlite3.Connection):
    """sqlite3's connection whose transactions begin IMMEDIATE: the dialect sets
    ``isolation_level`` to "" (a deferred BEGIN) whenever a connection leaves AUTOCOMMIT."""

    @property  # type: ignore[override]
    def isolation_level(self) -> str | None:
        return _ISOLATION_LEVEL.__get__(self)

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        _ISOLATION_LEVEL.__set__(self, "IMMEDIATE" if value == "" else value)


_ISOLATION_LEVEL: Any = sqlite3.Connection.__dict__["isolation_level"]
"""sqlite3's own descriptor, which the subclass above passes values through."""


async def _connect_in_this_thread(database: str, lock_wait_s: float) -> _InlineConnection:
    # check_same_thread=False: Litestar's test client runs the app in a thread of its own.
    connection = sqlite3.connect(database, check_same_thread=False, isolation_level="IMMEDIATE", factory=_ImmediateConnection)
    return _InlineConnection(connection, SQLiteFile(database), lock_wait_s)


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """Whether SQLite refused because another connection holds a lock."""
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


async def when_free(connection: sqlite3.Connection, lock_wait_s: float, work: Callable[..., T], *args: Any) -> T:
    """``work(*args)`` on ``connection``, run again after a sleep while another connection
    holds the lock it needs and nothing of a transaction is undone by running it again (no
    transaction is open), up to ``lock_wait_s``; then SQLite's "database is locked"."""
    deadline = None
    pause = 0.001
    while True:
        try:
            return work(*args)
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or connection.in_transaction:
                raise
            now = time.monotonic()
            deadline = deadline or now + lock_wait_s
            if now >= deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.05)


class DatabaseFileGone(sqlite3.OperationalError):
    """The SQLite file was deleted or replaced while the program had it open: whatever is
    written goes to a file nobody will open again, so nothing more is."""


class SQLiteFile:
    """The file an SQLite connection opened, to notice when it is deleted or replaced under
    the running program (a connection keeps writing to the deleted file, unseen)."""

    def __init__(self, path: str):
        self.path = path
        self.identity = self._identity()

    def _identity(self) -> tuple[int, int] | None:
        try:
            found = os.stat(self.path)
        except OSError:
            return None
        return found.st_dev, found.st_ino

    def check(self) -> None:
        """DatabaseFileGone if the path no longer holds the file that was opened."""
        if self.identity is None or self._identity() != self.identity:
            raise DatabaseFileGone(
                f"the database file {self.path} was deleted or replaced while the server ran: "
                "nothing more is written; put the file back (or restore a backup) and restart the server"
            )


class _InlineCursor:
    __slots__ = ("_cursor", "_lock_wait_s")

    def __init__(self, cursor: sqlite3.Cursor, lock_wait_s: float):
        self._cursor = cursor
        self._lock_wait_s = lock_wait_s

    async def __aenter__(self) -> _InlineCursor:
        return self

    async def __aexit__(self, *exc) -> None:
        self._cursor.close()

    def __aiter__(self):
        return self._rows()

    async def _rows(self):
        for row in self._cursor:
            yield row

    async def execute(self, operation, parameters=()) -> _InlineCursor:
        await when_free(self._cursor.connection, self._lock_wait_s, self._cursor.execute, operation, parameters)
        return self

    async def executemany(self, operation, seq_of_parameters) -> _InlineCursor:
        await when_free(self._cursor.connection, self._lock_wait_s, self._cursor.executemany, operation, seq_of_parameters)
        return self

    async def fetchone(self):
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None):
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self):
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self):
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self):
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _RunNow:
    """Stands for aiosqlite's queue to its thread, which the dialect uses to change the
    isolation level: the call is made at once, in this thread."""

    def put_nowait(self, item) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as exc:  # handed to the awaiting caller, as aiosqlite does
            future.set_exception(exc)


class _InlineConnection:
    _tx = _RunNow()

    def __init__(self, connection: sqlite3.Connection, file: SQLiteFile, lock_wait_s: float):
        self._connection: sqlite3.Connection | None = connection
        self.file = file
        self.lock_wait_s = lock_wait_s

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("no active connection")
        return self._connection

    def cursor(self) -> _InlineCursor:
        return _InlineCursor(self._conn.cursor(), self.lock_wait_s)

    @property
    def isolation_level(self):
        return self._conn.isolation_level

    async def create_function(self, *args, **kw) -> None:
        self._conn.create_function(*args, **kw)

    async def commit(self) -> None:
        if self._conn.in_transaction:
            try:
                self.file.check()
            except DatabaseFileGone:
                self._conn.rollback()
                raise
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def sqlite_pragmas(connection) -> None:
    """The settings of every SQLite connection of this program (a DB-API connection)."""
    cursor = connection.cursor()
    # WAL: readers (other connections, a backup, the CLI) and the writer do not block each other.
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable across application crashes in WAL mode; only a power cut can lose
    # the last commits, and it cannot corrupt the file.
    cursor.execute("PRAGMA synchronous=NORMAL")
    # No waiting inside SQLite, which would stall the event loop: see ``when_free``.
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _on_connect(dbapi_connection, _record) -> None:
    sqlite_pragmas(dbapi_connection)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Objects stay readable after commit: handlers commit, then render what they stored.
    return async_sessionmaker(engine, expire_on_commit=False)


# --- Migrations ---------------------------------------------------------------------------


def alembic_config(database_url: str):
    """An Alembic configuration that does not depend on the current directory or a .ini."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolates %, which URL-encoded passwords contain.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations from synchronous code, such as the CLI before the server starts.

    Migrations/env.py runs its own event loop, so no loop may be running in this thread.
    """
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


async def upgrade_async(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply migrations from async code, on a connection of ``engine``."""
    from alembic import command

    def run(connection) -> None:
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


def head_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory(str(MIGRATIONS)).get_heads())


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {script.revision for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}


async def current_revisions(engine: AsyncEngine) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    def read(connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    async with engine.connect() as connection:
        return await connection.run_sync(read)


class DatabaseNotMigrated(RuntimeError):
    pass


async def ensure_migrated(engine: AsyncEngine) -> None:
    """Refuse to start on a database whose schema is not the code's."""
    current, heads = await current_revisions(engine), head_revisions()
    unknown = current - known_revisions()
    if unknown:
        raise DatabaseNotMigrated(
            f"the database was migrated by a newer version of recentre (revision {', '.join(sorted(unknown))}, unknown to this one): "
            "run that version, or restore a backup made before it"
        )
    if current != heads:
        have = ", ".join(sorted(current)) or "no tables"
        raise DatabaseNotMigrated(
            f"the database is at {have}, the code needs {', '.join(sorted(heads))}: "
            "run `recentre db upgrade`"
        )


# --- Writing under the lock -------------------------------------------------------------


async def begin_writing(session: AsyncSession) -> None:
    """Begin ``session``'s transaction as a writer, before it reads: on SQLite, BEGIN
    IMMEDIATE takes the database's write lock (waited for asleep), so that what the
    transaction reads stays true until it commits. PostgreSQL needs nothing here: lock the
    rows you read with ``FOR UPDATE``."""
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("BEGIN IMMEDIATE"))


# --- When the database cannot serve -------------------------------------------------------

# PostgreSQL's classes of errors that say the server cannot serve now, rather than that the
# request was wrong: connection exceptions, insufficient resources (too many connections),
# operator intervention (shutting down, starting up, a statement cancelled by its timeout),
# and a role or database that is gone.
_UNAVAILABLE_SQLSTATES = ("08", "53", "57", "28", "3D")


# SQLite's result codes that say the file cannot serve now, rather than that the statement
# was wrong (a syntax error or a missing table is an OperationalError too, and a bug).
_SQLITE_UNAVAILABLE = {
    sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_FULL, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_PROTOCOL,
}
_UNREACHABLE_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT, errno.EPIPE}


def _unreachable(exc: OSError) -> bool:
    """An OSError of a connection that could not be made or was cut (asyncio joins the
    errors of each address tried into one "Multiple exceptions" error, without an errno)."""
    return exc.errno in _UNREACHABLE_ERRNOS or str(exc).startswith("Multiple exceptions")


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it was raised from: SQLAlchemy's ``orig``, the driver's error, ..."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        link = todo.pop(0)
        if link is None or id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        todo += [getattr(link, "orig", None), link.__cause__]


def unavailable_reason(exc: BaseException) -> str | None:
    """Why the database could not do what was asked, in a few words for the log, when
    ``exc`` says it could not serve (unreachable, restarting, too slow, locked by another
    process, its file gone); None for every other error, such as a bug."""
    from sqlalchemy import exc as sa

    for link in _causes(exc):
        if isinstance(link, sa.TimeoutError):
            return "no database connection came free in time"
        if isinstance(link, sa.DBAPIError) and link.connection_invalidated:
            return "the connection to the database was lost"
        if isinstance(link, DatabaseFileGone) or (
            isinstance(link, sqlite3.DatabaseError) and getattr(link, "sqlite_errorcode", 0) & 0xFF in _SQLITE_UNAVAILABLE
        ):
            return f"SQLite: {link}"
        if isinstance(link, TimeoutError):
            return "the database did not answer in time"
        if isinstance(link, ConnectionError | socket.gaierror) or (isinstance(link, OSError) and _unreachable(link)):
            return f"cannot reach the database: {link.strerror or link}"
        if type(link).__module__.startswith("asyncpg"):
            import asyncpg

            sqlstate = getattr(link, "sqlstate", None) or ""
            # asyncpg says "another operation is in progress" of a connection that the server
            # closed with a message while it was idle (a shutdown).
            broken = isinstance(link, asyncpg.InternalClientError) and "another operation" in str(link)
            if isinstance(link, asyncpg.InterfaceError) or broken or sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
                return f"PostgreSQL: {type(link).__name__}: {str(link).splitlines()[0] if str(link) else ''}".rstrip(": ")
    return None


class DatabaseProblem(StartupError):
    """The database named by RECENTRE_DATABASE_URL cannot be used; the message says why and
    what to do, in one line."""


def database_problem(exc: BaseException, url: str) -> DatabaseProblem | None:
    """``exc``, raised while opening, migrating or using the database of ``url``, as one
    line that names RECENTRE_DATABASE_URL, the cause and the fix; None when it is not about
    the database (a bug keeps its traceback)."""
    reason = _database_problem(exc, url)
    return DatabaseProblem(f"RECENTRE_DATABASE_URL: {reason}") if reason else None


def _database_problem(exc: BaseException, url: str) -> str | None:
    from alembic.util.exc import CommandError

    parsed = make_url(url)
    where = parsed.render_as_string(hide_password=True)
    path = parsed.database or ""
    for link in _causes(exc):
        message = str(link).splitlines()[0] if str(link) else type(link).__name__
        sqlstate = getattr(link, "sqlstate", None) or ""
        if isinstance(link, DatabaseNotMigrated | DatabaseFileGone):
            return message
        if isinstance(link, CommandError) and "Can't locate revision" in message:
            revision = message.rsplit(" ", 1)[-1].strip("'")
            return (
                f"the database was migrated by a newer version of recentre (revision {revision}, unknown to this one): "
                "run that version, or restore a backup made before it"
            )
        if sqlstate.startswith("28"):
            return f"{where}: {message}: create that role, or correct the user and password in the URL"
        if sqlstate == "3D000":
            return f"{where}: {message}: create it (createdb), or correct the database name in the URL"
        if sqlstate.startswith(("08", "53", "57")):
            return f"{where}: PostgreSQL cannot serve now ({message}): try again once it can"
        if isinstance(link, sqlite3.DatabaseError) and "not a database" in message:
            return f"{path} is not an SQLite database: name the right file in the URL, or move this one away"
        if isinstance(link, sqlite3.OperationalError) and "readonly" in message:
            return f"{path} cannot be written (read-only): let the server's user write the file and its folder"
        if isinstance(link, sqlite3.OperationalError) and "unable to open" in message:
            return f"{path} cannot be opened or created: let the server's user write the folder {Path(path).parent}"
        if isinstance(link, sqlite3.OperationalError) and is_busy(link):
            return f"{path} stayed locked by another process: try again when it is done"
        if isinstance(link, TimeoutError):
            return f"{where} did not answer in time: check that the server runs and can be reached"
        if isinstance(link, OSError) and link.filename:
            return f"cannot create {link.filename} ({link.strerror}): let the server's user write there"
        if isinstance(link, OSError):
            cause = os.strerror(link.errno).lower() if link.errno else message
            return f"cannot connect to {where} ({cause}): start the database, or correct the host and port"
    return None


def prepare_database(url: str, timeouts: DatabaseTimeouts) -> None:
    """Migrate the database of ``url`` and check that it can be written, before a server
    starts on it; DatabaseProblem, in one line, when it cannot be used."""
    try:
        upgrade(url)
        if is_sqlite(url):
            # An up-to-date file migrates without a write, read-only or not: write something,
            # and take it back.
            connection = sqlite3.connect(make_url(url).database or "", timeout=timeouts.statement, isolation_level=None)
            try:
                connection.execute("BEGIN IMMEDIATE")
                version = connection.execute("PRAGMA user_version").fetchone()[0]
                connection.execute(f"PRAGMA user_version = {int(version)}")
                connection.execute("ROLLBACK")
            finally:
                connection.close()
    except Exception as exc:
        problem = database_problem(exc, url)
        if problem is None:
            raise
        raise problem from None
