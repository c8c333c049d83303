"""The shape of the code, held by tests: the layers that import-linter checks (and that it
would report a wrong import between them), no function above cyclomatic complexity 25
(radon), and test modules that share helpers only through helper modules."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from radon.complexity import cc_visit
from radon.visitors import Class, Function

from tests.environment import ROOT

LAYERS = ["questionnaires", "scoring", "assessment", "web"]
PYPROJECT = ROOT / "pyproject.toml"
CONTRACTS = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
LAYERS_CONTRACT = next(c["name"] for c in CONTRACTS if c["id"] == "layers")


# --- The layers ---------------------------------------------------------------------------


def copy_of_the_layers(folder: Path) -> Path:
    """``folder``, holding a copy of the four packages' Python files."""
    for package in LAYERS:
        shutil.copytree(ROOT / package, folder / package, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def lint_imports(folder: Path) -> subprocess.CompletedProcess[str]:
    """import-linter run on the packages in ``folder`` with the project's contracts."""
    command = [str(Path(sys.executable).parent / "lint-imports"), "--no-cache", "--no-logo", str(PYPROJECT)]
    # import-linter looks for the packages in its working folder first; COLUMNS keeps rich
    # from wrapping the contracts' names.
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "1000"})


def add_import(path: Path, module: str) -> int:
    """The line number of ``import module``, added at the end of the file at ``path``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines, f"import {module}"]) + "\n", encoding="utf-8")
    return len(lines) + 1


def test_the_layers_are_kept(tmp_path: Path):
    result = lint_imports(copy_of_the_layers(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{LAYERS_CONTRACT} KEPT" in result.stdout
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("imported", "layer"),
    [("assessment.store.models", "assessment"), ("web.app", "web")],
)
def test_scoring_importing_a_layer_above_it_breaks_the_layers_contract(tmp_path: Path, imported: str, layer: str):
    folder = copy_of_the_layers(tmp_path)
    line = add_import(folder / "scoring" / "engine.py", imported)
    result = lint_imports(folder)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{LAYERS_CONTRACT} BROKEN" in result.stdout
    report = (
        f"{LAYERS_CONTRACT}\n{'-' * len(LAYERS_CONTRACT)}\n\n"
        f"scoring is not allowed to import {layer}:\n\n"
        f"- scoring.engine -> {imported} (l.{line})\n"
    )
    assert report in result.stdout, result.stdout


# --- Complexity ---------------------------------------------------------------------------

MAX_COMPLEXITY = 25
MEASURED = ["questionnaires", "scoring", "assessment", "web", "bench", "tests"]
NOT_MEASURED = [ROOT / "assessment" / "store" / "migrations"]
"""Migrations are written once and never changed."""

def functions_in(blocks: list, prefix: str = "") -> Iterator[tuple[str, int]]:
    """(qualified name, complexity) of every function in radon's ``blocks`` and of the
    methods and nested functions in them."""
    for block in blocks:
        if isinstance(block, Function):
            name = prefix + (f"{block.classname}.{block.name}" if block.is_method else block.name)
            yield name, block.complexity
            yield from functions_in(block.closures, f"{name}.")
        elif isinstance(block, Class):
            yield from functions_in([*block.methods, *block.inner_classes], prefix)


def complexities(code: str) -> dict[str, int]:
    """The cyclomatic complexity of every function, method and nested function in ``code``,
    by qualified name (radon counts a nested function apart from the one around it)."""
    # radon lists the methods both apart and within their classes: take them from the classes.
    outermost = [b for b in cc_visit(code) if isinstance(b, Class) or not b.is_method]
    return dict(functions_in(outermost))


def too_complex() -> dict[str, int]:
    """Every function above MAX_COMPLEXITY, as "path name", with its complexity."""
    found = {}
    for package in MEASURED:
        for path in sorted((ROOT / package).rglob("*.py")):
            if any(path.is_relative_to(excluded) for excluded in NOT_MEASURED):
                continue
            for name, complexity in complexities(path.read_text(encoding="utf-8")).items():
                if complexity > MAX_COMPLEXITY:
                    found[f"{path.relative_to(ROOT)} {name}"] = complexity
    return found


def test_no_function_is_above_the_complexity_limit():
    assert too_complex() == {}


def test_the_complexity_of_nested_functions_and_methods_is_measured():
    ifs = "".join(f"            if x == {i}:\n                return {i}\n" for i in range(MAX_COMPLEXITY))
    code = f"class C:\n    def m(self):\n        def inner(x):\n{ifs}            return None\n        return inner\n"
    assert complexities(code) == {"C.m": 1, "C.m.inner": MAX_COMPLEXITY + 1}


# --- The tests' own imports ---------------------------------------------------------------


def imports_of(path: Path) -> Iterator[tuple[str, str]]:
    """(module, name) of every ``from module import name`` in the file, relative imports made
    absolute (``from tests import x`` as module ``tests.x``, name ``*``)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                module = f"tests.{module}".rstrip(".")
            for alias in node.names:
                yield (f"tests.{alias.name}", "*") if module == "tests" else (module, alias.name)


def test_test_modules_share_helpers_only_through_helper_modules():
    """Helpers shared by test modules live in public helper modules (tests/helpers.py,
    tests/live_server.py, ...), never in conftest.py or another test module, and are public."""
    wrong = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        for module, name in imports_of(path):
            other = module.removeprefix("tests.")
            if module.startswith("tests.") and (other == "conftest" or other.startswith("test_") or name.startswith("_")):
                wrong.append(f"{path.name}: from {module} import {name}")
    assert wrong == []
