"""Tables, and the small queries that read and write them (each takes the session first)."""

from __future__ import annotations

from datetime import datetime, timezone

import msgspec
from sqlalchemy import DateTime, MetaData, String, Text, TypeDecorator, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .compile import CompiledQuestionnaire, Resolved, compile_resolved

# Constraint names that are the same on every database, so migrations can name them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """An aware datetime in, an aware UTC datetime out, on every database.

    SQLite has no time zones: without this, what PostgreSQL returns aware comes back naive.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give a time zone")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class QuestionnaireVersion(Base):
    """One version of a questionnaire exactly as it was offered, whatever later happens to
    its files: responses point here, not at the YAML."""

    __tablename__ = "questionnaire_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[str] = mapped_column(String(40))
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(Text)
    """The resolved questionnaire as JSON: everything needed to compile it again."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def encode_resolved(resolved: Resolved) -> str:
    # Deterministic order, as the fingerprint is computed: sha256(source) == fingerprint.
    return msgspec.json.encode(resolved, order="deterministic").decode("utf-8")


def _insert_ignoring_duplicates(session: AsyncSession):
    dialect = session.get_bind().dialect.name
    return {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]


async def store_questionnaire_version(session: AsyncSession, compiled: CompiledQuestionnaire) -> QuestionnaireVersion:
    """Keep ``compiled`` in the database once; storing the same content again changes nothing."""
    insert = _insert_ignoring_duplicates(session)
    # ON CONFLICT DO NOTHING rather than select-then-insert: two server processes starting
    # together both store the same versions, and neither must fail.
    await session.execute(
        insert(QuestionnaireVersion)
        .values(
            questionnaire_id=compiled.id,
            version=compiled.version,
            fingerprint=compiled.fingerprint,
            source=encode_resolved(compiled.resolved),
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["fingerprint"])
    )
    stored = await _by_fingerprint(session, compiled.fingerprint)
    assert stored is not None
    return stored


async def _by_fingerprint(session: AsyncSession, fingerprint: str) -> QuestionnaireVersion | None:
    return await session.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.fingerprint == fingerprint))


class StoredVersionMismatch(RuntimeError):
    """The stored source no longer compiles to its own fingerprint: the code now reads it
    differently from when it was stored (for example a changed default in the schema)."""


async def load_questionnaire_version(session: AsyncSession, fingerprint: str) -> CompiledQuestionnaire | None:
    """The stored version with this fingerprint, compiled again; None if there is none."""
    stored = await _by_fingerprint(session, fingerprint)
    if stored is None:
        return None
    resolved = msgspec.json.decode(stored.source, type=Resolved)
    compiled = compile_resolved(resolved, name=f"<stored {stored.questionnaire_id} {stored.version}>")
    if compiled.fingerprint != stored.fingerprint:
        raise StoredVersionMismatch(
            f"stored questionnaire {stored.questionnaire_id} {stored.version} ({stored.fingerprint[:12]}) "
            f"compiles to {compiled.fingerprint[:12]} with this code"
        )
    return compiled
