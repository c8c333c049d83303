"""The sector analysis of the workspace: distributions, common gaps and the demand for
instruments and training, per sector and cluster, as SVG charts and tables.

Advisors see their own cluster's shared assessments, organisers all (``visible_assessments``).
The figures are aggregated by the database (``assessment.workspace.analysis``). Counting everything
costs seconds at 100,000 assessments, so each view's counts are kept in memory and brought up
to date by counting only the results added since (``AnalysisCache``).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from litestar import Request, get
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from assessment.workspace.accounts import CurrentUser
from assessment.workspace.analysis import (
    BUCKET,
    BUCKETS,
    DEMAND_GROUPS,
    Aggregates,
    Analysis,
    DataVersion,
    Labels,
    Scope,
    aggregate,
    current_results_between,
    data_version,
    only_added,
    shape,
)
from questionnaires.reference import CLUSTERS
from scoring.render.i18n import translations

from .auth import requires_user, user_of, visible_assessments
from .bar_charts import Bar, histogram, horizontal_bars, stacked_share
from .dashboard import ENGLISH, Messages
from .languages import format_count, format_share, translator, workspace_language, workspace_page

_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
CACHE_SIZE = 64


# --- Filters ------------------------------------------------------------------------------


@dataclass
class AnalysisFilters:
    sector: str = ""
    cluster: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def query(self) -> dict[str, str]:
        return {k: v for k, v in (("sector", self.sector), ("cluster", self.cluster)) if v}


def parse_analysis_filters(params: Mapping[str, str], sectors: list[str], say: Messages = ENGLISH) -> AnalysisFilters:
    """Sector and cluster from a query string; an unknown value is named in ``errors``, in
    the language of ``say``."""
    errors: dict[str, str] = {}
    sector = str(params.get("sector") or "").strip()
    cluster = str(params.get("cluster") or "").strip()
    if sector and (not _ID.match(sector) or sector not in sectors):
        errors["sector"] = say.unknown("sector", sectors)
        sector = ""
    if cluster and cluster not in CLUSTERS:
        errors["cluster"] = say.unknown("cluster", CLUSTERS)
        cluster = ""
    return AnalysisFilters(sector, cluster, errors)


def scope_for(user: CurrentUser, filters: AnalysisFilters) -> Scope:
    # An advisor who names another cluster gets that cluster's share of their own view:
    # nothing. The condition, not the form, decides what is seen.
    return Scope(visible_assessments(user), sector=filters.sector, cluster=filters.cluster)


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

    def __init__(self, size: int = CACHE_SIZE):
        self.size = size
        self.entries: OrderedDict[tuple, Cached] = OrderedDict()

    async def get(self, session: AsyncSession, key: tuple, scope: Scope, labels: Labels, lang: str = "en") -> Analysis:
        """The analysis of ``scope`` with ``labels``, the titles in ``lang``."""
        now = await data_version(session)
        found = self.entries.get(key)
        if found is not None and found.version == now:
            self.entries.move_to_end(key)
            if lang not in found.analyses:
                found.analyses[lang] = shape(found.aggregates, scope, labels)
            return found.analyses[lang]
        last = found.version.last_result if found else 0
        if found is not None and only_added(found.version, now, await current_results_between(session, last, now.last_result)):
            aggregates = found.aggregates.plus(await aggregate(session, scope.within(last, now.last_result)))
        else:
            aggregates = await aggregate(session, scope.within(None, now.last_result))
        cached = Cached(now, aggregates, {lang: shape(aggregates, scope, labels)})
        self.entries[key] = cached
        self.entries.move_to_end(key)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return cached.analyses[lang]


def viewer_key(user: CurrentUser) -> tuple:
    """Who sees the same rows: ``visible_assessments`` depends on the role and cluster only."""
    return ("organiser",) if user.is_organiser else ("advisor", user.cluster)


def labels_of(request: Request, lang: str = "en") -> Labels:
    """Titles from the offered questionnaires in ``lang``, looked up once per language."""
    state = request.app.state
    if state.get("analysis_labels") is None:
        state.analysis_labels = {}
    if lang not in state.analysis_labels:
        state.analysis_labels[lang] = Labels.of(state.questionnaires.values(), lang)
    return state.analysis_labels[lang]


def cache_of(request: Request) -> AnalysisCache:
    state = request.app.state
    if state.get("analysis_cache") is None:
        state.analysis_cache = AnalysisCache()
    return state.analysis_cache


async def analysis_for(request: Request, session: AsyncSession, user: CurrentUser, filters: AnalysisFilters, lang: str = "en") -> Analysis:
    """The analysis ``user`` may see for ``filters``, its titles in ``lang``."""
    labels = labels_of(request, lang)
    scope = scope_for(user, filters)
    key = (*viewer_key(user), filters.sector, filters.cluster)
    return await cache_of(request).get(session, key, scope, labels, lang)


# --- The page -----------------------------------------------------------------------------


def bucket_labels() -> list[str]:
    return [f"{i * BUCKET}–{i * BUCKET + BUCKET - 1}" if i < BUCKETS - 1 else f"{i * BUCKET}–100" for i in range(BUCKETS)]


def without_common_prefix(titles: list[str]) -> list[str]:
    """``Training: X``, ``Training: Y`` -> ``X``, ``Y``: the chart's heading says it already."""
    heads = {t.split(": ", 1)[0] for t in titles if ": " in t}
    if len(heads) == 1 and all(": " in t for t in titles):
        return [t.split(": ", 1)[1] for t in titles]
    return titles


