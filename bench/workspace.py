"""The workspace at 100,000 assessments: the list of assessments and the sector analysis,
through the real app over real HTTP, on SQLite and PostgreSQL.

How it measures. ``recentre seed`` fills a new database with SEEDED submitted assessments
(``workspace_seed_s_*`` is how long that took; the SQLite file is kept in a cache between
runs, see below). Then `recentre serve` (uvicorn, one process on 127.0.0.1, as in production)
serves it, and this process, signed in as an organiser through the sign-in form, sends
REQUESTS requests of each kind one after the other on one keep-alive connection (httpx),
timing each from sending to the last byte:

- ``dashboard_list_*``: GET /workspace, unfiltered, pages 1 to 5 in turn;
- ``dashboard_list_filtered_*``: GET /workspace with filters, in turn: sector and cluster;
  size and status; overall level and sector; part of a company name; sorted by score;
- ``sector_analysis_*``: GET /workspace/analysis, in turn: everything; furniture; IT of
  Cluj IT; dID. Each view is computed by the database on its first request and served from
  the app's memory after that, until a result changes (web/analysis.py), so the p50 is what
  a reader sees between submissions and the p99 what the first reader after one waits;
  ``sector_analysis_cold_ms_*`` is the first request of the unfiltered view alone.

Each figure is suffixed with the database: ``_sqlite`` or ``_postgresql``. Goals: a list p50
of 150 ms or less, an analysis p50 of 500 ms or less.

The cache. Seeding 100,000 assessments takes minutes, most of it scoring; the seeded SQLite
file is kept under ``$RECENTRE_BENCH_CACHE`` (default ``~/.cache/recentre/bench``), named by
a hash of the code and content that shape it (assessment/, scoring/, questionnaires/, the
count and the seed), and copied for each run; a stale file is replaced. A fresh machine seeds
from scratch. PostgreSQL is seeded each run, in a database the bench creates beside the one
of RECENTRE_TEST_POSTGRES_URL and drops at the end.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from tests.live_server import recentre_served

from .web import DEFAULT_POSTGRES_URL, postgres_database

if TYPE_CHECKING:
    import httpx

ROOT = Path(__file__).resolve().parent.parent
SEEDED = 100_000
SEED = 1
REQUESTS = 100
EMAIL = "organiser@bench.example"
PASSWORD = "bench organiser password"
LIST_PAGES = [f"/workspace?page={page}" for page in range(1, 6)]
LIST_FILTERED = [
    "/workspace?sector=furniture&cluster=did",
    "/workspace?size=small&status=submitted",
    "/workspace?level=average&sector=energy",
    "/workspace?q=tech",
    "/workspace?sort=score",
]
ANALYSES = [
    "/workspace/analysis",
    "/workspace/analysis?sector=furniture",
    "/workspace/analysis?sector=it&cluster=cluj_it",
    "/workspace/analysis?cluster=did",
]
_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


# --- The seeded database ------------------------------------------------------------------


def content_hash() -> str:
    """A hash of everything that decides what the seed writes."""
    digest = hashlib.sha256(f"{SEEDED}:{SEED}".encode())
    for folder, pattern in (("assessment", "**/*.py"), ("scoring", "**/*.py"), ("questionnaires", "**/*.yaml")):
        for path in sorted((ROOT / folder).glob(pattern)):
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_dir() -> Path:
    base = os.environ.get("RECENTRE_BENCH_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "recentre" / "bench"
    return Path(base)


async def _seed(url: str) -> None:
    from assessment.store.db import create_engine, upgrade_async
    from assessment.workspace.seed import seed_assessments
    from questionnaires.compile import load_bundled

    engine = create_engine(url)
    try:
        await upgrade_async(engine)
        await seed_assessments(engine, list(load_bundled()), SEEDED, seed=SEED)
    finally:
        await engine.dispose()


def seed(url: str) -> float:
    started = time.perf_counter()
    asyncio.run(_seed(url))
    return time.perf_counter() - started


def sqlite_database(home: Path) -> tuple[str, float | None]:
    """A seeded SQLite file in ``home``: a copy of the cached one, or seeded now (and
    cached). Returns its URL, and the seeding time when it was seeded now."""
    target = home / "recentre.db"
    folder = cache_dir()
    cached = folder / f"workspace-{SEEDED}-{content_hash()}.db"
    seconds = None
    if not cached.exists():
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob(f"workspace-{SEEDED}-*.db*"):
            stale.unlink()
        partial = folder / f"{cached.name}.partial"
        seconds = seed(f"sqlite+aiosqlite:///{partial}")
        _checkpoint(partial)
        partial.rename(cached)
    shutil.copyfile(cached, target)
    return f"sqlite+aiosqlite:///{target}", seconds


def _checkpoint(path: Path) -> None:
    """Fold the write-ahead log into the file, so that the file alone is the database."""
    import sqlite3

    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
    finally:
        connection.close()


async def _add_organiser(url: str) -> None:
    from assessment.store.db import create_engine, session_factory
    from assessment.workspace.accounts import create_user

    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            await create_user(session, EMAIL, role="organiser", cluster=None, password=PASSWORD)
    finally:
        await engine.dispose()


# --- Measuring ----------------------------------------------------------------------------


def sign_in(client: httpx.Client) -> None:
    form = client.get("/workspace/login")
    token = _CSRF.search(form.text)
    if token is None:
        raise RuntimeError(f"no CSRF token on the sign-in page ({form.status_code})")
    answer = client.post("/workspace/login", data={"email": EMAIL, "password": PASSWORD, "next": "/workspace", "_csrf_token": token.group(1)})
    if answer.status_code != 303:
        raise RuntimeError(f"signing in failed: {answer.status_code}")


def timed(client: httpx.Client, paths: list[str], n: int) -> list[float]:
    """Milliseconds of each of ``n`` requests, cycling through ``paths``."""
    out = []
    for i in range(n):
        path = paths[i % len(paths)]
        started = time.perf_counter()
        response = client.get(path)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code}")
        out.append(elapsed * 1000)
    return out


def percentiles(name: str, values: list[float], kind: str) -> dict[str, float]:
    ordered = sorted(values)
    return {
        f"{name}_p50_ms_{kind}": statistics.median(ordered),
        f"{name}_p99_ms_{kind}": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
    }


def measure(home: Path, url: str, kind: str) -> dict[str, float]:
    import httpx

    asyncio.run(_add_organiser(url))
    with recentre_served(home, url) as server, httpx.Client(base_url=server.url, timeout=120) as client:
        sign_in(client)
        cold = timed(client, ANALYSES[:1], 1)[0]
        figures = {f"sector_analysis_cold_ms_{kind}": cold}
        figures |= percentiles("dashboard_list", timed(client, LIST_PAGES, REQUESTS), kind)
        figures |= percentiles("dashboard_list_filtered", timed(client, LIST_FILTERED, REQUESTS), kind)
        figures |= percentiles("sector_analysis", timed(client, ANALYSES, REQUESTS), kind)
    return figures


# --- The benchmark ------------------------------------------------------------------------


def workspace() -> dict[str, float | str]:
    figures: dict[str, float | str] = {"workspace_assessments": SEEDED}
    with tempfile.TemporaryDirectory(prefix="recentre-bench-workspace-") as tmp:
        home = Path(tmp) / "sqlite"
        home.mkdir()
        url, seconds = sqlite_database(home)
        figures["workspace_seed_s_sqlite"] = seconds if seconds is not None else "cached"
        figures |= measure(home, url, "sqlite")
        os.unlink(home / "recentre.db")

        home = Path(tmp) / "postgresql"
        home.mkdir()
        try:
            database = postgres_database()
            url = database.__enter__()
        except Exception as exc:  # any failure to reach the server means the same here
            shown = make_url(os.environ.get("RECENTRE_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL).render_as_string(hide_password=True)
            figures["workspace_postgresql"] = f"skipped: not reachable at {shown} ({type(exc).__name__})"
            return figures
        try:
            figures["workspace_seed_s_postgresql"] = seed(url)
            figures |= measure(home, url, "postgresql")
        finally:
            database.__exit__(None, None, None)
    return figures
