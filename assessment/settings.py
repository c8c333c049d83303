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

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = data_dir_from_env(env)
        return cls(
            database_url=database_url_from_env(env),
            questionnaires=Path(env.get("RECENTRE_QUESTIONNAIRES") or BUNDLED),
            secret_key=env.get("RECENTRE_SECRET_KEY") or kept_secret_key(data_dir),
            data_dir=data_dir,
            host=env.get("RECENTRE_HOST") or "127.0.0.1",
            port=whole_number(env, "RECENTRE_PORT", 8000, 1, 65535),
            database_pool_size=whole_number(env, "RECENTRE_DATABASE_POOL_SIZE", 20, 1, 500),
            secure_cookies=(env.get("RECENTRE_SECURE_COOKIES") or "").strip().lower() in ("1", "true", "yes"),
            trusted_proxies=networks(env, "RECENTRE_TRUSTED_PROXIES"),
            new_assessments_per_hour=whole_number(env, "RECENTRE_NEW_ASSESSMENTS_PER_HOUR", 100, 1, 1_000_000),
        )


class SettingsError(ValueError):
    """A setting with a value it cannot have; the message names the variable."""


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
        return env["RECENTRE_DATABASE_URL"]
    data_dir = data_dir_from_env(env)
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{data_dir / 'recentre.db'}"


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
