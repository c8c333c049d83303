"""Rate limits counted in the database, so that every server process counts the same
events: each event is a row of ``LoginFailure`` (a key and a time), and a limit is how many
rows of a key a window may hold.

``take`` checks and counts in one go: on PostgreSQL it holds a transaction-level advisory
lock on each key while it counts and adds, so that thirty requests at once cannot all count
the same four events and pass; on SQLite the app's one connection does the same, as two
transactions never run at once. The caller commits at once, before any slow work, so that
the next request counts this one.

Keys are hashes (``key_of``): the table holds no email and no address.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import LoginFailure, utcnow

KEPT = timedelta(days=1)
"""How long an event is kept: the longest window a limit may have."""


def key_of(*parts: str) -> str:
    """The key of an event: a hash of what it is counted by (a purpose, an email, an address)."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _lock_id(key: str) -> int:
    """A signed 64-bit number for PostgreSQL's advisory locks, from a key."""
    return int.from_bytes(bytes.fromhex(key[:16]), "big", signed=True)


async def take(session: AsyncSession, limits: Sequence[tuple[str, int]], window: timedelta, *, now: datetime | None = None) -> bool:
    """Count one event under each key of ``limits`` (key, most events in ``window``, at most
    KEPT) and return True; or, when a key already has its most, count nothing and return
    False."""
    now = now or utcnow()
    keys = sorted({key for key, _ in limits})
    if session.get_bind().dialect.name == "postgresql":
        for key in keys:  # in one order everywhere, so that two requests never wait on each other
            await session.execute(select(func.pg_advisory_xact_lock(_lock_id(key))))
    since = now - window
    counted = dict(
        (
            await session.execute(
                select(LoginFailure.key, func.count()).where(LoginFailure.key.in_(keys), LoginFailure.failed_at > since).group_by(LoginFailure.key)
            )
        ).all()
    )
    if any(counted.get(key, 0) >= most for key, most in limits):
        return False
    # Events older than any window count for nothing: forget them while writing.
    await session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - KEPT))
    session.add_all(LoginFailure(key=key, failed_at=now) for key in keys)
    return True


async def forget(session: AsyncSession, *keys: str) -> None:
    """Forget every event of ``keys``."""
    await session.execute(delete(LoginFailure).where(LoginFailure.key.in_(keys)))
