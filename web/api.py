"""The JSON API, version 1, under /api/v1. Its OpenAPI description is served at /schema.

Every refusal is a JSON body ``{"error": {"status", "message", "problems"}}`` (see
``error_response``), and every request runs in one transaction: a refused request changes
nothing. Tokens are private keys, so nothing here logs a path, a token or an answer: refusals
are logged with the route's template and the status only.
"""

from __future__ import annotations

import logging
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

import msgspec
from litestar import Request, Response, Router, delete, get, patch, post
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example, Schema
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter
from litestar.plugins import OpenAPISchemaPlugin
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT, HTTP_500_INTERNAL_SERVER_ERROR
from litestar.typing import FieldDefinition
from msgspec import Meta

from assessment.store import erasure, responses
from assessment.store.inputs import has_control_characters
from assessment.store.models import Assessment, QuestionnaireVersion, Status
from assessment.store.responses import CompanyProfile, ResponseError
from assessment.store.saving import answers_patch, save_answers
from questionnaires.compile import CompiledQuestionnaire
from questionnaires.kinds import KindOut, answer_required, kind_of
from questionnaires.reference import CLUSTERS, CompanySize, LanguageCode
from questionnaires.schema import Company, Text
from scoring.answers import AnswersError, ScoringError, visible_answers
from scoring.engine import score
from scoring.profile import Profile

from . import unavailable
from .context import AppContext, Context, ReadSession, Transaction, client_address
from .failures import failure_text
from .reports import pdf_response, report_pdf

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator

log = logging.getLogger(__name__)

PREFIX = "/api/v1"

if TYPE_CHECKING:
    ClusterId = str
else:
    ClusterId = Literal[tuple(CLUSTERS)]  # the ids, as an enum in the OpenAPI description

Token = Annotated[
    str,
    PathParameter(
        description="The private token returned once, when the assessment was created.",
        examples=[Example(value="Q2x1c3Rlci1ub3QtYS1yZWFsLXRva2Vu")],
    ),
]


