"""The SME's pass through a questionnaire, as the web pages need it: which sections and
questions are shown, the posted form fields turned into answers, and the views the templates
render. Nothing here touches the database or HTTP; ``web.pages`` does, and
``assessment.store.responses`` checks and stores what this module produces.

Each kind of question reads its own fields and draws its own widget (``questionnaires.kinds``).
Form fields are named after the question: ``{qid}`` for a question's options, value or text,
``{qid}.{row}`` for a matrix row and ``{qid}.na`` for the "don't know" box beside an input
box. Question and row ids are ``[a-z][a-z0-9_]*``, so the dot cannot be part of either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from questionnaires.compile import CompiledQuestionnaire
from questionnaires.kinds import NA, Question, answer_required, kind_of
from questionnaires.kinds.base import Gettext, Widget
from questionnaires.reference import CLUSTERS, LANGUAGES, SECTORS
from questionnaires.schema import Section
from scoring.answers import Env, ScoringError, shown_items, visible_answers
from scoring.profile import Profile, RecommendationResult

if TYPE_CHECKING:
    from scoring.render.labels import Labels

CONTROL_FIELDS = frozenset({"_csrf_token", "action", "lang", "_autosave", "_shown_error"})
"""Fields of the section form that are not answers."""

class Form(Protocol):
    def getall(self, key: str, default: Any = ...) -> list[Any]: ...

    def keys(self) -> Iterable[str]: ...


def field_values(form: Form, name: str) -> list[str]:
    """The non-empty text values posted under ``name`` (a file upload is not an answer)."""
    return [v for v in form.getall(name, []) if isinstance(v, str) and v != ""]


# --- Choosing a questionnaire ------------------------------------------------------------


@dataclass(frozen=True)
class SectorChoice:
    """One radio of the start page: the questionnaire an SME of ``sector`` answers."""

    questionnaire: CompiledQuestionnaire
    sector: str

    @property
    def value(self) -> str:
        return f"{self.questionnaire.id}:{self.sector}"


def sector_choices(offered: Mapping[str, CompiledQuestionnaire]) -> list[SectorChoice]:
    """For each sector, the most specific offered questionnaire (the one written for the
    fewest sectors), so that a furniture maker gets the furniture variant rather than the
    cross-sector core it extends. Sectors in the Eurocluster's order, then the others."""
    sectors = list(SECTORS) + sorted({s for q in offered.values() for s in q.meta.sectors} - set(SECTORS))
    choices = []
    for sector in sectors:
        fitting = [q for q in offered.values() if sector in q.meta.sectors or not q.meta.sectors]
        if fitting:
            best = min(fitting, key=lambda q: (len(q.meta.sectors) or 10**6, q.id))
            choices.append(SectorChoice(best, sector))
    return choices


def find_choice(offered: Mapping[str, CompiledQuestionnaire], value: str) -> SectorChoice | None:
    return next((c for c in sector_choices(offered) if c.value == value), None)


def language_of(value: str | None, default: str = "en") -> str:
    return value if value in LANGUAGES else default


def is_cluster(value: str | None) -> bool:
    return value in CLUSTERS


# --- What is shown -----------------------------------------------------------------------


@dataclass
class Shown:
    """What the SME sees with the answers as they stand: visible answers, hidden questions
    and the sections that have at least one visible question."""

    compiled: CompiledQuestionnaire
    answers: dict[str, Any]
    visible: dict[str, Any]
    hidden: set[str]
    sections: list[Section]
    env: Env

    def section(self, section_id: str) -> Section | None:
        return next((s for s in self.sections if s.id == section_id), None)

    def position(self, section_id: str) -> int:
        """The 0-based place of a visible section; -1 when it is hidden or unknown."""
        return next((i for i, s in enumerate(self.sections) if s.id == section_id), -1)

    def questions_of(self, section: Section) -> list[Question]:
        return [q for q in section.questions if q.id not in self.hidden]

    @property
    def answered(self) -> int:
        return sum(1 for q in self.compiled.questions if q not in self.hidden and q in self.visible)

    @property
    def total(self) -> int:
        return sum(1 for q in self.compiled.questions if q not in self.hidden)

    def items(self, q: Question) -> list[Any]:
        """The question's options or rows whose condition holds."""
        return shown_items(self.compiled, q, self.env)

    def signature(self, qid: str) -> tuple[Any, ...]:
        """What decides how a question is drawn besides its answer: shown or not, and which
        options and rows. A change means its fragment must be drawn again."""
        if qid in self.hidden:
            return ("hidden",)
        return ("shown", tuple(item.id for item in self.items(self.compiled.questions[qid])))


