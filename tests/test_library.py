"""The organisers' questionnaire library counts the submitted answers of every kind of
question of every bundled questionnaire, on SQLite and PostgreSQL: choices, tick boxes,
scales, yes/no, numbers, free text, and matrices of 0-5 points, of tick columns and of
No / Partially / Yes, with "don't know" wherever a question allows it."""

from __future__ import annotations

import html
import random
import re
from pathlib import Path

import pytest
from litestar.testing import TestClient

from questionnaires.compile import BUNDLED, load_bundled
from questionnaires.kinds import NA, kind_of
from scoring.check import random_answers
from tests.assessments import stored_assessment
from tests.database import in_sessions
from tests.workspace import add_user, sign_in, workspace_settings
from web.app import create_app
from web.library import preview_widgets

ORGANISER = "organiser@recentre.example"
# A free-text answer that is JSON-like, quoted and unbalanced: counted, never shown.
ODD_TEXT = 'Our "plan": {"phase": [1, 2]} ] \' {not json'


@pytest.fixture(scope="module")
def bundled():
    return {c.id: c for c in load_bundled()}


def answer_sets(compiled) -> list[dict]:
    """Answer sets that together give every kind of answer to the questionnaire: the best
    answers, random ones, and one with "don't know" wherever it is allowed, the middle column
    of every No / Partially / Yes row and an odd free text."""
    company = {"size": "small", "sector": compiled.meta.sectors[0], "country": "IT", "cluster": "did"}
    sets = [random_answers(compiled, random.Random(0), company, best=True)]
    sets += [random_answers(compiled, random.Random(seed), company) for seed in range(1, 5)]
    edge = random_answers(compiled, random.Random(99), company)
    for qid, question in compiled.questions.items():
        if question.allow_na:
            edge[qid] = NA
        elif type(question).__name__ == "FreeText":
            edge[qid] = ODD_TEXT
    edge["dma_q11"] = {row: "partially" for row in edge["dma_q11"]}
    edge["dma_q1"] = {row: [] for row in edge["dma_q1"]}
    sets.append(edge)
    return sets


def test_every_library_page_counts_every_kind_of_answer(database_url, tmp_path: Path, bundled):
    settings = workspace_settings(database_url, BUNDLED, tmp_path / "data")
    add_user(database_url, ORGANISER, "organiser")
    submitted = {qid: answer_sets(compiled) for qid, compiled in bundled.items()}
    for qid, compiled in bundled.items():
        kinds = {type(q).__name__ for q in compiled.questions.values()}
        answered = {type(compiled.questions[q]).__name__ for answers in submitted[qid] for q in answers}
        assert answered == kinds, qid  # every kind of question of the questionnaire is answered
        assert any(a.get(q) == NA for a in submitted[qid] for q in compiled.questions), qid

    async def submit(sessions):
        for qid, compiled in bundled.items():
            for answers in submitted[qid]:
                await stored_assessment(sessions, compiled, answers, language="en", cluster="did", sector=compiled.meta.sectors[0], share_with_advisors=True)

    in_sessions(database_url, submit)
    with TestClient(app=create_app(settings)) as client:
        assert sign_in(client, ORGANISER).status_code == 303
        assert client.get("/workspace/library").status_code == 200
        for qid, compiled in bundled.items():
            response = client.get(f"/workspace/library/{qid}")
            assert response.status_code == 200, (qid, response.text[:500])
            text = re.sub(r"\s+", " ", response.text)
            assert html.escape(ODD_TEXT) not in text and ODD_TEXT not in text
            widgets = preview_widgets(compiled, "en")
            for question_id, question in compiled.questions.items():
                answers = [a[question_id] for a in submitted[qid] if question_id in a]
                n = len(answers)
                said = f"Answered in {n} submitted assessment{'' if n == 1 else 's'}."
                assert said in text, (qid, question_id, said)
                widget = widgets[question_id]
                if widget.name != "matrix":
                    continue
                # Each cell of a matrix: how many answers chose it, "don't know" among them.
                kind = kind_of(question)
                for row in widget.rows:
                    for choice in widget.choices:
                        chosen = sum(
                            1 for a in answers
                            if row.id in a and choice.value in kind.form_values(question, {row.id: a[row.id]}).get(f"{question_id}.{row.id}", ())
                        )
                        cell = f'aria-label="{html.escape(row.text)}: {html.escape(choice.text)}"> <span class="muted" lang="en">{chosen}</span>'
                        assert cell in text, (qid, question_id, row.id, choice.value, chosen)
