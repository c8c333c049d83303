"""Questionnaire self-tests: embedded test cases, coverage, and random simulation."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, get_args

from questionnaires.compile import CompiledQuestionnaire
from questionnaires.diagnostics import Diagnostic, Location
from questionnaires.kinds import NA, Question, kind_of
from questionnaires.reference import CLUSTERS, SECTORS, CompanySize
from questionnaires.schema import Company, TestCase

from .answers import Env, ExpressionFailure, ScoringError, evaluate, shown_items
from .engine import scorer_for
from .profile import Profile

CLUSTER_COUNTRIES = tuple((c.id, c.country) for c in CLUSTERS.values())


@dataclass
class CheckReport:
    questionnaire: CompiledQuestionnaire
    passed: int = 0
    failures: list[Diagnostic] = field(default_factory=list)
    uncovered: list[Diagnostic] = field(default_factory=list)
    simulation: list[Diagnostic] = field(default_factory=list)


def _fmt(x: float | str | None) -> str:
    return "null" if x is None else f"{x:g}" if isinstance(x, float) else str(x)


def compare(case: TestCase, profile: Profile) -> list[str]:
    """How the profile differs from what the test case expects (empty when it passes)."""
    e = case.expect
    tol = e.tolerance
    problems = []

    def close(name: str, want: float, got: float | None) -> None:
        if got is None or abs(got - want) > tol:
            problems.append(f"expected {name} {want:g} ± {tol:g}, got {_fmt(got)}")

    for did, want in e.dimensions.items():
        close(f"dimension {did}", want, profile.dimensions[did].score)
    for pid, want in e.pillars.items():
        close(f"pillar {pid}", want, profile.pillars[pid].score)
    if e.overall is not None:
        close("overall", e.overall, profile.overall.score)
    if e.dma is not None:
        close("DMA score", e.dma, profile.dma.score if profile.dma else None)
    for did, level in e.levels.items():
        got = profile.overall.level if did == "overall" else profile.dimensions[did].level
        if got != level:
            problems.append(f"expected level {level} for {did}, got {_fmt(got)}")
    got_archetype = profile.archetype.id if profile.archetype else None
    if e.archetype is not None and got_archetype != e.archetype:
        problems.append(f"expected archetype {e.archetype}, got {_fmt(got_archetype)}")
    fired = {r.id for r in profile.recommendations}
    for rid in e.recommendations:
        if rid not in fired:
            problems.append(f"expected recommendation {rid}, which did not fire")
    for rid in e.not_recommendations:
        if rid in fired:
            problems.append(f"recommendation {rid} fired, but the test says it must not")
    return problems


def run_tests(compiled: CompiledQuestionnaire, report: CheckReport | None = None) -> CheckReport:
    report = report or CheckReport(compiled)
    scorer = scorer_for(compiled)
    reached_levels: set[str] = set()
    reached_archetypes: set[str] = set()
    reached_recommendations: set[str] = set()
    for i, case in enumerate(compiled.tests):
        where = compiled.where("test", i)
        try:
            profile = scorer.score(case.answers, case.company)
        except ScoringError as exc:
            report.failures.append(Diagnostic(where, "error", f"test '{case.name}': {exc}"))
            continue
        problems = compare(case, profile)
        for p in problems:
            report.failures.append(Diagnostic(where, "error", f"test '{case.name}': {p}"))
        if not problems:
            report.passed += 1
        reached_levels.update(d.level for d in profile.dimensions.values() if d.level)
        if profile.overall.level:
            reached_levels.add(profile.overall.level)
        if profile.archetype:
            reached_archetypes.add(profile.archetype.id)
        reached_recommendations.update(r.id for r in profile.recommendations)
    here = Location(compiled.file)
    for level in compiled.levels:
        if level.id not in reached_levels:
            report.uncovered.append(Diagnostic(here, "warning", f"no test reaches level '{level.id}'"))
    if compiled.archetypes:
        for a in compiled.archetypes.archetypes:
            if a.id not in reached_archetypes:
                report.uncovered.append(Diagnostic(here, "warning", f"no test reaches archetype '{a.id}'"))
    for rec in compiled.recommendations:
        if rec.id not in reached_recommendations:
            report.uncovered.append(
                Diagnostic(compiled.where("recommendation", rec.id), "warning", f"no test reaches recommendation '{rec.id}'")
            )
    return report


# --- Simulation --------------------------------------------------------------------------


def random_company(rng: random.Random) -> Company:
    cluster, country = rng.choice(CLUSTER_COUNTRIES)
    size: CompanySize = rng.choice(get_args(CompanySize))
    return Company(size=size, sector=rng.choice(tuple(SECTORS)), country=country, cluster=cluster)


def random_answer(
    compiled: CompiledQuestionnaire, q: Question, rng: random.Random, answers: dict[str, Any], company: dict[str, Any], best: bool = False
) -> Any:
    """A valid answer to ``q``: random, or the best-scoring one when ``best`` is set; None
    to leave it unanswered."""
    if not best and q.allow_na and rng.random() < 0.05:
        return NA
    if not best and rng.random() < 0.05:
        return None  # left unanswered
    kind = kind_of(q)
    shown = shown_items(compiled, q, Env(answers, company))
    return kind.draw_best(q, shown) if best else kind.draw_uniform(q, rng, shown)


def random_answers(compiled: CompiledQuestionnaire, rng: random.Random, company: dict[str, Any], best: bool = False) -> dict[str, Any]:
    """A valid answer set, built in page order so that show_if sees earlier answers."""
    answers: dict[str, Any] = {}
    env = Env(answers, company)
    show_if = compiled.show_if
    for section in compiled.sections:
        cond = show_if.get(("section", section.id))
        if cond is not None and not evaluate(cond, env):
            continue
        for q in section.questions:
            cond = show_if.get(("question", q.id))
            if cond is not None and not evaluate(cond, env):
                continue
            value = random_answer(compiled, q, rng, answers, company, best)
            if value is not None:
                answers[q.id] = value
    return answers


def simulate(compiled: CompiledQuestionnaire, n: int, seed: int = 0, report: CheckReport | None = None) -> CheckReport:
    """Score ``n`` random valid answer sets, plus the best possible ones, and report
    expressions that fail at run time, recommendations that never fire and dimensions that
    cannot reach 100."""
    report = report or CheckReport(compiled)
    rng = random.Random(seed)
    scorer = scorer_for(compiled)
    fired: set[str] = set()
    failures: dict[str, Diagnostic] = {}
    best: dict[str, float] = {}
    runs = [(False, None)] * n + [(True, sector) for sector in SECTORS]
    for is_best, sector in runs:
        company_struct = random_company(rng)
        if sector:
            company_struct = Company(size="medium", sector=sector, country="IT", cluster="did")
        company = {"size": company_struct.size, "sector": company_struct.sector, "country": company_struct.country, "cluster": company_struct.cluster}
        try:
            answers = random_answers(compiled, rng, company, best=is_best)
            profile = scorer.score(answers, company)
        except ExpressionFailure as exc:
            failures.setdefault(str(exc), Diagnostic(Location(exc.where), "error", f"{exc.owner} fails at run time: {str(exc).split(': ', 2)[-1]}"))
            continue
        except ScoringError as exc:
            failures.setdefault(str(exc), Diagnostic(Location(compiled.file), "error", f"a random valid answer set was rejected: {exc}"))
            continue
        fired.update(r.id for r in profile.recommendations)
        for did, d in profile.dimensions.items():
            if d.score is not None:
                best[did] = max(best.get(did, 0.0), d.score)
    report.simulation.extend(failures.values())
    for rec in compiled.recommendations:
        if rec.id not in fired:
            report.simulation.append(
                Diagnostic(compiled.where("recommendation", rec.id), "warning", f"recommendation '{rec.id}' never fired in {n} random answer sets")
            )
    for did in compiled.dimensions:
        if best.get(did, 0.0) < 100.0 - 1e-6:
            report.simulation.append(
                Diagnostic(compiled.where("dimension", did), "warning", f"dimension '{did}' cannot reach 100 (best seen: {best.get(did, 0.0):g})")
            )
    return report