class StrictBodies(OpenAPISchemaPlugin):
    """The OpenAPI description of Structs that refuse unknown fields (``forbid_unknown_fields``)
    says so, with ``additionalProperties: false``; Litestar leaves it out, which makes every
    client (and schemathesis) believe that extra fields are welcome."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        t = field_definition.type_
        return isinstance(t, type) and issubclass(t, msgspec.Struct) and t.__struct_config__.forbid_unknown_fields

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        litestars = next(
            p
            for p in schema_creator.plugins
            if isinstance(p, OpenAPISchemaPlugin) and p is not self and p.is_plugin_supported_field(field_definition)
        )
        schema = litestars.to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        return schema


# --- Errors -------------------------------------------------------------------------------


class Problem(msgspec.Struct, kw_only=True):
    question: str
    """The question id the problem is about (or the body field, such as ``company``)."""
    message: str


class ErrorDetail(msgspec.Struct, kw_only=True):
    status: int
    message: str
    problems: list[Problem] = msgspec.field(default_factory=list)


class Error(msgspec.Struct, kw_only=True):
    error: ErrorDetail


def error_response(status: int, message: str, problems: list[Problem] | None = None, headers: dict | None = None) -> Response[Error]:
    return Response(
        Error(error=ErrorDetail(status=status, message=message, problems=problems or [])),
        status_code=status,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def _route(request: Request) -> str:
    # The template (``/api/v1/assessments/{token}``), never the path, which holds the token.
    return request.scope.get("path_template") or "(no route)"


def _validation_message(exc: ValidationException) -> str:
    """What was wrong, naming the field (Litestar's own message names the request path, and
    so the token)."""
    details = exc.extra if isinstance(exc.extra, list) else []
    parts = []
    for item in details:
        if not isinstance(item, dict):
            continue
        key, source, message = item.get("key"), item.get("source"), str(item.get("message", "invalid value"))
        if source == "body" and key == "data" and message == "'data'":
            parts.append("the body is empty: send a JSON object")  # Litestar's KeyError('data')
            continue
        if source == "body":
            where = "the body" if key in (None, "data") else f"`{key}`"
        elif key:
            where = f"{getattr(source, 'value', source) or 'parameter'} parameter `{key}`"
        else:
            where = "the request"
        parts.append(f"{where}: {message}")
    return "Invalid request: " + ("; ".join(parts) if parts else "the body is not JSON of the expected shape")


def api_error(request: Request, exc: Exception) -> Response[Error]:
    """The API's exception handler: every exception becomes the JSON error body."""
    if isinstance(exc, ResponseError):
        status, message = exc.status_code, exc.message
        problems = [Problem(question=p.question, message=p.message) for p in exc.problems]
    elif isinstance(exc, ValidationException):
        status, message, problems = 400, _validation_message(exc), []
    elif isinstance(exc, HTTPException):
        status, message, problems = exc.status_code, _http_message(exc), []
    elif isinstance(exc, UnicodeDecodeError):
        # msgspec decodes the body's strings as UTF-8, and lets this through Litestar.
        status, message, problems = 400, "Invalid request: the body is not UTF-8 text.", []
    elif isinstance(exc, RecursionError) and "while deserializing" in str(exc):
        # msgspec gives up on JSON nested deeper than Python's recursion limit: the client's
        # doing, and no answer is ever nested like that.
        status, message, problems = 400, "Invalid request: the JSON is nested too deeply.", []
    elif (reason := unavailable.unavailable_reason(exc)) is not None:
        # The database cannot serve (or the request ran out of time): one line, no traceback.
        unavailable.log_unavailable(request, reason)
        message = unavailable.API_WRITE_FAILED if unavailable.writes(request) else unavailable.API_READ_FAILED
        return error_response(503, message, headers=unavailable.RETRY_AFTER)
    else:
        # A bug. The traceback goes to the log, not to the client.
        log.error("%s %s failed\n%s", request.method, _route(request), failure_text(exc))
        return error_response(HTTP_500_INTERNAL_SERVER_ERROR, "Internal error: the request was not carried out.")
    log.info("%s %s refused: %d", request.method, _route(request), status)
    return error_response(status, message, problems)


def _http_message(exc: HTTPException) -> str:
    messages = {
        404: "Not found.",
        405: "Method not allowed.",
        413: f"The request body is too large: at most {MAX_BODY_BYTES // 1024} KiB.",
    }
    if exc.status_code in messages:
        # Litestar's own 404 detail can name the path, which can hold a token.
        return messages[exc.status_code]
    return str(exc.detail)


def is_api(request: Request) -> bool:
    path = request.scope.get("path", "")
    return path == "/api" or path.startswith("/api/")


MAX_BODY_BYTES = 256 * 1024
"""No answer set comes near it (a text answer is at most 10,000 characters), and it keeps a
client from making the server read and parse megabytes."""


def _errors(*statuses: int) -> dict[int, ResponseSpec]:
    descriptions = {
        400: "Malformed JSON, or a value of the wrong type: the message names the field.",
        404: "Unknown questionnaire, or a token that is malformed or opens nothing.",
        409: "Already submitted, not submitted yet (the report), or the questionnaire version is no longer available.",
        410: "The token has expired.",
        413: f"The body is larger than {MAX_BODY_BYTES // 1024} KiB.",
        422: "Answers that do not fit the questionnaire; `problems` lists each one with its question id.",
        429: "Too many assessments started from this address within the last hour.",
    }
    return {s: ResponseSpec(data_container=Error, description=descriptions[s], generate_examples=False) for s in statuses}


# --- Questionnaires -----------------------------------------------------------------------


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


def offered(context: AppContext, questionnaire_id: str) -> CompiledQuestionnaire:
    q = context.questionnaires.get(questionnaire_id)
    if q is None:
        raise responses.NotFound(f"No questionnaire {questionnaire_id!r} is offered.")
    return q


