"""The questionnaire language: what compiles, and the exact errors for what does not."""

from __future__ import annotations

import pytest

from questionnaires.compile import compile_questionnaire
from questionnaires.diagnostics import QuestionnaireError
from questionnaires.schema import Matrix, MultipleChoice
from tests.helpers import SCORING_MODEL, compile_text, diagnostics_of, errors_of, questionnaire, write

DATA_SECTION = """\
sections:
  - id: s1
    title: {en: Data}
    questions:
      - kind: multiple_choice
        id: practices
        text: {en: Practices}
        dimension: data
        options:
          - {id: policy, text: {en: Policy}, points: 1}
          - {id: backups, text: {en: Backups}, points: 1}
          - {id: paper, text: {en: Not digital}, points: -1}
          - {id: none, text: {en: None of these}, exclusive: true}
      - kind: yes_no
        id: audit
        text: {en: Energy audit?}
        dimension: energy
"""


def test_every_question_kind_compiles(tmp_path):
    compiled = compile_text(
        tmp_path,
        """\
        sections:
          - id: s1
            title: {en: All kinds}
            questions:
              - {kind: single_choice, id: a, text: {en: A}, dimension: data, allow_na: true,
                 options: [{id: x, text: {en: X}, points: 1}, {id: y, text: {en: Y}}]}
              - {kind: multiple_choice, id: b, text: {en: B}, dimension: data,
                 options: [{id: x, text: {en: X}, points: 1}, {id: none, text: {en: None}, exclusive: true}]}
              - {kind: scale, id: c, text: {en: C}, dimension: data, min: 0, max: 5,
                 labels: [{value: 0, text: {en: Never}}, {value: 5, text: {en: Always}}]}
              - kind: matrix
                id: d
                text: {en: D}
                dimension: energy
                rows: [{id: r1, text: {en: R1}}, {id: r2, text: {en: R2}}]
                columns: [{id: no, text: {en: No}}, {id: partly, text: {en: Partially}, points: 0.5},
                          {id: yes, text: {en: Yes}, points: 1}]
              - kind: matrix
                id: e
                text: {en: E}
                dimension: data
                multiple: true
                rows: [{id: r1, text: {en: R1}}]
                columns: [{id: done, text: {en: Already invested}, points: 1},
                          {id: planned, text: {en: Plan to invest}, points: 1}]
              - {kind: number, id: f, text: {en: F}, unit: {en: "%"}, min: 0, max: 100, dimension: energy,
                 bands: [{at_least: 0, points: 0}, {at_least: 50, points: 1}]}
              - {kind: yes_no, id: g, text: {en: G}, dimension: energy}
              - {kind: text, id: h, text: {en: H}, required: false}
        """,
    )
    assert list(compiled.questions) == ["a", "b", "c", "d", "e", "f", "g", "h"]
    assert isinstance(compiled.questions["d"], Matrix)
    assert len(compiled.fingerprint) == 64


def test_fingerprint_follows_content_not_formatting(tmp_path):
    first = compile_text(tmp_path, DATA_SECTION)
    path = tmp_path / "q.yaml"
    path.write_text(path.read_text().replace("kind: yes_no", "kind:    yes_no") + "\n# a comment\n")
    assert compile_questionnaire(path).fingerprint == first.fingerprint
    path.write_text(path.read_text().replace("Energy audit?", "Energy audit done?"))
    assert compile_questionnaire(path).fingerprint != first.fingerprint


def test_expressions_are_parsed_once_at_compile_time(tmp_path):
    compiled = compile_text(
        tmp_path,
        DATA_SECTION
        + "  - id: s2\n"
        + "    title: {en: Follow-up}\n"
        + "    show_if: \"'policy' in practices\"\n"
        + "    questions:\n"
        + "      - {kind: yes_no, id: reviewed, text: {en: Reviewed?}, dimension: data,\n"
        + "         show_if: \"audit == true and company.size != 'micro'\"}\n",
    )
    assert compiled.show_if[("section", "s2")].text == "'policy' in practices"
    assert ("question", "reviewed") in compiled.show_if


