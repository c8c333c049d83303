"""Scoring: the EDIH DMA's shared rules, levels, archetypes, recommendations, bad answers, and
properties that must hold for every answer set."""

from __future__ import annotations

import contextlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from questionnaires.schema import Company
from scoring.answers import AnswersError, ScoringError
from scoring.check import random_answers, run_tests, simulate
from scoring.engine import score
from tests.helpers import SHOW_IF_BODY, compile_text

# A DMA-shaped questionnaire: six dimensions in one pillar, scored as the EDIH DMA does.
DMA_MODEL = """\
pillars:
  - {id: digital, title: {en: Digital}}
dimensions:
  - {id: strategy, title: {en: Digital business strategy}, pillar: digital}
  - {id: readiness, title: {en: Digital readiness}, pillar: digital}
  - {id: human, title: {en: Human-centric digitalisation}, pillar: digital}
  - {id: data, title: {en: Data management}, pillar: digital}
  - {id: automation, title: {en: Automation and AI}, pillar: digital}
  - {id: green_digital, title: {en: Green digitalisation}, pillar: digital}
levels:
  - {id: basic, title: {en: Basic}, from: 0}
  - {id: average, title: {en: Average}, from: 26}
  - {id: moderately_advanced, title: {en: Moderately advanced}, from: 51}
  - {id: advanced, title: {en: Advanced}, from: 76}
"""


def ticks(qid: str, dimension: str, n: int, extra: str = "") -> str:
    options = ", ".join(f"{{id: o{i}, text: {{en: O{i}}}, points: 1}}" for i in range(1, n + 1))
    return f"      - {{kind: multiple_choice, id: {qid}, text: {{en: {qid}}}, dimension: {dimension}, options: [{options}{extra}]}}\n"


def scale_table(qid: str, dimension: str, rows: int) -> str:
    row_list = ", ".join(f"{{id: r{i}, text: {{en: R{i}}}}}" for i in range(1, rows + 1))
    scale = ", ".join(f"{{value: {v}, text: {{en: '{v}'}}}}" for v in range(6))
    return f"      - {{kind: matrix, id: {qid}, text: {{en: {qid}}}, dimension: {dimension}, rows: [{row_list}], scale: [{scale}]}}\n"


DMA_SECTIONS = (
    "sections:\n  - id: dma\n    title: {en: DMA}\n    questions:\n"
    + "      - kind: matrix\n        id: q1\n        text: {en: Invested?}\n        dimension: strategy\n        multiple: true\n"
    + "        rows: [{id: r1, text: {en: Design}}, {id: r2, text: {en: Sales}}]\n"
    + "        columns: [{id: already, text: {en: Already invested}, points: 1}, {id: plan, text: {en: Plan to invest}, points: 1}]\n"
    + ticks("q2", "strategy", 4)
    + ticks("q3", "readiness", 4)
    + scale_table("q4", "readiness", 2)
    + ticks("q5", "human", 4)
    + ticks("q6", "human", 4)
    + ticks("q7", "data", 4, ", {id: not_digital, text: {en: Data is not collected digitally}, exclusive: true}")
    + ticks("q8", "data", 4)
    + scale_table("q9", "automation", 4)
    + ticks("q10", "green_digital", 4)
    + "      - kind: matrix\n        id: q11\n        text: {en: Environment in digital choices}\n        dimension: green_digital\n"
    + "        rows: [{id: r1, text: {en: Strategy}}, {id: r2, text: {en: Energy}}]\n"
    + "        columns: [{id: 'no', text: {en: No}}, {id: partially, text: {en: Partially}, points: 0.5}, {id: 'yes', text: {en: Yes}, points: 1}]\n"
)

DMA_ANSWERS = {
    "q1": {"r1": ["already"], "r2": ["already", "plan"]},  # (0.5 + 1) / 2 = 0.75
    "q2": ["o1", "o2"],  # 2 / 4 = 0.5                              strategy 62.5
    "q3": ["o1"],  # 0.25
    "q4": {"r1": 5, "r2": 2},  # (5 + 2) / 2 / 5 = 0.7               readiness 47.5
    "q5": ["o1", "o2", "o3", "o4"],  # 1
    "q6": [],  # 0                                                 human 50
    "q7": ["not_digital"],  # 0
    "q8": ["o1", "o2", "o3"],  # 0.75                               data 37.5
    "q9": {"r1": 1, "r2": 2, "r3": 3, "r4": 4},  # 10 / 4 / 5 = 0.5  automation 50
    "q10": ["o1", "o2", "o3"],  # 0.75
    "q11": {"r1": "partially", "r2": "yes"},  # (0.5 + 1) / 2 = 0.75  green digital 75
}