@get("/questionnaires", tags=["questionnaires"])
async def list_questionnaires(context: Context) -> list[QuestionnaireSummary]:
    """The questionnaires this service offers."""
    return [QuestionnaireSummary(**summary_fields(q)) for q in context.questionnaires.values()]


@get("/questionnaires/{questionnaire_id:str}", tags=["questionnaires"], responses=_errors(404))
async def get_questionnaire(context: Context, questionnaire_id: FromPath[str]) -> QuestionnaireDetail:
    """One questionnaire: its sections, pillars and dimensions."""
    return detail(offered(context, questionnaire_id))


class SectionOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    title: str
    intro: str | None = None
    show_if: str | None = None
    questions: list[KindOut]
    """Each question with the fields of its kind (``kind`` tells them apart)."""


class QuestionnaireForm(msgspec.Struct, kw_only=True):
    id: str
    version: str
    fingerprint: str
    language: str
    title: str
    sections: list[SectionOut]


def _t(text: Text | None, lang: str) -> str | None:
    return text.get(lang) if text is not None else None


def form(q: CompiledQuestionnaire, lang: str) -> QuestionnaireForm:
    by_section: dict[str, list[KindOut]] = {s.id: [] for s in q.sections}
    for qid, question in q.questions.items():
        by_section[q.section_of[qid]].append(kind_of(question).describe_for_api(question, lang))
    return QuestionnaireForm(
        id=q.id, version=q.version, fingerprint=q.fingerprint, language=lang, title=q.meta.title.get(lang),
        sections=[
            SectionOut(id=s.id, title=s.title.get(lang), intro=_t(s.intro, lang), show_if=s.show_if, questions=by_section[s.id])
            for s in q.sections
        ],
    )


@get("/questionnaires/{questionnaire_id:str}/questions", tags=["questionnaires"], responses=_errors(400, 404))
async def get_questions(context: Context, questionnaire_id: FromPath[str], lang: FromQuery[LanguageCode] = "en") -> QuestionnaireForm:
    """Every section and question, with options, rows and scales, in one language (texts
    missing in it are given in English). ``show_if`` conditions are given as written; an
    assessment's ``hidden`` list says which apply to its answers."""
    return form(offered(context, questionnaire_id), lang)


class ScoreRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    answers: dict[str, Any]
    """Question id → answer, as in an answers file (see README, "Commands")."""
    company: Company | None = None
    lang: LanguageCode = "en"
    explain: bool = False


@post(
    "/questionnaires/{questionnaire_id:str}/score",
    tags=["questionnaires"],
    status_code=HTTP_200_OK,
    responses=_errors(400, 404, 413, 422),
)
async def score_answers(context: Context, questionnaire_id: FromPath[str], data: JSONBody[ScoreRequest]) -> Profile:
    """Score answers without storing anything: the profile JSON, exactly as
    ``recentre score --json`` prints it for the same answers."""
    compiled = offered(context, questionnaire_id)
    try:
        return score(compiled, data.answers, data.company, lang=data.lang, explain=data.explain)
    except AnswersError as exc:
        raise responses.InvalidAnswers("The answers do not fit the questionnaire.", exc.problems) from None
    except ScoringError as exc:
        raise responses.InvalidAnswers(f"The answers could not be scored: {exc}") from None


# --- Assessments --------------------------------------------------------------------------


class CompanyIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The company profile: ``size`` and ``country`` count in scoring, the rest is optional."""

    name: Annotated[str, Meta(max_length=200)] = ""
    size: CompanySize = "small"
    country: Annotated[str, Meta(pattern=r"^([A-Za-z]{2})?$", description="ISO 3166 code, such as IT")] = ""
    """Without it, the company is scored as in its cluster's country."""
    nace: Annotated[str, Meta(max_length=10)] = ""
    contact_name: Annotated[str, Meta(max_length=200)] = ""
    contact_email: Annotated[str, Meta(max_length=254)] = ""


