"""The kinds of question, as data: one module per kind (its Struct and its ``Kind``), and
this registry of them, in the manner of pyxform's table of question types.

Everything that differs from one kind to another (the compiler's checks, the answer check,
the scorer, the random answers, the words, the web form and the API's description) is a
method of the kind's ``Kind``; the rest of the code looks the kind up with ``kind_of`` and
never branches on it. Adding a kind is one new module and one line below (see README,
"Adding a question kind").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Union

from . import date, matrix, multiple_choice, number, scale, single_choice, text, yes_no
from .base import NA, Kind, QuestionBase, QuestionOut, Words

KINDS: tuple[Kind[Any, Any], ...] = (
    single_choice.KIND,
    multiple_choice.KIND,
    scale.KIND,
    matrix.KIND,
    number.KIND,
    yes_no.KIND,
    text.KIND,
    date.KIND,
)
"""Every kind, in the order the JSON Schema and the README list them."""

TAGS = tuple(kind.tag for kind in KINDS)
"""The values of a question's ``kind`` key."""

_BY_STRUCT: dict[type[QuestionBase], Kind[Any, Any]] = {kind.struct: kind for kind in KINDS}

if TYPE_CHECKING:
    Question = QuestionBase
    KindOut = QuestionOut
else:
    # Real unions at run time, which msgspec decodes by the `kind` tag.
    Question = Union[tuple(kind.struct for kind in KINDS)]  # noqa: UP007
    KindOut = Union[tuple(kind.out for kind in KINDS)]  # noqa: UP007


def kind_of(question: QuestionBase) -> Kind[Any, Any]:
    """The ``Kind`` of a question."""
    return _BY_STRUCT[type(question)]


def answer_required(question: QuestionBase) -> bool:
    """Whether the question must be answered before the assessment is submitted."""
    return question.required and not kind_of(question).optional


def describe_answer(question: QuestionBase, value: Any, words: Words) -> list[str]:
    """An answer in words, one part per ticked option or matrix row."""
    if value is None:
        return [words.not_answered()]
    if value == NA:
        return [words.not_applicable()]
    return kind_of(question).describe(question, value, words)


__all__ = ["KINDS", "NA", "TAGS", "Kind", "KindOut", "Question", "answer_required", "describe_answer", "kind_of"]
