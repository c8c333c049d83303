"""Settings read from the environment, with defaults that work on a developer's machine."""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from questionnaires.compile import BUNDLED

SECRET_KEY_FILE = "secret_key"


@dataclass(frozen=True)
class Settings:
    database_url: str
    """``RECENTRE_DATABASE_URL``: an SQLAlchemy async URL, ``sqlite+aiosqlite:///PATH`` or
    ``postgresql+asyncpg://USER@HOST:PORT/DB``. Default: ``recentre.db`` in the data folder."""

    questionnaires: Path
    """``RECENTRE_QUESTIONNAIRES``: the folder whose questionnaires are offered. Default: the
    questionnaires bundled with the package."""

    secret_key: str = field(repr=False)
    """``RECENTRE_SECRET_KEY``: signs session cookies. Default: a random key kept in the data
    folder (readable by its owner only), so that sessions survive a restart."""

    data_dir: Path
    """``RECENTRE_DATA_DIR``: where the default database and secret key live. Default:
    ``data`` under the current directory."""

    host: str = "127.0.0.1"
    """``RECENTRE_HOST``: the address ``recentre serve`` listens on."""

    port: int = 8000
    """``RECENTRE_PORT``: the port ``recentre serve`` listens on."""

    database_pool_size: int = 20
    """``RECENTRE_DATABASE_POOL_SIZE``: PostgreSQL connections each server process keeps
    open, at most: half for autosave and the results page (``pool_sizes``), the rest for
    everything else, at least one each; a request that finds its half all busy waits for
    one. Keep processes × this under the server's ``max_connections`` (100 by default).
    SQLite uses one connection for each half, one writer at a time."""

    @property
    def pool_sizes(self) -> tuple[int, int]:
        """The connections of the engine's pool and of the token requests' (by_token.py)."""
        tokens = max(1, self.database_pool_size // 2)
        return max(1, self.database_pool_size - tokens), tokens

    secure_cookies: bool = False
    """``RECENTRE_SECURE_COOKIES``: ``true`` marks cookies Secure (sent over https only).
    Set it when a proxy serves the app over https; requests that arrive over https get
    Secure cookies anyway."""

    trusted_proxies: tuple[str, ...] = ()
    """``RECENTRE_TRUSTED_PROXIES``: the addresses or networks (comma-separated, such as
    ``127.0.0.1`` or ``10.0.0.0/8``) of the reverse proxies in front of ``recentre serve``.
    From them alone, X-Forwarded-For names the client (the address sign-in attempts and new
    assessments are counted by) and X-Forwarded-Proto the scheme. Default: none, so that no
    client can choose the address it is counted by."""

    new_assessments_per_hour: int = 100
    """``RECENTRE_NEW_ASSESSMENTS_PER_HOUR``: assessments one address may start in an hour
    (the start pages, the API and re-assessments together), across every server process."""

    database_statement_timeout: int = 10
    """``RECENTRE_DATABASE_STATEMENT_TIMEOUT``: seconds one database statement may take,
    waiting for a free connection or a lock included: PostgreSQL cancels it after this
    (``statement_timeout``), and the server stops waiting for an answer then too (a frozen
    database answers nothing); on SQLite a write waits this long for another process's
    lock. Then the request answers 503. Migrations have none."""

    database_connect_timeout: int = 5
    """``RECENTRE_DATABASE_CONNECT_TIMEOUT``: seconds to wait for a new PostgreSQL
    connection before the request answers 503."""

    request_timeout: int = 60
    """``RECENTRE_REQUEST_TIMEOUT``: seconds a request may take before its response starts;
    then it answers 503. A streamed download, once started, is not cut."""

    retain_draft_days: int = 365
    """``RECENTRE_RETAIN_DRAFT_DAYS``: ``recentre purge`` erases a draft not changed for longer
    than this many days. Default: 365, the life of its private link (``TOKEN_LIFETIME``),
    after which nobody can open it any more. The privacy notice states it."""

    retain_submitted_days: int = 1826
    """``RECENTRE_RETAIN_SUBMITTED_DAYS``: ``recentre purge`` erases an assessment submitted
    longer ago than this many days. Default: 1826 (five years), long enough to compare a
    company's re-assessments across a programme, and to report on it. The privacy notice
    states it."""

    @property
    def database_timeouts(self) -> DatabaseTimeouts:
        return DatabaseTimeouts(statement=self.database_statement_timeout, connect=self.database_connect_timeout)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = data_dir_from_env(env)
        timeouts = DatabaseTimeouts.from_env(env)
        try:
            database_url = database_url_from_env(env)
            secret_key = env.get("RECENTRE_SECRET_KEY") or kept_secret_key(data_dir)
        except OSError as exc:
            raise StartupError(
                f"RECENTRE_DATA_DIR: cannot write in {data_dir} ({exc.strerror}): let the server's user write there, or name another folder"
            ) from None
        return cls(
            database_url=database_url,
            questionnaires=Path(env.get("RECENTRE_QUESTIONNAIRES") or BUNDLED),
            secret_key=secret_key,
            data_dir=data_dir,
            host=env.get("RECENTRE_HOST") or "127.0.0.1",
            port=whole_number(env, "RECENTRE_PORT", 8000, 1, 65535),
            database_pool_size=whole_number(env, "RECENTRE_DATABASE_POOL_SIZE", 20, 1, 500),
            secure_cookies=(env.get("RECENTRE_SECURE_COOKIES") or "").strip().lower() in ("1", "true", "yes"),
            trusted_proxies=networks(env, "RECENTRE_TRUSTED_PROXIES"),
            new_assessments_per_hour=whole_number(env, "RECENTRE_NEW_ASSESSMENTS_PER_HOUR", 100, 1, 1_000_000),
            database_statement_timeout=timeouts.statement,
            database_connect_timeout=timeouts.connect,
            request_timeout=whole_number(env, "RECENTRE_REQUEST_TIMEOUT", 60, 1, 3600),
            **retention_from_env(env),
        )


@dataclass(frozen=True)
class DatabaseTimeouts:
    """How long database work may wait (``Settings.database_statement_timeout`` and
    ``database_connect_timeout`` say what each bounds), in seconds."""

    statement: int = 10
    connect: int = 5

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DatabaseTimeouts:
        env = os.environ if environ is None else environ
        return cls(
            statement=whole_number(env, "RECENTRE_DATABASE_STATEMENT_TIMEOUT", 10, 1, 3600),
            connect=whole_number(env, "RECENTRE_DATABASE_CONNECT_TIMEOUT", 5, 1, 600),
        )


def retention_from_env(env: Mapping[str, str] | None = None) -> dict[str, int]:
    """The retention periods alone, for ``recentre purge``, which needs nothing else."""
    env = os.environ if env is None else env
    return {
        "retain_draft_days": whole_number(env, "RECENTRE_RETAIN_DRAFT_DAYS", 365, 1, 36_500),
        "retain_submitted_days": whole_number(env, "RECENTRE_RETAIN_SUBMITTED_DAYS", 1826, 1, 36_500),
    }


class SettingsError(ValueError):
    """A setting with a value it cannot have; the message names the variable. The CLI
    prints it in one line and exits with 2."""


class StartupError(RuntimeError):
    """What a setting names cannot be used now (a database that cannot be reached, a folder
    that cannot be written): the message names the variable, the cause and the fix, in one
    line. The CLI prints it and exits with 1."""


def whole_number(env: Mapping[str, str], name: str, default: int, lowest: int, highest: int) -> int:
    text = (env.get(name) or "").strip()
    if not text:
        return default
    if not text.isdigit() or not lowest <= int(text) <= highest:
        raise SettingsError(f"{name}: a whole number from {lowest} to {highest}, not {text!r}")
    return int(text)


def networks(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated IP addresses or networks, each checked and written out in full."""
    found = []
    for item in (env.get(name) or "").split(","):
        if not item.strip():
            continue
        try:
            found.append(str(ipaddress.ip_network(item.strip(), strict=False)))
        except ValueError:
            raise SettingsError(f"{name}: IP addresses or networks separated by commas, such as 127.0.0.1,10.0.0.0/8; not {item.strip()!r}") from None
    return tuple(found)


def data_dir_from_env(env: Mapping[str, str]) -> Path:
    return Path(env.get("RECENTRE_DATA_DIR") or "data").resolve()


def database_url_from_env(env: Mapping[str, str] | None = None) -> str:
    """The database URL alone, for tools such as Alembic that need nothing else."""
    env = os.environ if env is None else env
    if env.get("RECENTRE_DATABASE_URL"):
        return checked_database_url(env["RECENTRE_DATABASE_URL"])
    data_dir = data_dir_from_env(env)
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{data_dir / 'recentre.db'}"


DATABASE_URL_FORMS = "sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE"


def checked_database_url(url: str) -> str:
    """``url``, if it can name a database of this program: SettingsError (naming
    RECENTRE_DATABASE_URL, never its password) for one that cannot be read, of another
    kind of database, or an SQLite database in memory, which every restart would empty."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url.strip())
    except (ArgumentError, ValueError):
        # The text is not shown: it may hold a password.
        raise SettingsError(f"RECENTRE_DATABASE_URL: not a database URL; write it as {DATABASE_URL_FORMS}") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise SettingsError(f"RECENTRE_DATABASE_URL: {backend} databases are not supported; use {DATABASE_URL_FORMS}")
    if backend == "sqlite" and (parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory"):
        raise SettingsError(
            "RECENTRE_DATABASE_URL: an SQLite database in memory would lose every assessment when the server stops; "
            "name a file: sqlite:///PATH"
        )
    return url.strip()


def kept_secret_key(data_dir: Path) -> str:
    """The key stored in ``data_dir``, created on first use."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SECRET_KEY_FILE
    if not path.exists():
        # Written whole to a private file, then linked into place: link() fails if another
        # process got there first, and nobody can read a half-written key.
        tmp = data_dir / f".{SECRET_KEY_FILE}.{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text(encoding="ascii").strip()
