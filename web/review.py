"""One assessment in the workspace: the SME's results with their explanation, the advisors'
notes and the action plan agreed with the SME, and the company's progress from one
assessment to the next (T0, T1, ...). Every handler loads the assessment through
``visible_assessment``, so that another cluster's id answers 404 like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from assessment.store import erasure
from assessment.store.inputs import has_control_characters
from assessment.store.models import Assessment, DimensionScore, Note, Result, User, utcnow
from assessment.store.responses import ResponseError, current_result, decode_profile
from assessment.workspace.accounts import CurrentUser
from questionnaires.compile import CompiledQuestionnaire
from questionnaires.messages import N_
from scoring.profile import Profile
from scoring.render.labels import Labels

from . import reports
from .auth import contact_of, may_see, requires_organiser, requires_user, user_of, visible_assessment, visible_assessments
from .context import AppContext, Context, ReadSession, Transaction
from .languages import Refusal, format_count, translator, workspace_language, workspace_page

NOTE_KINDS = {"note": N_("Note"), "plan": N_("Action plan step")}
MAX_NOTE_LENGTH = 5000


# --- Queries -----------------------------------------------------------------------------


@dataclass
class NoteView:
    kind: str
    text: str
    author: str | None
    """None when the author's account was removed."""
    created_at: datetime


async def notes_of(session: AsyncSession, assessment_id: int) -> list[NoteView]:
    rows = await session.execute(
        select(Note.kind, Note.text, User.email, Note.created_at)
        .outerjoin(User, User.id == Note.author_id)
        .where(Note.assessment_id == assessment_id)
        .order_by(Note.created_at, Note.id)
    )
    return [NoteView(*row) for row in rows]


async def add_note(session: AsyncSession, assessment: Assessment, author: CurrentUser, kind: str, text: str) -> Note:
    note = Note(assessment_id=assessment.id, author_id=author.id, kind=kind, text=text, created_at=utcnow())
    session.add(note)
    await session.flush()
    return note


async def series_of(session: AsyncSession, user: CurrentUser, assessment: Assessment) -> list[Assessment]:
    """The company's assessments that ``user`` may see, oldest first: T0, T1, ..."""
    series = assessment.series_id or assessment.id
    return list(
        await session.scalars(
            select(Assessment)
            .where(Assessment.series_id == series, visible_assessments(user))
            .order_by(Assessment.created_at, Assessment.id)
        )
    )


async def compiled_for(context: AppContext, session: AsyncSession, version_id: int) -> CompiledQuestionnaire | None:
    """The compiled version, or None where it can no longer be had: the page shows the
    stored scores without the questions' texts."""
    try:
        return await context.versions.get(version_id, session)
    except ResponseError:
        return None


# --- The assessment page -----------------------------------------------------------------


def explanation(compiled: CompiledQuestionnaire | None, profile: Profile, lang: str = "en") -> dict[str, list[dict]]:
    """For each dimension, the answers that made its score, largest contribution first, in
    ``lang``."""
    labels = Labels(lang)
    out: dict[str, list[dict]] = {}
    for dimension_id, dimension in profile.dimensions.items():
        rows = []
        for c in sorted(dimension.contributions or [], key=lambda c: -c.contribution):
            question = compiled.questions.get(c.question) if compiled else None
            rows.append(
                {
                    "question": question.text.get(lang) if question is not None else c.question,
                    "answer": labels.answer(compiled, c.question, c.answer) if compiled and question is not None else str(c.answer),
                    "score": c.score,
                    "contribution": c.contribution,
                }
            )
        out[dimension_id] = rows
    return out


def titles(compiled: CompiledQuestionnaire | None, lang: str = "en") -> dict[str, str]:
    """Titles in ``lang`` by ``kind:id`` (dimension, pillar, level, archetype, instrument, training)."""
    if compiled is None:
        return {}
    out = {f"dimension:{d.id}": d.title.get(lang) for d in compiled.dimensions.values()}
    out.update({f"pillar:{p}": pillar.title.get(lang) for p, pillar in compiled.pillars.items()})
    out.update({f"level:{lv.id}": lv.title.get(lang) for lv in compiled.levels})
    if compiled.archetypes:
        out.update({f"archetype:{a.id}": a.title.get(lang) for a in compiled.archetypes.archetypes})
    out.update({f"instrument:{i}": v.title.get(lang) for i, v in compiled.instruments.items()})
    out.update({f"training:{t}": v.title.get(lang) for t, v in compiled.training_topics.items()})
    return out


