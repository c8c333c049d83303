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

from .kinds import Question as Question

# The questions' Structs live with their kinds (questionnaires.kinds); the plain kinds are
# named here too, for code that builds or asserts one kind of question by hand.
from .kinds.matrix import Matrix as Matrix
from .kinds.multiple_choice import MultipleChoice as MultipleChoice
from .kinds.number import Number as Number
from .kinds.scale import Scale as Scale
from .kinds.single_choice import SingleChoice as SingleChoice
from .kinds.text import FreeText as FreeText
from .kinds.yes_no import YesNo as YesNo
from .primitives import Base, Expression, Id, Weight
from .primitives import Text as Text
from .reference import CompanySize, InstrumentKind, LanguageCode

PillarId = Literal["digital", "green", "resilience"]

Score100 = Annotated[float, Meta(ge=0, le=100)]


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


class DmaDimensions(Base):
    """Which of the questionnaire's dimensions are the six dimensions of the EU Digital
    Maturity Assessment (EDIH DMA): each key is a DMA dimension, each value the id of the
    dimension that measures it. With it, results show the DMA score and its band."""

    digital_business_strategy: Id
    digital_readiness: Id
    human_centric_digitalisation: Id
    data_management: Id
    automation_ai: Id
    green_digitalisation: Id


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
    dma: Annotated[Score100 | None, Meta(description='The EU DMA score: the plain mean of the six DMA dimensions.')] = None
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
    dma: Annotated[DmaDimensions | None, Meta(description="The dimensions that are the EU Digital Maturity Assessment's six; without it, results show no DMA score.")] = None
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
