"""Small questionnaires written inline, in the manner of pyxform's markdown forms."""

from __future__ import annotations

import textwrap
from pathlib import Path

from questionnaires.compile import compile_questionnaire
from questionnaires.diagnostics import QuestionnaireError

# A complete small questionnaire: one pillar pair, levels, an archetype matrix, a catalog.
SCORING_MODEL = """\
pillars:
  - {id: digital, title: {en: Digital}}
  - {id: green, title: {en: Green}}
dimensions:
  - {id: data, title: {en: Data}, pillar: digital}
  - {id: energy, title: {en: Energy}, pillar: green}
levels:
  - {id: basic, title: {en: Basic}, from: 0}
  - {id: average, title: {en: Average}, from: 26}
  - {id: advanced, title: {en: Advanced}, from: 76}
archetypes:
  grid: [[starter, digital_first], [green_first, leader]]
  archetypes:
    - {id: starter, title: {en: Starter}}
    - {id: digital_first, title: {en: Digital first}}
    - {id: green_first, title: {en: Green first}}
    - {id: leader, title: {en: Leader}}
"""

CATALOG = """\
kind: catalog
id: cat
instruments:
  - {id: iv, kind: innovation_voucher, title: {en: Innovation voucher}, description: {en: Funds projects.}}
  - {id: mx, kind: internationalisation_voucher, title: {en: Mexico mission}, description: {en: B2B meetings.}}
training_topics:
  - {id: data_skills, title: {en: Data skills}}
"""


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dedent(text), encoding="utf-8")
    return path


HEADER = 'kind: questionnaire\nid: q\nversion: "1"\ntitle: {en: Test}\ncatalog: catalog.yaml\n'


def questionnaire(body: str, model: str = SCORING_MODEL) -> str:
    """A questionnaire file: a header, a scoring model, and ``body`` (sections...)."""
    return HEADER + model + dedent(body)


def compile_text(tmp_path: Path, body: str, model: str = SCORING_MODEL, **files: str):
    """Compile ``body`` (see ``questionnaire``) with extra files named by keyword
    (``modules__data`` is written as ``modules/data.yaml``)."""
    write(tmp_path, "catalog.yaml", CATALOG)
    for name, text in files.items():
        write(tmp_path, name.replace("__", "/") + ".yaml", text)
    path = tmp_path / "q.yaml"
    path.write_text(questionnaire(body, model), encoding="utf-8")
    return compile_questionnaire(path)


def errors_of(tmp_path: Path, body: str, model: str = SCORING_MODEL, **files: str) -> list[str]:
    """The messages of compiling ``body``; fails if it compiles."""
    try:
        compile_text(tmp_path, body, model, **files)
    except QuestionnaireError as exc:
        return [d.message.replace(str(tmp_path) + "/", "") for d in exc.diagnostics if d.severity == "error"]
    raise AssertionError("the questionnaire compiled without errors")


def diagnostics_of(tmp_path: Path, body: str, **files: str) -> list[str]:
    """Full ``file:line:column: severity: message`` lines, relative to tmp_path."""
    try:
        compile_text(tmp_path, body, **files)
    except QuestionnaireError as exc:
        return [str(d).replace(str(tmp_path) + "/", "") for d in exc.diagnostics]
    raise AssertionError("the questionnaire compiled without errors")