COMPANY_TEXTS = ("name", "nace", "contact_name", "contact_email")
"""The company's fields typed as text, which may hold no control character."""


class NewAssessment(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    questionnaire: str
    """The id of an offered questionnaire."""
    cluster: ClusterId
    sector: Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]*$", max_length=32)]
    language: LanguageCode = "en"
    privacy_accepted: bool
    """The SME has read the privacy notice; an assessment cannot be created without it."""
    share_with_advisors: bool = False
    """Whether the cluster's advisors may see this assessment."""
    company: CompanyIn = msgspec.field(default_factory=CompanyIn)


class QuestionnaireRef(msgspec.Struct, kw_only=True):
    id: str
    version: str
    fingerprint: str


class Links(msgspec.Struct, kw_only=True):
    self: str
    answers: str
    submit: str
    report: str


class Created(msgspec.Struct, kw_only=True):
    token: str
    """The private key to this assessment. It is shown only now: keep it."""
    status: str
    questionnaire: QuestionnaireRef
    expires_at: datetime
    links: Links


class Progress(msgspec.Struct, kw_only=True):
    answered: int
    """Visible questions with an answer."""
    questions: int
    """Visible questions: those that the answers so far do not hide."""
    required_unanswered: list[str]
    """Visible required questions still without an answer, in page order; submit refuses
    while there are any."""


class CompanyOut(msgspec.Struct, kw_only=True):
    name: str | None
    size: str | None
    country: str | None
    nace: str | None
    contact_name: str | None
    contact_email: str | None


class AssessmentView(msgspec.Struct, kw_only=True):
    status: Status
    questionnaire: QuestionnaireRef
    language: str
    cluster: str
    sector: str
    share_with_advisors: bool
    company: CompanyOut
    answers: dict[str, Any]
    hidden: list[str]
    """Questions that the answers hide; answers to them are kept but not scored."""
    progress: Progress
    current_section: str | None
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    expires_at: datetime
    result: Profile | None
    """The current result (the profile JSON) once submitted."""
    links: Links


class AnswersSaved(msgspec.Struct, kw_only=True):
    hidden: list[str]
    progress: Progress
    current_section: str | None


class Submitted(msgspec.Struct, kw_only=True):
    status: Literal["submitted"]
    submitted_at: datetime
    result: Profile


def links(token: str) -> Links:
    base = f"{PREFIX}/assessments/{token}"
    return Links(self=base, answers=f"{base}/answers", submit=f"{base}/submit", report=f"{base}/report.pdf")


def progress(compiled: CompiledQuestionnaire, answers: dict, hidden: AbstractSet[str]) -> Progress:
    answered = total = 0
    missing = []
    for qid, q in compiled.questions.items():
        if qid in hidden:
            continue
        total += 1
        if qid in answers:
            answered += 1
        elif answer_required(q):
            missing.append(qid)
    return Progress(answered=answered, questions=total, required_unanswered=missing)


def questionnaire_ref(compiled: CompiledQuestionnaire) -> QuestionnaireRef:
    return QuestionnaireRef(id=compiled.id, version=compiled.version, fingerprint=compiled.fingerprint)


NO_STORE = CacheControlHeader(no_store=True)
"""Responses that carry a token, answers or results are never kept by caches."""


