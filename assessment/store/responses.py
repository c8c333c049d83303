"""Stored assessments: creating one, opening it by its private token, checking answers
(``checked_updates``; ``saving.save_answers`` writes them), submitting, re-scoring and
re-assessing. Each function takes the session first and leaves committing to the caller, so
that a request's changes land whole or not at all.

The web layer and the CLI call these; they raise only ``ResponseError`` subclasses, each
with the HTTP status that fits it, so that no bad input becomes a 500.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import msgspec
from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from questionnaires.compile import CompiledQuestionnaire
from questionnaires.kinds import answer_required
from questionnaires.messages import N_
from questionnaires.reference import CLUSTERS, SIZES
from scoring.answers import (
    AnswerProblem,
    AnswersError,
    ScoringError,
    check_answers,
    check_each,
    hidden_answer_problems,
    limit_problems,
    shown_id,
    visible_answers,
)
from scoring.engine import scorer_for
from scoring.profile import Profile

from . import limits
from .models import (
    Answer,
    Assessment,
    DimensionScore,
    QuestionnaireVersion,
    Result,
    ResultInstrument,
    ResultRecommendation,
    StoredVersionMismatch,
    dma_columns_of,
    load_questionnaire_version,
    utcnow,
)

if TYPE_CHECKING:
    from .by_token import Draft

log = logging.getLogger(__name__)

TOKEN_BYTES = 24  # 192 bits, above the 128 the link must carry
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
TOKEN_LIFETIME = timedelta(days=365)
"""A link stays valid this long after the assessment was last changed."""
# The refusals a person may read, in English here, marked for the catalogs: the web's error
# pages show them translated, the JSON API as they are.
NOT_VALID = N_("This link is not valid. Check that you copied all of it.")
EXPIRED = N_("This link has expired. Start a new assessment, or ask your cluster for help.")
UNAVAILABLE = N_("The questionnaire version of this assessment is no longer available.")
SUBMITTED = N_("This assessment has been submitted; its answers can no longer change.")
ALREADY_SUBMITTED = N_("This assessment has already been submitted.")
NOT_SAVED = N_("Some answers could not be saved.")
TOO_MANY_NEW = N_("Too many assessments were started from your address in the last hour. Try again later.")
NEW_WINDOW = timedelta(hours=1)
REQUIRED_UNANSWERED = "Some required questions have no answer yet."



class ResponseError(Exception):
    status_code = 400

    def __init__(self, message: str, problems: list[AnswerProblem] | None = None):
        self.message = message
        self.problems = problems or []
        super().__init__(message)


class NotFound(ResponseError):
    status_code = 404


class Expired(ResponseError):
    status_code = 410


class AlreadySubmitted(ResponseError):
    status_code = 409


class InvalidAnswers(ResponseError):
    status_code = 422


class VersionUnavailable(ResponseError):
    status_code = 409


class TooManyNew(ResponseError):
    status_code = 429


class CompanyProfile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What an SME tells about itself before the questions. Contact details are optional."""

    name: str = ""
    size: str = "small"
    country: str = ""
    nace: str = ""
    contact_name: str = ""
    contact_email: str = ""


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def looks_like_token(token: str) -> bool:
    return bool(_TOKEN.match(token or ""))


def company_of(assessment: Assessment | Draft) -> dict:
    """The company attributes that expressions and eligibility read. A company that gave no
    country is taken to be in its cluster's country, which is what a rule about countries
    would most likely mean for it."""
    cluster = CLUSTERS.get(assessment.cluster)
    return {
        "size": assessment.size or "small",
        "sector": assessment.sector,
        "country": assessment.country or (cluster.country if cluster else "EU"),
        "cluster": assessment.cluster,
    }


# --- Creating and opening -----------------------------------------------------------------


async def count_new_assessment(session: AsyncSession, client: str, per_hour: int) -> None:
    """Count an assessment started from the address ``client`` (the start pages, the API and
    re-assessments alike), in the transaction that creates it; TooManyNew when the address
    has started ``per_hour`` within the last hour already (``limits.take``)."""
    if not await limits.take(session, [(limits.key_of("new-assessment", client), per_hour)], NEW_WINDOW):
        raise TooManyNew(TOO_MANY_NEW)


