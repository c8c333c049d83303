"""``recentre seed``: realistic fake submitted assessments, for demos and benchmarks.

Companies get a cluster (and its country and language), a sector that fits the cluster, a
size, a local company name (Faker), contact details, and a share flag; some are assessed
twice, a T0 and a T1 a few months later that improves on it. Their answers lean the way the
company's sector, cluster and size lean (``scoring.synthetic``), so that sector analyses have
something to show. Every answer set is scored by the real engine and stored in the real
tables, exactly as a submission would be.

Speed matters (a benchmark seeds 100,000): rows are built as plain tuples of values in
batches and written with one executemany per table and batch, never one ORM object at a
time. Ids are allocated here, after the largest existing one, so that a batch's rows can
point at each other without a round trip; so seed a database nobody else writes to at the
same time (a demo or benchmark database).
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import os
import random
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import Connection, Dialect, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from assessment.store.models import (
    Answer,
    Assessment,
    Base,
    DimensionScore,
    Result,
    ResultInstrument,
    ResultRecommendation,
    dma_columns_of,
    encode_resolved,
    store_questionnaire_version,
    utcnow,
)
from assessment.store.responses import TOKEN_LIFETIME
from questionnaires.compile import CompiledQuestionnaire
from questionnaires.reference import CLUSTERS
from scoring.engine import scorer_for
from scoring.profile import Profile
from scoring.synthetic import TendencyAnswers, company_propensities, improved

if TYPE_CHECKING:
    from faker import Faker

# Company names and contacts in each cluster's own language.
FAKER_LOCALES = {"bg": "bg_BG", "it": "it_IT", "es": "es_ES", "ro": "ro_RO"}
CLUSTER_WEIGHTS = {"did": 0.30, "cenfim": 0.25, "green_synergy": 0.20, "cluj_it": 0.25}
# Each cluster's members lean towards the sectors it grew from.
SECTOR_MIX = {
    "green_synergy": {"energy": 0.45, "furniture": 0.30, "it": 0.25},
    "did": {"furniture": 0.60, "it": 0.25, "energy": 0.15},
    "cenfim": {"furniture": 0.65, "energy": 0.20, "it": 0.15},
    "cluj_it": {"it": 0.60, "furniture": 0.20, "energy": 0.20},
}
SIZE_MIX = {"micro": 0.35, "small": 0.38, "medium": 0.21, "large": 0.06}
NACE = {"furniture": ["31.01", "31.02", "31.09", "16.23"], "it": ["62.01", "62.02", "63.11"], "energy": ["35.11", "35.14", "43.21"]}
SECTOR_WORDS = {
    "furniture": {"bg": "Мебели", "it": "Arredamenti", "es": "Muebles", "ro": "Mobila"},
    "it": {"bg": "Софтуер", "it": "Software", "es": "Sistemas", "ro": "Soft"},
    "energy": {"bg": "Енерджи", "it": "Energia", "es": "Energía", "ro": "Energie"},
}
SHARE_RATE = 0.7
REASSESSED_RATE = 0.15
ENGLISH_RATE = 0.2
SPAN = timedelta(days=548)  # 18 months
BATCH = 1000


@dataclass(frozen=True)
class Company:
    cluster: str
    country: str
    sector: str
    size: str
    language: str
    name: str
    nace: str
    contact_name: str
    contact_email: str
    share: bool

    def scoring_company(self) -> dict[str, str]:
        return {"size": self.size, "sector": self.sector, "country": self.country, "cluster": self.cluster}


@dataclass
class Rows:
    """One batch of rows per table, each row a dict of column values."""

    assessment: list[dict[str, Any]]
    answer: list[dict[str, Any]]
    result: list[dict[str, Any]]
    dimension_score: list[dict[str, Any]]
    result_recommendation: list[dict[str, Any]]
    result_instrument: list[dict[str, Any]]

    @classmethod
    def empty(cls) -> Rows:
        return cls([], [], [], [], [], [])

    def tables(self) -> list[tuple[type[Base], list[dict[str, Any]]]]:
        # Parents before children, for the foreign keys.
        return [
            (Assessment, self.assessment),
            (Answer, self.answer),
            (Result, self.result),
            (DimensionScore, self.dimension_score),
            (ResultRecommendation, self.result_recommendation),
            (ResultInstrument, self.result_instrument),
        ]


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


_FAKERS: dict[str, Faker] = {}


def faker_for(locale: str) -> Faker:
    """One Faker per locale and process: making one takes far longer than using it."""
    if locale not in _FAKERS:
        from faker import Faker

        _FAKERS[locale] = Faker(locale)
    return _FAKERS[locale]


def make_company(rng: random.Random, sectors: Sequence[str]) -> Company:
    cluster = _weighted(rng, CLUSTER_WEIGHTS)
    country, language = CLUSTERS[cluster].country, CLUSTERS[cluster].language
    mix = {s: w for s, w in SECTOR_MIX[cluster].items() if s in sectors} or {s: 1.0 for s in sectors}
    sector = _weighted(rng, mix)
    fake = faker_for(FAKER_LOCALES[language])
    name = fake.company()
    if rng.random() < 0.4:
        name = f"{name} {SECTOR_WORDS.get(sector, {}).get(language, '')}".strip()
    return Company(
        cluster=cluster,
        country=country,
        sector=sector,
        size=_weighted(rng, SIZE_MIX),
        language="en" if rng.random() < ENGLISH_RATE else language,
        name=name[:200],
        nace=rng.choice(NACE.get(sector, [""])),
        contact_name=fake.name()[:200],
        contact_email=fake.email()[:254],
        share=rng.random() < SHARE_RATE,
    )


@dataclass(frozen=True)
class Offered:
    """A questionnaire the seed may use, with its stored version's id."""

    compiled: CompiledQuestionnaire
    version_id: int