@pytest.fixture
def dma(tmp_path):
    return compile_text(tmp_path, DMA_SECTIONS, DMA_MODEL)


def test_engine_reproduces_the_dma_shared_scoring(dma):
    profile = score(dma, DMA_ANSWERS)
    dims = {d: v.score for d, v in profile.dimensions.items()}
    assert dims == {"strategy": 62.5, "readiness": 47.5, "human": 50.0, "data": 37.5, "automation": 50.0, "green_digital": 75.0}
    # The overall DMA score is the plain mean of the six dimensions.
    assert profile.overall.score == pytest.approx(sum(dims.values()) / 6, abs=0.01)
    assert profile.dimensions["green_digital"].level == "moderately_advanced"
    assert profile.dimensions["data"].level == "average"


def test_explanation_adds_up_to_each_score(dma):
    profile = score(dma, DMA_ANSWERS, explain=True)
    for d in profile.dimensions.values():
        assert sum(c.contribution for c in d.contributions) == pytest.approx(d.score, abs=0.05)
    strategy = profile.dimensions["strategy"].contributions
    assert [(c.question, c.score, c.contribution) for c in strategy] == [("q1", 75.0, 37.5), ("q2", 50.0, 25.0)]


@pytest.mark.parametrize(
    "rows, score_, level",
    [
        ({"r1": "no", "r2": "no"}, 0.0, "basic"),
        ({"r1": "partially", "r2": "no"}, 25.0, "basic"),
        ({"r1": "partially", "r2": "partially"}, 50.0, "average"),
        ({"r1": "yes", "r2": "no"}, 50.0, "average"),
        ({"r1": "yes", "r2": "partially"}, 75.0, "moderately_advanced"),
        ({"r1": "yes", "r2": "yes"}, 100.0, "advanced"),
    ],
)
def test_no_partially_yes_scores_0_half_1(dma, rows, score_, level):
    answers = {"q10": ["o1", "o2", "o3", "o4"], "q11": rows}
    profile = score(dma, answers)
    q11 = profile.questions["q11"].score
    assert q11 == score_
    assert profile.dimensions["green_digital"].score == pytest.approx((100 + score_) / 2)


def test_dont_know_leaves_the_denominator(tmp_path):
    compiled = compile_text(
        tmp_path,
        """\
        sections:
          - id: s
            title: {en: S}
            questions:
              - {kind: yes_no, id: a, text: {en: A}, dimension: data}
              - {kind: single_choice, id: b, text: {en: B}, dimension: data, allow_na: true,
                 options: [{id: low, text: {en: Low}}, {id: high, text: {en: High}, points: 2}]}
              - {kind: yes_no, id: c, text: {en: C}, dimension: energy}
        """,
    )
    assert score(compiled, {"a": True, "b": "na"}).dimensions["data"].score == 100.0
    assert score(compiled, {"a": True, "b": "low"}).dimensions["data"].score == 50.0
    # A visible question left unanswered counts as 0; "don't know" must be said.
    assert score(compiled, {"a": True}).dimensions["data"].score == 50.0
    assert score(compiled, {"a": True, "b": "na"}).questions["b"].na


def test_hidden_questions_are_left_out(tmp_path):
    compiled = compile_text(tmp_path, SHOW_IF_BODY)
    assert score(compiled, {"has_meter": False, "tools": []}).dimensions["energy"].score == 0.0
    profile = score(compiled, {"has_meter": False, "tools": ["erp"]})
    assert "meter_use" not in profile.questions
    assert score(compiled, {"has_meter": True, "meter_use": 2, "tools": []}).dimensions["energy"].score == 75.0


def test_hidden_options_leave_the_maximum(tmp_path):
    compiled = compile_text(tmp_path, SHOW_IF_BODY)
    small = score(compiled, {"staff": 10, "tools": ["erp"]})
    large = score(compiled, {"staff": 80, "tools": ["erp"]})
    assert small.questions["tools"].score == 100.0  # MES is not offered below 50 staff
    assert large.questions["tools"].score == 50.0


