"""Advisor and organiser accounts: creating them, checking passwords, sessions, and the
count of sign-in attempts that slows down guessing. Each query takes the session first and
leaves committing to the caller; ``sign_in`` and ``change_password_of`` take the session
factory, since the hashing they do must hold no connection.

Hashing a password (argon2id) takes tens of milliseconds of CPU on purpose. It runs in a
worker thread (``off_loop``, at most ``limiter``'s number at a time), never on the event
loop, and between two short transactions, never inside one: on SQLite the app has one
connection, which every other request would wait for meanwhile.

Nothing here logs an email address, a password or a session token.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from zxcvbn import zxcvbn

from assessment.store import limits
from assessment.store.inputs import has_control_characters
from assessment.store.models import Note, User, UserSession, utcnow
from questionnaires.reference import CLUSTERS

ROLES = ("advisor", "organiser")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
"""Hashing a megabyte-long password is work an attacker should not get for free."""
MIN_PASSWORD_STRENGTH = 3
"""zxcvbn's score (0-4) a new password must reach: 3 is "safely unguessable", which resists
an offline attack on a slow hash. Common passwords, words, names, dates, repeats, keyboard
rows and the account's own email score lower."""
STRENGTH_CHECKED = 72
"""zxcvbn looks at this many characters at most (its own limit): beyond them, a password is
long enough for any guessing."""

SESSION_LIFETIME = timedelta(hours=12)
"""A working day: after it, one signs in again."""
SESSION_TOKEN_BYTES = 32

LOGIN_WINDOW = timedelta(minutes=15)
MAX_LOGIN_FAILURES = 5
"""Sign-ins not known to have succeeded, allowed per email and address within LOGIN_WINDOW."""
MAX_ACCOUNT_FAILURES = 20
"""The same per email, from all addresses together: guessing one account from many addresses
is slowed down too."""

# argon2id with the library's defaults (RFC 9106's low-memory profile). A hash made with
# other parameters still verifies, and is replaced at the next sign-in.
_hasher = PasswordHasher()
# Verified against when the email is unknown, so that answering takes as long as for a
# known one and the time taken does not tell which emails have accounts.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

T = TypeVar("T")


async def off_loop(limiter: anyio.CapacityLimiter | None, work: Callable[..., T], *args: Any) -> T:
    """``work(*args)``, run in a worker thread (at most ``limiter``'s number at once)."""
    return await anyio.to_thread.run_sync(work, *args, limiter=limiter)


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message says why, to a person."""


class WrongPassword(AccountError):
    pass


class WeakPassword(AccountError):
    """A new password that is too short, too long or too easy to guess."""


class TooManyAttempts(AccountError):
    """Too many sign-ins not known to have succeeded, for this email (from this address)."""


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


TOO_SHORT = "The password is too short: use at least {count} characters."
TOO_LONG = "The password is too long: use at most {count} characters."
GUESSABLE = (
    "The password is too easy to guess: avoid common passwords, words, names, dates, your email, repeated "
    "letters and keyboard rows; a few unrelated words make a strong one."
)


def check_new_password(password: str, email: str = "") -> None:
    """WeakPassword (its message in English, for the CLI) unless ``password`` may be an
    account's: long enough, not too long, and not guessable (zxcvbn), the account's email
    counted among what a guesser would try. CPU work of some milliseconds: off the event loop."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(TOO_SHORT.format(count=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(TOO_LONG.format(count=MAX_PASSWORD_LENGTH))
    email = normalise_email(email)
    known = [email, *email.replace("@", ".").split("."), "recentre", "re-centre"] if email else ["recentre", "re-centre"]
    if zxcvbn(password[:STRENGTH_CHECKED], user_inputs=[k for k in known if k])["score"] < MIN_PASSWORD_STRENGTH:
        raise WeakPassword(GUESSABLE)


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
    check_new_password(password, email)
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


@dataclass(frozen=True)
class Credentials:
    """What checking a password needs of an account, read in one short transaction."""

    user_id: int
    password_hash: str


async def credentials_of(session: AsyncSession, email: str) -> Credentials | None:
    """The id and password hash of the active account with this email, if there is one."""
    user = await user_by_email(session, email)
    return Credentials(user.id, user.password_hash) if user is not None and user.active else None


def verified(password_hash: str | None, password: str) -> tuple[bool, str | None]:
    """Whether ``password`` matches ``password_hash`` (against a dummy hash when there is no
    account, to take as long), and the hash to store instead when this one was made with
    older parameters. CPU-heavy: call it with ``off_loop``."""
    if not password_matches(password_hash or _DUMMY_HASH, password) or password_hash is None:
        return False, None
    return True, hash_password(password) if _hasher.check_needs_rehash(password_hash) else None


