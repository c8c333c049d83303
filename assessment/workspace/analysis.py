"""Sector analysis: how the companies of a sector and cluster are distributed, where their
gaps are, and how many companies each instrument and training topic is recommended to. A
company counts once, with its latest submitted assessment (T1 after T0; ``Scope``). Every
figure is counted by the database with GROUP BY; Python only reshapes the few hundred
aggregated rows that come back.

Who may see which assessments is the caller's business: each query takes ``visible``, a
condition on ``Assessment`` (``web.auth.visible_assessments`` in the web app).
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import ColumnElement, Integer, Label, Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from assessment.store.models import (
    Assessment,
    DimensionScore,
    Result,
    ResultInstrument,
    data_changes,
    dma_dimension_column,
    latest_of_its_company,
)
from questionnaires.compile import CompiledQuestionnaire
from questionnaires.messages import N_
from questionnaires.reference import DMA_BANDS, DMA_DIMENSIONS, dma_band

from .exports import Table

BUCKET = 10
"""Width of the histogram bars, in points; 100 falls in the last bar, 90-100."""
BUCKETS = 100 // BUCKET
CACHE_SIZE = 64
"""Analyses kept by ``AnalysisCache``, the least recently used dropped first."""


class whole_points(FunctionElement[int]):
    """The whole number of points of a score, rounded down: 47.9 is 47 on every database
    (PostgreSQL's CAST rounds, SQLite's truncates, and SQLite may lack FLOOR)."""

    type = Integer()
    inherit_cache = True


@compiles(whole_points)
def _whole_points(element: whole_points, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(FLOOR({compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(whole_points, "sqlite")
def _whole_points_sqlite(element: whole_points, compiler: SQLCompiler, **kw: Any) -> str:
    # Scores are never negative, and truncating a non-negative number floors it.
    return f"CAST({compiler.process(element.clauses, **kw)} AS INTEGER)"


@dataclass(frozen=True)
class Scope:
    """Which assessments an analysis covers: those ``visible`` to the reader, submitted,
    narrowed to a sector and a cluster when given, each its company's latest among them (a
    company assessed at T0 and T1 counts once, with T1); and, for the cache's sake, their current
    results with an id in (``after_result``, ``up_to_result``] when those are given.
    ``every_assessment`` keeps the earlier assessments of a company too, to count them."""

    visible: ColumnElement[bool]
    sector: str = ""
    cluster: str = ""
    after_result: int | None = None
    up_to_result: int | None = None
    every_assessment: bool = False

    def conditions(self) -> list[ColumnElement[bool]]:
        narrowed = [self.visible]
        if self.sector:
            narrowed.append(Assessment.sector == self.sector)
        if self.cluster:
            narrowed.append(Assessment.cluster == self.cluster)
        where = [*narrowed, Assessment.status == "submitted"]
        if not self.every_assessment:
            # The latest among those the scope covers: an advisor who may see a company's T0
            # but not its T1 counts the company with its T0.
            where.append(latest_of_its_company(*narrowed))
        if self.after_result is not None:
            where.append(Result.id > self.after_result)
        if self.up_to_result is not None:
            where.append(Result.id <= self.up_to_result)
        return where

    def within(self, after: int | None, up_to: int | None) -> Scope:
        return replace(self, after_result=after, up_to_result=up_to)

    def with_every_assessment(self) -> Scope:
        return replace(self, every_assessment=True)


def in_scope(scope: Scope, *columns: Any) -> Select[*tuple[Any, ...]]:
    """SELECT ``columns`` over the scope's assessments, joined to their current result."""
    return (
        select(*columns)
        .select_from(Assessment)
        .join(Result, and_(Result.assessment_id == Assessment.id, Result.current.is_(True)))
        .where(*scope.conditions())
    )


# --- Queries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataVersion:
    """What the analyses depend on, in three numbers: a submission or a re-scoring adds a
    current result (a higher id), a re-scoring also retires one and removing an assessment
    removes one (the count then falls short of what the new ids explain); and the changes
    the results do not show (``DataChange``): an SME's sharing choice changed, which decides
    what advisors see, and erasures, after which SQLite may give a removed result's id again."""

    last_result: int
    current_results: int
    other_changes: int = 0


