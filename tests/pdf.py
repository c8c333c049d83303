"""PDFs read back as text with poppler's pdftotext (apt-get install poppler-utils), and
phrases looked for in that text."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from scoring.render import report
from tests.environment import missing


def poppler(tool: str) -> str:
    """The path of a poppler-utils tool; skips on a developer's machine without it, fails in CI."""
    path = shutil.which(tool)
    if path is None:
        missing(f"poppler-utils' {tool} is not installed (apt-get install poppler-utils)")
    return path


def pdf_text(pdf: bytes, tmp_path: Path, body_only: bool = False) -> str:
    """The PDF's text; ``body_only`` leaves out the page headers and footers, so that a table
    row broken across two pages reads as one."""
    source = tmp_path / "report.pdf"
    source.write_bytes(pdf)
    crop = []
    if body_only:
        top = round(report.MARGIN_TOP - 2 * report.mm)
        crop = ["-x", "0", "-y", str(top), "-W", "600", "-H", str(round(report.PAGE_HEIGHT - top - report.MARGIN_BOTTOM + 2 * report.mm))]
    args = [poppler("pdftotext"), "-enc", "UTF-8", *crop, str(source), "-"]
    return subprocess.run(args, capture_output=True, check=True).stdout.decode("utf-8")


def one_line(text: str) -> str:
    """pdftotext's text with line breaks and runs of spaces made single spaces, so that
    sentences wrapped over lines can be searched for."""
    return re.sub(r"\s+", " ", text)


def reads_in(phrase: str, text: str) -> bool:
    """Whether the words of ``phrase`` come in ``text`` in order, maybe with other words
    between them: a table row broken across two pages interleaves its cells."""
    position = 0
    for word in phrase.split():
        position = text.find(word, position)
        if position < 0:
            return False
        position += len(word)
    return True
