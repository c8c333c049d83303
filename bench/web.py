"""The web app under load: a real server (`recentre serve`, uvicorn, one process on
127.0.0.1), a real database (a new SQLite file; a new PostgreSQL database beside the one of
RECENTRE_TEST_POSTGRES_URL), and real HTTP/1.1 over keep-alive connections.

How it measures. The machine has two cores, shared by the server and the client. The server
is one uvicorn process (one worker, as `recentre serve` runs it); the client is this process,
one asyncio loop (uvloop) driving CONCURRENCY connections, each sending its next request as
soon as the previous answer is in. Each phase runs WARMUP_S, then counts the answers of the
next PHASE_S seconds. The figures that matter are ratios to the baseline measured the same
way in the same run: `bench/hello.py`, a one-route Litestar app under the same uvicorn
settings, so that the machine's speed cancels out. The client is a small hand-written HTTP
client rather than httpx, which costs more per request than the servers measured and would
make every phase measure the client; `web_hello_server_cpu_pct` shows how busy the server
was in the baseline (near 100 means the server, not the client, set the pace).

Figures, per database:
- ``web_autosave_rps_*``: PATCH /api/v1/assessments/{token}/answers, one answer changed per
  request, each connection on its own assessment pre-filled with a full answer set;
- ``web_results_rps_*``: the results page of submitted assessments: /a/{token}/results where
  the HTML flow serves it (``web_results_route_*`` says which), each connection sending back
  the CSRF cookie of its first visit as a browser does, else the API's
  GET /api/v1/assessments/{token} (answers, progress and the result profile), which
  ``web_results_api_*`` measures in any case;
- ``*_ratio_vs_hello_*``: those divided by ``web_hello_rps``;
- ``web_autosave_htmx_*``: the same change as the section page's htmx sends it (a form post
  with the CSRF header and cookie, answered with the question's HTML fragment, the progress
  and the status line), which is what SMEs in a browser send;
- ``web_p99_ms_*``: the 99th percentile latency of the (API) autosave phase;
- ``web_rss_mb_*``: the server's resident memory after both phases (from /proc);
- ``*_server_cpu_ms*``: the server process's CPU time per request (PostgreSQL's own work is
  not in it), a figure that other programs on the machine disturb far less than the rates.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import resource
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, cast

from sqlalchemy.engine import make_url

from tests.live_server import LiveServer, log_tail, recentre_served, serving

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = 32
WARMUP_S = 1.0
PHASE_S = 4.0
QUESTIONNAIRE = "furniture"
COMPANY = {"size": "small", "country": "IT"}
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- Servers ------------------------------------------------------------------------------
# Started and stopped by tests/live_server.py, as the tests' live servers are.


def server_rss_mb(server: LiveServer) -> float:
    """The server process's resident memory, in MiB (from /proc)."""
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc")