def shown(compiled: CompiledQuestionnaire, answers: dict[str, Any], company: dict[str, Any]) -> Shown:
    try:
        visible, hidden = visible_answers(compiled, answers, company)
    except ScoringError as exc:
        # A condition that fails at run time is the questionnaire's fault, not the SME's.
        raise QuestionnaireBroken(str(exc)) from None
    hidden = set(hidden)
    sections = [s for s in compiled.sections if any(q.id not in hidden for q in s.questions)]
    return Shown(compiled, answers, visible, hidden, sections, Env(dict(visible), company))


class QuestionnaireBroken(Exception):
    """A show_if condition failed to evaluate: a bug in the questionnaire."""


# --- Form fields → answers ---------------------------------------------------------------


@dataclass
class Parsed:
    """The answers read from a form, and what was wrong with the others."""

    answers: dict[str, Any] = field(default_factory=dict)
    """question id → answer, None to clear it."""
    errors: dict[str, str] = field(default_factory=dict)
    """question id → message, in the SME's language."""
    raw: dict[str, Any] = field(default_factory=dict)
    """question id → what was typed, to show it again next to its error."""
    adjusted: set[str] = field(default_factory=set)
    """Questions whose answer the server changed from what was ticked (an exclusive option
    cleared the others): their fragment must be drawn again."""


def question_of_field(name: str) -> str:
    return name.split(".", 1)[0]


def parse_question(q: Question, form: Form, stored: Any, shown_: Shown, _: Gettext, parsed: Parsed) -> None:
    """Read one question's fields into ``parsed``. Ids are passed on unchecked:
    ``save_answers`` refuses unknown options, and its message goes next to the field."""
    reading = kind_of(q).parse(q, lambda name: field_values(form, name), stored, shown_.items(q), _)
    if reading.adjusted:
        parsed.adjusted.add(q.id)
    if reading.raw is not None:
        parsed.raw[q.id] = reading.raw
    if reading.error is not None:
        parsed.errors[q.id] = reading.error
    else:
        parsed.answers[q.id] = reading.answer


@dataclass
class Unexpected:
    """Fields a section form should not carry, by what is wrong with them."""

    hidden: list[str] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.hidden or self.elsewhere or self.unknown)


def unexpected_fields(form: Form, on_page: set[str], shown_: Shown) -> Unexpected:
    """Field names that belong to no question on the page: a question that was hidden when
    the page was drawn, one of another page, or none at all. A form drawn by this site never
    posts them."""
    out = Unexpected()
    for name in dict.fromkeys(form.keys()):
        if name in CONTROL_FIELDS:
            continue
        qid = question_of_field(name)
        if qid in on_page:
            continue
        if qid in shown_.compiled.questions:
            (out.hidden if qid in shown_.hidden else out.elsewhere).append(qid)
        else:
            out.unknown.append(name)
    return out


def parse_page(questions: list[Question], form: Form, shown_: Shown, _: Gettext) -> Parsed:
    """The answers the form posts for ``questions``, and the problems of the others."""
    parsed = Parsed()
    for q in questions:
        parse_question(q, form, shown_.answers.get(q.id), shown_, _, parsed)
    return parsed


def hidden_by(compiled: CompiledQuestionnaire, answers: dict[str, Any], updates: dict[str, Any], company: dict[str, Any]) -> set[str]:
    """The questions among ``updates`` that the updates themselves hide. A page posted
    without JavaScript carries the answer to a question below the one that now hides it;
    that answer is dropped rather than refused, as the SME could not have known."""
    merged = {**answers, **{q: v for q, v in updates.items() if v is not None}}
    for q, v in updates.items():
        if v is None:
            merged.pop(q, None)
    _, hidden = visible_answers(compiled, merged, company)
    return {q for q in updates if q in hidden}


