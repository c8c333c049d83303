"""What the log says of a request that failed: its method and route template (never the
path, which can hold a token), and the traceback of the error and of the errors it came from,
without the messages that can quote stored values.

A database error quotes what it could not store: SQLAlchemy adds the statement's parameters
(the engine hides them, ``assessment/store/db.py``), PostgreSQL a ``DETAIL`` with the failing
row or key (``Failing row contains (…, ana@example.org, …)``), and openpyxl names the text it
refused. Those messages are left out of the log; the error's type, where it happened and, for a
statement, its SQL with placeholders are kept, which is what finding the bug takes.
"""

from __future__ import annotations

import traceback

QUOTING_MODULES = frozenset({"asyncpg", "sqlite3", "_sqlite3", "aiosqlite", "sqlalchemy", "openpyxl"})
"""Packages whose errors can quote the values they were given."""


def _message(exc: BaseException) -> str:
    if (type(exc).__module__ or "").split(".")[0] not in QUOTING_MODULES:
        return str(exc)
    statement = getattr(exc, "statement", None)
    where = f" [SQL: {statement}]" if isinstance(statement, str) else ""
    return f"(its message is left out: it can quote stored values){where}"


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the errors it was raised from or while handling, first the earliest."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ if current.__cause__ is not None else (None if current.__suppress_context__ else current.__context__)
    return chain[::-1]


def failure_text(exc: BaseException) -> str:
    """The tracebacks of ``exc`` and of the errors it came from, as the log shows them."""
    blocks = []
    for error in _chain(exc):
        kind = type(error)
        frames = "".join(traceback.format_tb(error.__traceback__))
        blocks.append(f"Traceback (most recent call last):\n{frames}{kind.__module__}.{kind.__qualname__}: {_message(error)}")
    return "\n\nwhich led to:\n\n".join(blocks)
