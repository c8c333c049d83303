"""A plain Python scorer written by hand for the furniture questionnaire: the yardstick for
``scoring_ratio_vs_handwritten``.

It does what the engine does for this one questionnaire, with no general machinery: the
points tables are read from the questionnaire (data), while the logic, the one condition and
the recommendation rules are written out by hand. ``bench.scoring`` checks that it gives the
same numbers and recommendations as the engine before timing either, so the comparison is
like with like; if the questionnaire's rules change, that check fails and this file needs the
same change.

Each question gets a small function, built once by the function for its kind (``FRACTIONS``),
that turns an answer into the fraction of the question's points it earns, or None where the
answer counts nowhere (every row of a matrix answered "don't know").
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from typing import Any, TypedDict

from questionnaires.compile import CompiledQuestionnaire
from questionnaires.schema import Matrix, MultipleChoice, Number, Question, Scale, SingleChoice, YesNo

QUESTIONNAIRE = "furniture"

Fraction = Callable[[Any], float | None]
"""An answer (neither missing nor "na") → the fraction of the question's points it earns."""


class Scores(TypedDict):
    """What the scorer gives for one answer set, in the engine's terms."""

    dimensions: dict[str, float | None]
    pillars: dict[str, float | None]
    overall: float
    levels: dict[str, str | None]
    archetype: str | None
    recommendations: list[str]


# --- One function per kind of question --------------------------------------------------


def single_choice(q: SingleChoice) -> Fraction | None:
    """The option's points over the most any option earns; None if none earns any (the
    question is asked only for the rules)."""
    points = {o.id: o.points for o in q.options}
    top = max(points.values())
    if top <= 0:
        return None
    return lambda a: points[a] / top


def multiple_choice(q: MultipleChoice) -> Fraction | None:
    """The ticked options' points over max_points (else the sum of the positive points of
    the options that are not exclusive), between 0 and 1; None if that is 0."""
    points = {o.id: o.points for o in q.options}
    top = q.max_points or sum(o.points for o in q.options if o.points > 0 and not o.exclusive)
    if top <= 0:
        return None
    return lambda a: min(1.0, max(0.0, sum(points[o] for o in a) / top))


def scale(q: Scale) -> Fraction:
    """Where the value lies between the scale's ends."""
    low, span = q.min, q.max - q.min
    return lambda a: (a - low) / span


def matrix(q: Matrix) -> Fraction:
    """The mean of the rows' fractions over the rows not answered "na" (an unanswered row
    counts 0); None if every row is "na"."""
    rows = [r.id for r in q.rows]
    cell = matrix_cell(q)

    def fraction(a: dict[str, Any]) -> float | None:
        counted = [v for v in (a.get(r) for r in rows) if v != "na"]
        if not counted:
            return None
        return sum(0.0 if v is None else cell(v) for v in counted) / len(counted)

    return fraction


def matrix_cell(q: Matrix) -> Callable[[Any], float]:
    """The fraction one row's answer earns: a point of the shared scale, the ticked columns'
    points over all the positive ones, or the one chosen column's over the best."""
    if q.scale is not None:
        low, span = q.scale[0].value, q.scale[-1].value - q.scale[0].value
        return lambda v: (v - low) / span
    if q.columns is None:
        raise ValueError(f"matrix {q.id} has neither a scale nor columns")
    points = {x.id: x.points for x in q.columns}
    if q.multiple:
        ticks_top = sum(p for p in points.values() if p > 0)
        return lambda v: min(1.0, sum(points[x] for x in v) / ticks_top)
    column_top = max(points.values())
    return lambda v: points[v] / column_top


def number(q: Number) -> Fraction | None:
    """The points of the highest band the number reaches over the best band's; None for a
    number without bands, which earns nothing."""
    if not q.bands:
        return None
    thresholds = [b.at_least for b in q.bands]
    band_points = [b.points for b in q.bands]
    top = max(band_points)

    def fraction(a: float) -> float:
        i = bisect_right(thresholds, a) - 1
        return (band_points[i] if i >= 0 else 0.0) / top

    return fraction


def yes_no(q: YesNo) -> Fraction:
    """The points of the answer over the better answer's."""
    yes, no = q.yes_points, q.no_points
    top = max(yes, no)
    return lambda a: (yes if a else no) / top


FRACTIONS: dict[str, Callable[[Any], Fraction | None]] = {
    "single_choice": single_choice,
    "multiple_choice": multiple_choice,
    "scale": scale,
    "matrix": matrix,
    "number": number,
    "yes_no": yes_no,
}
"""By the question's ``kind`` tag; kinds not here (free text) earn nothing."""


def kind_of(q: Question) -> str:
    """The question's ``kind``, as its YAML says it."""
    return str(type(q).__struct_config__.tag)


# --- The furniture questionnaire's rules, written out ------------------------------------

Rule = Callable[..., bool]
"""(answers, dimensions, pillars, question scores, archetype, company) → whether the
recommendation fires."""

