"""Tables, and the small queries that read and write them (each takes the session first)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import msgspec
from sqlalchemy import (
    Boolean,
    ColumnElement,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    exists,
    false,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Mapped, aliased, mapped_column
from sqlalchemy.sql.util import ClauseAdapter

from questionnaires.compile import CompiledQuestionnaire, Resolved, compile_resolved
from questionnaires.messages import N_
from questionnaires.reference import DMA_DIMENSIONS
from scoring.profile import Profile

Status = Literal["draft", "submitted"]
STATUSES: dict[str, str] = {"draft": N_("Draft"), "submitted": N_("Submitted")}
"""An assessment's statuses, in their order (draft, then submitted), with their names."""

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
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


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


# --- Assessments ---------------------------------------------------------------------------
#
# An assessment is one SME's pass through one questionnaire version. Answers are kept one row
# per question, so that each autosave writes one small row and nothing else; results are kept
# per scoring run, so that re-scoring against a new version adds a result and keeps the old.


class Assessment(Base):
    __tablename__ = "assessment"
    __table_args__ = (
        # The workspace's list: an advisor's cluster, shared assessments, newest first; and
        # sorting by company name whatever its case.
        Index("ix_assessment_cluster_share_created", "cluster", "share_with_advisors", "created_at"),
        Index("ix_assessment_company_name_lower", func.lower(text("company_name"))),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """sha256 of the private resume token; the token itself is never stored."""
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"), index=True)
    questionnaire_id: Mapped[str] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(2))
    cluster: Mapped[str] = mapped_column(String(32), index=True)
    sector: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    """One of STATUSES."""
    share_with_advisors: Mapped[bool] = mapped_column(Boolean, default=False)
    privacy_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The company profile: what scoring, the advisors and the report need, nothing more.
    company_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    size: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True, index=True)
    nace: Mapped[str | None] = mapped_column(String(10), nullable=True)
    contact_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    contact_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    current_section: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """Where the SME left off, so that its link brings it back there."""
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("assessment.id"), nullable=True)
    """The assessment this one repeats (T0 for a T1), when it is a re-assessment."""
    series_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    """The first assessment of the company's series (T0); the same for T1, T2, ..."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Set by every change of the row (onupdate, or by hand in assessment/store/by_token.py), which
    # checks it before it writes: a save checked against an older draft writes nothing.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """After this, the token no longer opens the assessment."""


class Answer(Base):
    __tablename__ = "answer"

    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    """The answer as JSON: an option id, a list, a number, true/false, text, or a mapping."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Result(Base):
    """One scoring of an assessment against one questionnaire version."""

    __tablename__ = "result"
    __table_args__ = (
        # Joining an assessment to its current result: without this, SQLite's planner reads
        # every current result through the index on ``current`` for each assessment.
        Index("ix_result_assessment_id_current", "assessment_id", "current"),
        # One current result per assessment, whatever writes them (submit, re-scoring runs
        # at once): a second one cannot be inserted (migration 0009).
        Index("uq_result_assessment_id_current", "assessment_id", unique=True, sqlite_where=text("current"), postgresql_where=text("current")),
        # The workspace's list, sorted by overall score or filtered by level or archetype.
        Index("ix_result_current_overall", "current", "overall", "id"),
        Index("ix_result_current_overall_level", "current", "overall_level"),
        Index("ix_result_current_archetype", "current", "archetype"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"), index=True)
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    current: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    """The result shown; older ones stay for the record after an explicit re-scoring."""
    profile: Mapped[str] = mapped_column(Text)
    """The profile JSON (see README, "The profile JSON")."""
    overall: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)
    overall_level: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    archetype: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    digital: Mapped[float | None] = mapped_column(Float, nullable=True)
    green: Mapped[float | None] = mapped_column(Float, nullable=True)
    resilience: Mapped[float | None] = mapped_column(Float, nullable=True)
    # The EU DMA reading of the profile (its "dma" object), for the EDIH exports: null for a
    # questionnaire version that declares no DMA dimensions.
    dma: Mapped[float | None] = mapped_column(Float, nullable=True)
    dma_digital_business_strategy: Mapped[float | None] = mapped_column(Float, nullable=True)
    dma_digital_readiness: Mapped[float | None] = mapped_column(Float, nullable=True)
    dma_human_centric_digitalisation: Mapped[float | None] = mapped_column(Float, nullable=True)
    dma_data_management: Mapped[float | None] = mapped_column(Float, nullable=True)
    dma_automation_ai: Mapped[float | None] = mapped_column(Float, nullable=True)
    dma_green_digitalisation: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def dma_columns_of(profile: Profile) -> dict[str, float | None]:
    """The DMA columns of ``Result`` for ``profile``, by column name (all null without DMA)."""
    dma = profile.dma
    values: dict[str, float | None] = {"dma": dma.score if dma else None}
    for key in DMA_DIMENSIONS:
        values[f"dma_{key}"] = dma.dimensions.get(key) if dma else None
    return values


def dma_dimension_column(key: str) -> InstrumentedAttribute[float | None]:
    """The column of ``Result`` that keeps the DMA dimension ``key`` (of ``DMA_DIMENSIONS``)."""
    column: InstrumentedAttribute[float | None] = getattr(Result, f"dma_{key}")
    return column


def company_key() -> ColumnElement[int]:
    """The company an assessment belongs to: its series (the first assessment, T0, which a
    re-assessment repeats: T0, T1, T2, ... share it)."""
    return func.coalesce(Assessment.series_id, Assessment.id)


def latest_of_its_company(*among: ColumnElement[bool]) -> ColumnElement[bool]:
    """True for the submitted assessment that is its company's latest: no later assessment
    of the same series is submitted (and meets the conditions ``among``, written on
    ``Assessment``, such as what a reader may see). It is the one that counts for the
    company wherever companies, not assessments, are counted. Read through the index on
    ``series_id``."""
    later = aliased(Assessment)
    adapter = ClauseAdapter(inspect(later).selectable)
    return ~exists().where(
        later.series_id == company_key(), later.id > Assessment.id, later.status == "submitted", *(adapter.traverse(c) for c in among)
    )


class DimensionScore(Base):
    """A result's dimension scores as rows, so that sector analyses aggregate them in SQL."""

    __tablename__ = "dimension_score"
    # One dimension's scores across many results, and whose they are: matching partners
    # (assessment/workspace/matchmaking.py) reads this index alone.
    __table_args__ = (Index("ix_dimension_score_dimension_score_result_id", "dimension", "score", "result_id"),)

    result_id: Mapped[int] = mapped_column(ForeignKey("result.id", ondelete="CASCADE"), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(64), primary_key=True)
    pillar: Mapped[str] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    level: Mapped[str | None] = mapped_column(String(64), nullable=True)
    gap: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Among the result's gaps (its weakest dimensions, as the profile names them): the
    sector analysis counts the most common gaps with a SUM, where ranking each result's
    scores would take a window over every row."""


class ResultRecommendation(Base):
    """A recommendation a result gave, with the instruments and training it links to, so
    that the demand for vouchers and training is counted in SQL."""

    __tablename__ = "result_recommendation"

    result_id: Mapped[int] = mapped_column(ForeignKey("result.id", ondelete="CASCADE"), primary_key=True)
    recommendation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer)
    instruments: Mapped[str] = mapped_column(Text, default="[]")
    """JSON list of catalog instrument ids."""
    training: Mapped[str] = mapped_column(Text, default="[]")
    """JSON list of training topic ids."""


class ResultInstrument(Base):
    """One instrument or training topic a result's recommendations point to, once per result:
    the demand for vouchers and training, counted with GROUP BY."""

    __tablename__ = "result_instrument"

    result_id: Mapped[int] = mapped_column(ForeignKey("result.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    """instrument or training."""
    ref: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


# --- Advisors and organisers ---------------------------------------------------------------


class User(Base):
    """An advisor (of one cluster) or an organiser (of all clusters). SMEs have no account:
    their private token is their key."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    """Stored lower-case."""
    role: Mapped[str] = mapped_column(String(16))
    """advisor or organiser."""
    cluster: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """The advisor's cluster; none for organisers."""
    password_hash: Mapped[str] = mapped_column(String(255))
    """argon2id."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Note(Base):
    """An advisor's note on an assessment, or a step of the action plan agreed with the SME."""

    __tablename__ = "note"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    """None once the author's account was removed (``recentre user remove``)."""
    kind: Mapped[str] = mapped_column(String(16))
    """note or plan."""
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserSession(Base):
    """A signed-in advisor's or organiser's session. The cookie carries a random token; only
    its hash is stored, so that a copy of the database opens no session."""

    __tablename__ = "user_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LoginFailure(Base):
    """An event a rate limit counts (``assessment/store/limits.py``): a sign-in not known to
    have succeeded, counted to slow down password guessing (the table was made for failed
    sign-ins, hence its name), or an assessment started. ``key`` is a hash of what it is
    counted by (the email, the client's address), so that the table holds neither."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_key_failed_at", "key", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class DataChange(Base):
    """One row counting the changes that the workspace's kept sector analyses cannot see in
    the results (assessment/workspace/analysis.py, ``DataVersion``): an SME's sharing choice
    changed, assessments erased. Each is counted in the transaction that makes it, so that
    every server process sees it at its next analysis, including those of a CLI run."""

    __tablename__ = "data_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    changes: Mapped[int] = mapped_column(Integer, default=0)


async def count_data_change(session: AsyncSession) -> None:
    """Count a change that the kept analyses must not miss (``DataChange``)."""
    await session.execute(update(DataChange).where(DataChange.id == 1).values(changes=DataChange.changes + 1))


async def data_changes(session: AsyncSession) -> int:
    return await session.scalar(select(DataChange.changes).where(DataChange.id == 1)) or 0
