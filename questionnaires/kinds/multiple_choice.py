"""``multiple_choice``: any number of options, as tick boxes; an ``exclusive`` option ("none
of these") rules out the others. It scores the ticked points ÷ ``max_points``."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from ..diagnostics import did_you_mean
from .base import (
    MAX_LISTED,
    NA,
    UNSCORED,
    AnswerCheck,
    BadAnswer,
    ChoiceOut,
    Choices,
    ConditionalScorer,
    DefinitionChecks,
    FieldValues,
    FormReading,
    Gettext,
    Kind,
    Option,
    QuestionBase,
    QuestionOut,
    QuestionScorer,
    Score,
    Visible,
    Widget,
    Words,
    describe_value,
    na_choice,
    question_out_fields,
    ratio,
    tick,
    ticked_boxes,
)
from .single_choice import choice_outs, option_choice, option_ids, option_words


class MultipleChoice(QuestionBase, tag="multiple_choice"):
    options: Annotated[list[Option], Meta(min_length=1)] = msgspec.field(default_factory=list)
    max_points: Annotated[float | None, Meta(description='The denominator; by default the sum of the positive points of the options.')] = None


class MultipleChoiceOut(QuestionOut, tag="multiple_choice"):
    """A multiple-choice question: a list of its options."""

    options: list[ChoiceOut] = msgspec.field(default_factory=list)


def top_points(options: Iterable[Option]) -> float:
    """The most points the options can earn together: the positive points of those that do
    not rule the others out."""
    return sum(o.points for o in options if o.points > 0 and not o.exclusive)


class MultipleChoiceKind(Kind[MultipleChoice, Option]):
    statistics = "choices"

    def check_definition(self, q: MultipleChoice, checks: DefinitionChecks) -> None:
        checks.unique(q.options, f"option (in question '{q.id}')")
        maximum = q.max_points if q.max_points is not None else top_points(q.options)
        if q.scoring() and maximum <= 0:
            checks.error(q, f"question '{q.id}' is scored but its options can earn no points")

    def answer_values(self, q: MultipleChoice) -> set[str]:
        return option_ids(q.options, q.allow_na)

    def options(self, q: MultipleChoice) -> Sequence[Option]:
        return q.options

    def conditional_items(self, q: MultipleChoice) -> Sequence[tuple[str, Option]]:
        return [("option", o) for o in q.options]

    def value_check(self, q: MultipleChoice) -> AnswerCheck:
        options = {o.id: o for o in q.options}

        def check(value: Any) -> list[str]:
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise BadAnswer(f"expected a list of option ids, got {describe_value(value)}")
            unknown = [v for v in value if v not in options]
            if unknown:
                listed = ", ".join(f"{describe_value(u)}{did_you_mean(u, options)}" for u in unknown[:MAX_LISTED])
                more = f" and {len(unknown) - MAX_LISTED} more" if len(unknown) > MAX_LISTED else ""
                raise BadAnswer("unknown option" + ("s " if len(unknown) > 1 else " ") + listed + more)
            if len(set(value)) != len(value):
                raise BadAnswer("an option is ticked twice")
            exclusive = [v for v in value if options[v].exclusive]
            if exclusive and len(value) > 1:
                raise BadAnswer(f"option '{exclusive[0]}' excludes every other option")
            return list(value)

        return check

    def chosen_items(self, q: MultipleChoice, value: Any) -> Iterable[tuple[str, str]]:
        return [("option", oid) for oid in value] if isinstance(value, list) else ()

    def scorer(self, q: MultipleChoice) -> QuestionScorer:
        points = {o.id: o.points for o in q.options}
        top = q.max_points if q.max_points is not None else top_points(q.options)

        def multiple(a: Any) -> Score:
            if a is None:
                return 0.0, 0.0
            if a == NA:
                return UNSCORED
            p = 0.0
            for oid in a:
                p += points[oid]
            return ratio(p, top), p

        return multiple

    def can_earn_points(self, q: MultipleChoice) -> bool:
        return any(o.points > 0 for o in q.options) and (q.max_points is None or q.max_points > 0)

    def conditional_scorer(self, q: MultipleChoice, base: QuestionScorer, visible: Visible) -> ConditionalScorer | None:
        if q.max_points is not None:
            return None  # the author fixed the denominator

        def multiple(a: Any, env: Any) -> Score:
            s, p = base(a)
            if s is None or not p:
                return s, p
            return ratio(p, top_points([o for o in q.options if visible(o.id, env)])), p

        return multiple

    def draw_uniform(self, q: MultipleChoice, rng: random.Random, shown: Sequence[Option]) -> list[str]:
        exclusive = [o for o in shown if o.exclusive]
        if exclusive and rng.random() < 0.15:
            return [rng.choice(exclusive).id]
        return [o.id for o in shown if not o.exclusive and rng.random() < 0.5]

    def draw_leaning(self, q: MultipleChoice, p: float, rng: random.Random, shown: Sequence[Option], texts: Sequence[str]) -> list[str]:
        exclusive = [o for o in shown if o.exclusive]
        if exclusive and rng.random() < 0.5 * (1 - p) ** 3:
            return [rng.choice(exclusive).id]
        ticked = [o.id for o in shown if not o.exclusive and tick(p, o.points, rng)]
        return ticked or ([exclusive[0].id] if exclusive else [])

    def draw_best(self, q: MultipleChoice, shown: Sequence[Option]) -> list[str]:
        return [o.id for o in shown if not o.exclusive and o.points > 0]

    def describe(self, q: MultipleChoice, value: Any, words: Words) -> list[str]:
        if not isinstance(value, list):
            return [option_words(q.options, value, words)]
        return [option_words(q.options, v, words) for v in value] or [words.none_ticked()]

    def parse(self, q: MultipleChoice, values: FieldValues, stored: Any, shown: Sequence[Option], _: Gettext) -> FormReading:
        exclusive = {o.id for o in q.options if o.exclusive} | ({NA} if q.allow_na else set())
        kept, changed = ticked_boxes(values(q.id), exclusive, stored)
        return FormReading(answer=kept or None, adjusted=changed)

    def view(self, q: MultipleChoice, shown: Sequence[Option], lang: str, _: Gettext) -> Widget:
        choices = [option_choice(o, lang) for o in shown]
        if q.allow_na:
            choices.append(na_choice(_))
        return Choices(tuple(choices), multiple=True)

    def describe_for_api(self, q: MultipleChoice, lang: str) -> QuestionOut:
        return MultipleChoiceOut(**question_out_fields(q, lang), options=choice_outs(q.options, lang))


KIND = MultipleChoiceKind(MultipleChoice, MultipleChoiceOut)
