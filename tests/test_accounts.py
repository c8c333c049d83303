"""Accounts of advisors and organisers: `recentre user add`, signing in and out, sessions,
CSRF, rate limiting and changing one's password, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import pty
import re
import select
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from litestar.testing import TestClient
from sqlalchemy import func
from sqlalchemy import select as sql_select

from assessment.store.db import create_engine, session_factory, upgrade
from assessment.store.models import LoginFailure, User, UserSession
from assessment.workspace.accounts import GUESSABLE as GUESSABLE_TEXT
from assessment.workspace.accounts import MAX_ACCOUNT_FAILURES, MAX_LOGIN_FAILURES, hash_session_token, take_attempt
from tests.database import in_database, query, run_coroutine
from tests.environment import ROOT
from tests.live_server import recentre_served, sqlite_url
from tests.workspace import PASSWORD, add_user, csrf_token, post_form, sign_in, workspace_settings
from web import cli
from web.app import create_app
from web.auth import GENERIC_LOGIN_ERROR, SESSION_COOKIE, TOO_MANY_ATTEMPTS
from web.languages import LANGUAGE_COOKIE


@pytest.fixture
def settings(database_url: str, questionnaire_dir: Path, tmp_path: Path):
    return workspace_settings(database_url, questionnaire_dir, tmp_path / "data")


@pytest.fixture
def client(settings):
    with TestClient(app=create_app(settings)) as client:
        yield client


def user_row(database_url: str, email: str) -> User:
    return query(database_url, sql_select(User).where(User.email == email))[0][0]


def set_cookie_headers(response) -> list[str]:
    return [value for name, value in response.headers.multi_items() if name.lower() == "set-cookie"]


def session_cookie_header(response) -> str:
    return next(h for h in set_cookie_headers(response) if h.startswith(f"{SESSION_COOKIE}="))


# --- recentre user add -------------------------------------------------------------------


def run_user_add(database_url: str, tmp_path: Path, *args: str, stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "web.cli", "user", "add", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "RECENTRE_DATABASE_URL": database_url},
        timeout=60,
    )


def test_user_add_reads_the_password_from_stdin_and_stores_an_argon2id_hash(database_url, tmp_path):
    upgrade(database_url)
    done = run_user_add(database_url, tmp_path, "Ana@Example.org", "--role", "advisor", "--cluster", "did", stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert done.stderr == "added advisor of cluster did: ana@example.org\n"
    assert PASSWORD not in done.stdout + done.stderr
    user = user_row(database_url, "ana@example.org")
    assert (user.role, user.cluster, user.active) == ("advisor", "did", True)
    assert user.password_hash.startswith("$argon2id$")
    assert PasswordHasher().verify(user.password_hash, PASSWORD)


@pytest.mark.parametrize(
    "args, password, message",
    [
        (["--role", "advisor", "--cluster", "did"], "short pass", "error: The password is too short: use at least 12 characters.\n"),
        (["--role", "organiser", "--cluster", "did"], PASSWORD, "error: Organisers see all clusters: give no cluster.\n"),
        (
            ["--role", "advisor"],
            PASSWORD,
            "error: An advisor belongs to one cluster: give --cluster (green_synergy, did, cenfim, cluj_it).\n",
        ),
        (["--role", "advisor", "--cluster", "did"], "", "error: The password is too short: use at least 12 characters.\n"),
        (["--role", "advisor", "--cluster", "did"], "aaaaaaaaaaaa", f"error: {GUESSABLE_TEXT}\n"),
        (["--role", "organiser"], "password1234", f"error: {GUESSABLE_TEXT}\n"),
        (["--role", "organiser"], "x@example.org2026", f"error: {GUESSABLE_TEXT}\n"),  # the account's own email
    ],
)
def test_user_add_refuses_weak_passwords_and_wrong_clusters(database_url, tmp_path, args, password, message):
    upgrade(database_url)
    done = run_user_add(database_url, tmp_path, "x@example.org", *args, stdin=password + "\n")
    assert (done.returncode, done.stderr) == (1, message)
    assert query(database_url, sql_select(func.count()).select_from(User)) == [(0,)]


def test_user_add_refuses_an_email_that_has_an_account(database_url, tmp_path):
    upgrade(database_url)
    add_user(database_url, "ana@example.org")
    done = run_user_add(database_url, tmp_path, "ANA@example.org", "--role", "organiser", stdin=PASSWORD + "\n")
    assert (done.returncode, done.stderr) == (1, "error: An account with the email ana@example.org already exists.\n")


def test_user_add_refuses_an_unknown_cluster(capsys):
    with pytest.raises(SystemExit):
        cli.main(["user", "add", "x@example.org", "--role", "advisor", "--cluster", "atlantis"])
    assert "invalid choice: 'atlantis'" in capsys.readouterr().err


def _read_until(fd: int, text: bytes, timeout_s: float = 30) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout_s
    while text not in seen:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise AssertionError(f"no {text!r} from the command; it printed {seen!r}")
        seen += os.read(fd, 1024)
    return seen


def _user_add_at_a_terminal(database_url: str, first: str, second: str) -> tuple[int, bytes]:
    """Run `recentre user add` with a real terminal, type the two passwords at its prompts."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes the command, with the pty as its controlling terminal
        os.chdir(ROOT)
        os.execve(
            sys.executable,
            [sys.executable, "-m", "web.cli", "user", "add", "tty@example.org", "--role", "organiser"],
            {**os.environ, "RECENTRE_DATABASE_URL": database_url},
        )
    try:
        out = _read_until(fd, b"Password (at least 12 characters): ")
        os.write(fd, first.encode() + b"\n")
        out += _read_until(fd, b"Repeat it: ")
        os.write(fd, second.encode() + b"\n")
        while True:
            try:
                chunk = os.read(fd, 1024)
            except OSError:  # the terminal closes when the command exits
                break
            if not chunk:
                break
            out += chunk
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status), out
    finally:
        os.close(fd)


