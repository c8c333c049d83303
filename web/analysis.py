"""The sector analysis of the workspace: distributions, common gaps and the demand for
instruments and training, per sector and cluster, as SVG charts and tables.

Advisors see their own cluster's shared assessments, organisers all (``visible_assessments``).
The figures are aggregated by the database (``assessment.workspace.analysis``). Counting everything
costs seconds at 100,000 assessments, so each view's counts are kept in memory and brought up
to date by counting only the results added since (``assessment.workspace.analysis.AnalysisCache``,
kept in the app's context).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from litestar import Request, get
from litestar.response import Template

from assessment.workspace.accounts import CurrentUser
from assessment.workspace.analysis import BUCKET, BUCKETS, DEMAND_GROUPS, Analysis, Labels, Scope
from questionnaires.reference import CLUSTERS
from scoring.render.i18n import translations

from .auth import requires_user, user_of, visible_assessments
from .bar_charts import Bar, histogram, horizontal_bars, stacked_share
from .context import AppContext, Context
from .dashboard import ENGLISH, Messages
from .languages import format_count, format_share, translator, workspace_language, workspace_page

_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


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


def viewer_key(user: CurrentUser) -> tuple:
    """Who sees the same rows: ``visible_assessments`` depends on the role and cluster only."""
    return ("organiser",) if user.is_organiser else ("advisor", user.cluster)


async def analysis_for(context: AppContext, user: CurrentUser, filters: AnalysisFilters, lang: str = "en") -> Analysis:
    """The analysis ``user`` may see for ``filters``, its titles in ``lang``."""
    key = (*viewer_key(user), filters.sector, filters.cluster)
    return await context.analyses.get(key, scope_for(user, filters), context.labels(lang), lang)


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
async def analysis_page(request: Request, context: Context) -> Template:
    user = user_of(request)
    lang = workspace_language(request)
    labels = context.labels(lang)
    filters = parse_analysis_filters(request.query_params, labels.sectors, Messages(translator(request)))
    analysis = await analysis_for(context, user, filters, lang) if not filters.errors else None
    return workspace_page(
        request,
        "workspace/analysis.html",
        {**page_context(user, filters, labels, analysis, lang), "pillars": pillar_titles(context.questionnaires.values(), lang)},
        status_code=400 if filters.errors else 200,
    )


ROUTES = [analysis_page]
