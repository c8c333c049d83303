"""Benchmarks: ``python -m bench`` (or ``make bench``) runs them all and prints each figure
as a line ``name: value``.

A benchmark is a function that takes no arguments and returns its figures as a mapping of
name to value: a number, or text that says what was measured (a route) or why something
was not (cached, skipped). To add one, write it in a module of this package and list it in
``BENCHMARKS``; put a baseline measured in the same run beside any figure that depends on
the machine, so that two runs on different machines can be compared.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from . import pdf, scoring, startup, web, workspace

Benchmark = Callable[[], Mapping[str, float | str]]

BENCHMARKS: list[Benchmark] = [
    startup.python_startup,
    startup.compile_all,
    scoring.scoring,
    scoring.rescore,
    pdf.pdf,
    web.web_load,
    workspace.workspace,
]