def test_user_add_prompts_for_the_password_twice_at_a_terminal_without_echoing_it(database_url):
    upgrade(database_url)
    code, out = _user_add_at_a_terminal(database_url, PASSWORD, PASSWORD)
    assert code == 0, out
    assert b"added organiser: tty@example.org" in out
    assert PASSWORD.encode() not in out
    assert user_row(database_url, "tty@example.org").role == "organiser"


def test_user_add_at_a_terminal_refuses_two_different_passwords(database_url):
    upgrade(database_url)
    code, out = _user_add_at_a_terminal(database_url, PASSWORD, PASSWORD + "!")
    assert code == 1
    assert b"error: The two passwords differ." in out
    assert query(database_url, sql_select(func.count()).select_from(User)) == [(0,)]


# --- Signing in --------------------------------------------------------------------------


def test_signing_in_sets_a_secure_session_cookie_and_leads_to_the_page_asked_for(client, settings):
    add_user(settings.database_url, "ana@example.org")
    response = sign_in(client, "Ana@Example.org ", next_url="/workspace/password")
    assert response.status_code == 303
    assert response.headers["location"] == "/workspace/password"
    cookie = session_cookie_header(response).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie.replace("samesite", "")  # plain http: a Secure cookie would be dropped
    page = client.get("/workspace/password")
    assert page.status_code == 200
    assert "Signed in as ana@example.org (advisor, dID – Distretto Interni e Design)" in page.text


def test_session_cookies_are_secure_over_https(settings):
    with TestClient(app=create_app(settings), base_url="https://testserver.local") as client:
        add_user(settings.database_url, "ana@example.org")
        assert "; secure" in session_cookie_header(sign_in(client, "ana@example.org")).lower()


def test_session_cookies_are_secure_when_the_setting_says_so(settings):
    with TestClient(app=create_app(replace(settings, secure_cookies=True))) as client:
        add_user(settings.database_url, "ana@example.org")
        client.get("/workspace/login")
        # The cookies are Secure, so the test client (on http) would not send them back.
        assert "; secure" in next(h for h in set_cookie_headers(client.get("/workspace/login")) if h.startswith("recentre_csrf")).lower()