def questionnaire_for(rng: random.Random, sector: str, offered: Sequence[Offered]) -> Offered:
    """The sector's own variant mostly, the cross-sector core sometimes."""
    fitting = [o for o in offered if sector in (o.compiled.meta.sectors or [])] or list(offered)
    own = [o for o in fitting if list(o.compiled.meta.sectors or []) == [sector]]
    if own and (len(own) == len(fitting) or rng.random() < 0.9):
        return rng.choice(own)
    return rng.choice([o for o in fitting if o not in own] or fitting)


def sectors_of(offered: Sequence[Offered]) -> list[str]:
    sectors = sorted({s for o in offered for s in (o.compiled.meta.sectors or [])})
    return sectors or ["furniture"]


def _json(value: object) -> str:
    return msgspec.json.encode(value).decode()


def _token_hash(rng: random.Random) -> str:
    # The hash of a token nobody holds: seeded assessments cannot be opened by a link.
    return hashlib.sha256(rng.getrandbits(256).to_bytes(32, "big")).hexdigest()


class BatchBuilder:
    """Builds the rows of consecutive assessments, numbering them from the given ids."""

    def __init__(self, offered: Sequence[Offered], now: datetime, first_assessment_id: int, first_result_id: int):
        self.offered = offered
        self.sectors = sectors_of(offered)
        self.scorers = {o.version_id: scorer_for(o.compiled) for o in offered}
        self.drawers = {o.version_id: TendencyAnswers(o.compiled) for o in offered}
        self.now = now
        self.next_assessment_id = first_assessment_id
        self.next_result_id = first_result_id

    def build(self, rng: random.Random, count: int) -> Rows:
        rows = Rows.empty()
        # Seeding Faker costs more than drawing from it: once per batch and locale.
        for locale in FAKER_LOCALES.values():
            faker_for(locale).seed_instance(rng.getrandbits(32))
        made = 0
        while made < count:
            company = make_company(rng, self.sectors)
            chosen = questionnaire_for(rng, company.sector, self.offered)
            propensities = company_propensities(chosen.compiled, rng, company.scoring_company())
            twice = count - made >= 2 and rng.random() < REASSESSED_RATE
            if twice:
                t0_at = self.now - timedelta(seconds=rng.uniform(SPAN.total_seconds() * 0.45, SPAN.total_seconds()))
                t1_at = t0_at + timedelta(days=rng.uniform(150, 240))
                t0 = self.add(rows, rng, company, chosen, propensities, t0_at, previous=None)
                self.add(rows, rng, company, chosen, improved(propensities, rng), t1_at, previous=t0)
                made += 2
            else:
                created = self.now - timedelta(seconds=rng.uniform(0, SPAN.total_seconds()))
                # Later assessments stand a little higher: the clusters' support shows.
                drift = 0.05 * (1 - (self.now - created) / SPAN)
                self.add(rows, rng, company, chosen, {d: min(0.98, p + drift) for d, p in propensities.items()}, created, previous=None)
                made += 1
        return rows

    def add(
        self,
        rows: Rows,
        rng: random.Random,
        company: Company,
        chosen: Offered,
        propensities: dict[str, float],
        created: datetime,
        previous: int | None,
    ) -> int:
        assessment_id, result_id = self.next_assessment_id, self.next_result_id
        self.next_assessment_id += 1
        self.next_result_id += 1
        scoring_company = company.scoring_company()
        answers = self.drawers[chosen.version_id].draw(rng, scoring_company, propensities)
        # The drawn answers are valid by construction (tests/test_seed.py checks them against
        # check_answers for every bundled questionnaire), so the engine need not check them again.
        profile = self.scorers[chosen.version_id].score(answers, scoring_company, lang=company.language, explain=True, checked=True)
        submitted = min(created + timedelta(minutes=rng.uniform(12, 60 * 24 * 3)), self.now)
        rows.assessment.append(
            {
                "id": assessment_id,
                "token_hash": _token_hash(rng),
                "questionnaire_version_id": chosen.version_id,
                "questionnaire_id": chosen.compiled.id,
                "language": company.language,
                "cluster": company.cluster,
                "sector": company.sector,
                "status": "submitted",
                "share_with_advisors": company.share,
                "privacy_accepted_at": created,
                "company_name": company.name,
                "size": company.size,
                "country": company.country,
                "nace": company.nace,
                "contact_name": company.contact_name,
                "contact_email": company.contact_email,
                "current_section": None,
                "previous_id": previous,
                "series_id": previous or assessment_id,
                "created_at": created,
                "updated_at": submitted,
                "submitted_at": submitted,
                "expires_at": submitted + TOKEN_LIFETIME,
            }
        )
        rows.answer.extend(
            {"assessment_id": assessment_id, "question_id": q, "value": _json(v), "updated_at": submitted}
            for q, v in answers.items()
        )
        add_result_rows(rows, result_id, assessment_id, chosen.version_id, profile, submitted)
        return assessment_id


