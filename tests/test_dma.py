"""The EU Digital Maturity Assessment (EDIH DMA) score beside the RE-CENTRE index: the `dma`
key of the questionnaire language, the profile's `dma` object, the official bands, and the
reading followed for dimension 1 (Q1/Q2) and Q7 (README, "The EU DMA score")."""

from __future__ import annotations

import random

import msgspec
import pytest

from questionnaires.compile import BUNDLED, compile_questionnaire
from questionnaires.diagnostics import QuestionnaireError
from questionnaires.reference import DMA_DIMENSIONS, dma_band
from scoring.check import compare, random_answers
from scoring.engine import score
from scoring.profile import profile_to_builtins
from tests.assessments import ALL_MAXIMUM, ALL_ZERO, Q1_ROWS, Q2, Q7
from tests.helpers import compile_text, errors_of

BUNDLED_IDS = ("core", "furniture", "it", "energy")

@pytest.fixture(scope="module")
def bundled():
    return {qid: compile_questionnaire(BUNDLED / f"{qid}.yaml") for qid in BUNDLED_IDS}


@pytest.fixture(scope="module")
def core(bundled):
    return bundled["core"]


# --- The done-when cases ------------------------------------------------------------------


@pytest.mark.parametrize("qid", BUNDLED_IDS)
def test_every_dma_answer_at_its_maximum_is_dma_100_advanced(bundled, qid):
    """The SME of the issue: 100 and Advanced in the EU's terms, whatever the rest of its
    answers make of the RE-CENTRE index."""
    profile = score(bundled[qid], ALL_MAXIMUM)
    assert profile.dma is not None
    assert (profile.dma.score, profile.dma.band) == (100.0, "advanced")
    assert profile.dma.dimensions == dict.fromkeys(DMA_DIMENSIONS, 100.0)
    assert profile.overall.score < 100  # the RE-CENTRE index counts green and resilience too


@pytest.mark.parametrize("qid", BUNDLED_IDS)
def test_the_best_answer_to_every_question_is_dma_100(bundled, qid):
    answers = random_answers(bundled[qid], random.Random(0), {"size": "small", "sector": bundled[qid].meta.sectors[0], "country": "IT", "cluster": "did"}, best=True)
    profile = score(bundled[qid], answers)
    assert (profile.dma.score, profile.dma.band, profile.overall.score) == (100.0, "advanced", 100.0)


@pytest.mark.parametrize("qid", BUNDLED_IDS)
def test_every_dma_answer_at_zero_is_dma_0_basic(bundled, qid):
    profile = score(bundled[qid], ALL_ZERO)
    assert (profile.dma.score, profile.dma.band) == (0.0, "basic")
    assert profile.dma.dimensions == dict.fromkeys(DMA_DIMENSIONS, 0.0)


def test_already_invested_in_all_ten_areas_and_nothing_else_is_33_3(core):
    profile = score(core, {"dma_q1": {row: ["already_invested"] for row in Q1_ROWS}, "dma_q2": ["none"]})
    assert profile.dma.dimensions["digital_business_strategy"] == 33.3
    assert profile.dimensions["strategy"].score == 33.33
    assert (profile.dma.score, profile.dma.band) == (5.6, "basic")  # 33.33 / 6, the other five at 0


# --- The reading of dimension 1 and Q7 ----------------------------------------------------


def masterproject_d1(already: int, plan: int, q2: int) -> float:
    """EDIH Thuringia's reading (MarkusFrBoden/masterproject): every tick of Q1 and Q2 is
    worth 100/30 points."""
    return (already + plan + q2) * 100 / 30


def dmsa_d1(already: int, plan: int, q2: int) -> float:
    """hassanzouhar/dmsa's reading, the one followed: Q1 = (already + 0.5 × plan) / 15 and
    Q2 = ticks / 10, weighed 50/50."""
    return 50 * (already + 0.5 * plan) / 15 + 50 * q2 / 10


def d1_answers(already: int, plan: int, q2: int) -> dict:
    rows = {row: [] for row in Q1_ROWS}
    for i, row in enumerate(Q1_ROWS):
        rows[row] = (["already_invested"] if i < already else []) + (["plan_to_invest"] if i < plan else [])
    return {"dma_q1": rows, "dma_q2": list(Q2[:q2]) or ["none"]}


