"""The bundled questionnaires: valid, complete, tested, and of the size the clusters asked for."""

from __future__ import annotations

import pytest

from questionnaires.compile import load_bundled
from questionnaires.kinds import kind_of
from scoring.check import run_tests, simulate
from web.cli import main

BUNDLED = {c.id: c for c in load_bundled()}
SECTORS = ["furniture", "it", "energy"]


def test_bundled_questionnaires_validate_strictly(capsys):
    assert main(["validate", "--strict", "-q"]) == 0
    assert "error" not in capsys.readouterr().out


@pytest.mark.parametrize("qid", sorted(BUNDLED))
def test_embedded_tests_pass_and_reach_everything(qid):
    report = run_tests(BUNDLED[qid])
    assert [str(d) for d in report.failures] == []
    assert [str(d) for d in report.uncovered] == []
    assert report.passed == len(BUNDLED[qid].tests) >= 4


@pytest.mark.parametrize("qid", sorted(BUNDLED))
def test_simulation_finds_no_run_time_failures_or_dead_rules(qid):
    report = simulate(BUNDLED[qid], 300, seed=3)
    assert [str(d) for d in report.simulation] == []


@pytest.mark.parametrize("qid", SECTORS)
def test_sector_questionnaires_are_sized_for_twenty_minutes(qid):
    compiled = BUNDLED[qid]
    assert 40 <= len(compiled.questions) <= 70
    assert compiled.meta.estimated_minutes == 20
    assert qid in compiled.meta.sectors


@pytest.mark.parametrize("qid", sorted(BUNDLED))
def test_every_question_says_why_it_matters(qid):
    missing = [q.id for q in BUNDLED[qid].questions.values() if q.help is None and not kind_of(q).optional]
    assert missing == []


def test_sector_variants_reuse_the_core():
    core = set(BUNDLED["core"].questions)
    for sector in SECTORS:
        shared = core & set(BUNDLED[sector].questions)
        assert len(shared) >= 30, sector
        assert {f"dma_q{i}" for i in range(1, 12)} <= shared


def test_catalog_has_every_instrument_kind():
    kinds = {i.kind for i in BUNDLED["core"].instruments.values()}
    assert kinds == {"innovation_voucher", "internationalisation_voucher", "training"}
    titles = " ".join(i.title.en for i in BUNDLED["core"].instruments.values())
    assert "Mexico" in titles and "Chile" in titles


def test_core_covers_the_six_dma_dimensions_and_green_and_resilience():
    dims = BUNDLED["core"].dimensions
    assert {"strategy", "readiness", "human", "data", "automation", "green_digital"} <= set(dims)
    assert {d.pillar for d in dims.values()} == {"digital", "green", "resilience"}