def add_result_rows(rows: Rows, result_id: int, assessment_id: int, version_id: int, profile: Profile, at: datetime) -> None:
    """The rows ``responses.store_result`` writes for ``profile`` (a test keeps them equal)."""
    pillars = profile.pillars
    rows.result.append(
        {
            "id": result_id,
            "assessment_id": assessment_id,
            "questionnaire_version_id": version_id,
            "current": True,
            "profile": _json(profile),
            "overall": profile.overall.score,
            "overall_level": profile.overall.level,
            "archetype": profile.archetype.id if profile.archetype else None,
            "digital": pillars["digital"].score if "digital" in pillars else None,
            "green": pillars["green"].score if "green" in pillars else None,
            "resilience": pillars["resilience"].score if "resilience" in pillars else None,
            **dma_columns_of(profile),
            "created_at": at,
        }
    )
    rows.dimension_score.extend(
        {"result_id": result_id, "dimension": d, "pillar": v.pillar, "score": v.score, "level": v.level, "gap": d in profile.gaps}
        for d, v in profile.dimensions.items()
    )
    rows.result_recommendation.extend(
        {
            "result_id": result_id,
            "recommendation_id": r.id,
            "rank": i,
            "instruments": _json(r.instruments),
            "training": _json(r.training),
        }
        for i, r in enumerate(profile.recommendations, 1)
    )
    refs = {("instrument", i) for r in profile.recommendations for i in r.instruments}
    refs |= {("training", t) for r in profile.recommendations for t in r.training}
    rows.result_instrument.extend({"result_id": result_id, "kind": k, "ref": ref} for k, ref in sorted(refs))


# --- Writing ------------------------------------------------------------------------------


@dataclass
class Prepared:
    """A batch ready to write: per table, its columns and rows of values as the database
    driver takes them (for SQLite, as SQLAlchemy's column types would bind them: dates as
    text, booleans as 0 and 1; for PostgreSQL's COPY, the Python values)."""

    tables: list[tuple[str, list[str], list[tuple[Any, ...]]]]
    assessments: int


def _bind_processors(model: type[Base], columns: list[str], dialect: Dialect) -> list[Callable[[Any], Any] | None]:
    table = model.__table__
    return [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]


