"""Where the tests run: the repository they test, and whether a missing dependency (PostgreSQL,
Chromium, poppler-utils) skips a test or, in CI, fails it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"


def missing(reason: str) -> NoReturn:
    """Never returns: skips the test on a developer's machine, fails it in CI."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing dependency fails the run)", pytrace=False)
    pytest.skip(reason)
