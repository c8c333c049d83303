"""Synthetic answer sets with tendencies, for demos and benchmarks (``recentre seed``).

``scoring.check.random_answers`` draws every answer uniformly, which is what a robustness
check wants; an analysis of uniform answers shows flat histograms and no gaps. Here each
dimension gets a *propensity* between 0 and 1 (how far along the company is), and every
question of that dimension is answered towards its better options with that probability, so
that sectors, clusters and sizes differ the way the data of real clusters would.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from questionnaires.compile import CompiledQuestionnaire
from questionnaires.kinds import NA, Question, kind_of
from questionnaires.kinds.base import clamp

from .answers import Env, evaluate, shown_items

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


def company_propensities(
    compiled: CompiledQuestionnaire, rng: random.Random, company: Mapping[str, Any], *, drift: float = 0.0
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
        self.items = {q.id: [item for _, item in kind_of(q).conditional_items(q)] for q in compiled.questions.values()}
        # Questions with conditional options or rows: the others skip the filtering.
        self.conditional = {key[1] for key in show_if if key[0] in ("option", "row")}

    @staticmethod
    def _weights(q: Question) -> tuple[tuple[str, float], ...]:
        weights = q.scoring()
        total = sum(weights.values())
        return tuple((d, w / total) for d, w in weights.items()) if total else ()

    def draw(self, rng: random.Random, company: Mapping[str, Any], propensities: Mapping[str, float]) -> dict[str, Any]:
        """A valid answer set, built in page order so that show_if sees earlier answers."""
        answers: dict[str, Any] = {}
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

    def answer(self, q: Question, p: float, rng: random.Random, env: Env, company: Mapping[str, Any]) -> Any:
        """A valid answer to ``q`` from a company whose propensity in its dimensions is
        ``p``; None to leave it unanswered."""
        if q.allow_na and rng.random() < 0.03:
            return NA
        kind = kind_of(q)
        size = company.get("size")
        if q.id == "employees" and size in EMPLOYEES and kind.tag == "number":
            # The bundled questionnaires ask for the number of employees: keep it within the
            # company's size class.
            low, high = EMPLOYEES[size]
            return rng.randint(low, high)
        shown = self.items[q.id]
        if q.id in self.conditional:
            shown = shown_items(self.compiled, q, env)
        return kind.draw_leaning(q, p, rng, shown, CHALLENGES.get(company.get("sector", ""), []))
