"""Settings from the environment, and the SQLite engine's connection settings."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from assessment.settings import DatabaseTimeouts, Settings
from assessment.store.db import async_url, create_engine
from questionnaires.compile import BUNDLED


def test_defaults_keep_everything_in_a_data_folder_under_the_current_directory(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings.data_dir == tmp_path / "data"
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'recentre.db'}"
    assert settings.questionnaires == BUNDLED
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert (settings.database_statement_timeout, settings.database_connect_timeout, settings.request_timeout) == (10, 5, 60)
    assert (tmp_path / "data").is_dir()


def test_the_generated_secret_key_is_private_and_survives_a_restart(tmp_path: Path):
    env = {"RECENTRE_DATA_DIR": str(tmp_path / "data")}
    first = Settings.from_env(env)
    key_file = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.secret_key) >= 32
    assert Settings.from_env(env).secret_key == first.secret_key
    assert [p.name for p in key_file.parent.iterdir()] == ["secret_key"]


def test_the_environment_overrides_every_default(tmp_path: Path):
    settings = Settings.from_env(
        {
            "RECENTRE_DATA_DIR": str(tmp_path),
            "RECENTRE_DATABASE_URL": "postgresql+asyncpg://app@db.example/recentre",
            "RECENTRE_QUESTIONNAIRES": "/srv/questionnaires",
            "RECENTRE_SECRET_KEY": "given-key",
            "RECENTRE_HOST": "0.0.0.0",
            "RECENTRE_PORT": "9000",
            "RECENTRE_DATABASE_POOL_SIZE": "8",
            "RECENTRE_DATABASE_STATEMENT_TIMEOUT": "30",
            "RECENTRE_DATABASE_CONNECT_TIMEOUT": "3",
            "RECENTRE_REQUEST_TIMEOUT": "120",
        }
    )
    assert settings.database_url == "postgresql+asyncpg://app@db.example/recentre"
    assert settings.questionnaires == Path("/srv/questionnaires")
    assert settings.secret_key == "given-key"
    assert (settings.host, settings.port) == ("0.0.0.0", 9000)
    assert settings.database_pool_size == 8
    assert settings.database_timeouts == DatabaseTimeouts(statement=30, connect=3)
    assert settings.request_timeout == 120
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(("size", "halves"), [(20, (10, 10)), (8, (4, 4)), (5, (3, 2)), (2, (1, 1)), (1, (1, 1))])
def test_the_pool_size_is_shared_by_the_two_pools(tmp_path: Path, size: int, halves: tuple[int, int]):
    settings = Settings.from_env({"RECENTRE_DATA_DIR": str(tmp_path), "RECENTRE_DATABASE_POOL_SIZE": str(size)})
    assert settings.pool_sizes == halves


def test_the_secret_key_is_not_in_the_settings_repr(tmp_path: Path):
    settings = Settings.from_env({"RECENTRE_DATA_DIR": str(tmp_path), "RECENTRE_SECRET_KEY": "do-not-print"})
    assert "do-not-print" not in repr(settings)


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("sqlite:////tmp/x.db", "sqlite+aiosqlite:////tmp/x.db"),
        ("postgresql://u:p%40ss@h:5432/d", "postgresql+asyncpg://u:p%40ss@h:5432/d"),
        ("postgresql+asyncpg://u@h/d", "postgresql+asyncpg://u@h/d"),
    ],
)
def test_database_urls_get_the_async_driver(given: str, used: str):
    assert async_url(given) == used


def test_other_databases_are_refused():
    with pytest.raises(ValueError, match="SQLite or PostgreSQL"):
        async_url("mysql://root@localhost/test")


async def test_sqlite_connections_use_wal_and_never_wait_inside_sqlite(tmp_path: Path):
    engine = create_engine(f"sqlite:///{tmp_path / 'nested' / 'x.db'}")
    try:
        async with engine.connect() as connection:
            pragmas = {
                name: (await connection.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("journal_mode", "busy_timeout", "foreign_keys")
            }
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        async with engine.begin() as connection:
            # Back from AUTOCOMMIT too, a write begins by taking the lock (BEGIN IMMEDIATE).
            begins = (await connection.get_raw_connection()).driver_connection._conn.isolation_level
    finally:
        await engine.dispose()
    # busy_timeout would sleep inside SQLite, in the event loop's thread: the engine waits
    # for another process's lock asleep instead (next test).
    assert pragmas == {"journal_mode": "wal", "busy_timeout": 0, "foreign_keys": 1}
    assert begins == "IMMEDIATE"


async def test_a_write_waits_for_another_process_lock_asleep_up_to_the_statement_timeout(tmp_path: Path):
    path = tmp_path / "x.db"
    engine = create_engine(f"sqlite:///{path}", timeouts=DatabaseTimeouts(statement=1))
    other = sqlite3.connect(path, isolation_level=None)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticking = asyncio.create_task(tick())
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
        other.execute("BEGIN IMMEDIATE")  # another process's write lock, let go after 0.4 s
        asyncio.get_running_loop().call_later(0.4, other.execute, "COMMIT")
        started, ticks = time.monotonic(), 0
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO t VALUES (1)"))
        waited = time.monotonic() - started
        assert 0.35 < waited < 0.9
        assert ticks >= 20, "the event loop stalled while the write waited"

        other.execute("BEGIN IMMEDIATE")  # and now held for longer than the timeout
        started, ticks = time.monotonic(), 0
        with pytest.raises(OperationalError, match="database is locked"):
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (2)"))
        assert 1 <= time.monotonic() - started < 1.5
        assert ticks >= 60
        other.execute("ROLLBACK")
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT x FROM t"))).scalars().all() == [1]
    finally:
        ticking.cancel()
        other.close()
        await engine.dispose()


@pytest.mark.parametrize("given", ["0", "-3", "many", "1e3", "501"])
def test_a_bad_pool_size_is_named_with_what_it_must_be(tmp_path: Path, given: str):
    with pytest.raises(ValueError) as caught:
        Settings.from_env({"RECENTRE_DATA_DIR": str(tmp_path), "RECENTRE_DATABASE_POOL_SIZE": given})
    assert str(caught.value) == f"RECENTRE_DATABASE_POOL_SIZE: a whole number from 1 to 500, not {given!r}"


def test_no_proxy_is_trusted_unless_named(tmp_path: Path):
    assert Settings.from_env({"RECENTRE_DATA_DIR": str(tmp_path)}).trusted_proxies == ()
    named = Settings.from_env({"RECENTRE_DATA_DIR": str(tmp_path), "RECENTRE_TRUSTED_PROXIES": " 127.0.0.1, 10.0.0.0/8,::1 ,"})
    assert named.trusted_proxies == ("127.0.0.1/32", "10.0.0.0/8", "::1/128")


@pytest.mark.parametrize("given", ["localhost", "*", "10.0.0.0/33", "127.0.0.1;10.0.0.1"])
def test_a_trusted_proxy_must_be_an_address_or_network(tmp_path: Path, given: str):
    with pytest.raises(ValueError) as caught:
        Settings.from_env({"RECENTRE_DATA_DIR": str(tmp_path), "RECENTRE_TRUSTED_PROXIES": given})
    assert str(caught.value) == (
        f"RECENTRE_TRUSTED_PROXIES: IP addresses or networks separated by commas, such as 127.0.0.1,10.0.0.0/8; not {given!r}"
    )


def test_new_assessments_per_hour(tmp_path: Path):
    assert Settings.from_env({"RECENTRE_DATA_DIR": str(tmp_path)}).new_assessments_per_hour == 100
    assert Settings.from_env({"RECENTRE_DATA_DIR": str(tmp_path), "RECENTRE_NEW_ASSESSMENTS_PER_HOUR": "7"}).new_assessments_per_hour == 7
    with pytest.raises(ValueError):
        Settings.from_env({"RECENTRE_DATA_DIR": str(tmp_path), "RECENTRE_NEW_ASSESSMENTS_PER_HOUR": "0"})


@pytest.mark.parametrize(
    ("variable", "given", "allowed"),
    [("RECENTRE_DATABASE_STATEMENT_TIMEOUT", "0", "1 to 3600"), ("RECENTRE_DATABASE_CONNECT_TIMEOUT", "2.5", "1 to 600"), ("RECENTRE_REQUEST_TIMEOUT", "soon", "1 to 3600")],
)
def test_a_bad_timeout_is_named_with_what_it_must_be(tmp_path: Path, variable: str, given: str, allowed: str):
    with pytest.raises(ValueError) as caught:
        Settings.from_env({"RECENTRE_DATA_DIR": str(tmp_path), variable: given})
    assert str(caught.value) == f"{variable}: a whole number from {allowed}, not {given!r}"


def test_several_workers_are_refused_on_sqlite(tmp_path: Path, monkeypatch, capsys):
    from web.cli import main

    monkeypatch.setenv("RECENTRE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("RECENTRE_DATABASE_URL", raising=False)
    assert main(["serve", "--workers", "2"]) == 2
    assert "several workers need PostgreSQL" in capsys.readouterr().err
    assert not (tmp_path / "recentre.db").exists() or (tmp_path / "recentre.db").stat().st_size == 0
    with pytest.raises(SystemExit):
        main(["serve", "--workers", "0"])
    assert "a whole number from 1 up, not '0'" in capsys.readouterr().err


def test_serve_names_a_bad_setting_without_a_traceback(tmp_path: Path, monkeypatch, capsys):
    from web.cli import main

    monkeypatch.setenv("RECENTRE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RECENTRE_PORT", "80000")
    assert main(["serve"]) == 2
    assert capsys.readouterr().err == "error: RECENTRE_PORT: a whole number from 1 to 65535, not '80000'\n"