async def create_assessment(
    session: AsyncSession,
    version: QuestionnaireVersion,
    *,
    language: str,
    cluster: str,
    sector: str,
    share_with_advisors: bool,
    company: CompanyProfile | None = None,
    previous: Assessment | None = None,
) -> tuple[Assessment, str]:
    """A new draft assessment and its private token (returned once, never stored)."""
    token = new_token()
    now = utcnow()
    company = company or CompanyProfile()
    assessment = Assessment(
        token_hash=hash_token(token),
        questionnaire_version_id=version.id,
        questionnaire_id=version.questionnaire_id,
        language=language,
        cluster=cluster,
        sector=sector,
        status="draft",
        share_with_advisors=share_with_advisors,
        privacy_accepted_at=now,
        previous_id=previous.id if previous else None,
        created_at=now,
        updated_at=now,
        expires_at=now + TOKEN_LIFETIME,
    )
    apply_company(assessment, company)
    session.add(assessment)
    await session.flush()
    assessment.series_id = previous.series_id or previous.id if previous else assessment.id
    return assessment, token


def apply_company(assessment: Assessment, company: CompanyProfile) -> None:
    assessment.company_name = company.name.strip()[:200] or None
    assessment.size = company.size if company.size in SIZES else None
    assessment.country = company.country.strip().upper()[:2] or None
    assessment.nace = company.nace.strip()[:10] or None
    assessment.contact_name = company.contact_name.strip()[:200] or None
    assessment.contact_email = company.contact_email.strip()[:254] or None


async def open_assessment(session: AsyncSession, token: str, *, now: datetime | None = None) -> Assessment:
    """The assessment this token opens; NotFound for a malformed or unknown token, Expired
    for an old one. The message never says which, so tokens cannot be probed."""
    if not looks_like_token(token):
        raise NotFound(NOT_VALID)
    assessment = await session.scalar(select(Assessment).where(Assessment.token_hash == hash_token(token)))
    if assessment is None:
        raise NotFound(NOT_VALID)
    if assessment.expires_at < (now or utcnow()):
        raise Expired(EXPIRED)
    return assessment


@dataclass
class Versions:
    """Compiled questionnaire versions by database id, compiled once per process: the offered
    ones at start-up (``remember``), older ones from the database on first use."""

    sessions: async_sessionmaker[AsyncSession]
    """For a version first asked for by a caller that holds no session (a save of answers)."""
    compiled: dict[int, CompiledQuestionnaire] = field(default_factory=dict)

    def remember(self, version: QuestionnaireVersion, compiled: CompiledQuestionnaire) -> None:
        self.compiled[version.id] = compiled

    async def get(self, version_id: int, session: AsyncSession | None = None) -> CompiledQuestionnaire:
        """The compiled version ``version_id``; VersionUnavailable if it is not stored or no
        longer compiles to its fingerprint. Read in ``session`` where the caller holds one
        (on SQLite a second session would wait for the first one's connection), else in a
        short session of its own."""
        compiled = self.compiled.get(version_id)
        if compiled is None:
            if session is None:
                async with self.sessions() as own:
                    compiled = await _load_version(own, version_id)
            else:
                compiled = await _load_version(session, version_id)
            self.compiled[version_id] = compiled
        return compiled


async def _load_version(session: AsyncSession, version_id: int) -> CompiledQuestionnaire:
    """The stored version ``version_id``, compiled again."""
    version = await session.get(QuestionnaireVersion, version_id)
    try:
        loaded = await load_questionnaire_version(session, version.fingerprint) if version else None
    except StoredVersionMismatch as exc:
        # The operator's problem, not the client's: say what in the log, and refuse cleanly.
        log.error("questionnaire version %d: %s", version_id, exc)
        loaded = None
    if loaded is None:
        raise VersionUnavailable(UNAVAILABLE)
    return loaded


# --- Answers ------------------------------------------------------------------------------


async def load_answers(session: AsyncSession, assessment: Assessment) -> dict:
    rows = await session.execute(select(Answer.question_id, Answer.value).where(Answer.assessment_id == assessment.id))
    return {qid: msgspec.json.decode(value) for qid, value in rows}


@dataclass
class Saved:
    """What a save changed: the answers now stored, and which questions are now hidden."""

    answers: dict
    hidden: set[str]
    given: dict = field(default_factory=dict)
    cleared: list[str] = field(default_factory=list)


def _must_be_draft(assessment: Assessment) -> None:
    if assessment.status != "draft":
        raise AlreadySubmitted(SUBMITTED)