async def data_version(session: AsyncSession) -> DataVersion:
    """Cheap: the first two come from the index on ``result.current``, the third from one row."""
    row = (await session.execute(select(func.max(Result.id), func.count()).where(Result.current.is_(True)))).one()
    return DataVersion(row[0] or 0, row[1], await data_changes(session))


async def current_results_between(session: AsyncSession, after: int, up_to: int) -> int:
    """How many current results have an id in (after, up_to]: read through the primary key."""
    return await session.scalar(
        select(func.count()).select_from(Result).where(Result.id > after, Result.id <= up_to, Result.current.is_(True))
    ) or 0


async def repeats_between(session: AsyncSession, after: int, up_to: int) -> int:
    """How many current results with an id in (after, up_to] are of re-assessments (T1, T2,
    ...): each takes the place of its company's earlier result in the counts."""
    return await session.scalar(
        select(func.count())
        .select_from(Result)
        .join(Assessment, Assessment.id == Result.assessment_id)
        .where(Result.id > after, Result.id <= up_to, Result.current.is_(True), Assessment.previous_id.is_not(None))
    ) or 0


def only_added(old: DataVersion, new: DataVersion, added: int, repeats: int = 0) -> bool:
    """Whether going from ``old`` to ``new`` only added current results (``added`` of them,
    all with ids above ``old.last_result``) of companies not counted yet (``repeats`` of them
    are re-assessments, which replace their company's earlier result), so that the analysis
    can be brought up to date by counting those alone."""
    return (
        new.last_result >= old.last_result
        and new.current_results == old.current_results + added
        and not repeats
        and new.other_changes == old.other_changes
    )


async def count_by_sector_and_cluster(session: AsyncSession, scope: Scope) -> dict[tuple[str, str], int]:
    """How many companies in scope (or assessments, for a scope ``with_every_assessment``),
    per (sector, cluster)."""
    statement = in_scope(scope, Assessment.sector, Assessment.cluster, func.count()).group_by(Assessment.sector, Assessment.cluster)
    return {(sector, cluster): n for sector, cluster, n in await session.execute(statement)}


async def dimension_points(session: AsyncSession, scope: Scope) -> list[tuple[str, int | None, str | None, int, float, int]]:
    """(dimension, whole point, level, SMEs, sum of scores, SMEs with it among their gaps)
    over the scope: enough for histograms, levels, means, quartiles to the point and the
    most common gaps, in a few hundred rows."""
    point = whole_points(DimensionScore.score)
    gaps = func.sum(case((DimensionScore.gap.is_(True), 1), else_=0))
    statement = (
        in_scope(scope, DimensionScore.dimension, point, DimensionScore.level, func.count(), func.sum(DimensionScore.score), gaps)
        .join(DimensionScore, DimensionScore.result_id == Result.id)
        .group_by(DimensionScore.dimension, point, DimensionScore.level)
    )
    return [tuple(row) for row in await session.execute(statement)]


async def instrument_demand(session: AsyncSession, scope: Scope) -> list[tuple[str, str, int]]:
    """(kind, ref, SMEs) for every instrument and training topic recommended in scope; a
    result counts once per ref, however many of its recommendations point there."""
    statement = (
        in_scope(scope, ResultInstrument.kind, ResultInstrument.ref, func.count())
        .join(ResultInstrument, ResultInstrument.result_id == Result.id)
        .group_by(ResultInstrument.kind, ResultInstrument.ref)
    )
    return [tuple(row) for row in await session.execute(statement)]


# --- Shaping the aggregates ---------------------------------------------------------------