@pytest.mark.parametrize(
    "already, plan, q2, expected",
    [
        (10, 0, 0, 33.33),
        (0, 10, 0, 16.67),  # a plan counts half of an investment made
        (0, 0, 10, 50.0),
        (10, 10, 0, 50.0),
        (5, 5, 5, 50.0),
        (10, 10, 10, 100.0),
        (0, 0, 0, 0.0),
        (4, 2, 3, 31.67),  # (4 + 1) / 15 × 50 + 3 / 10 × 50
    ],
)
def test_dimension_1_follows_the_published_reading(core, already, plan, q2, expected):
    profile = score(core, d1_answers(already, plan, q2))
    assert profile.dimensions["strategy"].score == expected == round(dmsa_d1(already, plan, q2), 2)


def test_dimension_1_agrees_with_both_readings_wherever_they_agree(core):
    """The two readings agree exactly when as many areas are planned as Q2 items ticked."""
    agreed = 0
    for already in range(11):
        for plan in range(11):
            for q2 in range(11):
                if round(masterproject_d1(already, plan, q2), 6) != round(dmsa_d1(already, plan, q2), 6):
                    continue
                agreed += 1
                got = score(core, d1_answers(already, plan, q2)).dimensions["strategy"].score
                assert got == pytest.approx(masterproject_d1(already, plan, q2), abs=0.005), (already, plan, q2)
    assert agreed == 121  # plan == q2, for every number of investments made


def masterproject_q7(ticked: list[str]) -> float:
    """Every tick over eight, the negative option too."""
    return len(ticked) / 8


def dmsa_q7(ticked: list[str]) -> float:
    """Points over the sum of all points (7 - 1 = 6), "not collected digitally" worth -1."""
    return (sum(1 for t in ticked if t != "no_digital_collection") - ("no_digital_collection" in ticked)) / 6


@pytest.mark.parametrize(
    "ticked, expected",
    [
        ([], 0.0),
        (["no_digital_collection"], 0.0),  # -1/6, kept at 0
        (list(Q7[:3]), 50.0),
        ([*Q7[:3], "no_digital_collection"], 33.33),
        (list(Q7[:6]), 100.0),
        (list(Q7), 100.0),  # 7/6, kept at 100
        ([*Q7, "no_digital_collection"], 100.0),
    ],
)
def test_q7_follows_the_published_reading(core, ticked, expected):
    profile = score(core, {"dma_q7": ticked})
    assert profile.questions["dma_q7"].score == expected == round(100 * min(1.0, max(0.0, dmsa_q7(ticked))), 2)


@pytest.mark.parametrize("ticked", [[], [*Q7, "no_digital_collection"]])
def test_q7_agrees_with_both_readings_where_they_agree(core, ticked):
    assert masterproject_q7(ticked) == dmsa_q7(ticked)
    assert score(core, {"dma_q7": ticked}).questions["dma_q7"].score == 100 * dmsa_q7(ticked)


# --- Bands and the profile JSON -----------------------------------------------------------


@pytest.mark.parametrize(
    "value, band",
    [(0, "basic"), (25, "basic"), (25.1, "average"), (50, "average"), (50.1, "moderately_advanced"),
     (75, "moderately_advanced"), (75.1, "advanced"), (100, "advanced"), (None, None)],
)
def test_the_official_bands(value, band):
    assert dma_band(value) == band


def test_the_profile_json_has_the_dma_object_keyed_by_the_edih_names(core):
    profile = profile_to_builtins(score(core, ALL_MAXIMUM))
    assert profile["dma"] == {"score": 100.0, "band": "advanced", "dimensions": dict.fromkeys(DMA_DIMENSIONS, 100.0)}
    assert list(profile["dma"]["dimensions"]) == [
        "digital_business_strategy", "digital_readiness", "human_centric_digitalisation",
        "data_management", "automation_ai", "green_digitalisation",
    ]


def test_a_dma_dimension_without_a_score_leaves_the_dma_score_out(tmp_path):
    compiled = compile_text(tmp_path, DMA_BODY.replace("allow_na: false", "allow_na: true"), DMA_DECLARED)
    profile = score(compiled, {"q": "na", "r": 4})
    assert profile.dma.dimensions["digital_business_strategy"] is None
    assert (profile.dma.score, profile.dma.band) == (None, None)


def test_a_questionnaire_without_dma_shows_none_of_it(tmp_path):
    from tests.helpers import SCORING_MODEL, SHOW_IF_BODY

    compiled = compile_text(tmp_path, SHOW_IF_BODY, SCORING_MODEL)
    profile = score(compiled, {"has_meter": True})
    assert profile.dma is None and compiled.dma == {}
    assert msgspec.json.decode(msgspec.json.encode(profile))["dma"] is None