def checked_updates(compiled: CompiledQuestionnaire, stored: dict, company: dict, updates: dict) -> Saved:
    """The answers as they will be once ``updates`` (None clears one) are applied to the
    ``stored`` ones. Nothing is stored unless every update is valid: unknown questions or
    options, wrong types, numbers out of range and answers to hidden questions or options are
    refused with InvalidAnswers, listing each problem."""
    cleared = [q for q, v in updates.items() if v is None or v == "" or v == [] or v == {}]
    given, problems = check_each(compiled, {q: v for q, v in updates.items() if q not in cleared})
    problems += [AnswerProblem(shown_id(q), "unknown question") for q in cleared if q not in compiled.questions]
    if problems:
        raise InvalidAnswers(NOT_SAVED, limit_problems(problems))
    merged = {q: v for q, v in {**stored, **given}.items() if q not in cleared}
    try:
        visible, hidden = visible_answers(compiled, merged, company)
        # Only this request's own answers count: earlier ones may have become hidden meanwhile,
        # and are kept for when they show again.
        problems = hidden_answer_problems(compiled, given, visible, hidden, company)
    except ScoringError as exc:
        problems = [AnswerProblem("show_if", str(exc))]
    if problems:
        raise InvalidAnswers(NOT_SAVED, limit_problems(problems))
    return Saved(merged, set(hidden), given, cleared)


def unanswered(compiled: CompiledQuestionnaire, answers: dict, company: dict) -> list[str]:
    """Visible questions with no answer yet, in page order (free text included, since an SME
    may want to come back to it)."""
    visible, hidden = visible_answers(compiled, answers, company)
    return [q for q in compiled.questions if q not in hidden and q not in visible]


def required_unanswered(compiled: CompiledQuestionnaire, answers: dict, company: dict) -> list[str]:
    """Visible questions with no answer yet that must be answered before submitting."""
    return [q for q in unanswered(compiled, answers, company) if answer_required(compiled.questions[q])]


# --- Submitting and scoring ---------------------------------------------------------------


def profile_for(compiled: CompiledQuestionnaire, answers: dict, company: dict, lang: str) -> Profile:
    """Score stored answers: answers to questions hidden since they were given are left out."""
    visible, _ = visible_answers(compiled, answers, company)
    checked = check_answers(compiled, visible, company)
    return scorer_for(compiled).score(checked, company, lang=lang, explain=True, checked=True)


async def store_result(
    session: AsyncSession, assessment: Assessment, version_id: int, profile: Profile
) -> Result:
    await session.execute(update(Result).where(Result.assessment_id == assessment.id).values(current=False))
    pillars = profile.pillars
    result = Result(
        assessment_id=assessment.id,
        questionnaire_version_id=version_id,
        current=True,
        profile=msgspec.json.encode(profile).decode(),
        overall=profile.overall.score,
        overall_level=profile.overall.level,
        archetype=profile.archetype.id if profile.archetype else None,
        digital=pillars["digital"].score if "digital" in pillars else None,
        green=pillars["green"].score if "green" in pillars else None,
        resilience=pillars["resilience"].score if "resilience" in pillars else None,
        **dma_columns_of(profile),
        created_at=utcnow(),
    )
    session.add(result)
    await session.flush()
    session.add_all(
        DimensionScore(result_id=result.id, dimension=d, pillar=v.pillar, score=v.score, level=v.level, gap=d in profile.gaps)
        for d, v in profile.dimensions.items()
    )
    session.add_all(
        ResultRecommendation(
            result_id=result.id,
            recommendation_id=r.id,
            rank=i,
            instruments=msgspec.json.encode(r.instruments).decode(),
            training=msgspec.json.encode(r.training).decode(),
        )
        for i, r in enumerate(profile.recommendations, 1)
    )
    refs = {("instrument", i) for r in profile.recommendations for i in r.instruments}
    refs |= {("training", t) for r in profile.recommendations for t in r.training}
    session.add_all(ResultInstrument(result_id=result.id, kind=kind, ref=ref) for kind, ref in sorted(refs))
    return result


