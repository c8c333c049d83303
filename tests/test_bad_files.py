"""Malformed files: `recentre validate` names the file, line and column, exits 1, and never
shows a traceback or runs anything from the file."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from web.cli import main

VALID_HEAD = 'kind: questionnaire\nid: q\nversion: "1"\ntitle: {en: Test}\n'

LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8)
)


def validate(tmp_path, capsys, content: bytes | str, name: str = "bad.yaml") -> tuple[int, str]:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    code = main(["validate", "-q", str(path)])
    out = capsys.readouterr()
    text = (out.out + out.err).replace(str(tmp_path) + "/", "")
    assert "Traceback" not in text
    return code, text


@pytest.mark.parametrize(
    "content, expected",
    [
        ("kind: questionnaire\nid: [\n", "bad.yaml:3:1: error: YAML syntax error: did not find expected node content"),
        ("kind: questionnaire\n  id: x\n", "bad.yaml:2:5: error: YAML syntax error: mapping values are not allowed in this context"),
        (VALID_HEAD + "estimated_minutes: twenty\n", "bad.yaml:5:20: error: expected a whole number, got str"),
        (VALID_HEAD + "sections: {}\n", "bad.yaml:5:11: error: expected a list, got object"),
        (VALID_HEAD + "colour: blue\n", "bad.yaml:5:9: error: unknown key 'colour'"),
        (VALID_HEAD + "id: again\n", "bad.yaml:5:1: error: duplicate key 'id'"),
        ("kind: questionnaire\nid: Bad-Id\n", "bad.yaml:2:5: error: an id must be lower-case letters, digits and underscores, starting with a letter"),
        ('kind: survey\nid: q\n', "bad.yaml:1:7: error: invalid value 'survey' for 'kind'; use one of questionnaire, module, catalog"),
        ("id: q\n", "bad.yaml:1:1: error: missing key 'kind': one of questionnaire, module, catalog"),
        ("- just\n- a list\n", "bad.yaml:1:1: error: the file must be a mapping of keys, such as 'kind: questionnaire'"),
        ("", "bad.yaml:1:1: error: the file is empty"),
        ("# only a comment\n\n", "bad.yaml:1:1: error: the file is empty"),
        ("kind: !!python/object/apply:os.system [echo owned]\n", "bad.yaml:1:7: error: YAML tags such as 'tag:yaml.org,2002:python/object/apply:os.system' are not allowed"),
        ("kind: !custom questionnaire\n", "bad.yaml:1:7: error: YAML tags such as '!custom' are not allowed"),
        (LAUGHS, "bad.yaml:2:4: error: YAML aliases (*name) are not allowed; write the value out"),
        ("kind: questionnaire\n<<: {id: q}\n", "bad.yaml:2:1: error: YAML merge keys (<<) are not allowed"),
        (b"kind: questionnaire\ntitle: {en: caf\xe9}\n", "bad.yaml:2:16: error: the file is not UTF-8 text (byte 0xe9); save it as UTF-8"),
        ("a: " + "[" * 2000 + "]" * 2000 + "\n", "bad.yaml:1:1003: error: YAML syntax error: the file is nested too deeply"),
        ("a: " + "[" * 60 + "]" * 60 + "\n", "bad.yaml:1:44: error: the file is nested too deeply"),
        ("kind: questionnaire\n---\nkind: module\n", "bad.yaml:3:1: error: a file holds one YAML document; remove the second '---'"),
        (VALID_HEAD + "sections:\n  - id: s\n    title: {en: S}\n    questions:\n      - {kind: slider, id: x, text: {en: X}}\n",
         "bad.yaml:9:16: error: invalid value 'slider' for 'kind'; use one of single_choice, multiple_choice, scale, matrix, number, yes_no, text"),
        (VALID_HEAD + "sections:\n  - id: s\n    title: {en: S}\n    questions:\n      - {kind: matrix, id: x, text: {en: X}, rows: [{id: r, text: {en: R}}]}\n",
         "bad.yaml:9:9: error: a matrix needs exactly one of `scale` or `columns`"),
    ],
)
def test_malformed_file(tmp_path, capsys, content, expected):
    code, text = validate(tmp_path, capsys, content)
    assert code == 1
    assert text.splitlines()[0] == expected


def test_huge_file_is_refused_before_parsing(tmp_path, capsys):
    content = "kind: module\nid: m\n# " + "x" * (3 * 1024 * 1024) + "\n"
    started = time.perf_counter()
    code, text = validate(tmp_path, capsys, content)
    assert code == 1
    assert text.splitlines()[0] == "bad.yaml:1:1: error: file is 3,145,750 bytes; questionnaire files are limited to 2,097,152"
    assert time.perf_counter() - started < 5


def test_many_values_are_bounded(tmp_path, capsys):
    content = "kind: module\nid: m\nx: [" + ", ".join("1" for _ in range(250_000)) + "]\n"
    code, text = validate(tmp_path, capsys, content)
    assert code == 1
    assert "error: the file has too many values" in text


def test_missing_file(tmp_path, capsys):
    code = main(["validate", "-q", str(tmp_path / "nope.yaml")])
    out = capsys.readouterr().out
    assert code == 1
    assert out.strip().endswith("nope.yaml:1:1: error: file not found")


def test_python_tags_never_run(tmp_path):
    marker = tmp_path / "owned"
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"kind: !!python/object/apply:os.system ['touch {marker}']\n")
    result = subprocess.run([sys.executable, "-m", "web.cli", "validate", str(bad)], capture_output=True, text=True)
    assert result.returncode == 1
    assert not marker.exists()
    assert "Traceback" not in result.stderr


def test_every_problem_in_a_folder_is_reported(tmp_path, capsys):
    (tmp_path / "a.yaml").write_text("kind: module\nid: a\nnope: 1\n")
    (tmp_path / "b.yaml").write_text("kind: module\nid: [\n")
    code = main(["validate", "-q", str(tmp_path)])
    out = capsys.readouterr().out.replace(str(tmp_path) + "/", "")
    assert code == 1
    assert out.splitlines() == [
        "a.yaml:3:7: error: unknown key 'nope'",
        "b.yaml:3:1: error: YAML syntax error: did not find expected node content",
    ]


def deep_show_if(terms: int) -> str:
    """A questionnaire whose second question is shown if ``1+1+...`` (``terms`` ones) > 0."""
    from tests.helpers import questionnaire

    expression = "+".join(["1"] * terms) + " > 0"
    return questionnaire(
        f"""
        sections:
          - id: s
            title: {{en: S}}
            questions:
              - {{kind: yes_no, id: a, text: {{en: A}}, dimension: energy}}
              - {{kind: yes_no, id: b, text: {{en: B}}, dimension: data, show_if: "{expression}"}}
        """
    )


def test_an_expression_nested_too_deeply_is_an_error_at_its_column(tmp_path, capsys):
    from tests.helpers import CATALOG

    (tmp_path / "catalog.yaml").write_text(CATALOG)
    # 990 terms fit within the 2,000 characters an expression may have; the 101st term is
    # one operation too many.
    code, text = validate(tmp_path, capsys, deep_show_if(990), name="q.yaml")
    assert code == 1
    column = text.splitlines()[0].split(":")[2]
    assert text.splitlines()[0] == (
        f"q.yaml:28:{column}: error: question 'b' show_if: the expression is nested too deeply: "
        "more than 100 operations inside one another; split it up"
    )
    line = deep_show_if(990).splitlines()[27]
    assert line[int(column) - 1 :].startswith("+1+1")  # the 100th '+', where the tree grows too high
    assert line[: int(column) - 1].count("+") == 99


def test_an_expression_just_within_the_limit_compiles_and_is_evaluated(tmp_path):
    from scoring.engine import score
    from tests.helpers import CATALOG

    (tmp_path / "catalog.yaml").write_text(CATALOG)
    path = tmp_path / "q.yaml"
    path.write_text(deep_show_if(99))  # 98 additions and a comparison: 100 operations deep
    from questionnaires.compile import compile_questionnaire

    compiled = compile_questionnaire(path)
    assert score(compiled, {"a": True, "b": False}).dimensions["data"].score == 0