@dataclass
class DimensionSummary:
    dimension: str
    title: str
    pillar: str
    scored: int = 0
    """SMEs with a score in this dimension."""
    unscored: int = 0
    """SMEs whose answers left the dimension without a score (all "don't know")."""
    total: float = 0.0
    points: list[int] = field(default_factory=lambda: [0] * 101)
    levels: dict[str, int] = field(default_factory=dict)
    bottom_three: int = 0

    @property
    def mean(self) -> float | None:
        return self.total / self.scored if self.scored else None

    @property
    def buckets(self) -> list[int]:
        """Counts per 10-point bar: 0-9, 10-19, ..., 90-100."""
        out = [sum(self.points[i * BUCKET : (i + 1) * BUCKET]) for i in range(BUCKETS)]
        out[-1] += self.points[100]
        return out

    def quantile(self, q: float) -> int | None:
        """The score (to the point below) under which a share ``q`` of the SMEs lie."""
        if not self.scored:
            return None
        rank = max(1, math.ceil(q * self.scored))
        seen = 0
        for point, n in enumerate(self.points):
            seen += n
            if seen >= rank:
                return point
        return 100

    def share_at(self, level: str) -> float:
        return self.levels.get(level, 0) / self.scored if self.scored else 0.0


@dataclass
class Labels:
    """Titles of the ids stored in results, from the offered questionnaires."""

    dimensions: dict[str, tuple[str, str]]
    """id -> (title, pillar)"""
    levels: list[tuple[str, str]]
    """(id, title), lowest first"""
    instruments: dict[tuple[str, str], str]
    """(kind, ref) -> title; kind is instrument or training"""
    sectors: list[str]
    catalog_kinds: dict[str, str] = field(default_factory=dict)
    """instrument id -> its catalog kind: innovation_voucher, internationalisation_voucher or training"""

    @classmethod
    def of(cls, questionnaires: Iterable[CompiledQuestionnaire], lang: str = "en") -> Labels:
        dimensions: dict[str, tuple[str, str]] = {}
        levels: dict[str, str] = {}
        instruments: dict[tuple[str, str], str] = {}
        catalog_kinds: dict[str, str] = {}
        sectors: dict[str, None] = {}
        for q in questionnaires:
            for d in q.dimensions.values():
                dimensions.setdefault(d.id, (d.title.get(lang), d.pillar))
            for level in q.levels:
                levels.setdefault(level.id, level.title.get(lang))
            for i in q.instruments.values():
                instruments.setdefault(("instrument", i.id), i.title.get(lang))
                catalog_kinds.setdefault(i.id, i.kind)
            for t in q.training_topics.values():
                instruments.setdefault(("training", t.id), t.title.get(lang))
            sectors.update(dict.fromkeys(q.meta.sectors or []))
        return cls(dimensions, list(levels.items()), instruments, list(sectors), catalog_kinds)

    def dimension_order(self) -> list[str]:
        return list(self.dimensions)

    @property
    def lowest_level(self) -> str | None:
        return self.levels[0][0] if self.levels else None


def summarise_dimensions(
    rows: Iterable[tuple[str, int | None, str | None, int, float]], labels: Labels, bottom_three: Mapping[str, int]
) -> list[DimensionSummary]:
    """One summary per dimension, in the questionnaires' order (unknown ids last)."""
    found: dict[str, DimensionSummary] = {}
    for dimension, point, level, n, total in rows:
        title, pillar = labels.dimensions.get(dimension, (dimension, ""))
        summary = found.setdefault(dimension, DimensionSummary(dimension, title, pillar))
        if point is None:
            summary.unscored += n
            continue
        summary.scored += n
        summary.total += total or 0.0
        summary.points[min(100, max(0, point))] += n
        if level:
            summary.levels[level] = summary.levels.get(level, 0) + n
    for dimension, n in bottom_three.items():
        if dimension in found:
            found[dimension].bottom_three = n
    order = {d: i for i, d in enumerate(labels.dimension_order())}
    return sorted(found.values(), key=lambda s: (order.get(s.dimension, len(order)), s.dimension))


