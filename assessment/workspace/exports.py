"""Tables written as CSV or XLSX, for the workspace's downloads.

A value that a spreadsheet would read as a formula (text starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) is written with a leading apostrophe, so that a company
name such as ``=HYPERLINK(...)`` typed into the questionnaire stays text when an advisor opens
the file (CSV/formula injection). Numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_MEDIA_TYPE = "text/csv"  # Litestar adds the charset, utf-8
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_NAME_MAX = 31  # Excel's limit


def safe_cell(value: Any) -> Any:
    """``value`` as a cell: text that could start a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value == value else ""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return safe_cell(str(value))


@dataclass
class Table:
    """A sheet: a name, column headings, and rows of plain values (text, numbers, booleans,
    dates, None)."""

    name: str
    columns: Sequence[str]
    rows: Iterable[Sequence[Any]]


class _Line:
    """A file-like object that hands back what csv.writer wrote."""

    def __init__(self) -> None:
        self.value = ""

    def write(self, text: str) -> None:
        self.value += text


def _writer() -> tuple[_Line, Any]:
    line = _Line()
    return line, csv.writer(line, lineterminator="\r\n")


def csv_header(columns: Sequence[str]) -> str:
    """The heading line, after a byte-order mark, so that spreadsheet programs read the UTF-8
    names of Bulgarian and Romanian companies right."""
    line, writer = _writer()
    writer.writerow([safe_cell(c) for c in columns])
    return "\ufeff" + line.value


def csv_rows(rows: Iterable[Sequence[Any]]) -> str:
    line, writer = _writer()
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
    return line.value


def csv_lines(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The CSV text, the heading and then a line at a time."""
    yield csv_header(columns)
    for row in rows:
        yield csv_rows([row])


def csv_text(table: Table) -> str:
    return "".join(csv_lines(table.columns, table.rows))


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, datetime):
        # Excel has no time zones: written in UTC, as the column heading says.
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, float) and value != value:
        return None
    return safe_cell(value)


class XlsxBook:
    """A workbook written sheet by sheet and row by row (openpyxl's write-only mode), so
    that a long list never sits in memory as cells."""

    def __init__(self) -> None:
        from openpyxl import Workbook

        self.book = Workbook(write_only=True)
        self.sheet: Any | None = None
        """The sheet rows go to (openpyxl's, untyped), once ``add_sheet`` has made one."""

    def add_sheet(self, name: str, columns: Sequence[str]) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        self.sheet = self.book.create_sheet(title=name[:SHEET_NAME_MAX])
        self.sheet.freeze_panes = "A2"
        header = []
        for column in columns:
            cell = WriteOnlyCell(self.sheet, value=safe_cell(column))
            cell.font = Font(bold=True)
            header.append(cell)
        self.sheet.append(header)

    def add_rows(self, rows: Iterable[Sequence[Any]]) -> None:
        if self.sheet is None:
            raise RuntimeError("XlsxBook.add_rows: no sheet to add rows to; add_sheet makes one")
        for row in rows:
            self.sheet.append([_xlsx_value(v) for v in row])

    def add_table(self, table: Table) -> None:
        self.add_sheet(table.name, table.columns)
        self.add_rows(table.rows)

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        self.book.save(out)
        return out.getvalue()


def xlsx_bytes(tables: Iterable[Table]) -> bytes:
    book = XlsxBook()
    for table in tables:
        book.add_table(table)
    return book.to_bytes()