RULES: list[tuple[str, int, Rule]] = [
    ("rec_start_twin_transition", 95, lambda a, d, p, s, arch, co: arch == "traditional"),
    ("rec_digital_to_green", 70, lambda a, d, p, s, arch, co: arch == "digital_first"),
    ("rec_green_to_digital", 70, lambda a, d, p, s, arch, co: arch == "green_first"),
    ("rec_twin_leader_mentor", 30, lambda a, d, p, s, arch, co: arch == "twin_leader"),
    ("rec_digital_strategy", 85, lambda a, d, p, s, arch, co: d["strategy"] < 50),
    ("rec_digital_basics", 80, lambda a, d, p, s, arch, co: d["readiness"] < 50),
    ("rec_digital_skills", 75, lambda a, d, p, s, arch, co: d["human"] < 50),
    ("rec_data_security", 90, lambda a, d, p, s, arch, co: d["data"] < 50 or (s.get("dma_q8") is not None and s["dma_q8"] < 50)),
    ("rec_automation_ai", 55, lambda a, d, p, s, arch, co: d["automation"] < 50 and d["data"] >= 50),
    ("rec_green_digitalisation", 65, lambda a, d, p, s, arch, co: d["green_digital"] < 50),
    ("rec_circular_economy", 75, lambda a, d, p, s, arch, co: d["circular"] < 50),
    ("rec_energy_efficiency", 75, lambda a, d, p, s, arch, co: d["energy"] < 50),
    ("rec_carbon_footprint", 60, lambda a, d, p, s, arch, co: a.get("ghg_footprint") in ("not_measured", "estimate")),
    ("rec_supply_resilience", 70, lambda a, d, p, s, arch, co: d["supply_chain"] < 50 or a.get("single_source") == "many"),
    ("rec_market_diversification", 65, lambda a, d, p, s, arch, co: d["markets"] < 50 or a.get("customer_concentration") == "over_75"),
    ("rec_mexico_b2b", 60, lambda a, d, p, s, arch, co: co["size"] != "large" and "mexico" in (a.get("latam_interest") or ())),
    ("rec_chile_b2b", 60, lambda a, d, p, s, arch, co: co["size"] != "large" and "chile" in (a.get("latam_interest") or ())),
    ("rec_furniture_it_partner", 80, lambda a, d, p, s, arch, co: co["sector"] == "furniture" and p["digital"] < 50),
    ("rec_furniture_ecodesign", 72, lambda a, d, p, s, arch, co: d["ecodesign"] < 50),
    ("rec_furniture_dpp", 68, lambda a, d, p, s, arch, co: a.get("dpp_readiness") in ("not_collected", "spreadsheets")),
    ("rec_furniture_digital_tools", 62, lambda a, d, p, s, arch, co: d["product_digital"] < 50),
]
"""(recommendation, priority, when it fires)."""
RULES.sort(key=lambda r: -r[1])


# --- The scorer ---------------------------------------------------------------------------


def make_scorer(c: CompiledQuestionnaire) -> Callable[[dict[str, Any], dict[str, Any]], Scores]:
    """The scoring function of questionnaire ``c``: (answers, company) → dimensions, pillars,
    overall score, levels, archetype and the recommendations that fire, by priority."""
    questions: list[tuple[str, Fraction, list[tuple[str, float]]]] = []
    for qid, q in c.questions.items():
        build = FRACTIONS.get(kind_of(q))
        fraction = build(q) if build else None
        if fraction is not None:
            questions.append((qid, fraction, list(q.scoring().items())))
    dimension_pillar = {d.id: (d.pillar, d.weight) for d in c.meta.dimensions}
    pillar_weight: dict[str, float] = {p.id: p.weight for p in c.meta.pillars}
    level_from = [lv.from_ for lv in c.levels]
    level_ids = [lv.id for lv in c.levels]
    if c.archetypes is None:
        raise ValueError(f"{c.id} has no archetype matrix, which the hand-written rules read")
    grid = c.archetypes.grid

    def level(v: float | None) -> str | None:
        return None if v is None else level_ids[max(0, bisect_right(level_from, v) - 1)]

    def question_scores(answers: dict[str, Any]) -> tuple[dict[str, float], dict[str, float], dict[str, float | None]]:
        audited = answers.get("energy_audit") is True  # audit_actions' show_if
        sums: dict[str, float] = {}
        weights: dict[str, float] = {}
        qscores: dict[str, float | None] = {}
        for qid, fraction, dims in questions:
            if qid == "audit_actions" and not audited:
                continue
            a = answers.get(qid)
            s = None if a == "na" else 0.0 if a is None else fraction(a)
            if s is None:
                qscores[qid] = None
                continue
            qscores[qid] = s * 100
            for d, w in dims:
                sums[d] = sums.get(d, 0.0) + s * w
                weights[d] = weights.get(d, 0.0) + w
        return sums, weights, qscores

    def pillar_scores(dims: dict[str, float | None]) -> dict[str, float | None]:
        pillar_sum: dict[str, float] = {}
        pillar_w: dict[str, float] = {}
        for d, (pillar, w) in dimension_pillar.items():
            v = dims[d]
            if v is not None:
                pillar_sum[pillar] = pillar_sum.get(pillar, 0.0) + v * w
                pillar_w[pillar] = pillar_w.get(pillar, 0.0) + w
        return {p: pillar_sum[p] / pillar_w[p] if pillar_w.get(p) else None for p in pillar_weight}

    def score(answers: dict[str, Any], company: dict[str, Any]) -> Scores:
        sums, weights, qscores = question_scores(answers)
        dims = {d: (100 * sums[d] / weights[d] if weights.get(d) else None) for d in dimension_pillar}
        pillars = pillar_scores(dims)
        present = [(v, pillar_weight[p]) for p, v in pillars.items() if v is not None]
        overall = sum(v * w for v, w in present) / sum(w for _, w in present)
        green, digital = pillars["green"], pillars["digital"]
        archetype = None if green is None or digital is None else grid[0 if green < 50 else 1][0 if digital < 50 else 1]
        fired = [rid for rid, _, rule in RULES if rule(answers, dims, pillars, qscores, archetype, company)]
        return {
            "dimensions": dims,
            "pillars": pillars,
            "overall": overall,
            "levels": {**{d: level(v) for d, v in dims.items()}, "overall": level(overall)},
            "archetype": archetype,
            "recommendations": fired,
        }

    return score