# --- Views for the templates -------------------------------------------------------------


@dataclass
class QuestionView:
    """A question as the template draws it, in one language: its words, and the widget its
    kind draws it with (``questionnaires.kinds.base``: choices, a matrix or an input box)."""

    q: Question
    widget: Widget
    text: str
    help: str
    required: bool
    value: Any
    error: str | None
    fields: list[str]
    exclusive_note: str | None
    form: dict[str, list[str]]
    """The answer as the form's fields hold it, by field name."""
    raw: str | None = None

    @property
    def id(self) -> str:
        return self.q.id

    @property
    def dom_id(self) -> str:
        return f"q-{self.q.id}"

    @property
    def first_input_id(self) -> str:
        """Where an error summary's link takes the keyboard."""
        return self.widget.first_input_id(self.q.id)

    def checked(self, value: str, row: str | None = None) -> bool:
        """Whether the box or radio of ``value`` (in matrix row ``row``) is ticked."""
        return value in self.form.get(self.q.id if row is None else f"{self.q.id}.{row}", ())

    @property
    def na_ticked(self) -> bool:
        """The "don't know" box beside an input box (the field ``{qid}.na``) is ticked."""
        return NA in self.form.get(f"{self.q.id}.na", ())

    @property
    def input_value(self) -> str:
        """The value of an input box: what was typed when it was refused."""
        if self.raw is not None:
            return self.raw
        return next(iter(self.form.get(self.q.id, ())), "")


def question_view(q: Question, shown_: Shown, lang: str, _: Gettext, value: Any = None, error: str | None = None, raw: str | None = None) -> QuestionView:
    """The view of ``q`` with ``value`` in it (and ``error`` beside it), as ``shown_`` shows it."""
    kind = kind_of(q)
    items = shown_.items(q)
    widget = kind.view(q, items, lang, _)
    exclusive_note = None
    names = widget.exclusive_texts()
    if names:
        exclusive_note = _("Ticking “%(option)s” clears the other boxes, and ticking another box clears it.") % {
            "option": "”, “".join(names)
        }
    return QuestionView(
        q=q,
        widget=widget,
        text=q.text.get(lang),
        help=q.help.get(lang) if q.help else "",
        required=answer_required(q),
        value=value,
        error=error,
        fields=kind.field_names(q, items),
        exclusive_note=exclusive_note,
        form=kind.form_values(q, value),
        raw=raw,
    )


# --- Recommendations in words ------------------------------------------------------------


def describe_trigger(compiled: CompiledQuestionnaire, name: str, value: Any, lang: str, labels: Labels) -> tuple[str, str]:
    """(what, value) for one thing a recommendation's rule read, in words: an answer becomes
    its question and the option texts, a score its dimension's title and the number."""
    head, _dot, member = name.partition(".")
    if name in compiled.questions:
        return compiled.questions[name].text.get(lang), labels.answer(compiled, name, value)
    if head in compiled.questions and member:
        # One row of a matrix: the answer names the row ("ERP: In use").
        return compiled.questions[head].text.get(lang), labels.answer(compiled, head, {member: value})
    if head == "level":
        return _level_trigger(compiled, member, value, lang, labels.gettext)
    if head == "company":
        return _company_trigger(member, value, labels)
    if name == "archetype":
        titles = {a.id: a.title.get(lang) for a in compiled.archetypes.archetypes} if compiled.archetypes else {}
        return labels.gettext("Twin-transition profile"), titles.get(value, value or "–")
    scored = _scored_thing(compiled, name, lang, labels.gettext)
    if scored is not None:
        return scored, labels.number(value)
    return name, "–" if value is None else str(value)