async def submit(session: AsyncSession, assessment: Assessment, compiled: CompiledQuestionnaire, *, complete: bool = False) -> Result:
    """Score the answers and close the assessment. A second submit is refused; with
    ``complete``, so is one while required questions are unanswered (InvalidAnswers)."""
    _must_be_draft(assessment)
    # Lock the row first where the database can, so that two submits racing each other
    # cannot both pass the check above.
    claimed = cast(
        CursorResult[Any],
        await session.execute(
            update(Assessment)
            .where(Assessment.id == assessment.id, Assessment.status == "draft")
            .values(status="submitted", submitted_at=utcnow(), updated_at=utcnow())
        ),
    )
    if claimed.rowcount != 1:
        raise AlreadySubmitted(ALREADY_SUBMITTED)
    await session.refresh(assessment)
    # Read under the row's lock (SQLite: the write lock), so no save can change them until
    # the result is stored: a caller's own check ran on answers read before it.
    answers = await load_answers(session, assessment)
    missing = required_unanswered(compiled, answers, company_of(assessment)) if complete else []
    if missing:
        raise InvalidAnswers(REQUIRED_UNANSWERED, [AnswerProblem(q, "this question needs an answer") for q in missing])
    try:
        profile = profile_for(compiled, answers, company_of(assessment), assessment.language)
    except ScoringError as exc:
        raise InvalidAnswers(f"The answers could not be scored: {exc}") from None
    return await store_result(session, assessment, assessment.questionnaire_version_id, profile)


async def current_result(session: AsyncSession, assessment: Assessment) -> Result | None:
    return await session.scalar(select(Result).where(Result.assessment_id == assessment.id, Result.current.is_(True)))


def decode_profile(result: Result) -> Profile:
    return msgspec.json.decode(result.profile, type=Profile)


async def rescore(
    session: AsyncSession, assessment: Assessment, version: QuestionnaireVersion, compiled: CompiledQuestionnaire
) -> Result:
    """Score a submitted assessment again against ``version``: a new current result; the old
    one is kept. Answers that no longer fit the new version are left out of it."""
    if assessment.status != "submitted":
        raise ResponseError("Only submitted assessments can be re-scored.")
    profile = rescored_profile(compiled, await load_answers(session, assessment), company_of(assessment), assessment.language)
    return await store_result(session, assessment, version.id, profile)


def rescored_profile(compiled: CompiledQuestionnaire, answers: dict, company: dict, lang: str) -> Profile:
    """The profile of stored ``answers`` scored against ``compiled``, leaving out those that
    no longer fit it; InvalidAnswers or ScoringError if they cannot be scored."""
    fitting = fitting_answers(compiled, answers, company)
    return scorer_for(compiled).score(fitting, company, lang=lang, explain=True, checked=True)


def fitting_answers(compiled: CompiledQuestionnaire, answers: dict, company: dict) -> dict:
    """The answers that are valid for ``compiled``: each on its own, then without those to
    hidden questions, options or rows."""
    fitting, _ = check_each(compiled, answers)
    visible, _ = visible_answers(compiled, fitting, company)
    while True:
        try:
            return check_answers(compiled, visible, company)
        except AnswersError as exc:
            bad = {p.question for p in exc.problems} & visible.keys()
            if not bad:  # a condition failed to evaluate: nothing to drop would help
                raise InvalidAnswers(str(exc), exc.problems) from None
            visible = {q: v for q, v in visible.items() if q not in bad}


async def start_reassessment(
    session: AsyncSession,
    previous: Assessment,
    version: QuestionnaireVersion,
    compiled: CompiledQuestionnaire,
    *,
    share_with_advisors: bool,
) -> tuple[Assessment, str]:
    """A new draft for the same company (T1 after T0), pre-filled with the previous answers
    that still fit the questionnaire. The SME accepted the privacy notice again and chose
    ``share_with_advisors`` again for it: nothing of the previous consent is carried over."""
    company = CompanyProfile(
        name=previous.company_name or "",
        size=previous.size or "small",
        country=previous.country or "",
        nace=previous.nace or "",
        contact_name=previous.contact_name or "",
        contact_email=previous.contact_email or "",
    )
    assessment, token = await create_assessment(
        session,
        version,
        language=previous.language,
        cluster=previous.cluster,
        sector=previous.sector,
        share_with_advisors=share_with_advisors,
        company=company,
        previous=previous,
    )
    answers = fitting_answers(compiled, await load_answers(session, previous), company_of(assessment))
    if answers:
        # Part of creating the draft, in its transaction, rather than a save through
        # ``saving.save_answers``: the row is new and uncommitted, so nothing can have changed
        # it meanwhile, and the TokenStore's own connections could not even see it yet.
        now = utcnow()
        session.add_all(
            Answer(assessment_id=assessment.id, question_id=q, value=msgspec.json.encode(v).decode(), updated_at=now)
            for q, v in answers.items()
        )
    return assessment, token
