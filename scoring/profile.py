"""The readiness profile: what scoring produces, in the JSON shape that the CLI
(``recentre score --json``), the web API and the PDF share. Keys are stable; see README."""

from __future__ import annotations

from typing import Any

import msgspec


class QuestionRef(msgspec.Struct, frozen=True):
    id: str
    fingerprint: str
    version: str


class QuestionScore(msgspec.Struct, frozen=True, omit_defaults=True):
    """One question's part in the profile: the trace behind every dimension score."""

    score: float | None
    """0-100; null when the question is not counted (don't know, hidden or unscored)."""
    points: float | None = None
    answered: bool = False
    na: bool = False


class Contribution(msgspec.Struct, frozen=True):
    question: str
    answer: object
    score: float | None
    weight: float
    contribution: float
    """Points this question adds to the dimension score (score × weight / total weight)."""


class DimensionScore(msgspec.Struct, frozen=True):
    score: float | None
    level: str | None
    pillar: str
    computed: bool = False
    contributions: list[Contribution] | None = None
    """Filled by ``explain``: which answers made the score and how much each added."""


class PillarScore(msgspec.Struct, frozen=True):
    score: float | None
    dimensions: list[str]


class Overall(msgspec.Struct, frozen=True):
    score: float | None
    level: str | None


class Dma(msgspec.Struct, frozen=True):
    """The EU Digital Maturity Assessment's reading of the result: its score (the plain mean
    of its six dimensions, one decimal), the official band of that score, and the six
    dimension scores by the DMA's keys (``questionnaires.reference.DMA_DIMENSIONS``)."""

    score: float | None
    """0-100, one decimal; null unless all six dimensions have a score."""
    band: str | None
    """basic, average, moderately_advanced or advanced (``DMA_BANDS``)."""
    dimensions: dict[str, float | None]


class Archetype(msgspec.Struct, frozen=True):
    id: str
    x: float | None
    y: float | None
    x_pillar: str
    y_pillar: str


class Trigger(msgspec.Struct, frozen=True):
    """Something a recommendation's rule read: an answer, a dimension score, a level, ..."""

    name: str
    value: object


class RecommendationResult(msgspec.Struct, frozen=True):
    id: str
    priority: int
    title: str
    rationale: str
    next_step: str | None
    instruments: list[str]
    training: list[str]
    cross_sector: str | None
    eligibility_note: str | None
    triggered_by: list[Trigger]


class Profile(msgspec.Struct, frozen=True):
    questionnaire: QuestionRef
    language: str
    company: dict[str, str]
    overall: Overall
    pillars: dict[str, PillarScore]
    dimensions: dict[str, DimensionScore]
    archetype: Archetype | None
    strengths: list[str]
    gaps: list[str]
    recommendations: list[RecommendationResult]
    questions: dict[str, QuestionScore]
    dma: Dma | None = None
    """Only for questionnaires that declare their ``dma`` dimensions (and profiles stored
    before there was one have none)."""


def profile_json(profile: Profile) -> bytes:
    """The profile as JSON."""
    return msgspec.json.encode(profile)


def profile_to_builtins(profile: Profile) -> dict[str, Any]:
    """The profile as the dicts and lists of its JSON."""
    value: dict[str, Any] = msgspec.to_builtins(profile)  # a Struct converts to a dict
    return value
