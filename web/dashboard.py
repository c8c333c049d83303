"""The workspace's list of assessments: filters, sorting and pages, all done in SQL with
bound parameters. One handler serves the whole page, or only the results when htmx asks."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from gettext import NullTranslations
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.response import Template
from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from assessment.store.inputs import has_control_characters
from assessment.store.models import STATUSES, Assessment, Result, company_key
from assessment.workspace.accounts import CurrentUser
from questionnaires.messages import N_
from questionnaires.reference import CLUSTERS, SIZES, cluster_name
from scoring.render.labels import sector_name

from .auth import requires_user, user_of, visible_assessments
from .context import Context, ReadSession
from .languages import translator, workspace_language, workspace_page

PAGE_SIZE = 25
MAX_PAGE = 100_000
"""Further than any real list goes; a larger page number is a mistake or a probe: 400."""
MAX_SEARCH = 100
SORTS = {"date": N_("Date started"), "company": N_("Company"), "score": N_("Overall score")}
ORDERS = ("asc", "desc")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")


@dataclass
class Filters:
    """What the list shows, as the query string says; empty strings mean "any"."""

    q: str = ""
    cluster: str = ""
    sector: str = ""
    country: str = ""
    size: str = ""
    status: str = ""
    level: str = ""
    archetype: str = ""
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "date"
    order: str = ""
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def descending(self) -> bool:
        # Newest and best first; companies A to Z.
        return (self.order or ("asc" if self.sort == "company" else "desc")) == "desc"

    def query(self, **changes: Any) -> dict[str, str]:
        """The query string of these filters, with ``changes`` (for links to pages and sorts)."""
        values = {
            "q": self.q,
            "cluster": self.cluster,
            "sector": self.sector,
            "country": self.country,
            "size": self.size,
            "status": self.status,
            "level": self.level,
            "archetype": self.archetype,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "sort": self.sort,
            "order": self.order,
            "page": str(self.page),
        }
        values.update({k: str(v) for k, v in changes.items()})
        return {k: v for k, v in values.items() if v and not (k == "page" and v == "1") and not (k == "sort" and v == "date")}


class Messages:
    """The filters' refusals in one language; each names the query parameter, as written."""

    def __init__(self, t: NullTranslations):
        self.t = t

    def unknown(self, name: str, allowed) -> str:
        return self.t.gettext("%(name)s: unknown value; use one of %(values)s") % {"name": name, "values": ", ".join(allowed)}

    def not_identifier(self, name: str) -> str:
        return self.t.gettext("%(name)s: not an identifier (lower-case letters, digits and _)") % {"name": name}

    def not_date(self, name: str) -> str:
        return self.t.gettext("%(name)s: not a date; write it as YYYY-MM-DD") % {"name": name}

    def too_long(self, name: str, limit: int) -> str:
        return self.t.ngettext("%(name)s: at most %(count)d character", "%(name)s: at most %(count)d characters", limit) % {"name": name, "count": limit}

    def not_country(self, name: str) -> str:
        return self.t.gettext("%(name)s: a two-letter code such as IT") % {"name": name}

    def control_characters(self, name: str) -> str:
        return self.t.gettext("%(name)s: remove the control characters (such as tabs or line breaks)") % {"name": name}

    def not_page(self, name: str, last: int) -> str:
        return self.t.gettext("%(name)s: a number from 1 to %(last)d") % {"name": name, "last": last}


ENGLISH = Messages(NullTranslations())


def _choice(value: str, allowed, name: str, errors: dict[str, str], say: Messages) -> str:
    if value and value not in allowed:
        errors[name] = say.unknown(name, allowed)
        return ""
    return value


def _identifier(value: str, name: str, errors: dict[str, str], say: Messages) -> str:
    if value and not _ID.match(value):
        errors[name] = say.not_identifier(name)
        return ""
    return value


def _date(value: str, name: str, errors: dict[str, str], say: Messages) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = say.not_date(name)
        return None


def parse_filters(params: Mapping[str, str], say: Messages = ENGLISH) -> Filters:
    """Filters from a query string. Each bad value is left out and named in ``errors``, in
    the language of ``say``."""
    errors: dict[str, str] = {}
    get_ = lambda name: str(params.get(name) or "").strip()  # noqa: E731
    q = get_("q")
    if len(q) > MAX_SEARCH:
        errors["q"] = say.too_long("q", MAX_SEARCH)
        q = ""
    elif has_control_characters(q):
        errors["q"] = say.control_characters("q")
        q = ""
    country = get_("country")
    if country and not _COUNTRY.match(country):
        errors["country"] = say.not_country("country")
        country = ""
    page_text = get_("page") or "1"
    page = int(page_text) if page_text.isdigit() and len(page_text) <= 7 else 0
    if not 1 <= page <= MAX_PAGE:
        errors["page"] = say.not_page("page", MAX_PAGE)
        page = 1
    filters = Filters(
        q=q,
        cluster=_choice(get_("cluster"), CLUSTERS, "cluster", errors, say),
        sector=_identifier(get_("sector"), "sector", errors, say),
        country=country.upper(),
        size=_choice(get_("size"), SIZES, "size", errors, say),
        status=_choice(get_("status"), STATUSES, "status", errors, say),
        level=_identifier(get_("level"), "level", errors, say),
        archetype=_identifier(get_("archetype"), "archetype", errors, say),
        date_from=_date(get_("from"), "from", errors, say),
        date_to=_date(get_("to"), "to", errors, say),
        sort=_choice(get_("sort"), tuple(SORTS), "sort", errors, say) or "date",
        order=_choice(get_("order"), ORDERS, "order", errors, say),
        page=page,
        errors=errors,
    )
    return filters