@pytest.mark.parametrize(
    "body, message",
    [
        (DATA_SECTION.replace("dimension: data", "dimension: dta"),
         "question 'practices' names unknown dimension 'dta'; did you mean 'data'?"),
        (DATA_SECTION.replace("id: audit", "id: practices"),
         "duplicate question id 'practices' (first defined at q.yaml:27:9)"),
        (DATA_SECTION.replace("id: backups", "id: policy"),
         "duplicate option (in question 'practices') id 'policy' (first defined at q.yaml:32:13)"),
        (DATA_SECTION.replace("points: 1}\n          - {id: backups, text: {en: Backups}, points: 1}",
                              "points: 0}\n          - {id: backups, text: {en: Backups}, points: 0}"),
         "question 'practices' is scored but its options can earn no points"),
        (DATA_SECTION.replace("        dimension: energy\n", ""),
         "dimension 'energy' has no scored questions and no formula"),
        (DATA_SECTION + "        show_if: \"'polcy' in practices\"\n",
         "question 'audit' show_if: 'polcy' is not an option of question 'practices'; did you mean 'policy'?"),
        (DATA_SECTION + "        show_if: \"pratices == 'policy'\"\n",
         "question 'audit' show_if: unknown question 'pratices'; did you mean 'practices'?"),
        (DATA_SECTION + "        show_if: \"audit == true\"\n",
         "question 'audit' show_if: a question's show_if cannot refer to the question itself"),
        (DATA_SECTION + "        show_if: \"dimension.data > 50\"\n",
         "question 'audit' show_if: 'dimension.*' cannot be used here; allowed: answer, company"),
        (DATA_SECTION + "        show_if: \"practices = 'policy'\"\n",
         "question 'audit' show_if: unexpected character '=' (use '==' to compare)"),
    ],
)
def test_reference_errors(tmp_path, body, message):
    assert message in errors_of(tmp_path, body)


def test_expression_errors_point_at_the_column(tmp_path):
    lines = diagnostics_of(tmp_path, DATA_SECTION + "        show_if: \"audit2 == true\"\n")
    assert lines == ["q.yaml:40:19: error: question 'audit' show_if: unknown question 'audit2'; did you mean 'audit'?"]
    lines = diagnostics_of(tmp_path, DATA_SECTION + "        show_if: \"practices == 'policy' and\"\n")
    assert lines == ["q.yaml:40:44: error: question 'audit' show_if: expected a value but found the end of the expression"]


def test_show_if_may_only_use_earlier_answers(tmp_path):
    body = DATA_SECTION.replace("        dimension: data\n", "        dimension: data\n        show_if: \"audit == true\"\n", 1)
    assert "question 'practices' show_if uses 'audit', which comes later; a condition may only use earlier answers" in errors_of(tmp_path, body)


def test_levels_and_archetypes_must_be_consistent(tmp_path):
    model = SCORING_MODEL.replace("from: 76", "from: 20").replace(
        "grid: [[starter, digital_first], [green_first, leader]]", "grid: [[starter, digital_first]]"
    )
    errors = errors_of(tmp_path, DATA_SECTION, model)
    assert "level 'advanced' must start above level 'average' (20 <= 26)" in errors
    assert "'grid' must have 2 rows of 2 archetype ids (one more than the cuts)" in errors
    assert "archetype 'green_first' is not placed in the grid" in errors


def test_recommendations_link_to_the_catalog(tmp_path):
    body = DATA_SECTION + """\
recommendations:
  - id: r1
    title: {en: R1}
    when: "dimension.data < 50"
    rationale: {en: "Your data score is {dimension.dat}."}
    instruments: [iv, ivv]
    training: [data_skill]
"""
    errors = errors_of(tmp_path, body)
    assert "recommendation 'r1' links unknown instrument 'ivv'; did you mean 'iv'?" in errors
    assert "recommendation 'r1' links unknown training topic 'data_skill'; did you mean 'data_skills'?" in errors
    assert "recommendation 'r1' placeholder: unknown dimension 'dat'; did you mean 'data'?" in errors


def test_modules_are_included(tmp_path):
    compiled = compile_text(
        tmp_path,
        """\
        include: [modules/data.yaml]
        sections:
          - id: s2
            title: {en: Energy}
            include: [modules/energy_questions.yaml]
            questions:
              - {kind: yes_no, id: audit, text: {en: Audit?}, dimension: energy}
        """,
        modules__data="""\
            kind: module
            id: data
            sections:
              - id: s1
                title: {en: Data}
                questions:
                  - {kind: yes_no, id: backups, text: {en: Backups?}, dimension: data}
            """,
        modules__energy_questions="""\
            kind: module
            id: energy_questions
            questions:
              - {kind: yes_no, id: meter, text: {en: Smart meter?}, dimension: energy}
            """,
    )
    assert [s.id for s in compiled.sections] == ["s1", "s2"]
    assert list(compiled.questions) == ["backups", "meter", "audit"]


def test_missing_include_suggests_a_file(tmp_path):
    errors = errors_of(tmp_path, "include: [modules/dta.yaml]\n" + DATA_SECTION, modules__data="kind: module\nid: data\n")
    assert errors == ["'modules/dta.yaml' not found; did you mean 'modules/data.yaml'?"]


def test_include_of_wrong_kind(tmp_path):
    errors = errors_of(tmp_path, "include: [catalog.yaml]\n" + DATA_SECTION)
    assert errors == ["'catalog.yaml' is a catalog, not a module"]


def test_base_of_wrong_kind(tmp_path):
    errors = errors_of(tmp_path, "extends: modules/data.yaml\n" + DATA_SECTION, modules__data="kind: module\nid: data\n")
    assert errors == ["'modules/data.yaml' is a module, not a questionnaire"]