def prepare(rows: Rows, dialect_name: str) -> Prepared:
    """``rows`` as tuples for ``dialect_name``'s driver. Done where the rows are built (in
    the worker processes), so that the writing process only hands tuples to the driver."""
    dialect = _dialect(dialect_name)
    tables = []
    for model, values in rows.tables():
        if not values:
            continue
        columns = list(values[0])
        processors = _bind_processors(model, columns, dialect) if dialect is not None else [None] * len(columns)
        pairs = list(zip(columns, processors, strict=True))
        tables.append(
            (model.__tablename__, columns, [tuple(p(v[c]) if p else v[c] for c, p in pairs) for v in values])
        )
    return Prepared(tables, len(rows.assessment))


def _dialect(name: str) -> Dialect | None:
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite.aiosqlite import dialect

        return dialect()
    return None  # PostgreSQL's COPY takes the Python values as they are


async def write_prepared(connection: AsyncConnection, prepared: Prepared) -> None:
    """One executemany per table on SQLite, one COPY per table on PostgreSQL, on the raw
    driver connection of the transaction: a hundred thousand assessments are millions of
    rows, and SQLAlchemy's per-row work would take most of the time."""
    if connection.dialect.name == "postgresql":
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None  # None only once the connection is closed; it is in use here
        for table, columns, values in prepared.tables:
            await driver.copy_records_to_table(table, records=values, columns=columns)
        return

    def insert_all(sync_connection: Connection) -> None:
        cursor = sync_connection.connection.cursor()  # the DBAPI cursor, whatever the driver
        try:
            for table, columns, values in prepared.tables:
                marks = ", ".join("?" * len(columns))
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values)
        finally:
            cursor.close()

    await connection.run_sync(insert_all)


async def next_ids(connection: AsyncConnection) -> tuple[int, int]:
    assessment = (await connection.execute(select(func.coalesce(func.max(Assessment.id), 0)))).scalar_one()
    result = (await connection.execute(select(func.coalesce(func.max(Result.id), 0)))).scalar_one()
    return assessment + 1, result + 1


async def advance_sequences(connection: AsyncConnection) -> None:
    """PostgreSQL hands out ids from sequences, which explicit ids do not move: move them
    past the rows written here, so that the next real submission gets a free id."""
    if connection.dialect.name != "postgresql":
        return
    for table in ("assessment", "result"):
        await connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        )


async def store_versions(engine: AsyncEngine, questionnaires: Iterable[CompiledQuestionnaire]) -> list[Offered]:
    from assessment.store.db import session_factory

    offered = []
    async with session_factory(engine)() as session, session.begin():
        for compiled in questionnaires:
            version = await store_questionnaire_version(session, compiled)
            offered.append(Offered(compiled, version.id))
    return offered


# --- Building batches in worker processes ----------------------------------------------------
#
# Scoring is most of the work, and pure: worker processes build batches while this process
# writes the previous ones. Each batch's ids and random numbers follow from its position
# alone, so the result is the same with any number of workers.

_WORKER_BUILDER: BatchBuilder | None = None


@dataclass(frozen=True)
class Batch:
    seed: int
    start: int
    size: int
    first_assessment_id: int
    first_result_id: int


def _builder_for(sources: Sequence[tuple[str, int]], now: datetime) -> BatchBuilder:
    from questionnaires.compile import Resolved, compile_resolved

    offered = [Offered(compile_resolved(msgspec.json.decode(source, type=Resolved), name="<seed>"), version_id) for source, version_id in sources]
    return BatchBuilder(offered, now, 0, 0)


_WORKER_DIALECT = ""


def _init_worker(sources: Sequence[tuple[str, int]], now: datetime, dialect_name: str) -> None:
    global _WORKER_BUILDER, _WORKER_DIALECT
    _WORKER_BUILDER = _builder_for(sources, now)
    _WORKER_DIALECT = dialect_name


def build_batch(builder: BatchBuilder, batch: Batch) -> Rows:
    builder.next_assessment_id = batch.first_assessment_id + batch.start
    builder.next_result_id = batch.first_result_id + batch.start
    return builder.build(random.Random(f"{batch.seed}:{batch.start}"), batch.size)


def _build_in_worker(batch: Batch) -> Prepared:
    assert _WORKER_BUILDER is not None
    return prepare(build_batch(_WORKER_BUILDER, batch), _WORKER_DIALECT)


def default_workers(count: int) -> int:
    # Starting processes costs about a second each: worth it for large seeds only.
    return 0 if count < 5000 else max(1, min(4, os.cpu_count() or 1))