async def sign_in(
    sessions: async_sessionmaker[AsyncSession],
    email: str,
    password: str,
    client: str,
    *,
    previous_token: str = "",
    limiter: anyio.CapacityLimiter | None = None,
) -> str | None:
    """A new session's token for the account of ``email`` and ``password``, or None (the
    same answer whether or not the email has an account). TooManyAttempts when this email
    has too many attempts from ``client``, or from everywhere; the attempt is counted, and
    forgotten once it succeeds. The session ``previous_token`` opens, planted or old, ends."""
    async with sessions() as session, session.begin():
        if not await take_attempt(session, email, client):
            raise TooManyAttempts("Too many failed sign-ins.")
        found = await credentials_of(session, email) if email and password else None
    if not (email and password):
        return None
    matches, rehashed = await off_loop(limiter, verified, found.password_hash if found else None, password)
    if not matches or found is None:
        return None
    async with sessions() as session, session.begin():
        user = await session.get(User, found.user_id)
        if user is None or not user.active or user.password_hash != found.password_hash:
            return None  # changed meanwhile: the password was checked against an old hash
        if rehashed is not None:
            user.password_hash = rehashed
        await forget_attempts(session, email, client)
        # A new session id at every sign-in, and the one the browser brought (if any) ends:
        # a session id planted before sign-in is worth nothing after it.
        await end_session(session, previous_token)
        await delete_expired_sessions(session)
        return await start_session(session, user)


def new_password_hash(password_hash: str, current: str, new: str, email: str) -> str:
    """The hash of ``new``, once ``current`` matches ``password_hash`` and ``new`` may be a
    password (WrongPassword, WeakPassword). CPU-heavy: call it with ``off_loop``."""
    if not password_matches(password_hash, current):
        raise WrongPassword("The current password is wrong.")
    check_new_password(new, email)
    return hash_password(new)


async def change_password_of(
    sessions: async_sessionmaker[AsyncSession],
    user_id: int,
    current: str,
    new: str,
    client: str,
    *,
    limiter: anyio.CapacityLimiter | None = None,
) -> str:
    """Replace the password and end every session of the user: whoever may know the old
    password is signed out. Returns the token of a new session for the caller. Guessing the
    current password counts as guessing at sign-in (TooManyAttempts, WrongPassword); a new
    password that may not be one is WeakPassword."""
    async with sessions() as session, session.begin():
        user = await session.get(User, user_id)
        if user is None or not user.active:
            raise WrongPassword("The current password is wrong.")
        email, stored = user.email, user.password_hash
        if not await take_attempt(session, email, client):
            raise TooManyAttempts("Too many failed sign-ins.")
    try:
        new_hash = await off_loop(limiter, new_password_hash, stored, current, new, email)
    except WeakPassword:
        async with sessions() as session, session.begin():
            await forget_attempts(session, email, client)  # the current password was right
        raise
    async with sessions() as session, session.begin():
        user = await session.get(User, user_id)
        if user is None or user.password_hash != stored:
            raise WrongPassword("The current password is wrong.")  # changed meanwhile
        user.password_hash = new_hash
        user.password_changed_at = utcnow()
        await session.execute(delete(UserSession).where(UserSession.user_id == user.id))
        await forget_attempts(session, email, client)
        return await start_session(session, user)


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
    """The key of the attempts for ``email`` from ``client`` (assessment/store/limits.py)."""
    return limits.key_of("sign-in", normalise_email(email), client)


def account_key(email: str) -> str:
    """The key of the attempts for ``email`` from every address."""
    return limits.key_of("sign-in", normalise_email(email))


async def take_attempt(session: AsyncSession, email: str, client: str, *, now: datetime | None = None) -> bool:
    """Count a sign-in attempt, unless this email already has MAX_LOGIN_FAILURES from
    ``client`` or MAX_ACCOUNT_FAILURES from everywhere within LOGIN_WINDOW (then False).
    Counted before the password is checked, atomically: concurrent attempts cannot all pass."""
    budget = [(login_key(email, client), MAX_LOGIN_FAILURES), (account_key(email), MAX_ACCOUNT_FAILURES)]
    return await limits.take(session, budget, LOGIN_WINDOW, now=now)


async def forget_attempts(session: AsyncSession, email: str, client: str) -> None:
    """After a success: the attempts were the person's own."""
    await limits.forget(session, login_key(email, client), account_key(email))


# --- Managing accounts (``recentre user``) --------------------------------------------------


class NoSuchAccount(AccountError):
    pass


async def list_users(session: AsyncSession) -> list[User]:
    """Every account, organisers first, then by cluster and email."""
    return list(await session.scalars(select(User).order_by(User.role.desc(), User.cluster, User.email)))


async def _account(session: AsyncSession, email: str) -> User:
    user = await user_by_email(session, email)
    if user is None:
        raise NoSuchAccount(f"No account has the email {normalise_email(email)}.")
    return user


async def set_active(session: AsyncSession, email: str, active: bool) -> User:
    """Enable or disable the account of ``email``. A disabled account cannot sign in, and
    its sessions end now (they are deleted; ``user_of_session`` also checks ``active``)."""
    user = await _account(session, email)
    user.active = active
    if not active:
        await session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    await session.flush()
    return user


async def remove_user(session: AsyncSession, email: str) -> int:
    """Delete the account of ``email`` and its sessions; the notes it wrote stay, without
    their author. Returns how many notes lost their author."""
    user = await _account(session, email)
    notes = await session.execute(update(Note).where(Note.author_id == user.id).values(author_id=None))
    await session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    await session.delete(user)
    await session.flush()
    return cast(CursorResult[Any], notes).rowcount or 0


async def replace_password_hash(session: AsyncSession, email: str, password_hash: str) -> User:
    """Give the account of ``email`` a new password (its hash, made beforehand and outside
    the transaction) and end its sessions: whoever knew the old one is signed out."""
    user = await _account(session, email)
    user.password_hash = password_hash
    user.password_changed_at = utcnow()
    await session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    await session.flush()
    return user
