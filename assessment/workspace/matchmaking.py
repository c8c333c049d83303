"""Cross-sector matchmaking: partners for an SME's innovation-voucher project.

A partner is an SME of another sector that is strong (a score of at least ``STRENGTH``)
where this one has a gap (at most ``GAP``): an IT or energy company whose data, automation
or energy management could carry a furniture maker's first project, or the other way round.
Only SMEs that agreed to share their results with advisors (``share_with_advisors``) are
ever suggested, and only those the reader may see (``visible``, a condition on
``Assessment``). Partners are ranked by how many of the gaps they cover, then by how far
their scores are above this SME's in those dimensions.

The database does the matching: a self-join of ``dimension_score`` on the dimension, read
through its (dimension, score) index, grouped by partner.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from assessment.store.models import Assessment, DimensionScore, Result, latest_of_its_company

STRENGTH = 65.0
GAP = 40.0
LIMIT = 10


@dataclass(frozen=True)
class Match:
    dimension: str
    title: str
    theirs: float
    ours: float


@dataclass
class Partner:
    assessment_id: int
    company_name: str | None
    sector: str
    cluster: str
    country: str | None
    size: str | None
    matches: list[Match] = field(default_factory=list)

    @property
    def covered(self) -> int:
        return len(self.matches)

    @property
    def margin(self) -> float:
        return sum(m.theirs - m.ours for m in self.matches)

    def reason(self) -> str:
        """Why it is suggested, in one sentence."""
        parts = [f"{m.title} {m.theirs:.0f} (yours {m.ours:.0f})" for m in self.matches]
        return f"Strong where you have gaps: {'; '.join(parts)}."


async def current_result_id(session: AsyncSession, assessment_id: int) -> int | None:
    return await session.scalar(select(Result.id).where(Result.assessment_id == assessment_id, Result.current.is_(True)))


async def gaps_of(session: AsyncSession, result_id: int) -> dict[str, float]:
    """The dimensions where a result scores ``GAP`` or less."""
    rows = await session.execute(
        select(DimensionScore.dimension, DimensionScore.score).where(DimensionScore.result_id == result_id, DimensionScore.score <= GAP)
    )
    # A comparison is never true of NULL in SQL: every score read here is a number.
    return {d: s for d, s in rows if s is not None}


def _candidates(assessment: Assessment, result_id: int, visible: ColumnElement[bool], limit: int) -> Select[int, int, Any]:
    ours = aliased(DimensionScore)
    theirs = aliased(DimensionScore)
    covered = func.count().label("covered")
    # In hundredths of a point, whole numbers: a sum of them is exact in any order, so that
    # equal margins tie (and fall back to the id) on every database.
    margin = func.sum(func.round(theirs.score * 100) - func.round(ours.score * 100)).label("margin")
    return (
        select(Assessment.id, covered, margin)
        .select_from(ours)
        .join(theirs, and_(theirs.dimension == ours.dimension, theirs.score >= STRENGTH))
        .join(Result, and_(Result.id == theirs.result_id, Result.current.is_(True)))
        .join(Assessment, Assessment.id == Result.assessment_id)
        .where(
            ours.result_id == result_id,
            ours.score <= GAP,
            Assessment.status == "submitted",
            Assessment.share_with_advisors.is_(True),
            Assessment.sector != assessment.sector,
            Assessment.id != assessment.id,
            # A company once, as it stands now, not also as it stood at T0.
            latest_of_its_company(Assessment.share_with_advisors.is_(True), visible),
            visible,
        )
        .group_by(Assessment.id)
        .order_by(covered.desc(), margin.desc(), Assessment.id)
        .limit(limit)
    )


async def suggest_partners(
    session: AsyncSession,
    assessment: Assessment,
    visible: ColumnElement[bool],
    titles: Mapping[str, str],
    *,
    limit: int = LIMIT,
) -> list[Partner]:
    """Up to ``limit`` partners for ``assessment``, best first, each with its matches."""
    result_id = await current_result_id(session, assessment.id)
    if result_id is None:
        return []
    gaps = await gaps_of(session, result_id)
    if not gaps:
        return []
    ranked = [row[0] for row in await session.execute(_candidates(assessment, result_id, visible, limit))]
    if not ranked:
        return []
    rows = await session.execute(
        select(
            Assessment.id, Assessment.company_name, Assessment.sector, Assessment.cluster, Assessment.country, Assessment.size,
            DimensionScore.dimension, DimensionScore.score,
        )
        .join(Result, and_(Result.assessment_id == Assessment.id, Result.current.is_(True)))
        .join(DimensionScore, DimensionScore.result_id == Result.id)
        .where(Assessment.id.in_(ranked), DimensionScore.dimension.in_(list(gaps)), DimensionScore.score >= STRENGTH)
    )
    partners: dict[int, Partner] = {}
    for pid, name, sector, cluster, country, size, dimension, score in rows:
        if score is None:  # never: NULL is not >= STRENGTH in SQL
            continue
        partner = partners.setdefault(pid, Partner(pid, name, sector, cluster, country, size))
        partner.matches.append(Match(dimension, titles.get(dimension, dimension), score, gaps[dimension]))
    for partner in partners.values():
        partner.matches.sort(key=lambda m: (-(m.theirs - m.ours), m.dimension))
    return [partners[pid] for pid in ranked if pid in partners]
