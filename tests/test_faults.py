"""Faults on a running server (``recentre serve`` on 127.0.0.1, tests/live_server.py) under the
load of SMEs saving answers: the server killed with SIGKILL, its PostgreSQL restarted or
frozen (a server of the test's own, tests/throwaway_postgres.py), its SQLite file locked by
another process or deleted. What must hold: every acknowledged answer is stored; a request
the database cannot serve answers 503 with Retry-After, in bounded time, logged in one line
without a traceback; the server keeps serving what needs no database wait; and it recovers
by itself once the database is back."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy.engine import make_url

from assessment.settings import Settings
from assessment.store.db import upgrade
from tests.live_server import LiveServer, recentre_served, sqlite_url
from tests.saving_clients import API, KINDS, NEW, Saver, browser, create, save, stored_kwh, unkept
from tests.throwaway_postgres import ThrowawayPostgres, throwaway_postgres
from web.app import create_app

FAST = {"RECENTRE_DATABASE_STATEMENT_TIMEOUT": "2", "RECENTRE_DATABASE_CONNECT_TIMEOUT": "1"}
"""Timeouts short enough for a test to wait them out."""


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[ThrowawayPostgres]:
    """A PostgreSQL server of this module's own, to restart and freeze."""
    with throwaway_postgres() as server:
        yield server


def saving(server: LiveServer, assessments: int = 6, clients: int = 3) -> tuple[list[Saver], threading.Event]:
    """``clients`` SMEs saving answers, started, to ``assessments`` new assessments."""
    with browser(server.url) as client:
        tokens = [create(client) for _ in range(assessments)]
    stop = threading.Event()
    savers = [Saver(server.url, tokens[i::clients], stop) for i in range(clients)]
    for saver in savers:
        saver.start()
    return savers, stop


def stopped(savers: list[Saver], stop: threading.Event) -> Counter[int]:
    """The statuses the savers got, once they have stopped."""
    stop.set()
    for saver in savers:
        saver.join(timeout=60)
        assert not saver.is_alive(), "a client hung"
    return sum((s.statuses for s in savers), Counter())


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def log_of(server: LiveServer) -> str:
    return server.log.read_text(errors="replace")


# --- The server killed ----------------------------------------------------------------------


@pytest.mark.parametrize(("database", "workers"), [("sqlite", 1), pytest.param("postgresql", 2, marks=pytest.mark.postgresql)])
def test_every_acknowledged_answer_survives_kill_9(database: str, workers: int, request, tmp_path: Path, questionnaire_dir: Path):
    url = request.getfixturevalue(f"{database}_database")
    before: list[Saver] = []
    for _ in range(3):
        with recentre_served(tmp_path, url, questionnaires=questionnaire_dir, workers=workers) as server:
            # What every earlier round acknowledged is there after the restart.
            assert unkept(server.url, before) == []
            savers, stop = saving(server)
            time.sleep(1.0)
            server.kill()
            statuses = stopped(savers, stop)
        assert statuses[200] + statuses[303] >= 20, statuses  # the kill came under real load
        assert [r for s in savers for r in s.refusals] == []
        before += savers
    with recentre_served(tmp_path, url, questionnaires=questionnaire_dir, workers=workers) as server:
        assert unkept(server.url, before) == []


# --- PostgreSQL restarted or frozen -----------------------------------------------------------


@pytest.mark.postgresql
def test_the_app_rides_out_postgresql_restarts_under_load(own_postgres: ThrowawayPostgres, tmp_path: Path, questionnaire_dir: Path):
    url = own_postgres.create_database("restarts")
    with recentre_served(tmp_path, url, questionnaires=questionnaire_dir, env=FAST) as server:
        savers, stop = saving(server)
        time.sleep(0.7)
        own_postgres.restart(signal.SIGINT)  # a fast shutdown: every connection closed
        time.sleep(0.5)
        own_postgres.restart(signal.SIGQUIT)  # an immediate one: a crash, recovered at start
        # The app recovers by itself, without a restart.
        recovered_at = time.monotonic() + 15
        with browser(server.url) as client:
            token = create(client)
            while not (client.get("/healthz").status_code == 200 and save(client, token, "api", 1).status_code == 200):
                assert time.monotonic() < recovered_at, "the app did not recover within 15 s of PostgreSQL's restart"
                time.sleep(0.2)
        time.sleep(0.5)
        statuses = stopped(savers, stop)
        assert set(statuses) <= {200, 303, 503} and statuses[503] > 0, statuses
        assert [r for s in savers for r in s.refusals] == []
        assert sum(s.retry_after_missing for s in savers) == 0
        assert unkept(server.url, savers) == []
    log = log_of(server)
    assert "Traceback" not in log
    # One line per failed request, naming its route, never its path (which holds the token).
    assert log.count(": 503, ") == statuses[503]
    assert "/a/{token}/s/{section_id}: 503, " in log or "/api/v1/assessments/{token}/answers: 503, " in log


