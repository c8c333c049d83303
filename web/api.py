"""The JSON API, version 1. Its OpenAPI description is served at /schema."""

from __future__ import annotations

import msgspec
from litestar import get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from assessment.compile import CompiledQuestionnaire
from assessment.schema import Text


class QuestionnaireSummary(msgspec.Struct, kw_only=True):
    id: str
    version: str
    fingerprint: str
    """Identifies this exact content; it changes with any change to the questionnaire."""
    title: Text
    description: Text | None = None
    sectors: list[str]
    languages: list[str]
    estimated_minutes: int | None = None


class SectionSummary(msgspec.Struct, kw_only=True):
    id: str
    title: Text
    questions: int


class DimensionSummary(msgspec.Struct, kw_only=True):
    id: str
    title: Text
    pillar: str


class QuestionnaireDetail(QuestionnaireSummary, kw_only=True):
    sections: list[SectionSummary]
    pillars: list[str]
    dimensions: list[DimensionSummary]


def summary_fields(q: CompiledQuestionnaire) -> dict:
    meta = q.meta
    return {
        "id": q.id,
        "version": q.version,
        "fingerprint": q.fingerprint,
        "title": meta.title,
        "description": meta.description,
        "sectors": list(meta.sectors),
        "languages": list(meta.languages),
        "estimated_minutes": meta.estimated_minutes,
    }


def detail(q: CompiledQuestionnaire) -> QuestionnaireDetail:
    counts: dict[str, int] = {}
    for section_id in q.section_of.values():
        counts[section_id] = counts.get(section_id, 0) + 1
    return QuestionnaireDetail(
        **summary_fields(q),
        sections=[SectionSummary(id=s.id, title=s.title, questions=counts.get(s.id, 0)) for s in q.sections],
        pillars=list(q.pillars),
        dimensions=[DimensionSummary(id=d.id, title=d.title, pillar=d.pillar) for d in q.dimensions.values()],
    )


@get("/api/v1/questionnaires", tags=["questionnaires"])
async def list_questionnaires(state: State) -> list[QuestionnaireSummary]:
    """The questionnaires this service offers."""
    return [QuestionnaireSummary(**summary_fields(q)) for q in state.questionnaires.values()]


@get("/api/v1/questionnaires/{questionnaire_id:str}", tags=["questionnaires"])
async def get_questionnaire(state: State, questionnaire_id: FromPath[str]) -> QuestionnaireDetail:
    """One questionnaire: its sections, pillars and dimensions."""
    q = state.questionnaires.get(questionnaire_id)
    if q is None:
        raise NotFoundException(detail=f"no questionnaire {questionnaire_id!r}")
    return detail(q)
