"""``date``: a calendar date, answered as ``YYYY-MM-DD`` between an optional ``min`` and
``max``. It is never scored; conditions and rules can compare it with a date written as
text, since ISO dates sort as text does (``founded < '2020-01-01'``)."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from datetime import date, timedelta
from functools import partial
from typing import Annotated, Any

from msgspec import Meta

from .base import (
    NA,
    AnswerCheck,
    BadAnswer,
    FieldValues,
    FormReading,
    Gettext,
    InputBox,
    Item,
    Kind,
    QuestionBase,
    QuestionOut,
    Widget,
    Words,
    describe_value,
    na_or_typed,
    plain_words,
    question_out_fields,
)

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
_SPAN = timedelta(days=3652)
"""How far random dates reach from a bound, when the question gives only one (or none)."""


class Date(QuestionBase, tag="date"):
    """A date. It is never scored."""

    min: Annotated[date | None, Meta(description="The earliest date accepted, as YYYY-MM-DD.")] = None
    max: Annotated[date | None, Meta(description="The latest date accepted, as YYYY-MM-DD.")] = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("`min` is after `max`")


class DateOut(QuestionOut, tag="date"):
    """A date, as YYYY-MM-DD, between ``min`` and ``max``."""

    min: date | None = None
    max: date | None = None


def read_date(value: Any) -> date | None:
    """A date written as YYYY-MM-DD; None for anything else (2026-02-30 included)."""
    if not isinstance(value, str) or not _ISO.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


class DateKind(Kind[Date, Item]):
    def unscored_reason(self, q: Date) -> str:
        return "a date is never scored"

    def value_check(self, q: Date) -> AnswerCheck:
        def check(value: Any) -> str:
            day = read_date(value)
            if day is None:
                raise BadAnswer(f"expected a date as YYYY-MM-DD, got {describe_value(value)}")
            if q.min is not None and day < q.min:
                raise BadAnswer(f"{value} is before the earliest date {q.min.isoformat()}")
            if q.max is not None and day > q.max:
                raise BadAnswer(f"{value} is after the latest date {q.max.isoformat()}")
            return value  # type: ignore[no-any-return]  # a str, as read_date found

        return check

    def draw_uniform(self, q: Date, rng: random.Random, shown: Sequence[Item]) -> str:
        low = q.min or (q.max - _SPAN if q.max is not None else date(2000, 1, 1))
        high = q.max or low + _SPAN
        return (low + timedelta(days=rng.randint(0, (high - low).days))).isoformat()

    def draw_leaning(self, q: Date, p: float, rng: random.Random, shown: Sequence[Item], texts: Sequence[str]) -> str:
        return self.draw_uniform(q, rng, shown)  # no date is better than another

    def describe(self, q: Date, value: Any, words: Words) -> list[str]:
        day = read_date(value)
        return [words.date(day) if day is not None else plain_words(value, words)]

    def field_names(self, q: Date, shown: Sequence[Item]) -> list[str]:
        return [q.id, f"{q.id}.na"] if q.allow_na else [q.id]

    def parse(self, q: Date, values: FieldValues, stored: Any, shown: Sequence[Item], _: Gettext) -> FormReading:
        typed = values(q.id)
        text = typed[0].strip() if typed else ""
        if len(typed) > 1:
            return FormReading(error=_("Enter one date."))
        na, adjusted = na_or_typed(q, text, values, stored)
        if na:
            return FormReading(answer=NA, adjusted=adjusted)
        if not text:
            return FormReading(answer=None)
        reading = partial(FormReading, raw=text, adjusted=adjusted)
        day = read_date(text)
        if day is None:
            return reading(error=_("Enter a date as year-month-day, such as 2026-03-31."))
        if q.min is not None and day < q.min:
            return reading(error=_("Enter a date on or after %(min)s.") % {"min": q.min.isoformat()})
        if q.max is not None and day > q.max:
            return reading(error=_("Enter a date on or before %(max)s.") % {"max": q.max.isoformat()})
        return reading(answer=text)

    def form_values(self, q: Date, value: Any) -> dict[str, list[str]]:
        if value == NA:
            return {f"{q.id}.na": [NA]}
        return {} if value is None else {q.id: [str(value)]}

    def view(self, q: Date, shown: Sequence[Item], lang: str, _: Gettext) -> Widget:
        bounds = [(name, day.isoformat()) for name, day in (("min", q.min), ("max", q.max)) if day is not None]
        return InputBox("date", tuple(bounds), na_box=q.allow_na, short=True)

    def describe_for_api(self, q: Date, lang: str) -> QuestionOut:
        return DateOut(**question_out_fields(q, lang), min=q.min, max=q.max)


KIND = DateKind(Date, DateOut)
