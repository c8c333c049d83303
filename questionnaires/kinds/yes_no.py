"""``yes_no``: true or false, as two radio buttons. It scores its points ÷ the larger of
``yes_points`` and ``no_points``."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from .base import (
    NA,
    UNSCORED,
    AnswerCheck,
    BadAnswer,
    Choice,
    Choices,
    FieldValues,
    FormReading,
    Gettext,
    Item,
    Kind,
    QuestionBase,
    QuestionOut,
    QuestionScorer,
    Score,
    Widget,
    describe_value,
    na_choice,
    one_choice,
    ratio,
)

_FORM = {"yes": True, "no": False}


class YesNo(QuestionBase, tag="yes_no"):
    yes_points: float = 1.0
    no_points: float = 0.0


class YesNoOut(QuestionOut, tag="yes_no"):
    """A yes/no question: true or false."""


class YesNoKind(Kind[YesNo, Item]):
    statistics = "choices"

    def value_check(self, q: YesNo) -> AnswerCheck:
        def check(value: Any) -> bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value in _FORM:
                return _FORM[value]
            raise BadAnswer(f"expected yes or no, got {describe_value(value)}")

        return check

    def scorer(self, q: YesNo) -> QuestionScorer:
        top = max(q.yes_points, q.no_points)
        table: dict[Any, Score] = {True: (ratio(q.yes_points, top), q.yes_points), False: (ratio(q.no_points, top), q.no_points)}
        table[None] = (0.0, 0.0)
        table[NA] = UNSCORED
        return table.__getitem__

    def can_earn_points(self, q: YesNo) -> bool:
        return max(q.yes_points, q.no_points) > 0

    def draw_uniform(self, q: YesNo, rng: random.Random, shown: Sequence[Item]) -> bool:
        return rng.random() < 0.5

    def draw_leaning(self, q: YesNo, p: float, rng: random.Random, shown: Sequence[Item], texts: Sequence[str]) -> bool:
        return (rng.random() < p) == self.draw_best(q, shown)

    def draw_best(self, q: YesNo, shown: Sequence[Item]) -> bool:
        return q.yes_points >= q.no_points

    def parse(self, q: YesNo, values: FieldValues, stored: Any, shown: Sequence[Item], _: Gettext) -> FormReading:
        reading = one_choice(values(q.id), _)
        reading.answer = _FORM.get(reading.answer, reading.answer)
        return reading

    def form_values(self, q: YesNo, value: Any) -> dict[str, list[str]]:
        if isinstance(value, bool):
            return {q.id: ["yes" if value else "no"]}
        return super().form_values(q, value)

    def view(self, q: YesNo, shown: Sequence[Item], lang: str, _: Gettext) -> Widget:
        choices = [Choice("yes", "yes", _("Yes")), Choice("no", "no", _("No"))]
        if q.allow_na:
            choices.append(na_choice(_))
        return Choices(tuple(choices), layout="choices-inline")


KIND = YesNoKind(YesNo, YesNoOut)
