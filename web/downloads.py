"""Downloads of the workspace: the sector analysis and the list of assessments, as CSV and
XLSX, with a sheet in the EDIH DMA's terms (company, DMA score and band, the six dimension scores),
and the sector report as a PDF in the reader's workspace language.

What a download holds is what its page shows the same person: ``visible_assessments`` picks
the rows and ``contact_columns`` blanks the contact details of SMEs that did not agree to
share them. Long lists are read in chunks of ``CHUNK`` rows by assessment id, each in a short
session (on SQLite the app has one connection, which a long read would hold), and written
as they come: CSV streamed to the browser, XLSX built in a worker thread. These handlers
therefore take the app's context, not a session of the request.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import anyio
from litestar import Request, get
from litestar.response import Response, Stream
from sqlalchemy import Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from assessment.store.models import Assessment, Result
from assessment.workspace.analysis import ANALYSIS_PARTS, DMA_COLUMNS, dma_cells, dma_columns, dma_row, dma_statement, with_a_dma
from assessment.workspace.exports import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, XlsxBook, csv_header, csv_lines, csv_rows
from assessment.workspace.sector_report import SectorReportDetails, render_sector_report
from questionnaires.reference import CLUSTERS

from . import dashboard
from .analysis import analysis_for, parse_analysis_filters, scope_for
from .auth import contact_columns, requires_user, user_of
from .context import Context
from .failures import failure_text
from .languages import translator, workspace_language

log = logging.getLogger(__name__)

CHUNK = 2000


def attachment(name: str) -> dict[str, str]:
    # Names are built here from known ids only, so they need no quoting beyond the quotes.
    # (No cache keeps them: the workspace's router says so, web/app.py.)
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def file_name(stem: str, parts: Sequence[str], extension: str) -> str:
    day = datetime.now(UTC).date().isoformat()
    return "-".join(["recentre", stem, *[p for p in parts if p], day]) + f".{extension}"


def messages(request: Request) -> dashboard.Messages:
    """Refusals in the reader's language. The CSV and XLSX files keep English column
    headings, for the tools they are passed on to; the sector report (a PDF for people) is
    in the reader's language."""
    return dashboard.Messages(translator(request))


def refused(message: str) -> Response:
    return Response(content=message + "\n", status_code=400, media_type="text/plain")


async def in_chunks(
    sessions: async_sessionmaker[AsyncSession], statement: Select, size: int = CHUNK
) -> AsyncIterator[Sequence[Sequence[Any]]]:
    """The rows of ``statement`` (whose first column is ``Assessment.id`` and which is
    ordered by it), ``size`` at a time, each chunk read in a session of its own: a streamed
    file is written after its handler has returned, and between chunks the connection goes
    back to the pool (SQLite's only one) while a worker thread writes the rows."""
    last = 0
    while True:
        async with sessions() as session:
            rows = (await session.execute(statement.where(Assessment.id > last).limit(size))).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


class DownloadCut(Exception):
    """A streamed download that failed once its first lines were sent: the browser gets a
    file cut short, and the server's log the error, said as ``web.failures`` says it."""


async def csv_stream(columns: Sequence[str], chunks: AsyncIterator[Sequence[Sequence[Any]]], shape: Callable = list) -> AsyncIterator[str]:
    try:
        yield csv_header(columns)
        async for rows in chunks:
            yield csv_rows(shape(r) for r in rows)
    except Exception as exc:
        # Past the handler, the error would reach uvicorn's log whole, with the values a
        # database error quotes.
        log.error("a CSV download failed after it started\n%s", failure_text(exc))
        raise DownloadCut("a CSV download was cut short; its error is logged above") from None


async def add_chunks(book: XlsxBook, chunks: AsyncIterator[Sequence[Sequence[Any]]], shape: Callable = list) -> None:
    async for rows in chunks:
        await anyio.to_thread.run_sync(book.add_rows, [shape(r) for r in rows])


# --- The sector analysis ------------------------------------------------------------------


@get("/workspace/analysis.csv", guards=[requires_user], include_in_schema=False)
async def analysis_csv(request: Request, context: Context) -> Response | Stream:
    user = user_of(request)
    say = messages(request)
    filters = parse_analysis_filters(request.query_params, context.labels().sectors, say)
    part = str(request.query_params.get("part") or "dimensions")
    if filters.errors:
        return refused("; ".join(filters.errors.values()))
    if part not in (*ANALYSIS_PARTS, "dma"):
        return refused(say.unknown("part", [*ANALYSIS_PARTS, "dma"]))
    name = file_name(f"analysis-{part}", [filters.sector, filters.cluster], "csv")
    if part == "dma":
        chunks = in_chunks(context.sessions, dma_statement(scope_for(user, filters)))
        return Stream(csv_stream(DMA_COLUMNS, chunks, dma_row), media_type=CSV_MEDIA_TYPE, headers=attachment(name))
    table = ANALYSIS_PARTS[part](await analysis_for(context, user, filters))
    return Response(content="".join(csv_lines(table.columns, table.rows)), media_type=CSV_MEDIA_TYPE, headers=attachment(name))


