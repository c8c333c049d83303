"""tests/live_server.py, which starts every live server of the tests and the benchmarks: up
when the block starts, stopped and waited for when it ends, and a server that does not start
reported with its log, within the time allowed."""

from __future__ import annotations

import os
import socket
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.live_server import recentre_served, serving, sqlite_url


def test_the_server_answers_in_the_block_and_is_stopped_after_it(tmp_path: Path):
    with recentre_served(tmp_path, sqlite_url(tmp_path)) as server:
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=10) as response:
            assert response.status == 200
        assert server.process.poll() is None
    assert server.process.returncode is not None
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1)


def test_a_server_that_exits_is_reported_with_its_log(tmp_path: Path):
    with pytest.raises(RuntimeError) as info, recentre_served(tmp_path, sqlite_url(tmp_path), workers=2):
        pytest.fail("the block ran")
    assert str(info.value) == "the server exited with 2:\nerror: several workers need PostgreSQL: set RECENTRE_DATABASE_URL, or serve with one worker\n"


def test_a_server_that_never_answers_is_given_up_and_stopped(tmp_path: Path):
    # Writes its pid where the test finds it, says it is starting, and never listens.
    never = [sys.executable, "-c", "import os, time; open('pid', 'w').write(str(os.getpid())); print('starting', flush=True); time.sleep(120)"]
    with pytest.raises(RuntimeError) as info, serving(never, cwd=tmp_path, env=os.environ, start_timeout_s=1):
        pytest.fail("the block ran")
    assert str(info.value) == "the server did not answer /healthz within 1 s:\nstarting\n"
    with pytest.raises(ProcessLookupError):  # ended and waited for: its pid is gone
        os.kill(int((tmp_path / "pid").read_text()), 0)