@pytest.mark.postgresql
def test_a_frozen_postgresql_gets_503s_in_bounded_time_then_the_app_recovers(
    own_postgres: ThrowawayPostgres, tmp_path: Path, questionnaire_dir: Path
):
    url = own_postgres.create_database("frozen")
    with recentre_served(tmp_path, url, questionnaires=questionnaire_dir, env=FAST) as server, browser(server.url) as client:
        token = create(client)
        assert save(client, token, "api", 1).status_code == 200
        calls = {
            "autosave": lambda: save(client, token, "htmx", 2),
            "API save": lambda: save(client, token, "api", 3),
            "API read": lambda: client.get(f"{API}/assessments/{token}"),
            "page": lambda: client.get(f"/a/{token}/s/energy"),
            "create": lambda: client.post(f"{API}/assessments", json=NEW),
            "health": lambda: client.get("/healthz"),
        }
        own_postgres.freeze()
        try:
            answers = {name: timed(call) for name, call in calls.items()}
        finally:
            own_postgres.thaw()
        for name, (response, elapsed) in answers.items():
            assert response.status_code == 503, (name, response.text)
            assert response.headers["retry-after"] == "5", name
            # The statement timeout (2 s), and the time to give the connection up: SQLAlchemy
            # waits up to 2 s more for a clean close, the others a second.
            assert elapsed < 5, (name, elapsed)
        recovered_at = time.monotonic() + 15
        while not (client.get("/healthz").status_code == 200 and save(client, token, "api", 4).status_code == 200):
            assert time.monotonic() < recovered_at, "the app did not recover within 15 s of PostgreSQL's thaw"
            time.sleep(0.2)
        assert stored_kwh(client, token) == 4
    assert "Traceback" not in log_of(server)


@pytest.mark.postgresql
def test_a_request_past_its_deadline_answers_503(own_postgres: ThrowawayPostgres, tmp_path: Path, questionnaire_dir: Path):
    url = own_postgres.create_database("deadline")
    env = {"RECENTRE_DATABASE_STATEMENT_TIMEOUT": "60", "RECENTRE_REQUEST_TIMEOUT": "1"}
    with recentre_served(tmp_path, url, questionnaires=questionnaire_dir, env=env) as server, browser(server.url) as client:
        token = create(client)
        own_postgres.freeze()
        try:
            api, api_s = timed(lambda: save(client, token, "api", 1))
            page, page_s = timed(lambda: save(client, token, "form", 1))
        finally:
            own_postgres.thaw()
        assert (api.status_code, page.status_code) == (503, 503)
        assert api.json()["error"]["message"].startswith("Service unavailable: the database is not answering, so it is not known whether")
        assert "cannot tell whether this was saved" in page.text
        assert api_s < 2 and page_s < 2
        recovered_at = time.monotonic() + 20
        while save(client, token, "api", 2).status_code != 200:
            assert time.monotonic() < recovered_at, "the app did not recover after the deadline cut a request off"
            time.sleep(0.2)
    log = log_of(server)
    assert log.count("no response within 1 s (RECENTRE_REQUEST_TIMEOUT)") == 2
    assert "Traceback" not in log


# --- SQLite locked by another process, or deleted ---------------------------------------------


def submitted(client: httpx.Client) -> str:
    """The token of a new submitted assessment of the small questionnaire."""
    token = create(client)
    assert client.patch(f"{API}/assessments/{token}/answers", json={"kwh": 50, "audit": True, "tools": "erp"}).status_code == 200
    assert client.post(f"{API}/assessments/{token}/submit").status_code == 200
    return token