def test_bad_answers_list_every_problem_with_its_question(tmp_path):
    compiled = compile_text(tmp_path, SHOW_IF_BODY)
    with pytest.raises(AnswersError) as info:
        score(compiled, {"has_meter": "maybe", "staff": 0, "tools": ["erp", "crm"], "colour": "red", "meter_use": 9})
    assert [str(p) for p in info.value.problems] == [
        "has_meter: expected yes or no, got 'maybe'",
        "staff: 0 is below the minimum 1",
        "tools: unknown option 'crm'",
        "colour: unknown question",
        "meter_use: 9 is outside the scale 0..4",
    ]
    with pytest.raises(AnswersError) as info:
        score(compiled, {"has_meter": False, "meter_use": 2, "staff": 10, "tools": ["mes"]})
    assert [str(p) for p in info.value.problems] == [
        "meter_use: this question is hidden by its show_if condition, so it cannot be answered",
        "tools: option 'mes' is hidden by its show_if condition",
    ]
    with pytest.raises(AnswersError) as info:
        score(compiled, {"staff": 2.5, "tools": "nope"})
    assert [str(p) for p in info.value.problems] == ["staff: expected a whole number, got 2.5", "tools: unknown option 'nope'"]


def test_archetype_and_strengths(tmp_path):
    body = """\
    sections:
      - id: s
        title: {en: S}
        questions:
          - {kind: scale, id: d, text: {en: D}, dimension: data, min: 0, max: 4}
          - {kind: scale, id: e, text: {en: E}, dimension: energy, min: 0, max: 4}
    """
    compiled = compile_text(tmp_path, body)
    cases = {(0, 0): "starter", (4, 0): "digital_first", (0, 4): "green_first", (4, 4): "leader", (2, 2): "leader", (1, 2): "green_first"}
    for (d, e), archetype in cases.items():
        profile = score(compiled, {"d": d, "e": e})
        assert profile.archetype.id == archetype, (d, e)
    profile = score(compiled, {"d": 1, "e": 3})
    assert profile.strengths == ["energy"] and profile.gaps == ["data"]


REC_BODY = """\
sections:
  - id: s
    title: {en: S}
    questions:
      - {kind: scale, id: d, text: {en: D}, dimension: data, min: 0, max: 4}
      - {kind: scale, id: e, text: {en: E}, dimension: energy, min: 0, max: 4}
      - kind: single_choice
        id: markets
        text: {en: Markets of interest}
        options: [{id: mexico, text: {en: Mexico}}, {id: chile, text: {en: Chile}}, {id: none, text: {en: None}}]
recommendations:
  - id: data_first
    title: {en: Start with data}
    when: "dimension.data < 50"
    priority: 80
    rationale: {en: "Your data score is {dimension.data} ({level.data})."}
    instruments: [iv]
    training: [data_skills]
    cross_sector: {en: Partner with an IT company.}
  - id: latam
    title: {en: Go to Latin America}
    when: "markets in ['mexico', 'chile'] and overall >= 10"
    priority: 60
    rationale: {en: "You are interested in {markets}."}
    instruments: [mx]
    eligibility: {sizes: [small, medium]}
  - id: energy_gap
    title: {en: Energy}
    when: "dimension.energy < dimension.data"
    priority: 90
    rationale: {en: "Energy lags data."}
"""


def test_recommendations_are_ranked_explained_and_filtered(tmp_path):
    compiled = compile_text(tmp_path, REC_BODY)
    profile = score(compiled, {"d": 1, "e": 0, "markets": "mexico"}, {"size": "small"})
    assert [r.id for r in profile.recommendations] == ["energy_gap", "data_first", "latam"]
    data_first = profile.recommendations[1]
    assert data_first.rationale == "Your data score is 25 (Basic)."
    assert data_first.instruments == ["iv"] and data_first.training == ["data_skills"]
    assert data_first.cross_sector == "Partner with an IT company."
    assert [(t.name, t.value) for t in data_first.triggered_by] == [("dimension.data", 25.0)]
    latam = profile.recommendations[2]
    assert latam.rationale == "You are interested in Mexico."
    assert [(t.name, t.value) for t in latam.triggered_by] == [("markets", "mexico"), ("overall", 12.5)]
    micro = score(compiled, {"d": 1, "e": 0, "markets": "mexico"}, {"size": "micro"})
    assert "latam" not in [r.id for r in micro.recommendations]


def test_check_runs_embedded_tests_and_reports_coverage(tmp_path):
    body = REC_BODY + """\
tests:
  - name: weak data
    company: {size: small}
    answers: {d: 0, e: 0, markets: none}
    expect:
      dimensions: {data: 0, energy: 0}
      levels: {data: basic, overall: basic}
      archetype: starter
      recommendations: [data_first]
      not_recommendations: [latam, energy_gap]
  - name: a wrong expectation
    answers: {d: 4, e: 4}
    expect:
      dimensions: {data: 90}
      archetype: leader
"""
    compiled = compile_text(tmp_path, body)
    report = run_tests(compiled)
    assert report.passed == 1
    assert [d.message for d in report.failures] == ["test 'a wrong expectation': expected dimension data 90 ± 0.5, got 100"]
    uncovered = [d.message for d in report.uncovered]
    assert "no test reaches level 'average'" in uncovered
    assert "no test reaches archetype 'digital_first'" in uncovered
    assert "no test reaches recommendation 'latam'" in uncovered
    assert "no test reaches level 'advanced'" not in uncovered


