"""Synthetic answer sets with tendencies, for demos and benchmarks (``recentre seed``).

``scoring.check.random_answers`` draws every answer uniformly, which is what a robustness
check wants; an analysis of uniform answers shows flat histograms and no gaps. Here each
dimension gets a *propensity* between 0 and 1 (how far along the company is), and every
question of that dimension is answered towards its better options with that probability, so
that sectors, clusters and sizes differ the way the data of real clusters would.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from questionnaires.compile import CompiledQuestionnaire
from questionnaires.schema import FreeText, Matrix, MultipleChoice, Number, Scale, SingleChoice, YesNo

from .answers import NA, Env, evaluate

# Where a company of each sector tends to stand, by pillar (0-1).
SECTOR_PILLARS = {
    "furniture": {"digital": 0.36, "green": 0.46, "resilience": 0.44},
    "it": {"digital": 0.64, "green": 0.34, "resilience": 0.52},
    "energy": {"digital": 0.50, "green": 0.63, "resilience": 0.50},
}
# Dimensions in which a sector stands out from its pillar, up or down.
SECTOR_DIMENSIONS = {
    "furniture": {"data": -0.08, "automation": -0.06, "product_digital": -0.04, "circular": 0.08, "ecodesign": -0.02, "markets": 0.06},
    "it": {"data": 0.10, "automation": 0.06, "cybersecurity": 0.08, "circular": -0.10, "energy": -0.06, "green_software": -0.08, "supply_chain": 0.04},
    "energy": {"energy": 0.12, "smart_energy": 0.04, "green_digital": 0.06, "human": -0.06, "markets": -0.08},
}
CLUSTER_PILLARS = {
    "did": {"digital": 0.04, "green": 0.03},
    "cenfim": {"digital": 0.0, "green": 0.05},
    "green_synergy": {"digital": -0.06, "green": 0.02},
    "cluj_it": {"digital": 0.05, "green": -0.05},
}
SIZE_SHIFT = {"micro": -0.10, "small": -0.03, "medium": 0.05, "large": 0.12}
# Employees by size class (EU SME definition), for the question that asks for the number.
EMPLOYEES = {"micro": (1, 9), "small": (10, 49), "medium": (50, 249), "large": (250, 900)}
CHALLENGES = {
    "furniture": [
        "Finding staff who know CAD & CNC",
        "Raw material prices (panels, hardware)",
        "Getting product data ready for the digital product passport",
        "Competing with low-cost imports",
    ],
    "it": [
        "Hiring and keeping developers",
        "Measuring the footprint of our cloud services",
        "Customers who want ISO 27001",
        "Finding clients outside our country",
    ],
    "energy": [
        "Grid connection delays",
        "Permits for new installations",
        "Data from meters we cannot yet use",
        "Skilled technicians for maintenance",
    ],
}


def clamp(x: float, low: float = 0.0, high: float = 1.0) -> float:
    return low if x < low else high if x > high else x


def company_propensities(
    compiled: CompiledQuestionnaire, rng: random.Random, company: Mapping, *, drift: float = 0.0
) -> dict[str, float]:
    """A propensity per dimension for one company: its sector's, cluster's and size's
    tendencies, a company-wide maturity, a pillar-wide and a dimension's own noise.
    ``drift`` moves everything up (later assessments, a T1 after support)."""
    sector = company.get("sector", "furniture")
    pillars = SECTOR_PILLARS.get(sector, {"digital": 0.45, "green": 0.45, "resilience": 0.45})
    cluster = CLUSTER_PILLARS.get(company.get("cluster", ""), {})
    maturity = rng.gauss(0.0, 0.10) + SIZE_SHIFT.get(company.get("size", "small"), 0.0) + drift
    by_pillar = {p: pillars.get(p, 0.45) + cluster.get(p, 0.0) + maturity + rng.gauss(0.0, 0.09) for p in compiled.pillars}
    own = SECTOR_DIMENSIONS.get(sector, {})
    return {
        d.id: clamp(by_pillar.get(d.pillar, 0.45) + own.get(d.id, 0.0) + rng.gauss(0.0, 0.08), 0.02, 0.98)
        for d in compiled.dimensions.values()
    }


def improved(propensities: Mapping[str, float], rng: random.Random) -> dict[str, float]:
    """The propensities of the same company a year on (T1): most dimensions move up, some
    where it got support clearly, a few slip back."""
    return {d: clamp(p + rng.gauss(0.07, 0.07), 0.02, 0.98) for d, p in propensities.items()}


def _pick_ranked(items: Sequence, p: float, rng: random.Random):
    """One of ``items`` (sorted worst to best), near position p of the list."""
    if len(items) == 1:
        return items[0]
    index = round(clamp(rng.gauss(p, 0.18)) * (len(items) - 1))
    return items[index]


def _tick(p: float, points: float, rng: random.Random) -> bool:
    if points > 0:
        return rng.random() < clamp(p, 0.04, 0.96)
    if points < 0:
        return rng.random() < 0.3 * (1 - p)
    return rng.random() < 0.25


class TendencyAnswers:
    """Draws answer sets for one questionnaire; what does not depend on the company
    (options by points, each question's dimension weights) is worked out once."""

    def __init__(self, compiled: CompiledQuestionnaire):
        self.compiled = compiled
        show_if = compiled.show_if
        self.pages = [
            (show_if.get(("section", section.id)), [(q, show_if.get(("question", q.id)), self._weights(q)) for q in section.questions])
            for section in compiled.sections
        ]
        self.ranked: dict[str, tuple] = {}
        for q in compiled.questions.values():
            if isinstance(q, (SingleChoice, MultipleChoice)):
                self.ranked[q.id] = tuple(sorted(q.options, key=lambda o: o.points))
            elif isinstance(q, Matrix):
                self.ranked[q.id] = tuple(sorted(q.scale, key=lambda s: s.value) if q.scale is not None else sorted(q.columns, key=lambda c: c.points))
        # Questions with conditional options or rows: the others skip the filtering.
        self.conditional = {key[1] for key in show_if if key[0] in ("option", "row")}

    @staticmethod
    def _weights(q) -> tuple[tuple[str, float], ...]:
        weights = q.scoring()
        total = sum(weights.values())
        return tuple((d, w / total) for d, w in weights.items()) if total else ()

    def draw(self, rng: random.Random, company: Mapping, propensities: Mapping[str, float]) -> dict:
        """A valid answer set, built in page order so that show_if sees earlier answers."""
        answers: dict = {}
        env = Env(answers, dict(company))
        for cond, questions in self.pages:
            if cond is not None and not evaluate(cond, env):
                continue
            for q, q_cond, weights in questions:
                if q_cond is not None and not evaluate(q_cond, env):
                    continue
                if not q.required and rng.random() < 0.3:
                    continue
                p = sum(propensities.get(d, 0.5) * w for d, w in weights) if weights else 0.5
                value = self.answer(q, p, rng, env, company)
                if value is not None:
                    answers[q.id] = value
        return answers

    def _shown(self, kind: str, qid: str, items: Sequence, env: Env) -> Sequence:
        if qid not in self.conditional:
            return items
        show_if = self.compiled.show_if
        return [o for o in items if (cond := show_if.get((kind, qid, o.id))) is None or evaluate(cond, env)]

    def answer(self, q, p: float, rng: random.Random, env: Env, company: Mapping):
        """A valid answer to ``q`` from a company whose propensity in its dimensions is
        ``p``; None to leave it unanswered."""
        if q.allow_na and rng.random() < 0.03:
            return NA
        if isinstance(q, SingleChoice):
            options = self._shown("option", q.id, self.ranked[q.id], env)
            return _pick_ranked(options, p, rng).id if options else None
        if isinstance(q, MultipleChoice):
            options = self._shown("option", q.id, q.options, env)
            exclusive = [o for o in options if o.exclusive]
            if exclusive and rng.random() < 0.5 * (1 - p) ** 3:
                return [rng.choice(exclusive).id]
            ticked = [o.id for o in options if not o.exclusive and _tick(p, o.points, rng)]
            return ticked or ([exclusive[0].id] if exclusive else [])
        if isinstance(q, Scale):
            return q.min + round(clamp(rng.gauss(p, 0.18)) * (q.max - q.min))
        if isinstance(q, Matrix):
            rows = self._shown("row", q.id, q.rows, env)
            ranked = self.ranked[q.id]
            if q.scale is not None:
                return {r.id: _pick_ranked(ranked, p, rng).value for r in rows}
            if q.multiple:
                return {r.id: [c.id for c in q.columns if _tick(p, c.points, rng)] for r in rows}
            return {r.id: _pick_ranked(ranked, p, rng).id for r in rows}
        if isinstance(q, Number):
            return _number(q, p, rng, company)
        if isinstance(q, YesNo):
            yes_is_better = q.yes_points >= q.no_points
            return (rng.random() < p) == yes_is_better
        if isinstance(q, FreeText):
            challenges = CHALLENGES.get(company.get("sector", ""), [])
            return rng.choice(challenges) if challenges and rng.random() < 0.3 else None
        return None


def _number(q: Number, p: float, rng: random.Random, company: Mapping):
    if q.id == "employees" and company.get("size") in EMPLOYEES:
        low, high = EMPLOYEES[company["size"]]
        return rng.randint(low, high)
    low = q.min if q.min is not None else 0.0
    high = q.max if q.max is not None else max([low + 100.0] + [b.at_least * 2 for b in q.bands])
    if q.bands:
        bands = sorted(q.bands, key=lambda b: b.points)
        band = _pick_ranked(bands, p, rng)
        above = [b.at_least for b in q.bands if b.at_least > band.at_least]
        low, high = max(low, band.at_least), min(high, min(above) - 1e-6 if above else high)
    value = rng.uniform(low, max(low, high))
    return int(value) if q.integer else round(value, 1)

