"""What a fresh process pays before it can serve: Python itself, then the questionnaires."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

RUNS = 7

# Timed inside the child, from before the import to after compiling, so that interpreter
# start-up (reported on its own as python_startup_ms) is not counted twice.
COMPILE_ALL = """\
import time
start = time.perf_counter()
from questionnaires.compile import load_bundled
compiled = load_bundled()
print((time.perf_counter() - start) * 1000, len(compiled))
"""


def _child(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout


def python_startup() -> dict[str, float]:
    """A fresh ``python -c pass``, timed from outside: the baseline for the figures below."""
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        _child("pass")
        times.append((time.perf_counter() - start) * 1000)
    return {"python_startup_ms": statistics.median(times)}


def compile_all() -> dict[str, float]:
    """Loading and compiling every bundled questionnaire in a fresh process."""
    times: list[float] = []
    count = 0
    for _ in range(RUNS):
        ms, compiled = _child(COMPILE_ALL).split()
        times.append(float(ms))
        count = int(compiled)
    return {"compile_all_ms": statistics.median(times), "compile_all_questionnaires": count}
