"""The questionnaire library, for organisers: the offered questionnaires with their stored
versions, sectors, languages and the result of their embedded tests; a preview of each as a
respondent sees it; and how the submitted assessments answered each question, counted in SQL.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import msgspec
from litestar import Request, get
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from assessment.store.models import Assessment, QuestionnaireVersion
from questionnaires.compile import CompiledQuestionnaire
from questionnaires.kinds import Question, kind_of
from questionnaires.kinds.base import Widget
from questionnaires.messages import N_
from scoring.check import run_tests
from scoring.render.i18n import translations

from .auth import requires_organiser, user_of
from .context import Context, ReadSession
from .languages import Refusal, workspace_language, workspace_page

# --- Test status -------------------------------------------------------------------------


@dataclass(frozen=True)
class TestStatus:
    passed: int
    total: int
    failures: tuple[str, ...]
    uncovered: int

    @property
    def ok(self) -> bool:
        return not self.failures


_test_status: dict[str, TestStatus] = {}
"""By fingerprint: the same content always gives the same result, so each runs once."""


def test_status(compiled: CompiledQuestionnaire) -> TestStatus:
    status = _test_status.get(compiled.fingerprint)
    if status is None:
        report = run_tests(compiled)
        status = _test_status[compiled.fingerprint] = TestStatus(
            passed=report.passed,
            total=len(compiled.tests),
            failures=tuple(d.message for d in report.failures),
            uncovered=len(report.uncovered),
        )
    return status


# --- The list ----------------------------------------------------------------------------


@dataclass
class StoredVersion:
    version: str
    fingerprint: str
    created_at: object
    assessments: int
    offered: bool


async def stored_versions(session: AsyncSession, offered: dict[str, CompiledQuestionnaire]) -> dict[str, list[StoredVersion]]:
    """Every stored version of each questionnaire, newest first, with its number of assessments."""
    counts = (
        select(Assessment.questionnaire_version_id, func.count().label("n"))
        .group_by(Assessment.questionnaire_version_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            QuestionnaireVersion.questionnaire_id,
            QuestionnaireVersion.version,
            QuestionnaireVersion.fingerprint,
            QuestionnaireVersion.created_at,
            func.coalesce(counts.c.n, 0),
        )
        .outerjoin(counts, counts.c.questionnaire_version_id == QuestionnaireVersion.id)
        .order_by(QuestionnaireVersion.questionnaire_id, QuestionnaireVersion.created_at.desc(), QuestionnaireVersion.id.desc())
    )
    out: dict[str, list[StoredVersion]] = defaultdict(list)
    for qid, version, fingerprint, created_at, n in rows:
        current = offered.get(qid)
        out[qid].append(StoredVersion(version, fingerprint, created_at, n, current is not None and current.fingerprint == fingerprint))
    return out


@get("/workspace/library", guards=[requires_organiser], include_in_schema=False)
async def library_page(request: Request, context: Context, session: ReadSession) -> Template:
    offered = context.questionnaires
    versions = await stored_versions(session, offered)
    entries = [{"q": q, "tests": test_status(q), "versions": versions.get(q.id, [])} for q in offered.values()]
    return workspace_page(request, "workspace/library.html", {"user": user_of(request), "entries": entries})


# --- Answer statistics -------------------------------------------------------------------


@dataclass
class QuestionStats:
    counted: str | None = None
    """What is counted of the answers beyond their number (``Kind.statistics``)."""
    answered: int = 0
    counts: dict[tuple[str | None, str], int] = field(default_factory=dict)
    """(matrix row or None, chosen value as the form posts it) -> number of assessments."""
    number: tuple[int, float | None, float | None, float | None] | None = None
    """(count, min, mean, max) of the numbers given."""


# An answer is one value, a list of values, or (matrix) a mapping of rows to either: each
# becomes one row per chosen value, as JSON text, so that GROUP BY counts them. On SQLite a
# row's values are read from the stored answer by the row's path (``r.fullkey``: the row's
# list, or its one value as a single row), never by handing a value ``json_each`` gave back to
# another JSON function, so that no text it unquoted is ever parsed as JSON again.
_CHOICES_SQL = {
    "sqlite": """
        SELECT a.question_id, NULL AS row_id, CASE e.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE json_quote(e.value) END AS choice, count(*) AS n
        FROM answer AS a JOIN assessment AS s ON s.id = a.assessment_id, json_each(a.value) AS e
        WHERE s.questionnaire_id = :questionnaire AND s.status = 'submitted' AND a.question_id IN :questions
        GROUP BY a.question_id, choice
    """,
    "postgresql": """
        SELECT a.question_id, NULL AS row_id, e.choice::text AS choice, count(*) AS n
        FROM answer AS a JOIN assessment AS s ON s.id = a.assessment_id,
             LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(a.value::jsonb) = 'array'
                 THEN a.value::jsonb ELSE jsonb_build_array(a.value::jsonb) END) AS e(choice)
        WHERE s.questionnaire_id = :questionnaire AND s.status = 'submitted' AND a.question_id IN :questions
        GROUP BY a.question_id, e.choice
    """,
}
_MATRIX_SQL = {
    "sqlite": """
        SELECT a.question_id, r.key AS row_id, CASE c.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE json_quote(c.value) END AS choice, count(*) AS n
        FROM answer AS a JOIN assessment AS s ON s.id = a.assessment_id, json_each(a.value) AS r,
             json_each(a.value, r.fullkey) AS c
        WHERE s.questionnaire_id = :questionnaire AND s.status = 'submitted' AND a.question_id IN :questions
        GROUP BY a.question_id, r.key, choice
    """,
    "postgresql": """
        SELECT a.question_id, r.key AS row_id, c.choice::text AS choice, count(*) AS n
        FROM answer AS a JOIN assessment AS s ON s.id = a.assessment_id,
             LATERAL jsonb_each(a.value::jsonb) AS r(key, value),
             LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(r.value) = 'array'
                 THEN r.value ELSE jsonb_build_array(r.value) END) AS c(choice)
        WHERE s.questionnaire_id = :questionnaire AND s.status = 'submitted' AND a.question_id IN :questions
        GROUP BY a.question_id, r.key, c.choice
    """,
}
_NUMBERS_SQL = """
    SELECT a.question_id, count(*), min(CAST(a.value AS FLOAT)), avg(CAST(a.value AS FLOAT)), max(CAST(a.value AS FLOAT))
    FROM answer AS a JOIN assessment AS s ON s.id = a.assessment_id
    WHERE s.questionnaire_id = :questionnaire AND s.status = 'submitted' AND a.question_id IN :questions
      AND a.value NOT LIKE '"%'
    GROUP BY a.question_id