def test_simulation_finds_failing_expressions_and_unreachable_scores(tmp_path):
    body = REC_BODY.replace('when: "dimension.energy < dimension.data"', 'when: "dimension.energy / (dimension.data - dimension.data) > 1"')
    body = body.replace("{kind: scale, id: e, text: {en: E}, dimension: energy, min: 0, max: 4}",
                        "{kind: single_choice, id: e, text: {en: E}, dimension: energy, options: [{id: a, text: {en: A}, points: 1}, {id: b, text: {en: B}, points: 2}], max_points: 4}")
    body = body.replace(", max_points: 4", "")
    compiled = compile_text(tmp_path, body)
    report = simulate(compiled, 200, seed=1)
    messages = [d.message for d in report.simulation]
    assert "recommendation 'energy_gap' when fails at run time: division by zero" in messages


@pytest.fixture(scope="module")
def dma_module(tmp_path_factory):
    return compile_text(tmp_path_factory.mktemp("dma"), DMA_SECTIONS, DMA_MODEL)


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size=st.sampled_from(["micro", "small", "medium", "large"]))
def test_scores_stay_in_range_and_are_deterministic(dma_module, seed, size):
    company = Company(size=size)
    company_values = {"size": size, "sector": company.sector, "country": company.country, "cluster": company.cluster}
    answers = random_answers(dma_module, random.Random(seed), company_values)
    first = score(dma_module, answers, company_values, explain=True)
    assert first == score(dma_module, answers, company_values, explain=True)
    values = [d.score for d in first.dimensions.values()] + [p.score for p in first.pillars.values()] + [first.overall.score]
    assert all(v is None or 0 <= v <= 100 for v in values)


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), pick=st.integers(0, 10_000))
def test_a_better_answer_never_lowers_a_dimension(dma_module, seed, pick):
    rng = random.Random(seed)
    company = {"size": "small", "sector": "it", "country": "RO", "cluster": "cluj_it"}
    answers = random_answers(dma_module, rng, company)
    before = score(dma_module, answers, company)
    better = dict(answers)
    qid = list(dma_module.questions)[pick % len(dma_module.questions)]
    q = dma_module.questions[qid]
    current = better.get(qid)
    if isinstance(current, list):  # tick one more non-exclusive positive option
        options = [o for o in q.options if not o.exclusive and o.points > 0 and o.id not in current]
        exclusive = [o.id for o in q.options if o.exclusive]
        if not options:
            return
        better[qid] = [o for o in current if o not in exclusive] + [options[pick % len(options)].id]
    elif isinstance(current, dict) and hasattr(q, "rows") and q.scale is not None:
        row = q.rows[pick % len(q.rows)].id
        better[qid] = {**current, row: min(5, (current.get(row) or 0) + 1)}
    else:
        return
    after = score(dma_module, better, company)
    for d, v in before.dimensions.items():
        assert after.dimensions[d].score >= v.score - 1e-9


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=80) | st.from_regex(r"[a-z_.()\[\]'<>=!, 0-9+*/-]{0,40}", fullmatch=True))
def test_expression_parser_rejects_garbage_with_its_own_error(text):
    from questionnaires.expressions import ExpressionError, compile_expression

    with contextlib.suppress(ExpressionError):
        compile_expression(text)


def test_scoring_raises_only_its_own_error_type(dma):
    for answers in ({"q1": "x"}, {"q4": {"r1": "five"}}, [1, 2], {"q2": [None]}, {"q9": {"r9": 1}}):
        with pytest.raises(ScoringError):
            score(dma, answers)


def test_explanation_describes_every_matrix_kind(dma):
    from scoring.text import describe_answer, render_text

    profile = score(dma, DMA_ANSWERS, explain=True)
    text = render_text(dma, profile, explain=True)
    assert "Design: Already invested; Sales: Already invested, Plan to invest" in text
    assert describe_answer(dma, "q4", {"r1": 5, "r2": "na"}) == "R1: 5; R2: don't know / not applicable"
    assert describe_answer(dma, "q11", {"r1": "partially"}) == "Strategy: Partially"
