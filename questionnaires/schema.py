"""The questionnaire language: the shape of every YAML file, as msgspec Structs.

Three kinds of file exist, told apart by their ``kind`` key:

* ``questionnaire``: a questionnaire an SME answers, either written out in full or
  ``extends``-ing a base questionnaire (a sector variant);
* ``module``: sections, questions, dimensions or recommendations that questionnaires include;
* ``catalog``: the support instruments (vouchers, training) recommendations link to.

These Structs describe the files exactly as written. ``questionnaires.compile`` resolves
includes and variants and checks everything that spans more than one field.
``recentre schema`` turns them into the JSON Schema committed as ``questionnaires/schema.json``.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from .reference import LANGUAGES, CompanySize, InstrumentKind, LanguageCode

PillarId = Literal["digital", "green", "resilience"]

Id = Annotated[
    str,
    Meta(
        pattern=r"^[a-z][a-z0-9_]*$",
        max_length=64,
        description="Lower-case letters, digits and underscores, starting with a letter.",
    ),
]
Expression = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=2000,
        description="An expression in the recentre expression language (see README).",
    ),
]
Weight = Annotated[float, Meta(ge=0, description="A relative weight; 0 switches the item off.")]
Score100 = Annotated[float, Meta(ge=0, le=100)]


class Text(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Text in several languages. ``en`` is required; the others fall back to it."""

    en: Annotated[str, Meta(min_length=1)]
    bg: str | None = None
    it: str | None = None
    es: str | None = None
    ro: str | None = None

    def get(self, lang: str) -> str:
        return getattr(self, lang, None) or self.en

    def missing(self) -> list[str]:
        return [lang for lang in LANGUAGES if not getattr(self, lang)]