DEMAND_GROUPS = {
    "innovation_voucher": N_("Innovation vouchers"),
    "internationalisation_voucher": N_("Internationalisation vouchers"),
    "training": N_("Training courses"),
    "topic": N_("Training topics"),
}
"""The groups the demand is shown in, in this order, with their headings: catalog instruments
by their kind (``questionnaires.reference.INSTRUMENT_KINDS``), then the training topics
recommendations name."""


@dataclass
class Demand:
    kind: str
    """instrument or training, as stored in result_instrument."""
    ref: str
    title: str
    smes: int
    share: float
    group: str
    """A key of DEMAND_GROUPS."""


def shape_demand(rows: Iterable[tuple[str, str, int]], labels: Labels, smes: int) -> list[Demand]:
    """By group, then by demand, highest first."""
    order = {g: i for i, g in enumerate(DEMAND_GROUPS)}
    out = [
        Demand(
            kind,
            ref,
            labels.instruments.get((kind, ref), ref),
            n,
            n / smes if smes else 0.0,
            "topic" if kind == "training" else labels.catalog_kinds.get(ref, "innovation_voucher"),
        )
        for kind, ref, n in rows
    ]
    return sorted(out, key=lambda d: (order.get(d.group, len(order)), -d.smes, d.ref))


@dataclass
class Analysis:
    scope: Scope
    smes: int
    """Companies, each counted once with its latest submitted assessment."""
    counts: dict[tuple[str, str], int]
    """(sector, cluster) -> companies"""
    dimensions: list[DimensionSummary]
    demand: list[Demand]
    labels: Labels
    assessments: int = 0
    """Submitted assessments of those companies, earlier ones (T0 before a T1) included."""
    assessment_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    """(sector, cluster) -> submitted assessments"""

    def gaps(self, limit: int = 5) -> list[DimensionSummary]:
        """The most common gaps: dimensions most often among an SME's three weakest, then
        most often at the lowest level."""
        lowest = self.labels.lowest_level
        ranked = sorted(self.dimensions, key=lambda s: (-s.bottom_three, -s.share_at(lowest) if lowest else 0, s.dimension))
        return [s for s in ranked if s.scored][:limit]


@dataclass
class Aggregates:
    """What the database counted for a scope. Every figure is a sum over results, so the
    aggregates of two disjoint sets of results add up to those of their union."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(sector, cluster) -> companies"""
    points: dict[tuple[str, int | None, str | None], tuple[int, float, int]] = field(default_factory=dict)
    """(dimension, whole point or None, level) -> (companies, sum of scores, companies with it among their gaps)"""
    demand: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(kind, ref) -> companies"""
    assessments: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(sector, cluster) -> submitted assessments, a company's earlier ones included"""

    def plus(self, other: Aggregates) -> Aggregates:
        points = dict(self.points)
        for key, (n, total, gaps) in other.points.items():
            old_n, old_total, old_gaps = points.get(key, (0, 0.0, 0))
            points[key] = (old_n + n, old_total + total, old_gaps + gaps)
        return Aggregates(self.counts + other.counts, points, self.demand + other.demand, self.assessments + other.assessments)

    @property
    def smes(self) -> int:
        return sum(self.counts.values())


async def aggregate(session: AsyncSession, scope: Scope) -> Aggregates:
    counts = Counter(await count_by_sector_and_cluster(session, scope))
    if not counts:
        return Aggregates(counts)
    points = {(d, p, level): (n, total or 0.0, gaps or 0) for d, p, level, n, total, gaps in await dimension_points(session, scope)}
    demand = Counter({(kind, ref): n for kind, ref, n in await instrument_demand(session, scope)})
    assessments = Counter(await count_by_sector_and_cluster(session, scope.with_every_assessment()))
    return Aggregates(counts, points, demand, assessments)