# --- The `dma` key of the questionnaire language --------------------------------------------

# Six dimensions, two of them scored by the questions of DMA_BODY; the `dma` key maps them.
DMA_MODEL = """\
pillars:
  - {id: digital, title: {en: Digital}}
dimensions:
  - {id: strategy, title: {en: Strategy}, pillar: digital}
  - {id: readiness, title: {en: Readiness}, pillar: digital}
  - {id: human, title: {en: People}, pillar: digital, formula: "score.r"}
  - {id: data, title: {en: Data}, pillar: digital, formula: "score.r"}
  - {id: automation, title: {en: Automation}, pillar: digital, formula: "score.r"}
  - {id: green_digital, title: {en: Green digital}, pillar: digital, formula: "score.r"}
levels:
  - {id: basic, title: {en: Basic}, from: 0}
  - {id: advanced, title: {en: Advanced}, from: 76}
"""
DMA_KEY = """\
dma:
  digital_business_strategy: strategy
  digital_readiness: readiness
  human_centric_digitalisation: human
  data_management: data
  automation_ai: automation
  green_digitalisation: green_digital
"""
DMA_DECLARED = DMA_MODEL + DMA_KEY
DMA_BODY = """\
sections:
  - id: s
    title: {en: S}
    questions:
      - {kind: yes_no, id: q, text: {en: Q}, dimension: strategy, allow_na: false}
      - {kind: scale, id: r, text: {en: R}, dimension: readiness, min: 0, max: 4}
"""


def test_the_dma_key_maps_the_six_dimensions(tmp_path):
    compiled = compile_text(tmp_path, DMA_BODY, DMA_DECLARED)
    profile = score(compiled, {"q": True, "r": 2})
    assert profile.dma.dimensions == {
        "digital_business_strategy": 100.0, "digital_readiness": 50.0, "human_centric_digitalisation": 50.0,
        "data_management": 50.0, "automation_ai": 50.0, "green_digitalisation": 50.0,
    }
    assert (profile.dma.score, profile.dma.band) == (58.3, "moderately_advanced")


@pytest.mark.parametrize(
    "change, expected",
    [
        (("automation_ai: automation", "automation_ai: automaton"),
         ["dma: 'automation_ai' names unknown dimension 'automaton'; did you mean 'automation'?"]),
        (("data_management: data", "data_management: human"),
         ["dma: 'data_management' and 'human_centric_digitalisation' both name dimension 'human'; each DMA dimension needs its own"]),
    ],
)
def test_the_dma_key_names_six_different_dimensions(tmp_path, change, expected):
    assert errors_of(tmp_path, DMA_BODY, DMA_MODEL + DMA_KEY.replace(*change)) == expected


def located(tmp_path, model: str) -> list[str]:
    """The ``file:line:column: severity: message`` lines of compiling DMA_BODY with ``model``."""
    try:
        compile_text(tmp_path, DMA_BODY, model)
    except QuestionnaireError as exc:
        return [str(d).replace(str(tmp_path) + "/", "") for d in exc.diagnostics]
    raise AssertionError("the questionnaire compiled without errors")


@pytest.mark.parametrize(
    "change, expected",
    [
        # The header is 5 lines and DMA_MODEL 12: `dma:` is line 18, its entries 19 to 24.
        (("  green_digitalisation: green_digital\n", ""), "q.yaml:19:3: error: missing required key 'green_digitalisation'"),
        (("  automation_ai: automation\n", "  automation_ai: automation\n  interoperability: data\n"), "q.yaml:24:21: error: unknown key 'interoperability'"),
        (("automation_ai: automation", "automation_ai: Automation"), "q.yaml:23:18: error: an id must be lower-case letters, digits and underscores, starting with a letter"),
        (("automation_ai: automation", "automation_ai: automaton"), "q.yaml:19:3: error: dma: 'automation_ai' names unknown dimension 'automaton'; did you mean 'automation'?"),
    ],
)
def test_the_dma_key_reports_where_it_is_wrong(tmp_path, change, expected):
    assert located(tmp_path, DMA_MODEL + DMA_KEY.replace(*change)) == [expected]


def test_a_variant_inherits_the_dma_key_of_its_base(tmp_path):
    compile_text(tmp_path, DMA_BODY, DMA_DECLARED)  # writes q.yaml and its catalog
    (tmp_path / "variant.yaml").write_text(
        'kind: questionnaire\nid: v\nversion: "1"\ntitle: {en: Variant}\nextends: q.yaml\n'
        "changes:\n  dimension_weights: {human: 2}\n"
    )
    variant = compile_questionnaire(tmp_path / "variant.yaml")
    assert variant.dma == compile_questionnaire(tmp_path / "q.yaml").dma
    assert score(variant, {"q": True, "r": 4}).dma.score == 100.0


