"""Every bundled questionnaire gives a full report in every cluster language."""

from __future__ import annotations

import random
from datetime import date

import pytest

from questionnaires.compile import load_bundled
from questionnaires.reference import CLUSTERS
from scoring.check import random_answers
from scoring.engine import score
from scoring.render.report import ReportDetails, render_report
from tests.pdf import pdf_text, reads_in

BUNDLED = {c.id: c for c in load_bundled()}
LANGS = ["en", "bg", "it", "es", "ro"]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("qid", sorted(BUNDLED))
def test_report_for_every_questionnaire_and_language(qid, lang, tmp_path):
    compiled = BUNDLED[qid]
    cluster = next(c for c in CLUSTERS.values() if c.language == lang) if lang != "en" else CLUSTERS["did"]
    company = {"size": "small", "sector": compiled.meta.sectors[0], "country": cluster.country, "cluster": cluster.id}
    answers = random_answers(compiled, random.Random(hash((qid, lang)) % 1000), company)
    profile = score(compiled, answers, company, lang=lang, explain=True)
    details = ReportDetails(
        company_name="Тест & <Co>", sector=company["sector"], cluster=cluster.id, country=cluster.country,
        assessment_date=date(2026, 11, 25), language=lang,
    )
    text = pdf_text(render_report(compiled, profile, details), tmp_path)
    assert reads_in(compiled.meta.title.get(lang), text)
    first_dimension = next(iter(compiled.dimensions.values()))
    assert reads_in(first_dimension.title.get(lang), text)
    for rec in profile.recommendations[:3]:
        assert reads_in(rec.title, text)
    assert "Тест & <Co>" in text