def shape(aggregates: Aggregates, scope: Scope, labels: Labels) -> Analysis:
    smes = aggregates.smes
    rows = [(d, p, level, n, total) for (d, p, level), (n, total, _) in aggregates.points.items() if n]
    bottom_three: Counter[str] = Counter()
    for (d, _, _), (_, _, gaps) in aggregates.points.items():
        bottom_three[d] += gaps
    demand = [(kind, ref, n) for (kind, ref), n in aggregates.demand.items() if n]
    counts = {key: n for key, n in aggregates.counts.items() if n}
    assessment_counts = {key: n for key, n in aggregates.assessments.items() if n}
    return Analysis(
        scope, smes, counts, summarise_dimensions(rows, labels, bottom_three), shape_demand(demand, labels, smes), labels,
        sum(assessment_counts.values()), assessment_counts,
    )


async def analyse(session: AsyncSession, scope: Scope, labels: Labels) -> Analysis:
    return shape(await aggregate(session, scope), scope, labels)


# --- Per SME, in the EDIH DMA's terms -----------------------------------------------------


def dma_columns() -> list[Label[float | None]]:
    """The DMA score and the six DMA dimension scores of the current result, labelled
    ``dma`` and with the keys of ``DMA_DIMENSIONS``: null for a result of a questionnaire
    version without DMA dimensions."""
    return [Result.dma.label("dma"), *(dma_dimension_column(key).label(key) for key in DMA_DIMENSIONS)]


def with_a_dma() -> ColumnElement[bool]:
    """The current result has the DMA's dimension scores: its questionnaire version declares them."""
    return or_(*(dma_dimension_column(key).is_not(None) for key in DMA_DIMENSIONS))


DMA_COLUMNS = ["Assessment", "Company name", "Sector", "Cluster", "Country", "Submitted (UTC)", "DMA Score", "DMA Band", *DMA_DIMENSIONS.values()]
"""The EDIH DMA sheet's headings, in English as the EDIH export them."""
DMA_BAND_NAMES = {band.id: band.name for band in DMA_BANDS}


def dma_statement(scope: Scope) -> Select[*tuple[Any, ...]]:
    """One row per company in scope whose result has the DMA's scores, in the order of
    ``DMA_COLUMNS`` but for the band (``dma_row`` adds it); by assessment id, so that it can
    be read in chunks."""
    return in_scope(
        scope,
        Assessment.id,
        Assessment.company_name,
        Assessment.sector,
        Assessment.cluster,
        Assessment.country,
        Assessment.submitted_at,
        *dma_columns(),
    ).where(with_a_dma()).order_by(Assessment.id)


DMA_FIELDS = ("id", "company_name", "sector", "cluster", "country", "submitted_at")
"""The columns ``dma_row`` reads besides the DMA's scores, in the order of DMA_COLUMNS."""


def dma_cells(row: Any) -> list[Any]:
    """The DMA score, its band and the six scores of a row that has ``dma_columns``."""
    values = row._mapping
    band = dma_band(values["dma"])
    return [values["dma"], DMA_BAND_NAMES[band] if band else None, *(values[key] for key in DMA_DIMENSIONS)]


def dma_row(row: Any) -> list[Any]:
    """The EDIH DMA sheet's row of a ``dma_statement`` row."""
    values = row._mapping
    return [*(values[f] for f in DMA_FIELDS), *dma_cells(row)]


# --- As tables, for the downloads ---------------------------------------------------------


def _share(n: int, total: int) -> float | None:
    return round(n / total, 4) if total else None


def dimensions_table(analysis: Analysis) -> Table:
    levels = analysis.labels.levels
    return Table(
        "Dimensions",
        ["Dimension", "Title", "Pillar", "SMEs scored", "SMEs not scored", "Mean", "Lower quartile", "Median", "Upper quartile",
         *(f"At level: {title}" for _, title in levels), "Among three weakest"],
        [
            [d.dimension, d.title, d.pillar, d.scored, d.unscored, round(d.mean, 2) if d.mean is not None else None,
             d.quantile(0.25), d.quantile(0.5), d.quantile(0.75), *(d.levels.get(level, 0) for level, _ in levels), d.bottom_three]
            for d in analysis.dimensions
        ],
    )