def test_an_expected_dma_score_is_checked(tmp_path):
    compiled = compile_text(
        tmp_path,
        DMA_BODY + "tests:\n  - name: t\n    answers: {q: true, r: 4}\n    expect: {dma: 90}\n",
        DMA_DECLARED,
    )
    assert compare(compiled.tests[0], score(compiled, {"q": True, "r": 4})) == ["expected DMA score 90 ± 0.5, got 100"]


def test_a_test_cannot_expect_a_dma_score_without_the_dma_key(tmp_path):
    body = DMA_BODY + "tests:\n  - name: t\n    answers: {q: true}\n    expect: {dma: 90}\n"
    assert errors_of(tmp_path, body, DMA_MODEL) == ["test 't' expects a DMA score, but the questionnaire declares no 'dma' dimensions"]


# --- Where an SME's result appears ----------------------------------------------------------


def test_every_page_of_a_result_shows_both_scores_named_apart(database_url, tmp_path, bundled):
    """The results page, the API, the workspace's page and list, and the list download of
    a furniture SME that gave every DMA question its best answer."""
    import csv
    import io

    from litestar.testing import TestClient

    from assessment.store.responses import CompanyProfile
    from tests.assessments import stored_assessment
    from tests.database import in_sessions
    from tests.workspace import add_user, sign_in, workspace_settings
    from web.app import create_app

    settings = workspace_settings(database_url, BUNDLED, tmp_path / "data")
    add_user(database_url, "organiser@recentre.example", "organiser")

    async def make(sessions):
        return await stored_assessment(sessions, bundled["furniture"], ALL_MAXIMUM, language="it", cluster="did", sector="furniture",
                                       share_with_advisors=True, company=CompanyProfile(name="Mobili Rossi"))

    assessment_id, token = in_sessions(database_url, make)
    with TestClient(app=create_app(settings)) as client:
        page = client.get(f"/a/{token}/results").text
        assert "Indice RE-CENTRE della duplice transizione" in page
        assert "Valutazione della maturità digitale dell'UE (DMA)" in page
        assert """<dt>Punteggio DMA dell'UE</dt><dd><strong class="big-number">100</strong> / 100 · Avanzato</dd>""" in page
        assert '<th scope="row">Gestione dei dati e connettività</th><td class="number">100</td>' in page
        result = client.get(f"/api/v1/assessments/{token}").json()["result"]
        assert result["dma"] == {"score": 100.0, "band": "advanced", "dimensions": dict.fromkeys(DMA_DIMENSIONS, 100.0)}
        assert result["overall"]["score"] < 100
        assert sign_in(client, "organiser@recentre.example").status_code == 303
        workspace = client.get(f"/workspace/assessments/{assessment_id}").text
        assert "RE-CENTRE twin-transition index</dt>" in workspace
        assert '<dt>EU DMA score</dt><dd><strong class="big-number">100</strong> / 100 · Advanced</dd>' in workspace
        assert '<th scope="row">Automation and Artificial Intelligence</th><td class="number">100</td>' in workspace
        listed = client.get("/workspace").text
        assert '<th scope="col" class="number">EU DMA score</th>' in listed and '<td class="number">100.0</td>' in listed
        rows = list(csv.DictReader(io.StringIO(client.get("/workspace/assessments.csv").text.lstrip("\ufeff"))))
        assert [(r["RE-CENTRE index"] != "", r["DMA Score"], r["DMA Band"], r["Green Digitalisation"]) for r in rows] == [(True, "100", "Advanced", "100")]


def test_recentre_score_prints_both_scores_named_apart(tmp_path, capsys):
    import yaml

    from web.cli import main

    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump({**ALL_MAXIMUM, "company": {"size": "small", "sector": "it", "country": "RO", "cluster": "cluj_it"}}))
    assert main(["score", "it", str(answers)]) == 0
    out = capsys.readouterr().out
    assert "(the RE-CENTRE twin-transition index)" in out
    assert "EU DMA   100.0  Advanced  (the EU Digital Maturity Assessment score: the mean of its six dimensions)" in out
    assert "  Data Management and Connectedness      100.0  ####################" in out
    assert main(["score", "--json", "it", str(answers)]) == 0
    assert msgspec.json.decode(capsys.readouterr().out)["dma"]["band"] == "advanced"
