"""Tables written as CSV or XLSX, for the workspace's downloads.

A value that a spreadsheet would read as a formula (text starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) is written with a leading apostrophe, so that a company
name such as ``=HYPERLINK(...)`` typed into the questionnaire stays text when an advisor opens
the file (CSV/formula injection). A CSV file may be split on another separator than the comma:
Excel splits on ``;`` in Italian, Spanish, Bulgarian and Romanian, so ``Name;=1+2;x`` would
become three cells, the second a formula. So every text cell of a CSV file is quoted (its
separators are then part of it), and within it, whatever follows a separator (``,``, ``;``, a
tab, ``|`` or a line break) and would start a formula gets the apostrophe too, for programs
that split without reading the quotes. Numbers are written as numbers, unquoted.

XLSX cannot hold most control characters (openpyxl refuses them, and the whole file with
them): they are written as U+FFFD, the replacement character.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_AFTER_SEPARATOR = re.compile(r"([,;\t|\r\n][ \t]*)(?=[=+\-@])")
"""A separator a spreadsheet program may split on, and the blanks after it, before a
character that starts a formula."""
_NOT_IN_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""The characters XML 1.0, and so XLSX, cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE)."""
CSV_MEDIA_TYPE = "text/csv"  # Litestar adds the charset, utf-8
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_NAME_MAX = 31  # Excel's limit


def safe_cell(value: Any) -> Any:
    """``value`` as a cell: text that could start a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_csv_text(text: str) -> str:
    """``text`` as a CSV cell holds it: a leading apostrophe where it could start a formula,
    and one after every separator where the piece a split would make could."""
    return safe_cell(_FORMULA_AFTER_SEPARATOR.sub(r"\1'", text))


def _csv_field(value: Any) -> str:
    """One field of a CSV line: numbers bare, every text quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, int):
        return str(value)
    elif isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value == value else ""
    elif isinstance(value, (datetime, date)):
        text = value.isoformat()
    else:
        text = safe_csv_text(str(value))
    return '"' + text.replace('"', '""') + '"'


def _csv_line(values: Iterable[Any]) -> str:
    return ",".join(_csv_field(v) for v in values) + "\r\n"


@dataclass
class Table:
    """A sheet: a name, column headings, and rows of plain values (text, numbers, booleans,
    dates, None)."""

    name: str
    columns: Sequence[str]
    rows: Iterable[Sequence[Any]]


def csv_header(columns: Sequence[str]) -> str:
    """The heading line, after a byte-order mark, so that spreadsheet programs read the UTF-8
    names of Bulgarian and Romanian companies right."""
    return "\ufeff" + _csv_line(columns)


def csv_rows(rows: Iterable[Sequence[Any]]) -> str:
    return "".join(_csv_line(row) for row in rows)


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
    if isinstance(value, str):
        return safe_cell(_NOT_IN_XLSX.sub("\ufffd", value))
    return value


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
            cell = WriteOnlyCell(self.sheet, value=_xlsx_value(column))
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