def charts_of(analysis: Analysis, lang: str = "en") -> dict[str, Any]:
    """The SVG charts of the page, keyed by what they show, in ``lang``."""
    _ = translations(lang).gettext
    number = lambda n: format_count(n, lang)  # noqa: E731
    share = lambda s: format_share(s, lang)  # noqa: E731
    labels = bucket_labels()
    levels = analysis.labels.levels
    dimensions = {
        d.dimension: {
            "histogram": histogram(
                d.buckets,
                [label.split("–")[0] for label in labels],
                title=_("%(dimension)s: SMEs per 10-point band of the score") % {"dimension": d.title},
                id_prefix=f"hist-{d.dimension}",
                number=number,
            ),
            "levels": stacked_share(
                [(title, d.levels.get(level, 0)) for level, title in levels],
                title=_("%(dimension)s: SMEs per level") % {"dimension": d.title},
                id_prefix=f"levels-{d.dimension}",
                number=number,
                share=share,
            ),
        }
        for d in analysis.dimensions
    }
    gaps = analysis.gaps(limit=len(analysis.dimensions))
    gap_bars = horizontal_bars(
        [Bar(g.title, g.bottom_three, f"{number(g.bottom_three)} ({share(g.bottom_three / analysis.smes)})") for g in gaps],
        title=_("How often each dimension is among an SME's three weakest"),
        id_prefix="gaps",
        maximum=analysis.smes,
        empty=_("no data"),
    )
    demand = {}
    for group, title in DEMAND_GROUPS.items():
        items = [d for d in analysis.demand if d.group == group]
        if items:
            titles = without_common_prefix([d.title for d in items])
            demand[group] = horizontal_bars(
                [Bar(t, d.smes, f"{number(d.smes)} ({share(d.share)})") for t, d in zip(titles, items, strict=True)],
                title=_("%(instruments)s: SMEs they were recommended to") % {"instruments": _(title)},
                id_prefix=f"demand-{group}",
                maximum=analysis.smes,
                empty=_("no data"),
            )
    return {"dimensions": dimensions, "gaps": gap_bars, "demand": demand}


def pillar_titles(questionnaires, lang: str) -> dict[str, str]:
    titles: dict[str, str] = {}
    for q in questionnaires:
        for pillar_id, pillar in q.pillars.items():
            titles.setdefault(pillar_id, pillar.title.get(lang))
    return titles


def page_context(user: CurrentUser, filters: AnalysisFilters, labels: Labels, analysis: Analysis | None, lang: str = "en") -> dict[str, Any]:
    _ = translations(lang).gettext
    return {
        "user": user,
        "filters": filters,
        "sectors": labels.sectors,
        "clusters": list(CLUSTERS.values()),
        # The columns of the table by sector and cluster: an advisor sees one cluster only.
        "shown_clusters": list(CLUSTERS.values()) if user.is_organiser else [CLUSTERS[user.cluster]] if user.cluster in CLUSTERS else [],
        "analysis": analysis,
        "charts": charts_of(analysis, lang) if analysis and analysis.smes else None,
        "bucket_labels": bucket_labels(),
        "levels": labels.levels,
        "query": filters.query(),
        "demand_groups": {group: _(title) for group, title in DEMAND_GROUPS.items()},
    }


@get("/workspace/analysis", guards=[requires_user], include_in_schema=False)
async def analysis_page(request: Request) -> Template:
    user = user_of(request)
    lang = workspace_language(request)
    labels = labels_of(request, lang)
    filters = parse_analysis_filters(request.query_params, labels.sectors, Messages(translator(request)))
    analysis = None
    if not filters.errors:
        async with request.app.state.sessions() as session:
            analysis = await analysis_for(request, session, user, filters, lang)
    return workspace_page(
        request,
        "workspace/analysis.html",
        {**page_context(user, filters, labels, analysis, lang), "pillars": pillar_titles(request.app.state.questionnaires.values(), lang)},
        status_code=400 if filters.errors else 200,
    )


ROUTES = [analysis_page]
