"""Scoring speed on the largest bundled questionnaire: the engine against a hand-written
scorer, and re-scoring many stored responses."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import msgspec

from questionnaires.compile import CompiledQuestionnaire, load_bundled
from scoring.answers import check_answers
from scoring.check import random_answers, random_company
from scoring.engine import Result, scorer_for

from . import handwritten

SAMPLE = 2000
MIN_SECONDS = 1.5
RESCORE = 100_000

Sample = list[tuple[dict[str, Any], dict[str, Any]]]
"""Answer sets, each with its company's size, sector, country and cluster."""


def _sample(compiled: CompiledQuestionnaire, n: int, seed: int = 7) -> Sample:
    rng = random.Random(seed)
    out: Sample = []
    for _ in range(n):
        c = random_company(rng)
        company = {"size": c.size, "sector": c.sector, "country": c.country, "cluster": c.cluster}
        out.append((random_answers(compiled, rng, company), company))
    return out


def _rate(fn: Callable[[dict[str, Any], dict[str, Any]], object], sample: Sample) -> float:
    """Responses per second, over at least MIN_SECONDS, best of three rounds."""
    best = 0.0
    for _ in range(3):
        count, start = 0, time.perf_counter()
        while True:
            for answers, company in sample:
                fn(answers, company)
            count += len(sample)
            elapsed = time.perf_counter() - start
            if elapsed >= MIN_SECONDS / 3:
                break
        best = max(best, count / elapsed)
    return best


def _close(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-9)


def _same(engine_result: Result, hand: handwritten.Scores) -> bool:
    env = engine_result.env
    return (
        all(_close(env.dimensions[d], v) for d, v in hand["dimensions"].items())
        and all(_close(env.pillars[p], v) for p, v in hand["pillars"].items())
        and _close(env.overall, hand["overall"])
        and env.levels == hand["levels"]
        and env.archetype == hand["archetype"]
        and [rec.id for rec, _ in engine_result.fired] == hand["recommendations"]
    )


def scoring() -> dict[str, float]:
    compiled = {c.id: c for c in load_bundled()}[handwritten.QUESTIONNAIRE]
    largest = max(len(c.questions) for c in load_bundled())
    assert len(compiled.questions) == largest, "time the largest bundled questionnaire"
    sample = _sample(compiled, SAMPLE)
    engine = scorer_for(compiled)
    hand = handwritten.make_scorer(compiled)
    mismatches = sum(not _same(engine.evaluate(a, c), hand(a, c)) for a, c in sample)
    if mismatches:
        raise SystemExit(f"scoring bench: the hand-written scorer disagrees with the engine on {mismatches} answer sets; update bench/handwritten.py")
    engine_rate = _rate(engine.evaluate, sample)
    hand_rate = _rate(hand, sample)
    profile_rate = _rate(lambda a, c: engine.profile(engine.evaluate(a, c)), sample[:500])
    checked_rate = _rate(lambda a, c: engine.score(a, c), sample[:500])
    return {
        "scoring_questions": float(len(compiled.questions)),
        "scoring_responses_per_s": engine_rate,
        "scoring_handwritten_per_s": hand_rate,
        "scoring_ratio_vs_handwritten": hand_rate / engine_rate,
        "scoring_with_profile_per_s": profile_rate,
        "scoring_checked_profile_per_s": checked_rate,
    }


def rescore() -> dict[str, float]:
    """Re-score 100,000 stored responses: decode each stored answer set, check it against the
    questionnaire, score it and encode the new result, as a re-scoring run does."""
    compiled = {c.id: c for c in load_bundled()}[handwritten.QUESTIONNAIRE]
    engine = scorer_for(compiled)
    encoder = msgspec.json.Encoder()
    stored = [encoder.encode({"answers": a, "company": c}) for a, c in _sample(compiled, 1000, seed=11)]
    decoder = msgspec.json.Decoder()
    start = time.perf_counter()
    for i in range(RESCORE):
        row = decoder.decode(stored[i % len(stored)])
        answers = check_answers(compiled, row["answers"], row["company"])
        result = engine.evaluate(answers, row["company"])
        encoder.encode({"dimensions": result.env.dimensions, "overall": result.env.overall, "recommendations": [r.id for r, _ in result.fired]})
    return {"rescore_100k_s": time.perf_counter() - start}
