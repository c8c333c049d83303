"""What text typed by a person may hold before it is stored or looked for: no control
characters. None belongs in a name, an address or a search; PostgreSQL refuses NUL outright
(a 500 where it reached a query), and XLSX cannot hold most of the others. Notes, which run
over several lines, may hold line breaks and tabs."""

from __future__ import annotations

import re

_ONE_LINE = re.compile(r"[\x00-\x1f\x7f]")
_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_characters(text: str, *, multiline: bool = False) -> bool:
    """Whether ``text`` holds a control character: any of C0 and DEL, or with ``multiline``
    any but tab, line feed and carriage return."""
    return (_LINES if multiline else _ONE_LINE).search(text) is not None