"""
_ANSWERED_SQL = """
    SELECT a.question_id, count(*)
    FROM answer AS a JOIN assessment AS s ON s.id = a.assessment_id
    WHERE s.questionnaire_id = :questionnaire AND s.status = 'submitted'
    GROUP BY a.question_id
"""


def form_value(question: Question, row_id: str | None, choice: str) -> str:
    """One chosen value (JSON text), as the form posts it: the value of a preview's choice."""
    value = msgspec.json.decode(choice)
    field_name = question.id if row_id is None else f"{question.id}.{row_id}"
    posted = kind_of(question).form_values(question, value if row_id is None else {row_id: value})
    return next(iter(posted.get(field_name, ())), choice)


def _statement(sql: str, questions: list[str]):
    return text(sql).bindparams(bindparam("questions", value=questions, expanding=True))


async def answer_statistics(session: AsyncSession, compiled: CompiledQuestionnaire) -> dict[str, QuestionStats]:
    dialect = session.get_bind().dialect.name
    questions = compiled.questions
    stats: dict[str, QuestionStats] = {qid: QuestionStats(kind_of(q).statistics) for qid, q in questions.items()}
    counted: dict[str | None, list[str]] = defaultdict(list)
    for qid, s in stats.items():
        counted[s.counted].append(qid)
    params = {"questionnaire": compiled.id}
    for qid, n in await session.execute(text(_ANSWERED_SQL), params):
        if qid in stats:
            stats[qid].answered = n
    for sql, ids in ((_CHOICES_SQL[dialect], counted["choices"]), (_MATRIX_SQL[dialect], counted["matrix"])):
        if ids:
            for qid, row_id, choice, n in await session.execute(_statement(sql, ids), params):
                key = (row_id, form_value(questions[qid], row_id, choice))
                stats[qid].counts[key] = stats[qid].counts.get(key, 0) + n
    if counted["number"]:
        for qid, n, low, mean, high in await session.execute(_statement(_NUMBERS_SQL, counted["number"]), params):
            stats[qid].number = (n, low, mean, high)
    return stats


# --- The preview -------------------------------------------------------------------------


def preview_widgets(compiled: CompiledQuestionnaire, lang: str) -> dict[str, Widget]:
    """Each question drawn as its respondents see it, in ``lang``, with every option and row."""
    _ = translations(lang).gettext
    widgets = {}
    for qid, q in compiled.questions.items():
        kind = kind_of(q)
        widgets[qid] = kind.view(q, [item for _kind, item in kind.conditional_items(q)], lang, _)
    return widgets


@get("/workspace/library/{questionnaire_id:str}", guards=[requires_organiser], include_in_schema=False)
async def questionnaire_page(
    request: Request, context: Context, session: ReadSession, questionnaire_id: FromPath[str], lang: FromQuery[str | None] = None
) -> Template:
    """``?lang=`` is the language of the preview, the workspace's own by default."""
    compiled = context.questionnaires.get(questionnaire_id)
    if compiled is None:
        raise Refusal(status_code=404, detail=N_("No such questionnaire."))
    lang = lang or workspace_language(request)
    if lang not in compiled.meta.languages:
        lang = compiled.meta.languages[0] if compiled.meta.languages else "en"
    stats = await answer_statistics(session, compiled)
    shown = {
        "user": user_of(request),
        "q": compiled,
        "preview_lang": lang,
        "widgets": preview_widgets(compiled, lang),
        "stats": stats,
        "tests": test_status(compiled),
        "section_questions": {
            s.id: [questions for qid, questions in compiled.questions.items() if compiled.section_of[qid] == s.id] for s in compiled.sections
        },
    }
    return workspace_page(request, "workspace/questionnaire.html", shown)


ROUTES = [library_page, questionnaire_page]
