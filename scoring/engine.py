"""Answers → readiness profile.

Scoring runs in the stages of the questionnaire language (see README, "Scoring"):

1. each visible question gets a score in [0, 1] from its answer (``question_scorer``);
2. each dimension scores 0-100: the weighted mean of its questions, or its ``formula``;
3. pillars are weighted means of their dimensions; the overall index a weighted mean of pillars;
4. levels come from the named bands; the archetype from the pillar matrix;
5. strengths and gaps are the top and bottom dimensions;
6. recommendations whose ``when`` holds, and whose eligibility fits, come out by priority.

The per-question work is planned once per compiled questionnaire (``Scorer``), so that
scoring a response is a loop over small closures; this is what lets one core score tens of
thousands of responses a second.
"""

from __future__ import annotations

import math
import re
import weakref
from bisect import bisect_right
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import Any

from questionnaires.checks import CompiledExpression
from questionnaires.compile import CompiledQuestionnaire
from questionnaires.expressions import EvaluationError, Node, Ref
from questionnaires.kinds import NA, Question, kind_of
from questionnaires.kinds.base import ConditionalScorer, Option, QuestionScorer, Score
from questionnaires.reference import dma_band
from questionnaires.schema import Company, Recommendation

from .answers import Env, ExpressionFailure, ScoringError, check_answers, company_dict, evaluate, visible_answers
from .profile import (
    Archetype,
    Contribution,
    DimensionScore,
    Dma,
    Overall,
    PillarScore,
    Profile,
    QuestionRef,
    QuestionScore,
    RecommendationResult,
    Trigger,
)


def question_scorer(q: Question) -> QuestionScorer | None:
    """A function from an answer to (score in [0, 1] or None, points or None); None for a
    question that is not scored (see ``Kind.scorer``)."""
    kind = kind_of(q)
    fn = kind.scorer(q)
    if fn is None or kind.can_earn_points(q):
        return fn
    scorer = fn

    def points_only(a: Any) -> Score:  # a choice that only feeds rules: its points count, it has no score
        return None, scorer(a)[1]

    return points_only


def conditional_scorer(compiled: CompiledQuestionnaire, q: Question) -> ConditionalScorer | None:
    """For questions with conditional options or rows: a scorer of (answer, env) in which
    hidden options leave the maximum and hidden rows the mean, so that every company can
    reach 100 with the options it is shown. None for other questions."""
    kind = kind_of(q)
    show_if = compiled.show_if
    conditions = {
        item.id: condition
        for name, item in kind.conditional_items(q)
        if (condition := show_if.get((name, q.id, item.id))) is not None
    }
    if not conditions:
        return None
    base = question_scorer(q)
    if base is None:
        return None

    def visible(item_id: str, env: Any) -> bool:
        condition = conditions.get(item_id)
        return condition is None or bool(evaluate(condition, env))

    return kind.conditional_scorer(q, base, visible)


DimensionWeights = tuple[tuple[str, float], ...]
Fired = tuple[Recommendation, list[Ref]]
"""A recommendation that applies, with the names its rule read."""


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def dma_of(dma: Mapping[str, str], dims: Mapping[str, float | None]) -> Dma | None:
    """The EU DMA reading of these dimension scores, for a questionnaire whose dimension ids
    ``dma`` maps the six DMA dimensions to; None when it maps none. The score is the plain
    mean of the six, to one decimal, and its band that of the rounded score, so that the
    band shown always fits the number shown."""
    if not dma:
        return None
    scores = {key: dims.get(did) for key, did in dma.items()}
    values = [v for v in scores.values() if v is not None]
    score = round(sum(values) / len(values), 1) if values and len(values) == len(scores) else None
    return Dma(score, dma_band(score), {key: None if v is None else round(v, 1) for key, v in scores.items()})


class Result:
    """What ``Scorer.evaluate`` found: every value the expressions see, and the
    recommendations that apply, in order."""

    __slots__ = ("env", "hidden", "fired")

    def __init__(self, env: Env, hidden: AbstractSet[str], fired: list[Fired]):
        self.env = env
        self.hidden = hidden
        self.fired = fired


def _by_priority(item: Fired) -> int:
    return -item[0].priority  # sort is stable, so equal priorities keep the YAML order