async def seed_assessments(
    engine: AsyncEngine,
    questionnaires: Sequence[CompiledQuestionnaire],
    count: int,
    *,
    seed: int = 0,
    now: datetime | None = None,
    batch: int = BATCH,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Add ``count`` submitted, scored assessments; returns how many were added. The same
    seed (and ``now``) gives the same assessments, whatever the number of ``workers``
    (processes that build batches; 0 builds them in this process)."""
    if not questionnaires:
        raise ValueError("no questionnaire to seed with")
    now = (now or utcnow()).astimezone(UTC)
    offered = await store_versions(engine, questionnaires)
    sources = [(encode_resolved(o.compiled.resolved), o.version_id) for o in offered]
    async with engine.connect() as connection:
        first_assessment, first_result = await next_ids(connection)
    batches = [
        Batch(seed, start, min(batch, count - start), first_assessment, first_result) for start in range(0, count, batch)
    ]
    workers = default_workers(count) if workers is None else workers
    dialect_name = engine.dialect.name
    if workers == 0:
        builder = BatchBuilder(offered, now, first_assessment, first_result)
        built = (prepare(build_batch(builder, b), dialect_name) for b in batches)
        done = await _write_all(engine, _as_async(built), progress)
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(sources, now, dialect_name)) as pool:
            done = await _write_all(engine, _from_pool(pool, batches, ahead=workers * 2), progress)
    await refresh_statistics(engine)
    return done


async def refresh_statistics(engine: AsyncEngine) -> None:
    """PostgreSQL plans by its statistics, which a bulk load leaves behind until autovacuum
    catches up: refresh them now, as it would. (SQLite keeps none unless asked, and a real
    SQLite database has none, so it is left as it is.)"""
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("ANALYZE assessment, answer, result, dimension_score, result_recommendation, result_instrument"))


async def _as_async(prepared: Iterable[Prepared]) -> AsyncIterator[Prepared]:
    for p in prepared:
        yield p


async def _from_pool(pool: ProcessPoolExecutor, batches: Sequence[Batch], ahead: int) -> AsyncIterator[Prepared]:
    """The batches, prepared, in order, with up to ``ahead`` batches being built meanwhile."""
    loop = asyncio.get_running_loop()
    pending: deque[asyncio.Future[Prepared]] = deque()
    queued = iter(batches)
    for b in islice(queued, ahead):
        pending.append(loop.run_in_executor(pool, _build_in_worker, b))
    while pending:
        prepared = await pending.popleft()
        for b in islice(queued, 1):
            pending.append(loop.run_in_executor(pool, _build_in_worker, b))
        yield prepared


async def _write_all(engine: AsyncEngine, built: AsyncIterator[Prepared], progress: Callable[[int], None] | None) -> int:
    done = 0
    async for prepared in built:
        # One transaction per batch: a long seed shows progress and holds no lock for long.
        async with engine.begin() as connection:
            await write_prepared(connection, prepared)
            await advance_sequences(connection)
        done += prepared.assessments
        if progress:
            progress(done)
    return done


# --- The command --------------------------------------------------------------------------


class UnknownQuestionnaire(ValueError):
    pass


def offered_questionnaires() -> list[CompiledQuestionnaire]:
    """What the app offers: the folder of RECENTRE_QUESTIONNAIRES, or the bundled one."""
    from pathlib import Path

    from questionnaires.compile import BUNDLED, load_bundled

    return list(load_bundled(Path(os.environ.get("RECENTRE_QUESTIONNAIRES") or BUNDLED)))


def choose_questionnaires(offered: Sequence[CompiledQuestionnaire], ids: Sequence[str] | None) -> list[CompiledQuestionnaire]:
    """The offered questionnaires named by ``ids`` (all of them when none is named)."""
    by_id = {c.id: c for c in offered}
    unknown = [i for i in ids or [] if i not in by_id]
    if unknown:
        raise UnknownQuestionnaire(f"unknown questionnaire {', '.join(map(repr, unknown))}; offered: {', '.join(sorted(by_id))}")
    return [by_id[i] for i in dict.fromkeys(ids)] if ids else list(offered)


async def seed_database(
    database_url: str, questionnaires: Sequence[CompiledQuestionnaire], count: int, *, seed: int, progress: Callable[[int], None] | None = None
) -> int:
    from assessment.store.db import create_engine

    engine = create_engine(database_url)
    try:
        return await seed_assessments(engine, questionnaires, count, seed=seed, progress=progress)
    finally:
        await engine.dispose()
