"""What every kind of question shares: the keys common to all questions, the options, rows,
scale points and bands some of them hold, and ``Kind``, the interface each kind fills in.

A kind is one module of this package: its msgspec Struct (the YAML keys, tagged by ``kind``)
and its ``Kind``, which holds everything the rest of the code needs to know about it: how the
compiler checks its definition, how an answer is checked, scored, drawn at random and put
into words, how a web form posts it and draws it, and how the JSON API describes it. The
registry, ``questionnaires.kinds``, lists them; nothing else branches on a question's kind.

Everything here is pure: no database, no web framework. The web layer passes the values of
the posted fields and a gettext function in, and takes a ``Widget`` out for its templates.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, ClassVar, Generic, Literal, Protocol, TypeVar

import msgspec
from msgspec import Meta

from ..primitives import Base, Expression, Id, Text, Weight

NA = "na"
"""The answer "don't know / not applicable", where a question offers it (``allow_na``)."""

NO_NA = "this question does not offer \"don't know / not applicable\""

Score = tuple[float | None, float | None]
"""(score in [0, 1] or None, points or None) of one answer."""
UNSCORED: Score = (None, None)
QuestionScorer = Callable[[Any], Score]
"""From an answer (None: visible but unanswered) to its score and points."""
ConditionalScorer = Callable[[Any, Any], Score]
"""From an answer and what the conditions see to its score and points."""
Visible = Callable[[str, Any], bool]
"""Whether the item with this id is shown, given what the conditions see."""
AnswerCheck = Callable[[Any], Any]
"""From an answer to its normalised value; raises ``BadAnswer``."""
Gettext = Callable[[str], str]
FieldValues = Callable[[str], list[str]]
"""The non-empty text values a form posted under a field name."""


# --- The Structs ---------------------------------------------------------------------------


class Option(Base):
    id: Id
    text: Text
    points: Annotated[float, Meta(description='Points for choosing this option. Negative points count against the score.')] = 0.0
    exclusive: Annotated[bool, Meta(description='Ticking it clears every other option ("none of these"); multiple choice only.')] = False
    show_if: Expression | None = None


class Row(Base):
    id: Id
    text: Text
    show_if: Expression | None = None


class ScalePoint(Base):
    value: int
    text: Text


class Band(Base):
    """Points for a number that is at least ``at_least`` (the highest matching band wins)."""

    at_least: float
    points: float


class QuestionBase(Base, tag_field="kind"):
    id: Id
    text: Text
    help: Annotated[Text | None, Meta(description='Short help text: why the question matters.')] = None
    show_if: Expression | None = None
    required: bool = True
    dimension: Annotated[Id | None, Meta(description='The dimension this question scores into (shorthand for `dimensions: {id: weight}`).')] = None
    weight: Weight = 1.0
    dimensions: Annotated[dict[Id, Weight] | None, Meta(description='Several dimensions with a weight each; use instead of `dimension`/`weight`.')] = None
    allow_na: Annotated[bool, Meta(description='Offer "Don\'t know / not applicable", which takes the question out of the denominator.')] = False

    def __post_init__(self) -> None:
        if self.dimension is not None and self.dimensions is not None:
            raise ValueError("give either `dimension` or `dimensions`, not both")

    def scoring(self) -> dict[str, float]:
        """The dimensions this question scores into, with their weights."""
        if self.dimensions is not None:
            return dict(self.dimensions)
        if self.dimension is not None:
            return {self.dimension: self.weight}
        return {}


class Item(Protocol):
    """An option or a matrix row: something of a question with a condition of its own."""

    @property
    def id(self) -> str: ...

    @property
    def show_if(self) -> str | None: ...


Q = TypeVar("Q", bound=QuestionBase)
I = TypeVar("I", bound=Item)  # noqa: E741 - the item type, beside Q for the question
T = TypeVar("T")


# --- What the rest of the code passes in ---------------------------------------------------


class DefinitionChecks(Protocol):
    """What a kind's compile-time checks report to (``questionnaires.checks.Checker``)."""

    def error(self, obj: Any, message: str) -> None: ...

    def unique(self, items: Iterable[Any], what: str) -> dict[str, Any]: ...