def test_catalog_of_wrong_kind(tmp_path):
    write(tmp_path, "modules/data.yaml", "kind: module\nid: data\n")
    path = write(tmp_path, "q.yaml", questionnaire(DATA_SECTION).replace("catalog: catalog.yaml", "catalog: modules/data.yaml"))
    with pytest.raises(QuestionnaireError) as info:
        compile_questionnaire(path)
    assert [str(d).replace(str(tmp_path) + "/", "") for d in info.value.diagnostics] == [
        "q.yaml:5:10: error: 'modules/data.yaml' is a module, not a catalog"
    ]


def test_compiling_a_module_is_a_value_error(tmp_path):
    path = write(tmp_path, "modules/data.yaml", "kind: module\nid: data\n")
    with pytest.raises(ValueError) as info:
        compile_questionnaire(path)
    assert str(info.value) == f"{path} is a module, not a questionnaire"


def test_sector_variant_extends_without_copying(tmp_path):
    compile_text(tmp_path, DATA_SECTION)  # writes q.yaml and catalog.yaml as the base
    variant = write(
        tmp_path,
        "furniture.yaml",
        """\
        kind: questionnaire
        id: furniture
        version: "1"
        title: {en: Furniture}
        extends: q.yaml
        changes:
          remove_questions: [audit]
          replace_questions:
            - {kind: yes_no, id: practices, text: {en: Any data practice?}, dimension: data}
          add_sections:
            - sections:
                - id: materials
                  title: {en: Materials}
                  questions:
                    - {kind: yes_no, id: fsc, text: {en: FSC wood?}, dimension: energy}
          add_questions:
            - section: s1
              questions:
                - {kind: yes_no, id: cad, text: {en: CAD?}, dimension: data}
          question_weights: {cad: 2}
          dimension_weights: {energy: 3}
          add_recommendations:
            - {id: dpp, title: {en: DPP}, when: "fsc == false", rationale: {en: Prepare the passport.}}
        """,
    )
    compiled = compile_questionnaire(variant)
    assert compiled.id == "furniture"
    assert [s.id for s in compiled.sections] == ["s1", "materials"]
    assert list(compiled.questions) == ["practices", "cad", "fsc"]
    assert not isinstance(compiled.questions["practices"], MultipleChoice)
    assert compiled.questions["cad"].weight == 2
    assert compiled.dimensions["energy"].weight == 3
    assert [r.id for r in compiled.recommendations] == ["dpp"]
    assert compiled.instruments  # the base's catalog is inherited


def test_variant_errors_name_the_unknown_target(tmp_path):
    compile_text(tmp_path, DATA_SECTION)
    variant = write(
        tmp_path,
        "v.yaml",
        """\
        kind: questionnaire
        id: v
        version: "1"
        title: {en: V}
        extends: q.yaml
        changes:
          remove_questions: [audti]
          question_weights: {practises: 2}
        """,
    )
    from questionnaires.diagnostics import QuestionnaireError

    with pytest.raises(QuestionnaireError) as info:
        compile_questionnaire(variant)
    assert [str(d).replace(str(tmp_path) + "/", "") for d in info.value.diagnostics] == [
        "v.yaml:7:22: error: cannot remove unknown question 'audti'; did you mean 'audit'?",
        "v.yaml:8:33: error: unknown question 'practises'; did you mean 'practices'?",
    ]


def test_extends_cycle_is_an_error(tmp_path):
    write(tmp_path, "a.yaml", 'kind: questionnaire\nid: a\nversion: "1"\ntitle: {en: A}\nextends: b.yaml\n')
    write(tmp_path, "b.yaml", 'kind: questionnaire\nid: b\nversion: "1"\ntitle: {en: B}\nextends: a.yaml\n')
    from questionnaires.diagnostics import QuestionnaireError

    with pytest.raises(QuestionnaireError) as info:
        compile_questionnaire(tmp_path / "a.yaml")
    assert any("includes itself" in d.message for d in info.value.diagnostics)


def test_missing_translations_are_warnings(tmp_path):
    compiled = compile_text(tmp_path, "languages: [en, bg]\n" + DATA_SECTION)
    messages = [d.message for d in compiled.warnings]
    assert "missing translation (bg) for 'Practices'" in messages
    assert all(d.severity == "warning" for d in compiled.warnings)


def test_computed_dimension_formula(tmp_path):
    twin = "  - {id: twin, title: {en: Twin}, pillar: green, formula: \"min(dimension.data, dimension.energy)\"}\n"
    model = SCORING_MODEL.replace("levels:\n", twin + "levels:\n")
    compiled = compile_text(tmp_path, DATA_SECTION, model)
    assert compiled.formulas["twin"].text == "min(dimension.data, dimension.energy)"
    bad = model.replace("min(dimension.data, dimension.energy)", "min(dimension.data, dimension.twin)")
    assert "dimension 'twin' formula uses dimension 'twin', which is itself computed by a formula" in errors_of(tmp_path, DATA_SECTION, bad)
