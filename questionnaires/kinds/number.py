"""``number``: a number typed in a box, with an optional unit, range and "whole number"
rule. With ``bands`` it scores the points of the highest band reached ÷ the top band's
points; without, it is not scored."""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence
from functools import partial
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from ..primitives import Text
from .base import (
    NA,
    UNSCORED,
    AnswerCheck,
    BadAnswer,
    Band,
    DefinitionChecks,
    FieldValues,
    FormReading,
    Gettext,
    InputBox,
    Item,
    Kind,
    QuestionBase,
    QuestionOut,
    QuestionScorer,
    Score,
    Widget,
    Words,
    describe_value,
    fmt,
    form_text,
    is_number,
    na_or_typed,
    parse_number,
    pick_ranked,
    plain_words,
    question_out_fields,
    ratio,
)


class Number(QuestionBase, tag="number"):
    unit: Text | None = None
    min: float | None = None
    max: float | None = None
    integer: bool = False
    bands: Annotated[list[Band], Meta(description='Scoring: the points of the highest band the number reaches. Without bands the number is not scored.')] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("`min` is greater than `max`")


class NumberOut(QuestionOut, tag="number"):
    """A number between ``min`` and ``max``."""

    min: float | None = None
    max: float | None = None
    integer: bool = False
    unit: str | None = None


class NumberKind(Kind[Number, Item]):
    statistics = "number"

    def check_definition(self, q: Number, checks: DefinitionChecks) -> None:
        levels = [b.at_least for b in q.bands]
        if levels != sorted(levels) or len(set(levels)) != len(levels):
            checks.error(q, f"question '{q.id}': bands must be listed with 'at_least' rising")
        if q.scoring() and q.bands and max(b.points for b in q.bands) <= 0:
            checks.error(q, f"question '{q.id}' is scored but no band has positive points")

    def unscored_reason(self, q: Number) -> str | None:
        return None if q.bands else "a number needs 'bands' to be scored"

    def value_check(self, q: Number) -> AnswerCheck:
        def check(value: Any) -> float:
            if not is_number(value):
                raise BadAnswer(f"expected a number, got {describe_value(value)}")
            if q.integer and value != int(value):
                raise BadAnswer(f"expected a whole number, got {value}")
            if q.min is not None and value < q.min:
                raise BadAnswer(f"{value:g} is below the minimum {q.min:g}")
            if q.max is not None and value > q.max:
                raise BadAnswer(f"{value:g} is above the maximum {q.max:g}")
            return value  # type: ignore[no-any-return]  # an int or a float, as is_number found

        return check

    def scorer(self, q: Number) -> QuestionScorer | None:
        if not q.bands:
            return None
        thresholds = [b.at_least for b in q.bands]
        band_points = [b.points for b in q.bands]
        top = max(band_points)

        def number(a: Any) -> Score:
            if a is None:
                return 0.0, 0.0
            if a == NA:
                return UNSCORED
            i = bisect_right(thresholds, a) - 1
            p = band_points[i] if i >= 0 else 0.0
            return ratio(p, top), p

        return number

    def can_earn_points(self, q: Number) -> bool:
        return any(b.points > 0 for b in q.bands)

    def draw_uniform(self, q: Number, rng: random.Random, shown: Sequence[Item]) -> float:
        low = q.min if q.min is not None else 0
        high = q.max if q.max is not None else max([low + 100] + [b.at_least * 2 for b in q.bands])
        value = rng.uniform(low, high)
        return int(value) if q.integer else round(value, 2)

    def draw_leaning(self, q: Number, p: float, rng: random.Random, shown: Sequence[Item], texts: Sequence[str]) -> float:
        low = q.min if q.min is not None else 0.0
        high = q.max if q.max is not None else max([low + 100.0] + [b.at_least * 2 for b in q.bands])
        if q.bands:
            band = pick_ranked(sorted(q.bands, key=lambda b: b.points), p, rng)
            above = [b.at_least for b in q.bands if b.at_least > band.at_least]
            low, high = max(low, band.at_least), min(high, min(above) - 1e-6 if above else high)
        value = rng.uniform(low, max(low, high))
        return int(value) if q.integer else round(value, 1)

    def draw_best(self, q: Number, shown: Sequence[Item]) -> float:
        low = q.min if q.min is not None else 0
        high = q.max if q.max is not None else max([low + 100] + [b.at_least * 2 for b in q.bands])
        top = max(q.bands, key=lambda b: b.points).at_least if q.bands else high
        return max(low, min(high, top if not q.integer else int(top)))

    def describe(self, q: Number, value: Any, words: Words) -> list[str]:
        if not is_number(value):
            return [plain_words(value, words)]
        return [words.quantity(value, q.unit.get(words.lang) if q.unit else "")]

    def field_names(self, q: Number, shown: Sequence[Item]) -> list[str]:
        return [q.id, f"{q.id}.na"] if q.allow_na else [q.id]

    def parse(self, q: Number, values: FieldValues, stored: Any, shown: Sequence[Item], _: Gettext) -> FormReading:
        typed = values(q.id)
        text = typed[0].strip() if typed else ""
        if len(typed) > 1:
            return FormReading(error=_("Enter one number."))
        na, adjusted = na_or_typed(q, text, values, stored)
        if na:
            return FormReading(answer=NA, adjusted=adjusted)
        if not text:
            return FormReading(answer=None)
        reading = partial(FormReading, raw=text, adjusted=adjusted)
        number = parse_number(text)
        if number is None:
            return reading(error=_("Enter a number, such as 12 or 12.5."))
        if q.integer and number != int(number):
            return reading(error=_("Enter a whole number, such as 12."))
        if q.min is not None and number < q.min:
            return reading(error=_("Enter a number of %(min)s or more.") % {"min": fmt(q.min)})
        if q.max is not None and number > q.max:
            return reading(error=_("Enter a number of %(max)s or less.") % {"max": fmt(q.max)})
        return reading(answer=int(number) if number == int(number) else number)

    def form_values(self, q: Number, value: Any) -> dict[str, list[str]]:
        if value == NA:
            return {f"{q.id}.na": [NA]}
        return {} if value is None else {q.id: [form_text(value)]}

    def view(self, q: Number, shown: Sequence[Item], lang: str, _: Gettext) -> Widget:
        attributes = [("inputmode", "decimal"), ("step", "1" if q.integer else "any")]
        if q.min is not None:
            attributes.append(("min", fmt(q.min)))
        if q.max is not None:
            attributes.append(("max", fmt(q.max)))
        unit = q.unit.get(lang) if q.unit else ""
        return InputBox("number", tuple(attributes), unit=unit, na_box=q.allow_na, short=True)

    def describe_for_api(self, q: Number, lang: str) -> QuestionOut:
        unit = q.unit.get(lang) if q.unit else None
        return NumberOut(**question_out_fields(q, lang), min=q.min, max=q.max, integer=q.integer, unit=unit)


KIND = NumberKind(Number, NumberOut)
