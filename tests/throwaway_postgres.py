"""A PostgreSQL server of a test's own, for fault tests that stop, restart or freeze it:
``initdb`` in a new folder, ``postgres`` on a free port of 127.0.0.1, never the shared server
of RECENTRE_TEST_POSTGRES_URL.

PostgreSQL refuses to run as root: as root, it runs as the ``postgres`` user, in a folder
that user owns. Its files need no durability beyond the machine staying up (``fsync=off``),
which keeps it fast; a restart still goes through PostgreSQL's own shutdown or crash recovery.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.database import run_coroutine
from tests.environment import missing
from tests.live_server import HOST, free_port

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


def _binary(name: str) -> str:
    found = shutil.which(name) or next((str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)), None)
    if found is None:
        missing(f"PostgreSQL's {name} is not installed (apt-get install postgresql)")
    return found


class ThrowawayPostgres:
    """A PostgreSQL server in ``folder`` on ``port``, run as ``user`` (None: this one)."""

    def __init__(self, folder: Path, port: int, user: str | None):
        self.folder = folder
        self.port = port
        self.user = user
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@{HOST}:{self.port}/{database}"

    def start(self) -> None:
        """Returns once the server accepts connections (within START_TIMEOUT_S)."""
        command = [
            _binary("postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.folder),
            "-c", f"listen_addresses={HOST}", "-c", "fsync=off", "-c", "full_page_writes=off",
            "-c", "max_connections=60", "-c", "shared_buffers=16MB",
        ]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, user=self.user, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the throwaway PostgreSQL did not start:\n{self.log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)

    def _answers(self) -> bool:
        import asyncpg

        async def ping() -> None:
            connection = await asyncpg.connect(host=HOST, port=self.port, user="postgres", database="postgres", timeout=1)
            await connection.close()

        try:
            run_coroutine(ping())
        except (OSError, asyncpg.PostgresError, TimeoutError):
            return False
        return True

    def stop(self, how: int = signal.SIGINT) -> None:
        """Returns once the server has stopped: SIGINT is PostgreSQL's fast shutdown (clients
        disconnected, then a clean stop), SIGQUIT its immediate one (a crash, recovered at
        the next start)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.thaw()
        self.process.send_signal(how)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            for pid in self._processes():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.process.wait()

    def restart(self, how: int = signal.SIGINT) -> None:
        self.stop(how)
        self.start()

    def _processes(self) -> list[int]:
        """The server's processes: the postmaster and its children (each a process group of
        its own, so that a signal to the postmaster's group would miss them)."""
        assert self.process is not None
        found = [self.process.pid]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                # pid (comm) state ppid ...: comm may hold spaces, so split after its ")".
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    found.append(int(stat.parent.name))
        return found

    def freeze(self) -> None:
        """Every process of the server stopped (SIGSTOP): connections stay open, and nothing
        answers on them, as when a database host hangs."""
        for pid in self._processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        if self.process is not None and self.process.poll() is None:
            for pid in self._processes():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)

    def create_database(self, name: str) -> str:
        """The URL of a new, empty database ``name`` on this server."""
        import asyncpg

        async def create() -> None:
            connection = await asyncpg.connect(host=HOST, port=self.port, user="postgres", database="postgres", timeout=5)
            try:
                await connection.execute(f'CREATE DATABASE "{name}"')
            finally:
                await connection.close()

        run_coroutine(create())
        return self.url(name)


@contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    """A new PostgreSQL server, running, for as long as the block runs; then stopped and its
    folder removed."""
    user = "postgres" if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="recentre-pg-"))
    if user is not None:
        os.chown(folder, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
    server = ThrowawayPostgres(folder, free_port(), user)
    try:
        subprocess.run(
            [_binary("initdb"), "-D", str(server.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"],
            user=user, check=True, capture_output=True, timeout=120,
        )
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