def test_a_sqlite_lock_held_elsewhere_neither_stalls_the_server_nor_hangs_a_save(tmp_path: Path, questionnaire_dir: Path):
    url = sqlite_url(tmp_path)
    env = {"RECENTRE_DATABASE_STATEMENT_TIMEOUT": "1"}
    with recentre_served(tmp_path, url, questionnaires=questionnaire_dir, env=env) as server, browser(server.url) as client:
        token, done = create(client), submitted(client)
        holder = sqlite3.connect(make_url(url).database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process's write lock, held for 3 s
        try:
            with ThreadPoolExecutor(2) as pool, browser(server.url) as other:
                waiting_save = pool.submit(timed, lambda: save(other, token, "api", 2))
                waiting_create = pool.submit(timed, lambda: httpx.post(f"{server.url}{API}/assessments", json=NEW, timeout=30))
                time.sleep(0.3)
                # Meanwhile the server answers at once what waits for no lock.
                for path in ("/healthz", f"/a/{done}/results", "/"):
                    response, elapsed = timed(lambda p=path: client.get(p))
                    assert (response.status_code, elapsed < 0.5) == (200, True), (path, elapsed)
                for response, elapsed in (waiting_save.result(), waiting_create.result()):
                    assert response.status_code == 503 and response.headers["retry-after"] == "5"
                    assert 0.9 < elapsed < 2.5
            time.sleep(1.5)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert save(client, token, "api", 3).status_code == 200
        assert stored_kwh(client, token) == 3
    log = log_of(server)
    assert log.count(": 503, SQLite: database is locked") == 2
    assert "Traceback" not in log


def test_a_deleted_sqlite_file_fails_the_health_check_and_every_write_loudly(tmp_path: Path, questionnaire_dir: Path):
    url = sqlite_url(tmp_path)
    with recentre_served(tmp_path, url, questionnaires=questionnaire_dir) as server, browser(server.url) as client:
        token = create(client)
        assert save(client, token, "api", 1, audit=True, tools="erp").status_code == 200
        os.unlink(make_url(url).database)
        health = client.get("/healthz")
        assert (health.status_code, health.json()["database"]) == (503, "unavailable")
        for value, kind in enumerate(KINDS, 2):
            assert save(client, token, kind, value).status_code == 503, kind
        assert client.post(f"{API}/assessments", json=NEW).status_code == 503
        assert client.post(f"{API}/assessments/{token}/submit").status_code == 503
    log = log_of(server)
    assert log.count("was deleted or replaced while the server ran") == 1 + len(KINDS) + 2  # the health check, then each write
    assert "Traceback" not in log


# --- The honest 503, page and JSON ------------------------------------------------------------


@pytest.fixture
def impatient_client(tmp_path: Path, sqlite_database: str, questionnaire_dir: Path) -> Iterator[TestClient]:
    """The app on SQLite, whose requests answer 503 after a second, and whose writes would
    wait 30 s for a lock held elsewhere."""
    upgrade(sqlite_database)
    settings = Settings(
        database_url=sqlite_database, questionnaires=questionnaire_dir, secret_key="k", data_dir=tmp_path / "data",
        database_statement_timeout=30, request_timeout=1,
    )
    with TestClient(app=create_app(settings)) as client:
        yield client


def test_a_write_that_waits_past_the_request_deadline_gets_an_honest_503(impatient_client: TestClient, sqlite_database: str, caplog):
    client = impatient_client
    token = client.post(f"{API}/assessments", json={**NEW, "language": "it"}).json()["token"]
    holder = sqlite3.connect(make_url(sqlite_database).database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        api, api_s = timed(lambda: client.patch(f"{API}/assessments/{token}/answers", json={"kwh": 1}))
        client.get("/start")
        page, page_s = timed(
            lambda: client.post(f"/a/{token}/s/energy", data={"kwh": "1", "_csrf_token": client.cookies["recentre_csrf"]}, follow_redirects=False)
        )
        read, _ = timed(lambda: client.get(f"{API}/assessments/{token}"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert (api.status_code, api.headers["retry-after"], api_s < 2) == (503, "5", True)
    assert api.json() == {
        "error": {
            "status": 503,
            "message": "Service unavailable: the database is not answering, so it is not known whether this request was carried out. "
            "Try again in a moment: saving the same answers again is safe, and a submit that was carried out answers 409.",
            "problems": [],
        }
    }
    # The page in the assessment's language, saying it cannot tell, and what to do.
    assert (page.status_code, page.headers["retry-after"], page_s < 2) == (503, "5", True)
    assert "Riprovate tra un momento" in page.text
    assert "non può sapere se è stato salvato" in page.text
    assert read.status_code == 200  # reads need no lock
    lines = [r.getMessage() for r in caplog.records if r.name == "web.unavailable"]
    assert lines == [
        "PATCH /api/v1/assessments/{token}/answers: 503, no response within 1 s (RECENTRE_REQUEST_TIMEOUT)",
        "POST /a/{token}/s/{section_id}: 503, no response within 1 s (RECENTRE_REQUEST_TIMEOUT)",
    ]
    assert not any(r.exc_info for r in caplog.records)