# --- Queries -----------------------------------------------------------------------------


def _like_pattern(text: str) -> str:
    """``text`` found anywhere, with LIKE's own wildcards taken literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _conditions(user: CurrentUser, f: Filters) -> tuple[list, bool]:
    """The WHERE conditions, and whether they read the current result (level, archetype)."""
    where = [visible_assessments(user)]
    for column, value in (
        (Assessment.cluster, f.cluster),
        (Assessment.sector, f.sector),
        (Assessment.country, f.country),
        (Assessment.size, f.size),
        (Assessment.status, f.status),
    ):
        if value:
            where.append(column == value)
    if f.q:
        where.append(func.lower(Assessment.company_name).like(_like_pattern(f.q), escape="\\"))
    if f.date_from:
        where.append(Assessment.created_at >= _start_of(f.date_from))
    if f.date_to and f.date_to < date.max:  # every assessment is started before the last day there is
        where.append(Assessment.created_at < _start_of(f.date_to + timedelta(days=1)))
    if f.level:
        where.append(Result.overall_level == f.level)
    if f.archetype:
        where.append(Result.archetype == f.archetype)
    return where, bool(f.level or f.archetype)


_CURRENT = and_(Result.assessment_id == Assessment.id, Result.current.is_(True))


def _joined(statement: Select, inner: bool) -> Select:
    """``statement`` over assessments with their current result: an inner join when a filter
    needs one (then the database may start from the result's indexes), else an outer join
    that keeps the drafts."""
    return statement.join(Result, _CURRENT) if inner else statement.outerjoin(Result, _CURRENT)


@dataclass
class Row:
    id: int
    company_name: str | None
    cluster: str
    sector: str
    country: str | None
    size: str | None
    status: str
    created_at: datetime
    submitted_at: datetime | None
    overall: float | None
    overall_level: str | None
    archetype: str | None
    dma: float | None


ROW_COLUMNS = [getattr(Assessment, f.name) for f in fields(Row)[:9]] + [Result.overall, Result.overall_level, Result.archetype, Result.dma]


def _rows(inner: bool) -> Select:
    return _joined(select(*ROW_COLUMNS).select_from(Assessment), inner)


def _order_by(f: Filters) -> list:
    # The orders match the indexes (created_at never is NULL), so that a page is read
    # through an index instead of sorting every row.
    desc = f.descending
    if f.sort == "company":
        name = func.lower(Assessment.company_name)
        key = name.desc().nulls_first() if desc else name.asc().nulls_last()
    else:
        key = Assessment.created_at.desc() if desc else Assessment.created_at.asc()
    return [key, Assessment.id.desc() if desc else Assessment.id.asc()]


async def count_assessments(session: AsyncSession, user: CurrentUser, f: Filters) -> int:
    where, inner = _conditions(user, f)
    statement = select(func.count()).select_from(Assessment)
    if inner:
        statement = _joined(statement, inner=True)
    return await session.scalar(statement.where(*where)) or 0


async def count_companies(session: AsyncSession, user: CurrentUser, f: Filters) -> int:
    """How many companies the assessments ``count_assessments`` counts belong to: a company
    assessed at T0 and T1 is one (``company_key``)."""
    where, inner = _conditions(user, f)
    statement = select(func.count(func.distinct(company_key()))).select_from(Assessment)
    if inner:
        statement = _joined(statement, inner=True)
    return await session.scalar(statement.where(*where)) or 0


async def list_assessments(session: AsyncSession, user: CurrentUser, f: Filters, total: int) -> list[Row]:
    """One page of the assessments ``count_assessments`` counted (``total``)."""
    where, inner = _conditions(user, f)
    if f.sort == "score":
        return await _by_score(session, f, where, inner, total)
    statement = _rows(inner).where(*where).order_by(*_order_by(f)).limit(PAGE_SIZE).offset((f.page - 1) * PAGE_SIZE)
    return [Row(*row) for row in await session.execute(statement)]


async def _count_unscored(session: AsyncSession, where: list, inner: bool) -> int:
    # Only drafts have no current result (submitting stores one, re-scoring replaces it),
    # and a result without an overall score is rare: both counts read a few index entries,
    # where counting the scored ones would join every result to its assessment.
    drafts: int | None = 0
    if not inner:
        drafts = await session.scalar(select(func.count()).select_from(Assessment).where(*where, Assessment.status == "draft"))
    blank = await session.scalar(_joined(select(func.count()).select_from(Assessment), inner=True).where(*where, Result.overall.is_(None)))
    return (drafts or 0) + (blank or 0)


async def _by_score(session: AsyncSession, f: Filters, where: list, inner: bool, total: int) -> list[Row]:
    """The scored assessments by overall score, then those without a score (drafts).

    Two queries rather than one: sorted by a column of the outer join's inner side, the
    database would join and sort every row; the first reads one page through the index on
    (current, overall), and the second runs only on the pages past the scored ones.
    """
    offset = (f.page - 1) * PAGE_SIZE
    n_scored = total - await _count_unscored(session, where, inner)
    rows: list[Row] = []
    if offset < n_scored:
        order = (Result.overall.desc(), Result.id.desc()) if f.descending else (Result.overall.asc(), Result.id.asc())
        statement = _rows(inner=True).where(*where, Result.overall.is_not(None)).order_by(*order).limit(PAGE_SIZE).offset(offset)
        rows = [Row(*row) for row in await session.execute(statement)]
    if len(rows) < PAGE_SIZE and total > n_scored:
        statement = (
            _rows(inner)
            .where(*where, Result.overall.is_(None))
            .order_by(Assessment.id.desc() if f.descending else Assessment.id.asc())
            .limit(PAGE_SIZE - len(rows))
            .offset(max(0, offset - n_scored))
        )
        rows += [Row(*row) for row in await session.execute(statement)]
    return rows


# --- The page ----------------------------------------------------------------------------


def filter_choices(questionnaires: Mapping, lang: str, _: Callable[[str], str]) -> dict[str, list[tuple[str, str]]]:
    """Values offered in the filter form, from the offered questionnaires, in ``lang``."""
    sectors: dict[str, str] = {}
    levels: dict[str, str] = {}
    archetypes: dict[str, str] = {}
    for q in questionnaires.values():
        for sector in q.meta.sectors:
            sectors.setdefault(sector, sector_name(sector, lang))
        for level in q.levels:
            levels.setdefault(level.id, level.title.get(lang))
        if q.archetypes:
            for archetype in q.archetypes.archetypes:
                archetypes.setdefault(archetype.id, archetype.title.get(lang))
    return {
        "cluster": [(c, cluster_name(c)) for c in CLUSTERS],
        "sector": sorted(sectors.items()),
        "size": [(s, _(size.name)) for s, size in SIZES.items()],
        "status": [(s, _(name)) for s, name in STATUSES.items()],
        "level": list(levels.items()),
        "archetype": list(archetypes.items()),
        "sort": [(s, _(name)) for s, name in SORTS.items()],
    }


def wants_fragment(request: Request) -> bool:
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-target") == "results"


@get("/workspace", guards=[requires_user], include_in_schema=False)
async def dashboard(request: Request, context: Context, session: ReadSession) -> Template:
    user = user_of(request)
    lang = workspace_language(request)
    t = translator(request)
    filters = parse_filters(request.query_params, Messages(t))
    rows: list[Row] = []
    total = companies = 0
    if not filters.errors:
        total = await count_assessments(session, user, filters)
        companies = await count_companies(session, user, filters) if total else 0
        if (filters.page - 1) * PAGE_SIZE < total:
            rows = await list_assessments(session, user, filters, total)
    pages = max(1, -(-total // PAGE_SIZE))
    choices = filter_choices(context.questionnaires, lang, t.gettext)
    shown = {
        "user": user,
        "filters": filters,
        "rows": rows,
        "total": total,
        "companies": companies,
        "pages": pages,
        "choices": choices,
        "labels": labels(context.questionnaires, lang),
        # After an erasure (web/review.py): how many went.
        "erased": int(erased) if (erased := request.query_params.get("erased", "")).isdigit() and len(erased) < 6 else 0,
    }
    if wants_fragment(request):
        # htmx swaps nothing on a 4xx, and the person would not see why the list did not
        # change: the fragment says it with a 200. Without htmx the page is a 400.
        # The address bar shows the filters in use, not every empty field of the form.
        clean = "/workspace" + (f"?{urlencode(filters.query())}" if filters.query() else "")
        return workspace_page(request, "workspace/_results.html", shown, headers={"HX-Push-Url": clean})
    return workspace_page(request, "workspace/dashboard.html", shown, status_code=400 if filters.errors else 200)


def labels(questionnaires: Mapping, lang: str = "en") -> dict[str, str]:
    """Titles in ``lang`` for the level and archetype ids stored in results."""
    out: dict[str, str] = {}
    for q in questionnaires.values():
        for level in q.levels:
            out.setdefault(f"level:{level.id}", level.title.get(lang))
        if q.archetypes:
            for archetype in q.archetypes.archetypes:
                out.setdefault(f"archetype:{archetype.id}", archetype.title.get(lang))
    return out


ROUTES = [dashboard]
