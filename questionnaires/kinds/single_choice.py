"""``single_choice``: one option of several, as radio buttons. It scores the option's points
÷ the highest option's points."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from ..diagnostics import did_you_mean
from .base import (
    NA,
    UNSCORED,
    AnswerCheck,
    BadAnswer,
    Choice,
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
    one_choice,
    pick_ranked,
    plain_words,
    question_out_fields,
    ratio,
)


class SingleChoice(QuestionBase, tag="single_choice"):
    options: Annotated[list[Option], Meta(min_length=2)] = msgspec.field(default_factory=list)


class SingleChoiceOut(QuestionOut, tag="single_choice"):
    """A single-choice question: one of its options."""

    options: list[ChoiceOut] = msgspec.field(default_factory=list)


def choice_outs(options: Iterable[Option], lang: str) -> list[ChoiceOut]:
    """Options as the API describes them, in ``lang``."""
    return [ChoiceOut(id=o.id, text=o.text.get(lang), exclusive=o.exclusive, show_if=o.show_if) for o in options]


def option_ids(options: Iterable[Option], allow_na: bool) -> set[str]:
    """What an answer that names one option can be."""
    return {o.id for o in options} | ({NA} if allow_na else set())


def option_choice(o: Option, lang: str) -> Choice:
    """An option as a radio button or tick box."""
    return Choice(o.id, o.id, o.text.get(lang), o.exclusive)


def option_words(options: Sequence[Option], value: Any, words: Words) -> str:
    """An option id as its text; any other value as it is."""
    for o in options:
        if o.id == value:
            return o.text.get(words.lang)
    return plain_words(value, words)


class SingleChoiceKind(Kind[SingleChoice, Option]):
    statistics = "choices"

    def check_definition(self, q: SingleChoice, checks: DefinitionChecks) -> None:
        checks.unique(q.options, f"option (in question '{q.id}')")
        if any(o.exclusive for o in q.options):
            checks.error(q, f"question '{q.id}': 'exclusive' applies to multiple choice only")
        if q.scoring() and max(o.points for o in q.options) <= 0:
            checks.error(q, f"question '{q.id}' is scored but no option has positive points")

    def answer_values(self, q: SingleChoice) -> set[str]:
        return option_ids(q.options, q.allow_na)

    def options(self, q: SingleChoice) -> Sequence[Option]:
        return q.options

    def conditional_items(self, q: SingleChoice) -> Sequence[tuple[str, Option]]:
        return [("option", o) for o in q.options]

    def value_check(self, q: SingleChoice) -> AnswerCheck:
        options = {o.id: o for o in q.options}

        def check(value: Any) -> str:
            if not isinstance(value, str):
                raise BadAnswer(f"expected an option id, got {describe_value(value)}")
            if value not in options:
                raise BadAnswer(f"unknown option {describe_value(value)}{did_you_mean(value, options)}")
            return value

        return check

    def chosen_items(self, q: SingleChoice, value: Any) -> Iterable[tuple[str, str]]:
        return () if value == NA else (("option", value),)

    def scorer(self, q: SingleChoice) -> QuestionScorer:
        top = max(o.points for o in q.options)
        table: dict[Any, Score] = {o.id: (ratio(o.points, top), o.points) for o in q.options}
        table[None] = (0.0, 0.0)
        table[NA] = UNSCORED
        return table.__getitem__

    def can_earn_points(self, q: SingleChoice) -> bool:
        return any(o.points > 0 for o in q.options)

    def conditional_scorer(self, q: SingleChoice, base: QuestionScorer, visible: Visible) -> ConditionalScorer:
        def single(a: Any, env: Any) -> Score:
            s, p = base(a)
            if s is None or p is None or not p:
                return s, p
            top = max(o.points for o in q.options if visible(o.id, env))
            return ratio(p, top), p

        return single

    def draw_uniform(self, q: SingleChoice, rng: random.Random, shown: Sequence[Option]) -> str | None:
        return rng.choice(shown).id if shown else None

    def draw_leaning(self, q: SingleChoice, p: float, rng: random.Random, shown: Sequence[Option], texts: Sequence[str]) -> str | None:
        ranked = sorted(shown, key=lambda o: o.points)
        return pick_ranked(ranked, p, rng).id if ranked else None

    def draw_best(self, q: SingleChoice, shown: Sequence[Option]) -> str | None:
        return max(shown, key=lambda o: o.points).id if shown else None

    def describe(self, q: SingleChoice, value: Any, words: Words) -> list[str]:
        return [option_words(q.options, value, words)]

    def parse(self, q: SingleChoice, values: FieldValues, stored: Any, shown: Sequence[Option], _: Gettext) -> FormReading:
        return one_choice(values(q.id), _)

    def view(self, q: SingleChoice, shown: Sequence[Option], lang: str, _: Gettext) -> Widget:
        choices = [option_choice(o, lang) for o in shown]
        if q.allow_na:
            choices.append(na_choice(_))
        return Choices(tuple(choices))

    def describe_for_api(self, q: SingleChoice, lang: str) -> QuestionOut:
        return SingleChoiceOut(**question_out_fields(q, lang), options=choice_outs(q.options, lang))


KIND = SingleChoiceKind(SingleChoice, SingleChoiceOut)