class Words(Protocol):
    """The words an answer is described in: plain English for the terminal, one language's
    catalog and Babel's formats for pages and PDFs (``scoring.render.labels.Labels``)."""

    lang: str

    def not_answered(self) -> str: ...

    def not_applicable(self) -> str: ...

    def yes_no(self, value: bool) -> str: ...

    def none_ticked(self) -> str: ...

    def quantity(self, value: float, unit: str) -> str: ...

    def date(self, value: date) -> str: ...


class BadAnswer(Exception):
    """An answer that does not fit its question; ``messages`` say why, in English."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


# --- What the web layer takes out ----------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One radio button or tick box (or a matrix's column, or a row's header)."""

    id: str
    value: str
    text: str
    exclusive: bool = False


@dataclass(frozen=True)
class Choices:
    """A group of radio buttons, or of tick boxes when ``multiple``."""

    choices: tuple[Choice, ...]
    multiple: bool = False
    layout: str = ""
    """A class of the group's box: ``scale`` (one row of points) or ``choices-inline``."""
    name: ClassVar[str] = "choices"

    def exclusive_texts(self) -> list[str]:
        """The texts of the tick boxes that clear the others, which the SME is told about."""
        return [c.text for c in self.choices if c.exclusive] if self.multiple else []

    def first_input_id(self, qid: str) -> str:
        """Where an error summary's link takes the keyboard."""
        return f"f-{qid}-{self.choices[0].id}" if self.choices else f"q-{qid}"


@dataclass(frozen=True)
class Grid:
    """A matrix: a row of radio buttons (or tick boxes) per row, one column per choice."""

    choices: tuple[Choice, ...]
    rows: tuple[Choice, ...]
    multiple: bool = False
    name: ClassVar[str] = "matrix"

    def exclusive_texts(self) -> list[str]:
        """The texts of the tick boxes that clear the others, which the SME is told about."""
        return [c.text for c in self.choices if c.exclusive] if self.multiple else []

    def first_input_id(self, qid: str) -> str:
        """Where an error summary's link takes the keyboard."""
        row = self.rows[0].id if self.rows else ""
        column = self.choices[0].id if self.choices else ""
        return f"f-{qid}-{row}-{column}"


@dataclass(frozen=True)
class InputBox:
    """A box to type into: ``<input type="...">``, or a ``textarea``."""

    type: str
    attributes: tuple[tuple[str, str], ...] = ()
    """Further attributes of the box, in order: ``min``, ``max``, ``step``, ``maxlength``..."""
    unit: str = ""
    na_box: bool = False
    """A "don't know" tick box beside it, posted as the field ``{qid}.na``."""
    short: bool = False
    """A short box, with its unit beside it (a number, a date), rather than a line of text."""
    limit: int | None = None
    """The most characters it takes, told to the SME beside it."""
    name: ClassVar[str] = "input"

    def exclusive_texts(self) -> list[str]:
        """The texts of the tick boxes that clear the others: its "don't know" box is drawn
        apart, and clears the box by being ticked last."""
        return []

    def first_input_id(self, qid: str) -> str:
        """Where an error summary's link takes the keyboard."""
        return f"f-{qid}"


Widget = Choices | Grid | InputBox


@dataclass
class FormReading:
    """What one question's posted fields say."""

    answer: Any = None
    """The answer; None clears it."""
    error: str | None = None
    """What is wrong with the fields, in the SME's language; the answer is then not saved."""
    raw: str | None = None
    """What was typed, to show it again beside its error."""
    adjusted: bool = False
    """The answer differs from what was ticked (an exclusive box cleared the others)."""