def server_cpu_seconds(server: LiveServer) -> float:
    """The CPU time the server process has used so far, user and system (from /proc)."""
    fields = Path(f"/proc/{server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def _uvicorn_like_serve() -> list[str]:
    # The settings `recentre serve` passes to uvicorn; the rest are uvicorn's defaults there too.
    code = (
        "import sys, uvicorn; "
        "uvicorn.run('bench.hello:create_app', factory=True, host=sys.argv[2], port=int(sys.argv[4]), access_log=False)"
    )
    return [sys.executable, "-c", code]


# --- The client ---------------------------------------------------------------------------


@dataclass
class Phase:
    started: float
    counted_from: float
    ends: float
    latencies: list[float] = field(default_factory=list)
    answered: int = 0
    answered_in_all: int = 0
    """Warm-up included: what the server's CPU time of the whole phase is divided by."""
    statuses: dict[int, int] = field(default_factory=dict)


class Connection(asyncio.Protocol):
    """One keep-alive connection sending its requests in turn, each once the last is answered."""

    def __init__(self, requests: list[bytes], phase: Phase, done: asyncio.Future[None]):
        self.requests = requests
        self.next = 0
        self.phase = phase
        self.done = done
        self.buffer = b""
        self.need = -1
        self.status = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # What create_connection gives a protocol: a transport that reads and writes.
        self.transport = cast(asyncio.Transport, transport)
        self.send()

    def send(self) -> None:
        self.sent = time.perf_counter()
        self.transport.write(self.requests[self.next % len(self.requests)])
        self.next += 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.need < 0:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = self.buffer[:end].decode("latin-1").lower()
                self.status = int(head[9:12])
                length = 0
                for line in head.split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name == "content-length":
                        length = int(value)
                    elif name == "transfer-encoding":
                        raise RuntimeError("chunked responses are not supported by this client")
                self.need = end + 4 + length
            if len(self.buffer) < self.need:
                return
            self.buffer = self.buffer[self.need :]
            self.need = -1
            self.answered()

    def answered(self) -> None:
        now = time.perf_counter()
        phase = self.phase
        phase.answered_in_all += 1
        if now >= phase.counted_from and now <= phase.ends:
            phase.answered += 1
            phase.latencies.append(now - self.sent)
            phase.statuses[self.status] = phase.statuses.get(self.status, 0) + 1
        if now < phase.ends:
            self.send()
        else:
            self.transport.close()
            if not self.done.done():
                self.done.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(exc or ConnectionError("the server closed the connection"))


def htmx_autosave(token: str, section: str, question: str, value: str, csrf_cookie: str) -> bytes:
    """What htmx sends when the SME changes an answer on a section page: the question's own
    field, form-encoded, with the CSRF token as a header and its cookie."""
    payload = urllib.parse.urlencode({question: value, "_autosave": question}).encode()
    token_value = csrf_cookie.split("=", 1)[1]
    head = (
        f"POST /a/{token}/s/{section} HTTP/1.1\r\nHost: 127.0.0.1\r\nHX-Request: true\r\n"
        f"X-CSRFToken: {token_value}\r\nCookie: {csrf_cookie}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


def csrf_cookie_of(server: LiveServer, path: str) -> str:
    """The CSRF cookie a browser gets with its first page, as ``name=value``."""
    with urllib.request.urlopen(f"{server.url}{path}", timeout=30) as response:
        cookies: list[str] = response.headers.get_all("set-cookie") or []
    return next(c.split(";", 1)[0] for c in cookies if c.startswith("recentre_csrf="))


def request(method: str, path: str, body: object = None, *, cookie: str | None = None) -> bytes:
    payload = b"" if body is None else json.dumps(body).encode()
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
    if cookie:
        head += f"Cookie: {cookie}\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
    return head.encode() + b"\r\n" + payload


async def _drive(port: int, per_connection: list[list[bytes]]) -> Phase:
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    phase = Phase(start, start + WARMUP_S, start + WARMUP_S + PHASE_S)
    waits: list[asyncio.Future[None]] = []
    for requests in per_connection:
        done: asyncio.Future[None] = loop.create_future()
        await loop.create_connection(partial(Connection, requests, phase, done), "127.0.0.1", port)
        waits.append(done)
    await asyncio.gather(*waits)
    return phase


def drive(port: int, per_connection: list[list[bytes]]) -> Phase:
    try:
        import uvloop
    except ImportError:  # uvicorn[standard] brings it; plain asyncio only measures slower
        return asyncio.run(_drive(port, per_connection))
    return uvloop.run(_drive(port, per_connection))


@dataclass
class Measured:
    rps: float
    p99_ms: float
    server_cpu_pct: float
    client_cpu_pct: float
    server_cpu_ms: float
    """The server's CPU time per request: unlike requests per second, it hardly changes when
    other programs compete for the cores."""


def measure(server: LiveServer, per_connection: list[list[bytes]], expect: int) -> Measured:
    cpu0, client0, wall0 = server_cpu_seconds(server), _client_cpu(), time.perf_counter()
    phase = drive(server.port, per_connection)
    wall = time.perf_counter() - wall0
    server_cpu = server_cpu_seconds(server) - cpu0
    unexpected = {s: n for s, n in phase.statuses.items() if s != expect}
    if unexpected:
        raise RuntimeError(f"expected {expect} only, got {phase.statuses}:\n{log_tail(server.log)}")
    latencies = sorted(phase.latencies)
    return Measured(
        rps=phase.answered / PHASE_S,
        p99_ms=latencies[int(0.99 * (len(latencies) - 1))] * 1000,
        server_cpu_pct=100 * server_cpu / wall,
        client_cpu_pct=100 * (_client_cpu() - client0) / wall,
        server_cpu_ms=1000 * server_cpu / phase.answered_in_all,
    )


def _client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- Set-up through the API ---------------------------------------------------------------


def call(server: LiveServer, method: str, path: str, body: object = None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(server.url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            answer: dict[str, Any] = json.loads(response.read())
            return answer
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{method} {path.split('/assessments/')[0]}: {exc.code} {exc.read()[:2000]!r}") from None


def full_answers(seed: int = 1) -> tuple[dict[str, Any], str, list[str]]:
    """A valid answer set with every required question answered; and the question to
    autosave, with two option ids to alternate between: a single choice asked
    unconditionally, on which no condition depends, so that changing it hides nothing."""
    from assessment.store.responses import required_unanswered
    from questionnaires.compile import compile_questionnaire, find_questionnaire
    from questionnaires.kinds import kind_of
    from scoring.answers import check_answers
    from scoring.check import random_answers

    compiled = compile_questionnaire(find_questionnaire(QUESTIONNAIRE))
    company = {**COMPANY, "sector": QUESTIONNAIRE, "cluster": "did"}
    show_if = compiled.show_if
    read_by_conditions = {ref.name for cond in show_if.values() for ref in cond.expression.refs() if ref.namespace == "answer"}
    autosaved = next(
        q for qid, q in compiled.questions.items()
        if kind_of(q).tag == "single_choice" and qid not in read_by_conditions
        and ("question", qid) not in show_if and ("section", compiled.section_of[qid]) not in show_if
        and not any(("option", qid, o.id) in show_if for o in compiled.options[qid].values())
    )
    rng = random.Random(seed)
    for _ in range(1000):
        answers = {q: v for q, v in random_answers(compiled, rng, company).items() if v not in ("", [], {})}
        if not required_unanswered(compiled, answers, company):
            check_answers(compiled, answers, company)
            return answers, autosaved.id, list(compiled.options[autosaved.id])[:2]
    raise RuntimeError("no complete random answer set in 1000 tries")


def section_of(question: str) -> str:
    from questionnaires.compile import compile_questionnaire, find_questionnaire

    return compile_questionnaire(find_questionnaire(QUESTIONNAIRE)).section_of[question]


def new_assessments(server: LiveServer, n: int, answers: dict[str, Any]) -> list[str]:
    tokens = []
    for _ in range(n):
        created = call(server, "POST", "/api/v1/assessments", {
            "questionnaire": QUESTIONNAIRE, "cluster": "did", "sector": QUESTIONNAIRE, "language": "en",
            "privacy_accepted": True, "company": COMPANY,
        })
        call(server, "PATCH", f"/api/v1/assessments/{created['token']}/answers", answers)
        tokens.append(created["token"])
    return tokens


def results_page(server: LiveServer, token: str) -> tuple[str, str | None] | None:
    """The HTML results page's path template, if the server has one, and the cookies its
    first visit set (the CSRF cookie), which a browser sends back on later visits."""
    try:
        with urllib.request.urlopen(f"{server.url}/a/{token}/results", timeout=30) as response:
            if response.status == 200 and response.headers.get_content_type() == "text/html":
                cookies = [c.split(";", 1)[0] for c in response.headers.get_all("set-cookie") or []]
                return "/a/{token}/results", "; ".join(cookies) or None
    except urllib.error.HTTPError:
        pass
    return None


# --- Phases -------------------------------------------------------------------------------


def hello(home: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with serving(_uvicorn_like_serve(), cwd=home, env=env, ready_path="/hello") as server:
        m = measure(server, [[request("GET", "/hello")]] * CONCURRENCY, 200)
    return {
        "web_hello_rps": m.rps,
        "web_hello_server_cpu_pct": m.server_cpu_pct,
        "web_hello_client_cpu_pct": m.client_cpu_pct,
        "web_hello_server_cpu_ms": m.server_cpu_ms,
    }


def recentre(home: Path, database_url: str, kind: str, hello_rps: float) -> dict[str, float | str]:
    answers, question, values = full_answers()
    section = section_of(question)
    with recentre_served(home, database_url) as server:
        tokens = new_assessments(server, CONCURRENCY, answers)
        autosave = measure(
            server,
            [[request("PATCH", f"/api/v1/assessments/{t}/answers", {question: v}) for v in values] for t in tokens],
            200,
        )
        cookie = csrf_cookie_of(server, f"/a/{tokens[0]}/s/{section}")
        htmx = measure(server, [[htmx_autosave(t, section, question, v, cookie) for v in values] for t in tokens], 200)
        for t in tokens:
            call(server, "PATCH", f"/api/v1/assessments/{t}/answers", {question: answers[question]})
            call(server, "POST", f"/api/v1/assessments/{t}/submit")
        api_results = measure(server, [[request("GET", f"/api/v1/assessments/{t}")] for t in tokens], 200)
        # The results page that SMEs see, where the HTML flow serves one; else the API's view.
        found = results_page(server, tokens[0])
        page, page_cookie = found if found else (None, None)
        results = measure(server, [[request("GET", page.format(token=t), cookie=page_cookie)] for t in tokens], 200) if page else api_results
        rss = server_rss_mb(server)
    return {
        f"web_autosave_rps_{kind}": autosave.rps,
        f"web_autosave_ratio_vs_hello_{kind}": autosave.rps / hello_rps,
        f"web_p99_ms_{kind}": autosave.p99_ms,
        f"web_autosave_server_cpu_pct_{kind}": autosave.server_cpu_pct,
        f"web_autosave_server_cpu_ms_{kind}": autosave.server_cpu_ms,
        f"web_autosave_htmx_rps_{kind}": htmx.rps,
        f"web_autosave_htmx_ratio_vs_hello_{kind}": htmx.rps / hello_rps,
        f"web_autosave_htmx_p99_ms_{kind}": htmx.p99_ms,
        f"web_autosave_htmx_server_cpu_ms_{kind}": htmx.server_cpu_ms,
        f"web_results_route_{kind}": page or "/api/v1/assessments/{token}",
        f"web_results_rps_{kind}": results.rps,
        f"web_results_ratio_vs_hello_{kind}": results.rps / hello_rps,
        f"web_results_p99_ms_{kind}": results.p99_ms,
        f"web_results_server_cpu_ms_{kind}": results.server_cpu_ms,
        f"web_results_api_rps_{kind}": api_results.rps,
        f"web_results_api_server_cpu_ms_{kind}": api_results.server_cpu_ms,
        f"web_rss_mb_{kind}": rss,
    }


async def _postgres(url: str, statement: str) -> None:
    import asyncpg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn, timeout=2)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new database beside the one RECENTRE_TEST_POSTGRES_URL names, dropped afterwards."""
    url = os.environ.get("RECENTRE_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    name = f"recentre_bench_{uuid.uuid4().hex[:12]}"
    asyncio.run(_postgres(url, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_postgres(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def web_load() -> dict[str, float | str]:
    with tempfile.TemporaryDirectory(prefix="recentre-bench-") as tmp:
        home = Path(tmp)
        baseline = hello(home)
        hello_rps = baseline["web_hello_rps"]
        figures: dict[str, float | str] = dict(baseline)
        sqlite_home = home / "sqlite"
        sqlite_home.mkdir()
        figures |= recentre(sqlite_home, f"sqlite+aiosqlite:///{sqlite_home / 'data' / 'recentre.db'}", "sqlite", hello_rps)
        pg_home = home / "postgresql"
        pg_home.mkdir()
        try:
            database = postgres_database()
            url = database.__enter__()
        except Exception as exc:  # any failure to reach the server means the same here
            shown = make_url(os.environ.get("RECENTRE_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL).render_as_string(hide_password=True)
            figures["web_postgresql"] = f"skipped: not reachable at {shown} ({type(exc).__name__})"
            return figures
        try:
            figures |= recentre(pg_home, url, "postgresql", hello_rps)
        finally:
            database.__exit__(None, None, None)
    return figures