def _scored_thing(compiled: CompiledQuestionnaire, name: str, lang: str, _: Gettext) -> str | None:
    """What a score or points the rule read belong to, in words; None for anything else."""
    head, _dot, member = name.partition(".")
    if head == "dimension" and member in compiled.dimensions:
        return compiled.dimensions[member].title.get(lang)
    if head == "pillar" and member in compiled.pillars:
        return compiled.pillars[member].title.get(lang)
    if name == "overall":
        return _("Overall score")
    if head in ("score", "points") and member in compiled.questions:
        what = _("Score of: %(question)s") if head == "score" else _("Points for: %(question)s")
        return what % {"question": compiled.questions[member].text.get(lang)}
    return None


def _level_trigger(compiled: CompiledQuestionnaire, member: str, value: Any, lang: str, _: Gettext) -> tuple[str, str]:
    levels = {lv.id: lv.title.get(lang) for lv in compiled.levels}
    what = _("Overall level") if member == "overall" else _("Level: %(dimension)s") % {
        "dimension": compiled.dimensions[member].title.get(lang) if member in compiled.dimensions else member
    }
    return what, levels.get(value, value or "–")


def _company_trigger(member: str, value: Any, labels: Labels) -> tuple[str, str]:
    _ = labels.gettext
    names = {"size": _("Company size"), "sector": _("Sector"), "country": _("Country"), "cluster": _("Cluster")}
    shown_value = value
    if member == "sector":
        shown_value = labels.sector(value)
    elif member == "country":
        shown_value = labels.country(value)
    elif member == "cluster":
        shown_value = labels.cluster(value)
    elif member == "size":
        shown_value = labels.size(value)
    return names.get(member, member), str(shown_value)


# --- Results -----------------------------------------------------------------------------


def safe_url(url: str | None) -> str | None:
    """Catalog links only to web pages: a ``javascript:`` URL in a YAML file is not a link."""
    return url if url and re.match(r"^https?://", url) else None


def results_view(compiled: CompiledQuestionnaire, profile: Profile, lang: str) -> dict[str, Any]:
    """What results.html shows of a profile, in words of ``lang``: the charts, the tables
    beside them, the recommendations with their instruments and reasons, and the answers
    behind each dimension."""
    from scoring.render.labels import Labels

    labels = Labels(lang)
    levels = {lv.id: lv for lv in compiled.levels}
    dimensions = dimension_views(compiled, profile, labels)
    archetype, matrix = archetype_view(compiled, profile, labels)
    by_id = {d["id"]: d for d in dimensions}
    overall_level = levels.get(profile.overall.level or "")
    return {
        "overall": labels.number(profile.overall.score),
        "overall_level": overall_level.title.get(lang) if overall_level else "–",
        "overall_meaning": overall_level.description.get(lang) if overall_level and overall_level.description else "",
        "pillars": [
            {"title": compiled.pillars[pid].title.get(lang) if pid in compiled.pillars else pid, "score": labels.number(p.score)}
            for pid, p in profile.pillars.items()
        ],
        "dimensions": dimensions,
        "radar": radar_view(dimensions, labels.gettext),
        "matrix": matrix,
        "archetype": archetype,
        "strengths": [by_id[d]["title"] for d in profile.strengths if d in by_id],
        "gaps": [by_id[d]["title"] for d in profile.gaps if d in by_id],
        "recommendations": [recommendation_view(compiled, r, labels) for r in profile.recommendations],
        "dma": labels.dma(profile.dma) if profile.dma is not None else None,
    }


def dimension_views(compiled: CompiledQuestionnaire, profile: Profile, labels: Labels) -> list[dict[str, Any]]:
    """Each dimension's row of the results table, with the answers behind its score."""
    lang = labels.lang
    levels = {lv.id: lv.title.get(lang) for lv in compiled.levels}
    dimensions = []
    for number, (did, d) in enumerate(profile.dimensions.items(), 1):
        dimension = compiled.dimensions.get(did)
        contributions = [
            {
                "question": compiled.questions[c.question].text.get(lang) if c.question in compiled.questions else c.question,
                "answer": labels.answer(compiled, c.question, c.answer),
                "score": labels.number(c.score),
                "points": labels.number(c.contribution),
            }
            for c in sorted(d.contributions or [], key=lambda c: -c.contribution)
        ]
        dimensions.append(
            {
                "number": number,
                "id": did,
                "title": dimension.title.get(lang) if dimension else did,
                "pillar": compiled.pillars[d.pillar].title.get(lang) if d.pillar in compiled.pillars else d.pillar,
                "score": d.score,
                "score_text": labels.number(d.score),
                "level": levels.get(d.level or "", "–"),
                "computed": d.computed,
                "contributions": contributions,
            }
        )
    return dimensions