# --- What the JSON API describes ----------------------------------------------------------


class ChoiceOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    text: str
    exclusive: bool = False
    show_if: str | None = None
    """An expression over earlier answers: the option is offered only when it holds."""


class ScalePointOut(msgspec.Struct, kw_only=True):
    value: int
    text: str


class RowOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    text: str
    show_if: str | None = None


class QuestionOut(msgspec.Struct, kw_only=True, omit_defaults=True, tag_field="kind"):
    """One question, with what a form needs to ask it; the answer each kind takes is in
    README, "Question kinds"."""

    id: str
    text: str
    help: str | None = None
    required: bool = True
    allow_na: bool = False
    show_if: str | None = None


def question_out_fields(q: QuestionBase, lang: str) -> dict[str, Any]:
    """The fields of ``QuestionOut`` that every kind has, in ``lang``."""
    return {
        "id": q.id,
        "text": q.text.get(lang),
        "help": q.help.get(lang) if q.help is not None else None,
        "required": q.required,
        "allow_na": q.allow_na,
        "show_if": q.show_if,
    }


# --- The interface ------------------------------------------------------------------------


class Kind(Generic[Q, I]):
    """One kind of question: everything the compiler, the engine, the simulations, the web
    forms and the API need to know about it. ``Q`` is its Struct, ``I`` the type of its
    conditional items (options or rows; kinds without them never see one)."""

    statistics: ClassVar[Literal["choices", "matrix", "number"] | None] = None
    """How the library counts its answers: each chosen value, each row's chosen values,
    or the spread of numbers; None to count answers only."""
    optional: ClassVar[bool] = False
    """Its answer is never required, whatever ``required`` says (free text)."""
    takes_na: ClassVar[bool] = True
    """``"na"`` is "don't know"; for free text it is just text."""

    def __init__(self, struct: type[Q], out: type[QuestionOut]) -> None:
        self.struct = struct
        self.out = out

    @property
    def tag(self) -> str:
        """The value of ``kind`` in YAML, in answers' JSON and in the API."""
        return str(self.struct.__struct_config__.tag)

    # The language: what the compiler checks and indexes.

    def check_definition(self, q: Q, checks: DefinitionChecks) -> None:
        """Report what is wrong with the question's own keys (unique options, rising bands)."""

    def unscored_reason(self, q: Q) -> str | None:
        """Why the question can have no score ("free text is never scored"); None if it can."""
        return None

    def answer_values(self, q: Q) -> set[str] | None:
        """The text values an answer can take, where there is a closed set: what an
        expression may compare the answer with."""
        return None

    def member_ids(self, q: Q) -> list[str] | None:
        """The ids of its members (matrix rows), which expressions name as ``q.member``."""
        return None

    def member_values(self, q: Q) -> set[str] | None:
        """The text values one member can take, where there is a closed set."""
        return None

    def options(self, q: Q) -> Sequence[Option]:
        """The options an answer names by id (a matrix's columns), for ``compiled.options``."""
        return ()

    def conditional_items(self, q: Q) -> Sequence[tuple[str, I]]:
        """The items that may have a ``show_if`` of their own: ("option", option) or
        ("row", row) pairs, in the question's order."""
        return ()

    # Answers.

    def value_check(self, q: Q) -> AnswerCheck:
        """A function that checks an answer other than "na" and returns it normalised."""
        raise NotImplementedError

    def answer_check(self, q: Q) -> AnswerCheck:
        """A function that checks any answer to ``q`` and returns it normalised (yes/no as
        booleans); it raises ``BadAnswer`` with every problem it finds."""
        check = self.value_check(q)
        if not self.takes_na:
            return check
        if not q.allow_na:

            def without_na(value: Any) -> Any:
                if value == NA:
                    raise BadAnswer(NO_NA)
                return check(value)

            return without_na

        def with_na(value: Any) -> Any:
            return NA if value == NA else check(value)

        return with_na

    def chosen_items(self, q: Q, value: Any) -> Iterable[tuple[str, str]]:
        """The conditional items a normalised answer chooses: ("option", id) or ("row", id)."""
        return ()

    # Scoring.

    def scorer(self, q: Q) -> QuestionScorer | None:
        """A function from an answer to (score in [0, 1] or None, points or None); None for
        a question that is not scored. None as the answer means "visible but unanswered",
        which scores 0; "na" leaves the question out of the denominator."""
        return None

    def can_earn_points(self, q: Q) -> bool:
        """Whether some answer earns points: a choice whose options all have 0 points only
        feeds recommendations, and has points but no score."""
        return True

    def conditional_scorer(self, q: Q, base: QuestionScorer, visible: Visible) -> ConditionalScorer | None:
        """For a question with conditional items: a scorer of (answer, env) in which hidden
        items leave the maximum, so that every company can reach 100 with what it is
        shown; None where the plain scorer is right."""
        return None

    # Random answers, given the conditional items shown.

    def draw_uniform(self, q: Q, rng: random.Random, shown: Sequence[I]) -> Any:
        """A valid answer drawn uniformly (``recentre check --simulate``); None for none."""
        raise NotImplementedError

    def draw_leaning(self, q: Q, p: float, rng: random.Random, shown: Sequence[I], texts: Sequence[str]) -> Any:
        """A valid answer from a company whose propensity in the question's dimensions is
        ``p`` in [0, 1]: the higher, the better the answer (``recentre seed``). ``texts``
        are what such a company might write in a text box."""
        raise NotImplementedError

    def draw_best(self, q: Q, shown: Sequence[I]) -> Any:
        """The best-scoring answer; None where there is none."""
        return None

    # Answers in words.

    def describe(self, q: Q, value: Any, words: Words) -> list[str]:
        """An answer other than None and "na" in words: one part per ticked option or row."""
        return [plain_words(value, words)]

    # The web form.

    def field_names(self, q: Q, shown: Sequence[I]) -> list[str]:
        """The names of the form fields that post its answer."""
        return [q.id]

    def parse(self, q: Q, values: FieldValues, stored: Any, shown: Sequence[I], _: Gettext) -> FormReading:
        """Read the posted fields. Option ids are passed on unchecked: the answer check
        refuses unknown ones, and its message goes next to the field."""
        raise NotImplementedError

    def form_values(self, q: Q, value: Any) -> dict[str, list[str]]:
        """The fields, by name, that would post ``value``: the inverse of ``parse``, to
        draw the form with the answer in it."""
        if value is None:
            return {}
        if isinstance(value, list):
            return {q.id: [form_text(v) for v in value]}
        return {q.id: [form_text(value)]}

    def view(self, q: Q, shown: Sequence[I], lang: str, _: Gettext) -> Widget:
        """How the form draws the question: a widget the templates know."""
        raise NotImplementedError

    # The JSON API.

    def describe_for_api(self, q: Q, lang: str) -> QuestionOut:
        """The question as the API's ``/questions`` describes it, in ``lang``."""
        return self.out(**question_out_fields(q, lang))