@pytest.mark.parametrize(
    "email, password",
    [
        ("ana@example.org", "wrong password!"),
        ("nobody@example.org", PASSWORD),
        ("", ""),
        ("ana@example.org", "x" * 5000),
        # PostgreSQL refuses a NUL in a query: this was a 500.
        ("ana@example.org\x00", PASSWORD),
        ("ana\x00@example.org", "wrong password!"),
        ("a" * 300 + "@example.org", PASSWORD),
    ],
)
def test_a_wrong_email_or_password_gets_the_same_answer(client, settings, email, password):
    add_user(settings.database_url, "ana@example.org")
    response = sign_in(client, email, password)
    assert response.status_code == 401
    assert GENERIC_LOGIN_ERROR in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert client.get("/workspace/password").status_code == 401


def test_a_deactivated_account_cannot_sign_in(client, settings):
    add_user(settings.database_url, "ana@example.org")

    async def deactivate():
        engine = create_engine(settings.database_url)
        async with session_factory(engine)() as session, session.begin():
            (await session.scalar(sql_select(User))).active = False
        await engine.dispose()

    run_coroutine(deactivate())
    assert sign_in(client, "ana@example.org").status_code == 401


def test_the_session_id_changes_at_sign_in_and_a_planted_one_ends(settings):
    add_user(settings.database_url, "ana@example.org")
    # An app each, as two server processes: a test client runs the app in its own event loop.
    with TestClient(app=create_app(settings)) as attacker, TestClient(app=create_app(settings)) as victim:
        planted = sign_in(attacker, "ana@example.org").cookies[SESSION_COOKIE]
        victim.cookies.set(SESSION_COOKIE, planted)
        own = sign_in(victim, "ana@example.org").cookies[SESSION_COOKIE]
        assert own != planted
        assert query(settings.database_url, sql_select(UserSession.token_hash)) == [(hash_session_token(own),)]
        assert attacker.get("/workspace/password").status_code == 401


def test_only_the_hash_of_the_session_token_is_stored(client, settings):
    add_user(settings.database_url, "ana@example.org")
    token = sign_in(client, "ana@example.org").cookies[SESSION_COOKIE]
    (stored,) = query(settings.database_url, sql_select(UserSession.token_hash))[0]
    assert stored != token and stored == hash_session_token(token)


def test_signing_out_ends_the_session(client, settings):
    add_user(settings.database_url, "ana@example.org")
    token = sign_in(client, "ana@example.org").cookies[SESSION_COOKIE]
    response = post_form(client, "/workspace/password", "/workspace/logout", {})
    assert response.status_code == 303 and response.headers["location"] == "/workspace/login"
    assert 'max-age=0' in session_cookie_header(response).lower()
    client.cookies.set(SESSION_COOKIE, token)  # a copy of the old cookie opens nothing
    assert client.get("/workspace/password").status_code == 401
    assert query(settings.database_url, sql_select(func.count()).select_from(UserSession)) == [(0,)]


def test_pages_of_the_workspace_ask_anonymous_visitors_to_sign_in(client):
    response = client.get("/workspace/password?x=1")
    assert response.status_code == 401
    assert 'action="/workspace/login"' in response.text
    assert 'name="next" value="/workspace/password?x=1"' in response.text


