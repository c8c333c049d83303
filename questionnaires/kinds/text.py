"""``text``: free text, on one line or several. It is never scored and never required."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Annotated, Any

from msgspec import Meta

from .base import (
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
    question_out_fields,
)

SAMPLES = ("", "Our main challenge is <energy> & 'costs'.", "n/a")
"""What a uniform draw writes: nothing, markup to escape, and text that looks like "na"."""


class FreeText(QuestionBase, tag="text"):
    """Free text. It is never scored."""

    multiline: bool = False
    max_length: Annotated[int, Meta(ge=1, le=10000)] = 2000


class FreeTextOut(QuestionOut, tag="text"):
    """Free text of at most ``max_length`` characters."""

    multiline: bool = False
    max_length: int | None = None


class FreeTextKind(Kind[FreeText, Item]):
    optional = True
    takes_na = False

    def unscored_reason(self, q: FreeText) -> str:
        return "free text is never scored"

    def value_check(self, q: FreeText) -> AnswerCheck:
        def check(value: Any) -> str:
            if not isinstance(value, str):
                raise BadAnswer(f"expected text, got {describe_value(value)}")
            if len(value) > q.max_length:
                raise BadAnswer(f"the text is {len(value)} characters long; the limit is {q.max_length}")
            return value

        return check

    def draw_uniform(self, q: FreeText, rng: random.Random, shown: Sequence[Item]) -> str:
        return rng.choice(SAMPLES)

    def draw_leaning(self, q: FreeText, p: float, rng: random.Random, shown: Sequence[Item], texts: Sequence[str]) -> str | None:
        return rng.choice(texts) if texts and rng.random() < 0.3 else None

    def describe(self, q: FreeText, value: Any, words: Words) -> list[str]:
        return [str(value)]

    def parse(self, q: FreeText, values: FieldValues, stored: Any, shown: Sequence[Item], _: Gettext) -> FormReading:
        typed = values(q.id)
        text = (typed[0] if typed else "").replace("\r\n", "\n")
        if len(typed) > 1:
            return FormReading(error=_("Send one text only."))
        if len(text) > q.max_length:
            error = _("Shorten the text to %(limit)s characters or fewer; it has %(length)s.") % {"limit": q.max_length, "length": len(text)}
            return FormReading(error=error, raw=text)
        return FormReading(answer=text if text.strip() else None)

    def view(self, q: FreeText, shown: Sequence[Item], lang: str, _: Gettext) -> Widget:
        limit = ("maxlength", str(q.max_length))
        if q.multiline:
            return InputBox("textarea", (("rows", "4"), limit), limit=q.max_length)
        return InputBox("text", (limit,), limit=q.max_length)

    def describe_for_api(self, q: FreeText, lang: str) -> QuestionOut:
        return FreeTextOut(**question_out_fields(q, lang), multiline=q.multiline, max_length=q.max_length)


KIND = FreeTextKind(FreeText, FreeTextOut)
