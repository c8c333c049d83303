"""A server run for real: `recentre serve` (or any command that takes ``--host`` and
``--port``) in a subprocess on a free port of 127.0.0.1, waited for until it answers, and
stopped afterwards. The live-server fixtures of the tests (conftest.py), the tests that start
servers of their own and the benchmarks (bench/web.py, bench/workspace.py) all start theirs
with ``serving``.

What it guarantees: the server is up (its ready path answered 200) when the ``with`` block
starts, or the block never starts and the error carries the end of the server's log; the
server is stopped (SIGTERM, then SIGKILL after STOP_TIMEOUT_S) and waited for when the block
ends, however it ends; and starting takes at most ``start_timeout_s``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
LOG_TAIL = 3000
"""How much of the end of a server's log an error about it shows."""
SECRET_KEY = "live-server-secret-key"


@dataclass(frozen=True)
class LiveServer:
    """A running server: where it listens, its process, and the file its output goes to."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash."""
        return f"http://{HOST}:{self.port}"

    def kill(self) -> None:
        """Returns once the server and every process it started are killed with SIGKILL, as a
        crash would end them: nothing of theirs runs another instruction."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def log_tail(log: Path) -> str:
    """The end of a server's log, for an error message."""
    return log.read_text(errors="replace")[-LOG_TAIL:]


def wait_until_ready(server: LiveServer, ready_path: str, timeout_s: float) -> None:
    """Returns once GET ``ready_path`` answers 200; raises RuntimeError with the end of the
    server's log if the server exits or ``timeout_s`` passes first."""
    deadline = time.monotonic() + timeout_s
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited with {server.process.returncode}:\n{log_tail(server.log)}")
        try:
            with urllib.request.urlopen(server.url + ready_path, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not answer {ready_path} within {timeout_s:g} s:\n{log_tail(server.log)}")
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Returns once ``process`` has ended: asked to stop, then killed with every process it
    started if it has not within STOP_TIMEOUT_S."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def serving(
    command: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    ready_path: str = "/healthz",
    port: int | None = None,
    start_timeout_s: float = START_TIMEOUT_S,
) -> Iterator[LiveServer]:
    """Yields the server that ``command --host 127.0.0.1 --port PORT`` starts in ``cwd``
    with exactly the environment ``env``, once ``ready_path`` answers; its output goes to
    ``cwd/server-PORT.log``."""
    port = port or free_port()
    log = cwd / f"server-{port}.log"
    with log.open("wb") as out:
        # A process group of its own, so that ``kill`` reaches the workers too.
        process = subprocess.Popen(
            [*command, "--host", HOST, "--port", str(port)], cwd=cwd, env=dict(env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = LiveServer(port, process, log)
    try:
        wait_until_ready(server, ready_path, start_timeout_s)
        yield server
    finally:
        stop(process)


def sqlite_url(home: Path) -> str:
    """The URL of a SQLite file in ``home``'s data folder, the one ``recentre_env`` gives
    the server."""
    return f"sqlite+aiosqlite:///{home / 'data' / 'recentre.db'}"


def recentre_env(home: Path, database_url: str, questionnaires: Path | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of `recentre serve` in ``home``: this process's, without its
    RECENTRE_* settings, with ``home/data`` as data folder, ``database_url``, a fixed secret
    key, ``questionnaires`` (the bundled ones when None), unbuffered output, and ``extra`` on
    top."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("RECENTRE_")}
    env |= {
        # The project's code, as this process imports it, whatever folder the server runs in.
        "PYTHONPATH": str(ROOT),
        # What the server prints reaches its log at once, for errors and tests that read it.
        "PYTHONUNBUFFERED": "1",
        "RECENTRE_DATA_DIR": str(home / "data"),
        "RECENTRE_DATABASE_URL": database_url,
        "RECENTRE_SECRET_KEY": SECRET_KEY,
    }
    if questionnaires is not None:
        env["RECENTRE_QUESTIONNAIRES"] = str(questionnaires)
    return env | dict(extra or {})


@contextmanager
def recentre_served(
    home: Path,
    database_url: str,
    *,
    questionnaires: Path | None = None,
    workers: int = 1,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
    start_timeout_s: float = START_TIMEOUT_S,
) -> Iterator[LiveServer]:
    """Yields `recentre serve` (migrations, then uvicorn with ``workers`` processes) running
    in ``home`` on ``database_url``, once /healthz answers; see ``recentre_env`` for its
    environment, to which ``env`` adds."""
    command = [sys.executable, "-m", "web.cli", "serve", "--workers", str(workers)]
    with serving(command, cwd=home, env=recentre_env(home, database_url, questionnaires, env), port=port, start_timeout_s=start_timeout_s) as server:
        yield server
