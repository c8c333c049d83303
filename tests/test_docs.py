"""The README is checked by tests: its example compiles and passes its own tests, and every
command and setting it should describe is described."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from assessment.settings import Settings
from tests.environment import ROOT
from web.cli import build_parser, main

README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE = ROOT / "docs" / "example"


@pytest.mark.parametrize("name", ["example.yaml", "catalog.yaml", "answers.yaml"])
def test_readme_shows_the_example_files_verbatim(name):
    text = (EXAMPLE / name).read_text(encoding="utf-8")
    assert f"```yaml\n{text}```" in README


def test_readme_example_is_valid_and_its_tests_pass(capsys):
    assert main(["validate", "--strict", str(EXAMPLE / "example.yaml")]) == 0
    assert main(["check", "--strict", "--simulate", "200", str(EXAMPLE / "example.yaml")]) == 0
    assert main(["score", str(EXAMPLE / "example.yaml"), str(EXAMPLE / "answers.yaml"), "--explain"]) == 0
    assert "Put your data in order" in capsys.readouterr().out


def _commands(parser: argparse.ArgumentParser, prefix: str = "recentre") -> list[str]:
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = _commands(sub, f"{prefix} {name}")
                out.extend(nested or [f"{prefix} {name}"])
    return out


def test_readme_documents_every_command():
    for command in _commands(build_parser()):
        assert f"`{command}" in README, f"README does not document `{command}`"


def test_readme_documents_every_setting():
    for f in dataclasses.fields(Settings):
        variable = f"RECENTRE_{f.name.upper()}"
        assert variable in README, f"README does not document {variable}"


def test_readme_opens_with_the_two_commands():
    head = "\n".join(README.splitlines()[:15])
    assert "make run" in head and "make test" in head
