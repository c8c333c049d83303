"""Advisor and organiser accounts: creating them, checking passwords, sessions, and the
count of failed sign-ins that slows down guessing. Each query takes the session first and
leaves committing to the caller.

Nothing here logs an email address, a password or a session token.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from assessment.store.inputs import has_control_characters
from assessment.store.models import LoginFailure, User, UserSession, utcnow
from questionnaires.reference import CLUSTERS

ROLES = ("advisor", "organiser")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
"""Hashing a megabyte-long password is work an attacker should not get for free."""

SESSION_LIFETIME = timedelta(hours=12)
"""A working day: after it, one signs in again."""
SESSION_TOKEN_BYTES = 32

LOGIN_WINDOW = timedelta(minutes=15)
MAX_LOGIN_FAILURES = 5
"""Failed sign-ins allowed per email and address within LOGIN_WINDOW."""

# argon2id with the library's defaults (RFC 9106's low-memory profile). A hash made with
# other parameters still verifies, and is replaced at the next sign-in.
_hasher = PasswordHasher()
# Verified against when the email is unknown, so that answering takes as long as for a
# known one and the time taken does not tell which emails have accounts.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message says why, to a person."""


class WrongPassword(AccountError):
    pass


@dataclass(frozen=True)
class CurrentUser:
    """Who is signed in: what authorisation needs, without the password hash."""

    id: int
    email: str
    role: str
    cluster: str | None

    @property
    def is_organiser(self) -> bool:
        return self.role == "organiser"


def current_user_of(user: User) -> CurrentUser:
    return CurrentUser(id=user.id, email=user.email, role=user.role, cluster=user.cluster)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password is too short: use at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"The password is too long: use at most {MAX_PASSWORD_LENGTH} characters.")


def check_role(role: str, cluster: str | None) -> None:
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}: use advisor or organiser.")
    if role == "organiser" and cluster:
        raise AccountError("Organisers see all clusters: give no cluster.")
    if role == "advisor" and not cluster:
        raise AccountError(f"An advisor belongs to one cluster: give --cluster ({', '.join(CLUSTERS)}).")
    if cluster and cluster not in CLUSTERS:
        raise AccountError(f"Unknown cluster {cluster!r}: use one of {', '.join(CLUSTERS)}.")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    email = normalise_email(email)
    if len(email) > 254 or has_control_characters(email):
        return None  # no account has such an email, and PostgreSQL refuses NUL in a query
    return await session.scalar(select(User).where(User.email == email))


async def create_user(session: AsyncSession, email: str, *, role: str, cluster: str | None, password: str) -> User:
    email = normalise_email(email)
    if "@" not in email or len(email) > 254 or has_control_characters(email):
        raise AccountError("Give an email address, such as advisor@example.org.")
    check_role(role, cluster)
    check_new_password(password)
    if await user_by_email(session, email) is not None:
        raise AccountError(f"An account with the email {email} already exists.")
    now = utcnow()
    user = User(
        email=email,
        role=role,
        cluster=cluster or None,
        password_hash=hash_password(password),
        created_at=now,
        password_changed_at=now,
        active=True,
    )
    session.add(user)
    await session.flush()
    return user


async def authenticate(session: AsyncSession, email: str, password: str) -> User | None:
    """The active user with this email and password, or None. Takes as long whether or not
    the email exists. A hash made with older parameters is replaced by a current one."""
    user = await user_by_email(session, email)
    if user is None or not user.active:
        password_matches(_DUMMY_HASH, password)
        return None
    if not password_matches(user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


async def change_password(session: AsyncSession, user: User, current: str, new: str) -> None:
    """Replace the password and end every session of the user: whoever may know the old
    password is signed out."""
    if not password_matches(user.password_hash, current):
        raise WrongPassword("The current password is wrong.")
    check_new_password(new)
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    await session.execute(delete(UserSession).where(UserSession.user_id == user.id))


# --- Sessions ------------------------------------------------------------------------------


def hash_session_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def start_session(session: AsyncSession, user: User, *, now: datetime | None = None) -> str:
    """A new session for ``user``; returns its token (for the cookie), stored only hashed."""
    now = now or utcnow()
    token = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
    session.add(UserSession(token_hash=hash_session_token(token), user_id=user.id, created_at=now, expires_at=now + SESSION_LIFETIME))
    await session.flush()
    return token


async def user_of_session(session: AsyncSession, token: str, *, now: datetime | None = None) -> User | None:
    """The active user whose unexpired session this token opens."""
    if not token or len(token) > 128:
        return None
    return await session.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.token_hash == hash_session_token(token),
            UserSession.expires_at > (now or utcnow()),
            User.active.is_(True),
        )
    )


async def end_session(session: AsyncSession, token: str) -> None:
    if token:
        await session.execute(delete(UserSession).where(UserSession.token_hash == hash_session_token(token)))


async def delete_expired_sessions(session: AsyncSession, *, now: datetime | None = None) -> None:
    await session.execute(delete(UserSession).where(UserSession.expires_at <= (now or utcnow())))


# --- Rate limiting -------------------------------------------------------------------------


def login_key(email: str, client: str) -> str:
    return hashlib.sha256(f"{normalise_email(email)}\0{client}".encode()).hexdigest()


async def too_many_failures(session: AsyncSession, key: str, *, now: datetime | None = None) -> bool:
    since = (now or utcnow()) - LOGIN_WINDOW
    count = await session.scalar(
        select(func.count()).select_from(LoginFailure).where(LoginFailure.key == key, LoginFailure.failed_at > since)
    )
    return (count or 0) >= MAX_LOGIN_FAILURES


async def record_failure(session: AsyncSession, key: str, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    # Old failures count for nothing: forget them while writing, so the table stays small.
    await session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - LOGIN_WINDOW))
    session.add(LoginFailure(key=key, failed_at=now))


async def forget_failures(session: AsyncSession, key: str) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.key == key))
