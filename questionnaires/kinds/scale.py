"""``scale``: a whole number from ``min`` to ``max``, as a row of radio buttons, some of
them labelled. It scores (value − min) ÷ (max − min)."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any

import msgspec

from .base import (
    NA,
    UNSCORED,
    AnswerCheck,
    BadAnswer,
    Choice,
    Choices,
    DefinitionChecks,
    FieldValues,
    FormReading,
    Gettext,
    Item,
    Kind,
    QuestionBase,
    QuestionOut,
    QuestionScorer,
    ScalePoint,
    ScalePointOut,
    Score,
    Widget,
    clamp,
    describe_value,
    is_number,
    na_choice,
    one_choice,
    question_out_fields,
)


class Scale(QuestionBase, tag="scale"):
    min: int = 0
    max: int = 5
    labels: list[ScalePoint] = msgspec.field(default_factory=list)


class ScaleOut(QuestionOut, tag="scale"):
    """A scale: one whole number of ``scale``."""

    scale: list[ScalePointOut] = msgspec.field(default_factory=list)


_WHOLE = re.compile(r"-?\d{1,9}")


class ScaleKind(Kind[Scale, Item]):
    statistics = "choices"

    def check_definition(self, q: Scale, checks: DefinitionChecks) -> None:
        if q.min >= q.max:
            checks.error(q, f"question '{q.id}': 'min' must be below 'max'")
        for point in q.labels:
            if not q.min <= point.value <= q.max:
                checks.error(point, f"label value {point.value} is outside {q.min}..{q.max}")

    def value_check(self, q: Scale) -> AnswerCheck:
        def check(value: Any) -> int:
            if not is_number(value) or value != int(value):
                raise BadAnswer(f"expected a whole number from {q.min} to {q.max}, got {describe_value(value)}")
            if not q.min <= value <= q.max:
                raise BadAnswer(f"{value} is outside the scale {q.min}..{q.max}")
            return int(value)

        return check

    def scorer(self, q: Scale) -> QuestionScorer:
        span = q.max - q.min
        table: dict[Any, Score] = {v: ((v - q.min) / span, float(v)) for v in range(q.min, q.max + 1)}
        table[None] = (0.0, 0.0)
        table[NA] = UNSCORED
        return table.__getitem__

    def draw_uniform(self, q: Scale, rng: random.Random, shown: Sequence[Item]) -> int:
        return rng.randint(q.min, q.max)

    def draw_leaning(self, q: Scale, p: float, rng: random.Random, shown: Sequence[Item], texts: Sequence[str]) -> int:
        return q.min + round(clamp(rng.gauss(p, 0.18)) * (q.max - q.min))

    def draw_best(self, q: Scale, shown: Sequence[Item]) -> int:
        return q.max

    def parse(self, q: Scale, values: FieldValues, stored: Any, shown: Sequence[Item], _: Gettext) -> FormReading:
        reading = one_choice(values(q.id), _)
        value = reading.answer
        if isinstance(value, str) and _WHOLE.fullmatch(value):
            reading.answer = int(value)  # anything else stays text, and the answer check names it
        return reading

    def view(self, q: Scale, shown: Sequence[Item], lang: str, _: Gettext) -> Widget:
        labels = {p.value: p.text.get(lang) for p in q.labels}
        choices = [Choice(str(v), str(v), f"{v}: {labels[v]}" if v in labels else str(v)) for v in range(q.min, q.max + 1)]
        if q.allow_na:
            choices.append(na_choice(_))
        return Choices(tuple(choices), layout="scale")

    def describe_for_api(self, q: Scale, lang: str) -> QuestionOut:
        labels = {p.value: p.text.get(lang) for p in q.labels}
        points = [ScalePointOut(value=v, text=labels.get(v, str(v))) for v in range(q.min, q.max + 1)]
        return ScaleOut(**question_out_fields(q, lang), scale=points)


KIND = ScaleKind(Scale, ScaleOut)