async def assessment_context(request: Request, context: AppContext, session: AsyncSession, user: CurrentUser, assessment: Assessment) -> dict:
    lang = workspace_language(request)
    _ = translator(request).gettext
    result = await current_result(session, assessment)
    profile = decode_profile(result) if result else None
    compiled = await compiled_for(context, session, result.questionnaire_version_id if result else assessment.questionnaire_version_id)
    contact_name, contact_email = contact_of(user, assessment)
    series = await series_of(session, user, assessment)
    return {
        "user": user,
        "assessment": assessment,
        "contact_name": contact_name,
        "contact_email": contact_email,
        "result": result,
        "profile": profile,
        "compiled": compiled,
        "titles": titles(compiled, lang),
        "explanation": explanation(compiled, profile, lang) if profile else {},
        "notes": await notes_of(session, assessment.id),
        "note_kinds": {kind: _(name) for kind, name in NOTE_KINDS.items()},
        "labels": Labels(lang),
        "series_length": len(series),
        "position": next((i for i, a in enumerate(series) if a.id == assessment.id), 0),
    }


@get("/workspace/assessments/{assessment_id:int}", guards=[requires_user], include_in_schema=False)
async def assessment_page(request: Request, context: Context, session: ReadSession, assessment_id: FromPath[int]) -> Template:
    user = user_of(request)
    assessment = await visible_assessment(session, user, assessment_id)
    return workspace_page(request, "workspace/assessment.html", await assessment_context(request, context, session, user, assessment))


@post("/workspace/assessments/{assessment_id:int}/notes", guards=[requires_user], include_in_schema=False, status_code=303)
async def post_note(request: Request, context: Context, transaction: Transaction, assessment_id: FromPath[int]) -> Template | Redirect:
    user = user_of(request)
    t = translator(request)
    form = await request.form()
    kind = str(form.get("kind") or "")
    text = str(form.get("text") or "").strip()
    error = None
    if kind not in NOTE_KINDS:
        error = t.gettext("kind: choose a note or an action plan step.")
    elif not text:
        error = t.gettext("text: write something first.")
    elif len(text) > MAX_NOTE_LENGTH:
        count = format_count(MAX_NOTE_LENGTH, workspace_language(request))
        error = t.ngettext("text: at most %(count)s character.", "text: at most %(count)s characters.", MAX_NOTE_LENGTH) % {"count": count}
    elif has_control_characters(text, multiline=True):
        error = t.gettext("text: remove the control characters; line breaks and tabs may stay.")
    assessment = await visible_assessment(transaction, user, assessment_id)
    if error is not None:
        shown_again = await assessment_context(request, context, transaction, user, assessment)
        shown_again.update({"note_error": error, "note_text": text, "note_kind": kind})
        return workspace_page(request, "workspace/assessment.html", shown_again, status_code=400)
    await add_note(transaction, assessment, user, kind, text)
    anchor = "plan" if kind == "plan" else "notes"
    return Redirect(f"/workspace/assessments/{assessment_id}#{anchor}", status_code=303)


@get("/workspace/assessments/{assessment_id:int}/report.pdf", guards=[requires_user], include_in_schema=False)
async def assessment_report(request: Request, context: Context, session: ReadSession, assessment_id: FromPath[int]) -> Response[bytes]:
    """The SME's PDF report with the advisors' notes and the agreed action plan."""
    user = user_of(request)
    assessment = await visible_assessment(session, user, assessment_id)
    try:
        compiled, profile, details = await reports.report_inputs(
            context, session, assessment, advisor_notes=True, previous_allowed=lambda a: may_see(user, a)
        )
    except ResponseError as exc:
        raise Refusal(status_code=exc.status_code, detail=exc.message) from None
    return reports.pdf_response(await reports.drawn_after_reading(session, compiled, profile, details))


# --- Erasing (organisers) -----------------------------------------------------------------


async def erase_context(request: Request, session: AsyncSession, assessment: Assessment, error: str | None = None, which: str = "") -> dict:
    user = user_of(request)
    return {"user": user, "assessment": assessment, "series": await series_of(session, user, assessment), "error": error, "which": which}


@get("/workspace/assessments/{assessment_id:int}/erase", guards=[requires_organiser], include_in_schema=False)
async def erase_form(request: Request, session: ReadSession, assessment_id: FromPath[int]) -> Template:
    """What erasing would remove, to confirm: this assessment, or all of its company's."""
    assessment = await visible_assessment(session, user_of(request), assessment_id)
    return workspace_page(request, "workspace/erase.html", await erase_context(request, session, assessment))