@post(
    "/assessments",
    tags=["assessments"],
    status_code=HTTP_201_CREATED,
    cache_control=NO_STORE,
    responses=_errors(400, 413, 422, 429),
)
async def create(request: Request, context: Context, transaction: Transaction, data: JSONBody[NewAssessment]) -> Response[Created]:
    """Start an assessment. The response holds its private token, once: every later request
    names the assessment by it."""
    problems = []
    compiled = context.questionnaires.get(data.questionnaire)
    if compiled is None:
        problems.append(responses.AnswerProblem("questionnaire", f"no questionnaire {data.questionnaire!r} is offered"))
    elif compiled.meta.sectors and data.sector not in compiled.meta.sectors:
        problems.append(responses.AnswerProblem("sector", f"this questionnaire is for {', '.join(compiled.meta.sectors)}"))
    if not data.privacy_accepted:
        problems.append(responses.AnswerProblem("privacy_accepted", "the privacy notice must be accepted first"))
    for name in COMPANY_TEXTS:
        if has_control_characters(getattr(data.company, name).strip()):
            problems.append(responses.AnswerProblem(f"company.{name}", "control characters (such as tabs, line breaks or NUL) are not allowed"))
    if problems or compiled is None:
        raise responses.InvalidAnswers("The assessment could not be created.", problems)
    await responses.count_new_assessment(transaction, client_address(request), context.settings.new_assessments_per_hour)
    c = data.company
    version = await transaction.get_one(QuestionnaireVersion, context.offered_versions[compiled.id])
    assessment, token = await responses.create_assessment(
        transaction, version,
        language=data.language, cluster=data.cluster, sector=data.sector,
        share_with_advisors=data.share_with_advisors,
        company=CompanyProfile(name=c.name, size=c.size, country=c.country, nace=c.nace,
                               contact_name=c.contact_name, contact_email=c.contact_email),
    )
    created = Created(
        token=token, status=assessment.status, questionnaire=questionnaire_ref(compiled),
        expires_at=assessment.expires_at, links=links(token),
    )
    return Response(created, status_code=HTTP_201_CREATED, headers={"Location": created.links.self})


def _company_out(a: Assessment) -> CompanyOut:
    return CompanyOut(name=a.company_name, size=a.size, country=a.country, nace=a.nace,
                      contact_name=a.contact_name, contact_email=a.contact_email)


@get("/assessments/{token:str}", tags=["assessments"], cache_control=NO_STORE, responses=_errors(404, 409, 410))
async def read(context: Context, session: ReadSession, token: Token) -> AssessmentView:
    """The assessment: its answers, progress and, once submitted, its current result."""
    assessment = await responses.open_assessment(session, token)
    compiled = await context.versions.get(assessment.questionnaire_version_id, session)
    answers = await responses.load_answers(session, assessment)
    result = await responses.current_result(session, assessment) if assessment.status == "submitted" else None
    _, hidden = visible_answers(compiled, answers, responses.company_of(assessment))
    return AssessmentView(
        status=cast(Status, assessment.status),
        questionnaire=questionnaire_ref(compiled),
        language=assessment.language,
        cluster=assessment.cluster,
        sector=assessment.sector,
        share_with_advisors=assessment.share_with_advisors,
        company=_company_out(assessment),
        answers=answers,
        hidden=[q for q in compiled.questions if q in hidden],
        progress=progress(compiled, answers, hidden),
        current_section=assessment.current_section,
        created_at=assessment.created_at,
        updated_at=assessment.updated_at,
        submitted_at=assessment.submitted_at,
        expires_at=assessment.expires_at,
        # The stored JSON as it is: it was encoded from a Profile, so decoding it only to
        # encode it again would be work for nothing.
        result=cast(Profile, msgspec.Raw(result.profile.encode())) if result is not None else None,
        links=links(token),
    )


@patch(
    "/assessments/{token:str}/answers",
    tags=["assessments"],
    cache_control=NO_STORE,
    responses=_errors(400, 404, 409, 410, 413, 422),
)
async def update_answers(context: Context, token: Token, data: JSONBody[dict[str, Any]]) -> AnswersSaved:
    """Save answers, as a JSON merge patch of question id → answer: ``null`` clears an
    answer, questions not named keep theirs. Nothing is saved unless every answer fits;
    a 422 lists each problem with its question id."""
    written = await save_answers(context.tokens, context.versions, token, answers_patch(data))
    compiled, saved = written.compiled, written.change.saved
    return AnswersSaved(
        hidden=[q for q in compiled.questions if q in saved.hidden],
        progress=progress(compiled, saved.answers, saved.hidden),
        current_section=written.change.section,
    )


