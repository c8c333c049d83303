"""The SME's pass through a questionnaire, as the web pages need it: which sections and
questions are shown, the posted form fields turned into answers, and the views the templates
render. Nothing here touches the database or HTTP; ``web.pages`` does, and
``assessment.store.responses`` checks and stores what this module produces.

Form fields are named after the question: ``{qid}`` for a question's options, value or text,
``{qid}.{row}`` for a matrix row and ``{qid}.na`` for the "don't know" box of a number.
Question and row ids are ``[a-z][a-z0-9_]*``, so the dot cannot be part of either.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from questionnaires.compile import CompiledQuestionnaire
from questionnaires.reference import CLUSTERS, LANGUAGES, SECTORS
from questionnaires.schema import (
    FreeText,
    Matrix,
    MultipleChoice,
    Number,
    Question,
    Scale,
    Section,
    SingleChoice,
    YesNo,
)
from scoring.answers import NA, Env, ScoringError, evaluate, visible_answers

CONTROL_FIELDS = frozenset({"_csrf_token", "action", "lang", "_autosave", "_shown_error"})
"""Fields of the section form that are not answers."""

Gettext = Callable[[str], str]


class Form(Protocol):
    def getall(self, key: str, default: Any = ...) -> list: ...

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
    answers: dict
    visible: dict
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

    def options(self, q: Question) -> list:
        """The question's options (or a matrix's columns) whose condition holds."""
        items = getattr(q, "options", None) or (q.columns if isinstance(q, Matrix) else None) or []
        return [o for o in items if self._holds(("option", q.id, o.id))]

    def rows(self, q: Matrix) -> list:
        return [r for r in q.rows if self._holds(("row", q.id, r.id))]

    def _holds(self, key: tuple) -> bool:
        condition = self.compiled.show_if.get(key)
        return condition is None or bool(evaluate(condition, self.env))

    def signature(self, qid: str) -> tuple:
        """What decides how a question is drawn besides its answer: shown or not, and which
        options and rows. A change means its fragment must be drawn again."""
        if qid in self.hidden:
            return ("hidden",)
        q = self.compiled.questions[qid]
        rows = tuple(r.id for r in self.rows(q)) if isinstance(q, Matrix) else ()
        return ("shown", tuple(o.id for o in self.options(q)), rows)


def shown(compiled: CompiledQuestionnaire, answers: dict, company: dict) -> Shown:
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


def field_names(q: Question, rows: Iterable = ()) -> list[str]:
    """The names of the form fields of a question (for htmx's hx-params)."""
    if isinstance(q, Matrix):
        return [f"{q.id}.{r.id}" for r in rows]
    if isinstance(q, Number) and q.allow_na:
        return [q.id, f"{q.id}.na"]
    return [q.id]


def question_of_field(name: str) -> str:
    return name.split(".", 1)[0]


def _exclusive_pick(ticked: list[str], exclusive: set[str], before: list[str]) -> tuple[list[str], bool]:
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


def _as_list(value: Any) -> list:
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [value]
    return []


_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def parse_number(text: str) -> float | None:
    """A number as people type it: a decimal comma is read as a point."""
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    if not _NUMBER.match(text):
        return None
    value = float(text.replace(",", "."))
    return value if math.isfinite(value) else None


def _fmt(value: float) -> str:
    return f"{value:g}"


def parse_question(q: Question, form: Form, stored: Any, shown_: Shown, _: Gettext, parsed: Parsed) -> None:
    """Read one question's fields into ``parsed``. Ids are passed on unchecked:
    ``save_answers`` refuses unknown options, and its message goes next to the field."""
    qid = q.id
    values = field_values(form, qid)

    def error(message: str) -> None:
        parsed.errors[qid] = message

    if isinstance(q, MultipleChoice):
        exclusive = {o.id for o in q.options if o.exclusive} | ({NA} if q.allow_na else set())
        ticked = list(dict.fromkeys(values))
        kept, changed = _exclusive_pick(ticked, exclusive, _as_list(stored))
        if changed:
            parsed.adjusted.add(qid)
        parsed.answers[qid] = (NA if kept == [NA] else kept) or None
        return
    if isinstance(q, Matrix):
        columns = {str(p.value): p.value for p in q.scale} if q.scale is not None else None
        before = stored if isinstance(stored, dict) else {}
        answer: dict[str, Any] = {}
        for row in shown_.rows(q):
            cell = field_values(form, f"{qid}.{row.id}")
            if not cell:
                continue
            if q.multiple:
                kept, changed = _exclusive_pick(list(dict.fromkeys(cell)), {NA} if q.allow_na else set(), _as_list(before.get(row.id)))
                if changed:
                    parsed.adjusted.add(qid)
                answer[row.id] = NA if kept == [NA] else kept
            elif len(cell) > 1:
                return error(_("Choose one answer in each row."))
            elif cell[0] == NA:
                answer[row.id] = NA
            elif columns is not None:
                # An unknown value stays text, and save_answers names it.
                answer[row.id] = columns.get(cell[0], cell[0])
            else:
                answer[row.id] = cell[0]
        parsed.answers[qid] = answer or None
        return
    if isinstance(q, FreeText):
        text = values[0] if values else ""
        text = text.replace("\r\n", "\n")
        if len(values) > 1:
            return error(_("Send one text only."))
        if len(text) > q.max_length:
            parsed.raw[qid] = text
            return error(_("Shorten the text to %(limit)s characters or fewer; it has %(length)s.") % {"limit": q.max_length, "length": len(text)})
        parsed.answers[qid] = text if text.strip() else None
        return
    if isinstance(q, Number):
        na = q.allow_na and NA in field_values(form, f"{qid}.na")
        text = values[0].strip() if values else ""
        if len(values) > 1:
            return error(_("Enter one number."))
        if na and text:
            # Both given: the one changed last wins, as with an exclusive box.
            parsed.adjusted.add(qid)
            na = stored != NA
        if na:
            parsed.answers[qid] = NA
            return
        if not text:
            parsed.answers[qid] = None
            return
        number = parse_number(text)
        parsed.raw[qid] = text
        if number is None:
            return error(_("Enter a number, such as 12 or 12.5."))
        if q.integer and number != int(number):
            return error(_("Enter a whole number, such as 12."))
        if q.min is not None and number < q.min:
            return error(_("Enter a number of %(min)s or more.") % {"min": _fmt(q.min)})
        if q.max is not None and number > q.max:
            return error(_("Enter a number of %(max)s or less.") % {"max": _fmt(q.max)})
        parsed.answers[qid] = int(number) if number == int(number) else number
        return
    # One choice: single choice, scale, yes/no.
    if len(values) > 1:
        return error(_("Choose one answer."))
    if not values:
        parsed.answers[qid] = None
        return
    value = values[0]
    if value == NA:
        parsed.answers[qid] = NA
    elif isinstance(q, Scale):
        parsed.answers[qid] = int(value) if re.fullmatch(r"-?\d{1,9}", value) else value
    elif isinstance(q, YesNo):
        parsed.answers[qid] = {"yes": True, "no": False}.get(value, value)
    else:
        parsed.answers[qid] = value


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
    parsed = Parsed()
    for q in questions:
        parse_question(q, form, shown_.answers.get(q.id), shown_, _, parsed)
    return parsed


def hidden_by(compiled: CompiledQuestionnaire, answers: dict, updates: dict, company: dict) -> set[str]:
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
class Choice:
    id: str
    value: str
    text: str
    exclusive: bool = False


@dataclass
class QuestionView:
    """A question as the template draws it, in one language."""

    q: Question
    kind: str
    text: str
    help: str
    required: bool
    value: Any
    error: str | None
    choices: list[Choice]
    rows: list[Choice]
    fields: list[str]
    exclusive_note: str | None
    unit: str = ""
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
        if self.kind in ("number", "text"):
            return f"f-{self.q.id}"
        if self.kind == "matrix":
            row = self.rows[0].id if self.rows else ""
            col = self.choices[0].id if self.choices else ""
            return f"f-{self.q.id}-{row}-{col}"
        return f"f-{self.q.id}-{self.choices[0].id}" if self.choices else self.dom_id

    def checked(self, value: str, row: str | None = None) -> bool:
        current = self.value.get(row) if row is not None and isinstance(self.value, dict) else self.value
        if isinstance(current, list):
            return value in current
        if isinstance(current, bool):
            return value == ("yes" if current else "no")
        return current is not None and str(current) == value

    @property
    def input_value(self) -> str:
        """The value of a number or text box: what was typed when it was refused."""
        if self.raw is not None:
            return self.raw
        if self.value is None or self.value == NA and self.kind == "number":
            return ""
        if isinstance(self.value, float):
            return _fmt(self.value)
        return str(self.value)


KINDS = {
    SingleChoice: "single_choice",
    MultipleChoice: "multiple_choice",
    Scale: "scale",
    Matrix: "matrix",
    Number: "number",
    YesNo: "yes_no",
    FreeText: "text",
}


def question_view(q: Question, shown_: Shown, lang: str, _: Gettext, value: Any = None, error: str | None = None, raw: str | None = None) -> QuestionView:
    kind = KINDS[type(q)]
    na = Choice(NA, NA, _("Don't know / not applicable"), exclusive=True) if q.allow_na else None
    choices: list[Choice] = []
    rows: list[Choice] = []
    unit = ""
    exclusive_note = None
    if isinstance(q, (SingleChoice, MultipleChoice)):
        choices = [Choice(o.id, o.id, o.text.get(lang), o.exclusive) for o in shown_.options(q)]
    elif isinstance(q, Scale):
        labels = {p.value: p.text.get(lang) for p in q.labels}
        choices = [Choice(str(v), str(v), f"{v}: {labels[v]}" if v in labels else str(v)) for v in range(q.min, q.max + 1)]
    elif isinstance(q, YesNo):
        choices = [Choice("yes", "yes", _("Yes")), Choice("no", "no", _("No"))]
    elif isinstance(q, Matrix):
        if q.scale is not None:
            choices = [Choice(str(p.value), str(p.value), p.text.get(lang)) for p in q.scale]
        else:
            choices = [Choice(o.id, o.id, o.text.get(lang)) for o in shown_.options(q)]
        rows = [Choice(r.id, r.id, r.text.get(lang)) for r in shown_.rows(q)]
    elif isinstance(q, Number):
        unit = q.unit.get(lang) if q.unit else ""
    if na is not None and not isinstance(q, (Number, FreeText)):
        choices.append(na)
    if isinstance(q, MultipleChoice) or (isinstance(q, Matrix) and q.multiple and q.allow_na):
        names = [c.text for c in choices if c.exclusive]
        if names:
            exclusive_note = _("Ticking “%(option)s” clears the other boxes, and ticking another box clears it.") % {
                "option": "”, “".join(names)
            }
    return QuestionView(
        q=q,
        kind=kind,
        text=q.text.get(lang),
        help=q.help.get(lang) if q.help else "",
        required=q.required and not isinstance(q, FreeText),
        value=value,
        error=error,
        choices=choices,
        rows=rows,
        fields=field_names(q, shown_.rows(q) if isinstance(q, Matrix) else ()),
        exclusive_note=exclusive_note,
        unit=unit,
        raw=raw,
    )


# --- Recommendations in words ------------------------------------------------------------


def describe_trigger(compiled: CompiledQuestionnaire, name: str, value: Any, lang: str, labels) -> tuple[str, str]:
    """(what, value) for one thing a recommendation's rule read, in words: an answer becomes
    its question and the option texts, a score its dimension's title and the number."""
    _ = labels.gettext
    head, _dot, member = name.partition(".")
    if name in compiled.questions:
        return compiled.questions[name].text.get(lang), labels.answer(compiled, name, value)
    if head in compiled.questions and member:
        # One row of a matrix: the answer names the row ("ERP: In use").
        return compiled.questions[head].text.get(lang), labels.answer(compiled, head, {member: value})
    if head == "dimension" and member in compiled.dimensions:
        return compiled.dimensions[member].title.get(lang), labels.number(value)
    if head == "pillar" and member in compiled.pillars:
        return compiled.pillars[member].title.get(lang), labels.number(value)
    if head == "level":
        levels = {lv.id: lv.title.get(lang) for lv in compiled.levels}
        what = _("Overall level") if member == "overall" else _("Level: %(dimension)s") % {
            "dimension": compiled.dimensions[member].title.get(lang) if member in compiled.dimensions else member
        }
        return what, levels.get(value, value or "–")
    if name == "overall":
        return _("Overall score"), labels.number(value)
    if name == "archetype":
        titles = {a.id: a.title.get(lang) for a in compiled.archetypes.archetypes} if compiled.archetypes else {}
        return _("Twin-transition profile"), titles.get(value, value or "–")
    if head in ("score", "points") and member in compiled.questions:
        what = _("Score of: %(question)s") if head == "score" else _("Points for: %(question)s")
        return what % {"question": compiled.questions[member].text.get(lang)}, labels.number(value)
    if head == "company":
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
    return name, "–" if value is None else str(value)


# --- Results -----------------------------------------------------------------------------


def safe_url(url: str | None) -> str | None:
    """Catalog links only to web pages: a ``javascript:`` URL in a YAML file is not a link."""
    return url if url and re.match(r"^https?://", url) else None


def results_view(compiled: CompiledQuestionnaire, profile, lang: str) -> dict:
    """What results.html shows of a profile, in words of ``lang``: the charts, the tables
    beside them, the recommendations with their instruments and reasons, and the answers
    behind each dimension."""
    from scoring.render.labels import Labels

    from . import charts

    labels = Labels(lang)
    _ = labels.gettext
    levels = {lv.id: lv for lv in compiled.levels}

    def level_title(level_id: str | None) -> str:
        return levels[level_id].title.get(lang) if level_id in levels else "–"

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
                "level": level_title(d.level),
                "computed": d.computed,
                "contributions": contributions,
            }
        )
    radar = None
    if len(dimensions) >= 3:
        described = "; ".join(f"{d['number']}. {d['title']}: {d['score_text']}" for d in dimensions)
        radar = charts.radar_chart(
            [charts.Axis(str(d["number"]), d["score"]) for d in dimensions],
            title=_("Your scores by dimension"),
            description=_("Scores from 0 to 100, numbered as in the table: %(scores)s.") % {"scores": described},
            id_prefix="radar",
        )
    matrix = None
    archetype = None
    a = profile.archetype
    if a is not None and compiled.archetypes is not None:
        grid = compiled.archetypes
        titles = {t.id: t.title.get(lang) for t in grid.archetypes}
        found = next((t for t in grid.archetypes if t.id == a.id), None)
        archetype = {
            "title": titles.get(a.id, a.id),
            "description": found.description.get(lang) if found and found.description else "",
        }
        x_title = compiled.pillars[a.x_pillar].title.get(lang) if a.x_pillar in compiled.pillars else a.x_pillar
        y_title = compiled.pillars[a.y_pillar].title.get(lang) if a.y_pillar in compiled.pillars else a.y_pillar
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
            % {"x_pillar": x_title, "x": labels.number(a.x), "y_pillar": y_title, "y": labels.number(a.y), "profile": archetype["title"]},
            current=(charts.grid_cell(a.y, grid.y_cuts), charts.grid_cell(a.x, grid.x_cuts)),
        )
        archetype.update({"x_pillar": x_title, "y_pillar": y_title, "x": labels.number(a.x), "y": labels.number(a.y)})
    recommendations = []
    for r in profile.recommendations:
        instruments = []
        for iid in r.instruments:
            item = compiled.instruments.get(iid)
            if item is not None:
                instruments.append(
                    {"title": item.title.get(lang), "kind": labels.instrument_kind(item.kind), "description": item.description.get(lang), "url": safe_url(item.url)}
                )
        training = [
            {"title": t.title.get(lang), "description": t.description.get(lang) if t.description else ""}
            for t in (compiled.training_topics.get(tid) for tid in r.training)
            if t is not None
        ]
        recommendations.append(
            {
                "title": r.title,
                "rationale": r.rationale,
                "next_step": r.next_step,
                "cross_sector": r.cross_sector,
                "eligibility_note": r.eligibility_note,
                "instruments": instruments,
                "training": training,
                "because": [describe_trigger(compiled, t.name, t.value, lang, labels) for t in r.triggered_by],
            }
        )
    by_id = {d["id"]: d for d in dimensions}
    overall_level = levels.get(profile.overall.level)
    return {
        "overall": labels.number(profile.overall.score),
        "overall_level": level_title(profile.overall.level),
        "overall_meaning": overall_level.description.get(lang) if overall_level and overall_level.description else "",
        "pillars": [
            {"title": compiled.pillars[pid].title.get(lang) if pid in compiled.pillars else pid, "score": labels.number(p.score)}
            for pid, p in profile.pillars.items()
        ],
        "dimensions": dimensions,
        "radar": radar,
        "matrix": matrix,
        "archetype": archetype,
        "strengths": [by_id[d]["title"] for d in profile.strengths if d in by_id],
        "gaps": [by_id[d]["title"] for d in profile.gaps if d in by_id],
        "recommendations": recommendations,
    }
