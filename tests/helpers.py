"""Small questionnaires written inline, in the manner of pyxform's markdown forms, and the
helpers that compile them."""

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
    """``text`` without its common indentation and leading blank lines."""
    return textwrap.dedent(text).lstrip("\n")


def write(tmp_path: Path, name: str, text: str) -> Path:
    """The file ``name`` under ``tmp_path``, holding ``text`` dedented."""
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


# --- A questionnaire with conditions -------------------------------------------------------

# meter_use is asked only after has_meter == true, and the option tools.mes only for 50 staff
# or more.
SHOW_IF_BODY = """\
sections:
  - id: s
    title: {en: S}
    questions:
      - {kind: yes_no, id: has_meter, text: {en: Smart meter?}, dimension: energy}
      - {kind: scale, id: meter_use, text: {en: How much do you use it?}, dimension: energy, min: 0, max: 4,
         show_if: "has_meter == true"}
      - {kind: number, id: staff, text: {en: Staff}, min: 1, max: 5000, integer: true}
      - kind: multiple_choice
        id: tools
        text: {en: Tools}
        dimension: data
        options:
          - {id: erp, text: {en: ERP}, points: 1}
          - {id: mes, text: {en: MES}, points: 1, show_if: "staff >= 50"}
"""

# SHOW_IF_BODY with a second section (a scale and an optional text) and a recommendation.
CONDITIONS_BODY = SHOW_IF_BODY + """\
  - id: s2
    title: {en: Markets}
    questions:
      - {kind: scale, id: d, text: {en: D}, dimension: data, min: 0, max: 4}
      - {kind: text, id: note, text: {en: Anything else?}, required: false}
recommendations:
  - id: data_first
    title: {en: Start with data}
    when: "dimension.data <= 50"
    rationale: {en: "Your data score is {dimension.data}."}
    instruments: [iv]
    training: [data_skills]
"""

# CONDITIONS_BODY as the file cond.yaml of a folder of questionnaires, beside CATALOG as
# cond_catalog.yaml (``write_conditions``).
CONDITIONS = (
    'kind: questionnaire\nid: cond\nversion: "1"\ntitle: {en: Conditions, it: Condizioni}\n'
    "catalog: cond_catalog.yaml\n" + SCORING_MODEL + dedent(CONDITIONS_BODY)
)


def write_conditions(folder: Path, text: str = CONDITIONS) -> Path:
    """``folder``, with ``text`` (the questionnaire ``cond``) and its catalog written into it."""
    (folder / "cond_catalog.yaml").write_text(CATALOG, encoding="utf-8")
    (folder / "cond.yaml").write_text(text, encoding="utf-8")
    return folder