def test_htmx_requests_without_a_session_are_sent_to_the_sign_in_page(client):
    response = client.get("/workspace/password", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/workspace/login?next=/workspace/password"


@pytest.mark.parametrize("next_url", ["//evil.example/workspace", "https://evil.example/", "/workspace//evil.example", "/\\evil.example", "/workspace\\@evil", "javascript:alert(1)"])
def test_sign_in_never_leads_to_another_site(client, settings, next_url):
    add_user(settings.database_url, "ana@example.org")
    assert sign_in(client, "ana@example.org", next_url=next_url).headers["location"] == "/workspace"


def test_a_signed_in_visitor_of_the_sign_in_page_goes_on_to_the_workspace(client, settings):
    add_user(settings.database_url, "ana@example.org")
    sign_in(client, "ana@example.org")
    response = client.get("/workspace/login?next=/workspace/password", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/workspace/password")


# --- CSRF --------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "forged-token", "a" * 64])
def test_forms_without_the_right_csrf_token_are_refused(client, settings, token):
    add_user(settings.database_url, "ana@example.org")
    csrf_token(client, "/workspace/login")  # the browser holds a CSRF cookie
    data = {"email": "ana@example.org", "password": PASSWORD}
    if token is not None:
        data["_csrf_token"] = token
    response = client.post("/workspace/login", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_signing_out_needs_the_csrf_token(client, settings):
    add_user(settings.database_url, "ana@example.org")
    sign_in(client, "ana@example.org")
    assert client.post("/workspace/logout", data={}, follow_redirects=False).status_code == 403
    assert client.get("/workspace/password").status_code == 200


# --- Rate limiting -----------------------------------------------------------------------


def test_sign_in_is_refused_for_15_minutes_after_5_failures(client, settings):
    add_user(settings.database_url, "ana@example.org")
    add_user(settings.database_url, "ben@example.org")
    for _ in range(MAX_LOGIN_FAILURES):
        assert sign_in(client, "ana@example.org", "wrong password!").status_code == 401
    refused = sign_in(client, "ana@example.org")  # even the right password
    assert refused.status_code == 429
    assert TOO_MANY_ATTEMPTS in refused.text
    assert SESSION_COOKIE not in refused.headers.get("set-cookie", "")
    assert sign_in(client, "ben@example.org").status_code == 303  # other accounts are not locked out
    # Each attempt is counted for the email from this address, and for the email from anywhere.
    rows = query(settings.database_url, sql_select(LoginFailure.key))
    assert len(rows) == 2 * MAX_LOGIN_FAILURES and all("ana" not in key for (key,) in rows)


def test_one_account_is_limited_across_addresses_too(settings):
    """Guessing one account's password from many addresses: 20 attempts within 15 minutes,
    whatever their addresses, and the next is refused from any address."""
    add_user(settings.database_url, "ana@example.org")

    async def attempts(session):
        taken = [await take_attempt(session, "ana@example.org", f"198.51.100.{i}") for i in range(MAX_ACCOUNT_FAILURES)]
        return taken, await take_attempt(session, "ANA@example.org", "203.0.113.9"), await take_attempt(session, "ben@example.org", "203.0.113.9")

    taken, next_one, other_account = in_database(settings.database_url, attempts)
    assert all(taken) and next_one is False and other_account is True


def test_old_failures_stop_counting(client, settings):
    add_user(settings.database_url, "ana@example.org")
    for _ in range(MAX_LOGIN_FAILURES):
        sign_in(client, "ana@example.org", "wrong password!")

    async def age_failures():
        from datetime import timedelta

        from sqlalchemy import update

        from assessment.store.models import utcnow

        engine = create_engine(settings.database_url)
        async with session_factory(engine)() as session, session.begin():
            await session.execute(update(LoginFailure).values(failed_at=utcnow() - timedelta(minutes=16)))
        await engine.dispose()

    run_coroutine(age_failures())
    assert sign_in(client, "ana@example.org").status_code == 303


def test_a_hash_with_old_parameters_is_replaced_at_sign_in(client, settings):
    add_user(settings.database_url, "ana@example.org")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)

    async def set_hash(value):
        engine = create_engine(settings.database_url)
        async with session_factory(engine)() as session, session.begin():
            (await session.scalar(sql_select(User))).password_hash = value
        await engine.dispose()

    run_coroutine(set_hash(weak))
    assert sign_in(client, "ana@example.org").status_code == 303
    stored = user_row(settings.database_url, "ana@example.org").password_hash
    assert stored != weak and not PasswordHasher().check_needs_rehash(stored)
    assert PasswordHasher().verify(stored, PASSWORD)


# --- Changing one's password -------------------------------------------------------------

NEW_PASSWORD = "a much longer new passphrase"


def change(client, current: str, new: str, repeat: str | None = None):
    data = {"current_password": current, "new_password": new, "repeat_password": new if repeat is None else repeat}
    return post_form(client, "/workspace/password", "/workspace/password", data)


@pytest.mark.parametrize(
    "current, new, repeat, message",
    [
        ("wrong password!", NEW_PASSWORD, None, "The current password is wrong."),
        (PASSWORD, "too short", None, "The password is too short: use at least 12 characters."),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "The two new passwords differ."),
    ],
)
def test_changing_the_password_needs_the_current_one_and_a_strong_new_one(client, settings, current, new, repeat, message):
    add_user(settings.database_url, "ana@example.org")
    sign_in(client, "ana@example.org")
    response = change(client, current, new, repeat)
    assert response.status_code == 400
    assert message in response.text
    assert PasswordHasher().verify(user_row(settings.database_url, "ana@example.org").password_hash, PASSWORD)


GUESSABLE = (
    "The password is too easy to guess: avoid common passwords, words, names, dates, your email, repeated "
    "letters and keyboard rows; a few unrelated words make a strong one."
)


@pytest.mark.parametrize("new", ["aaaaaaaaaaaa", "password1234", "qwertyuiop12", "ana@example.org!", "recentre2026!"])
def test_a_guessable_new_password_is_refused_with_a_translated_message(client, settings, new):
    add_user(settings.database_url, "ana@example.org")
    sign_in(client, "ana@example.org")
    response = change(client, PASSWORD, new)
    assert (response.status_code, GUESSABLE in response.text) == (400, True)
    client.cookies.set(LANGUAGE_COOKIE, "it", path="/workspace")
    response = change(client, PASSWORD, new)
    assert "La password è troppo facile da indovinare" in response.text
    assert PasswordHasher().verify(user_row(settings.database_url, "ana@example.org").password_hash, PASSWORD)
    # The current password was right: these attempts are not counted as guesses.
    assert change(client, PASSWORD, NEW_PASSWORD).status_code == 303


def test_changing_the_password_signs_out_everywhere_else(settings):
    add_user(settings.database_url, "ana@example.org")
    with TestClient(app=create_app(settings)) as here, TestClient(app=create_app(settings)) as elsewhere:
        sign_in(here, "ana@example.org")
        sign_in(elsewhere, "ana@example.org")
        response = change(here, PASSWORD, NEW_PASSWORD)
        assert (response.status_code, response.headers["location"]) == (303, "/workspace/password?done=true")
        assert "has been changed" in here.get(response.headers["location"]).text
        assert elsewhere.get("/workspace/password").status_code == 401
        assert sign_in(elsewhere, "ana@example.org").status_code == 401
        assert sign_in(elsewhere, "ana@example.org", NEW_PASSWORD).status_code == 303


def test_guessing_the_current_password_is_rate_limited_too(client, settings):
    add_user(settings.database_url, "ana@example.org")
    sign_in(client, "ana@example.org")
    for _ in range(MAX_LOGIN_FAILURES):
        assert change(client, "wrong password!", NEW_PASSWORD).status_code == 400
    assert change(client, PASSWORD, NEW_PASSWORD).status_code == 429


# --- Served for real: addresses, races and the event loop -----------------------------------

_CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


def served_csrf(client: httpx.Client) -> str:
    """The CSRF token of the served sign-in page (its cookie stays in ``client``)."""
    return _CSRF_FIELD.search(client.get("/workspace/login").text).group(1)


def served_sign_in(client: httpx.Client, csrf: str, email: str, password: str, forwarded_for: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    data = {"email": email, "password": password, "_csrf_token": csrf}
    return client.post("/workspace/login", data=data, headers=headers).status_code


@contextmanager
def served(tmp_path: Path, database_url: str, questionnaires: Path, **env: str):
    """`recentre serve` in ``tmp_path`` on ``database_url``, with an account for ana@example.org."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    with recentre_served(tmp_path, database_url, questionnaires=questionnaires, env=env) as server:
        add_user(database_url, "ana@example.org")
        yield server


def test_x_forwarded_for_is_believed_from_trusted_proxies_only(tmp_path, questionnaire_dir):
    """By default (no RECENTRE_TRUSTED_PROXIES) a client cannot pick the address its failed
    sign-ins are counted by; behind a trusted proxy, the address the proxy names counts."""
    database = sqlite_url(tmp_path / "plain")
    with served(tmp_path / "plain", database, questionnaire_dir) as server, httpx.Client(base_url=server.url) as client:
        csrf = served_csrf(client)
        statuses = [served_sign_in(client, csrf, "ana@example.org", "wrong password!", f"10.0.0.{i}") for i in range(MAX_LOGIN_FAILURES)]
        assert statuses == [401] * MAX_LOGIN_FAILURES
        assert served_sign_in(client, csrf, "ana@example.org", PASSWORD, "10.0.0.99") == 429
    database = sqlite_url(tmp_path / "proxied")
    with served(tmp_path / "proxied", database, questionnaire_dir, RECENTRE_TRUSTED_PROXIES="127.0.0.1") as server, httpx.Client(base_url=server.url) as client:
        csrf = served_csrf(client)
        for _ in range(MAX_LOGIN_FAILURES):
            assert served_sign_in(client, csrf, "ana@example.org", "wrong password!", "10.0.0.1") == 401
        assert served_sign_in(client, csrf, "ana@example.org", PASSWORD, "10.0.0.1") == 429
        # Another client behind the proxy is not locked out by the first one's guesses.
        assert served_sign_in(client, csrf, "ana@example.org", PASSWORD, "spoofed, 10.0.0.2") == 303


def test_concurrent_wrong_passwords_are_checked_no_more_than_the_limit(tmp_path, database_url, questionnaire_dir):
    """30 wrong passwords at once for one account: 5 are checked, 25 refused. The count and
    the check were two steps, and on PostgreSQL ten got through."""

    async def guess(url: str) -> list[int]:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            page = await client.get("/workspace/login")
            csrf = _CSRF_FIELD.search(page.text).group(1)
            data = {"email": "ana@example.org", "password": "wrong password!", "_csrf_token": csrf}
            responses = await asyncio.gather(*(client.post("/workspace/login", data=data) for _ in range(30)))
            return sorted(r.status_code for r in responses)

    with served(tmp_path, database_url, questionnaire_dir) as server:
        assert run_coroutine(guess(server.url)) == [401] * MAX_LOGIN_FAILURES + [429] * (30 - MAX_LOGIN_FAILURES)


def test_sign_ins_do_not_stall_other_requests(tmp_path, questionnaire_dir):
    """argon2 ran on the event loop, and on SQLite inside the transaction holding the only
    connection: 12 sign-ins at once made /healthz wait seconds. Now it answers meanwhile."""

    async def load(url: str) -> tuple[float, float]:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            page = await client.get("/workspace/login")
            csrf = _CSRF_FIELD.search(page.text).group(1)
            started = time.perf_counter()
            sign_ins = asyncio.gather(
                *(client.post("/workspace/login", data={"email": f"u{i}@example.org", "password": PASSWORD, "_csrf_token": csrf}) for i in range(16))
            )
            waits = []
            task = asyncio.ensure_future(sign_ins)
            while not task.done():
                asked = time.perf_counter()
                assert (await client.get("/healthz")).status_code == 200
                waits.append(time.perf_counter() - asked)
                await asyncio.sleep(0.02)
            assert all(r.status_code == 401 for r in await task)
            return max(waits), time.perf_counter() - started

    with served(tmp_path, sqlite_url(tmp_path), questionnaire_dir) as server:
        longest, total = run_coroutine(load(server.url))
    # The sixteen hashes take most of a second or more of CPU; /healthz waited for them all.
    assert longest < max(0.25, total / 4), (longest, total)


# --- recentre user list, disable, enable, remove, reset-password --------------------------


def run_user(database_url: str, tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "web.cli", "user", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "RECENTRE_DATABASE_URL": database_url},
        timeout=60,
    )


def test_user_list_shows_every_account(client, database_url, tmp_path):
    add_user(database_url, "ana@did.example", "advisor", "did")
    add_user(database_url, "org@recentre.example", "organiser")
    done = run_user(database_url, tmp_path, "list")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["EMAIL", "ROLE", "CLUSTER", "STATE", "CREATED"]
    assert [line.split()[:4] for line in lines[1:]] == [
        ["org@recentre.example", "organiser", "-", "active"],
        ["ana@did.example", "advisor", "did", "active"],
    ]
    assert done.stderr == "2 account(s)\n"
    assert PASSWORD not in done.stdout


def test_a_disabled_account_loses_its_sessions_and_cannot_sign_in(client, database_url, tmp_path):
    add_user(database_url, "ana@did.example")
    assert sign_in(client, "ana@did.example").status_code == 303
    assert client.get("/workspace").status_code == 200
    done = run_user(database_url, tmp_path, "disable", "ANA@did.example")
    assert (done.returncode, done.stderr) == (0, "disabled ana@did.example: it cannot sign in, and its sessions have ended\n")
    assert client.get("/workspace", follow_redirects=False).status_code in (302, 303, 401)
    assert query(database_url, sql_select(func.count()).select_from(UserSession)) == [(0,)]
    refused = sign_in(client, "ana@did.example")
    assert refused.status_code == 401 and GENERIC_LOGIN_ERROR in refused.text
    assert "disabled" in run_user(database_url, tmp_path, "list").stdout

    assert run_user(database_url, tmp_path, "enable", "ana@did.example").returncode == 0
    assert sign_in(client, "ana@did.example").status_code == 303


def test_removing_an_account_keeps_its_notes_without_author(client, database_url, questionnaire_dir, tmp_path):
    from tests.workspace import make_assessment

    made = make_assessment(database_url, questionnaire_dir, name="Mobili Rossi")
    add_user(database_url, "ana@did.example")
    sign_in(client, "ana@did.example")
    page = f"/workspace/assessments/{made.id}"
    assert post_form(client, page, f"{page}/notes", {"kind": "note", "text": "Call in May"}).status_code == 303
    done = run_user(database_url, tmp_path, "remove", "ana@did.example")
    assert (done.returncode, done.stderr) == (0, "removed ana@did.example; 1 note(s) it wrote are kept without their author\n")
    assert query(database_url, sql_select(func.count()).select_from(User)) == [(0,)]
    add_user(database_url, "org@recentre.example", "organiser")
    client.cookies.clear()
    sign_in(client, "org@recentre.example")
    shown = client.get(page)
    assert "Call in May" in shown.text and "a removed account" in shown.text


def test_reset_password_replaces_the_hash_and_ends_the_sessions(client, database_url, tmp_path):
    add_user(database_url, "ana@did.example")
    sign_in(client, "ana@did.example")
    new = "violet tugboat harmonica 42"
    done = run_user(database_url, tmp_path, "reset-password", "ana@did.example", stdin=new + "\n")
    assert (done.returncode, done.stderr) == (0, "new password for ana@did.example: its sessions have ended\n")
    assert client.get("/workspace", follow_redirects=False).status_code != 200
    assert PasswordHasher().verify(user_row(database_url, "ana@did.example").password_hash, new)
    assert sign_in(client, "ana@did.example").status_code == 401
    assert sign_in(client, "ana@did.example", new).status_code == 303

    weak = run_user(database_url, tmp_path, "reset-password", "ana@did.example", stdin="aaaaaaaaaaaa\n")
    assert (weak.returncode, weak.stderr) == (1, f"error: {GUESSABLE_TEXT}\n")


@pytest.mark.parametrize("command", ["disable", "enable", "remove", "reset-password"])
def test_user_commands_name_an_unknown_email(client, database_url, tmp_path, command):
    done = run_user(database_url, tmp_path, command, "nobody@example.org", stdin=PASSWORD + "\n")
    assert (done.returncode, done.stderr) == (1, "error: No account has the email nobody@example.org.\n")