@post("/workspace/assessments/{assessment_id:int}/erase", guards=[requires_organiser], include_in_schema=False, status_code=303)
async def erase_assessments(request: Request, context: Context, transaction: Transaction, assessment_id: FromPath[int]) -> Template | Redirect:
    """Erase this assessment, or every assessment of its company, once confirmed: with their
    answers, results and notes, in this request's one transaction (``erasure.erase``)."""
    user = user_of(request)
    assessment = await visible_assessment(transaction, user, assessment_id)
    form = await request.form()
    which = str(form.get("which") or "")
    _ = translator(request).gettext
    error = None
    if which not in ("this", "company"):
        error = _("Choose what to erase: this assessment, or all of the company's.")
    elif form.get("confirm") != "yes":
        error = _("Tick the box to confirm the erasure, or go back.")
    if error is not None:
        shown_again = await erase_context(request, transaction, assessment, error, which)
        return workspace_page(request, "workspace/erase.html", shown_again, status_code=400)
    ids = [assessment.id] if which == "this" else [a.id for a in await series_of(transaction, user, assessment)]
    erased = await erasure.erase(transaction, ids)
    for token_hash in [k for k, draft in context.tokens.drafts.items() if draft.id in erased]:
        context.tokens.drafts.pop(token_hash, None)
    return Redirect(f"/workspace?erased={len(erased)}", status_code=303)


# --- Progress over time ------------------------------------------------------------------


@dataclass
class Step:
    """One assessment of the series, with its current scores."""

    label: str
    assessment: Assessment
    overall: float | None
    level: str | None
    pillars: dict[str, float | None]
    dimensions: dict[str, float | None]


def change(later: float | None, earlier: float | None) -> float | None:
    if later is None or earlier is None:
        return None
    return round(later - earlier, 1)


def step_changes(values: list[float | None]) -> list[float | None]:
    """The change at each step from the one before (None at the first step)."""
    return [None, *(change(values[i], values[i - 1]) for i in range(1, len(values)))]


async def steps_of(session: AsyncSession, series: list[Assessment]) -> list[Step]:
    ids = [a.id for a in series]
    results = {
        r.assessment_id: r
        for r in await session.scalars(select(Result).where(Result.assessment_id.in_(ids), Result.current.is_(True)))
    }
    scores: dict[int, dict[str, float | None]] = {}
    if results:
        rows = await session.execute(
            select(DimensionScore.result_id, DimensionScore.dimension, DimensionScore.score).where(
                DimensionScore.result_id.in_([r.id for r in results.values()])
            )
        )
        for result_id, dimension, score in rows:
            scores.setdefault(result_id, {})[dimension] = score
    steps = []
    for i, a in enumerate(series):
        r = results.get(a.id)
        steps.append(
            Step(
                label=f"T{i}",
                assessment=a,
                overall=r.overall if r else None,
                level=r.overall_level if r else None,
                pillars={"digital": r.digital, "green": r.green, "resilience": r.resilience} if r else {},
                dimensions=scores.get(r.id, {}) if r else {},
            )
        )
    return steps


def progress_rows(steps: list[Step], order: list[str]) -> list[dict]:
    """One row per dimension: its score at each step, the change from the step before, and
    the change from the first scored step to the last."""
    names = list(order) + sorted({d for s in steps for d in s.dimensions} - set(order))
    rows = []
    for name in names:
        values = [s.dimensions.get(name) for s in steps]
        if all(v is None for v in values):
            continue
        scored = [v for v in values if v is not None]
        rows.append(
            {
                "id": name,
                "values": values,
                "steps": step_changes(values),
                "total": change(scored[-1], scored[0]) if len(scored) > 1 else None,
            }
        )
    return rows


@get("/workspace/assessments/{assessment_id:int}/history", guards=[requires_user], include_in_schema=False)
async def history_page(request: Request, context: Context, session: ReadSession, assessment_id: FromPath[int]) -> Template:
    user = user_of(request)
    assessment = await visible_assessment(session, user, assessment_id)
    series = await series_of(session, user, assessment)
    steps = await steps_of(session, series)
    latest = next((s for s in reversed(steps) if s.overall is not None), None)
    compiled = None
    result = await current_result(session, latest.assessment) if latest is not None else None
    if result is not None:
        compiled = await compiled_for(context, session, result.questionnaire_version_id)
    order = list(compiled.dimensions) if compiled else []
    overall_values = [s.overall for s in steps]
    scored = [v for v in overall_values if v is not None]
    shown = {
        "user": user,
        "assessment": assessment,
        "steps": steps,
        "rows": progress_rows(steps, order),
        "overall": {
            "values": overall_values,
            "steps": step_changes(overall_values),
            "total": change(scored[-1], scored[0]) if len(scored) > 1 else None,
        },
        "titles": titles(compiled, workspace_language(request)),
    }
    return workspace_page(request, "workspace/history.html", shown)


ROUTES = [assessment_page, post_note, assessment_report, history_page, erase_form, erase_assessments]