class Base(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    pass


# --- Questions ---------------------------------------------------------------------------


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
        if self.dimensions is not None:
            return dict(self.dimensions)
        if self.dimension is not None:
            return {self.dimension: self.weight}
        return {}


class SingleChoice(QuestionBase, tag="single_choice"):
    options: Annotated[list[Option], Meta(min_length=2)] = msgspec.field(default_factory=list)


class MultipleChoice(QuestionBase, tag="multiple_choice"):
    options: Annotated[list[Option], Meta(min_length=1)] = msgspec.field(default_factory=list)
    max_points: Annotated[float | None, Meta(description='The denominator; by default the sum of the positive points of the options.')] = None


class Scale(QuestionBase, tag="scale"):
    min: int = 0
    max: int = 5
    labels: list[ScalePoint] = msgspec.field(default_factory=list)


class Matrix(QuestionBase, tag="matrix"):
    """Rows that share one scale, one option set, or a set of tick columns."""

    rows: Annotated[list[Row], Meta(min_length=1)] = msgspec.field(default_factory=list)
    scale: Annotated[Annotated[list[ScalePoint], Meta(min_length=2)] | None, Meta(description='A numeric scale, such as 0 = Not used ... 5 = Operational; scores mean / max.')] = None
    columns: Annotated[Annotated[list[Option], Meta(min_length=1)] | None, Meta(description='An option set with points, such as No (0) / Partially (0.5) / Yes (1).')] = None
    multiple: Annotated[bool, Meta(description='With `columns`: each row is a set of tick boxes (for example "already invested" and "plan to invest"), scored as the row\'s ticked points over the row\'s maximum.')] = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if (self.scale is None) == (self.columns is None):
            raise ValueError("a matrix needs exactly one of `scale` or `columns`")
        if self.multiple and self.columns is None:
            raise ValueError("`multiple: true` needs `columns`")


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


class YesNo(QuestionBase, tag="yes_no"):
    yes_points: float = 1.0
    no_points: float = 0.0


class FreeText(QuestionBase, tag="text"):
    """Free text. It is never scored."""

    multiline: bool = False
    max_length: Annotated[int, Meta(ge=1, le=10000)] = 2000


Question = SingleChoice | MultipleChoice | Scale | Matrix | Number | YesNo | FreeText


class Section(Base):
    """One page of the questionnaire."""

    id: Id
    title: Text
    intro: Text | None = None
    show_if: Expression | None = None
    include: Annotated[list[str], Meta(description='Module files whose `questions` are placed at the start of this section.')] = msgspec.field(default_factory=list)
    questions: list[Question] = msgspec.field(default_factory=list)


# --- Scoring model -----------------------------------------------------------------------


class Pillar(Base):
    id: PillarId
    title: Text
    weight: Weight = 1.0


class Dimension(Base):
    id: Id
    title: Text
    pillar: PillarId
    weight: Annotated[Weight, Meta(description="The dimension's weight within its pillar.")] = 1.0
    description: Text | None = None
    formula: Annotated[Expression | None, Meta(description='A computed score (0-100) for dimensions whose formula is not the weighted mean of their questions.')] = None


class Level(Base):
    """A named maturity band. A score belongs to the last level whose ``from`` it reaches."""

    id: Id
    title: Text
    from_: Annotated[Score100, Meta(title="from")] = msgspec.field(name="from")
    description: Annotated[Text | None, Meta(description='What this level means for a dimension.')] = None
    next_step: Annotated[Text | None, Meta(description='What reaching the next level looks like.')] = None


class Archetype(Base):
    id: Id
    title: Text
    description: Text | None = None


class ArchetypeMatrix(Base):
    """Places a company in a grid by two pillar scores; ``grid`` rows run from low ``y`` to
    high ``y``, and each row from low ``x`` to high ``x``."""

    x: PillarId = "digital"
    y: PillarId = "green"
    x_cuts: list[Score100] = msgspec.field(default_factory=lambda: [50.0])
    y_cuts: list[Score100] = msgspec.field(default_factory=lambda: [50.0])
    grid: list[list[Id]] = msgspec.field(default_factory=list)
    archetypes: list[Archetype] = msgspec.field(default_factory=list)


class Eligibility(Base):
    """Who a recommendation or instrument is for; an empty list means everyone."""

    sizes: list[CompanySize] = msgspec.field(default_factory=list)
    sectors: list[Id] = msgspec.field(default_factory=list)
    clusters: list[Id] = msgspec.field(default_factory=list)
    countries: list[Annotated[str, Meta(pattern=r"^[A-Z]{2}$")]] = msgspec.field(
        default_factory=list
    )
    note: Text | None = None


class Recommendation(Base):
    id: Id
    title: Text
    when: Expression
    rationale: Annotated[Text, Meta(description='Why it is recommended; `{dimension.data}`-style placeholders take values.')]
    priority: Annotated[Annotated[int, Meta(ge=1, le=100)], Meta(description='Higher comes first.')] = 50
    next_step: Text | None = None
    instruments: list[Id] = msgspec.field(default_factory=list)
    training: list[Id] = msgspec.field(default_factory=list)
    eligibility: Eligibility | None = None
    cross_sector: Annotated[Text | None, Meta(description='A hint at partners from another sector, such as IT companies for a furniture maker.')] = None


# --- Embedded test cases -----------------------------------------------------------------


class Company(Base):
    size: CompanySize = "small"
    sector: Id = "furniture"
    country: Annotated[str, Meta(pattern=r"^[A-Z]{2}$")] = "IT"
    cluster: Id = "did"


class Expectation(Base):
    dimensions: dict[Id, Score100] = msgspec.field(default_factory=dict)
    pillars: dict[Id, Score100] = msgspec.field(default_factory=dict)
    overall: Score100 | None = None
    levels: Annotated[dict[Id, Id], Meta(description='Level per dimension id; the key `overall` is the overall level.')] = msgspec.field(default_factory=dict)
    archetype: Id | None = None
    recommendations: Annotated[list[Id], Meta(description='Recommendations that must be present.')] = msgspec.field(default_factory=list)
    not_recommendations: Annotated[list[Id], Meta(description='Recommendations that must be absent.')] = msgspec.field(default_factory=list)
    tolerance: Annotated[float, Meta(ge=0)] = 0.5


AnswerValue = str | int | float | bool | list[str] | dict[str, "str | int | float | list[str]"]


class TestCase(Base):
    name: str
    company: Company = msgspec.field(default_factory=Company)
    answers: dict[Id, AnswerValue] = msgspec.field(default_factory=dict)
    expect: Expectation = msgspec.field(default_factory=Expectation)


# --- Sector variants ---------------------------------------------------------------------


class AddQuestions(Base):
    section: Id
    after: Annotated[Id | None, Meta(description='Insert after this question; by default at the end of the section.')] = None
    questions: list[Question] = msgspec.field(default_factory=list)


class AddSections(Base):
    after: Annotated[Id | None, Meta(description='Insert after this section; by default at the end.')] = None
    sections: list[Section] = msgspec.field(default_factory=list)


class Changes(Base):
    """How a sector variant differs from its base questionnaire."""

    add_sections: list[AddSections] = msgspec.field(default_factory=list)
    add_questions: list[AddQuestions] = msgspec.field(default_factory=list)
    replace_questions: Annotated[list[Question], Meta(description="Questions that take the place of the base's question with the same id.")] = msgspec.field(default_factory=list)
    remove_questions: list[Id] = msgspec.field(default_factory=list)
    remove_sections: list[Id] = msgspec.field(default_factory=list)
    question_weights: dict[Id, Weight] = msgspec.field(default_factory=dict)
    dimension_weights: dict[Id, Weight] = msgspec.field(default_factory=dict)
    pillar_weights: dict[Id, Weight] = msgspec.field(default_factory=dict)
    add_recommendations: list[Recommendation] = msgspec.field(default_factory=list)
    remove_recommendations: list[Id] = msgspec.field(default_factory=list)


# --- Files -------------------------------------------------------------------------------


class QuestionnaireFile(Base, tag="questionnaire", tag_field="kind"):
    id: Id
    version: Annotated[str, Meta(min_length=1, max_length=40)]
    title: Text
    description: Text | None = None
    sectors: list[Id] = msgspec.field(default_factory=list)
    languages: list[LanguageCode] = msgspec.field(default_factory=lambda: ["en"])
    estimated_minutes: Annotated[int, Meta(ge=1, le=240)] | None = None
    extends: Annotated[str | None, Meta(description='A base questionnaire file (relative path) that this sector variant changes.')] = None
    changes: Changes | None = None
    catalog: Annotated[str | None, Meta(description='The catalog file (relative path) of instruments and training topics.')] = None
    include: Annotated[list[str], Meta(description='Module files whose sections, dimensions and recommendations come first.')] = msgspec.field(default_factory=list)
    sections: list[Section] = msgspec.field(default_factory=list)
    pillars: list[Pillar] = msgspec.field(default_factory=list)
    dimensions: list[Dimension] = msgspec.field(default_factory=list)
    levels: list[Level] = msgspec.field(default_factory=list)
    archetypes: ArchetypeMatrix | None = None
    recommendations: list[Recommendation] = msgspec.field(default_factory=list)
    tests: list[TestCase] = msgspec.field(default_factory=list)


class ModuleFile(Base, tag="module", tag_field="kind"):
    id: Id
    title: Text | None = None
    sections: list[Section] = msgspec.field(default_factory=list)
    questions: list[Question] = msgspec.field(default_factory=list)
    dimensions: list[Dimension] = msgspec.field(default_factory=list)
    recommendations: list[Recommendation] = msgspec.field(default_factory=list)


class Instrument(Base):
    id: Id
    kind: InstrumentKind
    title: Text
    description: Text
    eligibility: Eligibility | None = None
    url: str | None = None


class TrainingTopic(Base):
    id: Id
    title: Text
    description: Text | None = None


class CatalogFile(Base, tag="catalog", tag_field="kind"):
    id: Id
    instruments: list[Instrument] = msgspec.field(default_factory=list)
    training_topics: list[TrainingTopic] = msgspec.field(default_factory=list)


SourceFile = QuestionnaireFile | ModuleFile | CatalogFile
