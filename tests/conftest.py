"""Fixtures shared by the tests: real databases, a live server and Debian's Chromium.

A test that needs PostgreSQL or the browser skips, saying why, on a developer's machine
without them; in CI (``CI=true``) the same test fails, so that a missing service can never
pass for a green run.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.database import run_coroutine
from tests.environment import ROOT, missing
from tests.live_server import recentre_served, sqlite_url
from tests.small_questionnaire import write_small_questionnaire

ARTEFACTS = ROOT / "test-artefacts"

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
POSTGRES_CONNECT_TIMEOUT_S = 2

# Headless as root in a container: no sandbox, no GPU; and no calls home, which this
# machine's closed network would refuse, slowly, at every start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgresql: needs the PostgreSQL server of RECENTRE_TEST_POSTGRES_URL")
    config.addinivalue_line("markers", "browser: needs Debian's chromium")
    # pytest-playwright's own base_url fixture, not ours; nothing to act on until it changes.
    config.addinivalue_line(
        "filterwarnings",
        "ignore:Session-scoped fixtures defined as instance methods:pytest.PytestRemovedIn10Warning",
    )
    # pytest-playwright empties its output folder at every start; keep it among our artefacts.
    if config.getoption("--output", None) == "test-results":
        config.option.output = str(ARTEFACTS / "playwright")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Playwright's sync API keeps an event loop running in the main thread from its first
    # use to the end of the session, and no async test can run beside it: browser tests last.
    items.sort(key=lambda item: "playwright" in getattr(item, "fixturenames", ()))


# --- Questionnaires ---------------------------------------------------------------------


@pytest.fixture
def questionnaire_dir(tmp_path: Path) -> Path:
    """A folder holding one small valid questionnaire (tests/small_questionnaire.py)."""
    folder = tmp_path / "questionnaires"
    write_small_questionnaire(folder)
    return folder


# --- Databases ----------------------------------------------------------------------------


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _postgres_execute(url: str, *statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(_asyncpg_dsn(url), timeout=POSTGRES_CONNECT_TIMEOUT_S)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def _new_postgres_database(server_url: str) -> Iterator[str]:
    """The URL of a new, empty database beside the one ``server_url`` names, dropped
    afterwards."""
    name = f"recentre_test_{uuid.uuid4().hex[:16]}"
    run_coroutine(_postgres_execute(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    finally:
        run_coroutine(_postgres_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL server to test against, once it has answered; tests get databases of
    their own beside the one it names."""
    url = os.environ.get("RECENTRE_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    try:
        run_coroutine(_postgres_execute(url, "SELECT 1"))
    except Exception as exc:  # any failure to connect means the same thing here
        shown = make_url(url).render_as_string(hide_password=True)
        missing(f"PostgreSQL is not reachable at {shown} ({type(exc).__name__}: {exc}); set RECENTRE_TEST_POSTGRES_URL")
    return url


@pytest.fixture
def postgresql_database(postgres_url: str):
    """The URL of a new, empty PostgreSQL database, dropped after the test.

    A database per test, not a shared one emptied between tests: two test runs on one
    machine (a developer's and CI's) cannot see each other's tables.
    """
    with _new_postgres_database(postgres_url) as url:
        yield url


@pytest.fixture
def sqlite_database(tmp_path: Path) -> str:
    """The URL of a new SQLite file."""
    return f"sqlite+aiosqlite:///{tmp_path / 'recentre.db'}"


@pytest.fixture(
    params=[
        pytest.param("sqlite"),
        pytest.param("postgresql", marks=pytest.mark.postgresql),
    ]
)
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database of each supported kind, in turn."""
    return request.getfixturevalue(f"{request.param}_database")


# --- The application, served --------------------------------------------------------------


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory):
    """The base URL of `recentre serve` with a new SQLite database and the small test
    questionnaire."""
    home = tmp_path_factory.mktemp("live_server")
    questionnaires = home / "questionnaires"
    write_small_questionnaire(questionnaires)
    with recentre_served(home, sqlite_url(home), questionnaires=questionnaires) as server:
        yield server.url


@pytest.fixture(
    scope="session",
    params=[
        pytest.param("sqlite"),
        pytest.param("postgresql", marks=pytest.mark.postgresql),
    ],
)
def bundled_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """`recentre serve` offering the bundled questionnaires, on a new SQLite database and on
    a new PostgreSQL database in turn: the SME's whole journey runs on both."""
    home = tmp_path_factory.mktemp(f"bundled_server_{request.param}")
    if request.param == "sqlite":
        with recentre_served(home, sqlite_url(home)) as server:
            yield server.url
        return
    with _new_postgres_database(request.getfixturevalue("postgres_url")) as database, recentre_served(home, database) as server:
        yield server.url


# --- The browser --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright's launch options, with Debian's chromium in place of a browser
    downloaded by `playwright install` (which this project never runs)."""
    chromium = shutil.which("chromium")
    if chromium is None:
        missing("Debian's chromium is not installed (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": chromium, "args": CHROMIUM_ARGS}


@pytest.fixture
def a11y_page(new_context):
    """A page whose context lets axe-core be injected despite the Content-Security-Policy."""
    return new_context(bypass_csp=True).new_page()


@pytest.fixture(scope="session")
def artefacts() -> Path:
    """The folder for screenshots (gitignored), kept after the run for people to look at."""
    ARTEFACTS.mkdir(exist_ok=True)
    return ARTEFACTS