def histogram_table(analysis: Analysis) -> Table:
    return Table(
        "Histogram",
        ["Dimension", "From score", "To score", "SMEs"],
        [
            [d.dimension, i * BUCKET, 100 if i == BUCKETS - 1 else i * BUCKET + BUCKET - 1, n]
            for d in analysis.dimensions
            for i, n in enumerate(d.buckets)
        ],
    )


def gaps_table(analysis: Analysis) -> Table:
    lowest = analysis.labels.lowest_level
    return Table(
        "Gaps",
        ["Dimension", "Title", "Among three weakest", "Share of SMEs", "At the lowest level", "Share at the lowest level"],
        [
            [g.dimension, g.title, g.bottom_three, _share(g.bottom_three, analysis.smes),
             g.levels.get(lowest, 0) if lowest else None, round(g.share_at(lowest), 4) if lowest else None]
            for g in analysis.gaps(limit=len(analysis.dimensions))
        ],
    )


def demand_table(analysis: Analysis) -> Table:
    return Table(
        "Demand",
        ["Group", "Kind", "Id", "Title", "SMEs", "Share of SMEs"],
        [[DEMAND_GROUPS.get(d.group, d.group), d.kind, d.ref, d.title, d.smes, round(d.share, 4)] for d in analysis.demand],
    )


def counts_table(analysis: Analysis) -> Table:
    return Table(
        "SMEs",
        ["Sector", "Cluster", "Companies", "Assessments"],
        [[sector, cluster, n, analysis.assessment_counts.get((sector, cluster), n)] for (sector, cluster), n in sorted(analysis.counts.items())],
    )


ANALYSIS_PARTS = {"dimensions": dimensions_table, "histogram": histogram_table, "gaps": gaps_table, "demand": demand_table, "smes": counts_table}
"""The analysis's tables by the name its CSV downloads use."""


# --- Computing, once per change of the data -----------------------------------------------


@dataclass
class Cached:
    version: DataVersion
    aggregates: Aggregates
    analyses: dict[str, Analysis]
    """The aggregates shaped with the titles of each language asked for."""


class AnalysisCache:
    """The latest analysis of each (viewer, scope), with the data version it was counted at.

    A request whose data version is the cached one gets the cached analysis. When results
    were only added since (submissions), the new ones alone are counted and added to the
    cached counts; anything else (a re-scoring retires a result, a removal) counts
    everything again. Counts are bounded by the version's last result id, so that results
    arriving meanwhile are counted once, by the next request. Viewers who see the same rows
    (organisers; advisors of one cluster) share entries, whatever their language: the counts
    are kept once and shaped with each language's titles."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], size: int = CACHE_SIZE):
        self.sessions = sessions
        self.size = size
        self.entries: OrderedDict[tuple, Cached] = OrderedDict()

    async def get(self, key: tuple, scope: Scope, labels: Labels, lang: str = "en") -> Analysis:
        """The analysis of ``scope`` with ``labels``, the titles in ``lang``. Read in a short
        session of its own, so that a caller reading other rows in sessions of its own (the
        downloads, in chunks) never holds two at once: on SQLite the app has one connection."""
        async with self.sessions() as session:
            return await self._counted(session, key, scope, labels, lang)

    async def _counted(self, session: AsyncSession, key: tuple, scope: Scope, labels: Labels, lang: str) -> Analysis:
        now = await data_version(session)
        found = self.entries.get(key)
        if found is not None and found.version == now:
            self.entries.move_to_end(key)
            if lang not in found.analyses:
                found.analyses[lang] = shape(found.aggregates, scope, labels)
            return found.analyses[lang]
        last = found.version.last_result if found else 0
        if found is not None and only_added(
            found.version, now, await current_results_between(session, last, now.last_result), await repeats_between(session, last, now.last_result)
        ):
            aggregates = found.aggregates.plus(await aggregate(session, scope.within(last, now.last_result)))
        else:
            aggregates = await aggregate(session, scope.within(None, now.last_result))
        cached = Cached(now, aggregates, {lang: shape(aggregates, scope, labels)})
        self.entries[key] = cached
        self.entries.move_to_end(key)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return cached.analyses[lang]