def radar_view(dimensions: list[dict[str, Any]], _: Gettext) -> str | None:
    """The radar chart of the dimensions' scores, when there are three or more."""
    from . import charts

    if len(dimensions) < 3:
        return None
    described = "; ".join(f"{d['number']}. {d['title']}: {d['score_text']}" for d in dimensions)
    return charts.radar_chart(
        [charts.Axis(str(d["number"]), d["score"]) for d in dimensions],
        title=_("Your scores by dimension"),
        description=_("Scores from 0 to 100, numbered as in the table: %(scores)s.") % {"scores": described},
        id_prefix="radar",
    )


def archetype_view(compiled: CompiledQuestionnaire, profile: Profile, labels: Labels) -> tuple[dict[str, Any] | None, str | None]:
    """The company's twin-transition profile in words, and the matrix chart that places it."""
    from . import charts

    a = profile.archetype
    grid = compiled.archetypes
    if a is None or grid is None:
        return None, None
    _ = labels.gettext
    lang = labels.lang
    titles = {t.id: t.title.get(lang) for t in grid.archetypes}
    found = next((t for t in grid.archetypes if t.id == a.id), None)
    x_title = compiled.pillars[a.x_pillar].title.get(lang) if a.x_pillar in compiled.pillars else a.x_pillar
    y_title = compiled.pillars[a.y_pillar].title.get(lang) if a.y_pillar in compiled.pillars else a.y_pillar
    archetype = {
        "title": titles.get(a.id, a.id),
        "description": found.description.get(lang) if found and found.description else "",
        "x_pillar": x_title,
        "y_pillar": y_title,
        "x": labels.number(a.x),
        "y": labels.number(a.y),
    }
    matrix = charts.twin_matrix(
        x=a.x,
        y=a.y,
        x_cuts=grid.x_cuts,
        y_cuts=grid.y_cuts,
        cells=[[titles.get(cell, cell) for cell in row] for row in grid.grid],
        x_label=x_title,
        y_label=y_title,
        point_label=_("Your company"),
        title=_("Twin-transition matrix"),
        description=_("%(x_pillar)s %(x)s across, %(y_pillar)s %(y)s up: your company's profile is “%(profile)s”.")
        % {"x_pillar": x_title, "x": archetype["x"], "y_pillar": y_title, "y": archetype["y"], "profile": archetype["title"]},
        current=(charts.grid_cell(a.y, grid.y_cuts), charts.grid_cell(a.x, grid.x_cuts)),
    )
    return archetype, matrix


def recommendation_view(compiled: CompiledQuestionnaire, r: RecommendationResult, labels: Labels) -> dict[str, Any]:
    """One recommendation with its instruments, training and the reasons it was made."""
    lang = labels.lang
    instruments = [
        {"title": item.title.get(lang), "kind": labels.instrument_kind(item.kind), "description": item.description.get(lang), "url": safe_url(item.url)}
        for item in (compiled.instruments.get(iid) for iid in r.instruments)
        if item is not None
    ]
    training = [
        {"title": t.title.get(lang), "description": t.description.get(lang) if t.description else ""}
        for t in (compiled.training_topics.get(tid) for tid in r.training)
        if t is not None
    ]
    return {
        "title": r.title,
        "rationale": r.rationale,
        "next_step": r.next_step,
        "cross_sector": r.cross_sector,
        "eligibility_note": r.eligibility_note,
        "instruments": instruments,
        "training": training,
        "because": [describe_trigger(compiled, t.name, t.value, lang, labels) for t in r.triggered_by],
    }