class Scorer:
    """Everything about a questionnaire that scoring needs, worked out once."""

    def __init__(self, compiled: CompiledQuestionnaire):
        self.compiled = compiled
        meta = compiled.meta
        self.items: list[tuple[str, QuestionScorer | None, DimensionWeights]] = []
        for qid, q in compiled.questions.items():
            weights = tuple((d, w) for d, w in q.scoring().items() if d in compiled.dimensions)
            self.items.append((qid, question_scorer(q), weights))
        self.dimension_ids = tuple(compiled.dimensions)
        self.dimension_pillar = {d.id: d.pillar for d in meta.dimensions}
        self.formulas = dict(compiled.formulas)
        self.pillars = [
            (p.id, p.weight, tuple((d.id, d.weight) for d in meta.dimensions if d.pillar == p.id))
            for p in meta.pillars
        ]
        self.level_from = [lv.from_ for lv in meta.levels]
        self.level_ids = [lv.id for lv in meta.levels]
        self.archetypes = meta.archetypes
        self.dma = compiled.dma
        self.scored_items: list[tuple[str, QuestionScorer, DimensionWeights]] = [
            (qid, fn, weights) for qid, fn, weights in self.items if fn is not None
        ]
        self.conditional = {
            qid: cfn for qid, q in compiled.questions.items() if (cfn := conditional_scorer(compiled, q)) is not None
        }
        self.recommendations = [
            (rec, compiled.conditions[rec.id], _trigger_refs(compiled.conditions[rec.id].expression.refs()))
            for rec in compiled.recommendations
            if rec.id in compiled.conditions
        ]

    def level(self, score: float | None) -> str | None:
        if score is None or not self.level_ids:
            return None
        return self.level_ids[max(0, bisect_right(self.level_from, score) - 1)]

    def score(
        self,
        answers: Mapping[str, Any],
        company: Company | Mapping[str, Any] | None = None,
        *,
        lang: str = "en",
        explain: bool = False,
        checked: bool = False,
    ) -> Profile:
        company_values = company_dict(company)
        if not checked:
            answers = check_answers(self.compiled, answers, company_values)
        return self.profile(self.evaluate(answers, company_values), lang, explain)

    def evaluate(self, answers: Mapping[str, Any], company: dict[str, Any]) -> Result:
        """The numbers and the recommendations that apply, for checked answers: the part
        of scoring that re-scoring and the benchmarks run, before any text is rendered."""
        visible, hidden = visible_answers(self.compiled, answers, company)

        # 1. Questions
        qscores: dict[str, float | None] = {}
        qpoints: dict[str, float | None] = {}
        sums = dict.fromkeys(self.dimension_ids, 0.0)
        weights = dict.fromkeys(self.dimension_ids, 0.0)
        env = Env(visible, company)
        conditional = self.conditional
        for qid, fn, dimension_weights in self.scored_items:
            if qid in hidden:
                continue
            if qid in conditional:
                s, p = conditional[qid](visible.get(qid), env)
            else:
                s, p = fn(visible.get(qid))
            qpoints[qid] = p
            if s is None:
                qscores[qid] = None
                continue
            qscores[qid] = s * 100.0
            for d, w in dimension_weights:
                sums[d] += s * w
                weights[d] += w

        # 2. Dimensions
        env.scores = qscores
        env.points = qpoints
        dims: dict[str, float | None] = {}
        for d in self.dimension_ids:
            w = weights[d]
            dims[d] = 100.0 * sums[d] / w if w > 0 else None
        if self.formulas:
            env.dimensions = dict(dims)  # formulas see the plain dimensions only
            for d, formula in self.formulas.items():
                dims[d] = _formula_value(formula, env)

        # 3. Pillars and overall
        pillars: dict[str, float | None] = {}
        total = total_w = 0.0
        for pid, pw, members in self.pillars:
            acc = acc_w = 0.0
            for d, w in members:
                v = dims[d]
                if v is not None and w > 0:
                    acc += v * w
                    acc_w += w
            value = acc / acc_w if acc_w > 0 else None
            pillars[pid] = value
            if value is not None and pw > 0:
                total += value * pw
                total_w += pw
        overall = total / total_w if total_w > 0 else None

        # 4. Levels and archetype
        level = self.level
        levels: dict[str, str | None] = {d: level(v) for d, v in dims.items()}
        levels["overall"] = level(overall)
        env.dimensions = dims
        env.pillars = pillars
        env.levels = levels
        env.overall = overall
        env.archetype = self.place(pillars)

        # 6. Recommendations that apply, by priority (strengths and gaps come with the profile)
        fired: list[Fired] = []
        for rec, cond, refs in self.recommendations:
            try:
                applies = _eligible(rec, company) and cond.expression.evaluate(env)
            except EvaluationError as exc:
                raise ExpressionFailure(str(cond.location), cond.owner, str(exc)) from None
            if applies:
                fired.append((rec, refs))
        fired.sort(key=_by_priority)
        return Result(env, hidden, fired)

    def profile(self, result: Result, lang: str = "en", explain: bool = False) -> Profile:
        compiled = self.compiled
        env = result.env
        dims, levels, qscores, visible = env.dimensions, env.levels, env.scores, env.answers

        # 5. Strengths and gaps
        ranked = sorted((v, d) for d, v in dims.items() if v is not None)
        k = min(3, len(ranked) // 2)
        gaps = [d for v, d in ranked[:k]]
        strengths = [d for v, d in reversed(ranked[len(ranked) - k :])] if k else []

        m = self.archetypes
        archetype = None
        if env.archetype is not None and m is not None:
            archetype = Archetype(env.archetype, _round(env.pillars[m.x]), _round(env.pillars[m.y]), m.x, m.y)
        contributions = self.contributions(visible, qscores) if explain else {}
        return Profile(
            questionnaire=QuestionRef(compiled.id, compiled.fingerprint, compiled.version),
            language=lang,
            company=env.company,
            overall=Overall(_round(env.overall), levels["overall"]),
            pillars={pid: PillarScore(_round(env.pillars[pid]), [d for d, _ in members]) for pid, _, members in self.pillars},
            dimensions={
                d: DimensionScore(_round(dims[d]), levels[d], self.dimension_pillar[d], d in self.formulas, contributions.get(d))
                for d in self.dimension_ids
            },
            archetype=archetype,
            strengths=strengths,
            gaps=gaps,
            recommendations=[self.render(rec, refs, env, lang) for rec, refs in result.fired],
            questions={
                qid: QuestionScore(_round(qscores[qid]), env.points[qid], answered=qid in visible, na=visible.get(qid) == NA)
                for qid, _, _ in self.scored_items
                if qid in qscores
            },
            dma=dma_of(self.dma, dims),
        )

    def place(self, pillars: dict[str, float | None]) -> str | None:
        """The archetype id for these pillar scores (a cut value goes to the higher cell)."""
        m = self.archetypes
        if m is None or not m.grid:
            return None
        x, y = pillars.get(m.x), pillars.get(m.y)
        if x is None or y is None:
            return None
        return m.grid[bisect_right(m.y_cuts, y)][bisect_right(m.x_cuts, x)]

    def contributions(self, visible: Mapping[str, Any], qscores: dict[str, float | None]) -> dict[str, list[Contribution]]:
        """For each dimension, what each question added to its score."""
        totals: dict[str, float] = {}
        for qid, fn, weights in self.items:
            if fn is not None and qscores.get(qid) is not None:
                for d, w in weights:
                    totals[d] = totals.get(d, 0.0) + w
        out: dict[str, list[Contribution]] = {d: [] for d in self.dimension_ids}
        for qid, fn, weights in self.items:
            if fn is None or qid not in qscores:
                continue
            s = qscores[qid]
            for d, w in weights:
                share = 0.0 if s is None or not totals.get(d) else s * w / totals[d]
                out[d].append(Contribution(qid, visible.get(qid), _round(s), w, round(share, 2)))
        return out

    def render(self, rec: Recommendation, refs: list[Ref], env: Env, lang: str) -> RecommendationResult:
        triggers = [Trigger(_ref_name(r), _ref_value(r, env)) for r in refs]
        elig = rec.eligibility.note.get(lang) if rec.eligibility and rec.eligibility.note else None
        return RecommendationResult(
            id=rec.id,
            priority=rec.priority,
            title=rec.title.get(lang),
            rationale=fill_placeholders(self.compiled, rec.rationale.get(lang), env, lang),
            next_step=fill_placeholders(self.compiled, rec.next_step.get(lang), env, lang) if rec.next_step else None,
            instruments=list(rec.instruments),
            training=list(rec.training),
            cross_sector=rec.cross_sector.get(lang) if rec.cross_sector else None,
            eligibility_note=elig,
            triggered_by=triggers,
        )


def _formula_value(formula: CompiledExpression, env: Env) -> float | None:
    value = evaluate(formula, env)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ExpressionFailure(str(formula.location), formula.owner, f"a formula must give a number, not {value!r}")
    return min(100.0, max(0.0, float(value)))


def _eligible(rec: Recommendation, company: dict[str, Any]) -> bool:
    e = rec.eligibility
    if e is None:
        return True
    return (
        (not e.sizes or company["size"] in e.sizes)
        and (not e.sectors or company["sector"] in e.sectors)
        and (not e.clusters or company["cluster"] in e.clusters)
        and (not e.countries or company["country"] in e.countries)
    )


def _trigger_refs(refs: list[Ref]) -> list[Ref]:
    seen: set[tuple[str, str, str | None]] = set()
    out: list[Ref] = []
    for r in refs:
        key = (r.namespace, r.name, r.member)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def _ref_name(r: Ref) -> str:
    if r.namespace == "answer":
        return r.name if r.member is None else f"{r.name}.{r.member}"
    if r.namespace in ("overall", "archetype"):
        return r.namespace
    return f"{r.namespace}.{r.name}"


_ENV_ATTR = {"score": "scores", "points": "points", "dimension": "dimensions", "pillar": "pillars", "level": "levels", "company": "company"}


def _ref_value(r: Ref, env: Env) -> Any:
    if r.namespace == "answer":
        value = env.answers.get(r.name)
        if r.member is not None:
            return value.get(r.member) if isinstance(value, dict) else None
        return value
    if r.namespace == "overall":
        return _round(env.overall)
    if r.namespace == "archetype":
        return env.archetype
    value = getattr(env, _ENV_ATTR[r.namespace]).get(r.name)
    return _round(value) if isinstance(value, float) else value


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def parse_template(text: str) -> tuple[str | Ref, ...]:
    """Split text into literal pieces and placeholder references, once per text."""
    from questionnaires.expressions import ExpressionError, parse

    pieces: list[str | Ref] = []
    last = 0
    for m in _PLACEHOLDER.finditer(text):
        try:
            ref: Node | None = parse(m.group(1).strip())
        except ExpressionError:  # the compiler reports bad placeholders; keep the text as written
            ref = None
        if isinstance(ref, Ref):
            pieces.append(text[last : m.start()])
            pieces.append(ref)
            last = m.end()
    pieces.append(text[last:])
    return tuple(pieces)


_templates: dict[str, tuple[str | Ref, ...]] = {}


def fill_placeholders(compiled: CompiledQuestionnaire, text: str, env: Env, lang: str) -> str:
    """Replace ``{dimension.data}``-style placeholders with readable values."""
    pieces = _templates.get(text)
    if pieces is None:
        pieces = _templates[text] = parse_template(text)
    if len(pieces) == 1 and isinstance(pieces[0], str):
        return pieces[0]
    return "".join(p if isinstance(p, str) else _display(compiled, p, _ref_value(p, env), lang) for p in pieces)


def _display(compiled: CompiledQuestionnaire, ref: Ref, value: Any, lang: str) -> str:
    if value is None:
        return "n/a"
    if ref.namespace == "level":
        for lv in compiled.levels:
            if lv.id == value:
                return lv.title.get(lang)
    if ref.namespace == "archetype" and compiled.archetypes:
        for a in compiled.archetypes.archetypes:
            if a.id == value:
                return a.title.get(lang)
    if ref.namespace == "answer" and ref.member is None:
        options: Mapping[str, Option] = compiled.options.get(ref.name, {})
        if isinstance(value, str) and value in options:
            return options[value].text.get(lang)
        if isinstance(value, list):
            return ", ".join(options[v].text.get(lang) if v in options else str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.0f}" if ref.namespace in ("dimension", "pillar", "overall", "score") else f"{value:g}"
    return str(value)


_scorers: weakref.WeakKeyDictionary[CompiledQuestionnaire, Scorer] = weakref.WeakKeyDictionary()


def scorer_for(compiled: CompiledQuestionnaire) -> Scorer:
    s = _scorers.get(compiled)
    if s is None:
        s = _scorers[compiled] = Scorer(compiled)
    return s


def score(
    compiled: CompiledQuestionnaire,
    answers: Mapping[str, Any],
    company: Company | Mapping[str, Any] | None = None,
    *,
    lang: str = "en",
    explain: bool = False,
) -> Profile:
    """Score an answer set. Raises only ScoringError (AnswersError for bad answers)."""
    try:
        return scorer_for(compiled).score(answers, company, lang=lang, explain=explain)
    except ScoringError:
        raise
    except (TypeError, ValueError, KeyError, ArithmeticError) as exc:  # a bug: still our error type
        raise ScoringError(f"scoring failed: {exc}") from exc