@get("/workspace/analysis.xlsx", guards=[requires_user], include_in_schema=False)
async def analysis_xlsx(request: Request, context: Context) -> Response:
    user = user_of(request)
    filters = parse_analysis_filters(request.query_params, context.labels().sectors, messages(request))
    if filters.errors:
        return refused("; ".join(filters.errors.values()))
    analysis = await analysis_for(context, user, filters)
    book = XlsxBook()
    for make in ANALYSIS_PARTS.values():
        await anyio.to_thread.run_sync(book.add_table, make(analysis))
    book.add_sheet("EDIH DMA", DMA_COLUMNS)
    await add_chunks(book, in_chunks(context.sessions, dma_statement(scope_for(user, filters))), dma_row)
    content = await anyio.to_thread.run_sync(book.to_bytes)
    name = file_name("analysis", [filters.sector, filters.cluster], "xlsx")
    return Response(content=content, media_type=XLSX_MEDIA_TYPE, headers=attachment(name))


@get("/workspace/analysis.pdf", guards=[requires_user], include_in_schema=False)
async def analysis_pdf(request: Request, context: Context) -> Response:
    user = user_of(request)
    filters = parse_analysis_filters(request.query_params, context.labels().sectors, messages(request))
    if filters.errors:
        return refused("; ".join(filters.errors.values()))
    # In the language of the analysis page it is downloaded from, titles and all.
    lang = workspace_language(request)
    analysis = await analysis_for(context, user, filters, lang)
    shown_cluster = filters.cluster or ("" if user.is_organiser else user.cluster)
    details = SectorReportDetails(
        created=datetime.now(UTC).date(),
        sector=filters.sector,
        cluster=shown_cluster if shown_cluster in CLUSTERS else "",
        shared_only=not user.is_organiser,
        language=lang,
    )
    content = await anyio.to_thread.run_sync(render_sector_report, analysis, details)
    name = file_name("sector-report", [filters.sector, filters.cluster], "pdf")
    return Response(content=content, media_type="application/pdf", headers=attachment(name))


# --- The list of assessments --------------------------------------------------------------

# (heading, column) of the list download, in order; the DMA scores follow.
LIST = [
    ("Assessment", Assessment.id),
    ("Company", Assessment.company_name),
    ("Cluster", Assessment.cluster),
    ("Sector", Assessment.sector),
    ("Country", Assessment.country),
    ("Size", Assessment.size),
    ("Status", Assessment.status),
    ("Started (UTC)", Assessment.created_at),
    ("Submitted (UTC)", Assessment.submitted_at),
    ("RE-CENTRE index", Result.overall),
    ("RE-CENTRE level", Result.overall_level),
    ("Archetype", Result.archetype),
    ("Digital", Result.digital),
    ("Green", Result.green),
    ("Resilience", Result.resilience),
    ("Shares with advisors", Assessment.share_with_advisors),
]
LIST_COLUMNS = [heading for heading, _ in LIST] + ["Contact name", "Contact email", *DMA_COLUMNS[-8:]]


def list_statement(request: Request, filters: dashboard.Filters) -> Select:
    """The dashboard's list with its filters, every row (not one page), by assessment id."""
    user = user_of(request)
    # The list page's own conditions, so that the download holds what the page lists.
    where, _ = dashboard._conditions(user, filters)
    columns = [column for _, column in LIST] + [*contact_columns(user), *dma_columns()]
    current = and_(Result.assessment_id == Assessment.id, Result.current.is_(True))
    # An outer join keeps the drafts; a level or archetype filter drops them in WHERE.
    return select(*columns).select_from(Assessment).outerjoin(Result, current).where(*where).order_by(Assessment.id)


def list_row(row: Any) -> list[Any]:
    """A row of ``list_statement`` as LIST_COLUMNS: the list's columns, the contact details
    (NULL unless shared) and the DMA score, its band and the six scores."""
    return [*row[: len(LIST) + 2], *dma_cells(row)]


def list_filters(request: Request) -> dashboard.Filters:
    return dashboard.parse_filters(request.query_params, messages(request))


@get("/workspace/assessments.csv", guards=[requires_user], include_in_schema=False)
async def assessments_csv(request: Request, context: Context) -> Response | Stream:
    filters = list_filters(request)
    if filters.errors:
        return refused("; ".join(filters.errors.values()))
    chunks = in_chunks(context.sessions, list_statement(request, filters))
    name = file_name("assessments", [filters.cluster, filters.sector], "csv")
    return Stream(csv_stream(LIST_COLUMNS, chunks, list_row), media_type=CSV_MEDIA_TYPE, headers=attachment(name))


@get("/workspace/assessments.xlsx", guards=[requires_user], include_in_schema=False)
async def assessments_xlsx(request: Request, context: Context) -> Response:
    filters = list_filters(request)
    if filters.errors:
        return refused("; ".join(filters.errors.values()))
    statement = list_statement(request, filters)
    book = XlsxBook()
    book.add_sheet("Assessments", LIST_COLUMNS)
    await add_chunks(book, in_chunks(context.sessions, statement), list_row)
    book.add_sheet("EDIH DMA", DMA_COLUMNS)
    await add_chunks(book, in_chunks(context.sessions, statement.where(Assessment.status == "submitted", with_a_dma())), dma_row)
    content = await anyio.to_thread.run_sync(book.to_bytes)
    name = file_name("assessments", [filters.cluster, filters.sector], "xlsx")
    return Response(content=content, media_type=XLSX_MEDIA_TYPE, headers=attachment(name))


ROUTES = [analysis_csv, analysis_xlsx, analysis_pdf, assessments_csv, assessments_xlsx]
