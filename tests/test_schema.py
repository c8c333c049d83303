"""The JSON Schema for editors is generated from the Structs and committed; keep it current."""

import json

import pytest

from questionnaires.jsonschema import SCHEMA_FILE, questionnaire_schema, questionnaire_schema_text
from web.cli import main


def test_committed_schema_is_current():
    committed = SCHEMA_FILE.read_text(encoding="utf-8")
    assert committed == questionnaire_schema_text(), "run `recentre schema -o questionnaires/schema.json` and commit it"


def test_schema_names_every_file_kind_and_question_kind():
    text = json.dumps(questionnaire_schema())
    for kind in ("questionnaire", "module", "catalog", "single_choice", "multiple_choice", "scale", "matrix", "number", "yes_no", "text"):
        assert f'"{kind}"' in text


def test_schema_command_prints_json(capsys):
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "recentre questionnaire file"


@pytest.mark.parametrize("document, valid", [({"kind": "module", "id": "m"}, True), ({"kind": "module", "id": "m", "bogus": 1}, False)])
def test_schema_agrees_with_the_language(document, valid):
    import msgspec

    from questionnaires.schema import SourceFile

    try:
        msgspec.convert(document, SourceFile)
        accepted = True
    except msgspec.ValidationError:
        accepted = False
    assert accepted is valid
    assert questionnaire_schema()["$defs"]["ModuleFile"]["additionalProperties"] is False
