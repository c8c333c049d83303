"""Problems found in questionnaire files, each with the place it was found."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import msgspec


class Location(msgspec.Struct, frozen=True):
    file: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Diagnostic(msgspec.Struct, frozen=True):
    location: Location
    severity: Literal["error", "warning"]
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.severity}: {self.message}"


class QuestionnaireError(Exception):
    """Raised when a questionnaire cannot be compiled; carries every problem found."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        super().__init__("\n".join(str(d) for d in diagnostics))


class Diagnostics:
    """Collects problems as compilation goes on, so that one run reports all of them."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def error(self, location: Location, message: str) -> None:
        self.items.append(Diagnostic(location, "error", message))

    def warning(self, location: Location, message: str) -> None:
        self.items.append(Diagnostic(location, "warning", message))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "warning"]


MAX_SUGGESTED_NAME = 64
"""The longest name a suggestion is looked for: ids are at most this long, and comparing a
name costs time in proportion to its length times each candidate's."""


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """A suggestion suffix for an unknown name, or the empty string (always for a name longer
    than MAX_SUGGESTED_NAME, which no id is)."""
    import difflib

    if len(name) > MAX_SUGGESTED_NAME:
        return ""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