# --- Helpers the kinds share --------------------------------------------------------------


def is_number(value: Any) -> bool:
    """A finite int or float; not a boolean."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


MAX_LISTED = 5
"""Unknown options or rows one answer's problem names, at most; the others are counted."""


def describe_value(value: Any) -> str:
    """A value as an answer's problem message names it."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"'{shown}'"
    if isinstance(value, (int, float)):
        return f"{value:g}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def ratio(points: float, top: float) -> float | None:
    """Points as a share of the maximum, clamped to [0, 1]; None for questions that can
    earn nothing (such as an unscored choice that only feeds recommendations)."""
    if top <= 0:
        return None
    x = points / top
    return 0.0 if x < 0.0 else (1.0 if x > 1.0 else x)


def clamp(x: float, low: float = 0.0, high: float = 1.0) -> float:
    """``x``, or the bound it passes."""
    return low if x < low else high if x > high else x


def pick_ranked(items: Sequence[T], p: float, rng: random.Random) -> T:
    """One of ``items`` (sorted worst to best), near position p of the list."""
    if len(items) == 1:
        return items[0]
    index = round(clamp(rng.gauss(p, 0.18)) * (len(items) - 1))
    return items[index]


def tick(p: float, points: float, rng: random.Random) -> bool:
    """Whether a company of propensity ``p`` ticks a box worth ``points``."""
    if points > 0:
        return rng.random() < clamp(p, 0.04, 0.96)
    if points < 0:
        return rng.random() < 0.3 * (1 - p)
    return rng.random() < 0.25


def fmt(value: float) -> str:
    """A number as a form shows it: 12, 12.5."""
    return f"{value:g}"


def form_text(value: Any) -> str:
    """One value as a form field holds it."""
    return fmt(value) if isinstance(value, float) else str(value)


def plain_words(value: Any, words: Words) -> str:
    """A value in words where nothing better is known of it."""
    if isinstance(value, bool):
        return words.yes_no(value)
    if isinstance(value, list):
        return ", ".join(plain_words(v, words) for v in value) or words.none_ticked()
    if isinstance(value, dict):
        return "; ".join(f"{key}: {plain_words(v, words)}" for key, v in value.items())
    return form_text(value)


def na_choice(_: Gettext) -> Choice:
    """The "don't know / not applicable" choice, which rules out the others."""
    return Choice(NA, NA, _("Don't know / not applicable"), exclusive=True)


def one_choice(values: list[str], _: Gettext) -> FormReading:
    """The reading of a group of radio buttons: one value, "na", or none."""
    if len(values) > 1:
        return FormReading(error=_("Choose one answer."))
    return FormReading(answer=values[0] if values else None)


def as_list(value: Any) -> list[Any]:
    """A stored answer as the list of what was ticked."""
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [value]
    return []


def exclusive_pick(ticked: list[str], exclusive: set[str], before: list[Any]) -> tuple[list[str], bool]:
    """Ticked boxes where an exclusive one ("None of these", "Don't know") rules out the
    rest. The box ticked last wins: if the exclusive one was ticked already, the SME has
    just ticked another, so the exclusive one goes; otherwise it has just been ticked, so
    the others go. Returns the boxes kept and whether that changed what was ticked."""
    chosen = [v for v in ticked if v in exclusive]
    if not chosen or len(ticked) == 1:
        return ticked, False
    already = [v for v in chosen if v in before]
    if already and len(already) == len(chosen):
        return [v for v in ticked if v not in exclusive], True
    return [next(v for v in chosen if v not in before)], True


def ticked_boxes(values: list[str], exclusive: set[str], stored: Any) -> tuple[list[str] | str, bool]:
    """The reading of a group of tick boxes: the ids kept (or "na" alone), and whether an
    exclusive box changed what was ticked."""
    kept, changed = exclusive_pick(list(dict.fromkeys(values)), exclusive, as_list(stored))
    return (NA if kept == [NA] else kept), changed


_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def parse_number(text: str) -> float | None:
    """A number as people type it: a decimal comma is read as a point."""
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    if not _NUMBER.match(text):
        return None
    value = float(text.replace(",", "."))
    return value if math.isfinite(value) else None


def na_or_typed(q: QuestionBase, text: str, values: FieldValues, stored: Any) -> tuple[bool, bool]:
    """For a box beside a "don't know" tick box: whether "don't know" stands, and whether
    the other was dropped. When both were given, the one changed last wins, as with an
    exclusive box."""
    na = q.allow_na and NA in values(f"{q.id}.na")
    if na and text:
        return stored != NA, True
    return na, False