@post(
    "/assessments/{token:str}/submit",
    tags=["assessments"],
    status_code=HTTP_200_OK,
    cache_control=NO_STORE,
    responses=_errors(404, 409, 410, 422),
)
async def submit(context: Context, transaction: Transaction, token: Token) -> Submitted:
    """Score the answers and close the assessment; its answers can no longer change. Refused
    (422) while required questions are unanswered, and (409) a second time."""
    assessment = await responses.open_assessment(transaction, token)
    compiled = await context.versions.get(assessment.questionnaire_version_id, transaction)
    if assessment.status == "draft":
        answers = await responses.load_answers(transaction, assessment)
        missing = responses.required_unanswered(compiled, answers, responses.company_of(assessment))
        if missing:
            raise responses.InvalidAnswers(
                responses.REQUIRED_UNANSWERED,
                [responses.AnswerProblem(q, "this question needs an answer") for q in missing],
            )
    result = await responses.submit(transaction, assessment, compiled, complete=True)
    assert assessment.submitted_at is not None, "responses.submit stamps it"
    return Submitted(status="submitted", submitted_at=assessment.submitted_at, result=responses.decode_profile(result))


@get(
    "/assessments/{token:str}/report.pdf",
    tags=["assessments"],
    cache_control=NO_STORE,
    media_type="application/pdf",
    responses=_errors(404, 409, 410),
)
async def report(context: Context, session: ReadSession, token: Token) -> Response[bytes]:
    """The PDF report of a submitted assessment, in its language (409 while it is a draft)."""
    return pdf_response(await report_pdf(context, session, token))


class Sharing(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    share_with_advisors: bool
    """Whether the advisors of the assessment's cluster may see it, with its contact details."""


@patch("/assessments/{token:str}", tags=["assessments"], cache_control=NO_STORE, responses=_errors(400, 404, 410, 413))
async def change_sharing(transaction: Transaction, token: Token, data: JSONBody[Sharing]) -> Sharing:
    """Change the SME's sharing choice, at any time. Withdrawing it takes effect at once:
    from this answer on, no workspace page, download or analysis shows the assessment to its
    cluster's advisors, nor its contact details to anyone."""
    assessment = await responses.open_assessment(transaction, token)
    await erasure.set_sharing(transaction, assessment, data.share_with_advisors)
    return Sharing(share_with_advisors=data.share_with_advisors)


@get("/assessments/{token:str}/export", tags=["assessments"], cache_control=NO_STORE, responses=_errors(404, 410))
async def export(session: ReadSession, token: Token) -> dict[str, Any]:
    """All that is stored about the assessment: its company profile and choices, its answers,
    every result with its profile JSON, and the advisors' notes on it."""
    return await erasure.export_of(session, await responses.open_assessment(session, token))


@delete("/assessments/{token:str}", tags=["assessments"], status_code=HTTP_204_NO_CONTENT, responses=_errors(404, 410))
async def erase(context: Context, transaction: Transaction, token: Token) -> None:
    """Erase the assessment: its company profile, answers, results and the advisors' notes
    leave the database, and the token opens nothing. The company's other assessments stay."""
    assessment = await responses.open_assessment(transaction, token)
    await erasure.erase(transaction, [assessment.id])
    context.tokens.drafts.pop(responses.hash_token(token), None)


router = Router(
    path=PREFIX,
    route_handlers=[
        list_questionnaires, get_questionnaire, get_questions, score_answers, create, read, update_answers, submit, report,
        change_sharing, export, erase,
    ],
    exception_handlers={Exception: api_error},
    request_max_body_size=MAX_BODY_BYTES,
    # The API is authorised by the token in the path, never by a cookie, so a page on another
    # site cannot act with a visitor's credentials: there is nothing for CSRF tokens to
    # protect, and API clients have no form to carry one.
    opt={"exclude_from_csrf": True},
)
