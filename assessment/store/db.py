"""Database engines and migrations, for SQLite (one file, the default) and PostgreSQL."""

from __future__ import annotations

import sqlite3
from functools import partial
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# How long a SQLite connection waits for another process's write lock (such as a migration
# run from the CLI while the server is up) before giving up with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 5000


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


def create_engine(url: str, *, echo: bool = False, pool_size: int = 5) -> AsyncEngine:
    """An engine for ``url``; on PostgreSQL, with ``pool_size`` connections kept open. A
    request that finds them all busy waits for one. No more are opened for bursts: under
    steady load such extra connections were closed and opened again at every request, and
    each costs PostgreSQL a new process, which took autosave from 2,500 to 1,000 a second.

    The engine hides the parameters of its statements (``hide_parameters``): SQLAlchemy puts
    them in the message of every database error, and so in the log of a failed request,
    where they are emails, company names and notes."""
    url = async_url(url)
    if is_sqlite(url):
        return _sqlite_engine(url, echo)
    return create_async_engine(url, echo=echo, pool_pre_ping=True, pool_size=pool_size, max_overflow=0, hide_parameters=True)


def _sqlite_engine(url: str, echo: bool) -> AsyncEngine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # SQLite allows one writer at a time. With one pooled connection, the writers of this
    # process queue in the pool (in order, without error) instead of racing for the file
    # lock and failing with "database is locked"; reads are short, so sharing it costs little.
    engine = create_async_engine(
        url,
        echo=echo,
        pool_size=1,
        max_overflow=0,
        async_creator=partial(_connect_in_this_thread, database or ":memory:"),
        hide_parameters=True,
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
# long as SQLite takes to run it; the exception is waiting for another process's write lock
# (up to SQLITE_BUSY_TIMEOUT_MS), rare since this process is the only regular writer.


async def _connect_in_this_thread(database: str) -> _InlineConnection:
    # check_same_thread=False: Litestar's test client runs the app in a thread of its own.
    return _InlineConnection(sqlite3.connect(database, check_same_thread=False))


class _InlineCursor:
    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor):
        self._cursor = cursor

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
        self._cursor.execute(operation, parameters)
        return self

    async def executemany(self, operation, seq_of_parameters) -> _InlineCursor:
        self._cursor.executemany(operation, seq_of_parameters)
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

    def __init__(self, connection: sqlite3.Connection):
        self._connection: sqlite3.Connection | None = connection

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("no active connection")
        return self._connection

    def cursor(self) -> _InlineCursor:
        return _InlineCursor(self._conn.cursor())

    @property
    def isolation_level(self):
        return self._conn.isolation_level

    async def create_function(self, *args, **kw) -> None:
        self._conn.create_function(*args, **kw)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def sqlite_pragmas(connection, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> None:
    """The settings of every SQLite connection of this program (a DB-API connection)."""
    cursor = connection.cursor()
    # WAL: readers (other connections, a backup, the CLI) and the writer do not block each other.
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable across application crashes in WAL mode; only a power cut can lose
    # the last commits, and it cannot corrupt the file.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
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
    if current != heads:
        have = ", ".join(sorted(current)) or "no tables"
        raise DatabaseNotMigrated(
            f"the database is at {have}, the code needs {', '.join(sorted(heads))}: "
            "run `recentre db upgrade`"
        )
